"""Queues, functions, log groups, ECS services, dashboards and security groups: the
properties moto's CloudFormation may drop, read back and applied as CloudFormation would."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from tests.template.deploy_context import Context, Setting, camel, same


# ---------------------------------------------------------------- SQS
def _queue_attribute(name: str) -> Setting:
    """One queue attribute, compared as SetQueueAttributes writes it (a string; JSON parsed)."""

    def text(value: Any) -> Any:
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, dict):
            return {key: str(item) for key, item in value.items()}
        return str(value)

    def read(ctx: Context, url: str) -> Any:
        attributes = ctx.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[name])
        value = attributes.get("Attributes", {}).get(name)
        return text(json.loads(value)) if value and value.startswith("{") else value

    def apply(ctx: Context, url: str, value: Any) -> None:
        encoded = json.dumps(value) if isinstance(value, dict) else text(value)
        ctx.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={name: encoded})

    return Setting(read=read, apply=apply, want=text)


QUEUE: dict[str, Setting] = {
    name: _queue_attribute(name)
    for name in (
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "MaximumMessageSize",
        "ReceiveMessageWaitTimeSeconds",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
    )
}


# ---------------------------------------------------------------- Lambda
def configuration(ctx: Context, function: str) -> Any:
    return ctx.client("lambda").get_function_configuration(FunctionName=function)


def _function_field(
    name: str, read: Callable[[Any], Any] | None = None, want: Callable[[Any], Any] = same
) -> Setting:
    """A property UpdateFunctionConfiguration sets under the same name."""
    pick = read or (lambda configuration: configuration.get(name))
    return Setting(
        read=lambda c, f: pick(configuration(c, f)),
        apply=lambda c, f, v: c.client("lambda").update_function_configuration(
            FunctionName=f, **{name: v}
        ),
        want=want,
    )


FUNCTION: dict[str, Setting] = {
    **{name: _function_field(name) for name in ("Runtime", "Timeout", "MemorySize", "Handler")},
    "TracingConfig": _function_field(
        "TracingConfig",
        read=lambda cfg: cfg.get("TracingConfig", {}).get("Mode", "PassThrough"),
        want=lambda v: v.get("Mode", "PassThrough"),
    ),
    "Environment": _function_field(
        "Environment",
        read=lambda cfg: cfg.get("Environment", {}).get("Variables", {}),
        want=lambda v: v.get("Variables", {}),
    ),
    "ReservedConcurrentExecutions": Setting(
        read=lambda c, f: (
            c.client("lambda")
            .get_function_concurrency(FunctionName=f)
            .get("ReservedConcurrentExecutions")
        ),
        apply=lambda c, f, v: c.client("lambda").put_function_concurrency(
            FunctionName=f, ReservedConcurrentExecutions=v
        ),
    ),
}


# ---------------------------------------------------------------- the others
def _retention(ctx: Context, group: str) -> Any:
    groups = ctx.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    return next(g.get("retentionInDays") for g in groups if g["logGroupName"] == group)


def _service(ctx: Context, arn: str) -> Any:
    cluster = arn.split("/")[-2]
    return ctx.client("ecs").describe_services(cluster=cluster, services=[arn])["services"][0]


def _update_service(ctx: Context, arn: str, **change: Any) -> None:
    ctx.client("ecs").update_service(cluster=arn.split("/")[-2], service=arn, **change)


def _network(value: Mapping[str, Any]) -> Any:
    """An awsvpc network configuration in the ECS API's terms, lists sorted."""
    vpc = value.get("awsvpcConfiguration", {})
    return {key: sorted(item) if isinstance(item, list) else item for key, item in vpc.items()}


def _ingress(permissions: list[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (str(p["IpProtocol"]), p.get("FromPort"), p.get("ToPort"), r["CidrIp"])
        for p in permissions
        for r in p.get("IpRanges", [])
    )


OTHERS: dict[str, dict[str, Setting]] = {
    "AWS::Logs::LogGroup": {
        "RetentionInDays": Setting(
            read=_retention,
            apply=lambda c, g, v: c.client("logs").put_retention_policy(
                logGroupName=g, retentionInDays=v
            ),
        ),
    },
    "AWS::ECS::Service": {
        "DesiredCount": Setting(
            read=lambda c, s: _service(c, s).get("desiredCount"),
            apply=lambda c, s, v: _update_service(c, s, desiredCount=v),
        ),
        "NetworkConfiguration": Setting(
            read=lambda c, s: _network(_service(c, s).get("networkConfiguration", {})),
            apply=lambda c, s, v: _update_service(c, s, networkConfiguration=camel(v)),
            want=lambda v: _network(camel(v)),
        ),
    },
    "AWS::CloudWatch::Dashboard": {
        "DashboardBody": Setting(
            read=lambda c, d: json.loads(
                c.client("cloudwatch").get_dashboard(DashboardName=d)["DashboardBody"]
            ),
            apply=lambda c, d, v: c.client("cloudwatch").put_dashboard(
                DashboardName=d, DashboardBody=v
            ),
            want=json.loads,
        ),
    },
    "AWS::EC2::SecurityGroup": {
        "SecurityGroupIngress": Setting(
            read=lambda c, g: _ingress(
                c.client("ec2").describe_security_groups(GroupIds=[g])["SecurityGroups"][0][
                    "IpPermissions"
                ]
            ),
            apply=lambda c, g, v: c.client("ec2").authorize_security_group_ingress(
                GroupId=g,
                IpPermissions=[
                    {
                        "IpProtocol": p["IpProtocol"],
                        "FromPort": p.get("FromPort"),
                        "ToPort": p.get("ToPort"),
                        "IpRanges": [{"CidrIp": p["CidrIp"]}],
                    }
                    for p in v
                ],
            ),
            want=lambda v: sorted(
                (str(p["IpProtocol"]), p.get("FromPort"), p.get("ToPort"), p["CidrIp"]) for p in v
            ),
        ),
    },
}
