"""The stack's observability side: log groups and events, the REST API, dashboard, alarms, and
CloudWatch datapoints for the metrics the runbook's thresholds talk about.

Datapoints are placed ten minutes before the seeding moment, inside every default window, with
values chosen to land in different bands (a normal API error rate, a worker over its warning
error rate, a worker at 83 % of its timeout).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook_guard.demo.stack import Stack

#: Per function kind: (invocations, errors, max duration ms, concurrent executions).
LAMBDA_FIGURES = {
    "ApiHandler": (1000.0, 3.0, 12000.0, 3.0),
    "PmAgentWorker": (200.0, 0.0, 60000.0, 2.0),
    "DevAgentWorker": (1000.0, 30.0, 250000.0, 9.0),
    "QaAgentWorker": (150.0, 1.0, 90000.0, 1.0),
    "OpsAgentWorker": (50.0, 0.0, 30000.0, 1.0),
}


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
    specs = [
        (f"{p}-pm-queue-depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
         f"{p}-pm-queue", 100.0),
        (f"{p}-dev-dlq-messages", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
         f"{p}-dev-dlq", 0.0),
        (f"{p}-api-5xx", "AWS/ApiGateway", "5XXError", "ApiName", f"{p}-api", 10.0),
    ]  # fmt: skip
    for name, namespace, metric, dimension, value, threshold in specs:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": dimension, "Value": value}],
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[topic],
        )
    # RB-D04: the DLQ alarm is firing.
    cloudwatch.set_alarm_state(
        AlarmName=f"{p}-dev-dlq-messages", StateValue="ALARM", StateReason="3 messages in DLQ"
    )


def _metrics(stack: Stack, functions: list[str], api_name: str) -> None:
    cloudwatch = stack.client("cloudwatch")
    at = stack.now - timedelta(minutes=10)

    def datum(
        metric: str, dimension: str, value: str, number: float, unit: str, **more: str
    ) -> Any:
        dimensions = [{"Name": dimension, "Value": value}]
        dimensions += [{"Name": name, "Value": extra} for name, extra in more.items()]
        return {
            "MetricName": metric,
            "Dimensions": dimensions,
            "Timestamp": at,
            "Value": number,
            "Unit": unit,
        }

    lambda_data = []
    for name in functions:
        kind = name.split("-stack-", 1)[1].rsplit("-", 1)[0]
        invocations, errors, duration, concurrency = LAMBDA_FIGURES[kind]
        lambda_data += [
            datum("Invocations", "FunctionName", name, invocations, "Count"),
            datum("Errors", "FunctionName", name, errors, "Count"),
            datum("Duration", "FunctionName", name, duration, "Milliseconds"),
            datum("ConcurrentExecutions", "FunctionName", name, concurrency, "Count"),
        ]
    cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=lambda_data)
    cloudwatch.put_metric_data(
        Namespace="AWS/ApiGateway",
        MetricData=[
            # The runbook's 5xx rate is per stage: ApiName + Stage, as API Gateway reports it.
            # No Latency datapoints: moto 5.2 fails a whole GetMetricData call that asks a
            # percentile (p50/p95/p99) of a metric that has data.
            datum("5XXError", "ApiName", api_name, 2.0, "Count", Stage="prod"),
            datum("Count", "ApiName", api_name, 1000.0, "Count", Stage="prod"),
        ],
    )
    table = f"{stack.prefix}-data"
    cloudwatch.put_metric_data(
        Namespace="AWS/DynamoDB",
        # Violation RB-W03/T04: 7 write throttles in one 5-minute period (warn is > 5).
        MetricData=[
            datum("ReadThrottleEvents", "TableName", table, 0.0, "Count"),
            datum("WriteThrottleEvents", "TableName", table, 7.0, "Count"),
        ],
    )
