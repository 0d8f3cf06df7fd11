"""A metric figure with series per ``{each:PATH}`` (a table's indexes) cannot stand when the
call that fills PATH failed: the index series were never asked for, so the figure is partial.
A table without indexes (the key legitimately absent, no error) still decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.engine.builders import REGION, resource, run, snapshot_doc

POLICY = """
pack: {name: e, version: "1"}
rules:
  - id: e.throttles
    title: no throttled events
    severity: high
    cadence: weekly
    section: S
    covers: [RB-E01]
    resource: aws.dynamodb.table
    metrics:
      events:
        namespace: AWS/DynamoDB
        stat: Sum
        sum_of:
          - {metric: ReadThrottleEvents, dimensions: {TableName: "{name}"}}
          - metric: ReadThrottleEvents
            dimensions: {TableName: "{name}", GlobalSecondaryIndexName: "{each:GlobalSecondaryIndexes[].IndexName}"}
        window_hours: 24
    value: {metric: events}
    levels: {normal: "== 0", warn: "> 0", fail: "> 5"}
"""


def table(data: dict[str, Any], key: str) -> dict[str, Any]:
    return resource("aws.dynamodb.table", "t", data, metrics={key: 0})


def metric_key(tmp_path: Path) -> str:
    from runbook_guard.engine.loader import load_policy_set

    path = tmp_path / "key.yaml"
    path.write_text(POLICY)
    (rule,) = load_policy_set([path]).compile({})
    return rule.metrics["events"].key


def test_a_failed_describe_makes_an_index_sum_undecided(tmp_path: Path) -> None:
    key = metric_key(tmp_path)
    assert "{each:GlobalSecondaryIndexes[].IndexName}" in key
    denied = {
        "service": "dynamodb", "operation": "DescribeTable", "region": REGION,
        "resource": table({}, key)["id"], "resource_type": "aws.dynamodb.table",
        "data_keys": ["GlobalSecondaryIndexes", "TableStatus"], "code": "AccessDeniedException",
        "message": "denied", "iam_action": "dynamodb:DescribeTable",
    }  # fmt: skip
    (result,) = run(
        tmp_path, POLICY, snapshot_doc([table({"TableName": "t"}, key)], errors=[denied])
    )
    assert result["status"] == "error"
    assert "series per GlobalSecondaryIndexes" in result["message"]


def test_a_table_without_indexes_decides(tmp_path: Path) -> None:
    key = metric_key(tmp_path)
    (result,) = run(tmp_path, POLICY, snapshot_doc([table({"TableName": "t"}, key)]))
    assert result["status"] == "pass"
