"""Shared pieces of the fidelity tests: real AWS answers fed through botocore's Stubber, and the
shipped pack's verdict on what the collector made of them.

Stubber validates every queued answer against the service model (and every request against
the expected parameters), so an invented answer of the wrong shape fails the test instead of
proving something AWS would never send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from functools import cache
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.stub import Stubber

from runbook_guard.collectors.calls import Call, Reach
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.registry import OperationSet
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
Results = dict[tuple[str, str], dict[str, Any]]


def client(service: str, region: str = "us-east-1") -> BaseClient:
    """A real botocore client with dummy credentials; Stubber keeps it off the network."""
    made: BaseClient = boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    return made


@contextmanager
def stubbed(service: str, *regions: str) -> Iterator[dict[str, tuple[BaseClient, Stubber]]]:
    """One stubbed client per region; every queued answer must have been asked for."""
    with ExitStack() as stack:
        made = {}
        for region in regions:
            one = client(service, region)
            made[region] = (one, stack.enter_context(Stubber(one)))
        yield made
        for _, stub in made.values():
            stub.assert_no_pending_responses()


def bind(
    api: OperationSet,
    clients: Mapping[str, tuple[BaseClient, Stubber]],
    region: str,
    resource_type: str,
    *,
    journal: Journal | None = None,
    regions: Iterable[str] | None = None,
    partition: str = "aws",
    sleep: Callable[[float], None] | None = None,
    max_wait_seconds: float = 60.0,
    recorded_as: str | None = None,
) -> Call:
    """A Call as the runner makes it: bound to ``region``'s client, reaching the others.

    ``recorded_as`` is the region the call records in, when not the client's (``global`` for
    a global collector, whose client is in the partition's global region).
    """

    def client_for(other: str) -> BaseClient:
        return clients[other][0]

    reach = Reach(
        partition=partition,
        regions=tuple(regions if regions is not None else clients),
        client_for=client_for,
        sleep=sleep or _no_sleep,
        max_wait_seconds=max_wait_seconds,
    )
    return Call(
        api,
        clients[region][0],
        journal or Journal(),
        ACCOUNT,
        recorded_as or region,
        resource_type,
        None,
        NOW,
        None,
        reach,
    )


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"an unexpected wait of {seconds} s")


@cache
def _pack() -> tuple[PolicySet, tuple[CompiledRule, ...]]:
    policy_set = load_policy_set()
    return policy_set, tuple(policy_set.compile())


def document(
    resources: list[dict[str, Any]],
    journal: Journal,
    types: Iterable[str],
    regions: Iterable[str] = ("us-east-1",),
) -> dict[str, Any]:
    """A snapshot document as ``collect`` writes it, from what collectors returned.

    Every (type, region) collected is a listing; the journal's own marks (a failed listing,
    an incomplete credential report) override.
    """
    kinds = sorted(set(types))
    where = [*regions, "global"]
    coverage = {(t, ACCOUNT, r): True for t in kinds for r in where}
    coverage.update(journal.coverage)
    return {
        "schema_version": 1,
        "metadata": {
            "tool_version": "fidelity",
            "started_at": NOW.isoformat(),
            "finished_at": NOW.isoformat(),
            "accounts": [ACCOUNT],
            "regions": list(regions),
            "parameters": {},
            "resource_types": kinds,
            "api_calls": 0,
            "options": {},
        },
        "resources": sorted(
            resources, key=lambda r: (r["type"], r["account"], r["region"], r["id"])
        ),
        "errors": list(journal.errors),
        "coverage": [
            {"type": t, "account": a, "region": r, "complete": ok}
            for (t, a, r), ok in sorted(coverage.items())
        ],
    }


def judge(snapshot: Mapping[str, Any], now: datetime = NOW) -> Results:
    """The shipped pack's results on ``snapshot`` for its types, by (rule id, resource name)."""
    policy_set, rules = _pack()
    types = set(snapshot["metadata"]["resource_types"])
    mine = [rule for rule in rules if rule.resource_type in types]
    results = evaluate_rules(mine, Snapshot(snapshot), now, policy_set.tables)
    return {(r["rule"], (r["resource"] or {}).get("name", "")): r for r in results}
