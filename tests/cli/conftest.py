"""What a failed command printed (the `run_cli` fixture is in tests/conftest.py)."""
from typing import List


def fail_lines(output: str) -> List[str]:
    return [line for line in output.splitlines() if line.startswith("✘")]


def one_error(code: int, output: str) -> str:
    """The single error line of a failed command (exit code 1, no traceback)."""
    assert code == 1, output
    assert "Traceback" not in output
    lines = fail_lines(output)
    assert len(lines) == 1, output
    return lines[0]
