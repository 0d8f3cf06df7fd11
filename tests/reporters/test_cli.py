"""`runbook-guard report`: format/output pairing, stdout, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runbook_guard.cli import report as _registers_the_command  # noqa: F401
from runbook_guard.cli.app import app
from runbook_guard.reporters import render

from .factory import document


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document()), encoding="utf-8")
    return path


def _run(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["report", *map(str, args)])


def test_one_format_goes_to_stdout(results_file: Path) -> None:
    run = _run("--results", results_file, "--format", "sarif", "--quiet")
    assert run.exit_code == 0, run.output
    assert run.stdout == render(document(), "sarif")


def test_formats_pair_with_outputs_in_order(results_file: Path, tmp_path: Path) -> None:
    junit, md = tmp_path / "out" / "j.xml", tmp_path / "out" / "r.md"
    run = _run("-r", results_file, "-f", "junit", "-f", "markdown", "-o", junit, "-o", md,
               "--fail-on", "warn")  # fmt: skip
    assert run.exit_code == 0, run.output
    assert junit.read_text("utf-8") == render(document(), "junit", fail_on="warn")
    assert md.read_text("utf-8").startswith("# Compliance report")
    assert "fail" in run.stderr  # the summary table


def test_output_dir_uses_default_names(results_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    run = _run("-r", results_file, *[a for f in ("junit", "sarif", "markdown", "json") for a in ("-f", f)],
               "--output-dir", out, "-q")  # fmt: skip
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in out.iterdir()) == [
        "junit.xml", "report.json", "report.md", "results.sarif",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-f", "junit", "-f", "sarif"], "several formats need"),
        (["-f", "junit", "-f", "sarif", "-o", "a.xml"], "1 --output for 2 --format"),
        (["-f", "junit", "-f", "sarif", "-o", "-", "-o", "-"], "only one report can go to stdout"),
        (["-f", "junit", "-f", "sarif", "-o", "x", "-o", "x"], "same file"),
    ],
)
def test_option_mistakes_exit_2(results_file: Path, extra: list[str], message: str) -> None:
    run = _run("-r", results_file, *extra)
    assert run.exit_code == 2
    assert message in run.stderr


def test_refuses_to_overwrite_the_results_file(results_file: Path) -> None:
    run = _run("-r", results_file, "-f", "json", "-o", results_file)
    assert run.exit_code == 2
    assert "would overwrite the results file" in run.stderr


def test_bad_results_file_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    doc = document()
    doc["results"][0]["status"] = "maybe"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    run = _run("-r", path, "-f", "json")
    assert run.exit_code == 2
    assert f"{path}:1:1: results[0].status: 'maybe' is not one of" in run.stderr
    assert run.stdout == ""


def test_unknown_format_is_a_usage_error(results_file: Path) -> None:
    run = _run("-r", results_file, "-f", "pdf")
    assert run.exit_code == 2
