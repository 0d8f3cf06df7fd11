"""Metric queries across the whole plan go out in ceil(n / 500) GetMetricData calls."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from runbook_guard.collectors import metrics
from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Journal
from runbook_guard.engine.plan import MetricPart, MetricQuery

NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def cloudwatch(mocked: None) -> Any:
    client: Any = boto3.client("cloudwatch", region_name="us-east-1")
    client.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": f"fn-{i}"}],
                "Timestamp": NOW - timedelta(minutes=5 + i % 3),
                "Value": float(i),
            }
            for i in range(0, 600, 2)  # even functions have data, odd ones none
        ],
    )
    return client


def resource(i: int) -> dict[str, Any]:
    return {
        "type": "aws.lambda.function",
        "id": f"arn:fn-{i}",
        "name": f"fn-{i}",
        "region": "us-east-1",
        "account": "1",
    }


def test_batches_of_500(cloudwatch: Any) -> None:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    cloudwatch.meta.events.register("before-call", count)
    errors = MetricQuery(
        "errors", "AWS/Lambda", "Errors", "Sum", (("FunctionName", "{name}"),), 3600, 60, "sum"
    )
    peak = MetricQuery(
        "peak", "AWS/Lambda", "Errors", "Maximum", (("FunctionName", "{name}"),), 3600, 60, "max"
    )
    resources = [resource(i) for i in range(600)]
    wanted = [(r, q) for r in resources for q in (errors, peak)]  # 1200 queries
    call = Call(metrics.API, cloudwatch, Journal(), "1", "us-east-1", "", None, NOW)
    metrics.fetch(call, 3600, wanted)
    assert calls["GetMetricData"] == 3  # ceil(1200 / 500)
    assert call.journal.errors == []
    assert resources[10]["metrics"] == {"errors": 10.0, "peak": 10.0}
    assert resources[11]["metrics"] == {"errors": None, "peak": None}
    assert resources[0]["metrics"] == {"errors": 0.0, "peak": 0.0}  # zero is data, not "none"


@pytest.mark.parametrize(
    ("reduce", "expected"), [("sum", 6.0), ("max", 3.0), ("min", 1.0), ("avg", 2.0)]
)
def test_fold(reduce: str, expected: float) -> None:
    assert metrics.fold([1.0, 2.0, 3.0], reduce) == expected
    assert metrics.fold([], reduce) is None


def test_unknown_reduce_is_refused() -> None:
    with pytest.raises(ValueError, match="median"):
        metrics.fold([1.0], "median")


def test_query_shape_is_metric_stat_only(cloudwatch: Any) -> None:
    seen: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        seen.extend(params["MetricDataQueries"])

    cloudwatch.meta.events.register("provide-client-params.cloudwatch.GetMetricData", capture)
    query = MetricQuery(
        "n",
        "AWS/SQS",
        "NumberOfMessagesSent",
        "Sum",
        (("QueueName", "{name}"), ("Acct", "{account}")),
        600,
        300,
        "sum",
    )
    call = Call(metrics.API, cloudwatch, Journal(), "1", "us-east-1", "", None, NOW)
    metrics.fetch(call, 600, [(resource(1), query)])
    [sent] = seen
    assert "Expression" not in sent
    assert sent["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "QueueName", "Value": "fn-1"},
        {"Name": "Acct", "Value": "1"},
    ]


def test_a_series_two_figures_share_is_asked_for_once(cloudwatch: Any) -> None:
    """A function's Errors alone and as the numerator of a ratio over the same period and
    window: one query answers both, so 600 functions are 1,200 queries (Errors and
    Invocations), not 1,800, in three calls instead of four."""
    sent: list[int] = []

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetMetricData":
            sent.append(len(params["MetricDataQueries"]))

    cloudwatch.meta.events.register("before-parameter-build", count)
    by_name = (("FunctionName", "{name}"),)
    errors = MetricQuery("errors", "AWS/Lambda", "Errors", "Sum", by_name, 3600, 60, "sum")
    invocations = MetricPart("Invocations", (("FunctionName", ("{name}",)),))
    rate = MetricQuery(
        "rate", "AWS/Lambda", "Errors", "Sum", by_name, 3600, 60, "sum", denominator=(invocations,)
    )
    resources = [resource(i) for i in range(600)]
    wanted = [(r, q) for r in resources for q in (errors, rate)]
    call = Call(metrics.API, cloudwatch, Journal(), "1", "us-east-1", "", None, NOW)
    metrics.fetch(call, 3600, wanted)
    cloudwatch.meta.events.unregister("before-parameter-build", count)
    assert sent == [500, 500, 200]
    assert call.journal.errors == []
    assert resources[10]["metrics"]["errors"] == 10.0
    assert "rate" in resources[10]["metrics"]  # no Invocations seeded: no period qualifies
    assert resources[10]["metrics"]["rate"] is None
