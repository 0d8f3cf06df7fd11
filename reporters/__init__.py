"""Results to text: JUnit for CI, SARIF for code scanning, Markdown for auditors, JSON.

Reporters are pure: a results document in, text out, no clock and no network, so the same
document always gives the same bytes. Typical use::

    from runbook_guard.reporters import default_paths, write_reports
    write_reports(results, default_paths(Path("out")))          # all four formats
    text = render(results, "sarif", fail_on="warn")             # one format as a string
    write_reports(results, paths, previous=last_week)            # with "what changed"

``previous`` is an earlier results document (validated, e.g. by ``load_results``): with it,
Markdown gains a "Changes since the previous run" section and SARIF results a
``baselineState`` (see ``changes.py`` and docs/reports.md).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runbook_guard.reporters.changes import Changes, compare_documents, with_changes
from runbook_guard.reporters.console import print_summary
from runbook_guard.reporters.json import render_json
from runbook_guard.reporters.junit import render_junit
from runbook_guard.reporters.loading import load_results, validate_results
from runbook_guard.reporters.markdown import render_markdown, render_markdown_summary
from runbook_guard.reporters.model import FAIL_ON, Report, blocking_statuses, build_report
from runbook_guard.reporters.sarif import render_sarif
from runbook_guard.reporters.writing import write_texts_atomic

FORMATS = ("junit", "sarif", "markdown", "json")
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
}
_RENDERERS: dict[str, Callable[[Report], str]] = {
    "junit": render_junit,
    "sarif": render_sarif,
    "markdown": render_markdown,
    "json": render_json,
    "markdown-summary": render_markdown_summary,
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
) -> Report:
    """The shared view every renderer reads, compared with ``previous`` when one is given."""
    report = build_report(results, fail_on)
    return report if previous is None else with_changes(report, previous)


def render(
    results: Mapping[str, Any],
    fmt: str,
    *,
    fail_on: str | None = None,
    previous: Mapping[str, Any] | None = None,
) -> str:
    """One format as a string. ``fail_on`` sets which statuses JUnit marks failed and the gate
    line Markdown prints (note, warn, fail or never, as for ``evaluate``); by default the gate
    the results were evaluated with (``summary.gate.fail_on``, else ``fail``)."""
    renderer = _renderer(fmt)
    with paused_gc():
        return renderer(index(results, fail_on, previous))


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
) -> list[str]:
    """Several formats from one indexing of the document (what write_reports and the CLI use)."""
    renderers = [_renderer(fmt) for fmt in formats]
    with paused_gc():
        report = index(results, fail_on, previous)
        return [renderer(report) for renderer in renderers]


def write_reports(
    results: Mapping[str, Any],
    formats_and_paths: Mapping[str, Path | str] | Iterable[tuple[str, Path | str]],
    *,
    fail_on: str | None = None,
    previous: Mapping[str, Any] | None = None,
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
    texts = render_all(results, [fmt for fmt, _ in pairs], fail_on=fail_on, previous=previous)
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
