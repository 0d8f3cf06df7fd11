"""What a rule reads: the top-level keys per resource type the collection plan is built from.

A key missed here is a call the collector skips and a rule that then cannot decide, so every
place a path can hide is tried: conditions, values, evidence, related lookups and operands,
quantifiers (item-relative, not top-level) and metric dimensions.
"""

from __future__ import annotations

import pytest

from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.reads import ALL, rule_reads, top_level_keys


@pytest.mark.parametrize(
    ("expression", "keys"),
    [
        ("Attributes.ApproximateNumberOfMessages", {"Attributes"}),
        ("A.B[?C==`1`].D", {"A"}),
        ("length(AlarmActions)", {"AlarmActions"}),
        ("max_by(Backups, &BackupCreationDateTime).BackupName", {"Backups"}),
        ("{a: X.Y, b: Z}", {"X", "Z"}),
        ("runningCount >= desiredCount", {"runningCount", "desiredCount"}),
        ("A || B", {"A", "B"}),
        ("foo[0].bar", {"foo"}),
        ("Metrics[].MetricStat.Metric.Dimensions[?Name=='QueueName'].Value", {"Metrics"}),
        ("[Dimensions, Metrics[].MetricStat.Metric.Dimensions][][]", {"Dimensions", "Metrics"}),
        ("[@, Metrics[].MetricStat.Metric][] | [?Namespace=='x']", {ALL, "Metrics"}),
        ("*.x", {ALL}),
        ("`3`", set()),
        ("Versioning.Status != `null`", {"Versioning"}),
    ],
)
def test_top_level_keys(expression: str, keys: set[str]) -> None:
    assert top_level_keys(expression) == keys


def test_every_place_a_rule_reads_is_attributed_to_its_type() -> None:
    resolved = {
        "select": {"where": {"path": "Tags.env", "equals": "prod"}},
        "expect": {
            "all": [
                {
                    "path": "Attributes.VisibilityTimeout",
                    "ge": {"related": "fn", "path": "data.Timeout"},
                },
                {"related": "alarms", "any_item": {"path": "Threshold", "le": 500}},
                {"path": "Backups", "any_item": {"path": "BackupStatus", "equals": "AVAILABLE"}},
                {"not": {"path": "Policy", "exists": True}},
            ]
        },
        "value": {
            "ratio": {"numerator": {"path": "A.n"}, "denominator": {"max_of": [{"path": "B"}]}}
        },
        "evidence": {
            "who": "Owner.Name",
            "thresholds": {"related": "alarms", "path": "data.AlarmActions"},
            "age": {"days_since": {"path": "CreatedTimestamp"}},
        },
        "metrics": {
            "m": {"sum_of": [{"metric": "X", "dimensions": {"I": "{each:Indexes[].Name}"}}]}
        },
    }
    related = {
        "fn": {
            "type": "aws.lambda.function",
            "referenced_by": "EventSourceMappings[].EventSourceArn",
        },
        "alarms": {
            "type": "aws.cloudwatch.alarm",
            "where": {"path": "ActionsEnabled", "equals": True},
        },
        "dlq": {"type": "aws.sqs.queue", "from": "Attributes.RedrivePolicy.deadLetterTargetArn"},
    }
    reads = rule_reads(resolved, "aws.sqs.queue", related)
    assert reads.keys["aws.sqs.queue"] == {
        "Tags", "Attributes", "Backups", "Policy", "A", "B", "Owner", "CreatedTimestamp", "Indexes",
    }  # fmt: skip
    assert reads.keys["aws.lambda.function"] == {"EventSourceMappings", "Timeout"}
    assert reads.keys["aws.cloudwatch.alarm"] == {"ActionsEnabled", "Threshold", "AlarmActions"}
    # item-relative paths (BackupStatus) are not top-level keys of anything
    assert all("BackupStatus" not in keys for keys in reads.keys.values())
    assert reads.where[("aws.sqs.queue", "Indexes")] == "Indexes[].Name"


def test_the_shipped_pack_reads_no_field_named_null() -> None:
    """`null` unquoted in JMESPath is a field called "null", not the literal: always absent."""
    for rule in load_policy_set([]).compile():
        for resource_type, keys in rule.reads.items():
            assert "null" not in keys, (rule.id, resource_type, rule.read_by)
