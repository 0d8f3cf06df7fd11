"""Results to text: JUnit for CI, SARIF for code scanning, Markdown, HTML and CSV for
auditors, JSON.

Reporters are pure: a results document in, text out, no clock and no network, so the same
document always gives the same bytes. Typical use::

    from runbook_guard.reporters import default_paths, write_reports
    write_reports(results, default_paths(Path("out")))          # every default format
    text = render(results, "sarif", fail_on="warn")             # one format as a string
    write_reports(results, paths, previous=last_week)            # with "what changed"
    write_reports(results, paths, history=History(d).runs(load_results))  # trend and ages

``previous`` is an earlier results document (validated, e.g. by ``load_results``): with it,
Markdown and HTML gain a "What changed since the previous run" section and SARIF results a
``baselineState`` (see ``changes.py`` and docs/reports.md). ``history`` is the past runs
kept by ``--history`` (oldest first, this run not among them): the reports then show a
trend and how long each finding has been open, and without ``previous`` the newest kept run
is the baseline of "what changed". An empty history is a first run: a note, not an error.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runbook_guard.engine.history import Run
from runbook_guard.reporters.changes import Changes, compare_documents, with_changes
from runbook_guard.reporters.console import print_summary
from runbook_guard.reporters.csv_report import render_csv
from runbook_guard.reporters.html_report import render_html
from runbook_guard.reporters.json import render_json
from runbook_guard.reporters.junit import render_junit
from runbook_guard.reporters.loading import load_results, validate_results
from runbook_guard.reporters.markdown import render_markdown, render_markdown_summary
from runbook_guard.reporters.model import FAIL_ON, Report, blocking_statuses, build_report
from runbook_guard.reporters.sarif import render_sarif
from runbook_guard.reporters.timeline import baseline_document, kept_whole, with_timeline
from runbook_guard.reporters.writing import write_texts_atomic

FORMATS = ("junit", "sarif", "markdown", "json", "csv", "html")
# Formats that exist but are not written by default (``check`` without --format).
EXTRA_FORMATS = ("markdown-summary",)
ALL_FORMATS = FORMATS + EXTRA_FORMATS
DEFAULT_FILENAMES = {
    "junit": "junit.xml",
    "sarif": "results.sarif",
    "markdown": "report.md",
    # not results.json: that is what `evaluate` writes, often into the same folder
    "json": "report.json",
    # the compact Markdown for a CI job summary (GitHub caps a step summary at 1 MiB)
    "markdown-summary": "summary.md",
    "csv": "report.csv",
    "html": "report.html",
}
_RENDERERS: dict[str, Callable[[Report], str]] = {
    "junit": render_junit,
    "sarif": render_sarif,
    "markdown": render_markdown,
    "json": render_json,
    "markdown-summary": render_markdown_summary,
    "csv": render_csv,
    "html": render_html,
}


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while rendering.

    Rendering allocates millions of short-lived strings and dicts, which keeps triggering
    full collections that walk the whole (large, acyclic) results document: measured at
    roughly half the time of a 100,000-result run. Rendering creates no reference cycles,
    so nothing is left for the collector to find; reference counting frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _renderer(fmt: str) -> Callable[[Report], str]:
    try:
        return _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(ALL_FORMATS)}") from None


def index(
    results: Mapping[str, Any],
    fail_on: str | None = None,
    previous: Mapping[str, Any] | None = None,
    fail_severity: str | None = None,
    history: Sequence[Run] | None = None,
) -> Report:
    """The shared view every renderer reads: compared with ``previous`` when one is given,
    else with the newest run of ``history``; with a trend and ages when ``history`` is given."""
    report = build_report(results, fail_on, fail_severity)
    if history is not None:
        # the past runs only: a history recorded before rendering may hold this run already
        history = [run for run in history if run.evaluated_at != report.evaluated_at]
        report = with_timeline(report, history)
    if previous is not None:
        return with_changes(report, previous)
    if history:
        newest = history[-1]
        baseline = baseline_document(newest, report)
        return with_changes(report, baseline, from_history=True, whole=kept_whole(newest))
    return report


def render(
    results: Mapping[str, Any],
    fmt: str,
    *,
    fail_on: str | None = None,
    previous: Mapping[str, Any] | None = None,
    fail_severity: str | None = None,
    history: Sequence[Run] | None = None,
) -> str:
    """One format as a string. ``fail_on`` sets which statuses JUnit marks failed and the gate
    line Markdown prints (note, warn, fail or never, as for ``evaluate``), ``fail_severity``
    the severity from which they block; by default the gate the results were evaluated with
    (``summary.gate``, else ``fail`` at any severity)."""
    renderer = _renderer(fmt)
    with paused_gc():
        return renderer(index(results, fail_on, previous, fail_severity, history))


def default_paths(
    directory: Path | str, formats: Iterable[str] = FORMATS
) -> list[tuple[str, Path]]:
    """(format, path) pairs with each format's default file name inside ``directory``."""
    return [(fmt, Path(directory) / DEFAULT_FILENAMES[fmt]) for fmt in formats]


def render_all(
    results: Mapping[str, Any],
    formats: Iterable[str],
    *,
    fail_on: str | None = None,
    previous: Mapping[str, Any] | None = None,
    fail_severity: str | None = None,
    history: Sequence[Run] | None = None,
) -> list[str]:
    """Several formats from one indexing of the document (what write_reports and the CLI use)."""
    renderers = [_renderer(fmt) for fmt in formats]
    with paused_gc():
        report = index(results, fail_on, previous, fail_severity, history)
        return [renderer(report) for renderer in renderers]


def write_reports(
    results: Mapping[str, Any],
    formats_and_paths: Mapping[str, Path | str] | Iterable[tuple[str, Path | str]],
    *,
    fail_on: str | None = None,
    previous: Mapping[str, Any] | None = None,
    fail_severity: str | None = None,
    history: Sequence[Run] | None = None,
) -> list[Path]:
    """Render every requested format, then write the set all-or-nothing.

    Everything is rendered before anything is written, so a bad format name or input
    leaves no half-updated set of reports behind; and the files are written in two phases
    (every temporary file first, then every rename), so a folder that cannot be written
    leaves every previous report as it was (``writing.write_texts_atomic``).
    """
    pairs = list(
        formats_and_paths.items() if isinstance(formats_and_paths, Mapping) else formats_and_paths
    )
    formats = [fmt for fmt, _ in pairs]
    texts = render_all(
        results,
        formats,
        fail_on=fail_on,
        previous=previous,
        fail_severity=fail_severity,
        history=history,
    )
    paths = [Path(path) for _, path in pairs]
    write_texts_atomic(list(zip(paths, texts, strict=True)))
    return paths


__all__ = [
    "ALL_FORMATS",
    "DEFAULT_FILENAMES",
    "EXTRA_FORMATS",
    "FAIL_ON",
    "FORMATS",
    "Changes",
    "blocking_statuses",
    "build_report",
    "compare_documents",
    "default_paths",
    "index",
    "load_results",
    "paused_gc",
    "print_summary",
    "render",
    "render_all",
    "validate_results",
    "write_reports",
    "write_texts_atomic",
]
