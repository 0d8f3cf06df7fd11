"""The runbook's stack, written into moto with ordinary boto3 calls.

Mostly compliant, with the violations a real account drifts into (a DLQ holding messages, a
queue at 300, a log group that never expires, a python3.9 function, a queue without redrive, a
plain-String parameter, a second active deployer key, ...), so that every status a rule can
give shows up in the demo. Works against in-process ``mock_aws`` and against a moto server
(pass ``endpoint_url``); ``copies=N`` repeats the stack under distinct prefixes for benchmarks.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3

from runbook_guard.demo import observability

WORKERS = ("pm", "dev", "qa", "ops")
FUNCTIONS = ("ApiHandler", "PmAgentWorker", "DevAgentWorker", "QaAgentWorker", "OpsAgentWorker")
#: Stands in for a real secret; tests assert it never reaches a snapshot or report.
DEFAULT_SECRET = "canary-7f3c-do-not-leak"


@dataclass
class Seeded:
    """What was created, for tests and benchmarks to assert against."""

    prefixes: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Stack:
    """Clients and names for one copy of the stack."""

    session: boto3.Session
    region: str
    endpoint_url: str | None
    prefix: str
    secret: str
    now: datetime
    account: str

    def client(self, service: str) -> Any:
        region = "us-east-1" if service in ("iam", "budgets") else self.region
        return self.session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint_url,
        )

    def function_name(self, kind: str) -> str:
        """CloudFormation-style physical name, stable across runs (no random suffix)."""
        return f"{self.prefix}-stack-{kind}-{zlib.crc32(kind.encode()):08X}"


def seed_runbook_stack(
    session: boto3.Session | None = None,
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    copies: int = 1,
    prefix: str = "agenticai",
    secret: str = DEFAULT_SECRET,
    now: datetime | None = None,
) -> Seeded:
    """Create ``copies`` copies of the stack; copy 0 uses ``prefix``, copy k ``prefix`` + k."""
    session = session or boto3.Session(region_name=region)
    moment = now or datetime.now(timezone.utc)
    seeded = Seeded()
    sts = session.client("sts", region_name=region, endpoint_url=endpoint_url)
    account = str(sts.get_caller_identity()["Account"])
    for k in range(copies):
        name = f"{prefix}{k or ''}"
        stack = Stack(session, region, endpoint_url, name, secret, moment, account)
        seeded.prefixes.append(stack.prefix)
        _seed_copy(stack, seeded)
    return seeded


def _seed_copy(stack: Stack, seeded: Seeded) -> None:
    role_arn = _iam(stack)
    _s3(stack)  # before DynamoDB: the weekly export writes to the backups bucket
    _dynamodb(stack)
    queues = dict(_sqs(stack))
    seeded.queues.extend(queues)
    functions = _lambda(stack, role_arn, queues)
    seeded.functions.extend(functions)
    _ssm(stack)
    _ecs(stack)
    _cloudtrail(stack)
    _budget(stack)
    observability.seed(stack, functions)


def _iam(stack: Stack) -> str:
    iam = stack.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(
        RoleName=f"{stack.prefix}-lambda-role", AssumeRolePolicyDocument=json.dumps(trust)
    )
    user = f"{stack.prefix}-deployer"
    iam.create_user(UserName=user)
    # Violation RB-M02: a second active key, never used.
    iam.create_access_key(UserName=user)
    iam.create_access_key(UserName=user)
    return str(role["Role"]["Arn"])


def _dynamodb(stack: Stack) -> None:
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
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
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


def _s3(stack: Stack) -> None:
    s3 = stack.client("s3")
    for suffix in ("generated-code", "backups", "logs-archive"):
        s3.create_bucket(Bucket=f"{stack.prefix}-{suffix}")
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


def _sqs(stack: Stack) -> Iterator[tuple[str, str]]:
    """(queue name, queue ARN) of every queue; ops has no redrive, dev's DLQ holds 3."""
    sqs = stack.client("sqs")
    for worker in WORKERS:
        dlq_url = sqs.create_queue(QueueName=f"{stack.prefix}-{worker}-dlq")["QueueUrl"]
        dlq_arn = _queue_arn(sqs, dlq_url)
        attributes = {"VisibilityTimeout": "300"}
        if worker != "ops":  # Violation RB-I08: no redrive policy.
            redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}
            attributes["RedrivePolicy"] = json.dumps(redrive)
        name = f"{stack.prefix}-{worker}-queue"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        if worker == "dev":  # Violation RB-W02: messages in the DLQ.
            _send(sqs, dlq_url, 3)
        if worker == "pm":  # Note RB-D06: depth 300, above normal, under warning.
            _send(sqs, url, 300)
        yield f"{stack.prefix}-{worker}-dlq", dlq_arn
        yield name, _queue_arn(sqs, url)


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _send(sqs: Any, url: str, count: int) -> None:
    for start in range(0, count, 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"task": i})}
            for i in range(start, min(count, start + 10))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def _lambda(stack: Stack, role_arn: str, queues: dict[str, str]) -> list[str]:
    lam = stack.client("lambda")
    code = _zip()
    names = []
    for kind in FUNCTIONS:
        name = stack.function_name(kind)
        worker = kind.removesuffix("AgentWorker").lower()
        env = {"TABLE_NAME": f"{stack.prefix}-data", "LOG_LEVEL": "INFO"}
        if kind == "ApiHandler":  # Violation RB-S02: a literal secret in the environment.
            env["GEMINI_API_KEY"] = stack.secret
        lam.create_function(
            FunctionName=name,
            Runtime="python3.9" if kind == "QaAgentWorker" else "python3.12",  # RB-X03
            Role=role_arn,
            Handler="handler.handler",
            Code={"ZipFile": code},
            Timeout=30 if kind == "ApiHandler" else 300,
            MemorySize=1024,
            Environment={"Variables": env},
            # Violation RB-I07: the ops worker has tracing off.
            TracingConfig={"Mode": "PassThrough" if kind == "OpsAgentWorker" else "Active"},
        )
        if kind != "OpsAgentWorker":  # Violation RB-I01: no `live` alias.
            version = lam.publish_version(FunctionName=name)["Version"]
            lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
        if kind != "ApiHandler":
            if kind != "DevAgentWorker":  # Violation RB-I04: no reserved concurrency.
                lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
            queue = f"{stack.prefix}-{worker}-queue"
            lam.create_event_source_mapping(
                EventSourceArn=queues[queue], FunctionName=name, BatchSize=10, Enabled=True
            )
        names.append(name)
    return names


def _ssm(stack: Stack) -> None:
    ssm = stack.client("ssm")
    ssm.put_parameter(
        Name=f"/{stack.prefix}/gemini-api-key", Value=stack.secret, Type="SecureString"
    )
    # Violation RB-B06: a plain String under the prefix.
    ssm.put_parameter(Name=f"/{stack.prefix}/config/model", Value="gemini-pro", Type="String")


def _ecs(stack: Stack) -> None:
    ecs = stack.client("ecs")
    cluster = f"{stack.prefix}-cluster"
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=f"{stack.prefix}-websocket",
        networkMode="bridge",
        containerDefinitions=[
            {"name": "websocket", "image": "agenticai/websocket:1", "memory": 512}
        ],
    )
    service = f"{stack.prefix}-websocket"
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=f"{stack.prefix}-websocket",
        desiredCount=1,
    )
    # moto never starts tasks; update_service is how it reports them running.
    ecs.update_service(cluster=cluster, service=service, desiredCount=1)


def _cloudtrail(stack: Stack) -> None:
    trail = f"{stack.prefix}-trail"
    cloudtrail = stack.client("cloudtrail")
    cloudtrail.create_trail(
        Name=trail, S3BucketName=f"{stack.prefix}-logs-archive", IsMultiRegionTrail=True
    )
    cloudtrail.start_logging(Name=trail)


def _budget(stack: Stack) -> None:
    budgets = stack.client("budgets")
    budgets.create_budget(
        AccountId=stack.account,
        Budget={
            "BudgetName": f"{stack.prefix}-monthly",
            "BudgetLimit": {"Amount": "25", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        NotificationsWithSubscribers=[
            {
                "Notification": {
                    "NotificationType": "ACTUAL",
                    "ComparisonOperator": "GREATER_THAN",
                    "Threshold": 80.0,
                    "ThresholdType": "PERCENTAGE",
                },
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "ops@example.com"}],
            }
        ],
    )
