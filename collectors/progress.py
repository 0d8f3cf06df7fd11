"""Collection progress on stderr: a bar at a terminal, plain lines in a CI log, or nothing."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from runbook_guard.collectors.context import Scope
from runbook_guard.collectors.journal import Journal
from runbook_guard.engine.plurals import counted

#: Off a terminal, at most one progress line this often: a CI log keeps every line it gets.
LINE_EVERY_SECONDS = 10.0


@contextmanager
def progress(scope: Scope, journal: Journal) -> Iterator[Callable[[str, int], None]]:
    """Progress on stderr: a rich bar for people at a terminal; off one (a CI log), plain
    lines (``_Lines``), so a long collection is not silent until its end; nothing with
    ``--quiet``."""
    if scope.quiet:
        yield lambda label, add: None
        return
    if not sys.stderr.isatty():
        lines = _Lines(journal)
        yield lines.advance
        lines.finished()
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("collecting", total=0)

        def advance(label: str, add: int) -> None:
            if add:
                total = progress.tasks[0].total or 0
                progress.update(task, total=total + add)
            else:
                progress.update(task, advance=1, description=f"{label} ({journal.api_calls} calls)")

        yield advance


class _Lines:
    """Plain progress lines: one when the listings start, then at most one every
    ``LINE_EVERY_SECONDS`` as tasks finish (whatever the number of accounts and regions, a
    log stays short), and one at the end with the totals. Tasks finish on worker threads."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.lock = threading.Lock()
        self.done = self.total = 0
        self.started = self.said = time.monotonic()

    def advance(self, label: str, add: int) -> None:
        with self.lock:
            if not (add or label):
                return  # no task added (an empty batch of listings or enrichments)
            if add:
                if not self.total:
                    self._say(f"{counted(add, 'listing')} started")
                self.total += add
                return
            self.done += 1
            now = time.monotonic()
            if now - self.said >= LINE_EVERY_SECONDS:
                self.said = now
                self._say(
                    f"{self.done} of {counted(self.total, 'task')} done, "
                    f"{counted(self.journal.api_calls, 'API call')} (last: {label})"
                )

    def finished(self) -> None:
        seconds = time.monotonic() - self.started
        self._say(
            f"done: {counted(self.done, 'task')}, "
            f"{counted(self.journal.api_calls, 'API call')} in {seconds:.0f} s"
        )

    @staticmethod
    def _say(text: str) -> None:
        print(f"collecting: {text}", file=sys.stderr, flush=True)
