"""SARIF: the official 2.1.0 schema, then GitHub code scanning's requirements rule by rule."""

from __future__ import annotations

import json
import random
from typing import Any

from runbook_guard.reporters import render
from runbook_guard.reporters.model import build_report, fingerprint
from runbook_guard.reporters.sarif import MAX_RESULTS, sarif_document

from .checks import github_problems, sarif_schema_errors
from .factory import RULES, bulk_document, document, result


def _sarif(results: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(render(results, "sarif", **kwargs))
    return out


def test_sarif_is_schema_valid_and_github_acceptable(results: dict[str, Any]) -> None:
    sarif = _sarif(results)
    assert sarif_schema_errors(sarif) == []
    assert github_problems(sarif) == []


def test_findings_levels_and_what_is_left_out(results: dict[str, Any]) -> None:
    run = _sarif(results)["runs"][0]
    levels = {(r["ruleId"], r["properties"]["status"]): r["level"] for r in run["results"]}
    assert levels[("dynamodb-pitr-enabled", "fail")] == "error"
    assert levels[("sqs-queue-depth", "warn")] == "warning"
    assert levels[("sqs-queue-depth", "error")] == "error"
    assert levels[("sqs-dlq-empty", "waived")] == "warning"  # its original status
    statuses = {r["properties"]["status"] for r in run["results"]}
    assert statuses.isdisjoint({"pass", "manual", "note"})
    assert run["properties"]["counts"]["pass"] == 2
    assert run["properties"]["counts"]["manual"] == 1
    assert run["properties"]["counts"]["note"] == 1


def test_error_results_have_a_tool_execution_notification(results: dict[str, Any]) -> None:
    invocation = _sarif(results)["runs"][0]["invocations"][0]
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert any("sqs-queue-depth could not be checked" in t for t in texts)
    assert any("sqs:GetQueueAttributes" in t for t in texts)
    assert any(t.startswith("collection: budgets.DescribeBudgets") for t in texts)
    assert invocation["executionSuccessful"] is False


def test_waived_results_carry_a_suppression(results: dict[str, Any]) -> None:
    run = _sarif(results)["runs"][0]
    waived = [r for r in run["results"] if r["properties"]["status"] == "waived"]
    assert len(waived) == 1
    (suppression,) = waived[0]["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["justification"] == "Replaying messages after incident INC-42"
    assert suppression["properties"]["owner"] == "ops-team@example.com"
    assert suppression["properties"]["expiry"] == "2026-12-15"
    assert all(r["suppressions"] == [] for r in run["results"] if r is not waived[0])


def test_locations_point_at_the_rule_yaml_and_the_resource(results: dict[str, Any]) -> None:
    run = _sarif(results)["runs"][0]
    pitr = next(r for r in run["results"] if r["ruleId"] == "dynamodb-pitr-enabled")
    (location,) = pitr["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"] == {
        "uri": "policies/agenticai/backup.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert physical["region"] == {"startLine": 10}  # the expectation's line
    logical = location["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == results["results"][0]["resource"]["id"]


def test_rule_metadata(results: dict[str, Any]) -> None:
    rules = {r["id"]: r for r in _sarif(results)["runs"][0]["tool"]["driver"]["rules"]}
    assert list(rules) == sorted(rule["id"] for rule in RULES)
    iam = rules["iam-unused-access-keys"]
    assert iam["properties"]["security-severity"] == "9.5"
    assert "security" in iam["properties"]["tags"]
    assert "aws iam update-access-key" in iam["help"]["text"]
    assert "Monthly Tasks" in iam["help"]["markdown"]
    assert "security-severity" not in rules["s3-bucket-lifecycle"]["properties"]  # info


def test_fingerprints_depend_on_rule_and_the_resources_identity_only() -> None:
    base = _sarif(document())
    changed = document()
    rng = random.Random(3)
    for field in ("results", "rules", "waivers"):
        rng.shuffle(changed[field])
    for res in changed["results"]:
        res["message"] += " (changed)"
        if isinstance(res["observed"], int):
            res["observed"] += 1
    for rule in changed["rules"]:
        rule["source"]["expect_line"] += 5

    def prints(sarif: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
        return {
            (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r[
                "partialFingerprints"
            ]
            for r in sarif["runs"][0]["results"]
        }

    assert prints(base) == prints(_sarif(changed))
    key = ("a", "123456789012", "us-east-1", "aws.sqs.queue", "q")
    assert len({fingerprint(key), fingerprint((*key[:4], "r")), fingerprint(key[:1])}) == 3


def test_over_the_limit_keeps_the_most_severe_and_says_how_many_were_dropped() -> None:
    report = build_report(document())
    sarif = sarif_document(report, limit=3)
    run = sarif["runs"][0]
    assert len(run["results"]) == 3
    assert {r["level"] for r in run["results"]} == {"error"}
    assert all(r["suppressions"] == [] for r in run["results"])
    assert run["properties"]["droppedResults"] == 4
    texts = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any(t.startswith("4 findings were left out") for t in texts)
    assert sarif_schema_errors(sarif) == []


def test_real_limit_of_25000_results() -> None:
    template = bulk_document(1)["results"][0]
    many = [
        result(
            "sqs-queue-depth",
            {**template["resource"], "id": f"arn:aws:sqs:us-east-1:1:q{i}", "name": f"q{i}"},
            "fail" if i % 3 else "warn",
            i,
            "< 100",
            "deep",
        )
        for i in range(MAX_RESULTS + 7)
    ]
    sarif = _sarif(document(many))
    run = sarif["runs"][0]
    assert len(run["results"]) == MAX_RESULTS
    assert run["properties"]["droppedResults"] == 7
    warnings = sum(1 for i in range(MAX_RESULTS + 7) if i % 3 == 0)
    assert sum(r["level"] == "warning" for r in run["results"]) == warnings - 7  # least severe go
    assert github_problems(sarif) == []


def test_automation_id_is_category_slash_run() -> None:
    run = _sarif(document())["runs"][0]
    category, _, run_id = run["automationDetails"]["id"].rpartition("/")
    assert category == "runbook-guard/agenticai"
    assert run_id == "2026-11-27T10:00:00+00:00"
    assert run["properties"]["accounts"] == ["123456789012"]
    assert run["properties"]["regions"] == ["us-east-1"]


def test_category_is_stable_when_the_scope_changes() -> None:
    """The upload action keeps the file's automationDetails; with accounts or regions in it,
    a narrower scope would start a new category and leave the old alerts open."""
    wider = document()
    wider["scope"]["regions"] = ["us-west-2", "us-east-1"]
    wider["scope"]["accounts"] = ["210987654321", "123456789012"]
    run = _sarif(wider)["runs"][0]
    assert run["automationDetails"] == _sarif(document())["runs"][0]["automationDetails"]
    assert run["properties"]["accounts"] == ["123456789012", "210987654321"]  # sorted
    assert run["properties"]["regions"] == ["us-east-1", "us-west-2"]


def test_security_severity_only_for_rules_tagged_security() -> None:
    """A critical or high rule that is not tagged security (a backup rule) must not show as a
    Critical/High security alert; a note is not emitted at all (it passes the gate)."""
    doc = document()
    note = result(
        "iam-unused-access-keys",
        {**doc["results"][8]["resource"], "id": "arn:aws:iam::1:user/x/accesskey/AKIANOTE",
         "name": "x/AKIANOTE"},
        "note", 80, "within 90 days", "unused for 80 days",
    )  # fmt: skip
    doc = document([*doc["results"], note])
    sarif = _sarif(doc)
    assert github_problems(sarif) == []
    run = sarif["runs"][0]
    rules = {r["id"]: r["properties"] for r in run["tool"]["driver"]["rules"]}
    assert rules["iam-unused-access-keys"]["security-severity"] == "9.5"  # tagged security
    assert rules["iam-unused-access-keys"]["tags"][0] == "security"
    for untagged in ("dynamodb-pitr-enabled", "sqs-dlq-empty", "sqs-queue-depth"):
        assert "security-severity" not in rules[untagged], untagged
        assert "security" not in rules[untagged]["tags"], untagged
    assert all(r["level"] != "note" for r in run["results"])
    assert run["properties"]["counts"]["note"] == 2


def test_github_check_flags_a_note_on_a_security_severity_rule() -> None:
    sarif = _sarif(document())
    run = sarif["runs"][0]
    index = next(
        i
        for i, r in enumerate(run["tool"]["driver"]["rules"])
        if r["id"] == "iam-unused-access-keys"
    )
    run["results"][0] |= {"ruleId": "iam-unused-access-keys", "ruleIndex": index, "level": "note"}
    assert any("a note on a rule with security-severity" in p for p in github_problems(sarif))
