"""The one view of a results document that every format renders from.

Ordering, fingerprints, gate semantics and value formatting live here and nowhere else, so
JUnit, SARIF, Markdown and JSON agree on what a result is called, where it sorts and
whether it blocks. Building the view is linear in the number of results and done once per
``write_reports`` call however many formats are written.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from runbook_guard.engine.config import GATES
from runbook_guard.engine.errors import InputError, problem

if TYPE_CHECKING:  # changes.py builds on this module; the field only names its type
    from runbook_guard.reporters.changes import Changes

# Display order: what needs action first, what needs nothing last.
STATUSES = ("fail", "error", "warn", "note", "waived", "manual", "pass")
ACTION_STATUSES = ("fail", "error", "warn", "note")
SEVERITIES = ("critical", "high", "medium", "low", "info")
CADENCES = ("daily", "weekly", "monthly", "quarterly")
FAIL_ON = ("note", "warn", "fail", "never")
RULE_LEVEL = "(rule-level)"

_STATUS_RANK = {status: rank for rank, status in enumerate(STATUSES)}
_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def blocking_statuses(fail_on: str) -> frozenset[str]:
    """Statuses that fail the gate at ``fail_on``; error blocks at every level but ``never``."""
    try:
        return GATES[fail_on]
    except KeyError:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}") from None


def fingerprint(rule_id: str, resource_id: str | None) -> str:
    """sha256 of rule id and resource id: the identity of a finding across runs.

    Nothing that changes between runs (status, observed value, line numbers, order) goes in,
    so a queue that stays too deep stays the same alert, and a new queue is a new one.
    """
    key = f"{rule_id}\x1f{resource_id or ''}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).hexdigest()


_VALUE_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def format_value(value: Any) -> str:
    """An observed value as a reader sees it; ``None`` is "no data", never an empty cell."""
    if value is None:
        return "no data"
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is int:
        return str(value)
    return _VALUE_ENCODER.encode(value)


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's metadata with its source location resolved to a repository-relative path."""

    id: str
    index: int
    title: str
    description: str
    kind: str
    severity: str
    cadence: str
    covers: tuple[str, ...]
    section: str
    resource_type: str
    expected: str
    remediation: str
    tags: tuple[str, ...]
    pack: str
    path: str
    line: int

    @staticmethod
    def from_document(index: int, raw: Mapping[str, Any]) -> Rule:
        source = raw["source"]
        root = str(source.get("root", "")).replace("\\", "/").strip("/")
        file = str(source["file"]).replace("\\", "/").lstrip("/")
        file = file.removeprefix("./")
        return Rule(
            id=raw["id"],
            index=index,
            title=raw["title"],
            description=raw.get("description", ""),
            kind=raw["kind"],
            severity=raw["severity"],
            cadence=raw["cadence"],
            covers=tuple(raw["covers"]),
            section=raw["section"],
            resource_type=raw.get("resource_type", ""),
            expected=raw.get("expected", ""),
            remediation=raw.get("remediation", ""),
            tags=tuple(raw.get("tags", ())),
            pack=raw.get("pack", ""),
            path=f"{root}/{file}" if root else file,
            line=int(source.get("expect_line") or source.get("line") or 1),
        )


@dataclass(frozen=True, slots=True)
class Waiver:
    id: str
    rule: str
    resource: str
    owner: str
    reason: str
    expires: str
    days_left: int | None
    status: str
    applied_to: int | None

    @staticmethod
    def from_document(raw: Mapping[str, Any], today: date | None) -> Waiver:
        days_left = raw.get("days_left")
        if days_left is None and today is not None:
            try:
                days_left = (date.fromisoformat(raw["expires"]) - today).days
            except ValueError:
                days_left = None
        return Waiver(
            id=raw["id"],
            rule=raw["rule"],
            resource=raw["resource"],
            owner=raw["owner"],
            reason=raw["reason"],
            expires=raw["expires"],
            days_left=days_left,
            status=raw["status"],
            applied_to=raw.get("applied_to"),
        )


@dataclass(frozen=True, slots=True)
class Row:
    """One result joined with its rule and waiver, with the strings every format shows."""

    rule: Rule
    status: str
    original_status: str | None
    resource_id: str | None
    resource_name: str
    resource_type: str
    region: str
    account: str
    observed: Any
    observed_text: str
    expected: str
    message: str
    evidence: Mapping[str, Any]
    waiver_id: str | None
    waiver: Waiver | None
    causes: tuple[str, ...]
    missing_permissions: tuple[str, ...]
    raw: Mapping[str, Any]

    @property
    def label(self) -> str:
        """The resource id, or a fixed name for a result that concerns no single resource."""
        return self.resource_id if self.resource_id is not None else RULE_LEVEL

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule.id, self.resource_id)

    @property
    def severity_rank(self) -> int:
        return _SEVERITY_RANK[self.rule.severity]

    @property
    def action_key(self) -> tuple[int, int, str, str]:
        """Worst status first, then worst severity, then the stable order."""
        return (_STATUS_RANK[self.status], self.severity_rank, self.rule.id, self.resource_id or "")


@dataclass(frozen=True, slots=True)
class Report:
    """The whole document, indexed and sorted once."""

    document: Mapping[str, Any]
    tool_name: str
    tool_version: str
    evaluated_at: str
    scope: Mapping[str, Any]
    policies: Mapping[str, Any]
    rules: tuple[Rule, ...]
    rows: tuple[Row, ...]
    waivers: tuple[Waiver, ...]
    collection_errors: tuple[Mapping[str, Any], ...]
    fail_on: str
    counts: Mapping[str, int]
    changes: Changes | None = None  # set by changes.with_changes when a previous run is given

    @property
    def blocking(self) -> frozenset[str]:
        return blocking_statuses(self.fail_on)

    def with_status(self, *statuses: str) -> list[Row]:
        """Rows with one of ``statuses``, worst first (the order findings are read in)."""
        wanted = set(statuses)
        return sorted((row for row in self.rows if row.status in wanted), key=_action_key)

    def blocked(self) -> int:
        """How many results are at or past the gate."""
        return sum(self.counts.get(status, 0) for status in self.blocking)


def _action_key(row: Row) -> tuple[int, int, str, str]:
    return row.action_key


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def stable_sorted(
    items: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], tuple[str, ...]]
) -> list[Mapping[str, Any]]:
    """Sort by ``key``, breaking ties by canonical JSON so input order never shows.

    Ties are rare (the contract has one result per rule and resource), so the costly
    canonical form is only computed inside a group of equal keys.
    """
    decorated = sorted(((key(item), item) for item in items), key=lambda pair: pair[0])
    out: list[Mapping[str, Any]] = []
    start = 0
    while start < len(decorated):
        end = start + 1
        while end < len(decorated) and decorated[end][0] == decorated[start][0]:
            end += 1
        group = [item for _, item in decorated[start:end]]
        out.extend(group if len(group) == 1 else sorted(group, key=_canonical))
        start = end
    return out


def fields_key(*fields: str) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    """A sort key over optional string fields (absent sorts first)."""
    return lambda item: tuple(str(item.get(field) or "") for field in fields)


def result_key(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """(rule, resource id): the order every format lists results in."""
    resource = raw["resource"]
    return (raw["rule"], resource["id"] if resource else "")


def _today(evaluated_at: str) -> date | None:
    try:
        return date.fromisoformat(evaluated_at[:10])
    except ValueError:
        return None


def _row(raw: Mapping[str, Any], rule: Rule, waivers: Mapping[str, Waiver]) -> Row:
    resource = raw["resource"]
    waiver_id = raw.get("waiver")
    observed = raw["observed"]
    return Row(
        rule=rule,
        status=raw["status"],
        original_status=raw.get("original_status"),
        resource_id=resource["id"] if resource else None,
        resource_name=resource["name"] if resource else "",
        resource_type=resource["type"] if resource else rule.resource_type,
        region=resource["region"] if resource else "",
        account=resource["account"] if resource else "",
        observed=observed,
        observed_text=format_value(observed),
        expected=raw["expected"],
        message=raw["message"],
        evidence=raw["evidence"],
        waiver_id=waiver_id,
        waiver=waivers.get(waiver_id) if waiver_id else None,
        causes=tuple(raw.get("causes", ())),
        missing_permissions=tuple(raw.get("missing_permissions", ())),
        raw=raw,
    )


def build_report(document: Mapping[str, Any], fail_on: str = "fail") -> Report:
    """Index and sort a (validated) results document for rendering."""
    blocking_statuses(fail_on)
    rules_raw = stable_sorted(document["rules"], fields_key("id"))
    rules = tuple(Rule.from_document(index, raw) for index, raw in enumerate(rules_raw))
    by_id = {rule.id: rule for rule in rules}
    today = _today(document["evaluated_at"])
    waivers = tuple(
        Waiver.from_document(raw, today)
        for raw in stable_sorted(document["waivers"], fields_key("id"))
    )
    waiver_index = {waiver.id: waiver for waiver in waivers}
    results_raw = stable_sorted(document["results"], result_key)
    rows: list[Row] = []
    for raw in results_raw:
        rule = by_id.get(raw["rule"])
        if rule is None:
            message = f"unknown rule {raw['rule']!r}"
            raise InputError([problem("<results>", None, None, "results.rule", message)])
        rows.append(_row(raw, rule, waiver_index))
    errors_sorted = stable_sorted(
        document["collection_errors"],
        fields_key("service", "operation", "region", "resource", "code"),
    )
    return Report(
        document=document,
        tool_name=document["tool"]["name"],
        tool_version=document["tool"]["version"],
        evaluated_at=document["evaluated_at"],
        scope=document["scope"],
        policies=document["policies"],
        rules=rules,
        rows=tuple(rows),
        waivers=waivers,
        collection_errors=tuple(errors_sorted),
        fail_on=fail_on,
        counts=Counter(row.status for row in rows),
    )
