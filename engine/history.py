"""History: each run's results kept in a folder, so a report can say what changed and since when.

A weekly report that only compares with last week cannot say how long a finding has been open
or whether the account is getting better. ``--history DIR`` keeps every run's results file
(bounded: the oldest beyond ``keep`` are pruned), and from them the report shows a trend of
the last runs per status and, for each open finding, when it was first seen.

A finding is the same across runs when its rule and its resource's (account, region, type,
name) are: a queue deleted and recreated under the same name has a new ARN but is the same
finding to whoever has to fix it, and the same name in another account is another finding.
A resource without a name falls back to its id; a rule-level result is keyed by the rule.

The folder is only ever written through ``record`` (atomic writes; a file it did not write
is never pruned), and reading it never fails a run: a first run has no history, which is a
note in the report, not an error.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.fileio import write_json_atomic

#: Results files this module writes; anything else in the folder is left alone.
RUN_FILE = re.compile(r"^results-(\d{8}T\d{6}Z)-([0-9a-f]{12})\.json$")
DEFAULT_KEEP = 52  # a year of weekly runs
#: Statuses that are a finding: something for a person to look at.
OPEN = frozenset({"fail", "error", "warn", "note", "waived"})

Identity = tuple[str, str, str, str, str]


def identity(result: Mapping[str, Any]) -> Identity:
    """(rule, account, region, type, name): what makes two runs' results the same finding."""
    resource = result.get("resource") or {}
    name = str(resource.get("name") or resource.get("id") or "")
    return (
        str(result["rule"]),
        str(resource.get("account", "")),
        str(resource.get("region", "")),
        str(resource.get("type", "")),
        name,
    )


@dataclass(frozen=True)
class Run:
    """One kept run: when it was evaluated and its results."""

    evaluated_at: str
    results: Sequence[Mapping[str, Any]]
    #: The whole results file, when read from one: "what changed" compares scopes and rules.
    document: Mapping[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(str(r["status"]) for r in self.results).items()))

    def open_findings(self) -> set[Identity]:
        return {identity(r) for r in self.results if r["status"] in OPEN}


def file_name(document: Mapping[str, Any]) -> str:
    """A name that sorts by evaluation time, unique per content (two runs, same second)."""
    stamp = re.sub(r"[-:]", "", str(document["evaluated_at"]))[:15] + "Z"
    digest = str(document.get("scope", {}).get("snapshot_digest", ""))
    digest = (re.sub(r"[^0-9a-f]", "", digest.split(":")[-1]) + "0" * 12)[:12]
    return f"results-{stamp}-{digest}.json"


class History:
    """The kept runs of one folder, oldest first."""

    def __init__(self, folder: Path, keep: int = DEFAULT_KEEP) -> None:
        if keep < 1:
            raise InputError([f"--history-keep must be at least 1, not {keep}"])
        if folder.exists() and not folder.is_dir():
            raise InputError([f"--history {folder}: exists and is not a folder"])
        self.folder = folder
        self.keep = keep

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if RUN_FILE.match(p.name))

    def runs(self, load: Callable[[Path], Mapping[str, Any]]) -> list[Run]:
        """Every kept run, read with ``load`` (the results loader: validated, any version)."""
        kept = []
        for path in self.files():
            document = load(path)
            kept.append(Run(str(document["evaluated_at"]), document["results"], document))
        return kept

    def record(self, document: Mapping[str, Any]) -> Path:
        """Keep this run's results; prune the oldest beyond ``keep``. Returns the new file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / file_name(document)
        write_json_atomic(path, document)
        for stale in self.files()[: -self.keep]:
            stale.unlink()
        return path


def trend(runs: Iterable[Run], last: int = 8) -> list[dict[str, Any]]:
    """Per run (oldest first, at most ``last``), when it ran and its count per status."""
    chosen = list(runs)[-last:]
    return [{"evaluated_at": run.evaluated_at, "counts": run.counts()} for run in chosen]


def first_seen(runs: Sequence[Run], current: Run) -> dict[Identity, tuple[str, bool]]:
    """For each open finding of ``current``: when its unbroken streak of runs began.

    The boolean says the streak reaches back past the oldest kept run (so the finding is at
    least that old). A finding that was resolved and came back is dated from its return.
    """
    seen: dict[Identity, tuple[str, bool]] = {}
    timeline = [*runs, current]
    open_sets = [run.open_findings() for run in timeline]
    for finding in open_sets[-1]:
        start = len(timeline) - 1
        while start > 0 and finding in open_sets[start - 1]:
            start -= 1
        seen[finding] = (timeline[start].evaluated_at, start == 0 and len(timeline) > 1)
    return seen
