"""The shared pool and its limits (collectors/pool.py), alone and as the runner uses them.

Against moto with several copies of the demo stack, a ``before-send`` hook stands in for the
network: it sleeps (the round trip) and counts the calls inside that sleep, overall and per
operation. Because the hook runs inside the call, the count can never exceed the calls really
in flight, so a bound it observes holds. The pacing of a documented rate (CloudTrail
LookupEvents, 2 a second) is checked with an injected clock, so it takes no real time. A
throttled burst is answered at the HTTP layer, where botocore's adaptive retries see it.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import Stubber

from runbook_guard.collectors import Scope, budgets, cloudtrail, collect, iam
from runbook_guard.collectors.calls import Call, Reach
from runbook_guard.collectors.journal import Journal
from runbook_guard.collectors.pool import Limits
from runbook_guard.demo.plans import everything_plan
from runbook_guard.demo.stack import Seeded, seed_runbook_stack
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.engine.planner import plan_collection
from runbook_guard.engine.snapshot import Snapshot as IndexedSnapshot

Snapshot = dict[str, Any]
COPIES = 3
#: The round trip every call is given (seconds): long enough for calls to overlap.
LATENCY = 0.02
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
GOVERNANCE = (
    iam.USER,
    iam.ACCESS_KEY,
    budgets.BUDGET,
    cloudtrail.TRAIL,
)


@pytest.fixture(scope="module")
def stack(mocked: None) -> Seeded:
    return seed_runbook_stack(copies=COPIES)


class InFlight:
    """``before-send``: sleep the round trip, counting the calls inside it (peak per op too)."""

    def __init__(self, latency: Callable[[], float]) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.by_operation: dict[str, int] = {}
        self.peaks: dict[str, int] = {}
        #: Operations in the order their round trips ended.
        self.finished: list[str] = []

    def __call__(self, event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            count = self.by_operation.get(operation, 0) + 1
            self.by_operation[operation] = count
            self.peaks[operation] = max(self.peaks.get(operation, 0), count)
        try:
            time.sleep(self.latency())
        finally:
            with self.lock:
                self.now -= 1
                self.by_operation[operation] -= 1
                self.finished.append(operation)


def full_plan() -> CollectionPlan:
    """Every type: a plan made by hand wants every key of every resource, lists everything."""
    plan = everything_plan()
    assert not plan.field_level
    return plan


def collect_with(plan: CollectionPlan, hooks: list[tuple[str, Any]], **scope: Any) -> Snapshot:
    def factory(profile: str | None) -> boto3.Session:
        session = boto3.Session(profile_name=profile)
        for event, handler in hooks:
            session.events.register_first(event, handler)
        return session

    scope.setdefault("max_attempts", 1)
    return collect(plan, Scope(quiet=True, session_factory=factory, **scope))


# --- (1) the bound on calls in flight -----------------------------------------------------


@pytest.fixture(scope="module")
def bounded(stack: Seeded) -> dict[int, InFlight]:
    """A whole collection at 4 and at 32 calls in flight, four listing threads each."""
    observed = {}
    for bound in (4, 32):
        hook = InFlight(lambda: 2 * LATENCY)  # long enough for a type's calls to pile up
        collect_with(full_plan(), [("before-send", hook)], max_concurrency=bound, max_workers=4)
        observed[bound] = hook
    return observed


def test_calls_in_flight_never_exceed_max_concurrency(bounded: dict[int, InFlight]) -> None:
    for bound, hook in bounded.items():
        assert 1 < hook.peak <= bound, (bound, hook.peak)


def test_at_32_the_per_resource_calls_overlap_far_beyond_one_per_listing(
    bounded: dict[int, InFlight],
) -> None:
    """Four listing threads, each once one call at a time: the old bound was 4 in flight."""
    assert bounded[32].peak >= 16, bounded[32].peak
    # Calls of one operation overlap (a queue's attributes while the next queue's are asked).
    assert max(bounded[32].peaks.values()) > 4


# --- (2) caps and rates -------------------------------------------------------------------


def test_per_operation_caps_hold_in_a_whole_collection(bounded: dict[int, InFlight]) -> None:
    peaks = bounded[32].peaks
    for api in (iam.API, budgets.API):
        for operation, cap in api.caps.items():
            assert peaks.get(operation, 0) <= cap, (operation, peaks.get(operation))
    # Not vacuous: IAM's per-user calls did overlap, within their cap.
    assert peaks["ListAccessKeys"] >= 2


def test_a_cap_bounds_one_operation_and_not_the_others() -> None:
    limits = Limits(32)
    hook = InFlight(lambda: LATENCY)

    def one(operation: str) -> None:
        with limits.call(operation, "1", "r", 3 if operation == "Capped" else None, None):
            hook(event_name=f"before-send.x.{operation}")

    threads = [
        threading.Thread(target=one, args=(operation,))
        for operation in ("Capped", "Free")
        for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hook.peaks["Capped"] <= 3
    assert hook.peaks["Free"] > 3
    assert limits.peak <= 32


class Clock:
    """An injected clock whose ``sleep`` moves it on (and remembers every pause)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_a_rate_paces_calls_at_its_interval() -> None:
    clock = Clock()
    limits = Limits(32, clock=clock, sleep=clock.sleep)
    for _ in range(7):
        with limits.call("LookupEvents", "1", "us-east-1", None, 2.0):
            pass
    assert sum(clock.pauses) == pytest.approx((7 - 1) / 2)
    # Another region is another quota.
    with limits.call("LookupEvents", "1", "eu-west-1", None, 2.0):
        pass
    assert sum(clock.pauses) == pytest.approx(3.0)


def test_lookup_events_are_paced_page_by_page_at_two_a_second() -> None:
    """Five event names, one answered in two pages: six requests, (6 - 1) / 2 s of pauses."""
    client = boto3.client(
        "cloudtrail", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    names = ["DeleteTable", "DeleteBucket", "DeleteQueue", "DeleteTrail", "StopLogging"]
    clock = Clock()
    reach = Reach(limits=Limits(32, clock=clock, sleep=clock.sleep))
    options: dict[str, list[Any]] = {"event_names": list(names), "window_hours": [24]}
    call = Call(
        cloudtrail.EVENTS_API,
        client,
        Journal(),
        "123456789012",
        "us-east-1",
        cloudtrail.EVENT,
        options,
        NOW,
        reach=reach,
    )
    event = {"EventId": "e-1", "EventName": "DeleteTable", "EventTime": NOW}
    with Stubber(client) as stub:
        stub.add_response("lookup_events", {"Events": [event], "NextToken": "t"})
        stub.add_response("lookup_events", {"Events": [{**event, "EventId": "e-2"}]})
        for _ in names[1:]:
            stub.add_response("lookup_events", {"Events": []})
        resources = cloudtrail.collect_events(call, {})
        stub.assert_no_pending_responses()
    assert [r["name"] for r in resources] == ["DeleteTable", "DeleteTable"]
    assert sum(clock.pauses) == pytest.approx((6 - 1) / 2)


def test_concurrent_calls_keep_the_rate_in_real_time() -> None:
    limits = Limits(32)
    starts: list[float] = []
    lock = threading.Lock()

    def one() -> None:
        with limits.call("FilterLogEvents", "1", "us-east-1", None, 20.0), lock:
            starts.append(time.monotonic())

    threads = [threading.Thread(target=one) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(starts) - min(starts) >= (10 - 1) / 20 - 0.01


# --- (3) a throttled burst ----------------------------------------------------------------

THROTTLED_JSON = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
THROTTLED_XML = (
    '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender'
    "</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>1</RequestId></ErrorResponse>"
)


class Body:
    """The raw HTTP body botocore reads from an AWSResponse."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


class Throttle:
    """``before-send``: answer the first ``first`` attempts of each of ``operations`` (and
    every attempt ``always`` picks) with HTTP 400 throttling, as AWS does past its rate."""

    def __init__(
        self,
        first: int = 0,
        operations: tuple[str, ...] = (),
        always: Callable[[Any], bool] = lambda _: False,
    ) -> None:
        self.first = first
        self.operations = operations
        self.always = always
        self.lock = threading.Lock()
        self.seen: dict[str, int] = {}
        self.throttled: dict[str, int] = {}

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        with self.lock:
            count = self.seen.get(operation, 0)
            self.seen[operation] = count + 1
            throttle = (operation in self.operations and count < self.first) or self.always(request)
            if throttle:
                self.throttled[operation] = self.throttled.get(operation, 0) + 1
        if not throttle:
            return None
        time.sleep(LATENCY)  # many at once: the burst is in flight together
        body = THROTTLED_XML if ".iam." in event_name else THROTTLED_JSON
        return AWSResponse(request.url, 400, HTTPHeaders(), Body(body.encode()))


def governance_plan() -> tuple[CollectionPlan, Any]:
    """The shipped pack's plan for the governance types, and its compiled rules of them."""
    policy_set = load_policy_set()
    plan = plan_collection(policy_set, {})
    plan.types = {t: r for t, r in plan.types.items() if t in GOVERNANCE}
    return plan, policy_set


def statuses(snapshot: Snapshot) -> dict[tuple[str, str], str]:
    _, policy_set = governance_plan()
    rules = [r for r in policy_set.compile() if r.resource_type in GOVERNANCE]
    # After the emulator created the keys (it stamps them with the wall clock): a time after
    # the evaluation time has no age and is an error, never "fresh".
    at = max(NOW, datetime.now(timezone.utc))
    results = evaluate_rules(rules, IndexedSnapshot(snapshot), at, policy_set.tables)
    return {(r["rule"], (r["resource"] or {}).get("name", "")): r["status"] for r in results}


def shape(snapshot: Snapshot) -> list[tuple[str, str, list[str]]]:
    return [(r["type"], r["id"], sorted(r["data"])) for r in snapshot["resources"]]


@pytest.fixture(scope="module")
def calm(stack: Seeded) -> Snapshot:
    plan, _ = governance_plan()
    return collect_with(plan, [], now=NOW)


PER_RESOURCE = ("GetTrailStatus", "DescribeNotificationsForBudget", "GetAccessKeyLastUsed")


def test_a_throttled_burst_backs_off_and_decides_as_a_calm_run(calm: Snapshot) -> None:
    """The first 4 attempts of each per-resource operation are throttled, 32 in flight; a
    call is throttled out only by 5 of them, so every call ends answered: the same data and
    statuses as the calm run, and no error."""
    throttle = Throttle(first=4, operations=PER_RESOURCE)
    plan, _ = governance_plan()
    snapshot = collect_with(
        plan, [("before-send", throttle)], now=NOW, max_attempts=5, max_concurrency=32
    )
    for operation in PER_RESOURCE:
        assert throttle.throttled[operation] == 4, operation
        assert throttle.seen[operation] > 4  # retried past the burst
    assert snapshot["errors"] == []
    assert shape(snapshot) == shape(calm)
    assert statuses(snapshot) == statuses(calm)
    assert "pass" in statuses(calm).values()


def test_a_call_throttled_beyond_the_retries_is_an_error_never_a_pass(
    calm: Snapshot, stack: Seeded
) -> None:
    """The deployer's keys' last use is throttled at every attempt: those keys' rule and the
    deployer's are ``error`` (both decided on the calm run), nothing throttled out is in the
    data, and every other rule decides as on the calm run."""
    listed = boto3.client("iam").list_access_keys(UserName="agenticai-deployer")
    deployer_keys = {key["AccessKeyId"] for key in listed["AccessKeyMetadata"]}

    def deployers(request: Any) -> bool:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        return "GetAccessKeyLastUsed" in body and any(k in body for k in deployer_keys)

    throttle = Throttle(always=deployers)
    plan, _ = governance_plan()
    snapshot = collect_with(plan, [("before-send", throttle)], now=NOW, max_attempts=2)
    assert throttle.throttled["GetAccessKeyLastUsed"] == 2 * len(deployer_keys)
    errors = snapshot["errors"]
    assert {(e["operation"], e["code"]) for e in errors} == {("GetAccessKeyLastUsed", "Throttling")}
    names = {f"agenticai-deployer/{key}" for key in deployer_keys}
    for resource in snapshot["resources"]:
        if resource["name"] in names:
            assert not set(iam.LAST_USED) & set(resource["data"])
    before, after = statuses(calm), statuses(snapshot)
    changed = {key for key in before if before[key] != after.get(key)}
    # The user's AccessKeys would list keys without their last use: left absent, so the
    # deployer's own rule is undecided too (collectors/iam.py, Listed.keys_whole).
    assert changed == {("iam.unused-access-keys", name) for name in names} | {
        ("iam.deployer-single-active-key", "agenticai-deployer")
    }
    assert {before[key] for key in changed} <= {"pass", "warn"}  # decided on the calm run
    assert {after[key] for key in changed} == {"error"}


# --- (4) determinism ------------------------------------------------------------------------

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


def without_times(snapshot: Snapshot) -> str:
    """The snapshot's bytes with its timestamps and call count blanked."""
    metadata = {k: v for k, v in snapshot["metadata"].items() if k != "api_calls"}
    text = json.dumps({**snapshot, "metadata": metadata}, sort_keys=True, indent=1)
    return _TIME.sub("<time>", text)


def test_completion_order_does_not_change_the_snapshot(stack: Seeded) -> None:
    runs = []
    for seed in (1, 2):
        jitter = random.Random(seed)
        hook = InFlight(partial(jitter.uniform, 0, 3 * LATENCY))
        snapshot = collect_with(full_plan(), [("before-send", hook)], now=NOW)
        runs.append((hook.finished, without_times(snapshot)))
    (first_order, first), (second_order, second) = runs
    assert first_order != second_order  # the calls did complete in other orders
    assert first == second


def test_capped_work_holds_no_more_workers_than_its_lanes() -> None:
    """Forty items behind a cap of 3 would otherwise hold every worker of the shared pool while
    they wait, and every other service's calls would wait behind them."""
    from concurrent.futures import ThreadPoolExecutor

    from runbook_guard.collectors.pool import run_each

    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    ended: dict[str, float] = {}

    def work(item: int) -> int:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        return item * 2

    results: list[list[int]] = []

    def capped() -> None:
        results.append(run_each(pool, range(40), work, lanes=3))
        ended["capped"] = time.perf_counter()

    with ThreadPoolExecutor(4) as pool:
        runner = threading.Thread(target=capped)
        runner.start()
        time.sleep(0.05)
        other = pool.submit(time.perf_counter)  # the fourth worker is free meanwhile
        other_ended = other.result()
        runner.join()
    assert results == [[i * 2 for i in range(40)]]
    assert state["peak"] == 3
    assert other_ended < ended["capped"]
    assert iam.API.lanes() == iam.IN_FLIGHT
    assert cloudtrail.EVENTS_API.lanes() == 2
    assert cloudtrail.TRAILS_API.lanes() is None
