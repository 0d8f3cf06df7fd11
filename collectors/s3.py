"""S3 buckets: region, versioning, lifecycle, replication and default encryption.

AWS reports an unset lifecycle, replication or encryption configuration as an error; those
codes are values here (``null``), because "not configured" is exactly what the rules check.

Buckets are listed in pages (``MaxBuckets``): S3 rejects an unpaginated ListBuckets for
accounts whose bucket quota is over 10,000, and a paginated one answers each bucket's
``BucketRegion``, which saves a GetBucketLocation call per bucket. Where an answer lacks it
(moto does), GetBucketLocation's ``LocationConstraint`` gives the region. The bucket's region is
where its CloudWatch metrics are published, so it is the type's metric region.

ListBuckets is the listing; every per-bucket Get* is a detail, made only for a bucket some rule
selects and only when some rule reads the key it fills (GetBucketLocation also when the type
has metrics, which are asked for in the bucket's region). ListBuckets filters by ``Prefix`` on
the server, so the rules' fixed name prefixes are pushed into it when they have some.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call, unique_by
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

BUCKET = "aws.s3.bucket"
API = OperationSet(
    "s3.buckets",
    "s3",
    (
        "ListBuckets",
        "GetBucketLocation",
        "GetBucketVersioning",
        "GetBucketLifecycleConfiguration",
        "GetBucketReplication",
        "GetBucketEncryption",
    ),
    iam_actions={
        "ListBuckets": "s3:ListAllMyBuckets",
        "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
        "GetBucketReplication": "s3:GetReplicationConfiguration",
        "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    },
    # The listing stores three of its item's members (not BucketArn, not Owner).
    fills={
        "ListBuckets": {BUCKET: ("Name", "CreationDate", "BucketRegion")},
        "GetBucketLocation": {BUCKET: ("LocationConstraint", "BucketRegion")},
        "GetBucketVersioning": {BUCKET: ("Versioning",)},
        "GetBucketLifecycleConfiguration": {BUCKET: ("LifecycleConfiguration",)},
        "GetBucketReplication": {BUCKET: ("ReplicationConfiguration",)},
        "GetBucketEncryption": {BUCKET: ("ServerSideEncryptionConfiguration",)},
    },
    answers={
        "ListBuckets": ("Buckets",),
        "GetBucketLocation": ("LocationConstraint",),
        "GetBucketVersioning": ("Status", "MFADelete"),
        "GetBucketLifecycleConfiguration": ("Rules",),
        "GetBucketReplication": ("ReplicationConfiguration",),
        "GetBucketEncryption": ("ServerSideEncryptionConfiguration",),
    },
    listings=("ListBuckets",),
)

#: Buckets per ListBuckets page: the largest S3 accepts ("MaxBuckets ... 1 to 10000", S3 API
#: Reference, ListBuckets), so most accounts take one call.
MAX_BUCKETS = 10000
#: GetBucketLocation's legacy answer for eu-west-1 (botocore model: "Buckets with a
#: LocationConstraint of EU reside in eu-west-1").
LEGACY_LOCATIONS = {"EU": "eu-west-1"}

#: (operation, data key, response key, the "not configured" error code AWS answers with).
SETTINGS = (
    ("GetBucketVersioning", "Versioning", None, None),
    (
        "GetBucketLifecycleConfiguration",
        "LifecycleConfiguration",
        "Rules",
        "NoSuchLifecycleConfiguration",
    ),
    (
        "GetBucketReplication",
        "ReplicationConfiguration",
        "ReplicationConfiguration",
        "ReplicationConfigurationNotFoundError",
    ),
    (
        "GetBucketEncryption",
        "ServerSideEncryptionConfiguration",
        "ServerSideEncryptionConfiguration",
        "ServerSideEncryptionConfigurationNotFoundError",
    ),
)


def _setting(response: dict[str, Any], response_key: str | None, data_key: str) -> Any:
    if response_key is None:
        return response
    if not response:
        return None
    if data_key == "LifecycleConfiguration":
        return {"Rules": response.get("Rules", [])}
    return response.get(response_key)


def location_region(constraint: str | None, partition_global_region: str) -> str:
    """The region a ``LocationConstraint`` names: null (or empty) is the partition's first
    region (us-east-1 in ``aws``: "Buckets in Region us-east-1 have a LocationConstraint of
    null"), ``EU`` is eu-west-1, anything else is the region itself."""
    if not constraint:
        return partition_global_region
    return LEGACY_LOCATIONS.get(constraint, constraint)


@register(API, BUCKET, is_global=True, region_key="BucketRegion")
def collect_buckets(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    buckets = _list(call)
    if buckets is None:
        return []
    request = requests.get(BUCKET)
    # The bucket's region is needed by the rules reading it and by every metric of the type.
    locate = call.wants("GetBucketLocation") or bool(request and request.metrics)
    # A selection on BucketRegion cannot be applied to a listing item that lacks it (AWS sends
    # it on a paginated listing, moto does not): such a bucket is located first, then selected.
    region_first = request is not None and any(
        "BucketRegion" in selector.where_reads for selector in request.selectors
    )
    return call.each(buckets, lambda bucket: _bucket(call, bucket, locate, region_first))


def _list(call: Call) -> list[dict[str, Any]] | None:
    """Every bucket, or those starting with the rules' prefixes (one listing per prefix)."""

    def listing(prefix: str | None) -> list[Any] | None:
        named: dict[str, Any] = {"Prefix": prefix} if prefix else {}
        return call.items("ListBuckets", "Buckets", listing=True, page_size=MAX_BUCKETS, **named)

    buckets = call.by_prefix(listing, BUCKET)
    if buckets is None:
        return None
    return unique_by(buckets, lambda bucket: str(bucket["Name"]))


def _bucket(
    call: Call, bucket: Mapping[str, Any], locate: bool, region_first: bool
) -> dict[str, Any]:
    """One bucket's envelope: its listing, and the settings some rule reads if selected."""
    name = str(bucket["Name"])
    arn = call.arn("s3", name, region="", account="")
    data: dict[str, Any] = {"Name": name, "CreationDate": bucket.get("CreationDate")}
    if bucket.get("BucketRegion"):
        data["BucketRegion"] = bucket["BucketRegion"]
    elif region_first:
        _locate(call, name, arn, data)
    if not call.selects(name, data):
        return call.resource(BUCKET, arn, name, data)
    if locate and "BucketRegion" not in data and not region_first:
        _locate(call, name, arn, data)
    for operation, data_key, response_key, absent_code in SETTINGS:
        if not call.wants(operation):
            continue
        response = call.request(
            operation,
            Bucket=name,
            resource=arn,
            data_keys=[data_key],
            not_configured=[absent_code] if absent_code else [],
        )
        if response is not None:
            data[data_key] = _setting(response, response_key, data_key)
    return call.resource(BUCKET, arn, name, data)


def _locate(call: Call, name: str, arn: str, data: dict[str, Any]) -> None:
    """``LocationConstraint`` and the ``BucketRegion`` it names (both absent if it fails)."""
    location = call.request(
        "GetBucketLocation",
        Bucket=name,
        resource=arn,
        data_keys=["LocationConstraint", "BucketRegion"],
    )
    if location is not None:
        constraint = location.get("LocationConstraint")
        data["LocationConstraint"] = constraint
        data["BucketRegion"] = location_region(constraint, call.reach.global_client_region)
