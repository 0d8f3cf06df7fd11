"""The typer application: thin glue from command-line words to the pipeline stages.

Every command lives in its own module and registers itself on ``app``; this module only
creates the app and maps the outcome to an exit code.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import typer

app = typer.Typer(
    name="runbook-guard",
    help="Check an AWS account against its operations runbook: collect, evaluate, report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Check an AWS account against its operations runbook: collect, evaluate, report."""


#: The module that registers each top-level command. A run imports only its command's module:
#: importing all of them (reporters, rich tables, the template reader) cost every ``collect``
#: a few hundred milliseconds of start-up before its first API call.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "check": ("check",),
    "collect": ("collect",),
    "coverage": ("coverage",),
    "demo": ("demo",),
    "evaluate": ("evaluate",),
    "iam-policy": ("iam_policy",),
    "report": ("report",),
    "rules": ("rules",),
    "test": ("policy_commands",),
    "validate": ("policy_commands",),
    "version": ("version",),
}


def register_commands(argv: Sequence[str] | None = None) -> None:
    """Register the command ``argv`` names, or every command (help, an unknown word, tests).

    The command is the first word that is not an option (the root takes none but ``--help``).
    """
    name = next((word for word in argv or () if not word.startswith("-")), None)
    wanted = COMMAND_MODULES.get(name or "")
    modules = (
        wanted if wanted is not None else sorted({m for ms in COMMAND_MODULES.values() for m in ms})
    )
    for module in modules:
        importlib.import_module(f"runbook_guard.cli.{module}")


def main() -> None:
    """Console-script entry point.

    Bad input is handled inside each command (exit 2 with positioned problems). Anything
    else that escapes is a bug in runbook-guard: say so in one line and exit 3, so a CI log
    never mistakes a crash for findings; RUNBOOK_GUARD_DEBUG=1 shows the traceback.
    """
    register_commands(sys.argv[1:])
    try:
        app(standalone_mode=True)
    except Exception as error:  # the last line of defence, by design
        if os.environ.get("RUNBOOK_GUARD_DEBUG") == "1":
            raise
        name = type(error).__name__
        print(
            f"runbook-guard: internal error: {name}: {error} (a bug: please report it; "
            "RUNBOOK_GUARD_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        sys.exit(3)
