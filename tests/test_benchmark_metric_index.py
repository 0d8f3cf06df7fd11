"""The benchmark's indexed GetMetricData (benchmarks/metric_index.py) answers as moto's own.

The collection benchmark measures the pack with the index in place of moto's scan, so its
figures are honest only if every answer is the one moto's own code gives: the same values,
timestamps, labels and ids, for the same request. Every GetMetricData the collection sends
for the shipped pack and for benchmarks/five-rules, against the demo stack copied twice (two
functions, tables and APIs of each kind, so a series must be told from its twin), is recorded
and sent again, once with moto's code and once with the index; the answers must be equal and
the index must have answered them itself (not handed them to moto). Then the forms moto reads
in its own way (a query with dimensions in another namespace, without dimensions, a unit, a
datapoint on a period's or the window's edge, aggregated datapoints, S3's computed series,
data stored after the index was built, expressions it leaves to moto) are compared the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from benchmarks import metric_index
from runbook_guard.cli.pipeline import collection_plan, prepare
from runbook_guard.collectors import Scope, collect
from runbook_guard.demo import insights
from runbook_guard.demo.server import DUMMY_ENV
from runbook_guard.demo.stack import seed_runbook_stack

ROOT = Path(__file__).resolve().parents[1]
#: moto has no Free Tier API, and in-process mock_aws lets that call through: a closed port.
ENV = {**DUMMY_ENV, "AWS_ENDPOINT_URL_FREETIER": "http://127.0.0.1:9"}
#: Variables that would send the calls to a real endpoint or profile.
UNSET_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")
Request = dict[str, Any]


@pytest.fixture(scope="module")
def mocked() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENV.items():
            patch.setenv(name, value)
        for name in UNSET_ENV:
            patch.delenv(name, raising=False)
        insights.install()
        metric_index.uninstall()
        with mock_aws():
            seed_runbook_stack(copies=2)
            yield
        metric_index.uninstall()


def recorded_requests(policies: list[str]) -> list[Request]:
    """Every GetMetricData request a collection of ``policies`` sends, as the collector built it."""
    requests: list[Request] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        requests.append(copy.deepcopy(params))

    def factory(profile: str | None) -> boto3.Session:
        session = boto3.Session(profile_name=profile)
        session.events.register_first("provide-client-params.cloudwatch.GetMetricData", record)
        return session

    plan = collection_plan(prepare(None, [ROOT / p for p in policies] or None, None))
    collect(plan, Scope(max_attempts=1, quiet=True, session_factory=factory))
    return requests


def answer(request: Request, *, indexed: bool) -> Any:
    """The results moto gives for ``request``, with or without the index; or its error code."""
    (metric_index.install if indexed else metric_index.uninstall)()
    try:
        client = boto3.client("cloudwatch", region_name="us-east-1")
        pages = client.get_paginator("get_metric_data").paginate(**request)
        return [{k: v for k, v in page.items() if k != "ResponseMetadata"} for page in pages]
    except ClientError as error:
        return ("error", error.response["Error"]["Code"])
    finally:
        metric_index.uninstall()


def compare(request: Request) -> Any:
    """Assert both implementations give one answer; return it."""
    theirs = answer(request, indexed=False)
    ours = answer(request, indexed=True)
    assert ours == theirs, request
    return ours


@pytest.mark.parametrize("policies", [[], ["benchmarks/five-rules"]], ids=["pack", "five"])
def test_every_request_of_the_collection_is_answered_alike(
    mocked: None, policies: list[str]
) -> None:
    requests = recorded_requests(policies)
    if policies:  # the five rules read no metric: nothing to answer differently
        assert requests == []
        return
    shapes = {
        (q["MetricStat"]["Period"], r["EndTime"] - r["StartTime"])
        for r in requests
        for q in r["MetricDataQueries"]
    }
    # The pack's figures: hourly and daily over a day, five-minute over a week, at least.
    assert len(requests) >= 3
    assert len(shapes) >= 3, shapes
    before = metric_index.ANSWERED.copy()
    answered = [compare(request) for request in requests]
    # The index answered every one itself: moto's code answered only the "without" side.
    assert metric_index.ANSWERED["index"] - before["index"] == len(requests)
    assert metric_index.ANSWERED["moto"] == before["moto"]
    results = [r for pages in answered for page in pages for r in page["MetricDataResults"]]
    asked = sum(len(r["MetricDataQueries"]) for r in requests)
    assert len(results) == asked
    # Not a comparison of empty answers: many series hold datapoints, some in several periods.
    with_values = [r for r in results if r["Values"]]
    assert len(with_values) >= asked // 3, (len(with_values), asked)
    assert any(len(r["Values"]) > 1 for r in with_values)
    assert any(v != 0 for r in with_values for v in r["Values"])


def _query(qid: str, namespace: str, metric: str, dims: dict[str, str], **stat: Any) -> Any:
    query: dict[str, Any] = {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": stat.pop("period", 300),
            "Stat": stat.pop("stat", "Sum"),
        },
    }
    query["MetricStat"].update(stat)
    return query


@pytest.fixture(scope="module")
def edges(mocked: None) -> datetime:
    """Datapoints on the edges moto reads in its own way; the window's start."""
    client = boto3.client("cloudwatch", region_name="us-east-1")
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=3
    )
    at = {"start": start, "edge": start + timedelta(minutes=5), "end": start + timedelta(hours=2)}
    two = [{"Name": "Queue", "Value": "q1"}, {"Name": "Shard", "Value": "s1"}]
    data: list[Any] = [
        {"MetricName": "Depth", "Dimensions": two, "Timestamp": at["start"], "Value": 1.5},
        {"MetricName": "Depth", "Dimensions": two[::-1], "Timestamp": at["edge"], "Value": 2.25},
        {"MetricName": "Depth", "Dimensions": two, "Timestamp": at["end"], "Value": 100.0},
        {"MetricName": "Depth", "Timestamp": at["edge"], "Value": 7.0, "Unit": "Count"},
        {
            "MetricName": "Depth",
            "Dimensions": two[:1],
            "Timestamp": at["edge"] + timedelta(seconds=1),
            "Values": [1.0, 0.1, 0.2],
            "Counts": [2.0, 1.0, 1.0],
            "Unit": "Seconds",
        },
        {
            "MetricName": "Depth",
            "Dimensions": two[:1],
            "Timestamp": at["edge"] + timedelta(minutes=20),
            "StatisticValues": {"SampleCount": 4, "Sum": 10.0, "Minimum": 0.5, "Maximum": 6},
        },
    ]
    client.put_metric_data(Namespace="Bench/A", MetricData=data)
    # The same name and dimensions in another namespace: moto matches them by dimensions.
    client.put_metric_data(Namespace="Bench/B", MetricData=data[:1])
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="metric-index-bucket")
    return start


STATS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")


def edge_queries() -> list[Any]:
    queue, shard = {"Queue": "q1", "Shard": "s1"}, {"Shard": "s1", "Queue": "q1"}
    queries = [
        _query(f"s{n}", "Bench/A", "Depth", queue, stat=stat) for n, stat in enumerate(STATS)
    ]
    queries += [
        _query("reversed", "Bench/A", "Depth", shard),
        _query("other", "Bench/B", "Depth", queue, period=60),
        _query("absent", "Bench/C", "Depth", queue),
        _query("nodims", "Bench/A", "Depth", {}, period=3600),
        _query("unit", "Bench/A", "Depth", {"Queue": "q1"}, Unit="Seconds"),
        _query("one", "Bench/A", "Depth", {"Queue": "q1"}, stat="Average", period=600),
        _query("s3", "AWS/S3", "NumberOfObjects", {}) | {"Label": "objects", "ReturnData": True},
        _query("hidden", "Bench/A", "Depth", queue) | {"ReturnData": False},
    ]
    return queries


@pytest.mark.parametrize("scan_by", ["TimestampAscending", "TimestampDescending"])
@pytest.mark.parametrize("hours", [2, 3])
def test_moto_specific_forms_are_answered_alike(edges: datetime, scan_by: str, hours: int) -> None:
    before = metric_index.ANSWERED.copy()
    request = {
        "MetricDataQueries": edge_queries(),
        "StartTime": edges,
        "EndTime": edges + timedelta(hours=hours),
        "ScanBy": scan_by,
    }
    (page,) = compare(request)
    assert metric_index.ANSWERED["index"] - before["index"] == 1
    values = {r["Id"]: r["Values"] for r in page["MetricDataResults"]}
    assert "hidden" not in values
    # The edges matter: the window's end excludes its datapoint, its start includes one.
    assert (100.0 in values["s0"]) == (hours == 3)
    for qid in ("other", "nodims", "unit", "reversed"):
        assert values[qid], qid


def test_data_stored_after_the_index_is_built_is_answered(edges: datetime) -> None:
    request = {
        "MetricDataQueries": [_query("late", "Bench/Late", "Depth", {"Queue": "late"})],
        "StartTime": edges,
        "EndTime": edges + timedelta(hours=3),
    }
    assert compare(request)[0]["MetricDataResults"][0]["Values"] == []
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(
        Namespace="Bench/Late",
        MetricData=[
            {
                "MetricName": "Depth",
                "Dimensions": [{"Name": "Queue", "Value": "late"}],
                "Timestamp": edges + timedelta(minutes=30),
                "Value": 3.0,
            }
        ],
    )
    assert compare(request)[0]["MetricDataResults"][0]["Values"] == [3.0]


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["MetricDataQueries"].append({"Id": "m", "Expression": "s0 * 2"}),
        lambda r: r.update(EndTime=r["StartTime"]),
        lambda r: r.update(EndTime=r["StartTime"] - timedelta(hours=1)),
    ],
    ids=["expression", "empty-window", "reversed-window"],
)
def test_forms_the_index_does_not_read_go_to_moto(
    edges: datetime, change: Callable[[Request], None]
) -> None:
    request = {
        "MetricDataQueries": edge_queries()[:1],
        "StartTime": edges,
        "EndTime": edges + timedelta(hours=3),
    }
    change(request)
    before = metric_index.ANSWERED.copy()
    compare(request)
    assert metric_index.ANSWERED["index"] == before["index"]
    assert metric_index.ANSWERED["moto"] - before["moto"] == 1


def test_series_moto_computes_at_each_call_are_answered(edges: datetime) -> None:
    """S3's bucket sizes are not stored: moto makes them, stamped today 00:00, at each call."""
    midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    bucket = {"StorageType": "AllStorageTypes", "BucketName": "metric-index-bucket"}
    request = {
        "MetricDataQueries": [
            _query("one", "AWS/S3", "NumberOfObjects", bucket, period=86400),
            _query("all", "AWS/S3", "NumberOfObjects", {}, period=86400, stat="SampleCount"),
        ],
        "StartTime": midnight - timedelta(hours=1),
        "EndTime": midnight + timedelta(hours=1),
    }
    (page,) = compare(request)
    values = {r["Id"]: r["Values"] for r in page["MetricDataResults"]}
    assert values["one"] == [0.0]
    assert len(values["all"]) == 1
    assert values["all"][0] >= 2  # the demo's buckets and this one
