"""What changed since the previous run: the "since last week" part of the weekly report.

Two results documents are compared by the identity history and SARIF fingerprints use,
``engine.history.identity``: the rule and the resource's (account, region, type, name), the
id only for a resource without a name. A queue deleted and recreated under the same name has
a new ARN but is the same finding to whoever must fix it (persisting, not new and resolved),
and the same name in another account is another finding. A finding is "the same" here
exactly when it is the same alert in code scanning. Only findings are tracked: fail, error,
warn, note, and waived (the statuses SARIF emits), so a result that stays ``pass`` is not
news and one that turns ``pass`` is resolved.

Two things would make a naive diff lie, and both are kept out of new/resolved:

* **Scope.** A region or account checked in only one of the runs would make all of its
  findings look new (or resolved). Results whose account or region is in one run's scope but
  not the other's are counted apart; resources in neither list (IAM and S3 report region
  ``global``) and rule-level results are compared.
* **Rules.** A rule dropped from the pack did not get fixed; its old findings are counted as
  "no longer evaluated", not resolved. A new rule's findings are new, and the rule is named.

Pure and deterministic: no clock, and every list is sorted, so argument order inside the
documents never shows. Cost is linear in the two documents' results.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from runbook_guard.engine.history import Identity
from runbook_guard.engine.timeutil import parse_timestamp
from runbook_guard.reporters.model import (
    ACTION_STATUSES,
    SEVERITIES,
    STATUSES,
    WATCH_STATUSES,
    Report,
    Rule,
    build_report,
    fields_key,
    finding_key,
    stable_sorted,
)

TRACKED = frozenset(ACTION_STATUSES) | frozenset(WATCH_STATUSES) | {"waived"}
NEW, RESOLVED, CHANGED, UNCHANGED = "new", "resolved", "changed", "unchanged"
NO_RESULT = "no result"
# SARIF baselineState for a current finding, by change kind (resolved ones are not emitted)
BASELINE_STATE = {NEW: "new", CHANGED: "updated", UNCHANGED: "unchanged"}
# What has to differ for a rule to count as changed: what it checks and how bad a miss is.
RULE_FIELDS = ("kind", "severity", "resource_type", "expected")

_STATUS_RANK = {status: rank for rank, status in enumerate(STATUSES)}
_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}

Key = Identity


class Seen(NamedTuple):
    """One run's result for a (rule, resource): the parts a change is described with.

    A named tuple rather than a dataclass: one is built per result of both runs, and tuple
    construction keeps the comparison of two 100,000-result runs well under a second.
    """

    status: str
    original_status: str | None
    name: str
    account: str
    region: str
    message: str
    resource_id: str | None

    @property
    def label(self) -> str:
        """``waived (fail)``: a waiver hides a status, the report must not."""
        if self.status == "waived" and self.original_status:
            return f"waived ({self.original_status})"
        return self.status

    @property
    def tracked(self) -> bool:
        return self.status in TRACKED

    def sort_key(self) -> tuple[int, str, str, str, str, str, str]:
        """Worst first, then every field: how duplicates of one key are settled."""
        return (
            _STATUS_RANK[self.status],
            self.original_status or "",
            self.message,
            self.name,
            self.account,
            self.region,
            self.resource_id or "",
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One finding that appeared, went, changed or stayed."""

    kind: str
    rule_id: str
    #: The resource's id now (before, for a resolved finding): what the report shows.
    resource_id: str | None
    before: Seen | None
    after: Seen | None
    severity_rank: int
    key: Key

    @property
    def label(self) -> str:
        return self.resource_id if self.resource_id is not None else "(rule-level)"

    @property
    def resource_name(self) -> str:
        seen = self.after or self.before
        return (seen.name if seen else "") or self.label

    @property
    def before_text(self) -> str:
        return self.before.label if self.before else NO_RESULT

    @property
    def after_text(self) -> str:
        return self.after.label if self.after else NO_RESULT

    @property
    def message(self) -> str:
        """The current message; for a result that is gone, the last one, marked as such."""
        if self.after is not None:
            return self.after.message
        return f"was: {self.before.message}" if self.before else ""

    @property
    def order(self) -> tuple[int, int, str, str]:
        """Worst first (the current status, or the previous one for a resolved finding)."""
        seen = self.after if self.after is not None and self.after.tracked else self.before
        rank = _STATUS_RANK[seen.status] if seen else len(STATUSES)
        return (rank, self.severity_rank, self.rule_id, self.resource_id or "")


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A rule added, removed or redefined between the runs, with its findings in each."""

    id: str
    findings_before: int
    findings_now: int
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Changes:
    """The comparison, ready to render: headline facts, categories, and per-key states."""

    previous: Mapping[str, Any]
    evaluated_at: str
    snapshot_digest: str
    policy_digest: str
    packs: tuple[str, ...]
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    scope_matches: bool
    previous_is_older: bool
    new: tuple[Change, ...]
    resolved: tuple[Change, ...]
    changed: tuple[Change, ...]
    unchanged: int
    outside_scope_now: int
    outside_scope_before: int
    rules_added: tuple[RuleChange, ...]
    rules_removed: tuple[RuleChange, ...]
    rules_changed: tuple[RuleChange, ...]
    states: Mapping[Key, str]
    #: The baseline is the newest run kept in ``--history`` (not a ``--previous`` file).
    from_history: bool = False
    #: False when only the baseline's results were kept: no digests, packs or rule texts.
    whole: bool = True

    @property
    def no_longer_evaluated(self) -> int:
        """Findings of the previous run whose rule is gone (not counted as resolved)."""
        return sum(rule.findings_before for rule in self.rules_removed)

    @property
    def persisting(self) -> int:
        """Findings in both runs (inside the shared scope), whether or not their status moved."""
        return self.unchanged + len(self.changed)

    def baseline_state(self, key: Key) -> str:
        """SARIF ``baselineState`` of a current finding: new, updated or unchanged."""
        return BASELINE_STATE[self.states.get(key, NEW)]

    def state(self, key: Key) -> str | None:
        """new, changed or unchanged for a current finding; None for a non-finding."""
        return self.states.get(key)


def _index(pairs: Iterable[tuple[Key, Seen]]) -> dict[Key, Seen]:
    """Key -> result; if a document breaks the one-per-key contract, the worst one counts
    (decided on the values, so input order cannot change the outcome)."""
    listed = list(pairs)
    out = dict(listed)
    if len(out) == len(listed):
        return out  # the contract holds: one result per key
    for key, seen in listed:
        if seen.sort_key() < out[key].sort_key():
            out[key] = seen
    return out


def _findings(index: Mapping[Key, Seen]) -> list[Key]:
    return [key for key, seen in index.items() if seen.status in TRACKED]


def _previous_pairs(
    document: Mapping[str, Any], renamed: Mapping[str, str]
) -> Iterable[tuple[Key, Seen]]:
    """The previous run's results, under the ids their rules have now (``replaces``)."""
    for raw in document["results"]:
        resource = raw["resource"]
        seen = Seen(
            status=raw["status"],
            original_status=raw.get("original_status"),
            name=resource["name"] if resource else "",
            account=resource["account"] if resource else "",
            region=resource["region"] if resource else "",
            message=raw["message"],
            resource_id=resource["id"] if resource else None,
        )
        yield finding_key(raw, renamed.get(raw["rule"], raw["rule"])), seen


def _current_pairs(report: Report) -> Iterable[tuple[Key, Seen]]:
    for row in report.rows:
        seen = Seen(
            status=row.status,
            original_status=row.original_status,
            name=row.resource_name,
            account=row.account,
            region=row.region,
            message=row.message,
            resource_id=row.resource_id,
        )
        yield row.identity, seen


def _kind(before: Seen | None, after: Seen | None) -> str | None:
    """The change category, or None when neither side is a finding."""
    was = before if before is not None and before.tracked else None
    now = after if after is not None and after.tracked else None
    if was is None:
        return None if now is None else NEW
    if now is None:
        return RESOLVED
    same = (was.status, was.original_status) == (now.status, now.original_status)
    return UNCHANGED if same else CHANGED


def _one_sided(now: Iterable[str], before: Iterable[str]) -> frozenset[str]:
    return frozenset(now) ^ frozenset(before)


def pack_names(document: Mapping[str, Any]) -> tuple[str, ...]:
    """``agenticai 0.2.0`` per pack, sorted: a version bump is how a rule change shows."""
    packs = document["policies"]["packs"]
    return tuple(sorted(f"{pack['name']} {pack['version']}" for pack in packs))


def _is_older(previous: str, current: str) -> bool:
    before, now = parse_timestamp(previous), parse_timestamp(current)
    return before is None or now is None or before < now


def _rule_changes(
    current: Mapping[str, Rule],
    previous: Mapping[str, Rule],
    findings_now: Mapping[str, int],
    findings_before: Mapping[str, int],
) -> tuple[tuple[RuleChange, ...], tuple[RuleChange, ...], tuple[RuleChange, ...]]:
    def entry(rule_id: str, fields: tuple[str, ...] = ()) -> RuleChange:
        counts = (findings_before.get(rule_id, 0), findings_now.get(rule_id, 0))
        return RuleChange(rule_id, *counts, fields)

    added = tuple(entry(rule_id) for rule_id in sorted(set(current) - set(previous)))
    removed = tuple(entry(rule_id) for rule_id in sorted(set(previous) - set(current)))
    changed = []
    for rule_id in sorted(set(current) & set(previous)):
        fields = tuple(
            field
            for field in RULE_FIELDS
            if getattr(current[rule_id], field) != getattr(previous[rule_id], field)
        )
        if fields:
            changed.append(entry(rule_id, fields))
    return added, removed, tuple(changed)


def compare(report: Report, previous: Mapping[str, Any]) -> Changes:
    """Compare an indexed current run with a (validated) previous results document."""
    renamed = {old: rule.id for rule in report.rules for old in rule.replaces}
    before = _index(_previous_pairs(previous, renamed))
    after = _index(_current_pairs(report))
    current_rules = {rule.id: rule for rule in report.rules}
    previous_rules = {
        rule.id: rule
        for rule in (
            Rule.from_document(index, raw)
            for index, raw in enumerate(stable_sorted(previous["rules"], fields_key("id")))
        )
    }
    removed_rules = set(previous_rules) - set(current_rules)
    scope, prior = report.scope, previous["scope"]
    odd_accounts = _one_sided(scope["accounts"], prior["accounts"])
    odd_regions = _one_sided(scope["regions"], prior["regions"])

    def outside(seen: Seen) -> bool:
        return seen.account in odd_accounts or seen.region in odd_regions

    found_before, found_now = _findings(before), _findings(after)
    findings_before = Counter(key[0] for key in found_before)
    findings_now = Counter(key[0] for key in found_now)
    groups: dict[str, list[Change]] = {NEW: [], RESOLVED: [], CHANGED: []}
    states: dict[Key, str] = {}
    outside_now = outside_before = unchanged = 0
    for key in {*found_before, *found_now}:  # only keys that are a finding in either run
        was, now = before.get(key), after.get(key)
        kind = _kind(was, now)
        if kind is None:
            continue
        if kind != RESOLVED:
            states[key] = kind
        if key[0] in removed_rules:
            continue  # counted on the rule: not resolved, no longer evaluated
        subject = was if kind == RESOLVED else now
        assert subject is not None
        if outside(subject):
            outside_now += kind != RESOLVED
            outside_before += kind != NEW
            continue
        if kind == UNCHANGED:
            unchanged += 1  # counted, not listed: the findings section lists them all
            continue
        severity = _SEVERITY_RANK[current_rules[key[0]].severity]
        shown = was if kind == RESOLVED else now
        resource_id = shown.resource_id if shown is not None else None
        groups[kind].append(Change(kind, key[0], resource_id, was, now, severity, key))
    ordered = {kind: tuple(sorted(changes, key=_order)) for kind, changes in groups.items()}
    added, removed, redefined = _rule_changes(
        current_rules, previous_rules, findings_now, findings_before
    )
    return Changes(
        previous=previous,
        evaluated_at=previous["evaluated_at"],
        snapshot_digest=prior["snapshot_digest"],
        policy_digest=previous["policies"]["digest"],
        packs=pack_names(previous),
        accounts=tuple(sorted(prior["accounts"])),
        regions=tuple(sorted(prior["regions"])),
        scope_matches=not odd_accounts and not odd_regions,
        previous_is_older=_is_older(previous["evaluated_at"], report.evaluated_at),
        new=ordered[NEW],
        resolved=ordered[RESOLVED],
        changed=ordered[CHANGED],
        unchanged=unchanged,
        outside_scope_now=outside_now,
        outside_scope_before=outside_before,
        rules_added=added,
        rules_removed=removed,
        rules_changed=redefined,
        states=states,
    )


def _order(change: Change) -> tuple[int, int, str, str]:
    return change.order


def with_changes(
    report: Report, previous: Mapping[str, Any], *, from_history: bool = False, whole: bool = True
) -> Report:
    """The report with its comparison attached, for the renderers that show it."""
    changes = dataclasses.replace(compare(report, previous), from_history=from_history, whole=whole)
    return dataclasses.replace(report, changes=changes)


def compare_documents(current: Mapping[str, Any], previous: Mapping[str, Any]) -> Changes:
    """Compare two (validated) results documents: the entry point for callers and tests."""
    return compare(build_report(current), previous)
