"""The stack's data: the DynamoDB table with its backups and export, the S3 buckets, and the
SSM parameters (one of them the canary secret as a SecureString).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook_guard.demo.stack import Stack

#: The data table's PITR recovery window: too short for the runbook's 35-day restore.
PITR_RECOVERY_DAYS = 1


def table(stack: Stack) -> None:
    ddb = stack.client("dynamodb")
    table = f"{stack.prefix}-data"
    ddb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    # Violation RB-B01 (dynamodb.pitr-enabled): PITR is ENABLED, but with a 1-day recovery
    # window where the runbook restores "within last 35 days" (AWS's default is 35).
    ddb.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": PITR_RECOVERY_DAYS,
        },
    )
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    ddb.create_backup(TableName=table, BackupName=f"{table}-weekly")
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.export_table_to_point_in_time(
        TableArn=arn,
        S3Bucket=f"{stack.prefix}-backups",
        S3Prefix="dynamodb-exports/weekly",
        ExportFormat="DYNAMODB_JSON",
    )


def buckets(stack: Stack) -> None:
    s3 = stack.client("s3")
    # Outside us-east-1, S3 wants the Region named (seed_runbook_stack takes any Region).
    where: dict[str, Any] = {}
    if stack.region != "us-east-1":
        where["CreateBucketConfiguration"] = {"LocationConstraint": stack.region}
    for suffix in ("generated-code", "backups", "logs-archive"):
        s3.create_bucket(Bucket=f"{stack.prefix}-{suffix}", **where)
    s3.put_bucket_versioning(
        Bucket=f"{stack.prefix}-generated-code", VersioningConfiguration={"Status": "Enabled"}
    )
    rule = {
        "ID": "tiering",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Transitions": [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
    }
    # Violation RB-C02: logs-archive has no lifecycle policy.
    for suffix in ("generated-code", "backups"):
        s3.put_bucket_lifecycle_configuration(
            Bucket=f"{stack.prefix}-{suffix}", LifecycleConfiguration={"Rules": [rule]}
        )
    s3.put_bucket_encryption(
        Bucket=f"{stack.prefix}-backups",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )


def parameters(stack: Stack) -> None:
    ssm = stack.client("ssm")
    ssm.put_parameter(
        Name=f"/{stack.prefix}/gemini-api-key", Value=stack.secret, Type="SecureString"
    )
    # Violation RB-B06: a plain String under the prefix.
    ssm.put_parameter(Name=f"/{stack.prefix}/config/model", Value="gemini-pro", Type="String")
