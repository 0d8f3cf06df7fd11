"""Waivers: accepted exceptions with an owner, a reason and an expiry date.

A waiver turns a warn or fail into ``waived`` (keeping the original status), never an
``error``: what could not be checked cannot be accepted. An expired waiver stops applying
on the day after its expiry, and the register says so.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import schema_problems
from runbook_guard.engine.yamlsafe import load_yaml

WAIVABLE = ("warn", "fail")


def load_waivers(path: Path) -> list[dict[str, Any]]:
    """Read and validate a waivers file (YAML or JSON); duplicate ids are refused."""
    located = load_yaml(path)
    if not isinstance(located.data, dict):
        raise InputError([located.problem((), "a waivers file must be a mapping with 'waivers'")])
    problems = schema_problems(located, "waivers")
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
        waiver_id = str(waiver.get("id", ""))
        if waiver_id in seen:
            at = ("waivers", index, "id")
            problems.append(located.problem(at, f"duplicate waiver id {waiver_id!r}"))
        seen[waiver_id] = index
    if problems:
        raise InputError(problems)
    waivers: list[dict[str, Any]] = located.data["waivers"]
    return waivers


def _matches(pattern: str, result: dict[str, Any]) -> bool:
    ref = result["resource"] or {}
    return any(fnmatch.fnmatchcase(str(ref.get(k, "")), pattern) for k in ("id", "name"))


def apply_waivers(
    results: list[dict[str, Any]],
    waivers: Sequence[dict[str, Any]],
    now: datetime,
    renamed: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Mark covered results as waived; return the register of every waiver with its state.

    ``renamed`` maps a rule's earlier ids (its ``replaces``) to its id, so a waiver written
    for ``dynamodb.read-throttles`` keeps covering the rule that replaced it.
    """
    renamed = renamed or {}
    today = now.astimezone(timezone.utc).date()  # expiry days are UTC days
    register = []
    for waiver in sorted(waivers, key=lambda w: str(w["id"])):
        expires = date.fromisoformat(str(waiver["expires"]))
        active = today <= expires
        applied = 0
        if active:
            for result in results:
                rule_id = renamed.get(str(waiver["rule"]), str(waiver["rule"]))
                if (result["rule"] == rule_id and result["status"] in WAIVABLE
                        and _matches(str(waiver["resource"]), result)):  # fmt: skip
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
