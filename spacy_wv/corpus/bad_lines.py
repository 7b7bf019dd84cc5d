"""Malformed input lines: fail on the first one (with its line number) or skip and count."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

from ..errors import UserError


@dataclass
class BadLines:
    path: Path
    strict: bool = False
    lines: List[int] = field(default_factory=list)

    def report(self, line_no: int, line: str, problem: str) -> None:
        """Raise UserError naming `path:line_no` when strict, else remember the line."""
        if self.strict:
            raise UserError(f"{self.path}:{line_no}: {problem}: {line.rstrip()[:80]!r}")
        self.lines.append(line_no)

    def summary(self) -> str:
        """'' when nothing was skipped, else a one-line count with the first line numbers."""
        if not self.lines:
            return ""
        first = ", ".join(map(str, self.lines[:5])) + (", ..." if len(self.lines) > 5 else "")
        return f"Skipped {len(self.lines)} malformed line(s) of {self.path} (line {first})"
