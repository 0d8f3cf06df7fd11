"""IAM users (ListUsers merged with the credential report) and their access keys with last use.

The credential report is one call for every user's password, MFA and key ages; last use per
key comes from ``GetAccessKeyLastUsed`` because the report rounds it to the service level.

The report is built asynchronously and may be hours old. ``GenerateCredentialReport`` starts it
(or answers COMPLETE when one younger than four hours exists) and ``GetCredentialReport`` may
still answer ``ReportInProgress``, ``ReportNotPresent`` or ``ReportExpired``: all three mean
"generate, wait, ask again", within a bounded total wait. Users are the ones ``ListUsers``
lists now, each merged with its report row; a user created after the report was generated has
no row, so its report fields are an error (``NotInCredentialReport``) rather than absent
without a reason, and every user carries the report's ``CredentialReportGeneratedTime``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbook_guard.collectors.calls import Call, jsonable
from runbook_guard.collectors.journal import Problem
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

USER = "aws.iam.user"
ACCESS_KEY = "aws.iam.access_key"
API = OperationSet(
    "iam.users",
    "iam",
    (
        "GenerateCredentialReport",
        "GetCredentialReport",
        "ListUsers",
        "ListAccessKeys",
        "GetAccessKeyLastUsed",
    ),
)
#: The data key holding the report's ``GeneratedTime`` on every user built with it.
REPORT_TIME = "CredentialReportGeneratedTime"
#: The report's columns (IAM User Guide, "Getting credential reports": the report format).
#: What a failed or missing report leaves undecided, besides the columns a report really has.
REPORT_COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)
#: GetCredentialReport's answers that mean "not yet": the model's error codes of
#: CredentialReportNotReadyException, CredentialReportNotPresentException and
#: CredentialReportExpiredException.
NOT_READY = ("ReportInProgress", "ReportNotPresent", "ReportExpired")
ROOT_ROW = "<root_account>"
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 8.0
#: The ListUsers fields merged into a user (the API's own names; ``Tags`` is not listed).
USER_FIELDS = ("UserName", "UserId", "Arn", "Path", "CreateDate", "PasswordLastUsed")


@dataclass
class Report:
    """A credential report: its rows by user name, its columns and when IAM generated it."""

    rows: dict[str, dict[str, str]]
    columns: tuple[str, ...]
    generated: Any


def credential_report(call: Call) -> Report | None:
    """The account's credential report, waiting for IAM to finish it; ``None`` on failure.

    Generate, and once IAM says COMPLETE, get; "not ready" answers (in progress, not present,
    expired) mean generate again after a pause that doubles up to 8 s, for at most
    ``max_wait_seconds`` in total. Every failure, the wait running out included, is one error
    against the report's columns for the user type.
    """
    waited, pause, last = 0.0, FIRST_PAUSE_SECONDS, ""
    limit = call.reach.max_wait_seconds
    while True:
        state = call.request(
            "GenerateCredentialReport", resource_type=USER, data_keys=REPORT_COLUMNS
        )
        if state is None:
            return None
        last = str(state.get("State", ""))
        if last == "COMPLETE":
            # A "not ready" code is a value here ({}): keep waiting rather than give up.
            answer = call.request(
                "GetCredentialReport",
                resource_type=USER,
                data_keys=REPORT_COLUMNS,
                not_configured=NOT_READY,
            )
            if answer is None:
                return None
            if answer:
                return _parse(answer)
            last = "COMPLETE, but GetCredentialReport answered that it was not ready"
        if waited >= limit:
            problem = Problem(
                "CredentialReportNotReady",
                f"IAM did not finish the credential report within {limit:g} s (last: {last})",
            )
            call.record(
                "GetCredentialReport", problem, resource_type=USER, data_keys=REPORT_COLUMNS
            )
            return None
        step = min(pause, limit - waited)
        call.wait(step)
        waited += step
        pause = min(pause * 2, LONGEST_PAUSE_SECONDS)


def _parse(answer: Mapping[str, Any]) -> Report:
    content = answer.get("Content") or b""
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    reader = csv.DictReader(io.StringIO(text))
    rows = {row["user"]: dict(row) for row in reader}
    return Report(rows, tuple(reader.fieldnames or ()), answer.get("GeneratedTime"))


def _list_users(call: Call, users_wanted: bool) -> list[dict[str, Any]] | None:
    """Every IAM user now; ``None`` when ListUsers failed.

    Its failure leaves the key listing incomplete and, when users are collected too, every
    user's ``AccessKeys`` undecided (the keys of users nobody could list).
    """
    attribution: list[tuple[str, list[str]]] = [(ACCESS_KEY, [])]
    attribution += [(USER, ["AccessKeys"])] if users_wanted else []
    pages = call.pages("ListUsers", listing=True, resource_type=ACCESS_KEY, attribution=attribution)
    if pages is None:
        return None
    return [user for page in pages for user in page.get("Users") or []]


def _access_keys(call: Call, users: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every listed user's keys with last use, by user name.

    A user whose keys could not be listed is absent from the answer (never an empty list,
    which a "single active key" rule would pass); the error names the user and ``AccessKeys``.
    """
    keys: dict[str, list[dict[str, Any]]] = {}
    for user in users:
        name = str(user["UserName"])
        listed = call.items(
            "ListAccessKeys",
            "AccessKeyMetadata",
            UserName=name,
            resource=str(user["Arn"]),
            resource_type=ACCESS_KEY,
            data_keys=["AccessKeys"],
        )
        if listed is None:
            call.incomplete(ACCESS_KEY)
            continue
        keys[name] = []
        for key in listed:
            data = {
                k: key[k] for k in ("UserName", "AccessKeyId", "Status", "CreateDate") if k in key
            }
            last = call.request(
                "GetAccessKeyLastUsed",
                AccessKeyId=key["AccessKeyId"],
                resource=_key_arn(call, name, str(key["AccessKeyId"])),
                resource_type=ACCESS_KEY,
                data_keys=["LastUsedDate", "LastUsedService", "LastUsedRegion"],
            )
            if last is not None:
                used = last.get("AccessKeyLastUsed") or {}
                if used.get("LastUsedDate"):
                    data["LastUsedDate"] = used["LastUsedDate"]
                data["LastUsedService"] = used.get("ServiceName")
                data["LastUsedRegion"] = used.get("Region")
            keys[name].append(data)
    return keys


def _key_arn(call: Call, user: str, key_id: str) -> str:
    return call.arn("iam", f"user/{user}/accesskey/{key_id}", region="")


def _users(
    call: Call,
    listed: list[dict[str, Any]] | None,
    report: Report | None,
    keys: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """User resources: ListUsers' users with their report rows, or the report alone.

    With ListUsers: every listed user, merged with its report row; a report row of a user
    no longer listed (deleted since the report) is dropped; a listed user without a row
    (created since) gets an error naming the report's columns. The ``<root_account>`` row,
    which no listing shows, is kept. Without ListUsers: the report's rows, as before.
    """
    rows = dict(report.rows) if report else {}
    stamp = {REPORT_TIME: report.generated} if report else {}
    found: list[tuple[str, str, dict[str, Any]]] = []
    if listed is None:
        for name, row in rows.items():
            found.append((row["arn"], name, {**row, **stamp}))
    else:
        for user in listed:
            name, arn = str(user["UserName"]), str(user["Arn"])
            data: dict[str, Any] = {k: user[k] for k in USER_FIELDS if k in user}
            if name in rows:
                data.update(rows[name])
            elif report is not None:
                _not_in_report(call, user, report)
            found.append((arn, name, {**data, **stamp}))
        if ROOT_ROW in rows:
            found.append((rows[ROOT_ROW]["arn"], ROOT_ROW, {**rows[ROOT_ROW], **stamp}))
    resources = []
    for arn, name, data in found:
        # Absent, not [], where the keys are unknown: the recorded error (ListUsers for
        # everyone, ListAccessKeys for this user) names ``AccessKeys``, so rules reading it
        # are errors. The report's ``<root_account>`` row is no IAM user: absent too.
        if name in keys:
            data["AccessKeys"] = keys[name]
        resources.append(call.resource(USER, arn, name, data))
    return resources


def _not_in_report(call: Call, user: Mapping[str, Any], report: Report) -> None:
    """A user the report does not know (created after it): its report fields are undecided."""
    since, when = jsonable(user.get("CreateDate")), jsonable(report.generated)
    problem = Problem(
        "NotInCredentialReport",
        f"{user['UserName']} (created {since}) is not in the credential report generated at "
        f"{when}; IAM generates a new report at most every 4 hours",
    )
    call.record(
        "GetCredentialReport",
        problem,
        resource=str(user["Arn"]),
        resource_type=USER,
        data_keys=sorted(set(REPORT_COLUMNS) | set(report.columns)),
    )


@register(API, USER, ACCESS_KEY, is_global=True)
def collect_iam(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    listed = _list_users(call, USER in requests)
    keys = _access_keys(call, listed or [])
    resources = []
    if ACCESS_KEY in requests:
        for user, user_keys in sorted(keys.items()):
            for key in user_keys:
                arn = _key_arn(call, user, str(key["AccessKeyId"]))
                resources.append(
                    call.resource(ACCESS_KEY, arn, f"{user}/{key['AccessKeyId']}", key)
                )
    if USER in requests:
        report = credential_report(call)
        if report is None:
            # Users ListUsers found still exist (their keys decide), but the report's rows
            # (its root user among them) are unknown: the listing is incomplete.
            call.incomplete(USER)
            if listed is None:
                return resources
        resources.extend(_users(call, listed, report, keys))
    return resources
