"""S3 buckets: versioning, lifecycle, replication and default encryption.

AWS reports an unset lifecycle, replication or encryption configuration as an error; those
codes are values here (``null``), because "not configured" is exactly what the rules check.
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


@register(API, BUCKET, is_global=True)
def collect_buckets(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    buckets = call.items("ListBuckets", "Buckets", listing=True)
    if buckets is None:
        return []
    resources = []
    for bucket in buckets:
        name = str(bucket["Name"])
        arn = f"arn:aws:s3:::{name}"
        data: dict[str, Any] = {"Name": name, "CreationDate": bucket.get("CreationDate")}
        location = call.request(
            "GetBucketLocation", Bucket=name, resource=arn, data_keys=["LocationConstraint"]
        )
        if location is not None:
            data["LocationConstraint"] = location.get("LocationConstraint")
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
