"""`runbook-guard version`."""

from __future__ import annotations

import typer

from runbook_guard import __version__
from runbook_guard.cli.app import Command, app, examples


@app.command(cls=Command, epilog=examples("runbook-guard version", "runbook-guard --version"))
def version() -> None:
    """Print the tool version (as --version does)."""
    typer.echo(__version__)
