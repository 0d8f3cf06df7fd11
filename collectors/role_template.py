"""The read-only collection role as a CloudFormation template, for a StackSet across an
organisation.

The role's one inline policy is exactly what ``iam-policy`` prints (``policy.iam_policy``,
the same arguments), so the role everywhere grants what the collectors declare and no more; a
test compares the two. Its trust policy lets one account (the one that runs the checks) or one
principal in it assume the role, with an ``sts:ExternalId`` condition when an external id is
given. ``MaxSessionDuration`` stays at an hour: assumed credentials are refreshed before they
expire (``collectors/context.py``), so a long collection needs no longer sessions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from runbook_guard.collectors.partitions import DEFAULT_PARTITION
from runbook_guard.collectors.policy import iam_policy
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fileio import canonical_json

DEFAULT_ROLE_NAME = "RunbookGuardReadOnly"
#: IAM's limit on a role's inline policies, all together (characters, whitespace aside).
INLINE_POLICY_LIMIT = 10_240
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[A-Za-z0-9_+=,.@/:-]+$")
_ROLE_NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$")


def role_template(
    trusted: str,
    *,
    external_id: str | None = None,
    role_name: str = DEFAULT_ROLE_NAME,
    kms_keys: Iterable[str] = (),
    partition: str = DEFAULT_PARTITION,
    policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A template creating ``role_name`` with the collection policy, assumable by ``trusted``.

    ``trusted``: the account id that runs the checks (any principal there its own policies
    allow), or one principal's ARN in it (the CI role). Bad values are ``InputError``s naming
    the option.
    """
    _check(trusted, external_id, role_name)
    # ``policy``: the one ``iam-policy`` printed for a selection (narrower); else the tool's.
    policy = dict(policy) if policy is not None else iam_policy(kms_keys, partition)
    size = len("".join(json.dumps(policy).split()))
    if size > INLINE_POLICY_LIMIT:  # a programming limit, not the user's input
        raise RuntimeError(f"the collection policy is {size} characters, over IAM's inline limit")
    principal = (
        {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{trusted}:root"}
        if _ACCOUNT.match(trusted)
        else trusted
    )
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "runbook-guard: the read-only role its collection assumes in each account "
            "(deploy with a StackSet across the organization)"
        ),
        "Resources": {
            "CollectionRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role_name,
                    "Description": "Read-only: exactly what `runbook-guard iam-policy` prints",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [statement],
                    },
                    "Policies": [{"PolicyName": "runbook-guard-read", "PolicyDocument": policy}],
                },
            }
        },
        "Outputs": {
            "RoleArn": {
                "Description": "Give its name to --role-name (or its ARN to --role-arn)",
                "Value": {"Fn::GetAtt": ["CollectionRole", "Arn"]},
            }
        },
    }


def render(template: dict[str, Any], form: str = "yaml") -> str:
    """The template as YAML (block style, keys in order) or canonical JSON."""
    if form == "json":
        return canonical_json(template)
    if form == "yaml":
        return yaml.safe_dump(template, sort_keys=False, default_flow_style=False, width=100)
    raise InputError([f"--format: {form!r} is not yaml or json"])


def _check(trusted: str, external_id: str | None, role_name: str) -> None:
    problems = []
    if not (_ACCOUNT.match(trusted) or _PRINCIPAL.match(trusted)):
        problems.append(
            f"--trusted-account: {trusted!r} is neither a 12-digit account id nor an IAM"
            " principal ARN"
        )
    if external_id is not None and not _EXTERNAL_ID.match(external_id):
        problems.append(
            "--external-id: 2 to 1224 letters, digits or _+=,.@:/- (what AssumeRole accepts)"
        )
    if not _ROLE_NAME.match(role_name):
        problems.append(
            f"--role-name: {role_name!r} is not an IAM role name (1-64 of A-Za-z0-9_+=,.@-)"
        )
    if problems:
        raise InputError(problems)
