"""Resources past a bound kept on disk in sorted runs, merged back in the snapshot's order.

An organisation's collection holds every account's resources until the snapshot is written;
``runbook-guard collect`` only writes them out, so within ``spilling()`` the resources past
``SPILL_AFTER`` go to sorted runs on disk and come back merged (``Spilled``) as the streamed
writer (``engine.fileio.write_json_atomic``) writes them: memory does not grow with the
accounts. The order is the snapshot's own (``engine.snapshot.resource_order``), so the bytes
are those of an in-memory collection.
"""

from __future__ import annotations

import heapq
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from runbook_guard.engine.snapshot import resource_order

#: Resources held in memory, within ``spilling()``, before a sorted run of them goes to disk.
SPILL_AFTER = 5_000
_SPILL_FOLDER: ContextVar[Path | None] = ContextVar("spill_folder", default=None)


@contextmanager
def spilling() -> Iterator[None]:
    """Within: a collection past ``SPILL_AFTER`` resources keeps them in sorted runs on disk
    (a temporary folder, removed on leaving), and its snapshot's ``resources`` is a
    ``Spilled`` that must be written out before leaving. For a caller that writes the
    snapshot and keeps nothing of it (``runbook-guard collect``)."""
    with tempfile.TemporaryDirectory(prefix="runbook-guard-spill-") as folder:
        token = _SPILL_FOLDER.set(Path(folder))
        try:
            yield
        finally:
            _SPILL_FOLDER.reset(token)


class Spilled:
    """Resources in the snapshot's order (type, account, region, id), merged from sorted runs
    on disk as they are iterated: never all in memory. Iterable more than once; ``len``."""

    def __init__(self, runs: Sequence[Path], tail: list[dict[str, Any]], count: int) -> None:
        self.runs = list(runs)
        self.tail = tail
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # heapq.merge takes equal keys from earlier runs first, and one account's resources
        # are always in one run: the order of equal keys is the order they were collected in.
        return heapq.merge(*map(_read_run, self.runs), self.tail, key=resource_order)


def _read_run(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as lines:
        for line in lines:
            yield orjson.loads(line)


@dataclass
class Kept:
    """The resources collected so far: in memory, and in sorted runs past ``SPILL_AFTER``
    when ``folder`` is given. Each context adds all of its resources at once, so one
    account's resources never straddle two runs."""

    folder: Path | None
    held: list[dict[str, Any]] = field(default_factory=list)
    runs: list[Path] = field(default_factory=list)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, resources: list[dict[str, Any]]) -> None:
        with self.lock:
            self.held.extend(resources)
            self.count += len(resources)
            if self.folder is not None and len(self.held) >= SPILL_AFTER:
                run = self.folder / f"run-{len(self.runs):05d}.jsonl"
                self.held.sort(key=resource_order)
                run.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in self.held))
                self.runs.append(run)
                self.held = []

    @classmethod
    def in_spill_folder(cls) -> Kept:
        """Kept in the current ``spilling()`` folder, or in memory only outside one."""
        return cls(_SPILL_FOLDER.get())

    def resources(self) -> list[dict[str, Any]] | Spilled:
        self.held.sort(key=resource_order)
        return Spilled(self.runs, self.held, self.count) if self.runs else self.held
