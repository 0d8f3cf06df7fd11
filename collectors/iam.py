"""IAM users (credential report) and their access keys with last use.

The credential report is one call for every user's password, MFA and key ages; last use per
key comes from ``GetAccessKeyLastUsed`` because the report rounds it to the service level.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
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
#: How long to wait for IAM to build a report before giving up (it is usually seconds).
REPORT_POLLS = 10
REPORT_POLL_SECONDS = 1.0


def _credential_report(call: Call) -> list[dict[str, str]] | None:
    for _ in range(REPORT_POLLS):
        state = call.request("GenerateCredentialReport", resource_type=USER, data_keys=["user"])
        if state is None:
            return None
        if state.get("State") == "COMPLETE":
            break
        time.sleep(REPORT_POLL_SECONDS)
    report = call.request("GetCredentialReport", resource_type=USER, data_keys=["user"])
    if report is None:
        return None
    content = report.get("Content") or b""
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    return list(csv.DictReader(io.StringIO(text)))


def _access_keys(call: Call, users_wanted: bool) -> dict[str, list[dict[str, Any]]] | None:
    """Every user's keys with last use, by user name; ``None`` when users could not be listed.

    A user whose keys could not be listed is absent from the answer (never an empty list, which
    a "single active key" rule would pass); the error names the user and ``AccessKeys``. When
    the users themselves could not be listed, the error also leaves every user's ``AccessKeys``
    undecided (``users_wanted``: the credential report's users are being collected too).
    """
    attribution: list[tuple[str, list[str]]] = [(ACCESS_KEY, [])]
    attribution += [(USER, ["AccessKeys"])] if users_wanted else []
    pages = call.pages("ListUsers", listing=True, resource_type=ACCESS_KEY, attribution=attribution)
    if pages is None:
        return None
    users = [user for page in pages for user in page.get("Users") or []]
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
    return f"arn:aws:iam::{call.account}:user/{user}/accesskey/{key_id}"


@register(API, USER, ACCESS_KEY, is_global=True)
def collect_iam(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    keys = _access_keys(call, USER in requests)
    resources = []
    if ACCESS_KEY in requests:
        for user, user_keys in sorted((keys or {}).items()):
            for key in user_keys:
                arn = _key_arn(call, user, str(key["AccessKeyId"]))
                resources.append(
                    call.resource(ACCESS_KEY, arn, f"{user}/{key['AccessKeyId']}", key)
                )
    if USER in requests:
        rows = _credential_report(call)
        if rows is None:
            call.incomplete(USER)
            return resources
        for row in rows:
            data: dict[str, Any] = dict(row)
            # Absent, not [], where the keys are unknown: the recorded error (ListUsers for
            # everyone, ListAccessKeys for this user) names ``AccessKeys``, so rules reading
            # it are errors. The report's ``<root_account>`` row is no IAM user: absent too.
            if keys is not None and row["user"] in keys:
                data["AccessKeys"] = keys[row["user"]]
            resources.append(call.resource(USER, row["arn"], row["user"], data))
    return resources
