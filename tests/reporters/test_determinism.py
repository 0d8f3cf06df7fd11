"""Same results, same bytes: across runs, input orderings and through the file writer."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.reporters import ALL_FORMATS, FORMATS, default_paths, render, write_reports

from .factory import document

SHUFFLED = ("results", "rules", "waivers", "collection_errors")


def _wide() -> dict[str, Any]:
    """Two accounts, two regions and two packs, so their order has a chance to show."""
    doc = document()
    doc["scope"]["accounts"] = ["210987654321", "123456789012"]
    doc["scope"]["regions"] = ["us-west-2", "us-east-1"]
    doc["policies"]["packs"] = [{"name": "zeta", "version": "1.0.0"}, *doc["policies"]["packs"]]
    return doc


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_byte_identical_across_runs_and_orderings(fmt: str) -> None:
    reference = render(_wide(), fmt)
    assert render(_wide(), fmt) == reference
    for seed in range(5):
        doc = _wide()
        rng = random.Random(seed)
        for field in SHUFFLED:
            rng.shuffle(doc[field])
        for items in (doc["scope"]["regions"], doc["scope"]["accounts"], doc["policies"]["packs"]):
            rng.shuffle(items)
        assert render(doc, fmt) == reference, f"{fmt} changed with input order (seed {seed})"


def test_accounts_regions_and_packs_are_listed_sorted() -> None:
    doc = _wide()
    markdown = render(doc, "markdown")
    assert "Accounts 123456789012, 210987654321, regions us-east-1, us-west-2" in markdown
    assert markdown.startswith("# Compliance report: agenticai, zeta\n")
    sarif = render(doc, "sarif")
    assert '"regions":["us-east-1","us-west-2"]' in sarif
    assert '"accounts":["123456789012","210987654321"]' in sarif


def test_write_reports_writes_what_render_returns(tmp_path: Path) -> None:
    doc = document()
    written = write_reports(doc, default_paths(tmp_path), fail_on="warn")
    assert [p.name for p in written] == [
        "junit.xml", "results.sarif", "report.md", "report.json", "report.csv", "report.html",
    ]  # fmt: skip
    for fmt, path in zip(FORMATS, written, strict=True):
        assert path.read_bytes() == render(doc, fmt, fail_on="warn").encode("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_write_reports_accepts_a_mapping_and_rejects_unknown_formats(tmp_path: Path) -> None:
    write_reports(document(), {"json": tmp_path / "a.json"})
    assert (tmp_path / "a.json").exists()
    with pytest.raises(ValueError, match="unknown format"):
        write_reports(document(), [("json", tmp_path / "b.json"), ("pdf", tmp_path / "c")])
    assert not (tmp_path / "b.json").exists()  # nothing written when any format is bad
