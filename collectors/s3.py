"""S3 buckets: region, versioning, lifecycle, replication and default encryption.

AWS reports an unset lifecycle, replication or encryption configuration as an error; those
codes are values here (``null``), because "not configured" is exactly what the rules check.

Buckets are listed in pages (``MaxBuckets``): S3 rejects an unpaginated ListBuckets for
accounts whose bucket quota is over 10,000, and a paginated one answers each bucket's
``BucketRegion``, which saves a GetBucketLocation call per bucket. Where an answer lacks it
(moto does), GetBucketLocation's ``LocationConstraint`` gives the region. The bucket's region is
where its CloudWatch metrics are published, so it is the type's metric region.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
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
    buckets = call.items("ListBuckets", "Buckets", listing=True, page_size=MAX_BUCKETS)
    if buckets is None:
        return []
    resources = []
    for bucket in buckets:
        name = str(bucket["Name"])
        arn = call.arn("s3", name, region="", account="")
        data: dict[str, Any] = {"Name": name, "CreationDate": bucket.get("CreationDate")}
        if bucket.get("BucketRegion"):
            data["BucketRegion"] = bucket["BucketRegion"]
        else:
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
        for operation, data_key, response_key, absent_code in SETTINGS:
            response = call.request(
                operation,
                Bucket=name,
                resource=arn,
                data_keys=[data_key],
                not_configured=[absent_code] if absent_code else [],
            )
            if response is not None:
                data[data_key] = _setting(response, response_key, data_key)
        resources.append(call.resource(BUCKET, arn, name, data))
    return resources
