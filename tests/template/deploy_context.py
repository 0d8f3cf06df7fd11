"""What the deploy helper's modules share: where the stack lives, and how a property is
read back and applied (``Setting``).

The producers name who made a live value what it is: ``cloudformation`` (moto's CloudFormation
applied it, as read back), ``helper`` (applied through the service API, as read back),
``cloudformation (not read back)`` (a property no rule reads) or ``not applied: <why>`` (moto
refuses the call, or accepts and ignores it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

CLOUDFORMATION, HELPER, UNCHECKED = "cloudformation", "helper", "cloudformation (not read back)"
#: The pseudo-property under which the stack tags CloudFormation adds are recorded.
STACK_TAGS = "Tags (aws:cloudformation:*)"


@dataclass(frozen=True)
class Context:
    """Where the stack lives and how CloudFormation would name what it creates."""

    session: boto3.Session
    region: str
    account: str
    partition: str
    stack_name: str
    stack_id: str

    def client(self, service: str) -> Any:
        region = "us-east-1" if service == "budgets" else self.region
        return self.session.client(service, region_name=region)  # type: ignore[call-overload]

    def physical_name(self, logical_id: str, limit: int = 255) -> str:
        """``<stack>-<LogicalId>-<SUFFIX>``: CloudFormation's name for an unnamed resource.

        The suffix is CloudFormation's to choose; here it is derived so runs repeat, and it
        differs from the template gate's own suffix, so nothing can pass by sharing a name.
        """
        suffix = hashlib.sha256(f"live\x1f{self.stack_name}\x1f{logical_id}".encode())
        tail = suffix.hexdigest()[:12].upper()
        head = f"{self.stack_name}-{logical_id}"[: limit - len(tail) - 1]
        return f"{head}-{tail}"

    def stack_tags(self, logical_id: str) -> dict[str, str]:
        """The tags CloudFormation puts on every taggable resource it creates."""
        return {
            "aws:cloudformation:stack-name": self.stack_name,
            "aws:cloudformation:stack-id": self.stack_id,
            "aws:cloudformation:logical-id": logical_id,
        }


def pick(props: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """Properties renamed to the API's parameter names (only those the template sets)."""
    return {api: props[cfn] for cfn, api in names.items() if cfn in props}


def camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the lowerCamelCase of the ECS/CodeDeploy APIs."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel(item) for item in value]
    return value


def same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Setting:
    """How to read one property back from the live resource, and how to apply it."""

    read: Callable[[Context, str], Any]
    apply: Callable[[Context, str, Any], None]
    want: Callable[[Any], Any] = same


def absent_as_none(call: Callable[[], Any], *codes: str) -> Any:
    """A service's "not configured" error (S3's NoSuchLifecycleConfiguration, ...) as None."""
    try:
        return call()
    except ClientError as error:
        if error.response["Error"]["Code"] in codes:
            return None
        raise
