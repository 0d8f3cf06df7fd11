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
STATUSES = ("fail", "error", "warn", "note", "waived", "manual", "pass", "not_applicable")
ACTION_STATUSES = ("fail", "error", "warn")  # "needs action"; note is "watch"
WATCH_STATUSES = ("note",)
SEVERITIES = ("critical", "high", "medium", "low", "info")
CADENCES = ("daily", "weekly", "monthly", "quarterly")
FAIL_ON = ("note", "warn", "fail", "never")
DEFAULT_FAIL_ON = "fail"  # the gate of a document that does not record one
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


_STRING_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def format_number(value: float) -> str:
    """At most two decimals and never an exponent: ``83.33``, ``5``, ``< 0.01``."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)  # the loader refuses these; an in-memory document may not
    if value.is_integer():
        return str(int(value))
    if abs(value) < 0.005:
        return "< 0.01" if value > 0 else "> -0.01"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text


def _encode(value: Any) -> str:
    """JSON-like text of a value with numbers as ``format_number`` writes them."""
    kind = type(value)
    if kind is str:
        return _STRING_ENCODER.encode(value)
    if kind is int:
        return str(value)
    if kind is float:
        return format_number(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda item: str(item[0]))
        inner = ", ".join(f"{_STRING_ENCODER.encode(str(k))}: {_encode(v)}" for k, v in items)
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_encode(item) for item in value) + "]"
    return _STRING_ENCODER.encode(str(value))


def format_value(value: Any) -> str:
    """An observed value as a reader sees it; ``None`` is "no data", never an empty cell.

    Numbers have at most two decimals and never an exponent (``5.8e-05`` is ``< 0.01``,
    ``83.333333`` is ``83.33``, ``5.0`` is ``5``); containers read as JSON with sorted keys.
    """
    if value is None:
        return "no data"
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is int:
        return str(value)
    if kind is float:
        return format_number(value)
    return _encode(value)


def merge_repeats(text: str, separator: str = "; ") -> str:
    """Identical ``separator``-joined parts said once with a count (``X`` then U+00D7 and 11).

    A part that ends in ``: X`` where X repeats on its own (``listing was incomplete: X; X;
    X``) counts towards X too. First-appearance order is kept.
    """
    parts = text.split(separator)
    if len(parts) < 2 or len(set(parts)) == len(parts):
        return text
    counts = Counter(parts)
    heads: dict[int, tuple[str, str]] = {}
    for index, part in enumerate(parts):
        if counts[part] == 1:
            for repeated in counts:
                if counts[repeated] > 1 and part.endswith(": " + repeated):
                    heads[index] = (part[: -len(repeated)], repeated)
                    counts[repeated] += 1
                    break
    out: list[str] = []
    done: set[str] = set()
    for index, part in enumerate(parts):
        head, body = heads.get(index, ("", part))
        if body in done:
            continue
        done.add(body)
        n = counts[body]
        out.append(f"{head}{body} \u00d7{n}" if n > 1 else f"{head}{body}")
    return separator.join(out)


def merge_items(items: Iterable[str]) -> list[str]:
    """Identical items once, with a U+00D7 count when repeated; each item's own repeats merged."""
    counts = Counter(merge_repeats(item) for item in items)
    return [f"{item} \u00d7{n}" if n > 1 else item for item, n in counts.items()]


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
    #: Earlier ids of this rule (``replaces``): findings keep their identity across a rename.
    replaces: tuple[str, ...] = ()

    @property
    def lineage(self) -> str:
        """The id a finding's fingerprint is made from: the first id this rule had."""
        return self.replaces[0] if self.replaces else self.id

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
            replaces=tuple(raw.get("replaces", ())),
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
        if days_left is None and today is not None and raw.get("expires"):
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
            expires=raw.get("expires", ""),
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
    #: Where the finding is written in a file the user owns (a template's line), if known.
    location: Location | None = None
    #: For a live result judged differently on its template: the template's status and words.
    drift: Mapping[str, Any] | None = None

    @property
    def label(self) -> str:
        """The resource id, or a fixed name for a result that concerns no single resource."""
        return self.resource_id if self.resource_id is not None else RULE_LEVEL

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule.lineage, self.resource_id)

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
    coverage: Mapping[str, Any] | None = None
    changes: Changes | None = None  # set by changes.with_changes when a previous run is given

    @property
    def blocking(self) -> frozenset[str]:
        return blocking_statuses(self.fail_on)

    def with_status(self, *statuses: str) -> list[Row]:
        """Rows with one of ``statuses``, worst first (the order findings are read in)."""
        wanted = set(statuses)
        return sorted((row for row in self.rows if row.status in wanted), key=_action_key)

    def blocked(self, fail_on: str | None = None) -> int:
        """How many results are at or past the gate (``fail_on``, or the report's own)."""
        statuses = self.blocking if fail_on is None else blocking_statuses(fail_on)
        return sum(self.counts.get(status, 0) for status in statuses)

    @property
    def gate_enforced(self) -> bool:
        """``never`` records the results and blocks nothing: there is no gate to be clear of."""
        return self.fail_on != "never"


def _action_key(row: Row) -> tuple[int, int, str, str]:
    return row.action_key


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


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


@dataclass(frozen=True)
class Location:
    """A line in a file the user owns (results schema ``$defs/location``)."""

    file: str
    line: int
    column: int
    logical_id: str = ""
    property_path: str = ""

    @staticmethod
    def of(raw: Mapping[str, Any] | None) -> Location | None:
        if not raw:
            return None
        return Location(
            file=raw["file"],
            line=raw["line"],
            column=raw["column"],
            logical_id=raw.get("logical_id", ""),
            property_path=raw.get("property", ""),
        )

    @property
    def text(self) -> str:
        """``template.yaml:42``: how editors and people point at a line."""
        return f"{self.file}:{self.line}"


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
        location=Location.of(raw.get("location")),
        drift=raw.get("drift"),
    )


def document_gate(document: Mapping[str, Any]) -> str:
    """The gate the results were evaluated with (``summary.gate.fail_on``), else ``fail``."""
    gate = document.get("summary", {}).get("gate")
    return str(gate["fail_on"]) if gate else DEFAULT_FAIL_ON


def _sorted_scope(scope: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(scope)
    out["accounts"] = sorted(scope["accounts"])
    out["regions"] = sorted(scope["regions"])
    return out


def _sorted_policies(policies: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(policies)
    out["packs"] = stable_sorted(policies["packs"], fields_key("name", "version"))
    return out


def build_report(document: Mapping[str, Any], fail_on: str | None = None) -> Report:
    """Index and sort a (validated) results document for rendering.

    ``fail_on`` defaults to the gate the document was evaluated with (``summary.gate``),
    and to ``fail`` for documents that do not record one. Accounts, regions and packs are
    sorted here, once, so no format shows input order.
    """
    if fail_on is None:
        fail_on = document_gate(document)
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
        scope=_sorted_scope(document["scope"]),
        policies=_sorted_policies(document["policies"]),
        rules=rules,
        rows=tuple(rows),
        waivers=waivers,
        collection_errors=tuple(errors_sorted),
        fail_on=fail_on,
        counts=Counter(row.status for row in rows),
        coverage=document.get("coverage"),
    )
