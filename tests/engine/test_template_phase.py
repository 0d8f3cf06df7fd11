"""The engine on a snapshot read from a template: three honest outcomes, never a pass on
what a template cannot say, and every result on the line the rule read.

Each case tries to make a rule pass wrongly before deploy: a metric rule, a key only a
running system has, a value known after deploy, an unresolvable import, a named resource of
another stack, a related target outside the template, a suppression hiding an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import junitparser
import pytest

from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.reporters import render
from tests.engine.builders import ACCOUNT, NOW, REGION, resource, snapshot_doc
from tests.reporters.checks import junit_schema, sarif_schema_errors

FILE = "infra/template.yaml"
TABLE = "aws.dynamodb.table"
QUEUE = "aws.sqs.queue"

POLICY = """
pack: {name: t, version: "1"}
rules:
  - id: t.pitr
    title: PITR on
    severity: high
    cadence: daily
    section: S
    covers: [RB-T01]
    resource: aws.dynamodb.table
    expect:
      path: ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
      equals: ENABLED
  - id: t.named
    title: the data table exists with PITR
    severity: high
    cadence: daily
    section: S
    covers: [RB-T02]
    resource: aws.dynamodb.table
    select: {names: [data, elsewhere]}
    expect: {path: TableName, exists: true}
  - id: t.items
    title: item count known
    severity: low
    cadence: daily
    section: S
    covers: [RB-T03]
    resource: aws.dynamodb.table
    expect: {path: ItemCount, lt: 1000000}
  - id: t.depth
    title: queue depth
    severity: low
    cadence: daily
    section: S
    covers: [RB-T04]
    resource: aws.sqs.queue
    metrics:
      depth: {namespace: AWS/SQS, metric: ApproximateNumberOfMessagesVisible, stat: Maximum, dimensions: {QueueName: "{name}"}, window_hours: 1}
    value: {metric: depth}
    levels: {normal: "< 10", warn: ">= 10", fail: ">= 100"}
  - id: t.manual
    title: a person checks
    severity: low
    cadence: monthly
    section: S
    covers: [RB-T05]
    kind: manual
    attestation: the restore drill was done
  - id: t.dlq
    title: the DLQ keeps messages 14 days
    severity: medium
    cadence: daily
    section: S
    covers: [RB-T06]
    resource: aws.sqs.queue
    select: {name_matches: "-queue$"}
    related:
      dlq: {type: aws.sqs.queue, from: Attributes.RedrivePolicy.deadLetterTargetArn}
    expect: {related: dlq, all_items: {path: Attributes.MessageRetentionPeriod, ge: 1209600}}
  - id: t.trail
    title: trail events seen
    severity: low
    cadence: daily
    section: S
    covers: [RB-T07]
    resource: aws.cloudtrail.event
    expect: {path: EventName, exists: true}
"""


def declared(
    rtype: str, name: str, data: dict[str, Any], line: int, **extra: Any
) -> dict[str, Any]:
    """A template resource envelope: declared at ``line``, each data key one line below."""
    keys = {
        key: {"file": FILE, "line": line + 1 + i, "column": 7, "property": f"Properties.{key}"}
        for i, key in enumerate(sorted(data))
    }
    envelope = resource(rtype, name, data, **extra)
    envelope["template"] = {
        "file": FILE, "logical_id": name.title().replace("-", ""), "line": line, "column": 3,
        "keys": keys,
    }  # fmt: skip
    return envelope


def template_doc(
    resources: list[dict[str, Any]], collected: dict[str, list[str]]
) -> dict[str, Any]:
    doc = snapshot_doc(resources, types=collected)
    doc["schema_version"] = 3
    doc["metadata"]["collected_keys"] = collected
    doc["metadata"]["source"] = {
        "kind": "template",
        "templates": [{"file": FILE, "stack_name": "app", "digest": "0" * 64}],
    }
    return doc


TABLE_KEYS = ["TableName", "ContinuousBackupsDescription", "BillingModeSummary"]
QUEUE_KEYS = ["QueueUrl", "Attributes"]
PITR = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
ON = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}}


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("policy") / "rules.yaml"
    path.write_text(POLICY)
    return load_policy_set([path])


def evaluate(policy: Any, doc: dict[str, Any]) -> dict[str, Any]:
    rules = policy.compile({})
    return build_results(policy, rules, Snapshot(doc), {}, NOW)


def by_rule(results: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for result in results["results"]:
        found.setdefault(result["rule"], []).append(result)
    return found


def stack(extra_tables: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    tables = [
        declared(TABLE, "data", {"TableName": "data", "ContinuousBackupsDescription": PITR}, 10),
        *(extra_tables or []),
    ]
    queues = [
        declared(QUEUE, "pm-queue", {"QueueUrl": "u", "Attributes": {
            "RedrivePolicy": {"deadLetterTargetArn": queue_arn("pm-dlq"), "maxReceiveCount": 5}}},
            30, id=queue_arn("pm-queue")),
        declared(QUEUE, "pm-dlq", {"QueueUrl": "u", "Attributes": {
            "MessageRetentionPeriod": 1209599}}, 40, id=queue_arn("pm-dlq")),
    ]  # fmt: skip
    return template_doc([*tables, *queues], {TABLE: TABLE_KEYS, QUEUE: QUEUE_KEYS})


def test_what_a_template_cannot_say_is_not_applicable_with_the_reason(policy: Any) -> None:
    results = by_rule(evaluate(policy, stack()))
    assert [r["status"] for r in results["t.depth"]] == ["not_applicable"]
    assert "CloudWatch metrics" in results["t.depth"][0]["message"]
    assert [r["status"] for r in results["t.manual"]] == ["not_applicable"]
    assert [r["status"] for r in results["t.items"]] == ["not_applicable"]
    assert "ItemCount of aws.dynamodb.table" in results["t.items"][0]["message"]
    assert [r["status"] for r in results["t.trail"]] == ["not_applicable"]
    assert "declares no aws.cloudtrail.event" in results["t.trail"][0]["message"]


def test_a_template_value_is_judged_and_located_on_the_property_line(policy: Any) -> None:
    results = by_rule(evaluate(policy, stack()))
    (pitr,) = results["t.pitr"]
    assert pitr["status"] == "fail"
    # ContinuousBackupsDescription is the first key in sorted order: line 10 + 1 + 0
    assert pitr["location"] == {
        "file": FILE, "line": 11, "column": 7, "logical_id": "Data",
        "property": "Properties.ContinuousBackupsDescription",
    }  # fmt: skip


def test_a_near_miss_in_a_related_target_fails_before_deploy(policy: Any) -> None:
    results = by_rule(evaluate(policy, stack()))
    (dlq,) = results["t.dlq"]
    assert dlq["status"] == "fail"  # 1209599 is one second short of 14 days
    assert dlq["location"]["logical_id"] == "PmQueue"


def test_a_named_resource_of_another_stack_is_not_applicable_not_missing(policy: Any) -> None:
    statuses = {
        r["resource"]["name"]: r["status"] for r in by_rule(evaluate(policy, stack()))["t.named"]
    }
    assert statuses == {"data": "pass", "elsewhere": "not_applicable"}


def test_a_value_known_after_deploy_is_not_applicable_never_pass(policy: Any) -> None:
    table = declared(TABLE, "late", {"TableName": "late"}, 50)
    table["unknown"] = {"ContinuousBackupsDescription": {
        "kind": "after_deploy", "reason": "known after deploy: Fn::GetAtt Other.Status",
        "file": FILE, "line": 52, "column": 9}}  # fmt: skip
    results = by_rule(evaluate(policy, stack([table])))
    late = next(r for r in results["t.pitr"] if r["resource"]["name"] == "late")
    assert late["status"] == "not_applicable"
    assert "known after deploy" in late["message"]
    assert late["location"]["line"] == 50  # the key is absent: the resource's own line


def test_an_unresolvable_value_is_an_error_naming_the_intrinsic(policy: Any) -> None:
    table = declared(TABLE, "imported", {"TableName": "imported"}, 60)
    table["unknown"] = {"ContinuousBackupsDescription": {
        "kind": "unresolvable",
        "reason": f"the template does not determine Fn::ImportValue shared-pitr ({FILE}:62:9)",
        "file": FILE, "line": 62, "column": 9}}  # fmt: skip
    results = by_rule(evaluate(policy, stack([table])))
    bad = next(r for r in results["t.pitr"] if r["resource"]["name"] == "imported")
    assert bad["status"] == "error"
    assert bad["causes"] == [
        f"the template does not determine Fn::ImportValue shared-pitr ({FILE}:62:9)"
    ]


def test_a_dead_letter_queue_outside_the_template_is_not_applicable(policy: Any) -> None:
    doc = stack()
    doc["resources"] = [r for r in doc["resources"] if r["name"] != "pm-dlq"]
    (dlq,) = by_rule(evaluate(policy, doc))["t.dlq"]
    assert dlq["status"] == "not_applicable"
    assert "not declared in the template" in dlq["message"]


def test_an_empty_template_is_not_applicable_rather_than_a_pass(policy: Any) -> None:
    doc = template_doc([], {TABLE: TABLE_KEYS, QUEUE: QUEUE_KEYS})
    results = by_rule(evaluate(policy, doc))
    assert {r["status"] for r in results["t.pitr"]} == {"not_applicable"}
    assert {r["status"] for r in results["t.dlq"]} == {"not_applicable"}


def test_a_suppression_waives_a_fail_and_never_an_error(policy: Any) -> None:
    quiet = declared(
        TABLE, "quiet", {"TableName": "quiet", "ContinuousBackupsDescription": PITR}, 70
    )
    broken = declared(TABLE, "broken", {"TableName": "broken"}, 80)
    broken["unknown"] = {"ContinuousBackupsDescription": {
        "kind": "unresolvable", "reason": "the template does not determine Ref Missing"}}  # fmt: skip
    for envelope in (quiet, broken):
        envelope["suppressions"] = [
            {
                "rule": "t.pitr",
                "reason": "scratch table, rebuilt nightly",
                "file": FILE,
                "line": 72,
                "column": 9,
            }
        ]
    results = evaluate(policy, stack([quiet, broken]))
    statuses = {r["resource"]["name"]: r for r in by_rule(results)["t.pitr"]}
    assert statuses["quiet"]["status"] == "waived"
    assert statuses["quiet"]["original_status"] == "fail"
    assert statuses["broken"]["status"] == "error"
    (entry,) = [w for w in results["waivers"] if w["id"] == "template:Quiet:t.pitr"]
    assert entry["applied_to"] == 1
    assert entry["source"]["line"] == 72
    assert "expires" not in entry


def test_a_waiver_naming_a_logical_id_covers_only_that_template_resource(policy: Any) -> None:
    other = declared(
        TABLE, "other", {"TableName": "other", "ContinuousBackupsDescription": PITR}, 90
    )
    waiver = {"id": "w1", "rule": "t.pitr", "resource": "*", "logical_id": "Other",
              "template": FILE, "owner": "ops", "reason": "r", "expires": "2026-12-31"}  # fmt: skip
    rules = policy.compile({})
    results = build_results(policy, rules, Snapshot(stack([other])), {}, NOW, [waiver])
    statuses = {r["resource"]["name"]: r["status"] for r in by_rule(results)["t.pitr"]}
    assert statuses == {"data": "fail", "other": "waived"}


def test_not_applicable_never_blocks_and_every_format_says_it(policy: Any, tmp_path: Path) -> None:
    results = evaluate(policy, stack())
    assert results["schema_version"] == 4  # no account names: the version that holds it
    assert results["scope"]["source"]["kind"] == "template"
    blocking = results["summary"]["gate"]["blocking"]
    assert blocking == sum(1 for r in results["results"] if r["status"] in ("fail", "error"))
    sarif = json.loads(render(results, "sarif"))
    assert sarif_schema_errors(sarif) == []
    # its own code-scanning category: a live upload must not close the template's alerts
    assert sarif["runs"][0]["automationDetails"]["id"].startswith("runbook-guard/t/template/")
    located = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "t.pitr"]
    (pitr,) = located
    physical = pitr["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == FILE
    assert physical["region"] == {"startLine": 11, "startColumn": 7}
    assert not any(r["ruleId"] in ("t.depth", "t.manual") for r in sarif["runs"][0]["results"])
    xml = render(results, "junit")
    path = tmp_path / "junit.xml"
    path.write_text(xml)
    # junit-10.xsd has no file/line on testcase: the only deviation allowed (junit.py says why)
    errors = [str(e.reason) for e in junit_schema().iter_errors(str(path))]
    assert errors
    assert all("'file'" in e or "'line'" in e for e in errors), errors
    cases = {
        (case.classname, case.name): case
        for suite in junitparser.JUnitXml.fromfile(str(path))
        for case in suite
    }
    depth = next(c for (rule, _), c in cases.items() if rule == "t.depth")
    assert isinstance(depth.result[0], junitparser.Skipped)
    pitr_case = next(c for (rule, name), c in cases.items() if rule == "t.pitr")
    assert pitr_case._elem.get("file") == FILE
    assert pitr_case._elem.get("line") == "11"
    markdown = render(results, "markdown")
    assert "## Not applicable before deploy" in markdown
    assert f"`{FILE}:11`" in markdown


DEPTH_POLICY = """
pack: {name: d, version: "1"}
rules:
  - id: d.depth
    title: DLQ empty
    severity: high
    cadence: daily
    section: S
    covers: [RB-D01]
    resource: aws.sqs.queue
    expect: {path: Attributes.ApproximateNumberOfMessages, equals: 0}
  - id: d.visibility
    title: visibility timeout
    severity: high
    cadence: daily
    section: S
    covers: [RB-D02]
    resource: aws.sqs.queue
    expect: {path: Attributes.VisibilityTimeout, ge: 60}
"""


def test_a_path_under_a_key_declared_member_by_member_is_not_applicable_unless_declared(
    tmp_path: Path,
) -> None:
    """Attributes holds both what the template sets and what only the running queue knows."""
    path = tmp_path / "depth.yaml"
    path.write_text(DEPTH_POLICY)
    policy_set = load_policy_set([path])
    queue = declared(QUEUE, "q", {"QueueUrl": "u", "Attributes": {"VisibilityTimeout": 30}}, 5)
    # Attributes is declared member by member: only these members are known before deploy
    doc = template_doc([queue], {QUEUE: [*QUEUE_KEYS, "Attributes.VisibilityTimeout"]})
    results = by_rule(build_results(policy_set, policy_set.compile({}), Snapshot(doc), {}, NOW))
    (depth,) = results["d.depth"]
    assert depth["status"] == "not_applicable"
    assert "Attributes.ApproximateNumberOfMessages of aws.sqs.queue" in depth["message"]
    (visibility,) = results["d.visibility"]
    assert visibility["status"] == "fail"  # 30 s: the template's near miss is judged


WHOLE_POLICY = """
pack: {name: w, version: "1"}
rules:
  - id: w.alarmed
    title: every queue has a depth alarm with actions
    severity: high
    cadence: daily
    section: S
    covers: [RB-W01]
    resource: aws.sqs.queue
    related:
      alarms:
        type: aws.cloudwatch.alarm
        referenced_by: "[@][] | [?Namespace=='AWS/SQS'].Dimensions[] | [?Name=='QueueName'].Value"
        key: name
    expect: {related: alarms, any_item: {path: ActionsEnabled, equals: true}}
  - id: w.firing
    title: no alarm of the queue is firing
    severity: high
    cadence: daily
    section: S
    covers: [RB-W02]
    resource: aws.sqs.queue
    related:
      alarms:
        type: aws.cloudwatch.alarm
        referenced_by: "[@][] | [?StateValue=='ALARM' && Namespace=='AWS/SQS'].Dimensions[] | [?Name=='QueueName'].Value"
        key: name
    expect: {related: alarms, all_items: {path: ActionsEnabled, equals: true}}
"""
ALARM = "aws.cloudwatch.alarm"


@pytest.mark.parametrize(("enabled", "status"), [(True, "pass"), (False, "fail")])
def test_a_whole_resource_read_applies_unless_it_names_a_runtime_key(
    tmp_path: Path, enabled: bool, status: str
) -> None:
    """``@`` may read anything, but only what it names: an alarm's StateValue is the running
    system's, its Namespace and Dimensions are the template's."""
    path = tmp_path / "whole.yaml"
    path.write_text(WHOLE_POLICY)
    policy_set = load_policy_set([path])
    queue = declared(QUEUE, "q", {"QueueUrl": "u", "Attributes": {}}, 5, id=queue_arn("q"))
    alarm = declared(ALARM, "q-depth", {
        "AlarmName": "q-depth", "Namespace": "AWS/SQS", "ActionsEnabled": enabled,
        "Dimensions": [{"Name": "QueueName", "Value": "q"}]}, 20)  # fmt: skip
    doc = template_doc([queue, alarm], {
        QUEUE: QUEUE_KEYS, ALARM: ["AlarmName", "Namespace", "ActionsEnabled", "Dimensions"]})  # fmt: skip
    doc["metadata"]["source"]["runtime_keys"] = {ALARM: ["StateValue", "StateReason"]}
    results = by_rule(build_results(policy_set, policy_set.compile({}), Snapshot(doc), {}, NOW))
    assert [r["status"] for r in results["w.alarmed"]] == [status]
    (firing,) = results["w.firing"]
    assert firing["status"] == "not_applicable"
    assert "StateValue of aws.cloudwatch.alarm" in firing["message"]
    del doc["metadata"]["source"]["runtime_keys"]  # no declaration: the whole resource is unknown
    results = by_rule(build_results(policy_set, policy_set.compile({}), Snapshot(doc), {}, NOW))
    assert [r["status"] for r in results["w.alarmed"]] == ["not_applicable"]
