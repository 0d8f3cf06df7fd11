"""Fidelity: the IAM credential report as real IAM serves it, through Stubber.

IAM builds the report asynchronously and keeps it for hours. The model's GetCredentialReport
errors are ``ReportInProgress`` (CredentialReportNotReadyException: "the credential report is
still being generated"), ``ReportNotPresent`` ("the credential report does not exist. To
generate a credential report, use GenerateCredentialReport") and ``ReportExpired`` ("the most
recent credential report has expired"); GenerateCredentialReport's ``State`` is one of
STARTED, INPROGRESS, COMPLETE; the answer's ``GeneratedTime`` is "The date and time when the
credential report was created" (botocore model, iam). IAM's User Guide ("Getting credential
reports") says a report younger than four hours is returned as is rather than regenerated,
so a user created since is not in it. moto generates at once, answers ``GeneratedTime`` as a
fixed 2015 date and never answers the three errors.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest

from runbook_guard.collectors import iam
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.engine.snapshot import Snapshot, blocked_lookup
from tests.collectors.fidelity import ACCOUNT, NOW, bind, document, judge, stubbed

GENERATED = NOW - timedelta(hours=3)
DEPLOYER = "agenticai-deployer"
TYPES = [iam.USER, iam.ACCESS_KEY]


def user(name: str, created: datetime) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": name,
        "UserId": f"AIDA{name.upper().replace('-', '')[:16]:0<16}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "CreateDate": created,
    }


def row(name: str, arn: str | None = None) -> dict[str, str]:
    values = dict.fromkeys(iam.REPORT_COLUMNS, "N/A")
    values.update(
        user=name,
        arn=arn or f"arn:aws:iam::{ACCOUNT}:user/{name}",
        user_creation_time="2025-01-01T00:00:00+00:00",
        password_enabled="false",
        mfa_active="false",
        access_key_1_active="true",
    )
    return values


def report(*names: str) -> dict[str, Any]:
    """GetCredentialReport's answer: the CSV (botocore decodes the base64), its time."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(iam.REPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for name in names:
        arn = f"arn:aws:iam::{ACCOUNT}:root" if name == iam.ROOT_ROW else None
        writer.writerow(row(name, arn))
    return {
        "Content": text.getvalue().encode(),
        "ReportFormat": "text/csv",
        "GeneratedTime": GENERATED,
    }


def listing(stub: Any, *users: dict[str, Any]) -> None:
    """ListUsers. The report's calls come next (its task runs first), then ``keys``."""
    stub.add_response("list_users", {"Users": list(users), "IsTruncated": False}, {})


def keys(stub: Any, *users: dict[str, Any]) -> None:
    """Each user's one active key and its last use (never used)."""
    for one in users:
        key_id = f"AKIA{one['UserName'].upper().replace('-', '')[:16]:0<16}"
        key = {
            "UserName": one["UserName"],
            "AccessKeyId": key_id,
            "Status": "Active",
            "CreateDate": one["CreateDate"],
        }
        stub.add_response(
            "list_access_keys", {"AccessKeyMetadata": [key]}, {"UserName": one["UserName"]}
        )
        stub.add_response(
            "get_access_key_last_used",
            {
                "UserName": one["UserName"],
                "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"},
            },
            {"AccessKeyId": key_id},
        )


def generate(stub: Any, state: str) -> None:
    stub.add_response("generate_credential_report", {"State": state}, {})


def not_ready(stub: Any, code: str, status: int) -> None:
    stub.add_client_error("get_credential_report", code, f"{code} (test)", status, {})


def collect(clients: Any, sleeps: list[float], max_wait: float = 60.0) -> tuple[Any, list[Any]]:
    plan = CollectionPlan()
    requests = {t: plan.request(t) for t in TYPES}
    call = bind(
        iam.API,
        clients,
        "us-east-1",
        iam.USER,
        recorded_as="global",
        sleep=sleeps.append,
        max_wait_seconds=max_wait,
    )
    return call, iam.collect_iam(call, requests)


def users_of(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in resources if r["type"] == iam.USER}


def test_the_report_is_polled_until_iam_has_it() -> None:
    """STARTED, INPROGRESS, COMPLETE and still ReportInProgress: generate again after a pause
    that doubles (1, 2, 4 s here, through the injected sleep), then read it."""
    sleeps: list[float] = []
    with stubbed("iam", "us-east-1") as clients:
        _, stub = clients["us-east-1"]
        deployer = user(DEPLOYER, NOW - timedelta(days=200))
        listing(stub, deployer)
        generate(stub, "STARTED")
        generate(stub, "INPROGRESS")
        generate(stub, "COMPLETE")
        not_ready(stub, "ReportInProgress", 404)
        generate(stub, "COMPLETE")
        stub.add_response("get_credential_report", report(DEPLOYER), {})
        keys(stub, deployer)
        call, resources = collect(clients, sleeps)
    assert sleeps == [1.0, 2.0, 4.0]
    assert call.journal.errors == []
    data = users_of(resources)[DEPLOYER]["data"]
    assert data["CredentialReportGeneratedTime"] == GENERATED.isoformat()
    assert data["mfa_active"] == "false"
    assert data["CreateDate"] == (NOW - timedelta(days=200)).isoformat()


@pytest.mark.parametrize("code", ["ReportNotPresent", "ReportExpired"])
def test_a_missing_or_expired_report_is_generated_again(code: str) -> None:
    sleeps: list[float] = []
    with stubbed("iam", "us-east-1") as clients:
        _, stub = clients["us-east-1"]
        deployer = user(DEPLOYER, NOW - timedelta(days=200))
        listing(stub, deployer)
        generate(stub, "COMPLETE")
        not_ready(stub, code, 410)
        generate(stub, "STARTED")
        generate(stub, "COMPLETE")
        stub.add_response("get_credential_report", report(DEPLOYER), {})
        keys(stub, deployer)
        call, resources = collect(clients, sleeps)
    assert sleeps == [1.0, 2.0]
    assert call.journal.errors == []
    assert DEPLOYER in users_of(resources)


def test_the_wait_is_bounded_and_the_users_still_decide_what_they_can() -> None:
    """A report IAM never finishes: the total wait stops at the cap (5 s here, 60 s by
    default), one error names the report's columns for the type, the user listing is
    incomplete (the root user's row is unknown), and users ListUsers found still carry their
    keys, so the deployer's key rule decides."""
    sleeps: list[float] = []
    with stubbed("iam", "us-east-1") as clients:
        _, stub = clients["us-east-1"]
        deployer = user(DEPLOYER, NOW - timedelta(days=200))
        listing(stub, deployer)
        for _ in range(4):
            generate(stub, "INPROGRESS")
        keys(stub, deployer)
        call, resources = collect(clients, sleeps, max_wait=5.0)
    assert sleeps == [1.0, 2.0, 2.0]
    [error] = call.journal.errors
    assert (error["operation"], error["code"]) == (
        "GetCredentialReport",
        "CredentialReportNotReady",
    )
    assert (error["resource_type"], "resource" in error) == (iam.USER, False)
    assert error["data_keys"] == sorted(iam.REPORT_COLUMNS)
    assert call.journal.coverage[(iam.USER, ACCOUNT, "global")] is False
    data = users_of(resources)[DEPLOYER]["data"]
    assert "CredentialReportGeneratedTime" not in data
    assert [k["Status"] for k in data["AccessKeys"]] == ["Active"]
    results = judge(document(resources, call.journal, TYPES))
    assert results[("iam.deployer-single-active-key", DEPLOYER)]["status"] == "pass"


def test_a_user_created_after_the_report_is_not_missing_and_its_report_fields_are_errors() -> None:
    """The deployer was created an hour ago; IAM answers the report it generated three hours
    ago, without that user. Built from the report alone, the deployer was absent and
    ``iam.deployer-single-active-key`` failed ("missing"): users now come from ListUsers, each
    with ``CreateDate`` and the report's ``CredentialReportGeneratedTime``, and a user the
    report does not know has an error (``NotInCredentialReport``) on every report column, so
    a rule reading one is ``error``. A report row of a user deleted since is dropped; the
    root user's row, which no listing shows, is kept."""
    created = NOW - timedelta(hours=1)
    with stubbed("iam", "us-east-1") as clients:
        _, stub = clients["us-east-1"]
        both = (user(DEPLOYER, created), user("agenticai-ci", NOW - timedelta(days=400)))
        listing(stub, *both)
        generate(stub, "COMPLETE")
        stub.add_response(
            "get_credential_report", report(iam.ROOT_ROW, "agenticai-ci", "departed"), {}
        )
        keys(stub, *both)
        call, resources = collect(clients, [])
    users = users_of(resources)
    assert sorted(users) == [iam.ROOT_ROW, "agenticai-ci", DEPLOYER]
    deployer = users[DEPLOYER]
    assert deployer["id"] == f"arn:aws:iam::{ACCOUNT}:user/{DEPLOYER}"
    stamp = deployer["data"]["CredentialReportGeneratedTime"]
    assert stamp == GENERATED.isoformat() < deployer["data"]["CreateDate"] == created.isoformat()
    assert "mfa_active" not in deployer["data"]
    assert users["agenticai-ci"]["data"]["mfa_active"] == "false"
    assert users["agenticai-ci"]["data"]["CredentialReportGeneratedTime"] == stamp
    assert users[iam.ROOT_ROW]["data"]["CredentialReportGeneratedTime"] == stamp
    [error] = call.journal.errors
    assert (error["code"], error["resource"]) == ("NotInCredentialReport", deployer["id"])
    assert error["data_keys"] == sorted(iam.REPORT_COLUMNS)
    assert GENERATED.isoformat() in error["message"]
    snapshot = document(resources, call.journal, TYPES)
    blocked = blocked_lookup(Snapshot(snapshot).errors_for(deployer))
    assert blocked(frozenset({"mfa_active"}))
    assert blocked(frozenset({"password_enabled"}))
    assert not blocked(frozenset({"AccessKeys"}))
    assert not blocked(frozenset({"CreateDate", "CredentialReportGeneratedTime"}))
    results = judge(snapshot)
    assert results[("iam.deployer-single-active-key", DEPLOYER)]["status"] == "pass"
