"""Two collected regions on moto: global dashboards once, each trail once, S3 metrics where the
bucket is.

Dashboards are global ("All dashboards in your account are global, not region-specific",
botocore model, cloudwatch PutDashboard); moto keeps them per region, so the demo's dashboard
(put in us-east-1) is what a once-per-account listing from the global region finds. A
multi-region trail is answered by DescribeTrails in every region (moto does this too). S3
publishes a bucket's metrics in the bucket's region (CloudWatch is regional; moto's metric
store is per region as well, which is what lets this test tell the regions apart).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from runbook_guard.collectors import Scope, collect
from runbook_guard.collectors.registry import load_all
from runbook_guard.collectors.runner import metric_region
from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.plan import CollectionPlan, MetricQuery
from tests.collectors.conftest import hooked_session
from tests.collectors.test_faults import denied

REGIONS = ["us-east-1", "eu-west-1"]
EU_BUCKET = "agenticai-eu-exports"
SIZE = MetricQuery(
    "size",
    "AWS/S3",
    "BucketSizeBytes",
    "Average",
    (("BucketName", "{name}"), ("StorageType", "StandardStorage")),
    86400,
    86400,
    "max",
)
Calls = Counter[tuple[str, str]]


def _everything(resource: Any) -> bool:
    return True


def plan() -> CollectionPlan:
    result = CollectionPlan()
    result.request("aws.cloudwatch.dashboard")
    result.request("aws.cloudtrail.trail")
    result.request("aws.s3.bucket").metrics.append((SIZE, _everything))
    return result


@pytest.fixture(scope="module")
def world(seeded: Seeded) -> Seeded:
    """A bucket in eu-west-1 whose size is published there, and a decoy figure in us-east-1."""
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=EU_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    when = datetime.now(timezone.utc) - timedelta(hours=1)
    for region, value in (("eu-west-1", 1234.0), ("us-east-1", 999.0)):
        boto3.client("cloudwatch", region_name=region).put_metric_data(
            Namespace="AWS/S3",
            MetricData=[
                {
                    "MetricName": "BucketSizeBytes",
                    "Dimensions": [
                        {"Name": "BucketName", "Value": EU_BUCKET},
                        {"Name": "StorageType", "Value": "StandardStorage"},
                    ],
                    "Value": value,
                    "Timestamp": when,
                }
            ],
        )
    return seeded


@pytest.fixture(scope="module")
def observed(world: Seeded) -> tuple[dict[str, Any], Calls]:
    calls: Calls = Counter()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        host = str(params.get("url", "")).split("/")[2]
        calls[(model.name, host)] += 1

    scope = Scope(
        regions=REGIONS,
        max_attempts=1,
        quiet=True,
        session_factory=hooked_session(("before-call", count)),
    )
    return collect(plan(), scope), calls


def of_type(snapshot: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in snapshot["resources"] if r["type"] == resource_type]


def called(calls: Calls, operation: str) -> Counter[str]:
    return Counter({host: n for (op, host), n in calls.items() if op == operation})


def test_dashboards_are_collected_once_per_account(observed: tuple[dict[str, Any], Calls]) -> None:
    snapshot, calls = observed
    dashboards = of_type(snapshot, "aws.cloudwatch.dashboard")
    assert [(d["name"], d["region"]) for d in dashboards] == [("agenticai-dashboard", "global")]
    assert called(calls, "ListDashboards") == {"monitoring.us-east-1.amazonaws.com": 1}
    assert sum(called(calls, "GetDashboard").values()) == 1
    coverage = [c for c in snapshot["coverage"] if c["type"] == "aws.cloudwatch.dashboard"]
    assert [(c["region"], c["complete"]) for c in coverage] == [("global", True)]


def test_a_multi_region_trail_is_one_resource_with_one_status_call(
    observed: tuple[dict[str, Any], Calls],
) -> None:
    snapshot, calls = observed
    [trail] = of_type(snapshot, "aws.cloudtrail.trail")
    assert (trail["name"], trail["region"]) == ("agenticai-trail", "us-east-1")
    assert trail["data"]["Status"]["IsLogging"] is True
    # Listed in both regions (shadow trails included), its status asked once, at home.
    assert sum(called(calls, "DescribeTrails").values()) == 2
    assert called(calls, "GetTrailStatus") == {"cloudtrail.us-east-1.amazonaws.com": 1}


def test_a_buckets_metrics_are_asked_for_in_its_region(
    observed: tuple[dict[str, Any], Calls],
) -> None:
    snapshot, calls = observed
    buckets = {b["name"]: b for b in of_type(snapshot, "aws.s3.bucket")}
    eu = buckets[EU_BUCKET]
    assert (eu["region"], eu["data"]["BucketRegion"]) == ("global", "eu-west-1")
    assert eu["data"]["LocationConstraint"] == "eu-west-1"  # moto sends no BucketRegion
    assert eu["metrics"] == {"size": 1234.0}  # eu-west-1's figure, not us-east-1's decoy
    home = buckets["agenticai-generated-code"]["data"]
    assert (home["LocationConstraint"], home["BucketRegion"]) == (None, "us-east-1")
    assert set(called(calls, "GetMetricData")) == {
        "monitoring.eu-west-1.amazonaws.com",
        "monitoring.us-east-1.amazonaws.com",
    }
    assert [e for e in snapshot["errors"] if e["operation"] == "GetMetricData"] == []


def test_metric_regions() -> None:
    load_all()

    def resource(kind: str, region: str, **data: Any) -> dict[str, Any]:
        return {"type": kind, "region": region, "data": data}

    assert metric_region(resource("aws.sqs.queue", "eu-west-1"), "us-east-1") == "eu-west-1"
    bucket = resource("aws.s3.bucket", "global", BucketRegion="ap-south-1")
    assert metric_region(bucket, "us-east-1") == "ap-south-1"
    assert metric_region(resource("aws.s3.bucket", "global"), "us-east-1") is None
    # Another global type, without a region of its own: the partition's global region.
    assert metric_region(resource("aws.budgets.budget", "global"), "cn-north-1") == "cn-north-1"


def test_a_bucket_of_unknown_region_gets_an_error_not_a_query_elsewhere(
    world: Seeded,
) -> None:
    denied_location = ("before-call.s3.GetBucketLocation", denied("AccessDenied", 403))
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    scope = Scope(
        max_attempts=1,
        quiet=True,
        session_factory=hooked_session(denied_location, ("before-call", count)),
    )
    only = CollectionPlan()
    only.request("aws.s3.bucket").metrics.append((SIZE, _everything))
    snapshot = collect(only, scope)
    assert calls["GetMetricData"] == 0
    unplaced = [e for e in snapshot["errors"] if e["code"] == "RegionUnknown"]
    buckets = of_type(snapshot, "aws.s3.bucket")
    assert sorted(e["resource"] for e in unplaced) == sorted(b["id"] for b in buckets)
    assert {tuple(e["data_keys"]) for e in unplaced} == {("metrics.size",)}
    assert all("metrics" not in b for b in buckets)
