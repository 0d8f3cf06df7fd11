"""Where to collect in an organisation: its ACTIVE accounts, and each account's regions.

Accounts come from AWS Organizations (``ListAccounts``, or ``ListAccountsForParent`` under
each organizational unit asked for and every OU below it, found with ``ListChildren``),
filtered by account tags (``ListTagsForResource``), each with the role to assume in it. Regions
are given, or discovered per account with ``ec2:DescribeRegions`` (those enabled: opt-in not
required, or opted in).

Discovery is all or nothing: an account list that could not be read entirely (a page denied,
a tag unreadable for one account) would silently narrow the scope, and a report over fewer
accounts looks like a clean one. So a failed discovery call stops the run (exit 2) with its
cause. A region list that cannot be read for one account makes that account unreadable (its
rules ``error``), like a role that cannot be assumed: collecting in a guessed subset of its
regions could pass a rule on resources never seen.

The operations are declared like every other, so ``iam-policy`` grants them and the
read-only tests cover them. The Organizations calls are made by the identity running the
checks (the management account or a delegated administrator), ``DescribeRegions`` by the
collection role in each account.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from runbook_guard.collectors.calls import GLOBAL_REGION, Call, Reach
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.pool import run_each
from runbook_guard.collectors.preflight import explain
from runbook_guard.collectors.registry import COLLECTORS, OperationSet, declare, load_all
from runbook_guard.engine.accounts import AccountUnit
from runbook_guard.engine.errors import InputError

if TYPE_CHECKING:
    from runbook_guard.collectors.context import Scope
    from runbook_guard.engine.plan import CollectionPlan

#: Organizations throttles a management account's calls at low rates: a few in flight at
#: once per operation, the rest waiting their turn, rather than a burst earning throttling.
_ORGANIZATIONS_CAP = 4

ORGANIZATIONS_API = declare(
    OperationSet(
        "organizations.accounts",
        "organizations",
        (
            "DescribeOrganization",
            "ListAccounts",
            "ListAccountsForParent",
            "ListChildren",
            "ListTagsForResource",
        ),
        answers={
            "DescribeOrganization": ("Organization",),
            "ListAccounts": ("Accounts",),
            "ListAccountsForParent": ("Accounts",),
            "ListChildren": ("Children",),
            "ListTagsForResource": ("Tags",),
        },
        caps=dict.fromkeys(
            ("ListAccountsForParent", "ListChildren", "ListTagsForResource"), _ORGANIZATIONS_CAP
        ),
    )
)
REGIONS_API = declare(
    OperationSet(
        "ec2.regions", "ec2", ("DescribeRegions",), answers={"DescribeRegions": ("Regions",)}
    )
)
#: Operation sets that choose where to collect, not what: their failures are the scope's
#: (bad input, or an unreadable account), never a rule's, and a plain collection makes none.
SETUP_APIS = (ORGANIZATIONS_API, REGIONS_API)

#: The opt-in states of a region an account can use (DescribeRegions' ``OptInStatus``).
ENABLED_REGIONS = ("opt-in-not-required", "opted-in")
#: A root (r-) or organizational unit (ou-) id, as Organizations writes them.
PARENT_ID = re.compile(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")


@dataclass(frozen=True)
class OrganizationScope:
    """Which accounts of the organisation to collect, and how to reach each."""

    role_name: str | None
    external_id: str | None = None
    #: Roots or organizational units: accounts anywhere below them (any of them).
    parents: tuple[str, ...] = ()
    #: ``key=value`` account tags: for each key, one of its values (every key).
    tags: tuple[str, ...] = ()
    #: ``None``: the run's regions, or those discovered per account.
    regions: tuple[str, ...] | None = None


def tag_filters(values: Iterable[str]) -> dict[str, set[str]]:
    """``key=value`` words into {key: values}; malformed ones are bad input."""
    filters: dict[str, set[str]] = {}
    problems = []
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep or not key.strip():
            problems.append(f"--account-tag: {value!r} is not key=value")
            continue
        filters.setdefault(key.strip(), set()).add(wanted.strip())
    if problems:
        raise InputError(problems)
    return filters


def discover_accounts(scope: Scope, organization: OrganizationScope) -> list[AccountUnit]:
    """The ACTIVE accounts ``organization`` selects, sorted by id, as units to collect.

    Called with the caller's credentials (``scope``'s profile); raises ``InputError`` naming
    every failed call, or when no account matches.
    """
    from runbook_guard.collectors.context import Account, Context  # context imports this module

    filters = tag_filters(organization.tags)
    bad = [p for p in organization.parents if not PARENT_ID.match(p)]
    if bad:
        raise InputError([f"--ou: {p!r} is not a root (r-...) or OU (ou-...-...) id" for p in bad])
    context = Context(scope, Journal())
    client = context.client(Account(context.base, None, "caller"), "organizations", GLOBAL_REGION)
    call = Call(
        ORGANIZATIONS_API, client, context.journal, "", GLOBAL_REGION, "",
        reach=Reach(limits=context.limits),
    )  # fmt: skip
    listed = _under(call, organization.parents) if organization.parents else _all(call)
    payer = _payer(call)
    active = [a for a in listed if _is_active(a)]
    tags = _tags(call, [str(a["Id"]) for a in active], context.limits.max_in_flight, filters)
    _refuse_failures(context.journal)
    units = [
        AccountUnit(
            id=str(account["Id"]),
            role=organization.role_name,
            external_id=organization.external_id,
            regions=organization.regions,
            tags=tags.get(str(account["Id"]), {}),
            name=str(account.get("Name") or ""),
            payer=str(account["Id"]) == payer,
        )
        for account in active
        if _matches(tags.get(str(account["Id"]), {}), filters)
    ]
    if not units:
        raise InputError(["the organization has no ACTIVE account matching --ou/--account-tag"])
    return sorted(units, key=lambda unit: unit.id)


def manifest_units(scope: Scope, units: Sequence[AccountUnit]) -> list[AccountUnit]:
    """Units as a shard manifest records them: regions explicit (the unit's own, else the
    run's: ``--region`` or the profile's region), or left ``None`` for the collecting shard to
    discover when ``scope.discover_regions``."""
    if scope.discover_regions:
        return list(units)
    from runbook_guard.collectors.context import Context  # context imports this module

    defaults = tuple(Context(scope, Journal()).default_regions)
    return [unit if unit.regions is not None else replace(unit, regions=defaults) for unit in units]


def _payer(call: Call) -> str | None:
    """The management account, which holds what the organisation shares (the free tier,
    consolidated billing): rules about those facts are judged there once."""
    answer = call.request("DescribeOrganization")
    if answer is None:
        return None  # recorded: discovery then stops on it
    return str(answer["Organization"].get("MasterAccountId") or "") or None


def _all(call: Call) -> list[Mapping[str, Any]]:
    return call.items("ListAccounts", "Accounts") or []


def _under(call: Call, parents: Sequence[str]) -> list[Mapping[str, Any]]:
    """Accounts directly under each parent and under every OU below it, each once."""
    found: dict[str, Mapping[str, Any]] = {}
    pending = list(dict.fromkeys(parents))
    seen = set(pending)
    while pending:
        parent = pending.pop(0)
        for account in call.items("ListAccountsForParent", "Accounts", ParentId=parent) or []:
            found.setdefault(str(account["Id"]), account)
        children = call.items(
            "ListChildren", "Children", ParentId=parent, ChildType="ORGANIZATIONAL_UNIT"
        )
        for child in children or []:
            child_id = str(child["Id"])
            if child_id not in seen:
                seen.add(child_id)
                pending.append(child_id)
    return [found[key] for key in sorted(found)]


def _is_active(account: Mapping[str, Any]) -> bool:
    """``State`` where AWS gives it (``Status`` is retired in 2026), else ``Status``."""
    return (account.get("State") or account.get("Status")) == "ACTIVE"


def _tags(
    call: Call, ids: list[str], workers: int, filters: Mapping[str, set[str]]
) -> dict[str, dict[str, str]]:
    """Each account's tags, when a filter needs them (one call per account, on a pool)."""
    if not filters or not ids:
        return {}

    def read(account_id: str) -> dict[str, str]:
        tags = call.items("ListTagsForResource", "Tags", ResourceId=account_id) or []
        return {str(tag["Key"]): str(tag["Value"]) for tag in tags}

    with ThreadPoolExecutor(max(1, min(workers, len(ids)))) as pool:
        return dict(zip(ids, run_each(pool, ids, read), strict=True))


def _matches(tags: Mapping[str, str], filters: Mapping[str, set[str]]) -> bool:
    return all(tags.get(key) in values for key, values in filters.items())


def _refuse_failures(journal: Journal) -> None:
    if journal.errors:
        lines = list(dict.fromkeys(explain(error) for error in journal.errors))
        raise InputError(["cannot list the organization's accounts: " + "; ".join(lines)])


def discover_regions(call: Call) -> list[str] | None:
    """The regions enabled in ``call``'s account, sorted; ``None`` when the call failed.

    The opt-in filter is asked of the server and applied again to the answer: a region the
    account has not opted in to would answer every call with an error, and an endpoint that
    ignores the filter must not add it.
    """
    regions = call.items(
        "DescribeRegions",
        "Regions",
        Filters=[{"Name": "opt-in-status", "Values": list(ENABLED_REGIONS)}],
    )
    if regions is None:
        return None
    return sorted(
        str(region["RegionName"])
        for region in regions
        if region.get("OptInStatus", ENABLED_REGIONS[0]) in ENABLED_REGIONS
    )


def type_scopes(plan: CollectionPlan) -> dict[str, str]:
    """Per planned type, ``global`` (listed once per account) or ``regional``: what a shard
    manifest records, so a merge knows which units a missing shard's types lived in."""
    load_all()
    return {
        resource_type: "global"
        if resource_type in COLLECTORS and COLLECTORS[resource_type].is_global
        else "regional"
        for resource_type in sorted(plan.types)
    }
