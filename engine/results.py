"""Assembles the results document: the contract every reporter reads, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from runbook_guard import __version__
from runbook_guard.engine.attestations import Attestation, apply_attestations
from runbook_guard.engine.coverage import Coverage, how_covered, narrow_coverage
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import PolicySet
from runbook_guard.engine.owners import Owners, assign_owners
from runbook_guard.engine.per_account import evaluate_by_account
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.selection import inactive_record
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.summary import STATUSES, summarise
from runbook_guard.engine.timeutil import iso
from runbook_guard.engine.waivers import (
    DEFAULT_MAX_EXPIRY_DAYS,
    apply_suppressions,
    apply_waivers,
)

__all__ = ["RESULTS_SCHEMA_VERSION", "STATUSES", "build_results", "coverage_document"]

#: 4 added ``selection``, ``summary.gate.fail_severity`` and a result's ``owner`` and
#: ``attestation``; 5 added ``scope.account_names``. A document gives the lowest version that
#: holds what it uses: only one carrying account names is a 5, so a run without them writes
#: what it wrote before, byte for byte, and a reader of 4 keeps reading it.
RESULTS_SCHEMA_VERSION = 5
#: The version of a document without ``scope.account_names``.
_WITHOUT_ACCOUNT_NAMES = 4


def build_results(
    policy_set: PolicySet,
    rules: Sequence[CompiledRule],
    snapshot: Snapshot,
    parameters: Mapping[str, Any],
    now: datetime,
    waivers: Sequence[dict[str, Any]] = (),
    fail_on: str = "fail",
    coverage: Coverage | None = None,
    waiver_max_days: int = DEFAULT_MAX_EXPIRY_DAYS,
    *,
    selection: Mapping[str, Any] | None = None,
    fail_severity: str | None = None,
    attestations: Sequence[Attestation] = (),
    owners: Owners | None = None,
) -> dict[str, Any]:
    """Evaluate and wrap the results with everything a reader needs to trust them.

    ``selection`` is the record of which rules were chosen (``engine.selection``): ``rules``
    are those alone, and coverage says which expectations were left to unselected rules.
    Attestations (already checked against the rules) apply before waivers: an attested
    manual rule passes, and a waiver never covers a pass. Every result then gets its owner.
    """
    by_account = evaluate_by_account(policy_set, rules, snapshot, now)
    results = (
        by_account
        if by_account is not None
        else evaluate_rules(rules, snapshot, now, policy_set.tables)
    )
    apply_attestations(results, attestations, now)
    renamed = {old: rule.id for rule in rules for old in rule.replaces}
    register = apply_waivers(results, waivers, now, renamed, waiver_max_days)
    if snapshot.is_template:
        register += apply_suppressions(results, snapshot.resources, renamed)
    assign_owners(results, rules, owners or Owners())
    classes = {rule.id: (rule.severity, rule.cadence) for rule in rules}
    summary = summarise(results, classes, fail_on, fail_severity)
    chosen = dict(selection) if selection is not None else inactive_record(classes)
    metadata = snapshot.metadata
    packs = sorted(
        ({k: str(v) for k, v in pack.items()} for pack in policy_set.packs),
        key=lambda p: (p["name"], p["version"]),
    )
    names = _account_names(metadata)
    return {
        "schema_version": RESULTS_SCHEMA_VERSION if names else _WITHOUT_ACCOUNT_NAMES,
        "tool": {"name": "runbook-guard", "version": __version__},
        "evaluated_at": iso(now),
        "scope": {
            "accounts": sorted(metadata["accounts"]),
            "regions": sorted(metadata["regions"]),
            "collected_at": metadata["started_at"],
            "collection_finished_at": metadata["finished_at"],
            "snapshot_digest": snapshot.digest,
            "collector_version": metadata["tool_version"],
            **({"source": _source(metadata["source"])} if metadata.get("source") else {}),
            **({"account_names": names} if names else {}),
        },
        "policies": {"packs": packs, "digest": policy_set.digest, "parameters": dict(parameters)},
        "rules": [rule.metadata() for rule in rules],
        "results": results,
        "summary": summary,
        "waivers": register,
        "collection_errors": list(snapshot.errors),
        "selection": chosen,
        **(
            {"coverage": coverage_document(coverage, chosen["not_selected"])}
            if coverage is not None
            else {}
        ),
    }


def _account_names(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The names the snapshot recorded for its accounts (``per_account``), by id: the results
    are all a reporter reads, and a table of 100 bare ids does not say which one is prod. An
    account recorded without a name (or with a blank one) has no entry."""
    recorded = metadata.get("per_account") or {}
    return {
        account: name
        for account, entry in sorted(recorded.items())
        if isinstance(name := entry.get("name"), str) and name.strip()
    }


def _source(source: Mapping[str, Any]) -> dict[str, Any]:
    """What was judged, as the results carry it (parameter values stay in the snapshot)."""
    templates = [
        {key: value for key, value in entry.items() if key != "parameters"}
        for entry in source.get("templates") or []
    ]
    return {"kind": source["kind"], **({"templates": templates} if templates else {})}


def coverage_document(coverage: Coverage, not_selected: Sequence[str] = ()) -> dict[str, Any]:
    """The coverage of the runbook's inventory, as the results contract carries it; with
    rules left out by a selection, what they alone cover is ``not selected``."""
    document = {
        "inventory": coverage.inventory,
        "expectations": [
            {
                "id": e.id,
                "text": e.text,
                "section": e.section,
                "rules": [c.rule for c in coverage.by_id.get(e.id, [])],
                "how": how_covered(coverage.by_id.get(e.id, [])),
            }
            for e in coverage.expectations
        ],
        "uncovered": coverage.uncovered,
        "unknown": coverage.unknown,
    }
    if not not_selected:
        return document
    how = {c.rule: c.how for coverings in coverage.by_id.values() for c in coverings}
    return narrow_coverage(document, set(not_selected), how)
