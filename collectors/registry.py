"""Which collector produces which resource types, and which AWS operations each may call.

The declarations are the single source for three things that must agree: what a collector is
allowed to call (``Call`` refuses anything undeclared), what ``iam-policy`` grants, and what a
test observes on the wire. Keeping them as data here, rather than scattered through the
service modules' code, is what makes "least privilege" checkable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runbook_guard.collectors.fills import Fills, resolve

if TYPE_CHECKING:
    from runbook_guard.collectors.calls import Call
    from runbook_guard.engine.plan import TypeRequest

#: A collector's body: given a caller bound to one (account, region) and the requests for the
#: types it produces, return resource envelopes.
CollectFn = Callable[["Call", Mapping[str, "TypeRequest"]], list[dict[str, Any]]]

#: Operation name prefixes that only read. ``GenerateCredentialReport`` asks IAM to build a
#: report of metadata; it changes no configuration and is the documented way to read it.
#: ``StartQuery`` runs a CloudWatch Logs Insights query over log events (an IAM "Read" action);
#: it changes nothing, and its results are read with ``GetQueryResults``.
READ_ONLY_PREFIXES = ("Describe", "List", "Get", "Lookup", "Filter")
READ_ONLY_EXTRA = frozenset({"GenerateCredentialReport", "StartQuery"})


@dataclass(frozen=True)
class OperationSet:
    """The API operations one piece of the collection stage calls on one service.

    ``iam_actions`` names the IAM action where it is not ``<service>:<Operation>``
    (S3's ``GetBucketLifecycleConfiguration`` needs ``s3:GetLifecycleConfiguration``, API
    Gateway's management API is authorised per HTTP verb, Budgets reads need ``ViewBudget``).
    """

    owner: str
    service: str
    operations: tuple[str, ...]
    iam_actions: Mapping[str, str] = field(default_factory=dict)
    #: Resource ARNs the IAM statement may be narrowed to; ``*`` where AWS has no finer scope.
    iam_resources: tuple[str, ...] = ("*",)
    #: Per operation, the top-level ``data`` keys it fills, per resource type (see fills.py).
    #: A listing fills what its items carry; a detail call, what it merges or stores.
    fills: Mapping[str, Fills] = field(default_factory=dict)
    #: Per operation, the members of a successful answer the collector reads. Each must be in
    #: the answer unless ``calls.MAY_BE_ABSENT`` records that AWS leaves it out for "none":
    #: ``Call`` turns an answer without one (an empty 200 body) into an ``UnexpectedShape``
    #: error on the keys the call fills, never into "nothing configured".
    answers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: The operations that enumerate a type (their keys are there for every listed resource).
    listings: tuple[str, ...] = ()
    #: Per operation, at most this many calls in flight per (account, region): for the APIs
    #: whose documented request rates are low (IAM, Budgets).
    caps: Mapping[str, int] = field(default_factory=dict)
    #: Per operation, at most this many calls a second per (account, region): CloudTrail
    #: LookupEvents is documented at 2 per second, and retries are no way to pace it.
    rates: Mapping[str, float] = field(default_factory=dict)

    def lanes(self) -> int | None:
        """How many of its calls can usefully wait at once, when every operation is capped or
        paced: the largest cap, or one per call a second; ``None``: no bound of its own."""
        bounds = []
        for operation in self.operations:
            if operation in self.caps:
                bounds.append(self.caps[operation])
            elif operation in self.rates:
                bounds.append(max(1, math.ceil(self.rates[operation])))
            else:
                return None
        return max(bounds) if bounds else None

    def iam_action(self, operation: str) -> str:
        """The IAM action needed to call ``operation``."""
        return self.iam_actions.get(operation, f"{self.service}:{operation}")

    def filled(self, operation: str) -> dict[str, frozenset[str]]:
        """The keys ``operation`` fills, per type; empty when it declares none."""
        return resolve(self.fills.get(operation, {}))

    def keys_of(
        self, resource_type: str, operations: Iterable[str] | None = None
    ) -> frozenset[str]:
        """Every key the given operations (default: all) fill for a type."""
        keys: set[str] = set()
        for operation in self.operations if operations is None else operations:
            keys |= self.filled(operation).get(resource_type, frozenset())
        return frozenset(keys)

    def listing_keys(self, resource_type: str) -> frozenset[str]:
        """What every listed resource of a type carries before any detail call."""
        return self.keys_of(resource_type, self.listings)


@dataclass(frozen=True)
class Collector:
    """Lists one service's resources of one or more types in one (account, region)."""

    api: OperationSet
    resource_types: tuple[str, ...]
    run: CollectFn
    #: Global services are collected once per account and recorded with region ``global``.
    is_global: bool = False
    #: For a global type whose resources each live in a region (an S3 bucket): the ``data``
    #: key holding that region, where their CloudWatch metrics are published and queried.
    region_key: str | None = None


COLLECTORS: dict[str, Collector] = {}
OPERATION_SETS: list[OperationSet] = []


def declare(api: OperationSet) -> OperationSet:
    """Record an operation set that is not a collector (identity, metrics, log counts)."""
    OPERATION_SETS.append(api)
    return api


def register(
    api: OperationSet,
    *resource_types: str,
    is_global: bool = False,
    region_key: str | None = None,
) -> Callable[[CollectFn], CollectFn]:
    """Decorator registering a collector function for the resource types it produces."""

    def wrap(run: CollectFn) -> CollectFn:
        collector = Collector(api, tuple(resource_types), run, is_global, region_key)
        for resource_type in resource_types:
            if resource_type in COLLECTORS:
                raise RuntimeError(f"two collectors for {resource_type}")
            COLLECTORS[resource_type] = collector
        declare(api)
        return run

    return wrap


def declared_keys(resource_type: str) -> frozenset[str] | None:
    """Every data key some operation of a type's collector fills; ``None``: none declared."""
    load_all()
    collector = COLLECTORS.get(resource_type)
    if collector is None:
        return None
    keys = collector.api.keys_of(resource_type)
    return keys or None


def is_read_only(operation: str) -> bool:
    """Whether an operation name is one of the read-only kinds the tool may call."""
    return operation.startswith(READ_ONLY_PREFIXES) or operation in READ_ONLY_EXTRA


def collectors_for(resource_types: Iterable[str]) -> list[Collector]:
    """The distinct collectors producing the given types, in a stable order."""
    seen: dict[str, Collector] = {}
    for resource_type in sorted(resource_types):
        collector = COLLECTORS.get(resource_type)
        if collector is not None:
            seen.setdefault(collector.api.owner, collector)
    return list(seen.values())


def load_all() -> None:
    """Import every service module so each registers its collectors (idempotent)."""
    from runbook_guard.collectors import all_services  # noqa: F401
