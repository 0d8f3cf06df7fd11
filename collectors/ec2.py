"""EC2 security groups: which traffic each admits (the websocket service's group, RB-I11).

Named by GroupId, because that is how ECS services refer to their groups
(``networkConfiguration.awsvpcConfiguration.securityGroups``), so a rule can follow a service
to its groups by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

SECURITY_GROUP = "aws.ec2.security_group"
#: The listing is the whole collection: a group is all DescribeSecurityGroups says of it (the
#: EC2 model loads slowly: the shape's members are read on first need, not at import).
API = OperationSet(
    "ec2.security_groups",
    "ec2",
    ("DescribeSecurityGroups",),
    fills={
        "DescribeSecurityGroups": {
            SECURITY_GROUP: [Shape("ec2", "DescribeSecurityGroups", ("SecurityGroups[]",))]
        }
    },
    answers={"DescribeSecurityGroups": ("SecurityGroups",)},
    listings=("DescribeSecurityGroups",),
)


@register(API, SECURITY_GROUP)
def collect_security_groups(
    call: Call, requests: Mapping[str, TypeRequest]
) -> list[dict[str, Any]]:
    groups = call.items("DescribeSecurityGroups", "SecurityGroups", listing=True)
    if groups is None:
        return []
    resources = []
    for group in groups:
        group_id = str(group["GroupId"])
        arn = str(group.get("SecurityGroupArn") or call.arn("ec2", f"security-group/{group_id}"))
        resources.append(call.resource(SECURITY_GROUP, arn, group_id, group))
    return resources
