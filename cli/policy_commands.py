"""`validate` and `test`: checking the policies themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runbook_guard.cli.app import app
from runbook_guard.cli.common import Exit, guarded, printable
from runbook_guard.cli.options import ParamOption
from runbook_guard.cli.pipeline import unfilled_paths
from runbook_guard.engine.casetest import is_adversarial, rules_without_adversarial_cases, run_cases
from runbook_guard.engine.errors import InputError
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
        rules = policy_set.compile(parse_overrides(param or []))
        problems = unfilled_paths(rules)
        if problems:
            raise InputError(problems)
        typer.echo(f"{len(policy_set.files)} files, {len(policy_set.entries)} rules: valid")

    guarded(run)


@app.command("test")
def run_policy_tests(paths: PathsArgument = None) -> None:
    """Run each rule's own test cases; one line per failure, then 'N passed, N failed'.

    The count of adversarial cases (named ``adversarial: ...``: cases that try to make the rule
    pass wrongly) is printed too, and check rules that have none are listed: a rule is trusted
    only once a test has tried to fool it.
    """

    def run() -> tuple[int, int, int, list[str]]:
        policy_set = load_policy_set(paths or [])
        outcomes = run_cases(policy_set)
        failed = [outcome for outcome in outcomes if outcome.failures]
        for outcome in failed:
            for failure in outcome.failures:
                line = f"{outcome.location}: {outcome.rule}: {outcome.case}: {failure}"
                typer.echo(printable(line))
        adversarial = [o for o in outcomes if is_adversarial(o.case)]
        untried = rules_without_adversarial_cases(policy_set)
        return len(outcomes) - len(failed), len(failed), len(adversarial), untried

    passed, failed, adversarial, untried = guarded(run)
    for rule_id in untried:
        typer.echo(f"{rule_id}: no adversarial case (a case named 'adversarial: ...')")
    typer.echo(f"{passed} passed, {failed} failed ({adversarial} adversarial)")
    if failed:
        raise typer.Exit(Exit.FINDINGS)
