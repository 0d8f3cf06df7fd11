"""Exit codes and the shared handling of bad input for every command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import IntEnum
from typing import NoReturn, TypeVar

import typer

from runbook_guard.engine.errors import InputError

T = TypeVar("T")


class Exit(IntEnum):
    """What a CI system reads: 0 clean, 1 findings at or past the gate, 2 unusable input."""

    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2


def fail_input(error: InputError) -> NoReturn:
    """Print each problem on its own line to stderr and exit 2."""
    for line in error.problems:
        print(line, file=sys.stderr)
    raise typer.Exit(Exit.BAD_INPUT)


def guarded(action: Callable[[], T]) -> T:
    """Run a stage; bad input becomes exit 2 with its problems, never a traceback."""
    try:
        return action()
    except InputError as error:
        fail_input(error)
