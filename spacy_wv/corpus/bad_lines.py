"""Malformed input lines: fail on the first one (with its line number) or skip and count."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

from ..errors import UserError

SHOWN_LINE_NUMBERS = 5


@dataclass
class BadLines:
    path: Path
    strict: bool = False
    # Appended to the strict error: how to fix the line or skip such lines.
    hint: str = ""
    lines: List[int] = field(default_factory=list)

    def report(self, line_no: int, line: str, problem: str) -> None:
        """Raise UserError naming `path:line_no` when strict, else remember the line."""
        if self.strict:
            hint = f"; {self.hint}" if self.hint else ""
            raise UserError(f"{self.path}:{line_no}: {problem}: {line.strip()[:80]!r}{hint}")
        self.lines.append(line_no)

    def summary(self, what: str = "malformed") -> str:
        """'' when nothing was skipped, else a one-line count with the first line numbers."""
        if not self.lines:
            return ""
        shown = self.lines[:SHOWN_LINE_NUMBERS]
        first = ", ".join(map(str, shown)) + (", ..." if len(self.lines) > len(shown) else "")
        return f"Skipped {len(self.lines)} {what} line(s) of {self.path} (line {first})"
