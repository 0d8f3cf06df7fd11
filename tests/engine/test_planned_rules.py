"""A field-level snapshot judges only the rules it was planned for.

The collector asked only for the keys, resources and name prefixes the planned rules need. A
rule it was not planned for, or the same rule with other parameters, could meet absence where
a call was simply never made, so it is ``error``; the planned rules decide as usual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runbook_guard.engine.planner import build_plan

from .builders import compile_text, resource, run, snapshot_doc, statuses

RULES = """
parameters:
  prefix: {default: agenticai}
rules:
  - id: q.redrive
    title: queues redrive
    covers: [RB-I08]
    section: s
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    select: {name_matches: "^${prefix}-"}
    expect: {path: Attributes.RedrivePolicy, exists: true}
  - id: q.policy-absent
    title: no resource policy
    covers: [RB-I08]
    section: s
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    expect: {path: Attributes.Policy, absent: true}
"""


def _planned_snapshot(tmp_path: Path, only: str, **overrides: Any) -> dict[str, Any]:
    """What a collection planned for one rule of RULES writes (a queue it never detailed)."""
    _, rules = compile_text(tmp_path, RULES, **overrides)
    planned = [r for r in rules if r.id == only]
    plan = build_plan(planned, {})
    doc = snapshot_doc(
        [
            resource("aws.sqs.queue", "agenticai-a", {"Attributes": {"RedrivePolicy": {}}}),
            resource("aws.sqs.queue", "other-b", {"QueueUrl": "u"}),  # listed, never detailed
        ]
    )
    doc["schema_version"] = 2
    doc["metadata"]["planned_rules"] = plan.rules
    doc["metadata"]["collected_keys"] = {"aws.sqs.queue": ["Attributes", "QueueUrl"]}
    return doc


def test_the_planned_rule_decides_and_an_unplanned_one_is_an_error(tmp_path: Path) -> None:
    doc = _planned_snapshot(tmp_path, "q.redrive")
    results = run(tmp_path, RULES, doc)
    by_rule = {(r["rule"], (r["resource"] or {}).get("name", "(rule)")): r for r in results}
    assert by_rule[("q.redrive", "agenticai-a")]["status"] == "pass"
    # other-b was never detailed: "no policy" there is absence of a call, not of a policy.
    unplanned = by_rule[("q.policy-absent", "(rule)")]
    assert unplanned["status"] == "error"
    assert "collected for other rules" in unplanned["message"]


def test_the_same_rule_with_other_parameters_is_not_the_planned_one(tmp_path: Path) -> None:
    doc = _planned_snapshot(tmp_path, "q.redrive")
    results = run(tmp_path, RULES, doc, prefix="other")
    redrive = [r for r in results if r["rule"] == "q.redrive"]
    assert statuses(redrive) == {"(rule)": "error"}
    assert "another version of this rule" in redrive[0]["message"]


def test_a_field_level_snapshot_that_names_no_plan_judges_nothing(tmp_path: Path) -> None:
    doc = _planned_snapshot(tmp_path, "q.redrive")
    del doc["metadata"]["planned_rules"]
    assert set(statuses(run(tmp_path, RULES, doc)).values()) == {"error"}


def test_a_snapshot_collected_in_full_judges_every_rule(tmp_path: Path) -> None:
    doc = snapshot_doc([resource("aws.sqs.queue", "agenticai-a", {"Attributes": {}})])
    assert set(statuses(run(tmp_path, RULES, doc)).values()) <= {"pass", "fail"}
