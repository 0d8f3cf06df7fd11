"""The typer application: thin glue from command-line words to the pipeline stages.

Every command lives in its own module and registers itself on ``app``; this module only
creates the app and maps the outcome to an exit code.
"""

from __future__ import annotations

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
    """Console-script entry point."""
    from runbook_guard.cli import commands  # noqa: F401  (registers the commands)

    app()
