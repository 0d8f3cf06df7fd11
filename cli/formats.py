"""What the discovery commands share: the ``--format`` choice, JSON and text output, and the
refusal of an unknown name with the nearest known one.

``rules list``, ``rules explain``, ``schema`` and ``types`` answer "what is there": each takes
a name a person typed from memory, so a slip gets the name they meant and the command that
lists them all, never a bare "not found".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from runbook_guard.cli.common import printable
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.suggest import did_you_mean

FORMATS = ("table", "json")
FormatOption = Annotated[
    str, typer.Option("--format", "-f", metavar="FORMAT", help=f"{' or '.join(FORMATS)}.")
]


def check_format(value: str) -> None:
    if value not in FORMATS:
        raise InputError([f"--format must be {' or '.join(FORMATS)}, not {value!r}"])


def unknown(kind: str, word: str, choices: Iterable[str], listing: str) -> InputError:
    """The refusal of a name that is not among ``choices``, with the nearest one."""
    return InputError([f"unknown {kind} {word!r}{did_you_mean(word, choices)}; {listing}"])


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def echo_text(text: str) -> None:
    """Text quoting policy files, its control characters shown, never sent to the terminal."""
    typer.echo("\n".join(printable(line) for line in text.rstrip("\n").split("\n")))
