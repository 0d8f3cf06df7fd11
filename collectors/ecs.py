"""ECS clusters and services (the runbook's websocket service must be running)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

CLUSTER = "aws.ecs.cluster"
SERVICE = "aws.ecs.service"
API = OperationSet(
    "ecs.clusters",
    "ecs",
    ("ListClusters", "DescribeClusters", "ListServices", "DescribeServices"),
)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _clusters(call: Call, arns: list[str]) -> list[dict[str, Any]]:
    resources = []
    for chunk in _chunks(arns, 100):
        response = call.request("DescribeClusters", clusters=chunk, resource_type=CLUSTER)
        if response is None or response.get("failures"):
            call.incomplete(CLUSTER)
        for cluster in (response or {}).get("clusters") or []:
            resources.append(
                call.resource(
                    CLUSTER, str(cluster["clusterArn"]), str(cluster["clusterName"]), cluster
                )
            )
    return resources


def _services(call: Call, cluster_arn: str) -> list[dict[str, Any]]:
    cluster_name = cluster_arn.rsplit("/", 1)[-1]
    arns = call.items(
        "ListServices", "serviceArns", cluster=cluster_arn, resource_type=SERVICE, listing=True
    )
    resources = []
    for chunk in _chunks(arns or [], 10):
        response = call.request(
            "DescribeServices", cluster=cluster_arn, services=chunk, resource_type=SERVICE
        )
        if response is None or response.get("failures"):
            call.incomplete(SERVICE)
        for service in (response or {}).get("services") or []:
            data = {**service, "clusterName": cluster_name}
            resources.append(
                call.resource(
                    SERVICE, str(service["serviceArn"]), str(service["serviceName"]), data
                )
            )
    return resources


@register(API, CLUSTER, SERVICE)
def collect_ecs(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """Services need the cluster list anyway, so one collector serves both types."""
    arns = call.items("ListClusters", "clusterArns", listing=True, resource_type=CLUSTER)
    if arns is None:
        call.incomplete(SERVICE)
        return []
    resources = _clusters(call, arns) if CLUSTER in requests else []
    if SERVICE in requests:
        for arn in arns:
            resources.extend(_services(call, arn))
    return resources
