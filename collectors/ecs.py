"""ECS clusters and services (the runbook's websocket service must be running).

ListClusters and ListServices are the listings: their ARNs carry the names
(``cluster/NAME``, ``service/CLUSTER/NAME``, or ``service/NAME`` in the old format), so a
resource no rule selects is known by its ARN and names alone and never described.
DescribeClusters and DescribeServices are the details, batched as the API allows (100
clusters, 10 services a call), made only when some rule reads a key they fill, for the
resources some rule selects, with the batches on the collection's pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

CLUSTER = "aws.ecs.cluster"
SERVICE = "aws.ecs.service"
#: What a listed cluster carries before DescribeClusters (both members of its Cluster shape).
CLUSTER_KEYS = ("clusterArn", "clusterName")
#: What a listed service carries before DescribeServices: the Service members its ARN and its
#: cluster give, and the ``clusterName`` this module adds to every service.
SERVICE_KEYS = ("serviceArn", "serviceName", "clusterArn", "clusterName")
API = OperationSet(
    "ecs.clusters",
    "ecs",
    ("ListClusters", "DescribeClusters", "ListServices", "DescribeServices"),
    fills={
        "ListClusters": {CLUSTER: CLUSTER_KEYS},
        "DescribeClusters": {CLUSTER: [Shape("ecs", "DescribeClusters", ("clusters[]",))]},
        "ListServices": {SERVICE: SERVICE_KEYS},
        "DescribeServices": {
            SERVICE: [Shape("ecs", "DescribeServices", ("services[]",)), "clusterName"]
        },
    },
    answers={
        "ListClusters": ("clusterArns",),
        "DescribeClusters": ("clusters", "failures"),
        "ListServices": ("serviceArns",),
        "DescribeServices": ("services", "failures"),
    },
    listings=("ListClusters", "ListServices"),
)
#: At most this many names per DescribeClusters / DescribeServices call (ECS API Reference).
CLUSTER_BATCH = 100
SERVICE_BATCH = 10


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _name(arn: str) -> str:
    """The last part of an ECS ARN: the cluster's or the service's name."""
    return arn.rsplit("/", 1)[-1]


def _to_describe(
    call: Call, listed: Mapping[str, dict[str, Any]], resource_type: str, operation: str
) -> list[str]:
    """The listed ARNs some rule selects, when some rule reads what ``operation`` fills."""
    if not call.wants(operation, resource_type):
        return []
    return [
        arn
        for arn, data in listed.items()
        if call.selects(_name(arn), data, resource_type=resource_type)
    ]


def _clusters(call: Call, arns: list[str]) -> list[dict[str, Any]]:
    listed = {str(arn): {"clusterArn": str(arn), "clusterName": _name(str(arn))} for arn in arns}
    chosen = _to_describe(call, listed, CLUSTER, "DescribeClusters")

    def describe(chunk: list[str]) -> list[dict[str, Any]]:
        response = call.request("DescribeClusters", clusters=chunk, resource_type=CLUSTER)
        if response is None or response.get("failures"):
            call.incomplete(CLUSTER)
        return [
            call.resource(CLUSTER, str(cluster["clusterArn"]), str(cluster["clusterName"]), cluster)
            for cluster in (response or {}).get("clusters") or []
        ]

    described = call.each(_chunks(chosen, CLUSTER_BATCH), describe)
    resources = [resource for found in described for resource in found]
    skipped = set(listed) - set(chosen)
    unchosen = (arn for arn in listed if arn in skipped)
    resources.extend(call.resource(CLUSTER, arn, _name(arn), listed[arn]) for arn in unchosen)
    return resources


def _services(call: Call, cluster_arn: str) -> list[dict[str, Any]]:
    cluster_name = _name(cluster_arn)
    arns = call.items(
        "ListServices", "serviceArns", cluster=cluster_arn, resource_type=SERVICE, listing=True
    )
    listed = {
        str(arn): {
            "serviceArn": str(arn),
            "serviceName": _name(str(arn)),
            "clusterArn": cluster_arn,
            "clusterName": cluster_name,
        }
        for arn in arns or []
    }
    chosen = _to_describe(call, listed, SERVICE, "DescribeServices")

    def describe(chunk: list[str]) -> list[dict[str, Any]]:
        response = call.request(
            "DescribeServices", cluster=cluster_arn, services=chunk, resource_type=SERVICE
        )
        if response is None or response.get("failures"):
            call.incomplete(SERVICE)
        resources = []
        for service in (response or {}).get("services") or []:
            data = {**service, "clusterName": cluster_name}
            arn, name = str(service["serviceArn"]), str(service["serviceName"])
            resources.append(call.resource(SERVICE, arn, name, data))
        return resources

    described = call.each(_chunks(chosen, SERVICE_BATCH), describe)
    resources = [resource for found in described for resource in found]
    skipped = set(listed) - set(chosen)
    unchosen = (arn for arn in listed if arn in skipped)
    resources.extend(call.resource(SERVICE, arn, _name(arn), listed[arn]) for arn in unchosen)
    return resources


@register(API, CLUSTER, SERVICE)
def collect_ecs(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """Services need the cluster list anyway, so one collector serves both types.

    A described resource that DescribeClusters or DescribeServices does not return (a failed
    batch, or ``failures`` such as a service deleted since it was listed) is left out, and its
    type marked incomplete, as before field-level collection.
    """
    arns = call.items("ListClusters", "clusterArns", listing=True, resource_type=CLUSTER)
    if arns is None:
        call.incomplete(SERVICE)
        return []
    resources = _clusters(call, arns) if CLUSTER in requests else []
    if SERVICE in requests:
        for found in call.each(arns, lambda arn: _services(call, arn)):
            resources.extend(found)
    return resources
