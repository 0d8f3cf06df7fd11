"""Assembles the results document: the contract every reporter reads, and nothing else."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from runbook_guard import __version__
from runbook_guard.engine.config import blocking
from runbook_guard.engine.coverage import Coverage, how_covered
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import PolicySet
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.timeutil import iso
from runbook_guard.engine.waivers import (
    DEFAULT_MAX_EXPIRY_DAYS,
    apply_suppressions,
    apply_waivers,
)

#: ``not_applicable``: what a template cannot say before deploy (engine/phase.py); outside
#: the gate and every pass rate, JUnit ``skipped``, no SARIF alert.
STATUSES = ("pass", "note", "warn", "fail", "error", "manual", "waived", "not_applicable")
RESULTS_SCHEMA_VERSION = 3


def _summary(results: Sequence[Mapping[str, Any]], rules: Sequence[CompiledRule]) -> dict[str, Any]:
    by_id = {rule.id: rule for rule in rules}
    by_status = Counter(r["status"] for r in results)
    by_severity: dict[str, Counter[str]] = defaultdict(Counter)
    by_cadence: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        rule = by_id[result["rule"]]
        by_severity[rule.severity][result["status"]] += 1
        by_cadence[rule.cadence][result["status"]] += 1
    return {
        "total": len(results),
        "by_status": {status: by_status.get(status, 0) for status in STATUSES},
        "by_severity": {k: dict(sorted(v.items())) for k, v in sorted(by_severity.items())},
        "by_cadence": {k: dict(sorted(v.items())) for k, v in sorted(by_cadence.items())},
    }


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
) -> dict[str, Any]:
    """Evaluate and wrap the results with everything a reader needs to trust them."""
    results = evaluate_rules(rules, snapshot, now, policy_set.tables)
    renamed = {old: rule.id for rule in rules for old in rule.replaces}
    register = apply_waivers(results, waivers, now, renamed, waiver_max_days)
    if snapshot.is_template:
        register += apply_suppressions(results, snapshot.resources, renamed)
    summary = _summary(results, rules)
    summary["gate"] = {"fail_on": fail_on, "blocking": blocking(results, fail_on)}
    metadata = snapshot.metadata
    packs = sorted(
        ({k: str(v) for k, v in pack.items()} for pack in policy_set.packs),
        key=lambda p: (p["name"], p["version"]),
    )
    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
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
        },
        "policies": {"packs": packs, "digest": policy_set.digest, "parameters": dict(parameters)},
        "rules": [rule.metadata() for rule in rules],
        "results": results,
        "summary": summary,
        "waivers": register,
        "collection_errors": list(snapshot.errors),
        **({"coverage": coverage_document(coverage)} if coverage is not None else {}),
    }


def _source(source: Mapping[str, Any]) -> dict[str, Any]:
    """What was judged, as the results carry it (parameter values stay in the snapshot)."""
    templates = [
        {key: value for key, value in entry.items() if key != "parameters"}
        for entry in source.get("templates") or []
    ]
    return {"kind": source["kind"], **({"templates": templates} if templates else {})}


def coverage_document(coverage: Coverage) -> dict[str, Any]:
    """The coverage of the runbook's inventory, as the results contract carries it."""
    return {
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
