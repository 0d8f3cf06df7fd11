"""The one view of a results document that every format renders from.

Ordering, fingerprints, gate semantics and value formatting live here and nowhere else, so
JUnit, SARIF, Markdown, HTML, CSV and JSON agree on what a result is called, where it sorts
and whether it blocks. Building the view is linear in the number of results and done once per
``write_reports`` call however many formats are written.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from runbook_guard.engine.config import GATES, blocks
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.history import Identity, identity
from runbook_guard.engine.selection import describe, is_active
from runbook_guard.reporters.collection import MergedError, merge_errors

if TYPE_CHECKING:  # changes.py and timeline.py build on this module; the fields name types
    from runbook_guard.reporters.changes import Changes
    from runbook_guard.reporters.timeline import Timeline

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


def fingerprint(key: Iterable[str]) -> str:
    """sha256 of a finding's identity (``finding_key``): the same alert across runs.

    Nothing that changes between runs (status, observed value, line numbers, order, the ARN
    of a resource recreated under the same name) goes in, so a queue that stays too deep stays
    the same alert, and a queue of another name, or of the same name in another account, is
    another one.
    """
    return hashlib.sha256("\x1f".join(key).encode("utf-8", "surrogatepass")).hexdigest()


def finding_key(raw: Mapping[str, Any], rule_id: str) -> Identity:
    """``engine.history.identity`` (rule, account, region, type, name-or-id) under ``rule_id``:
    history, "what changed" and SARIF fingerprints all match findings by this one key."""
    key = identity(raw)
    return key if key[0] == rule_id else (rule_id, *key[1:])


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
class Attestation:
    """A person's record that a manual rule was checked (``engine.attestations``)."""

    by: str
    at: str
    evidence: str
    expires: str
    expired: bool
    note: str

    @staticmethod
    def of(raw: Mapping[str, Any] | None) -> Attestation | None:
        if not raw:
            return None
        return Attestation(
            by=str(raw.get("by", "")),
            at=str(raw.get("at", "")),
            evidence=str(raw.get("evidence", "")),
            expires=str(raw.get("expires", "")),
            expired=bool(raw.get("expired", False)),
            note=str(raw.get("note") or ""),
        )

    @property
    def state(self) -> str:
        return "attestation expired" if self.expired else "attested"

    @property
    def text(self) -> str:
        """``attested by ana on 2026-11-02, holds until 2027-02-01; evidence: URL``."""
        if self.expired:
            head = f"attestation expired on {self.expires} (checked by {self.by} on {self.at})"
        else:
            head = f"attested by {self.by} on {self.at}, holds until {self.expires}"
        note = f"; note: {self.note}" if self.note else ""
        return f"{head}; evidence: {self.evidence}{note}"


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
    #: Who must act on it (the rule's ``owner`` or the config's), "" when nobody is named.
    owner: str = ""
    #: A manual rule's attestation: who checked it, when, the evidence and until when.
    attestation: Attestation | None = None

    @property
    def label(self) -> str:
        """The resource id, or a fixed name for a result that concerns no single resource."""
        return self.resource_id if self.resource_id is not None else RULE_LEVEL

    @property
    def identity(self) -> Identity:
        """(rule, account, region, type, name-or-id): the finding across runs."""
        return finding_key(self.raw, self.rule.id)

    @property
    def fingerprint(self) -> str:
        """From the rule's first id (``replaces``), so a renamed rule keeps its alerts."""
        return fingerprint(finding_key(self.raw, self.rule.lineage))

    @property
    def severity_rank(self) -> int:
        return _SEVERITY_RANK[self.rule.severity]

    @property
    def action_key(self) -> tuple[int, int, str, str, str]:
        """Worst status first, then worst severity, then the stable order: by rule, then by
        account (a rule's findings in many accounts read account by account), then by id."""
        status = _STATUS_RANK[self.status]
        return (status, self.severity_rank, self.rule.id, self.account, self.resource_id or "")

    @property
    def top_key(self) -> tuple[int, int, str, str, str]:
        """Worst severity first, then worst status: what a reader fixes first (the top
        findings, and each account's worst finding); then as ``action_key``."""
        status = _STATUS_RANK[self.status]
        return (self.severity_rank, status, self.rule.id, self.account, self.resource_id or "")


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
    #: Results at or past ``fail_on`` block only from this severity up (errors at any).
    fail_severity: str | None = None
    #: The document's ``selection`` record when it narrowed the rules, else None.
    selection: Mapping[str, Any] | None = None
    #: ``collection_errors`` with identical ones merged (``collection.merge_errors``).
    merged_errors: tuple[MergedError, ...] = ()
    #: Trend and finding ages from ``--history`` (set by timeline.with_timeline), else None.
    timeline: Timeline | None = None
    #: Views derived once and shared by the formats rendered from this report (the audit
    #: content Markdown and HTML both print). Not an init field, so ``dataclasses.replace``
    #: (adding changes or a timeline) starts a fresh one.
    memo: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def score(self) -> Score:
        return Score.of(self.counts)

    @property
    def blocking(self) -> frozenset[str]:
        return blocking_statuses(self.fail_on)

    def blocks(self, row: Row, fail_on: str | None = None) -> bool:
        """Whether this result blocks the gate (``fail_on``, or the report's own)."""
        return blocks(row.status, row.rule.severity, fail_on or self.fail_on, self.fail_severity)

    @property
    def selection_text(self) -> str:
        """``12 of 71 rules: --tag security`` for a run that evaluated a selection, else ""."""
        if self.selection is None:
            return ""
        selected = int(self.selection["selected"])
        total = selected + len(self.selection["not_selected"])
        return f"{selected} of {total} rules: {describe(self.selection)}"

    @property
    def gate_text(self) -> str:
        """``fail-on fail, fail-severity high``: the gate as its options name it."""
        floor = f", fail-severity {self.fail_severity}" if self.fail_severity else ""
        return f"fail-on {self.fail_on}{floor}"

    def below_floor(self) -> int:
        """Results at or past ``fail_on`` that the severity floor lets through."""
        if self.fail_severity is None:
            return 0
        gate = self.blocking
        return sum(1 for row in self.rows if row.status in gate and not self.blocks(row))

    def with_status(self, *statuses: str) -> list[Row]:
        """Rows with one of ``statuses``, worst first (the order findings are read in)."""
        wanted = set(statuses)
        return sorted((row for row in self.rows if row.status in wanted), key=_action_key)

    def blocked(self, fail_on: str | None = None) -> int:
        """How many results are at or past the gate (``fail_on``, or the report's own), of the
        severity floor or worse when there is one."""
        statuses = self.blocking if fail_on is None else blocking_statuses(fail_on)
        if self.fail_severity is None:
            return sum(self.counts.get(status, 0) for status in statuses)
        return sum(1 for row in self.rows if row.status in statuses and self.blocks(row, fail_on))

    @property
    def gate_enforced(self) -> bool:
        """``never`` records the results and blocks nothing: there is no gate to be clear of."""
        return self.fail_on != "never"


#: Statuses a check decided: the score's denominator (``Score``).
DECIDED = ("pass", "note", "warn", "fail")
#: Statuses the score leaves out, each with why (said beside the score in every report).
UNSCORED = {
    "error": "could not be checked",
    "manual": "awaiting a person's attestation",
    "waived": "accepted by a waiver",
    "not_applicable": "not judged before deploy",
}


@dataclass(frozen=True, slots=True)
class Score:
    """Passed / decided: of the checks that reached a verdict, the share within normal.

    Decided is pass + note + warn + fail. Only ``pass`` counts as passed: a note is above the
    runbook's normal range (the drift a weekly report exists to show), so counting it would
    let a system creeping towards its thresholds score 100 %. An attested manual rule is a
    ``pass`` and counts. ``error`` is left out rather than counted as failed because the
    score measures compliance, not collection; and left out rather than passed because
    missing data never passes: every report prints the undecided (and the waived) beside the
    score, and a document with nothing decided has no score (``n/a``), never 100 %.
    """

    passed: int
    decided: int
    unscored: tuple[tuple[str, int], ...]

    @staticmethod
    def of(counts: Mapping[str, int]) -> Score:
        decided = sum(counts.get(status, 0) for status in DECIDED)
        left_out = tuple((s, counts.get(s, 0)) for s in UNSCORED if counts.get(s, 0))
        return Score(counts.get("pass", 0), decided, left_out)

    @property
    def percent(self) -> float | None:
        return 100.0 * self.passed / self.decided if self.decided else None

    @property
    def text(self) -> str:
        """``66%``, ``99.5%`` (never rounded up to 100 while something failed), or ``n/a``."""
        percent = self.percent
        if percent is None:
            return "n/a"
        shown = f"{percent:.0f}" if percent == int(percent) or percent < 99 else f"{percent:.1f}"
        if shown in ("100", "100.0") and self.passed < self.decided:
            shown = "99.9"
        return f"{shown}%"

    @property
    def left_out_text(self) -> str:
        """``1 error (could not be checked), 1 waived (accepted by a waiver)``, or ""."""
        return ", ".join(f"{n} {status} ({UNSCORED[status]})" for status, n in self.unscored)


def _action_key(row: Row) -> tuple[int, int, str, str, str]:
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
    """(rule, resource id, account): the order every format lists results in. A resource id
    is unique only within its account (a missing queue is named by the name it lacks)."""
    resource = raw["resource"]
    if resource is None:
        return (raw["rule"], "", "")
    return (raw["rule"], resource["id"], resource["account"])


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
        owner=str(raw.get("owner") or ""),
        attestation=Attestation.of(raw.get("attestation")),
    )


def document_gate(document: Mapping[str, Any]) -> str:
    """The gate the results were evaluated with (``summary.gate.fail_on``), else ``fail``."""
    gate = document.get("summary", {}).get("gate")
    return str(gate["fail_on"]) if gate else DEFAULT_FAIL_ON


def document_fail_severity(document: Mapping[str, Any]) -> str | None:
    """The severity floor the results were evaluated with, else none (older files)."""
    gate = document.get("summary", {}).get("gate") or {}
    floor = gate.get("fail_severity")
    return str(floor) if floor is not None else None


def _sorted_scope(scope: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(scope)
    out["accounts"] = sorted(scope["accounts"])
    out["regions"] = sorted(scope["regions"])
    if "account_names" in scope:
        out["account_names"] = dict(sorted(scope["account_names"].items()))
    return out


def _sorted_policies(policies: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(policies)
    out["packs"] = stable_sorted(policies["packs"], fields_key("name", "version"))
    return out


def build_report(
    document: Mapping[str, Any], fail_on: str | None = None, fail_severity: str | None = None
) -> Report:
    """Index and sort a (validated) results document for rendering.

    ``fail_on`` and ``fail_severity`` default to the gate the document was evaluated with
    (``summary.gate``), and to ``fail`` with no severity floor for documents that do not
    record one (``info`` is the floor that lets everything block). Accounts, regions and
    packs are sorted here, once, so no format shows input order.
    """
    if fail_on is None:
        fail_on = document_gate(document)
    if fail_severity is None:
        fail_severity = document_fail_severity(document)
    if fail_severity is not None and fail_severity not in SEVERITIES:
        choices = ", ".join(SEVERITIES)
        raise ValueError(f"fail_severity must be one of {choices}, not {fail_severity!r}")
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
        fail_severity=fail_severity,
        selection=document.get("selection") if is_active(document.get("selection")) else None,
        merged_errors=merge_errors(errors_sorted),
    )
