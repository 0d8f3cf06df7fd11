"""Where and as whom to collect: sessions per account, clients per (account, service, region).

boto3's own credential chain and ``AWS_ENDPOINT_URL`` handling are left intact: the context
only adds a profile, assumed roles, a retry policy and one event hook that counts calls. Its
sessions share one botocore model loader with the fill declarations (``fills.models``), so
each service's model is parsed once per process, however many accounts there are.

Accounts are units (``engine.accounts.AccountUnit``: id, role, external id, regions): an
organisation's, an accounts file's, a shard's, or one per ``--role-arn``. They are opened
concurrently on a pool whose calls pass the collection's limits (``collectors/pool.py``):
AssumeRole, then GetCallerIdentity (the account must be the one listed), then, when asked,
DescribeRegions. An account that fails any of them is unreadable: its rules are ``error``,
and only its.

Assumed credentials refresh themselves before they expire (a collection of a thousand
accounts outlasts an hour's session): each account's session holds botocore's
``RefreshableCredentials``, refreshed through botocore's own ``AssumeRoleCredentialFetcher``
(what boto3's ``AssumeRoleProvider`` uses for a profile's ``role_arn``; that provider itself
reads roles from config files only, so it cannot take a role per account). Refreshes run
outside the call limits on purpose: a refresh happens inside a call that already holds an
in-flight slot, and waiting for another slot there could deadlock a saturated pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    RefreshableCredentials,
)
from botocore.exceptions import ProfileNotFound

from runbook_guard.collectors.calls import (
    DEFAULT_MAX_WAIT_SECONDS,
    GLOBAL_REGION,
    Call,
    Reach,
    UnexpectedShape,
    jsonable,
)
from runbook_guard.collectors.fills import botocore_session
from runbook_guard.collectors.journal import Journal, Problem
from runbook_guard.collectors.organization import REGIONS_API, discover_regions
from runbook_guard.collectors.partitions import global_region, partition_of
from runbook_guard.collectors.pool import DEFAULT_MAX_CONCURRENCY, Limits, run_each
from runbook_guard.collectors.registry import OperationSet, declare
from runbook_guard.engine.accounts import AccountUnit, arn_account, role_arn
from runbook_guard.engine.errors import InputError

DEFAULT_REGION = "us-east-1"
ROLE_SESSION_NAME = "runbook-guard"

IDENTITY_API = declare(
    OperationSet(
        "sts.identity", "sts", ("GetCallerIdentity",), answers={"GetCallerIdentity": ("Account",)}
    )
)


@dataclass(frozen=True)
class Scope:
    """What a collection covers and how patient it is.

    ``session_factory`` exists for tests (botocore event handlers on the collecting session,
    which every client inherits); production leaves it unset.
    """

    profile: str | None = None
    regions: Sequence[str] = ()
    role_arns: Sequence[str] = ()
    #: Accounts as units, each with its role, external id, regions and parameters (an
    #: organisation's, an accounts file's, a shard's); collected beside any ``role_arns``.
    accounts: Sequence[AccountUnit] = ()
    #: Collect in the regions enabled in each account (``ec2:DescribeRegions``) wherever its
    #: unit names none; otherwise such an account is collected in ``regions``.
    discover_regions: bool = False
    #: botocore standard retry mode: attempts in total, including the first.
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    #: Threads running listings (each mostly waits on its own calls); not a bound on calls.
    max_workers: int = 16
    #: At most this many API calls in flight at once, over every service, account and region.
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    #: Force every paginator's page size (tests: prove pages past the first are followed).
    page_size: int | None = None
    quiet: bool = False
    now: datetime | None = None
    session_factory: Callable[[str | None], boto3.Session] | None = None
    #: How collectors wait for AWS to finish what they started (the IAM credential report):
    #: ``sleep`` is injectable for tests, ``max_wait_seconds`` caps the total per wait.
    sleep: Callable[[float], None] = time.sleep
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS

    def moment(self) -> datetime:
        return self.now or datetime.now(timezone.utc)


@dataclass
class Account:
    """One account's session; ``id`` is ``None`` when it could not be opened (identity,
    role, or region discovery failed)."""

    session: boto3.Session
    id: str | None
    label: str
    unit: AccountUnit | None = None
    #: Where its regional services are collected; ``None``: the context's default regions.
    regions: tuple[str, ...] | None = None

    @property
    def fallback_id(self) -> str:
        """What to call an account that could not be opened: its unit's id, else its role
        ARN's account, if any."""
        if self.unit is not None and self.unit.id:
            return self.unit.id
        return arn_account(self.label) or "unknown"


class _Provided(CredentialProvider):
    """Hands one account's refreshable credentials to its botocore session, and nothing else:
    an account whose role is assumed must never fall back to the caller's own credentials."""

    METHOD = "assume-role"
    CANONICAL_NAME = "runbook-guard-assumed-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class Context:
    """Sessions and clients for one collection, shared by every worker thread.

    Creating clients is not thread-safe in boto3, using them is; hence the lock around the
    cache (and around the clients a credential refresh creates) and nowhere else.
    """

    def __init__(self, scope: Scope, journal: Journal) -> None:
        self.scope = scope
        self.journal = journal
        self._lock = threading.Lock()
        self._clients: dict[tuple[int, str, str], BaseClient] = {}
        self.config = Config(
            # adaptive: standard retries plus a client-side rate limiter that slows a client
            # down when AWS throttles it (clients are shared per account, region and service).
            retries={"mode": "adaptive", "total_max_attempts": scope.max_attempts},
            connect_timeout=scope.connect_timeout,
            read_timeout=scope.read_timeout,
            max_pool_connections=max(10, scope.max_concurrency + scope.max_workers),
        )
        #: The pool per-resource calls run on and the bounds of every call (collectors/pool.py);
        #: the runner opens and closes the pool around a collection.
        self.limits = Limits(scope.max_concurrency)
        self.executor: Executor | None = None
        self.base = self._session()
        #: Where an account whose unit names no regions is collected (unless discovered).
        self.default_regions = list(dict.fromkeys(scope.regions)) or [
            self.base.region_name or DEFAULT_REGION
        ]
        self.units = [*scope.accounts, *(AccountUnit(arn_account(a), a) for a in scope.role_arns)]
        #: Every region collected in some account (the snapshot's ``regions``).
        self.regions = _union(
            [self.default_regions if any(u.regions is None for u in self.units) else []]
            + [list(u.regions or ()) for u in self.units]
        ) or list(self.default_regions)
        #: The partition of the collected regions (``aws``, ``aws-cn``, ``aws-us-gov``, ...):
        #: the ``arn:<partition>:`` of built ARNs, and where global services answer.
        self.partition = partition_of(self.base, self.regions)
        self.global_region = global_region(self.partition)
        self.opened: list[Account] = []

    def _session(self) -> boto3.Session:
        if self.scope.session_factory is not None:
            session = self.scope.session_factory(self.scope.profile)
        else:
            try:
                session = boto3.Session(
                    profile_name=self.scope.profile, botocore_session=botocore_session()
                )
                profile = self.scope.profile
                if profile is not None and profile not in session.available_profiles:
                    raise ProfileNotFound(profile=profile)  # as boto3 would, before any call
            except ProfileNotFound as exc:
                raise InputError([f"--profile: {exc}"]) from None
        session.events.register("before-call", self.journal.count_call)
        return session

    def client(self, account: Account, service: str, region: str) -> BaseClient:
        """A cached client; ``global`` maps to the region the partition's global services
        answer in (us-east-1, cn-north-1, us-gov-west-1, ...)."""
        real_region = self.global_region if region == GLOBAL_REGION else region
        key = (id(account.session), service, real_region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = account.session.client(
                    service,  # type: ignore[call-overload]
                    region_name=real_region,
                    config=self.config,
                )
                self._clients[key] = client
            return client

    def regions_for(self, account: Account, is_global: bool) -> list[str]:
        """Where a collector runs in ``account``: ``global`` once for a global service (unless
        another shard holds the account's global unit), else each of its regions."""
        if is_global:
            keep = account.unit is None or account.unit.global_services
            return [GLOBAL_REGION] if keep else []
        return list(account.regions if account.regions is not None else self.default_regions)

    def reach(self, account: Account, service: str) -> Reach:
        """What a call of ``service`` in ``account`` may reach: see ``calls.Reach``."""

        def client_for(region: str) -> BaseClient:
            return self.client(account, service, region)

        every = account.unit.all_regions if account.unit is not None else None
        return Reach(
            partition=self.partition,
            global_region=self.global_region,
            regions=tuple(every or self.regions_for(account, False)),
            client_for=client_for,
            sleep=self.scope.sleep,
            max_wait_seconds=self.scope.max_wait_seconds,
            executor=self.executor,
            limits=self.limits,
        )

    def accounts(self) -> list[Account]:
        """The base account, or one per unit, opened concurrently; failures are recorded."""
        if not self.units:
            opened = [self._locate(self._identify(Account(self.base, None, "default")))]
        elif len(self.units) == 1:
            opened = [self._open(self.units[0])]
        else:
            with ThreadPoolExecutor(min(self.limits.max_in_flight, len(self.units))) as pool:
                opened = run_each(pool, self.units, self._open)
        self.opened = opened
        readable = [list(self.regions_for(a, False)) for a in opened if a.id is not None]
        self.regions = _union(readable) or self.regions
        return opened

    def metadata(self) -> dict[str, Any]:
        """The snapshot's per-account record (regions, role, parameters, planned rules, tags,
        name) when accounts were given as units; nothing for a plain run."""
        if not self.scope.accounts:
            return {}
        opened = {a.fallback_id: a for a in self.opened}
        per_account: dict[str, dict[str, Any]] = {}
        for unit in self.scope.accounts:
            entry: dict[str, Any] = {"regions": self._regions_recorded(unit, opened.get(unit.id))}
            if not unit.global_services:
                entry["global_services"] = False
            arn = role_arn(unit, self.partition)
            if arn is not None:
                entry["role"] = arn
            if unit.name:
                entry["name"] = unit.name
            if unit.tags:
                entry["tags"] = dict(sorted(unit.tags.items()))
            if unit.parameters:
                entry["parameters"] = jsonable(dict(unit.parameters))
            if unit.planned_rules is not None:
                entry["planned_rules"] = dict(sorted(unit.planned_rules.items()))
            per_account[unit.id] = entry
        return {"per_account": dict(sorted(per_account.items()))}

    def _regions_recorded(self, unit: AccountUnit, account: Account | None) -> list[str]:
        """Where a unit's account was collected; for one that could not be opened, where it
        was to be (none known when they were to be discovered)."""
        if account is not None and account.id is not None:
            return self.regions_for(account, False)
        if unit.regions is not None:
            return list(unit.regions)
        return [] if self.scope.discover_regions else list(self.default_regions)

    def _open(self, unit: AccountUnit) -> Account:
        """Assume the unit's role (if any), check who answers, then find its regions."""
        arn = role_arn(unit, self.partition)
        label = arn or unit.id
        session = self.base if arn is None else self._assume(unit, arn)
        if session is None:
            return Account(self.base, None, label, unit)
        account = self._identify(Account(session, None, label, unit))
        if account.id is not None and unit.id and account.id != unit.id:
            problem = Problem(
                "AccountMismatch",
                f"{label} answers as account {account.id}, not {unit.id} as listed: its"
                " resources would be judged with another account's parameters",
            )
            self._identity_call(account).record("GetCallerIdentity", problem, resource=label)
            account.id = None
        return self._locate(account)

    def _locate(self, account: Account) -> Account:
        """The account's regions: its unit's, else discovered (when asked), else the defaults.

        Discovery that fails leaves the account unreadable: a guessed subset of its regions
        could pass a rule on resources never seen.
        """
        if account.id is None:
            return account
        if account.unit is not None and account.unit.regions is not None:
            account.regions = tuple(account.unit.regions)
            return account
        if not self.scope.discover_regions:
            return account
        region = self.default_regions[0]
        call = Call(
            REGIONS_API, self.client(account, "ec2", region), self.journal, account.id, region,
            "", reach=Reach(limits=self.limits),
        )  # fmt: skip
        found = discover_regions(call)
        if found is None:
            account.id = None
        else:
            account.regions = tuple(found)
        return account

    def _assume(self, unit: AccountUnit, arn: str) -> boto3.Session | None:
        caller = Account(self.base, None, "caller")
        sts = self.client(caller, "sts", self.default_regions[0])
        account = unit.id or arn_account(arn)
        call = Call(
            ASSUME_API, sts, self.journal, account, GLOBAL_REGION, "",
            reach=Reach(limits=self.limits),
        )  # fmt: skip
        params: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": ROLE_SESSION_NAME}
        if unit.external_id:
            params["ExternalId"] = unit.external_id
        response = call.request("AssumeRole", resource=arn, **params)
        if response is None:
            return None
        return self._assumed_session(params, response["Credentials"])

    def _assumed_session(self, params: dict[str, Any], creds: dict[str, Any]) -> boto3.Session:
        """A session on the role's credentials that re-assume the role before they expire."""
        metadata = {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": _iso(creds["Expiration"]),
        }
        source = self.base.get_credentials()
        credentials: Credentials
        if source is None:  # the caller's credentials vanished since: keep these, unrefreshed
            credentials = Credentials(
                metadata["access_key"], metadata["secret_key"], metadata["token"]
            )
        else:
            fetcher = AssumeRoleCredentialFetcher(
                client_creator=self._sts_client,
                source_credentials=source,
                role_arn=params["RoleArn"],
                extra_args={k: v for k, v in params.items() if k != "RoleArn"},
            )
            credentials = RefreshableCredentials.create_from_metadata(
                metadata, refresh_using=fetcher.fetch_credentials, method="assume-role"
            )
        core = botocore_session()
        core.register_component("credential_provider", CredentialResolver([_Provided(credentials)]))
        session = boto3.Session(botocore_session=core, region_name=self.base.region_name)
        session.events.register("before-call", self.journal.count_call)
        return session

    def _sts_client(self, service: str, **credentials: Any) -> BaseClient:
        """The STS client a refresh calls AssumeRole with, from the caller's session (which
        carries its event handlers); created under the lock, as every client is."""
        with self._lock:
            return self.base.client(  # type: ignore[call-overload, no-any-return]
                service, region_name=self.default_regions[0], config=self.config, **credentials
            )

    def _identity_call(self, account: Account) -> Call:
        return Call(
            IDENTITY_API,
            self.client(account, "sts", self.default_regions[0]),
            self.journal,
            account.fallback_id,
            GLOBAL_REGION,
            "",
            reach=Reach(limits=self.limits),
        )

    def _identify(self, account: Account) -> Account:
        call = self._identity_call(account)
        response = call.request("GetCallerIdentity")
        if response is None:
            return account
        found = response.get("Account")
        if isinstance(found, str) and found:
            account.id = found
        else:  # an empty 200 body: recorded, and the account stays unreadable
            call.record(
                "GetCallerIdentity", UnexpectedShape("GetCallerIdentity answer lacks Account")
            )
        return account


#: AssumeRole is made with the *caller's* credentials, not the collecting role's, so it is
#: deliberately outside the read-only policy ``iam-policy`` prints (see its help).
ASSUME_API = OperationSet(
    "sts.assume", "sts", ("AssumeRole",), answers={"AssumeRole": ("Credentials",)}
)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _union(lists: Sequence[Sequence[str]]) -> list[str]:
    """Every item once, in first-seen order."""
    return list(dict.fromkeys(item for items in lists for item in items))
