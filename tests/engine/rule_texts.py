"""Policy texts and snapshot pieces several engine test modules share."""

from __future__ import annotations

from tests.engine.builders import ACCOUNT, REGION, resource

HEADER = """
parameters:
  prefix: {default: agenticai}
  queues: {default: [pm, dev]}
rules:
"""

DEPTH = (
    HEADER
    + """
  - id: sqs.depth
    title: queue depth
    covers: [RB-D06]
    section: Daily
    cadence: daily
    severity: medium
    resource: aws.sqs.queue
    select: {names: ["${prefix}-${queues}-queue"]}
    value: {path: Attributes.ApproximateNumberOfMessages, unit: messages}
    levels: {normal: "< 100", warn: "> 500", fail: "> 1000"}
"""
)


def queues(*depths: object) -> list[dict[str, object]]:
    return [
        resource(
            "aws.sqs.queue",
            f"agenticai-{name}-queue",
            {"Attributes": {"ApproximateNumberOfMessages": d}},
        )
        for name, d in zip(["pm", "dev"], depths, strict=False)
    ]


RATIO = (
    HEADER
    + """
  - id: lambda.rate
    title: error rate
    covers: [RB-T02]
    section: Monitoring
    cadence: daily
    severity: high
    resource: aws.lambda.function
    metrics:
      errors: {namespace: AWS/Lambda, metric: Errors, stat: Sum, dimensions: {FunctionName: "{name}"}}
      calls: {namespace: AWS/Lambda, metric: Invocations, stat: Sum, dimensions: {FunctionName: "{name}"}}
    value:
      ratio: {numerator: {metric: errors}, denominator: {metric: calls}}
      unit: "%"
    levels: {normal: "< 0.5%", warn: "> 2%", fail: "> 5%"}
    no_data: NO_DATA
"""
)
ERRORS_KEY = "AWS/Lambda/Errors:Sum:FunctionName={name}:86400s/86400s:sum"
CALLS_KEY = "AWS/Lambda/Invocations:Sum:FunctionName={name}:86400s/86400s:sum"


def function(name: str, errors: float | None, calls: float | None) -> dict[str, object]:
    return resource("aws.lambda.function", name, {}, metrics={ERRORS_KEY: errors, CALLS_KEY: calls})


PITR = (
    HEADER
    + """
  - id: pitr
    title: pitr
    covers: [RB-B01]
    section: Backup
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {names: [agenticai-data]}
    expect: {path: ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus, equals: ENABLED}
  - id: billing
    title: billing
    covers: [RB-I02]
    section: Incident
    cadence: daily
    severity: high
    resource: aws.dynamodb.table
    select: {names: [agenticai-data]}
    expect: {path: BillingModeSummary.BillingMode, equals: PAY_PER_REQUEST}
"""
)
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agenticai-data"
DENIED = {
    "service": "dynamodb",
    "operation": "DescribeContinuousBackups",
    "region": REGION,
    "resource": TABLE_ARN,
    "resource_type": "aws.dynamodb.table",
    "data_keys": ["ContinuousBackupsDescription"],
    "iam_action": "dynamodb:DescribeContinuousBackups",
    "code": "AccessDeniedException",
    "message": "User is not authorized",
}
