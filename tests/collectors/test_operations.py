"""Every API operation of a full collection is declared, in the IAM policy, and read-only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from runbook_guard.cli import commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.collectors import Scope, collect
from runbook_guard.collectors.awslambda import API as LAMBDA_API
from runbook_guard.collectors.calls import Call, UndeclaredOperation
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.organization import SETUP_APIS
from runbook_guard.collectors.policy import declared_operations
from runbook_guard.collectors.registry import OPERATION_SETS, is_read_only, load_all
from runbook_guard.collectors.ssm import API as SSM_API
from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.plan import CollectionPlan


@pytest.fixture(scope="module")
def observed(
    seeded: Seeded, make_plan: Callable[[], CollectionPlan], hooked: Callable[..., Any]
) -> set[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()

    def record(model: Any, **_: Any) -> None:
        seen.add((model.service_model.service_name, model.name))

    collect(
        make_plan(),
        Scope(max_attempts=1, quiet=True, session_factory=hooked(("before-call", record))),
    )
    return seen


@pytest.fixture(scope="module")
def policy_actions() -> set[str]:
    result = CliRunner().invoke(app, ["iam-policy"])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.output)
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def test_every_observed_operation_is_declared(observed: set[tuple[str, str]]) -> None:
    declared = declared_operations()
    assert observed, "the hook saw no calls"
    for service, operation in sorted(observed):
        assert operation in declared.get(service, set()), (service, operation)


def test_every_observed_operation_is_read_only(observed: set[tuple[str, str]]) -> None:
    for _, operation in observed:
        assert is_read_only(operation), operation


def test_every_observed_operation_is_in_the_iam_policy(
    observed: set[tuple[str, str]], policy_actions: set[str]
) -> None:
    actions = {
        (api.service, operation): api.iam_action(operation)
        for api in OPERATION_SETS
        for operation in api.operations
    }
    for key in observed:
        assert actions[key] in policy_actions, key


def test_a_full_collection_touches_every_service(observed: set[tuple[str, str]]) -> None:
    # Setup calls (Organizations discovery, region discovery) run only when asked for.
    load_all()
    collected = {api.service for api in OPERATION_SETS if api not in SETUP_APIS}
    assert {service for service, _ in observed} == collected
    assert collected <= set(declared_operations())


def test_policy_grants_no_write_or_secret_action(policy_actions: set[str]) -> None:
    assert "sts:GetCallerIdentity" in policy_actions
    assert "iam:GenerateCredentialReport" in policy_actions
    for action in policy_actions:
        verb = action.split(":", 1)[1]
        assert verb == "GET" or is_read_only(verb) or verb == "ViewBudget", action
        assert not verb.startswith(("GetParameter", "GetSecretValue", "Put", "Delete")), action


def test_an_undeclared_operation_is_refused() -> None:
    """SSM declares no GetParameter*, so no collector could read a secret value by mistake."""
    assert not any(op.startswith("GetParameter") for op in SSM_API.operations)
    call = Call(SSM_API, None, Journal(), "1", "us-east-1", "aws.ssm.parameter")  # type: ignore[arg-type]
    with pytest.raises(UndeclaredOperation):
        call.request("GetParameter", Name="/agenticai/gemini-api-key", WithDecryption=True)
    lam = Call(LAMBDA_API, None, Journal(), "1", "us-east-1", "aws.lambda.function")  # type: ignore[arg-type]
    with pytest.raises(UndeclaredOperation):
        lam.request("GetFunction", FunctionName="x")


def test_the_policy_grants_the_newer_collectors_reads(policy_actions: set[str]) -> None:
    """Account settings, Free Tier, security groups and CodeDeploy are printed; kms:Decrypt,
    which an undecryptable Lambda environment's error names, is not granted by default."""
    assert {
        "lambda:GetAccountSettings",
        "lambda:ListEventSourceMappings",
        "cloudwatch:DescribeAlarms",
        "freetier:GetFreeTierUsage",
        "ec2:DescribeSecurityGroups",
        "codedeploy:ListApplications",
        "codedeploy:ListDeploymentGroups",
        "codedeploy:GetDeploymentGroup",
    } <= policy_actions
    assert "kms:Decrypt" not in policy_actions
