"""`validate` and `test`: checking the policies themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runbook_guard.cli.app import app
from runbook_guard.cli.common import Exit, guarded
from runbook_guard.cli.options import ParamOption
from runbook_guard.engine.casetest import run_cases
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.overrides import parse_overrides

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Policy files or folders; default: the shipped packs.", show_default=False),
]


@app.command()
def validate(paths: PathsArgument = None, param: ParamOption = None) -> None:
    """Check policy files against the schema and the engine; print every problem (exit 2)."""

    def run() -> None:
        policy_set = load_policy_set(paths or [])
        policy_set.compile(parse_overrides(param or []))
        typer.echo(f"{len(policy_set.files)} files, {len(policy_set.entries)} rules: valid")

    guarded(run)


@app.command("test")
def run_policy_tests(paths: PathsArgument = None) -> None:
    """Run each rule's own test cases; one line per failure, then 'N passed, N failed'."""

    def run() -> tuple[int, int]:
        outcomes = run_cases(load_policy_set(paths or []))
        failed = [outcome for outcome in outcomes if outcome.failures]
        for outcome in failed:
            for failure in outcome.failures:
                typer.echo(f"{outcome.location}: {outcome.rule}: {outcome.case}: {failure}")
        return len(outcomes) - len(failed), len(failed)

    passed, failed = guarded(run)
    typer.echo(f"{passed} passed, {failed} failed")
    if failed:
        raise typer.Exit(Exit.FINDINGS)
