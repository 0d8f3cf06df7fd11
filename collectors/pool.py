"""Every call in flight that can be, within the limits AWS documents.

Against real AWS a collection's wall time is calls x latency / calls in flight, so the calls a
collector makes per resource run on one bounded pool shared by every service, account and
region (``--max-concurrency``, default 32). Three limits hold whatever the pool's size: the
total in flight; per (account, region, operation) caps where AWS's request rates are low (IAM,
Budgets); and per (account, region, operation) rates where AWS documents one (CloudTrail
LookupEvents: 2 per second), so pacing, not retries, keeps them under the quota. Throttling
that still happens is botocore's adaptive retry's to absorb (its rate limiter lives in each
client, and clients are shared per account, region and service).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_CONCURRENCY = 32
_IN_POOL = threading.local()


class _Pace:
    """At most ``rate`` starts a second: each start waits for its own slot in time."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.sleep(start - now)


class Limits:
    """The bounds every call passes through (see the module's docstring)."""

    def __init__(
        self,
        max_in_flight: int = DEFAULT_MAX_CONCURRENCY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_in_flight = max_in_flight
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self._caps: dict[tuple[str, str, str], threading.BoundedSemaphore] = {}
        self._paces: dict[tuple[str, str, str], _Pace] = {}
        self._clock = clock
        self._sleep = sleep
        #: Most calls ever in flight at once (the benchmark and tests read it).
        self.peak = 0
        self._now = 0

    @contextmanager
    def call(
        self, operation: str, account: str, region: str, cap: int | None, rate: float | None
    ) -> Iterator[None]:
        key = (operation, account, region)
        with ExitStack() as stack:
            if cap:
                stack.enter_context(self._cap(key, cap))
            if rate:
                self._pace(key, rate).wait()
            stack.enter_context(self._in_flight)
            with self._lock:
                self._now += 1
                self.peak = max(self.peak, self._now)
            try:
                yield
            finally:
                with self._lock:
                    self._now -= 1

    @contextmanager
    def held(self, name: str, account: str, region: str, cap: int) -> Iterator[None]:
        """At most ``cap`` of something long-lived at once per (account, region), start to end:
        Logs Insights queries, which count against AWS's concurrent-query quota until they
        finish, however few calls each makes."""
        with self._cap((name, account, region), cap):
            yield

    def _cap(self, key: tuple[str, str, str], cap: int) -> threading.BoundedSemaphore:
        with self._lock:
            if key not in self._caps:
                self._caps[key] = threading.BoundedSemaphore(cap)
            return self._caps[key]

    def _pace(self, key: tuple[str, str, str], rate: float) -> _Pace:
        with self._lock:
            if key not in self._paces:
                self._paces[key] = _Pace(rate, self._clock, self._sleep)
            return self._paces[key]


def run_each(
    executor: Executor | None,
    items: Iterable[T],
    work: Callable[[T], R],
    lanes: int | None = None,
) -> list[R]:
    """``work`` for every item, on the pool when there is one; results in the items' order.

    Work already running on the pool runs its own items inline: a pool task waiting on tasks
    of the same pool could otherwise wait forever once every worker does so. ``lanes``: at
    most that many of these items hold a worker at once, for work whose calls are capped or
    paced anyway (IAM's 4 in flight, CloudTrail's 2 a second): a hundred items queued behind
    such a cap would otherwise occupy every worker of the shared pool while they wait, and
    every other service's calls would wait behind them.
    """
    listed: Sequence[T] = list(items)
    if executor is None or getattr(_IN_POOL, "active", False) or len(listed) < 2:
        return [work(item) for item in listed]
    if lanes is not None and lanes < len(listed):
        return _in_lanes(executor, listed, work, lanes)

    def task(item: T) -> R:
        _IN_POOL.active = True
        try:
            return work(item)
        finally:
            _IN_POOL.active = False

    futures = [executor.submit(task, item) for item in listed]
    return [future.result() for future in futures]


def _in_lanes(
    executor: Executor, listed: Sequence[T], work: Callable[[T], R], lanes: int
) -> list[R]:
    """``lanes`` workers taking the items in order; results in the items' order."""
    results: dict[int, R] = {}
    order = iter(range(len(listed)))
    lock = threading.Lock()

    def lane() -> None:
        _IN_POOL.active = True
        try:
            while True:
                with lock:
                    index = next(order, None)
                if index is None:
                    return
                results[index] = work(listed[index])
        finally:
            _IN_POOL.active = False

    for future in [executor.submit(lane) for _ in range(lanes)]:
        future.result()
    return [results[index] for index in range(len(listed))]
