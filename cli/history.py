"""``--previous`` and ``--history``: what a run is compared with, and where runs are kept.

A first run has nothing to compare with: a missing previous file or history folder is a note
on stderr, never exit 2, so the weekly workflow that passes ``--previous`` or ``--history``
from its first week on works from that first week. A file that is there but malformed is
still bad input (exit 2): comparing with a damaged run would misreport what changed.

The past runs go to the reporters, which take the newest as the previous run when no
``--previous`` is given, so "what changed" needs no second option. Past runs are those
evaluated before the current one: a results file recorded by ``evaluate --history`` and
reported by ``report --history`` is never compared with itself (recording is idempotent: a
run's file name is its time and digest).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_guard.engine.history import History, Run
from runbook_guard.engine.timeutil import parse_timestamp


def note(text: str) -> None:
    """One line on stderr that informs and changes nothing (no exit code, no report)."""
    print(f"note: {text}", file=sys.stderr)


def _load(path: Path) -> dict[str, Any]:
    # Imported here: ``evaluate --history`` records without importing the reporters.
    from runbook_guard.reporters import load_results

    return load_results(path)


def load_previous(path: Path | None) -> dict[str, Any] | None:
    """The previous run's results, checked like any results file; a missing file is a note."""
    if path is None:
        return None
    if not path.exists():
        note(f"no previous run: {path} does not exist (a first run has none); nothing to compare")
        return None
    return _load(path)


@dataclass(frozen=True)
class Kept:
    """A ``--history`` folder and the runs it held when opened (read then, so a damaged file
    stops the run before anything is collected)."""

    history: History
    runs: list[Run]

    def past(self, document: Mapping[str, Any]) -> list[Run]:
        """The runs evaluated before ``document``, oldest first; none is a note, not an error."""
        current = parse_timestamp(str(document["evaluated_at"]))

        def earlier(run: Run) -> bool:
            moment = parse_timestamp(run.evaluated_at)
            return current is not None and moment is not None and moment < current

        runs = [run for run in self.runs if earlier(run)]
        if not runs:
            folder = self.history.folder
            why = "does not exist yet (this run starts it)"
            if folder.exists():
                why = "keeps no run before this one"
            note(f"no previous run: history folder {folder} {why}")
        return runs

    def record(self, document: Mapping[str, Any]) -> Path:
        return self.history.record(document)


def open_history(folder: Path | None, keep: int) -> Kept | None:
    """The ``--history`` folder and its kept runs, read before anything is collected: a file
    in its place, ``--history-keep 0`` or a damaged kept run is bad input (exit 2)."""
    if folder is None:
        return None
    history = History(folder, keep)
    return Kept(history, history.runs(_load))
