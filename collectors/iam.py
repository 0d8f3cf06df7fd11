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

What runs follows the plan. ``ListUsers`` always: it lists users and is where keys are found.
The report only when a rule reads one of its columns or its time: it is one account-wide call
and the only source of the ``<root_account>`` row, so that row is listed only then (no other
key of it exists to be read). ``ListAccessKeys`` only for a user some rule selects and whose
``AccessKeys`` a rule reads, or whose keys some rule may select (their names, ``user/KEYID``,
start with one of the plan's prefixes for keys: the key listing is then complete for those
prefixes alone); ``GetAccessKeyLastUsed`` only for a key some rule selects and whose last use
it reads, or a key of a user whose ``AccessKeys`` are read (the items carry the last use).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from runbook_guard.collectors.calls import Call, jsonable
from runbook_guard.collectors.journal import Problem
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

USER = "aws.iam.user"
ACCESS_KEY = "aws.iam.access_key"
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
#: The data key holding the report's ``GeneratedTime`` on every user built with it.
REPORT_TIME = "CredentialReportGeneratedTime"
#: What the report fills on a user: its columns and when IAM generated it.
REPORT_KEYS = (*REPORT_COLUMNS, REPORT_TIME)
#: GetCredentialReport's answers that mean "not yet": the model's error codes of
#: CredentialReportNotReadyException, CredentialReportNotPresentException and
#: CredentialReportExpiredException.
NOT_READY = ("ReportInProgress", "ReportNotPresent", "ReportExpired")
ROOT_ROW = "<root_account>"
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 8.0
#: The ListUsers fields merged into a user (the API's own names; ``Tags`` is not listed).
USER_FIELDS = ("UserName", "UserId", "Arn", "Path", "CreateDate", "PasswordLastUsed")
#: The ListAccessKeys fields of a key (all its ``AccessKeyMetadata`` members).
KEY_FIELDS = ("UserName", "AccessKeyId", "Status", "CreateDate")
#: What GetAccessKeyLastUsed adds to a key (``ServiceName`` and ``Region`` renamed).
LAST_USED = ("LastUsedDate", "LastUsedService", "LastUsedRegion")
#: Calls of one IAM operation in flight per account. IAM throttles each account with token
#: buckets shared by every caller in it, whose sizes AWS does not publish and will not raise
#: (AWS Security Blog, "How to monitor and query IAM resources at scale - Part 2"; AWS
#: re:Post, "How do I resolve API throttling or 'Rate exceeded' errors for IAM and AWS STS?").
#: 4 is this tool's choice, not an AWS figure: a few calls at a time leaves the buckets to the
#: account's own workloads, and adaptive retries absorb what throttling remains.
IN_FLIGHT = 4
OPERATIONS = (
    "GenerateCredentialReport",
    "GetCredentialReport",
    "ListUsers",
    "ListAccessKeys",
    "GetAccessKeyLastUsed",
)
API = OperationSet(
    "iam.users",
    "iam",
    OPERATIONS,
    fills={
        "GenerateCredentialReport": {USER: REPORT_KEYS},
        "GetCredentialReport": {USER: REPORT_KEYS},
        "ListUsers": {USER: USER_FIELDS},
        # A user's AccessKeys items are its keys with their last use.
        "ListAccessKeys": {USER: ("AccessKeys",), ACCESS_KEY: KEY_FIELDS},
        "GetAccessKeyLastUsed": {USER: ("AccessKeys",), ACCESS_KEY: LAST_USED},
    },
    answers={
        "GenerateCredentialReport": ("State",),
        "GetCredentialReport": ("Content",),
        "ListUsers": ("Users",),
        "ListAccessKeys": ("AccessKeyMetadata",),
        "GetAccessKeyLastUsed": ("AccessKeyLastUsed",),
    },
    # Only ListUsers: ListAccessKeys lists the keys, but it would then count as a listing of
    # users too (listings are per operation set), whose AccessKeys it fills only once called.
    listings=("ListUsers",),
    caps=dict.fromkeys(OPERATIONS, IN_FLIGHT),
)


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
        # ListAccessKeys never runs, but its keys were asked for: the error explains them.
        call.journal.collected({rtype: frozenset(keys) for rtype, keys in attribution if keys})
        return None
    return [user for page in pages for user in page.get("Users") or []]


@dataclass
class Listed:
    """One listed user: whether a rule reads its details, and its keys when they were listed.

    ``keys`` is ``None`` when ``ListAccessKeys`` was not called for the user (nothing read
    them) or failed (its error names ``AccessKeys``); ``for_user`` says whether they belong on
    the user as ``AccessKeys``.
    """

    user: dict[str, Any]
    selected: bool
    for_user: bool
    keys: list[dict[str, Any]] | None = None
    #: False when a key's last use failed: the keys exist (each with its error), but the
    #: user's ``AccessKeys`` would carry a key without its last use, so it stays absent.
    keys_whole: bool = True

    @property
    def name(self) -> str:
        return str(self.user["UserName"])


def _key_selected(call: Call, name: str, listed: Mapping[str, Any]) -> bool:
    """Whether some rule may read this key's details, judged on ListAccessKeys' fields.

    Not ``call.selects``, which knows the operation set's listing (ListUsers) and would judge
    no ``where`` early: a key's ``Status`` is there as soon as its user's keys are listed.
    """
    request = call.requests.get(ACCESS_KEY)
    return request is None or request.selects(name, listed, frozenset(KEY_FIELDS))


def _may_hold_selected_keys(call: Call, user: str) -> bool:
    """Whether some rule may select one of this user's keys (named ``user/KEYID``)."""
    prefixes = call.prefixes(ACCESS_KEY)
    if prefixes is None:
        return True
    own = f"{user}/"
    return any(own.startswith(prefix) or prefix.startswith(own) for prefix in prefixes)


def _plan_users(
    call: Call, users: list[dict[str, Any]], requests: Mapping[str, TypeRequest]
) -> list[Listed]:
    """Per listed user: whether a rule selects it, and whether its keys are to be listed."""
    keys_wanted = ACCESS_KEY in requests
    user_keys_read = USER in requests and call.wants("ListAccessKeys", USER)
    planned = []
    for user in users:
        name = str(user["UserName"])
        listed = {k: user[k] for k in USER_FIELDS if k in user}
        selected = USER in requests and call.selects(name, listed, USER)
        for_user = selected and user_keys_read
        for_keys = keys_wanted and _may_hold_selected_keys(call, name)
        planned.append(Listed(user, selected, for_user, [] if for_user or for_keys else None))
    return planned


def _list_keys(call: Call, listed: Listed) -> Listed:
    """A user's keys with last use where some rule reads it (runs on the shared pool).

    A user whose keys could not be listed keeps ``keys=None`` (never an empty list, which a
    "single active key" rule would pass); the error names the user and ``AccessKeys``.
    """
    if listed.keys is None:
        return listed
    found = call.items(
        "ListAccessKeys",
        "AccessKeyMetadata",
        UserName=listed.name,
        resource=str(listed.user["Arn"]),
        resource_type=ACCESS_KEY,
        data_keys=["AccessKeys"],
    )
    if found is None:
        call.incomplete(ACCESS_KEY)
        listed.keys = None
        return listed
    last_use_read = call.wants("GetAccessKeyLastUsed", ACCESS_KEY)
    for key in found:
        data = {k: key[k] for k in KEY_FIELDS if k in key}
        name = f"{listed.name}/{key['AccessKeyId']}"
        wanted = listed.for_user or (last_use_read and _key_selected(call, name, data))
        if wanted and not _last_used(call, listed.name, data, listed.for_user):
            listed.keys_whole = False
        listed.keys.append(data)
    return listed


def _last_used(call: Call, user: str, data: dict[str, Any], for_user: bool) -> bool:
    """A key's last use; a failure leaves it undecided on the key and, when the key is also
    one of the user's ``AccessKeys`` items, on the user's ``AccessKeys`` too."""
    attribution: list[tuple[str, list[str]]] = [(ACCESS_KEY, list(LAST_USED))]
    attribution += [(USER, ["AccessKeys"])] if for_user else []
    last = call.request(
        "GetAccessKeyLastUsed",
        AccessKeyId=data["AccessKeyId"],
        resource=_key_arn(call, user, str(data["AccessKeyId"])),
        attribution=attribution,
    )
    if last is None:
        return False
    used = last.get("AccessKeyLastUsed") or {}
    if used.get("LastUsedDate"):
        data["LastUsedDate"] = used["LastUsedDate"]
    data["LastUsedService"] = used.get("ServiceName")
    data["LastUsedRegion"] = used.get("Region")
    return True


def _key_arn(call: Call, user: str, key_id: str) -> str:
    return call.arn("iam", f"user/{user}/accesskey/{key_id}", region="")


def _users(call: Call, listed: list[Listed] | None, report: Report | None) -> list[dict[str, Any]]:
    """User resources: ListUsers' users with their report rows, or the report alone.

    With ListUsers: every listed user; a selected one merged with its report row (a report row
    of a user no longer listed, deleted since the report, is dropped; a selected user without
    a row, created since, gets an error naming the report's columns) and its keys, an
    unselected one with its ListUsers fields alone. The ``<root_account>`` row, which no
    listing shows, is kept. Without ListUsers: the report's rows, as before.
    """
    rows = dict(report.rows) if report else {}
    stamp = {REPORT_TIME: report.generated} if report else {}
    found: list[tuple[str, str, dict[str, Any]]] = []
    if listed is None:
        for name, row in rows.items():
            found.append((row["arn"], name, {**row, **stamp}))
    else:
        for one in listed:
            user = one.user
            data: dict[str, Any] = {k: user[k] for k in USER_FIELDS if k in user}
            if one.selected:
                if one.name in rows:
                    data.update(rows[one.name])
                elif report is not None:
                    _not_in_report(call, user, report)
                data.update(stamp)
                # Absent, not [], where the keys are unknown: the recorded error (ListUsers for
                # everyone, ListAccessKeys for this user) names ``AccessKeys``, so rules
                # reading it are errors.
                if one.for_user and one.keys is not None and one.keys_whole:
                    data["AccessKeys"] = one.keys
            found.append((str(user["Arn"]), one.name, data))
        if ROOT_ROW in rows:
            found.append((rows[ROOT_ROW]["arn"], ROOT_ROW, {**rows[ROOT_ROW], **stamp}))
    return [call.resource(USER, arn, name, data) for arn, name, data in found]


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


def _key_resources(call: Call, listed: list[Listed]) -> list[dict[str, Any]]:
    """One resource per listed key (the keys of users nobody listed them for are not here)."""
    prefixes = call.prefixes(ACCESS_KEY)
    if prefixes is not None:
        call.journal.listed(ACCESS_KEY, call.account, call.region, True, prefixes=prefixes)
    resources = []
    for one in sorted(listed, key=lambda item: item.name):
        for key in one.keys or []:
            arn = _key_arn(call, one.name, str(key["AccessKeyId"]))
            resources.append(
                call.resource(ACCESS_KEY, arn, f"{one.name}/{key['AccessKeyId']}", key)
            )
    return resources


def _details(
    call: Call, planned: list[Listed], report_read: bool
) -> tuple[Report | None, list[Listed]]:
    """Every user's keys and the report (when read), all as tasks on the shared pool.

    The report can take IAM seconds to build: its polling overlaps the per-user calls rather
    than waiting for them (without a pool, it runs last, as it always has).
    """
    tasks: list[Callable[[], Report | Listed | None]] = [
        partial(_list_keys, call, one) for one in planned
    ]
    if report_read:  # first: the calls run a few at a time (IAM's cap), and it takes longest
        tasks.insert(0, partial(credential_report, call))
    done = call.each(tasks, lambda task: task())
    report = done.pop(0) if report_read else None
    listed = [one for one in done if isinstance(one, Listed)]
    return (report if isinstance(report, Report) else None), listed


@register(API, USER, ACCESS_KEY, is_global=True)
def collect_iam(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    users = _list_users(call, USER in requests)
    report_read = USER in requests and call.wants("GenerateCredentialReport", USER)
    report, listed = _details(call, _plan_users(call, users or [], requests), report_read)
    resources = _key_resources(call, listed) if ACCESS_KEY in requests else []
    if USER not in requests:
        return resources
    if report_read and report is None:
        # Users ListUsers found still exist (their keys decide), but the report's rows (its
        # root user among them) are unknown: the listing is incomplete.
        call.incomplete(USER)
    if users is None and report is None:
        call.incomplete(USER)  # nothing listed the users
        return resources
    resources.extend(_users(call, None if users is None else listed, report))
    return resources
