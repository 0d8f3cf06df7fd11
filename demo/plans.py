"""A collection plan asking for everything the runbook talks about, without loading rules.

Benchmarks and the collection tests use it to exercise every collector, metric and log query
the complete pack would, independently of which rules the pack has at the moment.
"""

from __future__ import annotations

from runbook_guard.engine.plan import CollectionPlan, LogQuery, MetricQuery

DAY = 86400

LAMBDA, API, TABLE = "aws.lambda.function", "aws.apigateway.rest_api", "aws.dynamodb.table"

BY_FUNCTION = (("FunctionName", "{name}"),)
BY_STAGE = (("ApiName", "{name}"), ("Stage", "prod"))
BY_TABLE = (("TableName", "{name}"),)

#: (resource type, key, namespace, metric, stat, dimensions, reduce) per the runbook's table.
METRICS = (
    (LAMBDA, "errors", "AWS/Lambda", "Errors", "Sum", BY_FUNCTION, "sum"),
    (LAMBDA, "invocations", "AWS/Lambda", "Invocations", "Sum", BY_FUNCTION, "sum"),
    (LAMBDA, "max_duration", "AWS/Lambda", "Duration", "Maximum", BY_FUNCTION, "max"),
    (LAMBDA, "concurrency", "AWS/Lambda", "ConcurrentExecutions", "Maximum", BY_FUNCTION, "max"),
    (API, "errors_5xx", "AWS/ApiGateway", "5XXError", "Sum", BY_STAGE, "sum"),
    (API, "count", "AWS/ApiGateway", "Count", "Sum", BY_STAGE, "sum"),
    (TABLE, "throttled", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", BY_TABLE, "max"),
)


def everything_plan(
    prefix: str = "agenticai", resource_types: tuple[str, ...] = ()
) -> CollectionPlan:
    """Every registered type (or the given ones) with the runbook's metrics and ERROR counts."""
    from runbook_guard.collectors.registry import COLLECTORS, load_all

    load_all()
    plan = CollectionPlan(parameters={"prefix": prefix})
    for resource_type in resource_types or tuple(COLLECTORS):
        plan.request(resource_type)
    plan.request("aws.cloudtrail.event").options.update(
        event_names=["DeleteTable"], window_hours=[168]
    )
    plan.request("aws.ssm.parameter").options["path"] = [f"/{prefix}"]
    plan.request("aws.dynamodb.table").options["backup_days"] = [7]
    for rtype, key, namespace, metric, stat, dimensions, reduce in METRICS:
        query = MetricQuery(key, namespace, metric, stat, dimensions, DAY, 300, reduce)
        plan.request(rtype).metrics.append((query, lambda r: str(r["name"]).startswith(prefix)))
    errors = LogQuery("errors", "ERROR", DAY)
    plan.request("aws.logs.log_group").log_queries.append(
        (errors, lambda r: str(r["name"]).startswith(f"/aws/lambda/{prefix}"))
    )
    return plan
