"""No barrier between listing and enrichment, and a snapshot independent of completion order.

A call log of a collection planned from the shipped pack (functions with their metrics, log
groups with their ERROR counts, CloudTrail events): CloudTrail's lookups, paced at 2 a second
and here slowed further by a hook, start before any metric or log work, and the functions'
GetMetricData and the log groups' Logs Insights query start while the lookups are still
running, instead of after every listing has ended. Collected again with the slow call moved
to the functions' listing (another completion order), the snapshot's resources, errors and
coverage are the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from runbook_guard.collectors import Scope, collect
from runbook_guard.collectors.awslambda import FUNCTION
from runbook_guard.collectors.cloudtrail import EVENT
from runbook_guard.collectors.logs import LOG_GROUP
from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.engine.planner import plan_collection

#: How long the hook holds each slowed call.
HOLD_SECONDS = 1.5


class Log:
    """(seconds since the first call, operation, "start", "held" or "end") of every call."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.origin: float | None = None
        self.entries: list[tuple[float, str, str]] = []

    def add(self, operation: str, what: str) -> None:
        with self.lock:
            now = time.perf_counter()
            self.origin = now if self.origin is None else self.origin
            self.entries.append((now - self.origin, operation, what))

    def first(self, operation: str) -> float:
        return min(t for t, op, what in self.entries if op == operation and what == "start")

    def last_end(self, operation: str) -> float:
        """When the operation's last call ended, or at least was still running (held)."""
        return max(t for t, op, what in self.entries if op == operation and what != "start")


def pack_plan() -> CollectionPlan:
    plan = plan_collection(load_policy_set(), {})
    plan.types = {t: r for t, r in plan.types.items() if t in (FUNCTION, LOG_GROUP, EVENT)}
    plan.types[EVENT].options["event_names"] = ["DeleteTable", "DeleteBucket"]
    return plan


def observe(hooked: Callable[..., Any], slow: str) -> tuple[dict[str, Any], Log]:
    """Collect the plan, ``slow`` held HOLD_SECONDS per call, every call's start and end logged."""
    log = Log()

    def start(model: Any, **_: Any) -> None:
        log.add(model.name, "start")
        if model.name == slow:
            time.sleep(HOLD_SECONDS)
            log.add(model.name, "held")  # moto's in-process failures skip after-call-error

    def end(model: Any, **_: Any) -> None:
        log.add(model.name, "end")

    factory = hooked(("before-call", start), ("after-call", end), ("after-call-error", end))
    snapshot = collect(pack_plan(), Scope(max_attempts=1, quiet=True, session_factory=factory))
    return snapshot, log


@pytest.fixture(scope="module")
def slow_lookups(seeded: Seeded, hooked: Callable[..., Any]) -> tuple[dict[str, Any], Log]:
    return observe(hooked, "LookupEvents")


def test_lookups_start_before_any_enrichment(slow_lookups: tuple[dict[str, Any], Log]) -> None:
    _, log = slow_lookups
    assert log.first("LookupEvents") < log.first("GetMetricData")
    assert log.first("LookupEvents") < log.first("StartQuery")


def test_metric_and_log_work_overlap_the_lookups(slow_lookups: tuple[dict[str, Any], Log]) -> None:
    """With a barrier both would start after the last lookup ended: the second starts half a
    second after the first (2 a second), and each is held HOLD_SECONDS."""
    _, log = slow_lookups
    lookups_end = log.last_end("LookupEvents")
    assert lookups_end >= HOLD_SECONDS + 0.5
    assert log.first("GetMetricData") < lookups_end
    assert log.first("StartQuery") < lookups_end
    # Each type's enrichment waits only for its own listing (and its details).
    assert log.first("GetMetricData") > log.first("ListFunctions")
    assert log.first("StartQuery") > log.first("DescribeLogGroups")


def test_the_snapshot_does_not_depend_on_completion_order(
    slow_lookups: tuple[dict[str, Any], Log], hooked: Callable[..., Any]
) -> None:
    first, _ = slow_lookups
    second, log = observe(hooked, "ListFunctions")
    assert log.first("StartQuery") < log.last_end("ListFunctions")  # the other order, indeed
    for part in ("resources", "errors", "coverage"):
        assert second[part] == first[part], part
    counted = [r for r in first["resources"] if "logs" in r]
    assert len(counted) == 5
    assert sum(1 for r in first["resources"] if r.get("metrics")) == 5
