"""`rules list`: the loaded rules at a glance, and which of them judge a template.

Which rules apply before deploy is derived (engine/phase.py) from the keys each rule reads
and the keys the template reader determines, never listed by hand: a new rule shows up in
the right phase on arrival.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from runbook_guard.cli.app import CONTEXT_SETTINGS, Command, app, examples
from runbook_guard.cli.common import counted, guarded
from runbook_guard.cli.formats import FormatOption, check_format, echo_json
from runbook_guard.cli.options import ParamOption, PoliciesOption
from runbook_guard.cli.pipeline import prepare
from runbook_guard.engine.catalog_sources import phases_of as phases_of
from runbook_guard.engine.catalog_sources import template_keys as template_keys
from runbook_guard.engine.errors import InputError

rules_app = typer.Typer(
    help="List the loaded rules, explain one, or start a new one.",
    epilog=examples(
        "runbook-guard rules list --phase template",
        "runbook-guard rules explain sqs.dlq-empty",
        "runbook-guard rules new my-check --resource aws.sqs.queue",
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)
app.add_typer(rules_app, name="rules")

PHASES = ("any", "template", "live")
COLUMNS = ("id", "title", "severity", "cadence", "resource")
LIST_COLUMNS = ("covers", "phases")


@rules_app.command(
    "list",
    short_help="List the rules: id, severity, cadence, what they cover, their phases.",
    cls=Command,
    epilog=examples(
        "runbook-guard rules list",
        "runbook-guard rules list --phase template -f json",
    ),
)
def list_rules(
    policies: PoliciesOption = None,
    param: ParamOption = None,
    phase: Annotated[
        str,
        typer.Option(
            "--phase",
            metavar="PHASE",
            help="Only rules judging this moment: template or live (any: every rule).",
        ),
    ] = "any",
    output_format: FormatOption = "table",
) -> None:
    """List the rules: id, title, severity, cadence, resource type, the runbook expectations
    they cover and the phases they judge."""

    def run() -> list[dict[str, object]]:
        if phase not in PHASES:
            raise InputError([f"--phase must be one of {', '.join(PHASES)}, not {phase!r}"])
        check_format(output_format)
        keys = template_keys()
        if phase == "template" and keys is None:
            raise InputError(
                ["--phase template needs the template extra: pip install 'runbook-guard[template]'"]
            )
        prepared = prepare(None, policies, param)
        rows: list[dict[str, object]] = []
        for rule in sorted(prepared.rules, key=lambda r: r.id):
            phases = phases_of(rule, keys)
            if phase != "any" and phase not in phases:
                continue
            rows.append({
                "id": rule.id, "title": rule.title, "severity": rule.severity,
                "cadence": rule.cadence, "resource": rule.resource_type or "-",
                "covers": list(rule.covers), "phases": phases,
                **({"why_not_template": gap} if keys is not None
                   and (gap := keys.gap(rule)) else {}),
            })  # fmt: skip
        return rows

    rows = guarded(run)
    if output_format == "json":
        echo_json(rows)
        return
    table = Table(*COLUMNS, *LIST_COLUMNS)
    for row in rows:
        lists = [", ".join(v) if isinstance(v := row[k], list) else "" for k in LIST_COLUMNS]
        table.add_row(*(str(row[k]) for k in COLUMNS), *(text or "-" for text in lists))
    Console(width=160).print(table)
    typer.echo(counted(len(rows), "rule"))
