"""``schema`` and ``types``: the contracts a policy author writes against, from the tool itself.

``schema NAME`` prints a JSON Schema exactly as the installed package ships it, so an editor can
validate a policy without a checkout (docs/editor-support.md). ``types [TYPE]`` lists the
resource types and, for one type, every top-level ``data`` key with the API call that fills it
and the loaded rules that read it: the same declarations the collection plan and ``iam-policy``
use, so a field shown here is a field a rule can read.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from runbook_guard.cli.app import Command, app, examples
from runbook_guard.cli.common import counted, guarded
from runbook_guard.cli.formats import FormatOption, check_format, echo_json, unknown
from runbook_guard.cli.options import ParamOption, PoliciesOption
from runbook_guard.cli.pipeline import prepare
from runbook_guard.engine.catalog_sources import fields_of, figure_calls, resource_types
from runbook_guard.engine.reads import ALL
from runbook_guard.engine.rules import CompiledRule

SCHEMA_PACKAGE = "runbook_guard.schemas"
SCHEMA_SUFFIX = ".schema.json"


def schema_names() -> list[str]:
    """The schemas the package ships, by name (``policy`` for ``policy.schema.json``)."""
    folder = resources.files(SCHEMA_PACKAGE)
    return sorted(
        item.name.removesuffix(SCHEMA_SUFFIX)
        for item in folder.iterdir()
        if item.name.endswith(SCHEMA_SUFFIX)
    )


def schema_text(name: str) -> str:
    return resources.files(SCHEMA_PACKAGE).joinpath(name + SCHEMA_SUFFIX).read_text("utf-8")


@app.command(
    "schema",
    short_help="Print a JSON Schema the package ships (for editors).",
    cls=Command,
    epilog=examples(
        "runbook-guard schema                       # the schemas, one per line",
        "runbook-guard schema policy > policy.schema.json",
    ),
)
def schema(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[NAME]",
            help="policy, snapshot, results, waivers, config, attestations, ...; none: list them.",
        ),
    ] = None,
) -> None:
    """Print a JSON Schema shipped with the package (for editors: docs/editor-support.md)."""

    def run() -> str:
        names = schema_names()
        if name is None:
            listing = [f"{n}\trunbook-guard schema {n} > {n}{SCHEMA_SUFFIX}" for n in names]
            return "\n".join(listing) + "\n"
        if name not in names:
            raise unknown("schema", name, names, f"choose one of: {', '.join(names)}")
        return schema_text(name)

    typer.echo(guarded(run), nl=False)


def reads_type(rule: CompiledRule, resource_type: str) -> bool:
    """Whether a rule reads resources of a type (its own, or a related one's)."""
    return rule.resource_type == resource_type or resource_type in rule.reads


def type_rows(rules: list[CompiledRule]) -> list[dict[str, Any]]:
    return [
        {
            "type": info.type, "service": info.service, "collector": info.collector,
            "global": info.is_global,
            "rules": sorted(r.id for r in rules if reads_type(r, info.type)),
        }
        for info in resource_types().values()
    ]  # fmt: skip


def type_detail(resource_type: str, rules: list[CompiledRule]) -> dict[str, Any]:
    """One type: its fields with their calls and readers, and the figures rules ask of it."""
    reading = [r for r in rules if reads_type(r, resource_type)]
    fields = [
        {
            "key": f.key, "calls": f.calls, "listed_by": f.listed_by,
            "rules": [r.id for r in reading
                      if f.key in (keys := r.reads.get(resource_type, set())) or ALL in keys],
        }
        for f in fields_of(resource_type)
    ]  # fmt: skip
    own = [r for r in reading if r.resource_type == resource_type]
    figures = [
        {
            "key": kind,
            "calls": list(figure_calls(kind)),
            "rules": [r.id for r in own if getattr(r, kind)],
        }
        for kind in ("metrics", "logs")
    ]
    info = resource_types()[resource_type]
    return {
        "type": resource_type, "service": info.service, "collector": info.collector,
        "global": info.is_global, "fields": fields,
        "figures": [f for f in figures if f["rules"]],
    }  # fmt: skip


def _print_types(rows: list[dict[str, Any]]) -> None:
    table = Table("type", "service", "collector", "scope", "rules reading it")
    for row in rows:
        scope = "global" if row["global"] else "regional"
        table.add_row(row["type"], row["service"], row["collector"], scope, str(len(row["rules"])))
    Console(width=160).print(table)
    typer.echo(f"{counted(len(rows), 'type')}; `runbook-guard types TYPE` shows a type's fields")


def _print_detail(detail: dict[str, Any]) -> None:
    typer.echo(f"{detail['type']} (service {detail['service']}, collector {detail['collector']})")
    table = Table("field", "filled by", "rules reading it")
    for item in [*detail["fields"], *detail["figures"]]:
        listed = item.get("listed_by", [])
        calls = ", ".join(c + (" (listing)" if c in listed else "") for c in item["calls"])
        table.add_row(item["key"], calls, ", ".join(item["rules"]) or "-")
    Console(width=160).print(table)
    typer.echo(counted(len(detail["fields"]), "field"))


@app.command(
    "types",
    short_help="List the resource types, or one type's fields and the calls filling them.",
    cls=Command,
    epilog=examples(
        "runbook-guard types",
        "runbook-guard types aws.sqs.queue -f json",
    ),
)
def types(
    resource_type: Annotated[
        str | None, typer.Argument(metavar="TYPE", help="A resource type: show its fields.")
    ] = None,
    policies: PoliciesOption = None,
    param: ParamOption = None,
    output_format: FormatOption = "table",
) -> None:
    """List the resource types, or one type's fields with the API call that fills each."""

    def run() -> Any:
        check_format(output_format)
        rules = prepare(None, policies, param).rules
        if resource_type is None:
            return type_rows(rules)
        known = resource_types()
        if resource_type not in known:
            raise unknown(
                "resource type", resource_type, known, "`runbook-guard types` lists them all"
            )
        return type_detail(resource_type, rules)

    found = guarded(run)
    if output_format == "json":
        echo_json(found)
    elif resource_type is None:
        _print_types(found)
    else:
        _print_detail(found)
