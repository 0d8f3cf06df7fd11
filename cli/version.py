"""`runbook-guard version`."""

from __future__ import annotations

import typer

from runbook_guard import __version__
from runbook_guard.cli.app import app


@app.command()
def version() -> None:
    """Print the tool version."""
    typer.echo(__version__)
