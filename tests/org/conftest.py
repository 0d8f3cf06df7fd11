"""Fixtures for organisation-scale tests: moto with several accounts, each with its own state.

moto's AssumeRole hands out credentials of the role ARN's account, and every later call with
them reads and writes that account's backends: so seeding through an assumed session puts
resources in that account only, as AWS would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runbook_guard.collectors import Scope, collect
from runbook_guard.engine.plan import CollectionPlan
from tests.collectors.conftest import DUMMY_ENV, UNSET_ENV

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
ROLE = "audit"
QUEUES = ("pm", "dev", "qa", "ops")


def role_of(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{ROLE}"


def assumed(account: str) -> boto3.Session:
    """A session in ``account`` (moto: the role's account), for seeding it."""
    sts = boto3.client("sts", region_name="us-east-1")
    creds = sts.assume_role(RoleArn=role_of(account), RoleSessionName="seed")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def seed_account(
    account: str, *, prefix: str = "agenticai", region: str = "us-east-1", deployer: bool = True
) -> None:
    """The work queues (and the deployer with one access key) of one stack in one account."""
    session = assumed(account)
    sqs = session.client("sqs", region_name=region)
    for queue in QUEUES:
        sqs.create_queue(QueueName=f"{prefix}-{queue}-queue")
    if deployer:
        iam = session.client("iam", region_name="us-east-1")
        iam.create_user(UserName=f"{prefix}-deployer")
        iam.create_access_key(UserName=f"{prefix}-deployer")


def plan_of(*types: str) -> CollectionPlan:
    plan = CollectionPlan()
    for resource_type in types:
        plan.request(resource_type)
    return plan


@pytest.fixture(scope="module")
def mocked() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in DUMMY_ENV.items():
            patch.setenv(name, value)
        for name in UNSET_ENV:
            patch.delenv(name, raising=False)
        with mock_aws():
            yield


Run = Callable[..., dict[str, Any]]


@pytest.fixture
def run() -> Run:
    """``collect`` with test-friendly defaults: one attempt, quiet."""

    def go(plan: CollectionPlan, **scope: Any) -> dict[str, Any]:
        scope.setdefault("max_attempts", 1)
        scope.setdefault("quiet", True)
        return collect(plan, Scope(**scope))

    return go
