"""Live findings joined to their template resource: located on its line, and drift said
when the template passes what the live resource fails (an annotation, never a status)."""

from __future__ import annotations

import copy
import json
from typing import Any

from runbook_guard.cli.template_gate import join_live
from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.reporters import render
from tests.engine.builders import NOW, resource, snapshot_doc
from tests.engine.test_template_phase import FILE, ON, PITR, TABLE, by_rule, policy, stack
from tests.reporters.checks import sarif_schema_errors

__all__ = ["policy"]  # the module-scoped fixture, shared


def live_results(policy: Any, pitr: dict[str, Any]) -> dict[str, Any]:
    doc = snapshot_doc(
        [resource(TABLE, "data", {"TableName": "data", "ContinuousBackupsDescription": pitr})]
    )
    return build_results(policy, policy.compile({}), Snapshot(doc), {}, NOW)


def template_results(policy: Any, pitr: dict[str, Any]) -> dict[str, Any]:
    doc = stack()
    for envelope in doc["resources"]:
        if envelope["name"] == "data":
            envelope["data"]["ContinuousBackupsDescription"] = copy.deepcopy(pitr)
    return build_results(policy, policy.compile({}), Snapshot(doc), {}, NOW)


def test_a_live_fail_the_template_passes_is_drift_on_the_template_line(policy: Any) -> None:
    live = live_results(policy, PITR)
    assert join_live(live, template_results(policy, ON)) == 1
    (pitr,) = by_rule(live)["t.pitr"]
    assert pitr["status"] == "fail"  # drift annotates; the live status stands
    assert pitr["location"]["file"] == FILE
    assert pitr["location"]["line"] == 11
    assert pitr["drift"]["template_status"] == "pass"
    assert f"({FILE}:11)" in pitr["drift"]["message"]
    assert live["scope"]["source"]["kind"] == "live"
    markdown = render(live, "markdown")
    assert "## Drift from the template (1)" in markdown
    sarif = json.loads(render(live, "sarif"))
    assert sarif_schema_errors(sarif) == []
    (alert,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "t.pitr"]
    assert "Drift: the template passes this rule" in alert["message"]["text"]
    uri = alert["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == FILE


def test_no_drift_when_both_moments_agree(policy: Any) -> None:
    live = live_results(policy, PITR)
    assert join_live(live, template_results(policy, PITR)) == 0
    (pitr,) = by_rule(live)["t.pitr"]
    assert "drift" not in pitr
    assert pitr["location"]["line"] == 11  # still located on the template
    assert "## Drift from the template" not in render(live, "markdown")


def test_a_live_resource_the_template_does_not_declare_keeps_the_policy_location(
    policy: Any,
) -> None:
    doc = snapshot_doc(
        [resource(TABLE, "other", {"TableName": "other", "ContinuousBackupsDescription": PITR})]
    )
    live = build_results(policy, policy.compile({}), Snapshot(doc), {}, NOW)
    join_live(live, template_results(policy, ON))
    (pitr,) = by_rule(live)["t.pitr"]
    assert "location" not in pitr
    assert "drift" not in pitr
    sarif = json.loads(render(live, "sarif"))
    (alert,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "t.pitr"]
    location = alert["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("rules.yaml")
    assert location["message"]["text"].startswith("where the rule is defined")


def test_a_name_cloudformation_generates_joins_whatever_suffix_aws_picked(policy: Any) -> None:
    """The gate's stable suffix stands for the random one of the real deploy."""
    from runbook_guard.template.names import generated_name

    made = generated_name("app", "Data", "AWS::DynamoDB::Table")
    doc = stack()
    for envelope in doc["resources"]:
        if envelope["name"] == "data":
            envelope["name"] = envelope["data"]["TableName"] = made
            envelope["data"]["ContinuousBackupsDescription"] = copy.deepcopy(ON)
            envelope["template"]["cfn_type"] = "AWS::DynamoDB::Table"
    declared = build_results(policy, policy.compile({}), Snapshot(doc), {}, NOW)
    deployed = "app-Data-1QZX9K2M7ABCD"
    live_doc = snapshot_doc(
        [resource(TABLE, deployed, {"TableName": deployed, "ContinuousBackupsDescription": PITR})]
    )
    live = build_results(policy, policy.compile({}), Snapshot(live_doc), {}, NOW)
    assert join_live(live, declared, doc) == 1
    (pitr,) = by_rule(live)["t.pitr"]
    assert pitr["location"]["logical_id"] == "Data"
    assert pitr["drift"]["template_status"] == "pass"
    # another stack's table with the same logical id does not join
    other_doc = snapshot_doc(
        [
            resource(
                TABLE,
                "other-Data-1QZX9K2M7ABCD",
                {"TableName": "x", "ContinuousBackupsDescription": PITR},
            )
        ]
    )
    other = build_results(policy, policy.compile({}), Snapshot(other_doc), {}, NOW)
    assert join_live(other, declared, doc) == 0
