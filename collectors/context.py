"""Where and as whom to collect: sessions per account, clients per (account, service, region).

boto3's own credential chain and ``AWS_ENDPOINT_URL`` handling are left intact: the context
only adds a profile, assumed roles, a retry policy and one event hook that counts calls. Its
sessions share one botocore model loader with the fill declarations (``fills.models``), so
each service's model is parsed once per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ProfileNotFound

from runbook_guard.collectors.calls import (
    DEFAULT_MAX_WAIT_SECONDS,
    GLOBAL_REGION,
    Call,
    Reach,
    UnexpectedShape,
)
from runbook_guard.collectors.fills import botocore_session
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.partitions import global_region, partition_of
from runbook_guard.collectors.pool import DEFAULT_MAX_CONCURRENCY, Limits
from runbook_guard.collectors.registry import OperationSet, declare
from runbook_guard.engine.errors import InputError

DEFAULT_REGION = "us-east-1"

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
    """One account's session; ``id`` is ``None`` when its identity could not be established."""

    session: boto3.Session
    id: str | None
    label: str

    @property
    def fallback_id(self) -> str:
        """What to call an account whose identity failed: the role ARN's account, if any."""
        return _arn_account(self.label) or "unknown"


class Context:
    """Sessions and clients for one collection, shared by every worker thread.

    Creating clients is not thread-safe in boto3, using them is; hence the lock around the
    cache and nowhere else.
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
        self.regions = list(dict.fromkeys(scope.regions)) or [
            self.base.region_name or DEFAULT_REGION
        ]
        #: The partition of the collected regions (``aws``, ``aws-cn``, ``aws-us-gov``, ...):
        #: the ``arn:<partition>:`` of built ARNs, and where global services answer.
        self.partition = partition_of(self.base, self.regions)
        self.global_region = global_region(self.partition)

    def _session(self, **credentials: Any) -> boto3.Session:
        if self.scope.session_factory is not None and not credentials:
            session = self.scope.session_factory(self.scope.profile)
        elif credentials:
            session = boto3.Session(
                region_name=self.base.region_name,
                botocore_session=botocore_session(),
                **credentials,
            )
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

    def reach(self, account: Account, service: str) -> Reach:
        """What a call of ``service`` in ``account`` may reach: see ``calls.Reach``."""

        def client_for(region: str) -> BaseClient:
            return self.client(account, service, region)

        return Reach(
            partition=self.partition,
            global_region=self.global_region,
            regions=tuple(self.regions),
            client_for=client_for,
            sleep=self.scope.sleep,
            max_wait_seconds=self.scope.max_wait_seconds,
            executor=self.executor,
            limits=self.limits,
        )

    def accounts(self) -> list[Account]:
        """The base account, or one per ``--role-arn``; identity failures are recorded."""
        if not self.scope.role_arns:
            return [self._identify(Account(self.base, None, "default"))]
        accounts = []
        for arn in self.scope.role_arns:
            assumed = self._assume(arn)
            accounts.append(self._identify(assumed) if assumed else Account(self.base, None, arn))
        return accounts

    def _assume(self, role_arn: str) -> Account | None:
        sts = self.client(Account(self.base, None, "base"), "sts", self.regions[0])
        call = Call(ASSUME_API, sts, self.journal, _arn_account(role_arn), GLOBAL_REGION, "")
        response = call.request(
            "AssumeRole", RoleArn=role_arn, RoleSessionName="runbook-guard", resource=role_arn
        )
        if response is None:
            return None
        creds = response["Credentials"]
        session = self._session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        return Account(session, None, role_arn)

    def _identify(self, account: Account) -> Account:
        call = Call(
            IDENTITY_API,
            self.client(account, "sts", self.regions[0]),
            self.journal,
            account.fallback_id,
            GLOBAL_REGION,
            "",
        )
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


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else ""
