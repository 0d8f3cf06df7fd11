"""Figures made of several series: parts summed per period, per-period ratios, account-wide.

Against moto, which buckets datapoints by the requested Period from StartTime (so a "worst
period" can be tested) but, unlike AWS, adds every series whose dimensions are a superset of
the query's: only exact series are seeded here, each metric name once per dimension set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from runbook_guard.collectors import metrics
from runbook_guard.collectors.awslambda import ACCOUNT
from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Journal
from runbook_guard.engine.plan import CollectionPlan, MetricPart, MetricQuery
from tests.collectors.test_faults import Body

#: The calls' "now": a whole hour, so 5-minute and 1-hour periods start on known minutes.
HOUR = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
TABLE = "orders"
FUNCTION = "checkout"
SHARDS = tuple(f"s{i:03d}" for i in range(600))
INDEXES = [{"IndexName": "by-user"}, {"IndexName": "by-date"}]
EACH_GSI = "{each:GlobalSecondaryIndexes[].IndexName}"
SETTINGS = {
    "AccountLimit": {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 10,
        "UnreservedConcurrentExecutions": 10,
    },
    "AccountUsage": {"TotalCodeSize": 1024, "FunctionCount": 5},
}


def point(name: str, dims: dict[str, str], at: datetime, value: float) -> dict[str, Any]:
    dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
    return {"MetricName": name, "Dimensions": dimensions, "Timestamp": at, "Value": value}


def throttles() -> list[dict[str, Any]]:
    """Two operations of one table: 3 + 4 in one 5-minute period, 5 alone in another."""
    start = HOUR - timedelta(hours=1)
    by_op = [("PutItem", 11, 3.0), ("UpdateItem", 12, 4.0), ("PutItem", 26, 5.0)]
    by_op.append(("UpdateItem", 41, 2.0))
    return [
        point(
            "ThrottledRequests",
            {"TableName": TABLE, "Operation": op},
            start + timedelta(minutes=m),
            v,
        )
        for op, m, v in by_op
    ]


def hourly_calls() -> list[dict[str, Any]]:
    """23 hours of 100 calls; hour 22 an outage (40 errors); hour 23 one call, one error."""
    start = HOUR - timedelta(hours=24)
    points = []
    for hour in range(24):
        at = start + timedelta(hours=hour, minutes=30)
        calls = 1.0 if hour == 23 else 100.0
        points.append(point("Invocations", {"FunctionName": FUNCTION}, at, calls))
        errors = {0: 0.0, 22: 40.0, 23: 1.0}.get(hour)
        if errors is not None:  # most quiet hours publish no Errors datapoint at all
            points.append(point("Errors", {"FunctionName": FUNCTION}, at, errors))
    return points


@pytest.fixture(scope="module")
def cloudwatch(mocked: None) -> Any:
    client: Any = boto3.client("cloudwatch", region_name="us-east-1")
    client.put_metric_data(Namespace="AWS/DynamoDB", MetricData=throttles())
    client.put_metric_data(Namespace="AWS/Lambda", MetricData=hourly_calls())
    at = HOUR - timedelta(minutes=20)
    fanout = [point("Fanout", {"Shard": s}, at, v) for s, v in (("s000", 2.0), ("s599", 3.0))]
    client.put_metric_data(Namespace="Custom/Fanout", MetricData=fanout)
    gsi = [
        point("WriteThrottleEvents", {"TableName": TABLE, "GlobalSecondaryIndexName": i}, at, v)
        for i, v in (("by-user", 2.0), ("by-date", 3.0))
    ]
    client.put_metric_data(Namespace="AWS/DynamoDB", MetricData=gsi)
    now = datetime.now(timezone.utc)
    concurrency = [
        point("ConcurrentExecutions", {}, now - timedelta(minutes=m), v)
        for m, v in ((5, 4.0), (10, 9.0), (15, 2.0))
    ]
    client.put_metric_data(Namespace="AWS/Lambda", MetricData=concurrency)
    return client


def resource(name: str, rtype: str = "aws.dynamodb.table", **data: Any) -> dict[str, Any]:
    return {
        "type": rtype,
        "id": f"arn:{name}",
        "name": name,
        "region": "us-east-1",
        "account": "123456789012",
        "data": data,
    }


def fetch(client: Any, window: int, wanted: list[metrics.Wanted]) -> Call:
    call = Call(metrics.API, client, Journal(), "123456789012", "us-east-1", "", None, HOUR)
    metrics.fetch(call, window, wanted)
    return call


def throttle_query(reduce: str) -> MetricQuery:
    operations = MetricPart(
        "ThrottledRequests",
        (("TableName", ("{name}",)), ("Operation", ("PutItem", "UpdateItem", "GetItem"))),
    )
    return MetricQuery(
        f"throttled_{reduce}",
        "AWS/DynamoDB",
        "ThrottledRequests",
        "Sum",
        (),
        3600,
        300,
        reduce,
        parts=(operations,),
    )


def test_operations_are_summed_per_period_before_the_worst_is_taken(cloudwatch: Any) -> None:
    """Worst 5 minutes = 3 + 4 = 7: the operations of one period add up (no operation's
    own worst is 7), and GetItem, which has no datapoints, adds nothing."""
    table = resource(TABLE)
    call = fetch(cloudwatch, 3600, [(table, throttle_query("max")), (table, throttle_query("sum"))])
    assert call.journal.errors == []
    assert table["metrics"] == {"throttled_max": 7.0, "throttled_sum": 14.0}


def error_rate(min_denominator: float, reduce: str = "max") -> MetricQuery:
    return MetricQuery(
        f"error_rate_{min_denominator:g}_{reduce}",
        "AWS/Lambda",
        "Errors",
        "Sum",
        (("FunctionName", "{name}"),),
        86400,
        3600,
        reduce,
        denominator=(MetricPart("Invocations", (("FunctionName", ("{name}",)),)),),
        min_denominator=min_denominator,
    )


def test_an_outage_hour_is_not_diluted_and_a_quiet_hour_is_not_an_outage(
    cloudwatch: Any,
) -> None:
    function = resource(FUNCTION, "aws.lambda.function")
    queries = [error_rate(10), error_rate(10, "avg"), error_rate(0)]
    call = fetch(cloudwatch, 86400, [(function, q) for q in queries])
    assert call.journal.errors == []
    figures = function["metrics"]
    assert figures["error_rate_10_max"] == pytest.approx(0.4)  # the outage hour, 40 / 100
    # 23 hours reach 10 calls; those without an Errors datapoint count as 0 errors.
    assert figures["error_rate_10_avg"] == pytest.approx(0.4 / 23)
    # Without the floor, one failed call out of one would be the worst hour: 100 %.
    assert figures["error_rate_0_max"] == pytest.approx(1.0)
    assert 41 / 2301 < 0.02  # what total/total over the day would have said


def test_600_series_of_one_figure_go_out_in_two_calls(cloudwatch: Any) -> None:
    calls: Counter[str] = Counter()
    sizes: list[int] = []

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls[model.name] += 1
        sizes.append(len(params["MetricDataQueries"]))

    cloudwatch.meta.events.register("provide-client-params.cloudwatch.GetMetricData", count)
    try:
        shards = MetricPart("Fanout", (("Shard", SHARDS),))
        query = MetricQuery(
            "fanout", "Custom/Fanout", "Fanout", "Sum", (), 3600, 300, "max", parts=(shards,)
        )
        stream = resource("stream", "aws.kinesis.stream")
        call = fetch(cloudwatch, 3600, [(stream, query)])
    finally:
        cloudwatch.meta.events.unregister("provide-client-params.cloudwatch.GetMetricData", count)
    assert calls["GetMetricData"] == 2
    assert sizes == [500, 100]
    assert call.journal.errors == []
    assert stream["metrics"] == {"fanout": 5.0}  # s000 (first call) + s599 (second call)


def test_each_expands_from_the_resource_data_with_or_without_parts(
    cloudwatch: Any,
) -> None:
    per_index = MetricPart(
        "WriteThrottleEvents",
        (
            ("TableName", ("{name}",)),
            ("GlobalSecondaryIndexName", (EACH_GSI,)),
        ),
    )
    query = MetricQuery(
        "gsi", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", (), 3600, 300, "max", (per_index,)
    )
    # The same series written as a query without parts: one dimension value, but {each:...}.
    plain_dims = (("TableName", "{name}"), ("GlobalSecondaryIndexName", EACH_GSI))
    simple = MetricQuery(
        "gsi_simple", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", plain_dims, 3600, 300, "max"
    )
    with_indexes = resource(TABLE, GlobalSecondaryIndexes=INDEXES)
    without = resource("plain")
    wanted = [(r, q) for r in (with_indexes, without) for q in (query, simple)]
    call = fetch(cloudwatch, 3600, wanted)
    assert call.journal.errors == []
    assert with_indexes["metrics"] == {"gsi": 5.0, "gsi_simple": 5.0}
    # No series to ask for: no data, never 0.
    assert without["metrics"] == {"gsi": None, "gsi_simple": None}


def test_account_wide_concurrency_through_a_whole_collection(
    cloudwatch: Any, run: Callable[..., dict[str, Any]], hooked: Callable[..., Any]
) -> None:
    """``aws.lambda.account`` carries the metrics published without dimensions.

    moto has no GetAccountSettings (404 "Not yet implemented"): the answer is given by a
    ``before-call`` hook with the API's documented fields.
    """

    def settings(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://x", 200, HTTPHeaders(), Body(b"")), SETTINGS

    plan = CollectionPlan()
    query = MetricQuery(
        "concurrency", "AWS/Lambda", "ConcurrentExecutions", "Maximum", (), 3600, 60, "max"
    )
    plan.request(ACCOUNT).metrics.append((query, lambda r: True))
    factory = hooked(("before-call.lambda.GetAccountSettings", settings))
    snapshot = run(plan, session_factory=factory)
    assert snapshot["errors"] == []
    [account] = snapshot["resources"]
    assert account["id"] == "arn:aws:lambda:us-east-1:123456789012:account-settings"
    assert (account["type"], account["name"]) == (ACCOUNT, "123456789012")
    assert account["data"] == SETTINGS
    assert account["metrics"] == {"concurrency": 9.0}
