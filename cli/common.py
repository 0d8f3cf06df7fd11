"""Exit codes and the shared handling of bad input for every command."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from types import FrameType
from typing import NoReturn, TypeVar

import typer

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.plurals import counted, noun

__all__ = ["counted", "noun"]

T = TypeVar("T")


class Exit(IntEnum):
    """What a CI system reads: 0 clean, 1 findings at or past the gate, 2 unusable input."""

    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2


def printable(text: str) -> str:
    """Text with control characters shown as escapes, never sent to the terminal.

    A problem line quotes policy, snapshot and waiver text; an escape sequence in such a file
    (an OSC that retitles the terminal, a cursor move that hides a line) must be seen, not run.
    """
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def fail_input(error: InputError) -> NoReturn:
    """Print each problem on its own line to stderr and exit 2."""
    for line in error.problems:
        print(printable(line), file=sys.stderr)
    raise typer.Exit(Exit.BAD_INPUT)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def terminable() -> Iterator[None]:
    """Turn SIGTERM into an exception while a stage runs, as Python already does for SIGINT.

    CI cancellation sends SIGTERM; by default it kills the process where it stands, leaving
    the ``.*.tmp`` files of a half-written report for artifact globs to pick up. Raised as
    ``SystemExit(143)``, it unwinds through the writers' cleanup instead and still exits
    non-zero. Only the main thread can install handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def guarded(action: Callable[[], T]) -> T:
    """Run a stage; bad input becomes exit 2 with its problems, never a traceback.

    SIGTERM during the stage unwinds like SIGINT (``terminable``), so no temporary file is left.
    """
    try:
        with terminable():
            return action()
    except InputError as error:
        fail_input(error)
