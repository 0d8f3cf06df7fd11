"""Failures become snapshot errors and incomplete coverage, and never spread.

Faults are injected through botocore's event system on the collecting session: ``before-call``
short-circuits a call with an error answer, ``before-send`` answers at the HTTP layer so that
botocore's standard retry mode sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import EndpointConnectionError

from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.engine.snapshot import Snapshot as IndexedSnapshot

Snapshot = dict[str, Any]
Run = Callable[..., Snapshot]


class Body:
    """The raw HTTP body botocore reads from an AWSResponse."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


def denied(code: str = "AccessDeniedException", status: int = 400) -> Callable[..., Any]:
    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {"Error": {"Code": code, "Message": f"not allowed ({code})"}}
        return AWSResponse("https://example.invalid", status, HTTPHeaders(), Body(b"")), parsed

    return answer


def plan_of(*types: str) -> CollectionPlan:
    plan = CollectionPlan()
    for resource_type in types:
        plan.request(resource_type)
    return plan


def errors_for(snapshot: Snapshot, operation: str) -> list[dict[str, Any]]:
    return [e for e in snapshot["errors"] if e["operation"] == operation]


def coverage(snapshot: Snapshot) -> dict[tuple[str, str], bool]:
    return {(c["type"], c["region"]): c["complete"] for c in snapshot["coverage"]}


def test_denied_pitr_is_an_error_naming_the_action(
    seeded: Seeded, run: Run, hooked: Callable[..., Any], valid: Callable[[Snapshot], None]
) -> None:
    factory = hooked(("before-call.dynamodb.DescribeContinuousBackups", denied()))
    snapshot = run(plan_of("aws.dynamodb.table"), session_factory=factory)
    valid(snapshot)
    [table] = snapshot["resources"]
    assert "ContinuousBackupsDescription" not in table["data"]
    assert table["data"]["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    [error] = errors_for(snapshot, "DescribeContinuousBackups")
    assert error["iam_action"] == "dynamodb:DescribeContinuousBackups"
    assert error["code"] == "AccessDeniedException"
    assert error["data_keys"] == ["ContinuousBackupsDescription"]
    assert error["resource"] == table["id"]
    assert error["resource_type"] == "aws.dynamodb.table"
    # The table itself was listed: the type is complete, the key is what is missing.
    assert coverage(snapshot)[("aws.dynamodb.table", "us-east-1")] is True

    # Through the real engine and the shipped pack: the PITR rule cannot be decided (error,
    # naming the permission), while rules on the same table that did get their data decide.
    policy_set = load_policy_set()
    results = evaluate_rules(
        policy_set.compile(),
        IndexedSnapshot(snapshot),
        datetime.now(timezone.utc),
        policy_set.tables,
    )
    on_table = {r["rule"]: r for r in results if (r["resource"] or {}).get("id") == table["id"]}
    pitr = on_table["dynamodb.pitr-enabled"]
    assert pitr["status"] == "error"
    assert pitr["missing_permissions"] == ["dynamodb:DescribeContinuousBackups"]
    assert "grant dynamodb:DescribeContinuousBackups" in pitr["message"]
    assert on_table["dynamodb.on-demand-billing"]["status"] == "pass"
    assert on_table["dynamodb.ttl-enabled"]["status"] == "pass"


def test_throttling_is_retried_then_recorded(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    attempts: list[str] = []

    def throttle(request: Any, **_: Any) -> AWSResponse:
        attempts.append(request.url)
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return AWSResponse(request.url, 400, HTTPHeaders(), Body(body.encode()))

    factory = hooked(("before-send.dynamodb.ListTables", throttle))
    snapshot = run(plan_of("aws.dynamodb.table"), session_factory=factory, max_attempts=3)
    assert len(attempts) == 3
    [error] = errors_for(snapshot, "ListTables")
    assert error["code"] == "ThrottlingException"
    assert snapshot["resources"] == []
    assert coverage(snapshot)[("aws.dynamodb.table", "us-east-1")] is False


def test_a_failing_region_leaves_the_other_intact(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="agenticai-eu-queue")

    def unreachable(request: Any, **_: Any) -> None:
        if "eu-west-1" in request.url:
            raise EndpointConnectionError(endpoint_url=request.url)

    factory = hooked(("before-send", unreachable))
    snapshot = run(
        plan_of("aws.sqs.queue", "aws.lambda.function"),
        session_factory=factory,
        regions=["us-east-1", "eu-west-1"],
    )
    assert snapshot["metadata"]["regions"] == ["us-east-1", "eu-west-1"]
    regions = {r["region"] for r in snapshot["resources"]}
    assert regions == {"us-east-1"}
    assert sum(r["type"] == "aws.sqs.queue" for r in snapshot["resources"]) == 8
    assert {e["region"] for e in snapshot["errors"]} == {"eu-west-1"}
    assert {e["code"] for e in snapshot["errors"]} == {"EndpointConnectionError"}
    assert coverage(snapshot) == {
        ("aws.lambda.function", "eu-west-1"): False,
        ("aws.lambda.function", "us-east-1"): True,
        ("aws.sqs.queue", "eu-west-1"): False,
        ("aws.sqs.queue", "us-east-1"): True,
    }


def test_a_failing_service_does_not_stop_the_others(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.sqs", denied("AccessDenied", 403)))
    snapshot = run(plan_of("aws.sqs.queue", "aws.lambda.function"), session_factory=factory)
    types = {r["type"] for r in snapshot["resources"]}
    assert types == {"aws.lambda.function"}
    [error] = snapshot["errors"]
    assert (error["operation"], error["iam_action"]) == ("ListQueues", "sqs:ListQueues")
    assert coverage(snapshot)[("aws.sqs.queue", "us-east-1")] is False


def test_an_unexpected_shape_is_recorded_not_raised(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    def odd(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://x", 200, HTTPHeaders(), Body(b"")), {"Functions": [{"Oops": 1}]}

    factory = hooked(("before-call.lambda.ListFunctions", odd))
    snapshot = run(plan_of("aws.lambda.function", "aws.sqs.queue"), session_factory=factory)
    [error] = snapshot["errors"]
    assert error["code"] == "UnexpectedShape"
    assert error["operation"] == "ListFunctions"
    assert coverage(snapshot)[("aws.lambda.function", "us-east-1")] is False
    assert any(r["type"] == "aws.sqs.queue" for r in snapshot["resources"])


def test_moto_gaps_are_recorded_as_not_implemented(seeded: Seeded, run: Run) -> None:
    snapshot = run(plan_of("aws.dynamodb.table"))
    [error] = errors_for(snapshot, "DescribeContributorInsights")
    assert error["code"] == "NotImplemented"
    assert error["data_keys"] == ["ContributorInsights"]


def test_role_arns_collect_each_account(seeded: Seeded, run: Run) -> None:
    roles = ["arn:aws:iam::111111111111:role/audit", "arn:aws:iam::123456789012:role/audit"]
    snapshot = run(plan_of("aws.sqs.queue"), role_arns=roles)
    assert snapshot["metadata"]["accounts"] == ["111111111111", "123456789012"]
    accounts = {r["account"] for r in snapshot["resources"]}
    assert accounts == {"123456789012"}  # moto keeps each account's state apart
    assert all(c["complete"] for c in snapshot["coverage"])


def test_a_role_that_cannot_be_assumed_among_readable_accounts_marks_only_its_account(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    refused = "arn:aws:iam::222222222222:role/audit"

    def refuse_one(params: dict[str, Any], **kwargs: Any) -> Any:
        return denied("AccessDenied", 403)() if refused in str(params.get("body")) else None

    factory = hooked(("before-call.sts.AssumeRole", refuse_one))
    snapshot = run(
        plan_of("aws.sqs.queue"),
        session_factory=factory,
        role_arns=[refused, "arn:aws:iam::123456789012:role/audit"],
    )
    [error] = snapshot["errors"]
    assert (error["operation"], error["account"]) == ("AssumeRole", "222222222222")
    assert {(c["account"], c["complete"]) for c in snapshot["coverage"]} == {
        ("222222222222", False),
        ("123456789012", True),
    }
    assert {r["account"] for r in snapshot["resources"]} == {"123456789012"}


def test_a_single_role_that_cannot_be_assumed_stops_the_run_with_its_cause(
    seeded: Seeded, run: Run, hooked: Callable[..., Any]
) -> None:
    factory = hooked(("before-call.sts.AssumeRole", denied("AccessDenied", 403)))
    with pytest.raises(InputError) as raised:
        run(
            plan_of("aws.sqs.queue"),
            session_factory=factory,
            role_arns=["arn:aws:iam::222222222222:role/audit"],
        )
    [line] = raised.value.problems
    assert "arn:aws:iam::222222222222:role/audit: role not assumable" in line
    assert "trust policy" in line


def test_an_unknown_profile_is_bad_input(aws_env: None, run: Run) -> None:
    with pytest.raises(InputError, match="--profile"):
        run(plan_of("aws.sqs.queue"), profile="no-such-profile-here")


def test_no_credentials_stops_the_run_in_one_line_not_a_crash(
    aws_env: None, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(InputError) as raised:
        run(plan_of("aws.sqs.queue"))
    [line] = raised.value.problems
    assert line.startswith(
        "cannot read the account, nothing collected: account unknown: no credentials"
    )
    assert "sts:GetCallerIdentity failed (NoCredentialsError)" in line


def test_progress_off_a_terminal_is_plain_lines_and_quiet_is_silent(
    seeded: Seeded, run: Run, capfd: pytest.CaptureFixture[str]
) -> None:
    """A CI log sees the collection start and end as plain lines (no bar, no escape codes),
    never on stdout (which may carry a report); --quiet prints nothing at all."""
    snapshot = run(plan_of("aws.sqs.queue"), quiet=False)
    captured = capfd.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "collecting: 1 listing started"
    calls = snapshot["metadata"]["api_calls"]
    assert lines[-1].startswith(f"collecting: done: 1 task, {calls} API calls in ")
    assert all(line.startswith("collecting: ") and line.isprintable() for line in lines)
    run(plan_of("aws.sqs.queue"), quiet=True)
    quiet = capfd.readouterr()
    assert (quiet.out, quiet.err) == ("", "")
