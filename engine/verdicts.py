"""Results as the engine writes them: one shape for every stage that judges (the live
evaluator, the template gate, the verdicts about absence), so a reporter reads them alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import ACCESS_DENIED, Snapshot

Result = dict[str, Any]


def resource_ref(resource: Mapping[str, Any]) -> dict[str, str]:
    return {
        "type": resource["type"],
        "id": resource["id"],
        "name": resource["name"],
        "region": resource["region"],
        "account": resource["account"],
    }


def make_result(
    rule: CompiledRule,
    ref: Mapping[str, Any] | None,
    status: str,
    message: str,
    observed: Any = None,
    evidence: dict[str, Any] | None = None,
) -> Result:
    return {
        "rule": rule.id,
        "resource": ref,
        "status": status,
        "observed": observed,
        "expected": rule.expected,
        "message": message,
        "evidence": evidence if evidence is not None else {},
    }


def make_error(
    rule: CompiledRule,
    ref: Mapping[str, Any] | None,
    causes: Sequence[str],
    snapshot: Snapshot | None = None,
    resource: Mapping[str, Any] | None = None,
) -> Result:
    unique = list(dict.fromkeys(causes)) or ["the data needed was not available"]
    result = make_result(rule, ref, "error", "could not be checked: " + "; ".join(unique))
    result["causes"] = unique
    if snapshot is not None and resource is not None:
        denied = sorted(
            {
                e["iam_action"]
                for e in snapshot.errors_for(resource)
                if e.get("iam_action") and e["code"] in ACCESS_DENIED
            }
        )
        if denied:
            result["missing_permissions"] = denied
    return result


def account_ref(rule: CompiledRule, account: str, name: str) -> dict[str, str]:
    """The subject of a result about an account's resources of the rule's type as a whole."""
    return {
        "type": rule.resource_type,
        "id": f"account:{account}",
        "name": name,
        "region": "",
        "account": account,
    }
