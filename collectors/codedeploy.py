"""CodeDeploy deployment groups: how deploys shift traffic (gradually, through the alias: RB-I10).

Read one group at a time with GetDeploymentGroup: BatchGetDeploymentGroups would save calls
but moto does not implement it, and a runbook's account holds a handful of groups. The
listings give each group's application and name; GetDeploymentGroup is its detail, made only
when some rule reads a key it fills and only for the groups some rule selects, on the
collection's pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

DEPLOYMENT_GROUP = "aws.codedeploy.deployment_group"
API = OperationSet(
    "codedeploy.deployment_groups",
    "codedeploy",
    ("ListApplications", "ListDeploymentGroups", "GetDeploymentGroup"),
    fills={
        "ListApplications": {DEPLOYMENT_GROUP: ["applicationName"]},
        "ListDeploymentGroups": {DEPLOYMENT_GROUP: ["applicationName", "deploymentGroupName"]},
        "GetDeploymentGroup": {
            DEPLOYMENT_GROUP: [Shape("codedeploy", "GetDeploymentGroup", ("deploymentGroupInfo",))]
        },
    },
    answers={
        "ListApplications": ("applications",),
        "ListDeploymentGroups": ("deploymentGroups",),
        "GetDeploymentGroup": ("deploymentGroupInfo",),
    },
    listings=("ListApplications", "ListDeploymentGroups"),
)


def _groups(call: Call, application: str) -> list[dict[str, Any]]:
    """One application's groups as listed: its name and theirs."""
    names = call.items(
        "ListDeploymentGroups", "deploymentGroups", listing=True, applicationName=application
    )
    return [{"applicationName": application, "deploymentGroupName": name} for name in names or []]


@register(API, DEPLOYMENT_GROUP)
def collect_deployment_groups(
    call: Call, requests: Mapping[str, TypeRequest]
) -> list[dict[str, Any]]:
    """Every group of every application; a group whose details fail is kept by its names.

    Its error then names no data key, so every rule on that group is ``error`` while a rule
    asking whether the group exists still finds it. A group no rule selects, or every group
    when no rule reads past the names, is kept by its names without the call.
    """
    applications = call.items("ListApplications", "applications", listing=True)
    listed = [
        group
        for found in call.each(applications or [], lambda a: _groups(call, a))
        for group in found
    ]
    details = call.wants("GetDeploymentGroup")

    def envelope(group: dict[str, Any]) -> dict[str, Any]:
        application, name = group["applicationName"], group["deploymentGroupName"]
        # Built from the names, so the id is the same whether the detail call runs or not.
        arn = call.arn("codedeploy", f"deploymentgroup:{application}/{name}")
        data = dict(group)
        if details and call.selects(str(name), group):
            answer = call.request(
                "GetDeploymentGroup",
                applicationName=application,
                deploymentGroupName=name,
                resource=arn,
            )
            if answer is not None:
                data.update(answer.get("deploymentGroupInfo") or {})
        return call.resource(DEPLOYMENT_GROUP, arn, str(name), data)

    return call.each(listed, envelope)
