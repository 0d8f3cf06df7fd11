"""Where moto has no implementation, botocore's Stubber on the real client stands in.

Stubber checks every request and response against the service model, so these tests still
prove the collectors send valid parameters and read the documented response shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from runbook_guard.collectors import cloudtrail, cloudwatch, dynamodb, metrics
from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Journal
from runbook_guard.engine.plan import CollectionPlan, MetricQuery

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/agenticai-data"


@pytest.fixture
def client_for() -> Iterator[Any]:
    stubbers: list[Stubber] = []

    def make(service: str) -> tuple[Any, Stubber]:
        client = boto3.client(
            service,  # type: ignore[call-overload]
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        return client, stubber

    yield make
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def bind(api: Any, client: Any, resource_type: str, **options: list[Any]) -> Call:
    return Call(api, client, Journal(), "123456789012", "us-east-1", resource_type, options, NOW)


def test_contributor_insights(client_for: Any) -> None:
    client, stub = client_for("dynamodb")
    name = {"TableName": "agenticai-data"}
    stub.add_response("list_tables", {"TableNames": ["agenticai-data"]}, {})
    table = {"TableName": "agenticai-data", "TableArn": TABLE_ARN, "TableStatus": "ACTIVE"}
    stub.add_response("describe_table", {"Table": table}, name)
    backups = {"ContinuousBackupsStatus": "ENABLED"}
    stub.add_response(
        "describe_continuous_backups", {"ContinuousBackupsDescription": backups}, name
    )
    stub.add_response("describe_time_to_live", {"TimeToLiveDescription": {}}, name)
    insights = {"TableName": "agenticai-data", "ContributorInsightsStatus": "ENABLED"}
    stub.add_response("describe_contributor_insights", insights, name)
    stub.add_response(
        "list_backups",
        {"BackupSummaries": []},
        {"TableName": "agenticai-data", "TimeRangeLowerBound": NOW - timedelta(days=14)},
    )
    stub.add_response("list_exports", {"ExportSummaries": []}, {"TableArn": TABLE_ARN})
    call = bind(dynamodb.API, client, dynamodb.TABLE, backup_days=[7, 14])
    [resource] = dynamodb.collect_tables(
        call, {dynamodb.TABLE: CollectionPlan().request(dynamodb.TABLE)}
    )
    assert resource["data"]["ContributorInsights"] == insights
    assert call.journal.errors == []


def test_lookup_events_pages_and_drops_the_raw_event(client_for: Any) -> None:
    client, stub = client_for("cloudtrail")
    event = {
        "EventId": "e-1",
        "EventName": "DeleteTable",
        "EventTime": NOW - timedelta(days=1),
        "EventSource": "dynamodb.amazonaws.com",
        "Username": "alice",
        "Resources": [{"ResourceType": "AWS::DynamoDB::Table", "ResourceName": "old"}],
        "CloudTrailEvent": '{"requestParameters": {"secret": "hunter2"}}',
    }
    expected = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "DeleteTable"}],
        "StartTime": NOW - timedelta(hours=48),
        "EndTime": NOW,
    }
    stub.add_response("lookup_events", {"Events": [event], "NextToken": "t1"}, expected)
    second = {**event, "EventId": "e-2"}
    stub.add_response("lookup_events", {"Events": [second]}, {**expected, "NextToken": "t1"})
    call = bind(
        cloudtrail.EVENTS_API,
        client,
        cloudtrail.EVENT,
        event_names=["DeleteTable"],
        window_hours=[24, 48],
    )
    resources = cloudtrail.collect_events(call, {})
    assert [r["id"] for r in resources] == [
        "arn:aws:cloudtrail:us-east-1:123456789012:event/e-1",
        "arn:aws:cloudtrail:us-east-1:123456789012:event/e-2",
    ]
    assert "CloudTrailEvent" not in resources[0]["data"]
    assert "hunter2" not in repr(resources)
    assert resources[0]["data"]["Username"] == "alice"


@pytest.mark.parametrize("windows", [[168, 24], [24, 168], [24.0, 168], ["168", "24"]])
def test_the_widest_window_is_the_numeric_max(client_for: Any, windows: list[Any]) -> None:
    """Two rules asking 24 h and 168 h: one lookup over 168 h (never "24" > "168" as text)."""
    client, stub = client_for("cloudtrail")
    expected = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "DeleteTable"}],
        "StartTime": NOW - timedelta(hours=168),
        "EndTime": NOW,
    }
    stub.add_response("lookup_events", {"Events": []}, expected)
    call = bind(
        cloudtrail.EVENTS_API,
        client,
        cloudtrail.EVENT,
        event_names=["DeleteTable"],
        window_hours=windows,
    )
    assert cloudtrail.collect_events(call, {}) == []
    assert call.journal.errors == []


def test_option_takes_the_numeric_max_and_lists_stay_unions() -> None:
    call = bind(dynamodb.API, None, dynamodb.TABLE, days=[30, 7, 100], names=["b", "c", "a"])
    assert call.option("days", 1) == 100
    assert call.option("absent", 5) == 5
    assert call.option_list("names") == ["b", "c", "a"]
    assert call.option("names", None) == "c"  # not numbers: the greatest in text order


def test_a_metric_that_does_not_complete_is_an_error(client_for: Any) -> None:
    client, stub = client_for("cloudwatch")
    results = [
        {"Id": "q0", "StatusCode": "Complete", "Values": [1.0, 2.0], "Timestamps": [NOW, NOW]},
        {"Id": "q1", "StatusCode": "Forbidden", "Values": [], "Timestamps": []},
        {"Id": "q2", "StatusCode": "Complete", "Values": [], "Timestamps": []},
    ]
    stub.add_response(
        "get_metric_data",
        {"MetricDataResults": results},
        {
            "MetricDataQueries": ANY,
            "StartTime": ANY,
            "EndTime": ANY,
        },
    )
    query = MetricQuery(
        "errors", "AWS/Lambda", "Errors", "Sum", (("FunctionName", "{name}"),), 3600, 60, "sum"
    )
    resources: list[dict[str, Any]] = [
        {
            "type": "aws.lambda.function",
            "id": f"arn:{n}",
            "name": n,
            "region": "us-east-1",
            "account": "1",
        }
        for n in ("a", "b", "c")
    ]
    call = bind(metrics.API, client, "")
    metrics.fetch(call, 3600, [(r, query) for r in resources])
    assert resources[0]["metrics"] == {"errors": 3.0}
    assert "metrics" not in resources[1]
    assert resources[2]["metrics"] == {"errors": None}
    [error] = call.journal.errors
    assert error["code"] == "MetricStatusForbidden"
    assert error["data_keys"] == ["metrics.errors"]
    assert error["resource"] == "arn:b"


def test_a_log_alarm_in_alarm_is_seen(client_for: Any) -> None:
    """DescribeAlarms returns only metric alarms unless ``AlarmTypes`` names the others, and log
    alarms come back under their own key ``LogAlarms`` (botocore model, CloudWatch
    ``DescribeAlarms``: "If you omit this parameter, only metric alarms are returned, even if
    composite alarms or log alarms exist"). moto never returns ``LogAlarms``."""
    client, stub = client_for("cloudwatch")
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:agenticai-error-lines"
    log_alarm = {
        "AlarmName": "agenticai-error-lines",
        "AlarmArn": arn,
        "StateValue": "ALARM",
        "StateReason": "3 of 3 query results breached the threshold",
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "StateUpdatedTimestamp": NOW - timedelta(minutes=5),
    }
    metric_alarm = {"AlarmName": "depth", "AlarmArn": arn[:-11] + "depth", "StateValue": "OK"}
    answer = {"MetricAlarms": [metric_alarm], "CompositeAlarms": [], "LogAlarms": [log_alarm]}
    kinds = ["MetricAlarm", "CompositeAlarm", "LogAlarm"]
    stub.add_response("describe_alarms", answer, {"AlarmTypes": kinds})
    call = bind(cloudwatch.ALARMS_API, client, cloudwatch.ALARM)
    alarms = {r["name"]: r for r in cloudwatch.collect_alarms(call, {})}
    assert call.journal.errors == []
    seen = alarms["agenticai-error-lines"]
    assert (seen["id"], seen["data"]["AlarmType"]) == (arn, "LogAlarm")
    assert seen["data"]["StateValue"] == "ALARM"
    assert seen["data"]["StateUpdatedTimestamp"] == "2026-11-27T11:55:00+00:00"
    assert alarms["depth"]["data"]["AlarmType"] == "MetricAlarm"
