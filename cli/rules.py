"""`rules list`: the loaded rules at a glance, and which of them judge a template.

Which rules apply before deploy is derived (engine/phase.py) from the keys each rule reads
and the keys the template reader determines, never listed by hand: a new rule shows up in
the right phase on arrival.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from runbook_guard.cli.app import app
from runbook_guard.cli.common import guarded
from runbook_guard.cli.options import ParamOption, PoliciesOption
from runbook_guard.cli.pipeline import prepare
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.phase import template_gap
from runbook_guard.engine.rules import CompiledRule

rules_app = typer.Typer(help="List the loaded rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

PHASES = ("any", "template", "live")


@dataclass(frozen=True)
class TemplateKeys:
    """What a template determines: per type, its keys (``K.member`` where only some members)."""

    collected: Mapping[str, frozenset[str]]
    runtime_keys: Mapping[str, list[str]]

    def gap(self, rule: CompiledRule) -> str | None:
        return template_gap(rule, self.collected, self.runtime_keys)


def template_keys() -> TemplateKeys | None:
    """The template reader's declarations (None without the template extra)."""
    try:
        from runbook_guard.template.snapshot import template_snapshot
    except ImportError:
        return None
    empty = template_snapshot([], datetime(2000, 1, 1, tzinfo=timezone.utc), "")["metadata"]
    return TemplateKeys(
        {t: frozenset(keys) for t, keys in empty["collected_keys"].items()},
        dict(empty["source"].get("runtime_keys") or {}),
    )


def phases_of(rule: CompiledRule, keys: TemplateKeys | None) -> list[str]:
    """``live`` always; ``template`` where a template can answer the rule."""
    judged = keys is not None and keys.gap(rule) is None
    return ["template", "live"] if judged else ["live"]


@rules_app.command("list")
def list_rules(
    policies: PoliciesOption = None,
    param: ParamOption = None,
    phase: Annotated[
        str, typer.Option("--phase", help="Only rules judging this moment: template or live.")
    ] = "any",
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """List the rules: id, title, severity, cadence, resource type and the phases they judge."""

    def run() -> list[dict[str, object]]:
        if phase not in PHASES:
            raise InputError([f"--phase must be one of {', '.join(PHASES)}, not {phase!r}"])
        if output_format not in ("table", "json"):
            raise InputError([f"--format must be table or json, not {output_format!r}"])
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
                "phases": phases,
                **({"why_not_template": gap} if keys is not None
                   and (gap := keys.gap(rule)) else {}),
            })  # fmt: skip
        return rows

    rows = guarded(run)
    if output_format == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "title", "severity", "cadence", "resource", "phases")
    for row in rows:
        phases = row["phases"]
        assert isinstance(phases, list)
        table.add_row(
            *(str(row[k]) for k in ("id", "title", "severity", "cadence", "resource")),
            ", ".join(phases),
        )
    Console(width=160).print(table)
    typer.echo(f"{len(rows)} rule(s)")
