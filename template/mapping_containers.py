"""ECS clusters and services, and the EC2 security groups a service runs in.

A security group's id (``GroupId``) is assigned by EC2, and the envelope's name is that id (ECS
services name their groups by it, and rules follow a service to its groups by name): before
deploy the group is named ``<stack>.<LogicalId>`` and ``GroupId`` is known after deploy. Its
rules are CloudFormation's one-source entries (inline, and the separate
``AWS::EC2::SecurityGroupIngress``/``Egress`` resources naming it) grouped as EC2 answers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.template.mapping_base import (
    EMPTY,
    Ctx,
    Field,
    Props,
    Table,
    camel,
    each,
    referenced_id,
    shape,
    the_name,
)
from runbook_guard.template.mapping_values import boolean, integer
from runbook_guard.template.model import Unresolved

# ECS -----------------------------------------------------------------------------------------


def _cluster(props: Props, ctx: Ctx) -> Any:
    """The cluster a service runs in, by name: ``Ref`` gives a name, ``GetAtt Arn`` an ARN;
    left out, the account's ``default`` cluster."""
    cluster = props.get("Cluster", "default")
    if isinstance(cluster, str):
        return cluster.rsplit("/", 1)[-1]
    return cluster


def _cluster_arn(props: Props, ctx: Ctx) -> Any:
    cluster = _cluster(props, ctx)
    return ctx.arn("ecs", f"cluster/{cluster}") if isinstance(cluster, str) else cluster


def _service_arn(props: Props, ctx: Ctx) -> Any:
    cluster = _cluster(props, ctx)
    if not isinstance(cluster, str):
        return cluster
    return ctx.named(lambda name: ctx.arn("ecs", f"service/{cluster}/{name}"))


def _service_identity(ctx: Ctx) -> str:
    cluster = _cluster(ctx.props, ctx)
    shown = cluster if isinstance(cluster, str) else ctx.standin
    return ctx.arn("ecs", f"service/{shown}/{ctx.display_name()}")


STRATEGY = (*camel("CapacityProvider"), *camel("Weight", "Base", convert=integer))
ECS_CLUSTER = Table(
    "aws.ecs.cluster",
    "AWS::ECS::Cluster",
    fields=(
        Field(
            "clusterArn",
            "ClusterName",
            derive=lambda props, ctx: ctx.named(lambda name: ctx.arn("ecs", f"cluster/{name}")),
        ),
        Field("clusterName", "ClusterName", derive=the_name),
        Field("capacityProviders", "CapacityProviders", default=[]),
        Field(
            "defaultCapacityProviderStrategy",
            "DefaultCapacityProviderStrategy",
            default=[],
            convert=each(shape(STRATEGY)),
        ),
    ),
    identity=lambda ctx: ctx.arn("ecs", f"cluster/{ctx.display_name()}"),
    name_prop="ClusterName",
)


def _group_names(value: Any, ctx: Ctx) -> Any:
    """The groups a service runs in, by the name their envelopes carry.

    EC2 assigns a group's id, so ``!Ref Group`` (or ``!GetAtt Group.GroupId``) is known only
    after deploy; but a group this template declares is the envelope named
    ``<stack>.<LogicalId>``, and naming it so lets the rules judge its rules before deploy
    instead of leaving the service's network configuration unknown.
    """
    if not isinstance(value, list):
        return value
    return [_group_name(item, ctx) for item in value]


def _group_name(item: Any, ctx: Ctx) -> Any:
    target = ctx.ref(item)
    if target is None or target.type != "AWS::EC2::SecurityGroup":
        return item
    if item.intrinsic not in (
        f"Ref {target.logical_id}",
        f"Fn::GetAtt {target.logical_id}.GroupId",
    ):
        return item
    return Ctx.of(ctx.scope, target).standin


AWSVPC = (
    Field("subnets", "Subnets"),
    Field("securityGroups", "SecurityGroups", convert=_group_names),
    Field("assignPublicIp", "AssignPublicIp", default="DISABLED"),
)
DEPLOYMENT = (
    Field("maximumPercent", "MaximumPercent", 200, integer),
    Field("minimumHealthyPercent", "MinimumHealthyPercent", 100, integer),
    Field(
        "deploymentCircuitBreaker",
        "DeploymentCircuitBreaker",
        convert=shape(camel("Enable", "Rollback", convert=boolean)),
    ),
    Field(
        "alarms",
        "Alarms",
        convert=shape((*camel("AlarmNames"), *camel("Enable", "Rollback", convert=boolean))),
    ),
)
ECS_SERVICE = Table(
    "aws.ecs.service",
    "AWS::ECS::Service",
    fields=(
        Field("serviceArn", "ServiceName", derive=_service_arn),
        Field("serviceName", "ServiceName", derive=the_name),
        Field("clusterArn", "Cluster", derive=_cluster_arn),
        Field("clusterName", "Cluster", derive=_cluster),
        Field("desiredCount", "DesiredCount", 1, integer),
        Field("launchType", "LaunchType"),
        Field(
            "capacityProviderStrategy", "CapacityProviderStrategy", convert=each(shape(STRATEGY))
        ),
        Field("platformVersion", "PlatformVersion"),
        Field("taskDefinition", "TaskDefinition"),
        Field(
            "networkConfiguration",
            "NetworkConfiguration",
            convert=shape(
                (Field("awsvpcConfiguration", "AwsvpcConfiguration", convert=shape(AWSVPC)),)
            ),
        ),
        Field(
            "loadBalancers",
            "LoadBalancers",
            default=[],
            convert=each(
                shape(
                    (
                        *camel("TargetGroupArn", "LoadBalancerName", "ContainerName"),
                        *camel("ContainerPort", convert=integer),
                    )
                )
            ),
        ),
        Field("serviceRegistries", "ServiceRegistries", default=[]),
        Field("schedulingStrategy", "SchedulingStrategy", default="REPLICA"),
        Field("deploymentConfiguration", "DeploymentConfiguration", EMPTY, shape(DEPLOYMENT)),
        Field(
            "deploymentController",
            "DeploymentController",
            EMPTY,
            shape((Field("type", "Type", "ECS"),)),
        ),
        Field("healthCheckGracePeriodSeconds", "HealthCheckGracePeriodSeconds", convert=integer),
        Field("enableECSManagedTags", "EnableECSManagedTags", False, boolean),
        Field("enableExecuteCommand", "EnableExecuteCommand", False, boolean),
        Field("propagateTags", "PropagateTags", default="NONE"),
    ),
    identity=_service_identity,
    name_prop="ServiceName",
)

# EC2 security groups -------------------------------------------------------------------------

#: The protocol numbers EC2 answers by name.
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
#: What one CloudFormation rule's source (or destination) becomes in the API's permission.
_PEERS = (
    ("CidrIp", "IpRanges", "CidrIp"),
    ("CidrIpv6", "Ipv6Ranges", "CidrIpv6"),
    ("SourcePrefixListId", "PrefixListIds", "PrefixListId"),
    ("DestinationPrefixListId", "PrefixListIds", "PrefixListId"),
    ("SourceSecurityGroupId", "UserIdGroupPairs", "GroupId"),
    ("DestinationSecurityGroupId", "UserIdGroupPairs", "GroupId"),
)


def _protocol(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        return _PROTOCOLS.get(value, value.lower())
    return value


def _permissions(rules: list[Any]) -> Any:
    """CloudFormation's one-source rules grouped as EC2 answers them: one permission per
    protocol and port range, with every source of it."""
    grouped: dict[tuple[str, ...], dict[str, Any]] = {}
    for rule in rules:
        if not isinstance(rule, Mapping):
            return rule  # an Unresolved, or a rule written wrong: as written
        protocol = _protocol(rule.get("IpProtocol"))
        ports = {} if protocol == "-1" else {
            key: integer(rule[key]) for key in ("FromPort", "ToPort") if key in rule
        }  # fmt: skip
        key = (repr(protocol), repr(ports.get("FromPort")), repr(ports.get("ToPort")))
        permission = grouped.setdefault(
            key,
            {"IpProtocol": protocol, **ports, "IpRanges": [], "Ipv6Ranges": [],
             "PrefixListIds": [], "UserIdGroupPairs": []},
        )  # fmt: skip
        for prop, member, name in _PEERS:
            if prop in rule:
                peer = {name: rule[prop]}
                if "Description" in rule:
                    peer["Description"] = rule["Description"]
                permission[member].append(peer)
    return list(grouped.values())


def _names_group(ctx: Ctx, rule: Props) -> bool:
    """A separate rule names its group by a ``Ref``/``GetAtt`` (the id EC2 assigns) or, in a
    default VPC, by the group's name."""
    if referenced_id(rule.get("GroupId")) == ctx.resource.logical_id:
        return True
    return isinstance(ctx.name, str) and rule.get("GroupName") == ctx.name


def _rules(inline: str, standalone: str, default: Any) -> Any:
    """A group's rules: its inline ones and the separate ingress/egress resources naming it."""

    def derive(props: Props, ctx: Ctx) -> Any:
        written = props.get(inline, [])
        if not isinstance(written, list):
            return written
        extra = [
            rule
            for rule in map(ctx.scope.props, ctx.scope.of_type(standalone))
            if _names_group(ctx, rule)
        ]
        rules = [*written, *extra]
        return _permissions(rules) if rules else default

    return derive


ALLOW_ALL_EGRESS = [
    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
     "PrefixListIds": [], "UserIdGroupPairs": []}
]  # fmt: skip
SECURITY_GROUP = Table(
    "aws.ec2.security_group",
    "AWS::EC2::SecurityGroup",
    fields=(
        Field("GroupId", after_deploy="the id EC2 assigns to the security group"),
        Field("SecurityGroupArn", after_deploy="the ARN holds the id EC2 assigns"),
        Field("GroupName", "GroupName", derive=the_name),
        Field("Description", "GroupDescription"),
        Field(
            "VpcId",
            "VpcId",
            default=lambda props, ctx: Unresolved(
                "after_deploy", "the account's default VPC", ctx.resource.position
            ),
        ),
        Field("OwnerId", derive=lambda props, ctx: ctx.account),
        Field(
            "IpPermissions",
            "SecurityGroupIngress",
            derive=_rules("SecurityGroupIngress", "AWS::EC2::SecurityGroupIngress", []),
        ),
        # A group declared without egress rules gets EC2's allow-all rule.
        Field(
            "IpPermissionsEgress",
            "SecurityGroupEgress",
            derive=_rules("SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress", ALLOW_ALL_EGRESS),
        ),
        Field("Tags", "Tags", default=[]),
    ),
    identity=lambda ctx: ctx.arn("ec2", f"security-group/{ctx.standin}"),
    name_prop="GroupName",
    # The envelope's name is the GroupId (as ECS services name their groups): AWS assigns it.
    label=lambda ctx: ctx.standin,
)


TABLES = (ECS_CLUSTER, ECS_SERVICE, SECURITY_GROUP)
