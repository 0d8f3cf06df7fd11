"""Security groups (EC2) and CodeDeploy deployment groups, against moto.

One module-scoped mock for both: EC2's backend is the slowest of moto's to build and reset,
so it is touched by as few modules as possible.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from runbook_guard.collectors.codedeploy import DEPLOYMENT_GROUP
from runbook_guard.collectors.ec2 import SECURITY_GROUP
from runbook_guard.engine.plan import CollectionPlan
from tests.collectors.test_faults import denied

ACCOUNT_ID = "123456789012"
Run = Callable[..., dict[str, Any]]
EXTRA_GROUPS = 6  # with the default group and the websocket one, more than a page of 5
#: (application, deployment group, deployment configuration)
DEPLOYMENTS = (
    ("agenticai-api", "live", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
    ("agenticai-api", "all-at-once", "CodeDeployDefault.LambdaAllAtOnce"),
    ("agenticai-workers", "live", "CodeDeployDefault.LambdaCanary10Percent5Minutes"),
)


@pytest.fixture(scope="module")
def world(mocked: None) -> str:
    """The websocket service's group (8080 from anywhere, 22 from the VPC) and a few others;
    two CodeDeploy applications. Returns the websocket group's id."""
    ec2 = boto3.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="websocket", Description="ws", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            },
        ],
    )
    for i in range(EXTRA_GROUPS):
        ec2.create_security_group(GroupName=f"other-{i}", Description="x", VpcId=vpc)
    role = boto3.client("iam").create_role(
        RoleName="codedeploy", AssumeRolePolicyDocument=json.dumps({})
    )["Role"]["Arn"]
    codedeploy = boto3.client("codedeploy")
    for application in sorted({a for a, _, _ in DEPLOYMENTS}):
        codedeploy.create_application(applicationName=application, computePlatform="Lambda")
    for application, name, config in DEPLOYMENTS:
        codedeploy.create_deployment_group(
            applicationName=application,
            deploymentGroupName=name,
            serviceRoleArn=role,
            deploymentConfigName=config,
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        )
    return str(group["GroupId"])


def plan_of(resource_type: str) -> CollectionPlan:
    plan = CollectionPlan()
    plan.request(resource_type)
    return plan


def of_type(snapshot: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in snapshot["resources"] if r["type"] == resource_type}


def test_security_groups_are_named_by_id_with_their_rules(world: str, run: Run) -> None:
    snapshot = run(plan_of(SECURITY_GROUP), page_size=5)
    assert snapshot["errors"] == []
    groups = of_type(snapshot, SECURITY_GROUP)
    assert len(groups) == len(boto3.client("ec2").describe_security_groups()["SecurityGroups"])
    assert len(groups) >= EXTRA_GROUPS + 2
    websocket = groups[world]
    assert websocket["id"] == f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:security-group/{world}"
    assert websocket["data"]["GroupName"] == "websocket"
    open_to_all = [
        p["FromPort"]
        for p in websocket["data"]["IpPermissions"]
        if any(r["CidrIp"] == "0.0.0.0/0" for r in p["IpRanges"])
    ]
    assert open_to_all == [8080]
    assert snapshot["coverage"] == [
        {"type": SECURITY_GROUP, "account": ACCOUNT_ID, "region": "us-east-1", "complete": True}
    ]


def test_a_denied_listing_leaves_security_groups_incomplete(
    world: str, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.ec2.DescribeSecurityGroups", denied("UnauthorizedOperation")))
    snapshot = run(plan_of(SECURITY_GROUP), session_factory=factory)
    assert snapshot["resources"] == []
    [error] = snapshot["errors"]
    assert (error["code"], error["iam_action"]) == (
        "UnauthorizedOperation",
        "ec2:DescribeSecurityGroups",
    )
    assert [c["complete"] for c in snapshot["coverage"]] == [False]


def test_deployment_groups_of_every_application(world: str, run: Run) -> None:
    snapshot = run(plan_of(DEPLOYMENT_GROUP))
    assert snapshot["errors"] == []
    found = {
        (r["data"]["applicationName"], r["name"]): r
        for r in snapshot["resources"]
        if r["type"] == DEPLOYMENT_GROUP
    }
    assert set(found) == {(a, n) for a, n, _ in DEPLOYMENTS}
    for application, name, config in DEPLOYMENTS:
        group = found[(application, name)]
        assert group["id"] == (
            f"arn:aws:codedeploy:us-east-1:{ACCOUNT_ID}:deploymentgroup:{application}/{name}"
        )
        assert group["data"]["deploymentConfigName"] == config
        assert group["data"]["computePlatform"] == "Lambda"
        assert group["data"]["deploymentStyle"]["deploymentOption"] == "WITH_TRAFFIC_CONTROL"
    assert [c["complete"] for c in snapshot["coverage"]] == [True]


def test_a_group_whose_details_fail_is_kept_by_name_and_errors_all_its_rules(
    world: str, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.codedeploy.GetDeploymentGroup", denied()))
    snapshot = run(plan_of(DEPLOYMENT_GROUP), session_factory=factory)
    groups = [r for r in snapshot["resources"] if r["type"] == DEPLOYMENT_GROUP]
    assert len(groups) == len(DEPLOYMENTS)
    for group in groups:
        assert set(group["data"]) == {"applicationName", "deploymentGroupName"}
    errors = {e["resource"]: e for e in snapshot["errors"]}
    assert set(errors) == {g["id"] for g in groups}
    assert all("data_keys" not in e for e in errors.values())  # every key of the group
    assert all(e["iam_action"] == "codedeploy:GetDeploymentGroup" for e in errors.values())
    assert [c["complete"] for c in snapshot["coverage"]] == [True]  # all groups are there


def test_a_denied_group_listing_leaves_the_type_incomplete(
    world: str, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.codedeploy.ListDeploymentGroups", denied()))
    snapshot = run(plan_of(DEPLOYMENT_GROUP), session_factory=factory)
    assert snapshot["resources"] == []
    assert {e["operation"] for e in snapshot["errors"]} == {"ListDeploymentGroups"}
    assert [c["complete"] for c in snapshot["coverage"]] == [False]
