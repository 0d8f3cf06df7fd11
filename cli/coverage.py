"""`coverage`: which runbook expectations the rules cover, computed from their ``covers``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import Exit, guarded
from runbook_guard.cli.options import PoliciesOption
from runbook_guard.engine.coverage import (
    Coverage,
    compute,
    default_expectations,
    load_expectations,
    render_markdown,
    render_table,
)
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import load_policy_set

FORMATS = ("table", "markdown")


@app.command(
    "coverage",
    short_help="Which runbook expectations the rules cover; exit 1 when one is not.",
    cls=Command,
    epilog=examples(
        "runbook-guard coverage",
        "runbook-guard coverage -f markdown -e EXPECTATIONS.md -p my-rules/",
    ),
)
def coverage_command(
    expectations: Annotated[
        Path | None,
        typer.Option(
            "--expectations",
            "-e",
            metavar="PATH",
            help="The expectations inventory (rows '| RB-...'); default: the agenticai pack's.",
        ),
    ] = None,
    policies: PoliciesOption = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="table (terminal) or markdown (the README).",
        ),
    ] = "table",
) -> None:
    """Join the inventory's IDs with the rules' `covers`; exit 1 when an ID is uncovered."""

    def run() -> Coverage:
        if output_format not in FORMATS:
            raise InputError(
                [f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}"]
            )
        inventory = load_expectations(expectations or default_expectations())
        return compute(inventory, load_policy_set(policies or []))

    result = guarded(run)
    render = render_markdown if output_format == "markdown" else render_table
    typer.echo(render(result), nl=False)
    if not result.complete:
        raise typer.Exit(Exit.FINDINGS)
