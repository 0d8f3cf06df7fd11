"""Same results, same bytes: across runs, input orderings and through the file writer."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from runbook_guard.reporters import FORMATS, default_paths, render, write_reports

from .factory import document

SHUFFLED = ("results", "rules", "waivers", "collection_errors")


@pytest.mark.parametrize("fmt", FORMATS)
def test_byte_identical_across_runs_and_orderings(fmt: str) -> None:
    reference = render(document(), fmt)
    assert render(document(), fmt) == reference
    for seed in range(5):
        doc = document()
        rng = random.Random(seed)
        for field in SHUFFLED:
            rng.shuffle(doc[field])
        rng.shuffle(doc["scope"]["regions"])
        assert render(doc, fmt) == reference, f"{fmt} changed with input order (seed {seed})"


def test_write_reports_writes_what_render_returns(tmp_path: Path) -> None:
    doc = document()
    written = write_reports(doc, default_paths(tmp_path), fail_on="warn")
    assert [p.name for p in written] == ["junit.xml", "results.sarif", "report.md", "report.json"]
    for fmt, path in zip(FORMATS, written, strict=True):
        assert path.read_bytes() == render(doc, fmt, fail_on="warn").encode("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_write_reports_accepts_a_mapping_and_rejects_unknown_formats(tmp_path: Path) -> None:
    write_reports(document(), {"json": tmp_path / "a.json"})
    assert (tmp_path / "a.json").exists()
    with pytest.raises(ValueError, match="unknown format"):
        write_reports(document(), [("json", tmp_path / "b.json"), ("html", tmp_path / "c")])
    assert not (tmp_path / "b.json").exists()  # nothing written when any format is bad
