"""Every way missing, denied or narrower data could pass: each is an error instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.builders import (
    ACCOUNT,
    REGION,
    resource,
    run,
    snapshot_doc,
    statuses,
)
from tests.engine.rule_texts import (
    DENIED,
    DEPTH,
    HEADER,
    PITR,
    RATIO,
    TABLE_ARN,
    queues,
)


def test_access_denied_makes_only_the_rules_needing_that_call_error(tmp_path: Path) -> None:
    table = resource(
        "aws.dynamodb.table",
        "agenticai-data",
        {"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}},
        id=TABLE_ARN,
    )
    results = run(tmp_path, PITR, snapshot_doc([table], errors=[DENIED]))
    by_rule = {r["rule"]: r for r in results}
    assert by_rule["pitr"]["status"] == "error"
    assert by_rule["pitr"]["missing_permissions"] == ["dynamodb:DescribeContinuousBackups"]
    assert "grant dynamodb:DescribeContinuousBackups" in by_rule["pitr"]["message"]
    assert by_rule["billing"]["status"] == "pass"


def test_an_error_without_data_keys_blocks_every_absent_path(tmp_path: Path) -> None:
    table = resource("aws.dynamodb.table", "agenticai-data", {}, id=TABLE_ARN)
    error = {k: v for k, v in DENIED.items() if k != "data_keys"}
    results = run(tmp_path, PITR, snapshot_doc([table], errors=[error]))
    assert {r["status"] for r in results} == {"error"}


def test_a_type_that_was_not_collected_is_an_error(tmp_path: Path) -> None:
    results = run(tmp_path, PITR, snapshot_doc([resource("aws.sqs.queue", "q")]))
    assert [(r["rule"], r["status"], r["resource"]) for r in results] == [
        ("billing", "error", None),
        ("pitr", "error", None),
    ]
    assert "not collected" in results[0]["message"]


def test_an_incomplete_listing_cannot_prove_a_resource_missing(tmp_path: Path) -> None:
    coverage = [
        {"type": "aws.dynamodb.table", "account": ACCOUNT, "region": REGION, "complete": False}
    ]
    listing_error = {
        "service": "dynamodb",
        "operation": "ListTables",
        "region": REGION,
        "resource_type": "aws.dynamodb.table",
        "iam_action": "dynamodb:ListTables",
        "code": "ThrottlingException",
        "message": "Rate exceeded",
    }
    results = run(tmp_path, PITR, snapshot_doc([], errors=[listing_error], coverage=coverage))
    assert {r["status"] for r in results} == {"error"}
    assert "ThrottlingException" in results[0]["message"]


def test_an_incomplete_listing_adds_an_error_to_pattern_rules(tmp_path: Path) -> None:
    coverage = [
        {"type": "aws.sqs.queue", "account": ACCOUNT, "region": REGION, "complete": True},
        {"type": "aws.sqs.queue", "account": ACCOUNT, "region": "eu-west-1", "complete": False},
    ]
    text = DEPTH.replace(
        'select: {names: ["${prefix}-${queues}-queue"]}', 'select: {name_matches: "-queue$"}'
    )
    results = run(tmp_path, text, snapshot_doc(queues(0, 0), coverage=coverage))
    assert sorted(r["status"] for r in results) == ["error", "pass", "pass"]


def test_where_that_cannot_be_decided_is_an_error_not_a_skip(tmp_path: Path) -> None:
    text = DEPTH.replace(
        'select: {names: ["${prefix}-${queues}-queue"]}',
        "select: {where: {path: Kind, equals: work}}",
    )
    results = run(tmp_path, text, snapshot_doc(queues(0)))
    assert statuses(results) == {"agenticai-pm-queue": "error"}


def test_metric_missing_with_a_cloudwatch_error_names_it(tmp_path: Path) -> None:
    fn = resource("aws.lambda.function", "f", {})
    error = {
        "service": "cloudwatch",
        "operation": "GetMetricData",
        "region": REGION,
        "resource_type": "aws.lambda.function",
        "data_keys": ["metrics"],
        "iam_action": "cloudwatch:GetMetricData",
        "code": "AccessDenied",
        "message": "no",
    }
    results = run(tmp_path, RATIO.replace("NO_DATA", "note"), snapshot_doc([fn], errors=[error]))
    assert results[0]["status"] == "error"
    assert results[0]["missing_permissions"] == ["cloudwatch:GetMetricData"]


def test_zero_matching_resources_use_when_none(tmp_path: Path) -> None:
    text = DEPTH.replace(
        'select: {names: ["${prefix}-${queues}-queue"]}', 'select: {name_matches: "^nothing"}'
    )
    results = run(tmp_path, text, snapshot_doc(queues(0)))
    assert [(r["status"], r["resource"]) for r in results] == [("note", None)]


def test_manual_rules_are_attestation_items(tmp_path: Path) -> None:
    text = (
        HEADER
        + """
  - id: restore.tested
    kind: manual
    title: restore tested
    covers: [RB-M07]
    section: Monthly
    cadence: monthly
    severity: medium
    attestation: Restore the table and record the result.
"""
    )
    results = run(tmp_path, text, snapshot_doc([]))
    assert [(r["status"], r["expected"]) for r in results] == [
        ("manual", "Restore the table and record the result.")
    ]


def test_a_richer_path_cannot_turn_a_denied_key_into_a_default(tmp_path: Path) -> None:
    text = (
        HEADER
        + """
  - id: s3.versioning
    title: versioning
    covers: [RB-B03]
    section: Backup
    cadence: daily
    severity: high
    resource: aws.s3.bucket
    expect: {path: "Versioning.Status || 'Enabled'", equals: Enabled}
"""
    )
    bucket = resource("aws.s3.bucket", "code", {"Name": "code"})
    denied = {
        "service": "s3",
        "operation": "GetBucketVersioning",
        "region": REGION,
        "resource": bucket["id"],
        "resource_type": "aws.s3.bucket",
        "data_keys": ["Versioning"],
        "code": "AccessDenied",
        "message": "no",
    }
    (result,) = run(tmp_path, text, snapshot_doc([bucket], errors=[denied]))
    assert result["status"] == "error"
    # without the error, the expression's own default applies
    (result,) = run(tmp_path, text, snapshot_doc([bucket]))
    assert result["status"] == "pass"


EVENTS = (
    HEADER
    + """
  - id: trail.destructive
    title: destructive events
    covers: [RB-M04]
    section: Security
    cadence: monthly
    severity: high
    resource: aws.cloudtrail.event
    collect: {event_names: [DeleteTable, DeleteBucket], window_hours: 168}
    expect: {path: EventName, not_in: [DeleteTable, DeleteBucket]}
    when_none: pass
"""
)


@pytest.mark.parametrize(
    ("options", "status", "fragment"),
    [
        (
            {
                "event_names": ["DeleteBucket", "DeleteTable", "StopLogging"],
                "window_hours": [24, 168],
            },
            "pass",
            "nothing to check",
        ),
        (
            {"event_names": ["DeleteBucket", "DeleteTable"], "window_hours": [24]},
            "error",
            "collected with window_hours 24; this rule needs 168",
        ),
        (
            {"event_names": ["DeleteTable"], "window_hours": [168]},
            "error",
            "without event_names ['DeleteBucket']",
        ),
        ({"window_hours": [168]}, "error", "without 'event_names'"),
        (None, "error", "does not record the options"),
    ],
)
def test_a_snapshot_collected_with_narrower_options_cannot_pass(
    tmp_path: Path, options: dict[str, list[object]] | None, status: str, fragment: str
) -> None:
    doc = snapshot_doc([], types=["aws.cloudtrail.event"])
    if options is not None:
        doc["metadata"]["options"] = {"aws.cloudtrail.event": options}
    (result,) = run(tmp_path, EVENTS, doc)
    assert result["status"] == status
    assert fragment in result["message"]
