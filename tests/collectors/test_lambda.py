"""Lambda: event source mappings bound to an alias, undecryptable environments, account settings.

moto serves the mappings (it stores an alias-bound mapping under the alias's version ARN);
Stubber, which checks every answer against the Lambda model, serves what moto lacks: pages of
mappings, an environment whose KMS key the caller cannot use, and GetAccountSettings.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from runbook_guard.collectors import awslambda
from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.policy import iam_policy
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.engine.snapshot import Snapshot, blocked_lookup
from tests.collectors.test_faults import denied

ACCOUNT_ID = "123456789012"
PREFIX = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:queue-"
UUIDS = ("14e0db71-5d35-4eb5-b481-8945cf9d10c2", "2b1f6a8e-0c3d-4e5f-9a7b-1c2d3e4f5a6b")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
Run = Callable[..., dict[str, Any]]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world(mocked: None) -> dict[str, str]:
    """``aliased`` is invoked through its ``live`` alias, ``plain`` by name; ``plain-2`` (a
    name that ``plain`` is a prefix of) and ``idle`` by nothing. Returns the queue ARNs."""
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({}))["Role"]["Arn"]
    lam, sqs = boto3.client("lambda"), boto3.client("sqs")
    queues = {}
    for name in ("aliased", "plain"):
        url = sqs.create_queue(QueueName=f"{name}-queue")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        queues[name] = attributes["Attributes"]["QueueArn"]
    for name in ("aliased", "plain", "plain-2", "idle"):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
        )
    version = lam.publish_version(FunctionName="aliased")["Version"]
    alias = lam.create_alias(FunctionName="aliased", Name="live", FunctionVersion=version)
    lam.create_event_source_mapping(
        EventSourceArn=queues["aliased"], FunctionName=alias["AliasArn"]
    )
    lam.create_event_source_mapping(EventSourceArn=queues["plain"], FunctionName="plain")
    return queues


def plan() -> CollectionPlan:
    result = CollectionPlan()
    result.request(awslambda.FUNCTION)
    return result


def by_name(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in snapshot["resources"]}


def test_a_mapping_bound_to_an_alias_is_attached_to_its_function(
    world: dict[str, str], run: Run, hooked: Callable[..., Any]
) -> None:
    sent: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    factory = hooked(("before-parameter-build.lambda.ListEventSourceMappings", capture))
    snapshot = run(plan(), session_factory=factory)
    assert snapshot["errors"] == []
    assert sent == [{}]  # one region-wide listing, no FunctionName filter
    functions = by_name(snapshot)
    [aliased] = functions["aliased"]["data"]["EventSourceMappings"]
    assert aliased["EventSourceArn"] == world["aliased"]
    assert aliased["FunctionArn"].startswith(f"{PREFIX}aliased:")  # qualified
    [plain] = functions["plain"]["data"]["EventSourceMappings"]
    assert plain["EventSourceArn"] == world["plain"]
    assert functions["plain-2"]["data"]["EventSourceMappings"] == []
    assert functions["idle"]["data"]["EventSourceMappings"] == []


def test_the_per_function_filter_really_misses_the_alias_mapping(world: dict[str, str]) -> None:
    """Guard against a vacuous pass: what the former per-function call would have stored."""
    lam = boto3.client("lambda")
    assert lam.list_event_source_mappings(FunctionName="aliased")["EventSourceMappings"] == []


def test_a_failed_listing_errors_every_function_on_that_key(
    world: dict[str, str], run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.lambda.ListEventSourceMappings", denied()))
    snapshot = run(plan(), session_factory=factory)
    [error] = snapshot["errors"]
    assert error["operation"] == "ListEventSourceMappings"
    assert error["iam_action"] == "lambda:ListEventSourceMappings"
    assert error["data_keys"] == ["EventSourceMappings"]
    assert error["resource_type"] == awslambda.FUNCTION
    assert "resource" not in error  # the whole type in this account and region
    assert [c["complete"] for c in snapshot["coverage"]] == [True]  # functions all listed
    indexed = Snapshot(snapshot)
    for function in snapshot["resources"]:
        assert "EventSourceMappings" not in function["data"]  # never a passing []
        assert "Aliases" in function["data"]
        blocked = blocked_lookup(indexed.errors_for(function))
        assert blocked(frozenset({"EventSourceMappings"})), function["name"]
        assert not blocked(frozenset({"Aliases"}))


# --- Stubber: what moto does not answer ---------------------------------------------------


@pytest.fixture
def stubbed() -> Iterator[tuple[Call, Stubber]]:
    client = boto3.client(
        "lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        call = Call(awslambda.API, client, Journal(), ACCOUNT_ID, "us-east-1", "", None, NOW)
        call.resource_type = awslambda.FUNCTION
        yield call, stub
        stub.assert_no_pending_responses()


def listed(name: str, **extra: Any) -> dict[str, Any]:
    return {"FunctionName": name, "FunctionArn": f"{PREFIX}{name}", **extra}


ACTIVE = {"State": "Active", "LastUpdateStatus": "Successful"}


def per_function(stub: Stubber, *names: str, state: dict[str, Any] | None = None) -> None:
    """The calls made for each listed function after the listing, in order."""
    for name in names:
        stub.add_response(
            "get_function_configuration",
            {"FunctionName": name, "FunctionArn": f"{PREFIX}{name}", **(state or ACTIVE)},
            {"FunctionName": f"{PREFIX}{name}"},
        )
        stub.add_response("list_aliases", {"Aliases": []}, {"FunctionName": name})
        stub.add_response("get_function_concurrency", {}, {"FunctionName": name})


def test_mappings_on_every_page_reach_their_functions(stubbed: tuple[Call, Stubber]) -> None:
    """ListEventSourceMappings returns at most 100 mappings a page and a ``NextMarker`` while
    more remain (Lambda API Reference, ListEventSourceMappings: ``MaxItems``, ``NextMarker``;
    botocore paginator ``Marker``/``NextMarker``): the mapping on page two must arrive."""
    call, stub = stubbed
    stub.add_response("list_functions", {"Functions": [listed("a"), listed("b")]}, {})
    first = {"UUID": UUIDS[0], "FunctionArn": f"{PREFIX}a:live", "EventSourceArn": f"{QUEUE}1"}
    second = {"UUID": UUIDS[1], "FunctionArn": f"{PREFIX}b", "EventSourceArn": f"{QUEUE}2"}
    stub.add_response(
        "list_event_source_mappings", {"EventSourceMappings": [first], "NextMarker": "m1"}, {}
    )
    stub.add_response(
        "list_event_source_mappings", {"EventSourceMappings": [second]}, {"Marker": "m1"}
    )
    per_function(stub, "a", "b")
    resources = awslambda.collect_functions(call, {})
    assert call.journal.errors == []
    assert [r["data"]["EventSourceMappings"] for r in resources] == [[first], [second]]


def test_an_environment_that_cannot_be_decrypted_is_an_error_naming_kms(
    stubbed: tuple[Call, Stubber],
) -> None:
    """When the caller may not use a function's KMS key, ListFunctions still answers, with
    ``Environment: {Error: {ErrorCode, Message}}`` in place of ``Variables`` (Lambda API
    Reference, ``EnvironmentResponse``: "If it fails, the response contains details about the
    error"; botocore model shape ``EnvironmentError``)."""
    call, stub = stubbed
    kms_error = {
        "ErrorCode": "KMSAccessDeniedException",
        "Message": "Lambda was unable to decrypt the environment variables because KMS access "
        "was denied.",
    }
    locked = listed("locked", Environment={"Error": kms_error})
    fine = listed("fine", Environment={"Variables": {"API_KEY": "hunter2"}})
    stub.add_response("list_functions", {"Functions": [locked, fine]}, {})
    stub.add_response("list_event_source_mappings", {"EventSourceMappings": []}, {})
    per_function(stub, "locked", "fine")
    resources = {r["name"]: r for r in awslambda.collect_functions(call, {})}
    assert resources["locked"]["data"]["Environment"] == {"Error": kms_error}
    assert resources["fine"]["data"]["Environment"] == {"Variables": {"API_KEY": "<redacted>"}}
    [error] = call.journal.errors
    assert error["operation"] == "ListFunctions"
    assert error["code"] == "KMSAccessDeniedException"
    assert error["iam_action"] == "kms:Decrypt"
    assert error["data_keys"] == ["Environment"]
    assert error["resource"] == f"{PREFIX}locked"
    assert "locked" in error["message"]
    actions = {a for s in iam_policy()["Statement"] for a in s["Action"]}
    assert "kms:Decrypt" not in actions  # named in the error, not granted by default


def account_call(client: Any) -> Call:
    call = Call(awslambda.ACCOUNT_API, client, Journal(), ACCOUNT_ID, "eu-west-1", "", None, NOW)
    call.resource_type = awslambda.ACCOUNT
    return call


def test_account_settings_are_one_resource_per_region() -> None:
    """GetAccountSettings answers the account's ``AccountLimit`` and ``AccountUsage`` in the
    client's Region (Lambda API Reference, GetAccountSettings)."""
    client = boto3.client(
        "lambda", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    answer = {
        "AccountLimit": {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 5},
        "AccountUsage": {"TotalCodeSize": 2048, "FunctionCount": 5},
    }
    with Stubber(client) as stub:
        stub.add_response("get_account_settings", answer, {})
        stub.add_client_error("get_account_settings", "AccessDeniedException", "no", 403)
        call = account_call(client)
        [account] = awslambda.collect_account(call, {})
        denied_call = account_call(client)
        [denied] = awslambda.collect_account(denied_call, {})
    assert account["id"] == f"arn:aws:lambda:eu-west-1:{ACCOUNT_ID}:account-settings"
    assert (account["name"], account["region"], account["data"]) == (
        ACCOUNT_ID,
        "eu-west-1",
        answer,
    )
    assert call.journal.errors == []
    # The (account, region) exists whatever the call says: its limits are unknown, recorded
    # against the keys the call fills, so account-wide metrics on it still decide.
    assert denied["data"] == {}
    assert denied["id"] == account["id"]
    [error] = denied_call.journal.errors
    assert (error["iam_action"], error["resource"], sorted(error["data_keys"])) == (
        "lambda:GetAccountSettings",
        account["id"],
        ["AccountLimit", "AccountUsage"],
    )
