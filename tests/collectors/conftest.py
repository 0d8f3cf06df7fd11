"""Fixtures for the collection stage: one mocked AWS account per test module.

Entering ``mock_aws`` resets every moto backend (about a second here), so each module enters it
once and seeds the runbook's stack once; tests then only read. Tests that need failures inject
them through botocore's event system on the collecting session, never by editing moto state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from moto import mock_aws

from runbook_guard.collectors import Scope, collect
from runbook_guard.demo import insights
from runbook_guard.demo.plans import everything_plan
from runbook_guard.demo.stack import Seeded, seed_runbook_stack
from runbook_guard.engine.plan import CollectionPlan

ROOT = Path(__file__).resolve().parents[2]
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # moto has no Free Tier API and in-process mock_aws lets the call through to the real
    # endpoint; a closed loopback port makes it fail at once, the same way everywhere, instead
    # of sending dummy credentials to AWS when the machine has a network.
    "AWS_ENDPOINT_URL_FREETIER": "http://127.0.0.1:9",
}
#: Variables that would send the tests to a real endpoint or profile.
UNSET_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")

Collect = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def aws_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in DUMMY_ENV.items():
            patch.setenv(name, value)
        for name in UNSET_ENV:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def mocked(aws_env: None) -> Iterator[None]:
    insights.install()  # moto ignores a Logs Insights query's filter and stats
    with mock_aws():
        yield


@pytest.fixture(scope="module")
def seeded(mocked: None) -> Seeded:
    return seed_runbook_stack()


def full_plan() -> CollectionPlan:
    """Every resource type, with the metrics and log count the runbook's rules ask for."""
    return everything_plan("agenticai")


@pytest.fixture
def plan() -> CollectionPlan:
    return full_plan()


def hooked_session(*hooks: tuple[str, Callable[..., Any]]) -> Callable[[str | None], boto3.Session]:
    """A session factory registering botocore event handlers first, before moto's."""

    def factory(profile: str | None) -> boto3.Session:
        session = boto3.Session(profile_name=profile)
        for event, handler in hooks:
            session.events.register_first(event, handler)
        return session

    return factory


@pytest.fixture
def run() -> Collect:
    """``collect`` with test-friendly defaults: one attempt, quiet."""

    def go(plan: CollectionPlan, **scope: Any) -> dict[str, Any]:
        scope.setdefault("max_attempts", 1)
        scope.setdefault("quiet", True)
        return collect(plan, Scope(**scope))

    return go


@pytest.fixture(scope="session")
def snapshot_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((ROOT / "schemas" / "snapshot.schema.json").read_text())
    return schema


@pytest.fixture
def valid(snapshot_schema: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def check(snapshot: dict[str, Any]) -> None:
        jsonschema.validate(snapshot, snapshot_schema)

    return check


@pytest.fixture(scope="session")
def hooked() -> Callable[..., Callable[[str | None], boto3.Session]]:
    return hooked_session


@pytest.fixture(scope="session")
def make_plan() -> Callable[[], CollectionPlan]:
    return full_plan
