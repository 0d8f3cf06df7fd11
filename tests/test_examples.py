"""examples/ holds one report of each format from the example snapshot and the rules on main.

The reports are regenerated here and compared byte for byte, so a change to a rule, the
engine or a reporter that changes what users see also changes the examples in the same
commit. To update them: RUNBOOK_GUARD_REGENERATE_EXAMPLES=1 python -m pytest tests/test_examples.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runbook_guard.cli.pipeline import evaluate, prepare
from runbook_guard.engine.fileio import canonical_json, write_text_atomic
from runbook_guard.engine.snapshot import load_snapshot
from runbook_guard.reporters import ALL_FORMATS, DEFAULT_FILENAMES, render_all

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REGENERATE = os.environ.get("RUNBOOK_GUARD_REGENERATE_EXAMPLES") == "1"


def expected_files() -> dict[str, str]:
    prepared = prepare(EXAMPLES / "runbook-guard.yaml", None, None)
    results = evaluate(prepared, load_snapshot(EXAMPLES / "snapshot.json"), None, None)
    texts = render_all(results, ALL_FORMATS, fail_on=prepared.fail_on)
    files = {DEFAULT_FILENAMES[fmt]: text for fmt, text in zip(ALL_FORMATS, texts, strict=True)}
    files["results.json"] = canonical_json(results)
    return files


@pytest.mark.parametrize("name", ["results.json", *(DEFAULT_FILENAMES[f] for f in ALL_FORMATS)])
def test_example_reports_match_the_rules_on_main(name: str) -> None:
    text = expected_files()[name]
    path = EXAMPLES / name
    if REGENERATE:
        write_text_atomic(path, text)
    assert path.exists(), f"{path} is missing; regenerate the examples"
    assert path.read_bytes().decode() == text, (  # as written: the CSV ends lines in CRLF
        f"{path} drifted; regenerate the examples (see module docstring)"
    )


def test_the_example_shows_every_kind_of_finding() -> None:
    import json

    results = json.loads((EXAMPLES / "results.json").read_text())
    statuses = {r["status"] for r in results["results"]}
    # No "error": the demo's stack seeds none, and every error it once showed was a gap of the
    # emulator (now served by demo/standins.py); tests/reporters render errors in every format.
    assert {"pass", "note", "warn", "fail", "manual", "waived"} <= statuses
    assert "error" not in statuses
    assert {w["status"] for w in results["waivers"]} >= {"active", "expired"}
