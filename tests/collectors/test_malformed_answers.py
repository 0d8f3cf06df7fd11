"""A malformed answer (an empty 200 body) is an error and an incomplete listing, never "none".

Where real AWS leaves an empty list out of its answer (SQS ListQueues without queues), an
absent key still means none; everywhere else it is ``UnexpectedShape`` (issue 11, defect 4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from runbook_guard.collectors.calls import MAY_BE_ABSENT
from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.plan import CollectionPlan

Snapshot = dict[str, Any]
Run = Callable[..., Snapshot]


class Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


def answering(parsed: dict[str, Any]) -> Callable[..., Any]:
    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://example.invalid", 200, HTTPHeaders(), Body(b"")), dict(parsed)

    return answer


EMPTY = answering({"ResponseMetadata": {"HTTPStatusCode": 200}})


def plan_of(*types: str) -> CollectionPlan:
    plan = CollectionPlan()
    for resource_type in types:
        plan.request(resource_type)
    return plan


def coverage(snapshot: Snapshot) -> dict[tuple[str, str], bool]:
    return {(c["type"], c["region"]): c["complete"] for c in snapshot["coverage"]}


def test_an_empty_list_access_keys_answer_is_unexpected_shape(
    seeded: Seeded, run: Run, hooked: Callable[..., Any], valid: Callable[[Snapshot], None]
) -> None:
    factory = hooked(("before-call.iam.ListAccessKeys", EMPTY))
    snapshot = run(plan_of("aws.iam.access_key", "aws.iam.user"), session_factory=factory)
    valid(snapshot)
    errors = [e for e in snapshot["errors"] if e["operation"] == "ListAccessKeys"]
    assert errors
    assert {e["code"] for e in errors} == {"UnexpectedShape"}
    assert coverage(snapshot)[("aws.iam.access_key", "global")] is False
    assert not [r for r in snapshot["resources"] if r["type"] == "aws.iam.access_key"]
    users = [r for r in snapshot["resources"] if r["type"] == "aws.iam.user"]
    assert users
    assert all("AccessKeys" not in u["data"] for u in users)


def test_a_list_users_answer_without_users_is_unexpected_shape(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.iam.ListUsers", EMPTY))
    snapshot = run(plan_of("aws.iam.access_key"), session_factory=factory)
    [error] = [e for e in snapshot["errors"] if e["operation"] == "ListUsers"]
    assert error["code"] == "UnexpectedShape"
    assert coverage(snapshot)[("aws.iam.access_key", "global")] is False


def test_an_empty_list_tables_answer_leaves_the_listing_incomplete(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.dynamodb.ListTables", EMPTY))
    snapshot = run(plan_of("aws.dynamodb.table"), session_factory=factory)
    [error] = snapshot["errors"]
    assert (error["operation"], error["code"]) == ("ListTables", "UnexpectedShape")
    assert "TableNames" in error["message"]
    assert coverage(snapshot)[("aws.dynamodb.table", "us-east-1")] is False


def test_a_list_key_of_the_wrong_type_is_unexpected_shape(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.dynamodb.ListTables", answering({"TableNames": "orders"})))
    snapshot = run(plan_of("aws.dynamodb.table"), session_factory=factory)
    [error] = snapshot["errors"]
    assert error["code"] == "UnexpectedShape"
    assert coverage(snapshot)[("aws.dynamodb.table", "us-east-1")] is False


def test_list_queues_without_queue_urls_means_no_queues(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    assert ("ListQueues", "QueueUrls") in MAY_BE_ABSENT
    factory = hooked(("before-call.sqs.ListQueues", EMPTY))
    snapshot = run(plan_of("aws.sqs.queue"), session_factory=factory)
    assert snapshot["errors"] == []
    assert snapshot["resources"] == []
    assert coverage(snapshot)[("aws.sqs.queue", "us-east-1")] is True


@pytest.mark.parametrize("parsed", [{}, {"Account": ""}, {"UserId": "x"}])
def test_an_empty_caller_identity_answer_stops_the_run_naming_the_call(
    seeded: Seeded, run: Run, hooked: Callable[..., Any], parsed: dict[str, Any]
) -> None:
    factory = hooked(("before-call.sts.GetCallerIdentity", answering(parsed)))
    with pytest.raises(InputError) as raised:
        run(plan_of("aws.sqs.queue"), session_factory=factory)
    [line] = raised.value.problems
    assert "sts:GetCallerIdentity failed (UnexpectedShape)" in line
