"""DynamoDB tables and S3 buckets: the properties moto's CloudFormation may drop, read back
in their own terms and applied with the call CloudFormation makes (resource reference:
PointInTimeRecoverySpecification is UpdateContinuousBackups, VersioningConfiguration
PutBucketVersioning, a lifecycle Rule's ExpirationInDays the API's Expiration.Days, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.template.deploy_context import Context, Setting, absent_as_none


# ---------------------------------------------------------------- DynamoDB
def _pitr(ctx: Context, table: str) -> dict[str, Any]:
    answer = ctx.client("dynamodb").describe_continuous_backups(TableName=table)
    described = answer["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    enabled = described.get("PointInTimeRecoveryStatus") == "ENABLED"
    return {"enabled": enabled, "days": described.get("RecoveryPeriodInDays") if enabled else None}


def _pitr_wanted(value: Mapping[str, Any]) -> dict[str, Any]:
    enabled = bool(value.get("PointInTimeRecoveryEnabled", False))
    return {"enabled": enabled, "days": value.get("RecoveryPeriodInDays", 35) if enabled else None}


def _ttl(ctx: Context, table: str) -> dict[str, Any]:
    described = ctx.client("dynamodb").describe_time_to_live(TableName=table)
    ttl = described["TimeToLiveDescription"]
    enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    return {"enabled": enabled, "attribute": ttl.get("AttributeName") if enabled else None}


def _ttl_wanted(value: Mapping[str, Any]) -> dict[str, Any]:
    enabled = bool(value.get("Enabled"))
    return {"enabled": enabled, "attribute": value.get("AttributeName") if enabled else None}


def table_description(ctx: Context, table: str) -> Any:
    return ctx.client("dynamodb").describe_table(TableName=table)["Table"]


TABLE: dict[str, Setting] = {
    "BillingMode": Setting(
        read=lambda c, t: (
            table_description(c, t).get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        ),
        apply=lambda c, t, v: c.client("dynamodb").update_table(TableName=t, BillingMode=v),
    ),
    "PointInTimeRecoverySpecification": Setting(
        read=_pitr,
        apply=lambda c, t, v: c.client("dynamodb").update_continuous_backups(
            TableName=t,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": bool(v.get("PointInTimeRecoveryEnabled", False)),
                **(
                    {"RecoveryPeriodInDays": v["RecoveryPeriodInDays"]}
                    if "RecoveryPeriodInDays" in v
                    else {}
                ),
            },
        ),
        want=_pitr_wanted,
    ),
    "TimeToLiveSpecification": Setting(
        read=_ttl,
        apply=lambda c, t, v: c.client("dynamodb").update_time_to_live(
            TableName=t,
            TimeToLiveSpecification={
                "Enabled": bool(v.get("Enabled")),
                "AttributeName": v["AttributeName"],
            },
        ),
        want=_ttl_wanted,
    ),
    "ContributorInsightsSpecification": Setting(
        read=lambda c, t: (
            c.client("dynamodb").describe_contributor_insights(TableName=t)[
                "ContributorInsightsStatus"
            ]
            in ("ENABLED", "ENABLING")
        ),
        apply=lambda c, t, v: c.client("dynamodb").update_contributor_insights(
            TableName=t, ContributorInsightsAction="ENABLE" if v.get("Enabled") else "DISABLE"
        ),
        want=lambda v: bool(v.get("Enabled")),
    ),
    "SSESpecification": Setting(
        read=lambda c, t: (
            (table_description(c, t).get("SSEDescription") or {}).get("Status") == "ENABLED"
        ),
        apply=lambda c, t, v: c.client("dynamodb").update_table(
            TableName=t, SSESpecification={"Enabled": bool(v.get("SSEEnabled"))}
        ),
        want=lambda v: bool(v.get("SSEEnabled")),
    ),
}


# ---------------------------------------------------------------- S3
def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle Rule in PutBucketLifecycleConfiguration's shape."""
    api: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule["Status"]}
    api["Filter"] = {"Prefix": rule.get("Prefix", "")}
    expiration = {
        key: rule[cfn]
        for cfn, key in (
            ("ExpirationInDays", "Days"),
            ("ExpirationDate", "Date"),
            ("ExpiredObjectDeleteMarker", "ExpiredObjectDeleteMarker"),
        )
        if cfn in rule
    }
    if expiration:
        api["Expiration"] = expiration
    transitions = [
        *rule.get("Transitions", []),
        *([rule["Transition"]] if "Transition" in rule else []),
    ]
    if transitions:
        api["Transitions"] = [
            {
                "StorageClass": t["StorageClass"],
                **(
                    {"Days": t["TransitionInDays"]}
                    if "TransitionInDays" in t
                    else {"Date": t["TransitionDate"]}
                ),
            }
            for t in transitions
        ]
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = dict(rule["NoncurrentVersionExpiration"])
    elif "NoncurrentVersionExpirationInDays" in rule:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]
        }
    if "NoncurrentVersionTransitions" in rule:
        api["NoncurrentVersionTransitions"] = [
            {"StorageClass": t["StorageClass"], "NoncurrentDays": t["TransitionInDays"]}
            for t in rule["NoncurrentVersionTransitions"]
        ]
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = dict(rule["AbortIncompleteMultipartUpload"])
    return api


def _lifecycle(ctx: Context, bucket: str) -> Any:
    answer = absent_as_none(
        lambda: ctx.client("s3").get_bucket_lifecycle_configuration(Bucket=bucket),
        "NoSuchLifecycleConfiguration",
    )
    return None if answer is None else sorted((r.get("ID"), r["Status"]) for r in answer["Rules"])


def _encryption(ctx: Context, bucket: str) -> Any:
    answer = absent_as_none(
        lambda: ctx.client("s3").get_bucket_encryption(Bucket=bucket),
        "ServerSideEncryptionConfigurationNotFoundError",
    )
    if answer is None:
        return None
    rules = answer["ServerSideEncryptionConfiguration"]["Rules"]
    return sorted(r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules)


BUCKET: dict[str, Setting] = {
    "VersioningConfiguration": Setting(
        read=lambda c, b: c.client("s3").get_bucket_versioning(Bucket=b).get("Status"),
        apply=lambda c, b, v: c.client("s3").put_bucket_versioning(
            Bucket=b, VersioningConfiguration={"Status": v["Status"]}
        ),
        want=lambda v: v["Status"],
    ),
    "LifecycleConfiguration": Setting(
        read=_lifecycle,
        apply=lambda c, b, v: c.client("s3").put_bucket_lifecycle_configuration(
            Bucket=b, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in v["Rules"]]}
        ),
        want=lambda v: sorted((r.get("Id"), r["Status"]) for r in v["Rules"]),
    ),
    "BucketEncryption": Setting(
        read=_encryption,
        apply=lambda c, b, v: c.client("s3").put_bucket_encryption(
            Bucket=b,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                        **(
                            {"BucketKeyEnabled": r["BucketKeyEnabled"]}
                            if "BucketKeyEnabled" in r
                            else {}
                        ),
                    }
                    for r in v["ServerSideEncryptionConfiguration"]
                ]
            },
        ),
        want=lambda v: sorted(
            r["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            for r in v["ServerSideEncryptionConfiguration"]
        ),
    ),
}
