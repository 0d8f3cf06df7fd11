#!/usr/bin/env python3
"""Render 100,000 results to every default format; print time per format, total and peak memory.

    .venv/bin/python benchmarks/report.py [--results N] [--accounts N] [--history RUNS]
                                          [--compare-validation]

Targets (issue 4): under 5 s in total and under 1 GiB, for the six default formats (JUnit,
SARIF, Markdown, JSON, CSV, HTML). The document comes from the test factory (realistic rules;
every status; waivers; collection errors) and is built before the clock starts: the benchmark
measures the report stage, not the fixture. ``--accounts N`` deals the results over N
accounts (an organisation's run): the reports then add the account column, the table of
accounts and the findings by account (issue 14), which must stay linear too.

Then what a weekly run adds (issue 13): indexing with a history of ``--history`` kept runs
(trend, the age of every open finding, "what changed" against the newest), which must stay
linear in the results of the runs kept.

Then the path ``runbook-guard report`` takes end to end: the document written to a results
file, read back with ``load_results`` (parse, schema validation, cross-references) and
rendered and written with ``write_reports``. ``--compare-validation`` also times validating
the whole document with the whole-schema validator, as ``load_results`` did before it
validated each result with one pre-built ``$defs/result`` validator.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runbook_guard.engine.history import Run  # noqa: E402
from runbook_guard.reporters import (  # noqa: E402
    FORMATS,
    default_paths,
    index,
    load_results,
    paused_gc,
    write_reports,
)
from runbook_guard.reporters.csv_report import render_csv  # noqa: E402
from runbook_guard.reporters.html_report import render_html  # noqa: E402
from runbook_guard.reporters.json import render_json  # noqa: E402
from runbook_guard.reporters.junit import render_junit  # noqa: E402
from runbook_guard.reporters.loading import results_validator  # noqa: E402
from runbook_guard.reporters.markdown import render_markdown  # noqa: E402
from runbook_guard.reporters.model import build_report  # noqa: E402
from runbook_guard.reporters.sarif import render_sarif  # noqa: E402
from tests.reporters.factory import (  # noqa: E402
    bulk_document,
    bulk_previous,
    spread_over_accounts,
)

RENDERERS = {
    "junit": render_junit,
    "sarif": render_sarif,
    "markdown": render_markdown,
    "json": render_json,
    "csv": render_csv,
    "html": render_html,
}
TARGET_SECONDS = 5.0
TARGET_BYTES = 1 << 30


def peak_rss() -> int:
    """Peak resident set size of this process in bytes (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def end_to_end(document: dict[str, object], compare: bool) -> float:
    """What `runbook-guard report` does with a results file; returns the total seconds."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        print(f"end to end (`report`, {path.stat().st_size / 1e6:.1f} MB results file):")
        began = time.perf_counter()
        loaded = load_results(path)
        loaded_at = time.perf_counter()
        print(f"  {'load_results':<15} {loaded_at - began:6.2f} s  (parse + validate)")
        write_reports(loaded, default_paths(Path(folder) / "out"))
        total = time.perf_counter() - began
        print(
            f"  {'write_reports':<15} {total - (loaded_at - began):6.2f} s  (every default format)"
        )
        print(f"  {'total':<15} {total:6.2f} s")
        if compare:
            began = time.perf_counter()
            errors = sum(1 for _ in results_validator().iter_errors(loaded))
            elapsed = time.perf_counter() - began
            label = "whole-schema validation, as before (for comparison)"
            print(f"  ({label}: {elapsed:.2f} s, {errors} errors)")
    return total


def with_history(document: dict[str, object], count: int, runs: int) -> None:
    """Index with ``runs`` kept runs (each a week before the next), then render Markdown."""
    kept = []
    for week in range(runs, 0, -1):
        previous = bulk_previous(count)
        kept.append(Run(f"2026-11-{27 - 7 * week:02d}T10:00:00+00:00", previous["results"]))
    print(f"with a history of {runs} runs ({count} results each):")
    with paused_gc():
        began = time.perf_counter()
        report = index(document, history=kept)
        indexed = time.perf_counter()
        RENDERERS["markdown"](report)
        done = time.perf_counter()
    print(f"  {'index + history':<15} {indexed - began:6.2f} s  (trend, ages, what changed)")
    print(f"  {'markdown':<15} {done - indexed:6.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1, help="accounts to deal results over")
    parser.add_argument("--history", type=int, default=3, help="kept runs (0: skip)")
    parser.add_argument("--compare-validation", action="store_true")
    args = parser.parse_args()
    document = bulk_document(args.results)
    if args.accounts > 1:
        document = spread_over_accounts(document, args.accounts)
    before = peak_rss()
    print(
        f"{args.results} results, {len(document['rules'])} rules, "
        f"{len(document['scope']['accounts'])} account(s); formats: {', '.join(FORMATS)}"
    )
    started = time.perf_counter()
    with paused_gc():  # as render_all/write_reports do
        report = build_report(document)
        index = time.perf_counter() - started
        print(f"  {'index (shared)':<15} {index:6.2f} s")
        for fmt in FORMATS:
            began = time.perf_counter()
            text = RENDERERS[fmt](report)
            elapsed = time.perf_counter() - began
            print(f"  {fmt:<15} {elapsed:6.2f} s  {len(text.encode('utf-8')) / 1e6:8.1f} MB")
            del text
    total = time.perf_counter() - started
    peak = peak_rss()
    print(f"  {'total':<15} {total:6.2f} s (target < {TARGET_SECONDS:.0f} s)")
    print(
        f"  peak RSS {peak / 2**20:.0f} MiB (document alone {before / 2**20:.0f} MiB; "
        f"target < {TARGET_BYTES / 2**30:.0f} GiB)"
    )
    if args.history:
        with_history(document, args.results, args.history)
    end_to_end(document, args.compare_validation)
    return 0 if total < TARGET_SECONDS and peak < TARGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
