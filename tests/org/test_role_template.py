"""The collection role as a CloudFormation template: exactly the printed policy, a trust policy
for the account that runs the checks, and a template cfn-lint accepts."""

from __future__ import annotations

import json
from typing import Any

import cfnlint.api
import pytest
import yaml
from typer.testing import CliRunner

from runbook_guard.cli import commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.collectors.policy import iam_policy
from runbook_guard.collectors.role_template import render, role_template
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fileio import canonical_json

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CHECKER = "999999999999"


def role_of(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"]["CollectionRole"]["Properties"]
    return properties


def test_the_role_policy_is_exactly_what_iam_policy_prints() -> None:
    printed = json.loads(CliRunner().invoke(app, ["iam-policy"]).stdout)
    [policy] = role_of(role_template(CHECKER))["Policies"]
    assert policy["PolicyDocument"] == printed == iam_policy()
    with_key = role_of(role_template(CHECKER, kms_keys=[KEY], partition="aws"))["Policies"][0]
    assert with_key["PolicyDocument"] == iam_policy([KEY])


def test_the_trust_policy_names_the_account_that_runs_the_checks() -> None:
    [statement] = role_of(role_template(CHECKER))["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{CHECKER}:root"}},
        "Action": "sts:AssumeRole",
    }
    ci_role = f"arn:aws:iam::{CHECKER}:role/ci"
    [only_ci] = role_of(role_template(ci_role, external_id="org-42"))["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert only_ci["Principal"] == {"AWS": ci_role}
    assert only_ci["Condition"] == {"StringEquals": {"sts:ExternalId": "org-42"}}


@pytest.mark.parametrize("form", ["yaml", "json"])
def test_cfn_lint_accepts_the_template(form: str) -> None:
    text = render(role_template(CHECKER, external_id="org-42", kms_keys=[KEY]), form)
    matches = cfnlint.api.lint(text, regions=["us-east-1"])
    assert matches == [], [str(m) for m in matches]
    parsed = yaml.safe_load(text) if form == "yaml" else json.loads(text)
    assert canonical_json(parsed) == canonical_json(
        role_template(CHECKER, external_id="org-42", kms_keys=[KEY])
    )


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"trusted": "12345"}, "--trusted-account"),
        ({"trusted": CHECKER, "external_id": "x"}, "--external-id"),
        ({"trusted": CHECKER, "role_name": "has space"}, "--role-name"),
    ],
)
def test_bad_values_are_bad_input(kwargs: dict[str, Any], words: str) -> None:
    trusted = kwargs.pop("trusted")
    with pytest.raises(InputError) as raised:
        role_template(trusted, **kwargs)
    assert words in raised.value.problems[0]
