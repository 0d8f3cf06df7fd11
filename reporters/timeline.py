"""History as the reports show it: a trend of the last runs and how long each finding is open.

``engine.history`` keeps the runs and decides when a finding was first seen; this module turns
that into what a reader sees, once per report: one trend row per run (the current one last),
and per open finding an ``Age`` ("since 2026-10-02, 56 days", or "at least since" when the
streak reaches past the oldest kept run). A history that is given but empty is a first run:
a note in the report, never an error.

The newest kept run is also the baseline of "what changed" when no ``--previous`` is given.
A kept run carries its results (and, when the history keeps it, its whole document); from
results alone the comparison takes this run's rules for the ones both runs evaluated and this
run's scope (one history folder belongs to one recurring job), and says so.

Linear in the results of the runs kept: each run's open findings are one set, and a
finding's streak is walked back at most once per kept run (bounded by the history's size).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook_guard.engine.history import Identity, Run, first_seen, trend
from runbook_guard.engine.timeutil import parse_timestamp
from runbook_guard.reporters.model import STATUSES, Report, Score

TREND_RUNS = 8  # the trend table's rows: two months of weekly runs


@dataclass(frozen=True, slots=True)
class Age:
    """When an open finding was first seen in an unbroken streak of runs."""

    since: str
    #: The streak reaches back past the oldest kept run: the finding is at least this old.
    at_least: bool
    days: int | None
    #: First seen in this very run.
    new: bool

    @property
    def text(self) -> str:
        """``this run``, ``2026-10-02 (56 days)`` or ``at least since 2026-10-02 (56+ days)``."""
        if self.new:
            return "this run"
        day = self.since[:10]
        if self.days is None:
            return f"at least since {day}" if self.at_least else day
        if self.at_least:
            return f"at least since {day} ({self.days}+ days)"
        return f"{day} ({self.days} day{'' if self.days == 1 else 's'})"


@dataclass(frozen=True, slots=True)
class TrendRow:
    evaluated_at: str
    counts: Mapping[str, int]
    current: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def score(self) -> Score:
        return Score.of(self.counts)

    def cells(self) -> list[int]:
        return [self.counts.get(status, 0) for status in STATUSES]


@dataclass(frozen=True, slots=True)
class Timeline:
    """The history's view of this run: how many runs were kept, the trend, each age."""

    runs_kept: int
    trend: tuple[TrendRow, ...]
    ages: Mapping[Identity, Age]

    @property
    def first_run(self) -> bool:
        return self.runs_kept == 0

    def age(self, key: Identity) -> Age | None:
        return self.ages.get(key)


def _days(since: str, now: str) -> int | None:
    start, end = parse_timestamp(since), parse_timestamp(now)
    if start is None or end is None:
        return None
    return max(0, (end - start).days)


def _under_current_ids(runs: Sequence[Run], renamed: Mapping[str, str]) -> list[Run]:
    """Past runs with their results under the rule ids the rules have now (``replaces``)."""
    if not renamed:
        return list(runs)
    out = []
    for run in runs:
        results = [
            {**raw, "rule": renamed[raw["rule"]]} if raw["rule"] in renamed else raw
            for raw in run.results
        ]
        out.append(dataclasses.replace(run, results=results))
    return out


def renamed_ids(report: Report) -> dict[str, str]:
    return {old: rule.id for rule in report.rules for old in rule.replaces}


def build_timeline(report: Report, runs: Sequence[Run], last: int = TREND_RUNS) -> Timeline:
    """Trend (at most ``last`` rows, this run included) and the age of each open finding."""
    past = _under_current_ids(runs, renamed_ids(report))
    current = Run(report.evaluated_at, [row.raw for row in report.rows])
    rows = trend([*past, current], last=last)
    trend_rows = tuple(
        TrendRow(str(row["evaluated_at"]), row["counts"], index == len(rows) - 1)
        for index, row in enumerate(rows)
    )
    ages = {
        key: Age(since, at_least, _days(since, report.evaluated_at), since == current.evaluated_at)
        for key, (since, at_least) in first_seen(past, current).items()
    }
    return Timeline(len(runs), trend_rows, ages)


def with_timeline(report: Report, runs: Sequence[Run]) -> Report:
    return dataclasses.replace(report, timeline=build_timeline(report, runs))


def _stub_rule(rule_id: str) -> dict[str, Any]:
    """A rule the kept run evaluated and this run does not: only its id is known."""
    return {
        "id": rule_id, "title": rule_id, "kind": "check", "severity": "info",
        "cadence": "weekly", "covers": [], "section": "", "source": {"file": "", "line": 1},
    }  # fmt: skip


def kept_whole(run: Run) -> bool:
    """Whether the kept run carries its whole document (else only its results)."""
    return isinstance(getattr(run, "document", None), Mapping)


def baseline_document(run: Run, report: Report) -> Mapping[str, Any]:
    """The newest kept run as a previous results document for ``changes.compare``.

    The kept document when the run carries it; otherwise one made from its results, with
    this run's definition of every rule both runs evaluated (a redefinition cannot be seen
    without the old one), this run's scope, and no digests (shown as not kept).
    """
    document = getattr(run, "document", None)
    if isinstance(document, Mapping):
        return document
    # Rules are listed under the ids they have now: the kept results are mapped to them too.
    renamed = renamed_ids(report)
    current = {str(raw["id"]): raw for raw in report.document["rules"]}
    ids = sorted({renamed.get(str(raw["rule"]), str(raw["rule"])) for raw in run.results})
    rules = [current.get(rule_id) or _stub_rule(rule_id) for rule_id in ids]
    return {
        "evaluated_at": run.evaluated_at,
        "results": run.results,
        "rules": rules,
        "scope": {
            "accounts": list(report.scope["accounts"]),
            "regions": list(report.scope["regions"]),
            "snapshot_digest": "",
        },
        # this run's packs and selection: the same job, so the same SARIF category
        "policies": {"digest": "", "packs": list(report.policies["packs"])},
        "tool": {"name": report.tool_name, "version": ""},
        **({"selection": report.selection} if report.selection is not None else {}),
    }
