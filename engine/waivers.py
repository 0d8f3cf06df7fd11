"""Waivers: accepted exceptions with an owner, a reason and an expiry date.

A waiver turns a warn or fail into ``waived`` (keeping the original status), never an
``error``: what could not be checked cannot be accepted. An expired waiver stops applying
on the day after its expiry, and the register says so.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import schema_problems
from runbook_guard.engine.yamlsafe import load_yaml

WAIVABLE = ("warn", "fail")
#: The rule id of a waiver of every rule: refused unless the waiver says ``any_rule: true``.
ANY_RULE = "*"
#: How far after the evaluation time a waiver may expire, unless the caller says otherwise.
DEFAULT_MAX_EXPIRY_DAYS = 365


def load_waivers(path: Path) -> list[dict[str, Any]]:
    """Read and validate a waivers file (YAML or JSON); duplicate ids are refused."""
    located = load_yaml(path)
    if not isinstance(located.data, dict):
        raise InputError([located.problem((), "a waivers file must be a mapping with 'waivers'")])
    problems = schema_problems(located, "waivers")
    if not isinstance(located.data.get("waivers"), list):
        raise InputError(problems or [located.problem(("waivers",), "must be a list")])
    seen: dict[str, int] = {}
    for index, waiver in enumerate(located.data.get("waivers") or []):
        if not isinstance(waiver, dict):
            continue
        expires = str(waiver.get("expires", ""))
        try:
            date.fromisoformat(expires)
        except ValueError:
            message = f"{expires!r} is not a date (YYYY-MM-DD)"
            problems.append(located.problem(("waivers", index, "expires"), message))
        for field in ("owner", "reason"):
            if isinstance(waiver.get(field), str) and not waiver[field].strip():
                at = ("waivers", index, field)
                problems.append(located.problem(at, f"{field} is blank: say who and why"))
        if waiver.get("rule") == ANY_RULE and waiver.get("any_rule") is not True:
            message = 'rule "*" waives every rule: refused unless the waiver says any_rule: true'
            problems.append(located.problem(("waivers", index, "rule"), message))
        waiver_id = str(waiver.get("id", ""))
        if waiver_id in seen:
            at = ("waivers", index, "id")
            problems.append(located.problem(at, f"duplicate waiver id {waiver_id!r}"))
        seen[waiver_id] = index
    if problems:
        raise InputError(problems)
    waivers: list[dict[str, Any]] = located.data["waivers"]
    return waivers


def _matches(waiver: Mapping[str, Any], result: dict[str, Any]) -> bool:
    """Whether the waiver's resource pattern (and its account and region, when it names
    them) covers this result. A waiver naming neither covers matching resources in every
    account and region of the snapshot: a name pattern is not unique across accounts."""
    ref = result["resource"] or {}
    where = result.get("location") or {}
    for key, located in (("logical_id", "logical_id"), ("template", "file")):
        wanted = waiver.get(key)
        if wanted is not None and not fnmatch.fnmatchcase(str(where.get(located, "")), str(wanted)):
            return False  # a waiver of a template resource covers only results located on it
    for scope in ("account", "region"):
        wanted = waiver.get(scope)
        if wanted is not None and not fnmatch.fnmatchcase(str(ref.get(scope, "")), str(wanted)):
            return False
    pattern = str(waiver["resource"])
    return any(fnmatch.fnmatchcase(str(ref.get(k, "")), pattern) for k in ("id", "name"))


def _check_expiry(waivers: Sequence[dict[str, Any]], today: date, max_days: int) -> None:
    if max_days >= (date.max - today).days:
        return  # no expiry can be beyond it
    latest = today + timedelta(days=max_days)
    problems = [
        f"waiver {str(w['id'])!r}: expires {w['expires']} is more than {max_days} days after"
        f" the evaluation day {today.isoformat()} (latest {latest.isoformat()})"
        for w in waivers
        if date.fromisoformat(str(w["expires"])) > latest
    ]
    if problems:
        raise InputError(problems)


def _warn_unknown(
    waivers: Sequence[dict[str, Any]], known: set[str], renamed: Mapping[str, str]
) -> None:
    for waiver in waivers:
        rule = str(waiver["rule"])
        if rule != ANY_RULE and rule not in known and rule not in renamed:
            print(
                f"warning: waiver {str(waiver['id'])!r} names rule {rule!r}, which no loaded"
                " rule has: it waives nothing",
                file=sys.stderr,
            )


SUPPRESSION_OWNER = "in-template suppression"


def apply_suppressions(
    results: list[dict[str, Any]],
    resources: Sequence[Mapping[str, Any]],
    renamed: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Honour a template resource's own ``Metadata`` skips (as Checkov and cfn-lint users
    write them, each with a reason): the result is ``waived`` and the register lists where
    the suppression is written. Like a waiver, it never hides an ``error``."""
    renamed = renamed or {}
    by_id = {
        (resource["type"], resource["id"]): resource
        for resource in resources
        if resource.get("suppressions")
    }
    if not by_id:
        return []
    register: dict[str, dict[str, Any]] = {}
    for result in results:
        ref = result["resource"] or {}
        resource = by_id.get((ref.get("type", ""), ref.get("id", "")))
        if resource is None:
            continue
        for skip in resource["suppressions"]:
            if renamed.get(skip["rule"], skip["rule"]) != result["rule"]:
                continue
            declared = resource["template"]
            waiver_id = f"template:{declared['logical_id']}:{skip['rule']}"
            entry = register.setdefault(waiver_id, {
                "id": waiver_id, "rule": skip["rule"], "resource": ref["id"],
                "owner": SUPPRESSION_OWNER, "reason": skip["reason"], "status": "unused",
                "applied_to": 0,
                "source": {"file": skip.get("file", declared["file"]),
                           "line": skip.get("line", declared["line"]),
                           "column": skip.get("column", declared["column"]),
                           "logical_id": declared["logical_id"]},
            })  # fmt: skip
            if result["status"] in WAIVABLE:
                result["original_status"] = result["status"]
                result["status"] = "waived"
                result["waiver"] = waiver_id
                entry["applied_to"] += 1
                entry["status"] = "active"
    return [register[key] for key in sorted(register)]


def apply_waivers(
    results: list[dict[str, Any]],
    waivers: Sequence[dict[str, Any]],
    now: datetime,
    renamed: Mapping[str, str] | None = None,
    max_expiry_days: int = DEFAULT_MAX_EXPIRY_DAYS,
) -> list[dict[str, Any]]:
    """Mark covered results as waived; return the register of every waiver with its state.

    ``renamed`` maps a rule's earlier ids (its ``replaces``) to its id, so a waiver written
    for ``dynamodb.read-throttles`` keeps covering the rule that replaced it. A waiver that
    expires more than ``max_expiry_days`` after ``now`` is refused (``InputError``); one
    naming a rule no result has is warned about on stderr.
    """
    renamed = renamed or {}
    today = now.astimezone(timezone.utc).date()  # expiry days are UTC days
    _check_expiry(waivers, today, max_expiry_days)
    _warn_unknown(waivers, {str(r["rule"]) for r in results}, renamed)
    register = []
    for waiver in sorted(waivers, key=lambda w: str(w["id"])):
        expires = date.fromisoformat(str(waiver["expires"]))
        active = today <= expires
        applied = 0
        if active:
            for result in results:
                rule_id = renamed.get(str(waiver["rule"]), str(waiver["rule"]))
                if ((result["rule"] == rule_id or rule_id == ANY_RULE)
                        and result["status"] in WAIVABLE
                        and _matches(waiver, result)):  # fmt: skip
                    result["original_status"] = result["status"]
                    result["status"] = "waived"
                    result["waiver"] = str(waiver["id"])
                    applied += 1
        register.append({
            "id": str(waiver["id"]), "rule": str(waiver["rule"]),
            "resource": str(waiver["resource"]), "owner": str(waiver["owner"]),
            "reason": str(waiver["reason"]), "expires": expires.isoformat(),
            "days_left": (expires - today).days,
            "status": "expired" if not active else "active" if applied else "unused",
            "applied_to": applied,
        })  # fmt: skip
    return register
