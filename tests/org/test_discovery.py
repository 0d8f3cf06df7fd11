"""Accounts from AWS Organizations: ACTIVE only, by OU (recursively) and by account tags.

Discovery is all or nothing: a failed call stops the run naming it, since a partial account
list would silently narrow what the report covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from runbook_guard.collectors import Scope
from runbook_guard.collectors.organization import (
    ORGANIZATIONS_API,
    REGIONS_API,
    OrganizationScope,
    discover_accounts,
)
from runbook_guard.collectors.policy import iam_policy
from runbook_guard.collectors.registry import is_read_only
from runbook_guard.engine.accounts import AccountUnit
from runbook_guard.engine.errors import InputError
from tests.collectors.conftest import hooked_session
from tests.collectors.test_faults import denied
from tests.org.conftest import plan_of

MANAGEMENT = "123456789012"


@dataclass(frozen=True)
class Org:
    root: str
    prod_ou: str
    team_ou: str
    dev_ou: str
    prod: str  # in prod_ou
    team: str  # in team_ou, below prod_ou
    dev: str  # in dev_ou
    loose: str  # at the root
    closed: str  # in prod_ou, closed (SUSPENDED)


def _account(org: Any, name: str, parent: str, root: str, tags: dict[str, str]) -> str:
    created = org.create_account(
        Email=f"{name}@example.com",
        AccountName=name,
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    account = str(created["CreateAccountStatus"]["AccountId"])
    if parent != root:
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=parent)
    return account


@pytest.fixture(scope="module")
def org(mocked: None) -> Org:
    client = boto3.client("organizations", region_name="us-east-1")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]

    def ou(parent: str, name: str) -> str:
        made = client.create_organizational_unit(ParentId=parent, Name=name)
        return str(made["OrganizationalUnit"]["Id"])

    prod_ou = ou(root, "prod")
    team_ou = ou(prod_ou, "team")
    dev_ou = ou(root, "dev")
    found = Org(
        root=root,
        prod_ou=prod_ou,
        team_ou=team_ou,
        dev_ou=dev_ou,
        prod=_account(client, "prod", prod_ou, root, {"env": "prod", "team": "a"}),
        team=_account(client, "team", team_ou, root, {"env": "prod", "team": "b"}),
        dev=_account(client, "dev", dev_ou, root, {"env": "dev", "team": "a"}),
        loose=_account(client, "loose", root, root, {"env": "staging", "team": "a"}),
        closed=_account(client, "closed", prod_ou, root, {"env": "prod", "team": "a"}),
    )
    client.close_account(AccountId=found.closed)
    return found


def ids(units: list[AccountUnit]) -> list[str]:
    return [unit.id for unit in units]


def test_every_active_account_with_the_role_to_assume(org: Org) -> None:
    selector = OrganizationScope("audit", external_id="ext-1", regions=("eu-west-1",))
    units = discover_accounts(Scope(), selector)
    assert ids(units) == sorted([MANAGEMENT, org.prod, org.team, org.dev, org.loose])
    assert org.closed not in ids(units)  # SUSPENDED: not collected
    prod = next(u for u in units if u.id == org.prod)
    assert (prod.role, prod.external_id, prod.regions, prod.name) == (
        "audit",
        "ext-1",
        ("eu-west-1",),
        "prod",
    )


def test_the_management_account_is_the_payer(org: Org) -> None:
    """DescribeOrganization's MasterAccountId: the account whose free tier and consolidated
    budgets the payer-held rules judge; no other account is."""
    units = discover_accounts(Scope(), OrganizationScope("audit"))
    assert [u.id for u in units if u.payer] == [MANAGEMENT]
    # Left out by the selection: no account stands in for it.
    below = discover_accounts(Scope(), OrganizationScope("audit", parents=(org.prod_ou,)))
    assert not [u for u in below if u.payer]


def test_an_ou_means_every_account_below_it(org: Org) -> None:
    units = discover_accounts(Scope(), OrganizationScope("audit", parents=(org.prod_ou,)))
    assert ids(units) == sorted([org.prod, org.team])  # the team OU's account too; not closed
    both = discover_accounts(Scope(), OrganizationScope("audit", parents=(org.team_ou, org.dev_ou)))
    assert ids(both) == sorted([org.team, org.dev])


def test_tags_one_of_the_values_per_key_every_key(org: Org) -> None:
    def chosen(*tags: str) -> list[str]:
        return ids(discover_accounts(Scope(), OrganizationScope("audit", tags=tags)))

    assert chosen("env=prod") == sorted([org.prod, org.team])
    assert chosen("env=prod", "env=staging") == sorted([org.prod, org.team, org.loose])
    assert chosen("env=prod", "env=staging", "team=a") == sorted([org.prod, org.loose])
    tagged = discover_accounts(Scope(), OrganizationScope("audit", tags=("env=dev",)))
    assert [u.tags for u in tagged] == [{"env": "dev", "team": "a"}]


def test_ou_and_tags_together(org: Org) -> None:
    selector = OrganizationScope("audit", parents=(org.prod_ou,), tags=("team=b",))
    assert ids(discover_accounts(Scope(), selector)) == [org.team]


@pytest.mark.parametrize(
    ("selector", "words"),
    [
        (OrganizationScope("audit", parents=("prod",)), "--ou: 'prod' is not a root"),
        (OrganizationScope("audit", tags=("env",)), "--account-tag: 'env' is not key=value"),
        (OrganizationScope("audit", tags=("env=nowhere",)), "no ACTIVE account matching"),
    ],
)
def test_bad_or_empty_selections_are_bad_input(
    org: Org, selector: OrganizationScope, words: str
) -> None:
    with pytest.raises(InputError) as raised:
        discover_accounts(Scope(), selector)
    assert words in raised.value.problems[0]


@pytest.mark.parametrize(
    "operation", ["DescribeOrganization", "ListAccounts", "ListTagsForResource"]
)
def test_a_failed_discovery_call_stops_the_run_naming_it(org: Org, operation: str) -> None:
    factory = hooked_session((f"before-call.organizations.{operation}", denied()))
    tags = ("env=prod",) if operation == "ListTagsForResource" else ()
    with pytest.raises(InputError) as raised:
        discover_accounts(Scope(session_factory=factory), OrganizationScope("audit", tags=tags))
    [line] = raised.value.problems
    assert line.startswith("cannot list the organization's accounts")
    assert f"organizations:{operation} failed (AccessDeniedException)" in line


def test_a_failed_ou_listing_stops_the_run_too(org: Org) -> None:
    factory = hooked_session(("before-call.organizations.ListChildren", denied()))
    selector = OrganizationScope("audit", parents=(org.prod_ou,))
    with pytest.raises(InputError, match="organizations:ListChildren"):
        discover_accounts(Scope(session_factory=factory), selector)


def test_discovery_calls_are_declared_read_only_and_granted(
    org: Org, run: Callable[..., dict[str, Any]]
) -> None:
    seen: set[tuple[str, str]] = set()

    def record(model: Any, **_: Any) -> None:
        seen.add((model.service_model.service_name, model.name))

    factory = hooked_session(("before-call", record))
    selector = OrganizationScope(None, parents=(org.prod_ou,), tags=("env=prod",))
    discover_accounts(Scope(session_factory=factory), selector)
    run(plan_of("aws.sqs.queue"), session_factory=factory, discover_regions=True)
    expected = {
        ("organizations", "DescribeOrganization"),
        ("organizations", "ListAccountsForParent"),
        ("organizations", "ListChildren"),
        ("organizations", "ListTagsForResource"),
        ("ec2", "DescribeRegions"),
    }
    assert expected <= seen
    declared = {
        (api.service, op) for api in (ORGANIZATIONS_API, REGIONS_API) for op in api.operations
    }
    granted = {a for s in iam_policy()["Statement"] for a in s["Action"]}
    for service, operation in expected:
        assert (service, operation) in declared
        assert is_read_only(operation)
        assert f"{service}:{operation}" in granted
