"""The typer application: thin glue from command-line words to the pipeline stages.

Every command lives in its own module and registers itself on ``app``; this module only
creates the app and maps the outcome to an exit code.
"""

from __future__ import annotations

import os
import sys

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


def main() -> None:
    """Console-script entry point.

    Bad input is handled inside each command (exit 2 with positioned problems). Anything
    else that escapes is a bug in runbook-guard: say so in one line and exit 3, so a CI log
    never mistakes a crash for findings; RUNBOOK_GUARD_DEBUG=1 shows the traceback.
    """
    from runbook_guard.cli import commands  # noqa: F401  (registers the commands)

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
