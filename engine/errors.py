"""The one exception type for bad input, so the CLI can turn any of them into exit 2."""

from __future__ import annotations

from collections.abc import Iterable


class InputError(Exception):
    """A policy, snapshot, results, waiver or config file that cannot be used.

    Each problem is one line ``path:line:column: field: problem`` so editors and CI logs can
    jump to it; the CLI prints them and exits 2, never a traceback.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems) or ["invalid input"]
        super().__init__("\n".join(self.problems))


def problem(path: str, line: int | None, column: int | None, field: str, message: str) -> str:
    """Format one problem line; unknown line/column print as 1 so the format stays parseable."""
    text = " ".join(str(message).split())  # one line, whatever the message held
    return f"{path}:{line or 1}:{column or 1}: {field or '<document>'}: {text}"
