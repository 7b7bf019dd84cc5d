"""Run the CLI as a user does (`python -m spacy_wv ...` goes through `main()`), in this
process: the exit code and what it printed."""
import signal
import sys
from typing import List, Tuple

import pytest

from spacy_wv.cli import main


@pytest.fixture
def run_cli(monkeypatch, capsys):
    def run(*args) -> Tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["spacy_wv", *map(str, args)])
        previous = signal.getsignal(signal.SIGTERM)
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            signal.signal(signal.SIGTERM, previous)
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def fail_lines(output: str) -> List[str]:
    return [line for line in output.splitlines() if line.startswith("✘")]


def one_error(code: int, output: str) -> str:
    """The single error line of a failed command (exit code 1, no traceback)."""
    assert code == 1, output
    assert "Traceback" not in output
    lines = fail_lines(output)
    assert len(lines) == 1, output
    return lines[0]
