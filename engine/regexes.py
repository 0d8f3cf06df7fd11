"""Regular expressions with a time bound: a policy's pattern can never hang the gate.

Patterns (``matches`` and ``select.name_matches``) are compiled with the ``regex`` package,
which accepts the syntax of Python's ``re`` (lookarounds included, as the shipped
``lambda.no-secret-env-vars`` needs) and can stop a search after a time limit. A search that
runs past :data:`TIMEOUT_SECONDS` raises :class:`PatternTimeout` naming the pattern: the
caller turns it into an ``error`` result, never a pass or a fail. ``google-re2`` would be
linear-time but refuses lookarounds, so it would change what a policy may say.
"""

from __future__ import annotations

import functools
from typing import Any

import regex  # type: ignore[import-untyped]

from runbook_guard.engine.errors import InputError

#: How long one search may run. Real names and values take microseconds; a pattern that
#: backtracks catastrophically is stopped here (the ``regex`` package checks the clock
#: periodically, so a stopped search may take up to about half as long again).
TIMEOUT_SECONDS = 1.0

#: The characters escaped when a parameter's text is pasted into a pattern: everything that
#: means something outside a character class. ``-`` is left alone (it is literal there), so
#: the planner still sees ``^agenticai-`` as a literal name prefix.
_SPECIAL = frozenset("\\.^$*+?{}[]|()#&~ \t\n\r\v\f")


class PatternError(ValueError):
    """The pattern does not compile."""


class PatternTimeout(InputError):
    """A search ran past the time limit: the pattern backtracks catastrophically."""

    def __init__(self, pattern: str, text: str) -> None:
        shown = text if len(text) <= 80 else text[:77] + "..."
        self.pattern = pattern
        super().__init__(
            [
                f"regular expression {pattern!r} took longer than {TIMEOUT_SECONDS:g} s "
                f"against {shown!r} (catastrophic backtracking?); rewrite the pattern"
            ]
        )


class Pattern:
    """A compiled pattern whose ``search`` is bounded in time (``pattern`` is its text)."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            self._compiled: Any = regex.compile(pattern)
        except (regex.error, TypeError, ValueError) as error:
            raise PatternError(str(error)) from None

    def search(self, text: str) -> Any:
        """The first match, or ``None``; :class:`PatternTimeout` past the time limit."""
        try:
            # concurrent=False keeps the GIL for the search: released, a trivial search among
            # hundreds of collecting threads waited past the limit to get it back (a false
            # timeout); the limit still stops a catastrophic pattern.
            return self._compiled.search(text, concurrent=False, timeout=TIMEOUT_SECONDS)
        except TimeoutError:
            raise PatternTimeout(self.pattern, text) from None

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Pattern:
    """The compiled pattern (cached); :class:`PatternError` when it does not compile."""
    if not isinstance(pattern, str):
        raise PatternError(f"{pattern!r} is not text")
    return Pattern(pattern)


def escape(text: str) -> str:
    """``text`` as a pattern matching itself literally."""
    return "".join("\\" + c if c in _SPECIAL else c for c in text)
