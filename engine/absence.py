"""What a rule says where nothing was found to judge: per account, per listing, at the payer.

"Nothing matched" is a verdict only over a listing known whole, and only for the account that
owes the fact: each account answers for itself (one account's trail never stands in for
another's), an account whose listing is incomplete gets an error of its own, and a fact the
organisation's payer holds for everyone (``held_by: payer``) is owed by the payer alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.verdicts import Result, account_ref, make_error, make_result


def listing_gaps(rule: CompiledRule, snapshot: Snapshot) -> list[Result]:
    """Errors for listings of the rule's type that may have left resources out.

    A rule naming its resources decides each name on its own account's listing
    (``Evaluator._select``). Otherwise, with several accounts, each account whose listing is
    incomplete gets its own error and the others are judged as usual: one unassumable
    account must not turn every account's "no budget" into an error. A gap that belongs
    to no account of the snapshot leaves the whole rule in error.
    """
    gaps = snapshot.incomplete(rule.resource_type)
    if not gaps or rule.names is not None:
        return []
    missing = "resources may be missing from the check"
    by_account = snapshot.gaps_by_account(rule.resource_type)
    if by_account is None or not _several_accounts(rule, snapshot):
        return [make_error(rule, None, [*gaps, missing])]
    return [
        make_error(rule, account_ref(rule, account, f"(listing of account {account})"), causes)
        for account, causes in ((a, [*c, missing]) for a, c in by_account.items())
    ]


def _accounts(snapshot: Snapshot) -> list[str]:
    return sorted(str(a) for a in snapshot.metadata.get("accounts") or [])


def _several_accounts(rule: CompiledRule, snapshot: Snapshot) -> bool:
    """Whether the rule is owed by more than one account, counting those whose listing of its
    type could not be read: one readable account beside an unreadable one still owes its own
    verdict (the other's error is not it)."""
    owing = set(_accounts(snapshot)) | snapshot.accounts_with_gaps(rule.resource_type)
    return len(owing) > 1


def when_none(
    rule: CompiledRule,
    snapshot: Snapshot,
    selected: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    extras: Sequence[Result],
) -> list[Result]:
    """The result of a rule nothing matched, decided per account.

    With several accounts, one account's logging trail must not stand in for another
    account that has none: each account without a match gets its own result. A fact the
    organisation's payer holds for every account (``held_by: payer``: the free tier, a
    consolidated budget) is missing only where the payer has none: members without one
    get no result, and each member's own resources of the type are still judged.
    """
    message = rule.when_none_message or (
        f"no {rule.resource_type} matched the rule's selection"
        + ("; nothing to check" if rule.when_none in ("pass", "note") else "; expected one")
    )
    payer = snapshot.payer_account if rule.held_by == "payer" else None
    accounts = _accounts(snapshot)
    unread = snapshot.accounts_with_gaps(rule.resource_type)
    if not _several_accounts(rule, snapshot):
        if payer is not None and accounts and accounts != [payer]:
            # A member account's view (engine/per_account.py): judged in the payer's.
            # Views keep a payer only when the whole snapshot holds it.
            return []
        return [] if selected or extras else [make_result(rule, None, rule.when_none, message)]
    if payer not in {*accounts, *unread}:
        payer = None  # a payer this snapshot does not hold: every account answers alone
    covered = {resource["account"] for resource, _ in selected}
    covered |= {(r["resource"] or {}).get("account") for r in extras}
    results = []
    for account in accounts:
        if account in covered or (payer is not None and account != payer):
            continue
        ref = account_ref(rule, account, f"(none in account {account})")
        results.append(make_result(rule, ref, rule.when_none, f"{message} (account {account})"))
    return results
