"""``runbook-guard test``: each rule's own cases, like ``cfn-guard test`` or ``conftest verify``.

A case is a tiny snapshot (resources, and optionally collection errors) plus the statuses
the rule must give. The case runs through the very same selection and evaluation code as a
real snapshot, so a passing case proves the rule, not a copy of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.evaluate import Evaluator
from runbook_guard.engine.loader import PolicySet
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.timeutil import parse_timestamp

#: Cases without their own ``now`` run at this fixed moment, so they never rot with time.
DEFAULT_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class CaseOutcome:
    rule: str
    case: str
    location: str
    failures: list[str]


def _collected_options(rule: CompiledRule) -> dict[str, dict[str, list[Any]]]:
    """A case is a collection made for this very rule: its options were collected."""
    if not rule.collect:
        return {}
    as_lists = {k: v if isinstance(v, list) else [v] for k, v in rule.collect.items()}
    return {rule.resource_type: as_lists}


def _case_snapshot(rule: CompiledRule, case: Mapping[str, Any]) -> Snapshot:
    resources, types = [], {rule.resource_type, *(r.type for r in rule.related.values())}
    accounts = {ACCOUNT}
    metric_keys = {name: query.key for name, query in rule.metrics.items()}
    log_keys = {name: query.key for name, query in rule.logs.items()}
    for entry in case.get("resources", []):
        rtype = entry.get("type", rule.resource_type)
        types.add(rtype)
        region = entry.get("region", REGION)
        account = str(entry.get("account", ACCOUNT))
        accounts.add(account)
        resource: dict[str, Any] = {
            "type": rtype,
            "id": entry.get("id", f"arn:aws:test:{region}:{account}:{entry['name']}"),
            "name": entry["name"],
            "region": region,
            "account": account,
            "data": entry.get("data", {}),
        }
        if "metrics" in entry:
            resource["metrics"] = {metric_keys.get(k, k): v for k, v in entry["metrics"].items()}
        if "logs" in entry:
            resource["logs"] = {log_keys.get(k, k): v for k, v in entry["logs"].items()}
        resources.append(resource)
    incomplete = set(case.get("incomplete", []))
    types |= incomplete
    types.discard("")
    accounts |= {str(a) for a in case.get("accounts", [])}
    return Snapshot(
        {
            "schema_version": 1,
            "metadata": {
                "tool_version": "test",
                "started_at": "",
                "finished_at": "",
                "accounts": sorted(accounts),
                "regions": [REGION],
                "parameters": {},
                "options": _collected_options(rule),
            },
            "resources": resources,
            "errors": list(case.get("errors", [])),
            "coverage": [
                {"type": t, "account": a, "region": REGION, "complete": t not in incomplete}
                for t in sorted(types)
                for a in sorted(accounts)
            ],
        }
    )


def _check(results: list[dict[str, Any]], expect: Any) -> list[str]:
    failures = []
    if isinstance(expect, str):
        if not results:
            return [f"expected {expect}, got no results"]
        for result in results:
            if result["status"] != expect:
                name = (result["resource"] or {}).get("name", "(rule)")
                failures.append(
                    f"{name}: expected {expect}, got {result['status']}: {result['message']}"
                )
        return failures
    by_name: dict[str, list[dict[str, Any]]] = {}
    for result in results:  # one name may have a result per account: "name@account" picks one
        ref = result["resource"] or {}
        name = ref.get("name", "(rule)")
        by_name.setdefault(name, []).append(result)
        if ref.get("account"):
            by_name.setdefault(f"{name}@{ref['account']}", []).append(result)
    for name, status in expect.items():
        found = by_name.get(name)
        if not found:
            failures.append(f"{name}: expected {status}, got no result")
        for got in found or []:
            if got["status"] != status:
                where = (got["resource"] or {}).get("account", "")
                failures.append(
                    f"{name} ({where}): expected {status}, got {got['status']}: {got['message']}"
                )
    return failures


ADVERSARIAL_PREFIX = "adversarial:"


def is_adversarial(case_name: str) -> bool:
    """A case that tries to make its rule pass wrongly (near miss, wrong scope, empty list)."""
    return case_name.startswith(ADVERSARIAL_PREFIX)


def rules_without_adversarial_cases(policy_set: PolicySet) -> list[str]:
    """Check rules no case has tried to fool (manual rules have nothing to fool)."""
    return sorted(
        entry.spec["id"]
        for entry in policy_set.entries
        if entry.spec.get("kind", "check") != "manual"
        and not any(is_adversarial(str(c.get("name", ""))) for c in entry.spec.get("tests", []))
    )


def untested_rules(policy_set: PolicySet) -> list[tuple[str, str]]:
    """(position, id) of every check rule without a single test case.

    Such a rule reports "0 passed, 0 failed" and has never been seen to fail: ``test`` warns,
    ``test --strict`` fails. A manual rule has nothing a case could check.
    """
    return [
        (entry.located.problem(("rules", entry.index), "").rsplit(":", 2)[0], entry.spec["id"])
        for entry in policy_set.entries
        if entry.spec.get("kind", "check") != "manual" and not entry.spec.get("tests")
    ]


def run_cases(policy_set: PolicySet) -> list[CaseOutcome]:
    """Run every case of every rule; one outcome per case."""
    outcomes = []
    for entry in policy_set.entries:
        for index, case in enumerate(entry.spec.get("tests", [])):
            location = entry.located.problem(("rules", entry.index, "tests", index), "").rsplit(
                ":", 2
            )[0]
            try:
                rules = {r.id: r for r in policy_set.compile(case.get("parameters", {}))}
            except InputError as error:
                outcomes.append(
                    CaseOutcome(entry.spec["id"], case["name"], location, error.problems)
                )
                continue
            rule = rules[entry.spec["id"]]
            now = parse_timestamp(case["now"]) if "now" in case else DEFAULT_NOW
            if now is None:
                problem = f"now {case['now']!r} is not an ISO 8601 time"
                outcomes.append(CaseOutcome(rule.id, case["name"], location, [problem]))
                continue
            evaluator = Evaluator(_case_snapshot(rule, case), now, policy_set.tables)
            failures = _check(evaluator.rule(rule), case["expect"])
            outcomes.append(CaseOutcome(rule.id, case["name"], location, failures))
    return outcomes
