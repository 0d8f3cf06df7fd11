"""What ``Ref`` and ``Fn::GetAtt`` return for a resource, when the template determines it.

Most answers are built from the resource's physical name: the name its properties set, or the
one CloudFormation generates (``names.generated_name``), plus partition, region and account.
Ids AWS assigns (a REST API id, a version number, a KMS key id) are only known after deploy;
a custom resource's attributes come from code the template does not contain (unresolvable).
A type or attribute not listed here is taken to be known after deploy: never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from runbook_guard.template.model import Unresolved
from runbook_guard.template.names import arn


class Subject(Protocol):
    """The resource a Ref or GetAtt names, as the resolver sees it."""

    logical_id: str
    type: str
    partition: str
    region: str
    account: str
    url_suffix: str

    def prop(self, *path: str) -> Any:
        """A property's resolved value (``None`` when the template leaves it out)."""

    def name(self) -> Any:
        """The physical name: a ``str``, or the ``Unresolved`` that blocks it."""


#: Returns the value, or an ``Unresolved`` (the name's, or one of its own).
Builder = Callable[[Subject], Any]


@dataclass(frozen=True)
class Kind:
    """How one CloudFormation type is named and what Ref/GetAtt give back."""

    #: The property that sets the physical name (``("Budget", "BudgetName")`` for a nested one).
    name_property: tuple[str, ...] | None = None
    #: What Ref returns; None: known after deploy.
    ref: Builder | None = None
    attributes: Mapping[str, Builder] = field(default_factory=dict)


def _named(build: Callable[[Subject, str], Any]) -> Builder:
    """A builder that needs the name; an undetermined name makes the result undetermined."""

    def builder(subject: Subject) -> Any:
        name = subject.name()
        return name if isinstance(name, Unresolved) else build(subject, name)

    return builder


def _arn(service: str, resource: str, *, regional: bool = True, account: bool = True) -> Builder:
    """``arn:<partition>:<service>:<region>:<account>:<resource with {name}>``."""
    return _named(
        lambda s, name: arn(
            s.partition,
            service,
            s.region if regional else "",
            s.account if account else "",
            resource.format(name=name),
        )
    )


def _iam_arn(kind: str) -> Builder:
    """IAM ARNs carry the resource's Path (``/`` unless set): ``role/service/name``."""

    def build(subject: Subject, name: str) -> Any:
        path = subject.prop("Path")
        if isinstance(path, Unresolved):
            return path
        prefix = path if isinstance(path, str) and path else "/"
        return arn(subject.partition, "iam", "", subject.account, f"{kind}{prefix}{name}")

    return _named(build)


def _queue_url(subject: Subject, name: str) -> str:
    return f"https://sqs.{subject.region}.{subject.url_suffix}/{subject.account}/{name}"


def _alias_arn(subject: Subject) -> Any:
    function, alias = subject.prop("FunctionName"), subject.prop("Name")
    for part in (function, alias):
        if isinstance(part, Unresolved):
            return part
    base = str(function)
    if not base.startswith("arn:"):
        base = arn(subject.partition, "lambda", subject.region, subject.account, f"function:{base}")
    return f"{base}:{alias}"


def _ecs_service_arn(subject: Subject, name: str) -> Any:
    cluster = subject.prop("Cluster")
    if isinstance(cluster, Unresolved):
        return cluster
    cluster_name = str(cluster).rsplit("/", 1)[-1] if cluster else "default"
    return arn(
        subject.partition, "ecs", subject.region, subject.account, f"service/{cluster_name}/{name}"
    )


def _property(*path: str) -> Builder:
    return lambda subject: subject.prop(*path)


def _name(subject: Subject) -> Any:
    return subject.name()


_LAMBDA_ARN = _arn("lambda", "function:{name}")
_SQS_ARN = _arn("sqs", "{name}")
_SNS_ARN = _arn("sns", "{name}")
_STATES_ARN = _arn("states", "stateMachine:{name}")

KINDS: dict[str, Kind] = {
    "AWS::SQS::Queue": Kind(
        ("QueueName",),
        _named(_queue_url),
        {"Arn": _SQS_ARN, "QueueName": _name, "QueueUrl": _named(_queue_url)},
    ),
    "AWS::DynamoDB::Table": Kind(("TableName",), _name, {"Arn": _arn("dynamodb", "table/{name}")}),
    "AWS::DynamoDB::GlobalTable": Kind(
        ("TableName",), _name, {"Arn": _arn("dynamodb", "table/{name}")}
    ),
    "AWS::Lambda::Function": Kind(("FunctionName",), _name, {"Arn": _LAMBDA_ARN}),
    "AWS::Lambda::Alias": Kind(None, _alias_arn, {"AliasArn": _alias_arn}),
    "AWS::S3::Bucket": Kind(
        ("BucketName",),
        _name,
        {
            "Arn": _arn("s3", "{name}", regional=False, account=False),
            "DomainName": _named(lambda s, n: f"{n}.s3.{s.url_suffix}"),
            "RegionalDomainName": _named(lambda s, n: f"{n}.s3.{s.region}.{s.url_suffix}"),
            "DualStackDomainName": _named(
                lambda s, n: f"{n}.s3.dualstack.{s.region}.{s.url_suffix}"
            ),
        },
    ),
    "AWS::Logs::LogGroup": Kind(
        ("LogGroupName",), _name, {"Arn": _arn("logs", "log-group:{name}:*")}
    ),
    "AWS::CloudWatch::Alarm": Kind(
        ("AlarmName",), _name, {"Arn": _arn("cloudwatch", "alarm:{name}")}
    ),
    "AWS::CloudWatch::CompositeAlarm": Kind(
        ("AlarmName",), _name, {"Arn": _arn("cloudwatch", "alarm:{name}")}
    ),
    "AWS::CloudWatch::Dashboard": Kind(("DashboardName",), _name),
    "AWS::SNS::Topic": Kind(("TopicName",), _SNS_ARN, {"TopicArn": _SNS_ARN, "TopicName": _name}),
    "AWS::IAM::Role": Kind(("RoleName",), _name, {"Arn": _iam_arn("role")}),
    "AWS::IAM::User": Kind(("UserName",), _name, {"Arn": _iam_arn("user")}),
    "AWS::IAM::ManagedPolicy": Kind(
        ("ManagedPolicyName",), _iam_arn("policy"), {"PolicyArn": _iam_arn("policy")}
    ),
    "AWS::SSM::Parameter": Kind(
        ("Name",), _name, {"Type": _property("Type"), "Value": _property("Value")}
    ),
    "AWS::ECS::Cluster": Kind(("ClusterName",), _name, {"Arn": _arn("ecs", "cluster/{name}")}),
    "AWS::ECS::Service": Kind(
        ("ServiceName",),
        _named(_ecs_service_arn),
        {"Name": _name, "ServiceArn": _named(_ecs_service_arn)},
    ),
    "AWS::CloudTrail::Trail": Kind(
        ("TrailName",), _name, {"Arn": _arn("cloudtrail", "trail/{name}")}
    ),
    "AWS::StepFunctions::StateMachine": Kind(
        ("StateMachineName",), _STATES_ARN, {"Arn": _STATES_ARN, "Name": _name}
    ),
    "AWS::Kinesis::Stream": Kind(("Name",), _name, {"Arn": _arn("kinesis", "stream/{name}")}),
    "AWS::Events::Rule": Kind(("Name",), _name, {"Arn": _arn("events", "rule/{name}")}),
    "AWS::Budgets::Budget": Kind(("Budget", "BudgetName"), _name),
    "AWS::ApiGateway::Stage": Kind(("StageName",), _name),
    "AWS::CodeDeploy::Application": Kind(("ApplicationName",), _name),
    "AWS::CodeDeploy::DeploymentGroup": Kind(("DeploymentGroupName",), _name),
    "AWS::KMS::Alias": Kind(("AliasName",), _name),
}


def is_custom(cfn_type: str) -> bool:
    """A custom resource: its attributes come from code the template does not contain."""
    return cfn_type == "AWS::CloudFormation::CustomResource" or cfn_type.startswith("Custom::")


def fifo_suffix(cfn_type: str, fifo: Any) -> str:
    """CloudFormation ends a FIFO queue's generated name with ``.fifo`` (SQS requires it)."""
    is_fifo = fifo is True or (isinstance(fifo, str) and fifo.lower() == "true")
    return ".fifo" if cfn_type == "AWS::SQS::Queue" and is_fifo else ""
