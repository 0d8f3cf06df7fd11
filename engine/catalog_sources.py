"""What a rule's documentation joins from outside the rule: who fills each key, which moments
it judges, and the runbook's own words for what it covers.

The rules say which keys they read; only the collectors' declarations say which API call fills
a key, only the template reader says which keys a template determines, and only a pack's
``EXPECTATIONS.md`` holds the runbook's text behind an ``RB-`` id. ``rules explain``, ``types``
and the generated catalog all answer from these same declarations, so the documentation cannot
name a call the collector does not make. Collectors and the template reader are imported only
when asked (they are documentation inputs here, never on the evaluation path, which stays free
of botocore).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.phase import template_gap
from runbook_guard.engine.reads import ALL
from runbook_guard.engine.rules import CompiledRule

#: The operation sets that make a rule's figures: metrics and log event counts are stored on
#: the envelope (``metrics``, ``logs``), not filled into ``data`` by the type's collector.
FIGURE_SOURCES = {"metrics": ("cloudwatch.metrics",), "logs": ("logs.insights", "logs.events")}


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


def filling_calls(resource_type: str, key: str) -> tuple[str, ...]:
    """The calls (``service:Operation``) that fill a top-level key of a type; every call of the
    type for ``ALL`` (a path reading the whole resource); none for an undeclared key."""
    from runbook_guard.collectors.registry import COLLECTORS, load_all

    load_all()
    collector = COLLECTORS.get(resource_type)
    if collector is None:
        return ()
    api = collector.api
    return tuple(
        f"{api.service}:{operation}"
        for operation in api.operations
        if (filled := api.filled(operation).get(resource_type)) and (key == ALL or key in filled)
    )


def figure_calls(kind: str) -> tuple[str, ...]:
    """The calls that make a rule's ``metrics`` or ``logs`` figures."""
    from runbook_guard.collectors.registry import OPERATION_SETS, load_all

    load_all()
    owners = FIGURE_SOURCES[kind]
    return tuple(
        f"{api.service}:{operation}"
        for owner in owners
        for api in OPERATION_SETS
        if api.owner == owner
        for operation in api.operations
    )


@dataclass(frozen=True)
class RunbookRow:
    """One ``| RB-...`` row of an inventory: its text, its ``##`` section, its other cells."""

    id: str
    text: str
    section: str
    #: The row's other cells by their column header (``Normal``, ``Levels / default``, ...).
    cells: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Lookups:
    """The outside declarations one documentation run reads, each computed once."""

    keys: TemplateKeys | None
    runbook: Mapping[str, RunbookRow] = field(default_factory=dict)

    def phases(self, rule: CompiledRule) -> tuple[list[str], str]:
        """The moments the rule judges, and why not a template where it cannot."""
        gap = self.keys.gap(rule) if self.keys is not None else None
        return phases_of(rule, self.keys), gap or ""


_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in _CELL_SPLIT.split(line.strip().strip("|"))]


def parse_runbook_rows(text: str) -> dict[str, RunbookRow]:
    """Every ``| RB-`` row by id, its cells named by the header row of its table.

    The first row of an id wins (``validate`` and ``coverage`` report duplicates); a row
    outside any table header keeps only its text.
    """
    rows: dict[str, RunbookRow] = {}
    section = ""
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            section, header = line[3:].strip(), []
            continue
        if not line.lstrip().startswith("|"):
            continue
        cells = _cells(line)
        if cells[0] == "ID":
            header = cells
        elif cells[0].startswith("RB-") and len(cells) >= 2 and cells[0] not in rows:
            named = tuple(
                (header[i], cell)
                for i, cell in enumerate(cells[2:], start=2)
                if i < len(header) and cell
            )
            rows[cells[0]] = RunbookRow(cells[0], cells[1], section, named)
    return rows


def runbook_rows(folders: Sequence[Path]) -> dict[str, RunbookRow]:
    """The rows of every loaded pack's ``EXPECTATIONS.md`` (a pack without one adds none)."""
    rows: dict[str, RunbookRow] = {}
    for folder in folders:
        path = folder / "EXPECTATIONS.md"
        if not path.is_file():
            continue  # no inventory: the rules' own section and words still document them
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            message = f"{path}:1:1: cannot read the expectations inventory: {error}"
            raise InputError([message]) from None
        for rb_id, row in parse_runbook_rows(text).items():
            rows.setdefault(rb_id, row)
    return rows


def lookups_for(folders: Sequence[Path]) -> Lookups:
    """The declarations documenting rules loaded from ``folders``."""
    return Lookups(template_keys(), runbook_rows(folders))


@dataclass(frozen=True)
class Field:
    """A top-level ``data`` key of a type and the calls that fill it; those of them that list
    the type give it to every listed resource before any detail call."""

    key: str
    calls: list[str]
    listed_by: list[str]


@dataclass(frozen=True)
class TypeInfo:
    """A resource type as its collector declares it."""

    type: str
    service: str
    collector: str
    is_global: bool


def resource_types() -> dict[str, TypeInfo]:
    """Every type some collector produces, by name."""
    from runbook_guard.collectors.registry import COLLECTORS, load_all

    load_all()
    return {
        name: TypeInfo(name, c.api.service, c.api.owner, c.is_global)
        for name, c in sorted(COLLECTORS.items())
    }


def fields_of(resource_type: str) -> list[Field]:
    """The declared keys of a type, each with its calls (empty for a type no collector has)."""
    from runbook_guard.collectors.registry import COLLECTORS, load_all

    load_all()
    collector = COLLECTORS.get(resource_type)
    if collector is None:
        return []
    api = collector.api
    listings = {f"{api.service}:{operation}" for operation in api.listings}
    found = []
    for key in sorted(api.keys_of(resource_type)):
        calls = list(filling_calls(resource_type, key))
        found.append(Field(key, calls, [c for c in calls if c in listings]))
    return found
