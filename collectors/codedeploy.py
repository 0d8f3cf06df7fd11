"""CodeDeploy deployment groups: how deploys shift traffic (gradually, through the alias: RB-I10).

Read one group at a time with GetDeploymentGroup: BatchGetDeploymentGroups would save calls
but moto does not implement it, and a runbook's account holds a handful of groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

DEPLOYMENT_GROUP = "aws.codedeploy.deployment_group"
API = OperationSet(
    "codedeploy.deployment_groups",
    "codedeploy",
    ("ListApplications", "ListDeploymentGroups", "GetDeploymentGroup"),
)


@register(API, DEPLOYMENT_GROUP)
def collect_deployment_groups(
    call: Call, requests: Mapping[str, TypeRequest]
) -> list[dict[str, Any]]:
    """Every group of every application; a group whose details fail is kept by its names.

    Its error then names no data key, so every rule on that group is ``error`` while a rule
    asking whether the group exists still finds it.
    """
    applications = call.items("ListApplications", "applications", listing=True)
    resources = []
    for application in applications or []:
        names = call.items(
            "ListDeploymentGroups", "deploymentGroups", listing=True, applicationName=application
        )
        for name in names or []:
            arn = call.arn("codedeploy", f"deploymentgroup:{application}/{name}")
            data: dict[str, Any] = {"applicationName": application, "deploymentGroupName": name}
            answer = call.request(
                "GetDeploymentGroup",
                applicationName=application,
                deploymentGroupName=name,
                resource=arn,
            )
            if answer is not None:
                data.update(answer.get("deploymentGroupInfo") or {})
            resources.append(call.resource(DEPLOYMENT_GROUP, arn, str(name), data))
    return resources
