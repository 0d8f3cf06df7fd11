"""The stack's observability side: log groups and events, the REST API, dashboard, alarms, and
CloudWatch datapoints for the metrics the runbook's thresholds talk about.

Most datapoints are placed ten minutes before the seeding moment, inside every default window,
with values chosen to land in different bands (a worker over its warning error rate, a worker
at 83 % of its timeout). The API handler and the API instead have a day of hourly datapoints
with one outage hour, and the account a day of account-wide concurrency peaking past the
runbook's critical level while every function stays low.

moto is not CloudWatch for queries: one without dimensions aggregates every series of the
metric, whatever its dimensions. So every datapoint is seeded on exactly the series a rule
reads, and each metric name with one dimension set per resource; the one account-wide series
(ConcurrentExecutions, no dimensions) is read with Maximum, which the per-function series
(all lower) cannot change.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook_guard.demo.stack import Stack

#: Per function kind: (invocations, errors, max duration ms, peak concurrent executions).
#: The outage function's invocations and errors are its hourly profile instead (``hourly``).
#: Each function's peak stays under the runbook's normal level (5) and they peak together in
#: the outage hour, adding up to the account's ACCOUNT_PEAK.
LAMBDA_FIGURES = {
    "ApiHandler": (0.0, 0.0, 12000.0, 4.0),
    "PmAgentWorker": (200.0, 0.0, 60000.0, 2.0),
    "DevAgentWorker": (1000.0, 30.0, 250000.0, 4.0),
    "QaAgentWorker": (150.0, 1.0, 90000.0, 1.0),
    "OpsAgentWorker": (50.0, 0.0, 30000.0, 1.0),
}

#: Violation RB-T02/RB-T01 (lambda.error-rate, apigateway.5xx-rate): the function whose calls
#: (and the API's requests, which it serves) fail for one hour of the day.
OUTAGE_FUNCTION = "ApiHandler"
#: How many whole hours before the seeding moment the outage hour ends.
OUTAGE_HOURS_AGO = 5
#: (calls, errors) in the outage hour: 40 % failing.
OUTAGE = (100.0, 40.0)
#: Calls in every other hour (with one error in every fourth hour, none in the rest).
QUIET_CALLS = 200.0
#: Violation RB-T07 (lambda.concurrent-executions): the account's peak, past the critical 10.
ACCOUNT_PEAK = 12.0
#: The account's concurrency in the other hours.
ACCOUNT_QUIET = 3.0
#: CloudWatch accepts at most this many datums in one PutMetricData request.
PUT_METRIC_DATA_MAX = 1000
GREATER, LESS = "GreaterThanThreshold", "LessThanThreshold"


def hourly() -> list[tuple[int, float, float]]:
    """(hours ago, calls, errors) for each of the last 24 hours: 23 quiet hours (4 700 calls,
    46 errors over the day: 0.98 %, under the 2 % warning and the 1 % API warning) and one
    outage hour at 40 %, the critical worst hour a whole-day ratio would hide."""
    return [
        (ago, *OUTAGE) if ago == OUTAGE_HOURS_AGO else (ago, QUIET_CALLS, float(ago % 4 == 2))
        for ago in range(24)
    ]


def hour_mark(now: datetime, ago: int) -> datetime:
    """The middle of the hour ending ``ago`` hours before ``now``: inside the same hourly
    period of a 24-hour window however the reader aligns it, within half an hour."""
    return now - timedelta(hours=ago, minutes=30)


def seed(stack: Stack, functions: list[str]) -> None:
    _logs(stack, functions)
    api_name = _rest_api(stack)
    _dashboard(stack)
    _alarms(stack)
    _metrics(stack, functions, api_name)


def _logs(stack: Stack, functions: list[str]) -> None:
    logs = stack.client("logs")
    for name in functions:
        group = f"/aws/lambda/{name}"
        logs.create_log_group(logGroupName=group)
        if "DevAgentWorker" not in name:  # Violation RB-X01: never expires.
            logs.put_retention_policy(logGroupName=group, retentionInDays=7)
        if "ApiHandler" in name:  # RB-D05: two ERROR lines in the last 24 h.
            logs.create_log_stream(logGroupName=group, logStreamName="2026/11/27/[$LATEST]a1")
            base = int((stack.now - timedelta(minutes=30)).timestamp() * 1000)
            lines = ["START", "ERROR timeout calling Gemini", "INFO ok", "ERROR throttled"]
            logs.put_log_events(
                logGroupName=group,
                logStreamName="2026/11/27/[$LATEST]a1",
                logEvents=[{"timestamp": base + i, "message": m} for i, m in enumerate(lines)],
            )
    ecs_group = f"/ecs/{stack.prefix}-websocket"
    logs.create_log_group(logGroupName=ecs_group)
    logs.put_retention_policy(logGroupName=ecs_group, retentionInDays=14)  # RB-X05: warn


def _rest_api(stack: Stack) -> str:
    apigw = stack.client("apigateway")
    name = f"{stack.prefix}-api"
    api_id = apigw.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    health = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="health")["id"]
    apigw.put_method(
        restApiId=api_id, resourceId=health, httpMethod="GET", authorizationType="NONE"
    )
    apigw.put_integration(restApiId=api_id, resourceId=health, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    apigw.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/tracingEnabled", "value": "true"},
            {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
            # A literal secret in a stage variable (RB-S02's other hiding place): the canary
            # tests prove its value reaches no snapshot, result or report.
            {"op": "replace", "path": "/variables/GEMINI_API_KEY", "value": stack.secret},
            {"op": "replace", "path": "/variables/LOG_LEVEL", "value": "ERROR"},
        ],
    )
    return name


def _widget(title: str, namespace: str, metric: str, dimension: str, value: str) -> Any:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "metrics": [[namespace, metric, dimension, value]],
            "period": 300,
            "stat": "Sum",
        },
    }


def _dashboard(stack: Stack) -> None:
    p = stack.prefix
    body = {
        "widgets": [
            _widget("API 5xx", "AWS/ApiGateway", "5XXError", "ApiName", f"{p}-api"),
            _widget("API latency", "AWS/ApiGateway", "Latency", "ApiName", f"{p}-api"),
            _widget("Lambda errors", "AWS/Lambda", "Errors", "FunctionName", f"{p}-stack"),
            _widget("Throttles", "AWS/DynamoDB", "ThrottledRequests", "TableName", f"{p}-data"),
            _widget("Queue depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", p),
        ]
    }  # Violation RB-D03: no cost widget.
    stack.client("cloudwatch").put_dashboard(
        DashboardName=f"{p}-dashboard", DashboardBody=json.dumps(body)
    )


def _alarms(stack: Stack) -> None:
    cloudwatch = stack.client("cloudwatch")
    p = stack.prefix
    topic = f"arn:aws:sns:{stack.region}:{stack.account}:{p}-alerts"
    depth = "ApproximateNumberOfMessagesVisible"
    specs = [
        (f"{p}-pm-queue-depth", "AWS/SQS", depth, "QueueName", f"{p}-pm-queue", 100.0, GREATER),
        (f"{p}-dev-dlq-messages", "AWS/SQS", depth, "QueueName", f"{p}-dev-dlq", 0.0, GREATER),
        (f"{p}-api-5xx", "AWS/ApiGateway", "5XXError", "ApiName", f"{p}-api", 10.0, GREATER),
        # Violation RB-T09 (cloudwatch.alarm-queue-depth): alarms that exist, with an action,
        # but can never warn in time. The qa queue's threshold is 200 times the runbook's
        # warning depth of 500; the dev queue's operator is reversed, so it fires while the
        # queue is short and stays quiet once it is deep. (The ops queue has no alarm.)
        (f"{p}-qa-queue-depth", "AWS/SQS", depth, "QueueName", f"{p}-qa-queue", 100000.0, GREATER),
        (f"{p}-dev-queue-depth", "AWS/SQS", depth, "QueueName", f"{p}-dev-queue", 500.0, LESS),
    ]  # fmt: skip
    for name, namespace, metric, dimension, value, threshold, operator in specs:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": dimension, "Value": value}],
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator=operator,
            AlarmActions=[topic],
        )
    # RB-D04: the DLQ alarm is firing.
    cloudwatch.set_alarm_state(
        AlarmName=f"{p}-dev-dlq-messages", StateValue="ALARM", StateReason="3 messages in DLQ"
    )


def datum(
    metric: str, dimensions: dict[str, str], at: datetime, value: float, unit: str = "Count"
) -> Any:
    return {
        "MetricName": metric,
        "Dimensions": [{"Name": name, "Value": v} for name, v in dimensions.items()],
        "Timestamp": at,
        "Value": value,
        "Unit": unit,
    }


def put(cloudwatch: Any, namespace: str, data: list[Any]) -> None:
    """As few PutMetricData requests as CloudWatch allows."""
    for start in range(0, len(data), PUT_METRIC_DATA_MAX):
        batch = data[start : start + PUT_METRIC_DATA_MAX]
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)


def _metrics(stack: Stack, functions: list[str], api_name: str) -> None:
    cloudwatch = stack.client("cloudwatch")
    at = stack.now - timedelta(minutes=10)
    peak = hour_mark(stack.now, OUTAGE_HOURS_AGO)

    lambda_data = []
    for name in functions:
        kind = name.split("-stack-", 1)[1].rsplit("-", 1)[0]
        invocations, errors, duration, concurrency = LAMBDA_FIGURES[kind]
        by_name = {"FunctionName": name}
        if kind == OUTAGE_FUNCTION:
            for ago, calls, failed in hourly():
                lambda_data.append(datum("Invocations", by_name, hour_mark(stack.now, ago), calls))
                lambda_data.append(datum("Errors", by_name, hour_mark(stack.now, ago), failed))
        else:
            lambda_data.append(datum("Invocations", by_name, at, invocations))
            lambda_data.append(datum("Errors", by_name, at, errors))
        lambda_data.append(datum("Duration", by_name, at, duration, "Milliseconds"))
        # Each function's peak, all in the outage hour, each under 5: a per-function check
        # passes; only the account-wide series (account_metrics) is past the runbook's 10.
        lambda_data.append(datum("ConcurrentExecutions", by_name, peak, concurrency))
    put(cloudwatch, "AWS/Lambda", lambda_data)

    # The runbook's 5xx rate is per stage: ApiName + Stage, as API Gateway reports it. The API
    # fails with its handler: the same hourly profile, 40 % 5xx in the outage hour.
    # No Latency datapoints: moto 5.2 fails a whole GetMetricData call that asks a percentile
    # (p50/p95/p99) of a metric that has data.
    by_stage = {"ApiName": api_name, "Stage": "prod"}
    api_data = []
    for ago, calls, failed in hourly():
        api_data.append(datum("Count", by_stage, hour_mark(stack.now, ago), calls))
        api_data.append(datum("5XXError", by_stage, hour_mark(stack.now, ago), failed))
    put(cloudwatch, "AWS/ApiGateway", api_data)

    by_table = {"TableName": f"{stack.prefix}-data"}
    put(
        cloudwatch,
        "AWS/DynamoDB",
        # Violation RB-W03/T04: 7 write throttles in one 5-minute period (warn is > 5).
        [
            datum("ReadThrottleEvents", by_table, at, 0.0),
            datum("WriteThrottleEvents", by_table, at, 7.0),
        ],
    )


def account_metrics(stack: Stack) -> None:
    """The account-wide series, once per account and Region whatever the number of copies.

    Violation RB-T07 (lambda.concurrent-executions): AWS/Lambda ConcurrentExecutions with no
    dimensions, one datapoint an hour: ACCOUNT_QUIET, and ACCOUNT_PEAK in the outage hour, when
    the stack's functions peak together (LAMBDA_FIGURES, each under 5).
    """
    data = [
        datum(
            "ConcurrentExecutions",
            {},
            hour_mark(stack.now, ago),
            ACCOUNT_PEAK if ago == OUTAGE_HOURS_AGO else ACCOUNT_QUIET,
        )
        for ago in range(24)
    ]
    put(stack.client("cloudwatch"), "AWS/Lambda", data)
