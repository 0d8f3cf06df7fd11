"""`validate` and `test`: checking the policies themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import Exit, counted, guarded, printable
from runbook_guard.cli.options import ParamOption
from runbook_guard.cli.registry_facts import collector_facts
from runbook_guard.engine.casetest import (
    is_adversarial,
    rules_without_adversarial_cases,
    run_cases,
    untested_rules,
)
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import check_policy_set, load_policy_set
from runbook_guard.engine.overrides import parse_overrides

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(
        metavar="[PATH]...",
        help="Policy files, folders or shipped pack names (agenticai); default: the shipped packs.",
        show_default=False,
    ),
]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="A check rule without test cases, or without an adversarial one, fails (exit 1).",
    ),
]


@app.command(
    short_help="Check policy files: every problem as file:line:column: field (exit 2).",
    cls=Command,
    epilog=examples(
        "runbook-guard validate                     # the shipped packs",
        "runbook-guard validate my-rules/ team.yaml --param prefix=acme",
    ),
)
def validate(paths: PathsArgument = None, param: ParamOption = None) -> None:
    """Check policy files against the schema, the engine and the collectors: every problem of
    every file in one run, as file:line:column: field: problem (exit 2)."""

    def run() -> None:
        checked = check_policy_set(paths or [], parse_overrides(param or []), collector_facts())
        if checked.problems:
            raise InputError(checked.problems)
        policy_set = checked.policy_set
        files, rules = (
            counted(len(policy_set.files), "file"),
            counted(len(policy_set.entries), "rule"),
        )
        typer.echo(f"{files}, {rules}: valid")

    guarded(run)


@app.command(
    "test",
    short_help="Run each rule's own test cases: 'N passed, N failed'.",
    cls=Command,
    epilog=examples(
        "runbook-guard test                         # the shipped packs",
        "runbook-guard test --strict my-rules/      # a rule without an adversarial case fails",
    ),
)
def run_policy_tests(paths: PathsArgument = None, strict: StrictOption = False) -> None:
    """Run each rule's own test cases; one line per failure, then 'N passed, N failed'.

    The count of adversarial cases (named ``adversarial: ...``: cases that try to make the rule
    pass wrongly) is printed too. A check rule with no test case at all is a warning, and one
    whose cases try nothing adversarial is listed: a rule is trusted only once a test has tried
    to fool it. With ``--strict`` both fail the run (exit 1, as a failing case does).
    """

    def run() -> tuple[int, int, int, list[str], list[tuple[str, str]]]:
        policy_set = load_policy_set(paths or [])
        outcomes = run_cases(policy_set)
        failed = [outcome for outcome in outcomes if outcome.failures]
        for outcome in failed:
            for failure in outcome.failures:
                line = f"{outcome.location}: {outcome.rule}: {outcome.case}: {failure}"
                typer.echo(printable(line))
        adversarial = [o for o in outcomes if is_adversarial(o.case)]
        untested = untested_rules(policy_set)
        without = {rule_id for _, rule_id in untested}
        untried = [r for r in rules_without_adversarial_cases(policy_set) if r not in without]
        return len(outcomes) - len(failed), len(failed), len(adversarial), untried, untested

    passed, failed, adversarial, untried, untested = guarded(run)
    level = "error" if strict else "warning"
    for location, rule_id in untested:
        message = "no test cases: write a passing case and an 'adversarial: ...' failing one"
        typer.echo(printable(f"{location}: {rule_id}: {level}: {message}"))
    for rule_id in untried:
        typer.echo(f"{rule_id}: no adversarial case (a case named 'adversarial: ...')")
    summary = f"{passed} passed, {failed} failed ({adversarial} adversarial)"
    if untested:
        summary += f"; {counted(len(untested), 'rule')} without test cases"
    typer.echo(summary)
    if failed or (strict and (untested or untried)):
        raise typer.Exit(Exit.FINDINGS)
