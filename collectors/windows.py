"""Accounts given as units, collected a window at a time, each released when it is done.

An open account holds a session, a client per service and their connection pools (about
9 MiB, 12 threads and 38 file descriptors): opening a thousand accounts first would need
9 GiB and more sockets than a machine allows. So each unit gets a context of its own,
``ACCOUNTS_IN_FLIGHT`` at once, sharing one bound on calls in flight, and its context goes as
soon as its last task ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

from runbook_guard.collectors.context import Context
from runbook_guard.engine.accounts import AccountUnit

T = TypeVar("T")
#: Accounts open at once when the accounts are units: enough to overlap each account's paced
#: calls (11 CloudTrail lookups at 2 a second take 5 s) with the others' work.
ACCOUNTS_IN_FLIGHT = 32
#: Accounts done between two full garbage collections (see ``_swept_heap``).
SWEEP_EVERY = 16


@contextmanager
def _swept_heap() -> Iterator[Callable[[], None]]:
    """Cyclic garbage collection on the collection's own terms while accounts come and go;
    yields what to call as each account's context is dropped.

    An account's session and clients form reference cycles, so what is left of an account
    after its turn is freed only by full collections. Left to itself the collector ran one
    every 4 accounts, each walking every tracked object: a 100-account collection spent 11 of
    its 40 CPU seconds in 23 of them. So automatic collection is paused, what exists before
    (botocore's parsed service models, the policies) is kept out of the walk (``gc.freeze``),
    and one full collection runs every ``SWEEP_EVERY`` accounts done: the garbage of that
    many accounts at most waits for it.
    """
    lock = threading.Lock()
    done = 0

    def account_done() -> None:
        nonlocal done
        with lock:
            done += 1
            due = done % SWEEP_EVERY == 0
        if due:
            gc.collect()

    enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield account_done
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def each_account(context: Context, part: Callable[[Context], T]) -> list[T]:
    """Each unit of ``context``'s scope in a context of its own, ``ACCOUNTS_IN_FLIGHT`` at
    once, sharing its limits; a context and its clients go as soon as its account is done."""

    with _swept_heap() as account_done, ThreadPoolExecutor(ACCOUNTS_IN_FLIGHT) as accounts:

        def one(unit: AccountUnit) -> T:
            own = Context(replace(context.scope, accounts=[unit]), context.journal)
            own.limits = context.limits  # one bound on calls in flight, over every account
            done = part(own)
            del own
            account_done()
            return done

        return list(accounts.map(one, context.scope.accounts))
