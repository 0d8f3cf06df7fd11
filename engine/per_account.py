"""Each account judged by its own settings, when an organisation's accounts differ.

An accounts file may give each environment its own parameters (``prefix: agenticai-prod``
in one account, ``agenticai-dev`` in another). One evaluation with the run's parameters would
look for the prod stack's names in the dev account and fail them as missing. When the
snapshot records parameters of an account's own (``metadata.per_account``), every account is
evaluated as a snapshot of its own: its resources, coverage and errors, its regions, and rules
compiled from its parameters (the run's where it has none). Completeness and "expected
resources" are then per account too: one account whose role could not be assumed makes its
own rules ``error``, not everyone's.

A rule-level result (a count over the account, no resource) is about that account: several
accounts each give one, and each names its account as its resource (``aws.account``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from runbook_guard.engine.accounts import account_view
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import PolicySet
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.verdicts import Result

#: The type of the account as the subject of a rule-level result judged per account.
ACCOUNT_TYPE = "aws.account"


def own_parameters(snapshot: Snapshot) -> dict[str, Mapping[str, Any]]:
    """Accounts whose collection recorded parameters of their own, by id."""
    per_account = snapshot.metadata.get("per_account") or {}
    return {
        str(account): entry["parameters"]
        for account, entry in per_account.items()
        if isinstance(entry, Mapping) and entry.get("parameters")
    }


def evaluate_by_account(
    policy_set: PolicySet,
    rules: Sequence[CompiledRule],
    snapshot: Snapshot,
    now: datetime,
) -> list[Result] | None:
    """Every account's results, each judged alone; ``None`` when no account has its own
    parameters (one evaluation of the whole snapshot is then the same judgement, cheaper)."""
    own = own_parameters(snapshot)
    if not own:
        return None
    document = snapshot.document
    accounts = sorted(
        {str(a) for a in snapshot.metadata.get("accounts") or []}
        | {str(entry["account"]) for entry in snapshot.coverage}
    )
    parts = _by_account(document, accounts)
    chosen = {rule.id for rule in rules}
    compiled: dict[str, list[CompiledRule]] = {}
    results: list[Result] = []
    for account in accounts:
        view = account_view(document, account, parts[account])
        account_rules = list(rules)
        if account in own:
            key = repr(sorted(own[account].items()))
            if key not in compiled:
                compiled[key] = [
                    r for r in policy_set.compile(dict(own[account])) if r.id in chosen
                ]
            account_rules = compiled[key]
        for result in evaluate_rules(account_rules, Snapshot(view), now, policy_set.tables):
            if result.get("resource") is None:  # about the account as a whole
                result["resource"] = account_reference(account)
            results.append(result)
    return results


def _by_account(
    document: Mapping[str, Any], accounts: Sequence[str]
) -> dict[str, dict[str, list[Any]]]:
    """Resources, coverage and errors per account in one pass (an error naming no account
    concerns every account)."""
    parts: dict[str, dict[str, list[Any]]] = defaultdict(
        lambda: {"resources": [], "coverage": [], "errors": []}
    )
    for key in ("resources", "coverage"):
        for item in document[key]:
            parts[str(item["account"])][key].append(item)
    for error in document["errors"]:
        owners = [str(error["account"])] if error.get("account") else accounts
        for account in owners:
            parts[account]["errors"].append(error)
    return parts


def account_reference(account: str) -> dict[str, str]:
    """The resource a per-account rule-level result is about: the account itself."""
    return {"type": ACCOUNT_TYPE, "id": account, "name": account, "region": "", "account": account}
