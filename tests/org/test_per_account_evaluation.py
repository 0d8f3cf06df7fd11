"""Accounts with parameters of their own are judged one by one, and the report can read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.reporters.loading import load_results
from tests.engine.builders import NOW, compile_text
from tests.org.per_account_support import POLICY, per_account_document, queue

A, B = "111111111111", "222222222222"


def evaluated(tmp_path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    policy_set, rules = compile_text(tmp_path, POLICY)
    results = build_results(policy_set, rules, Snapshot(doc), {"prefix": "agenticai"}, NOW)
    return results


def test_each_account_is_judged_by_its_own_prefix_never_by_anothers(tmp_path: Path) -> None:
    doc = per_account_document(
        {A: "team-a", B: "team-b"}, [queue(A, "team-a-work"), queue(B, "team-a-work")]
    )
    by = {
        (r["rule"], r["resource"]["account"], r["resource"]["name"]): r["status"]
        for r in evaluated(tmp_path, doc)["results"]
    }
    assert by[("t.work-queue", A, "team-a-work")] == "pass"
    # B holds A's queue, not its own: missing, fail (A's name does not stand in for B's)
    assert by[("t.work-queue", B, "team-b-work")] == "fail"
    assert ("t.work-queue", B, "team-a-work") not in by


def test_per_account_rule_level_results_name_their_account_and_load_back(tmp_path: Path) -> None:
    doc = per_account_document(
        {A: "team-a", B: "team-b"}, [queue(A, "team-a-work"), queue(B, "team-b-work")]
    )
    results = evaluated(tmp_path, doc)
    level = [r for r in results["results"] if r["rule"] == "t.no-stray-queue"]
    assert sorted(r["resource"]["id"] for r in level) == [A, B]
    assert {r["resource"]["type"] for r in level} == {"aws.account"}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    assert len(load_results(path)["results"]) == len(results["results"])  # no "duplicate"
