"""The per-period arithmetic on plain numbers, and multi-series figures that cannot be decided.

The failure cases answer through botocore's Stubber, which checks each answer against the
CloudWatch model, because moto always answers ``Complete``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from runbook_guard.collectors import metrics
from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Journal, Problem
from runbook_guard.collectors.periods import figure, per_period
from runbook_guard.engine.plan import MetricPart, MetricQuery

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
T = [NOW - timedelta(hours=h) for h in range(4, 0, -1)]  # four period starts, oldest first
BY_NAME = (("FunctionName", ("{name}",)),)


def ratio(min_denominator: float, reduce: str = "max") -> MetricQuery:
    return MetricQuery(
        "rate",
        "AWS/Lambda",
        "Errors",
        "Sum",
        (("FunctionName", "{name}"),),
        14400,
        3600,
        reduce,
        denominator=(MetricPart("Invocations", BY_NAME),),
        min_denominator=min_denominator,
    )


def test_series_are_summed_per_period_and_absent_periods_stay_absent() -> None:
    sums = per_period([([T[0], T[2]], [1.0, 2.0]), ([T[2], T[3]], [3.0, 4.0])])
    assert sums == {T[0]: 1.0, T[2]: 5.0, T[3]: 4.0}  # T[1]: no series had it, not 0


def test_values_and_timestamps_of_unequal_length_are_refused() -> None:
    with pytest.raises(Problem, match="2 values for 1 timestamps"):
        per_period([([T[0]], [1.0, 2.0])])


def test_the_floor_is_reached_at_equality_and_a_zero_denominator_never_counts() -> None:
    denominator = [(T, [10.0, 9.0, 0.0, 20.0])]
    numerator = [([T[0], T[1], T[2]], [5.0, 9.0, 3.0])]  # none at T[3]: 0 errors of 20
    assert figure(ratio(10), numerator, denominator) == 0.5  # T[0]; T[1] is under the floor
    assert figure(ratio(10, "min"), numerator, denominator) == 0.0  # T[3] counts as 0 / 20
    assert figure(ratio(0), numerator, denominator) == 1.0  # T[1] 9/9; T[2] 3/0 never
    assert figure(ratio(100), numerator, denominator) is None  # no period qualifies: no data


def test_no_series_at_all_is_no_data() -> None:
    query = MetricQuery("n", "AWS/X", "M", "Sum", (), 3600, 300, "sum", (MetricPart("M", ()),))
    assert figure(query, [], []) is None


@pytest.fixture
def cloudwatch() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def function(name: str) -> dict[str, Any]:
    return {
        "type": "aws.lambda.function",
        "id": f"arn:{name}",
        "name": name,
        "region": "us-east-1",
        "account": "1",
    }


def test_one_unfinished_series_makes_the_whole_ratio_an_error(
    cloudwatch: tuple[Any, Stubber],
) -> None:
    """AWS marks a series it could not return whole ``PartialData``, ``InternalError`` or
    ``Forbidden`` (botocore model, CloudWatch ``MetricDataResult.StatusCode``); a ratio
    computed from the numerator alone would be wrong, so the figure is an error instead."""
    client, stub = cloudwatch
    results = [
        {"Id": "q0", "StatusCode": "Complete", "Timestamps": [T[0]], "Values": [4.0]},
        {"Id": "q1", "StatusCode": "Forbidden", "Timestamps": [], "Values": []},
        {"Id": "q2", "StatusCode": "Complete", "Timestamps": [T[0]], "Values": [1.0]},
        {"Id": "q3", "StatusCode": "Complete", "Timestamps": [T[0]], "Values": [10.0]},
    ]
    params = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY}
    stub.add_response("get_metric_data", {"MetricDataResults": results}, params)
    call = Call(metrics.API, client, Journal(), "1", "us-east-1", "", None, NOW)
    broken, fine = function("a"), function("b")
    metrics.fetch(call, 14400, [(broken, ratio(1)), (fine, ratio(1))])
    assert "metrics" not in broken
    assert fine["metrics"] == {"rate": 0.1}
    [error] = call.journal.errors
    assert (error["code"], error["resource"]) == ("MetricStatusForbidden", "arn:a")
    assert error["data_keys"] == ["metrics.rate"]
    assert "AWS/Lambda/Invocations" in error["message"]


def test_a_failed_call_errors_every_figure_with_a_series_in_it(
    cloudwatch: tuple[Any, Stubber],
) -> None:
    """The second of two calls is throttled out (``ThrottlingException``, CloudWatch API
    Reference, GetMetricData errors): the figure straddling both calls and the one wholly in
    the second are errors; the one wholly in the first call is kept."""
    client, stub = cloudwatch
    one = {"StatusCode": "Complete", "Timestamps": [T[0]], "Values": [1.0]}
    results = [{**one, "Id": f"q{n}"} for n in range(500)]
    params = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY}
    stub.add_response("get_metric_data", {"MetricDataResults": results}, params)
    stub.add_client_error("get_metric_data", "ThrottlingException", "Rate exceeded", 400)
    names = tuple(f"{{name}}-{i}" for i in range(300))  # each figure's own 300 series
    wide = MetricQuery(
        "wide",
        "AWS/Lambda",
        "Errors",
        "Sum",
        (),
        3600,
        300,
        "sum",
        parts=(MetricPart("Errors", (("FunctionName", names),)),),
    )
    kept, straddling, lost = function("kept"), function("straddling"), function("lost")
    call = Call(metrics.API, client, Journal(), "1", "us-east-1", "", None, NOW)
    metrics.fetch(call, 3600, [(kept, wide), (straddling, wide), (lost, wide)])  # 900 series
    assert kept["metrics"] == {"wide": 300.0}  # 300 series at 1.0, summed in one period
    assert "metrics" not in straddling
    assert "metrics" not in lost
    [error] = call.journal.errors
    assert error["code"] == "ThrottlingException"
    assert error["data_keys"] == ["metrics.wide"]
    assert error["resource_type"] == "aws.lambda.function"
