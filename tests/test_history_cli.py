"""``--history`` and ``--previous`` at the command line: every run kept (bounded), reports made
against the runs before it, and a first run that is a note, never exit 2.

``check`` runs the template gate here (no AWS call, no emulator): the history does not care
where results came from, and a template's ``--now`` sets each run's time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runbook_guard.cli.app import app, register_commands
from runbook_guard.engine.history import RUN_FILE

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "tests" / "data" / "templates" / "gate" / "functions.yaml"
EXAMPLES = ROOT / "examples"
WEEKS = ("2027-01-04T06:00:00Z", "2027-01-11T06:00:00Z", "2027-01-18T06:00:00Z")
FIRST_RUN = "note: no previous run: history folder"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any call fails at once
    register_commands()


def cli(*args: str | Path) -> Run:
    run = CliRunner().invoke(app, [str(arg) for arg in args])
    if run.exception is not None and not isinstance(run.exception, SystemExit):
        raise run.exception
    return Run(run.exit_code, run.stdout, run.stderr)


def check(out: Path, now: str, *args: str | Path) -> Run:
    return cli("check", "-t", TEMPLATE, "-d", out, "--sarif-root", TEMPLATE.parent,
               "--now", now, "-q", *args)  # fmt: skip


def kept(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if RUN_FILE.match(p.name))


def test_check_keeps_each_run_and_reports_against_the_runs_before_it(tmp_path: Path) -> None:
    history = tmp_path / "history"
    first = check(tmp_path / "w1", WEEKS[0], "--history", history)
    assert first.exit_code in (0, 1), first.stderr
    assert f"{FIRST_RUN} {history} does not exist yet" in first.stderr
    assert kept(history) == ["results-20270104T060000Z-" + kept(history)[0][-17:]]
    report = (tmp_path / "w1" / "report.md").read_text()
    assert "since the previous run" not in report

    second = check(tmp_path / "w2", WEEKS[1], "--history", history)
    assert second.exit_code == first.exit_code, second.stderr
    assert FIRST_RUN not in second.stderr
    assert [name[8:24] for name in kept(history)] == ["20270104T060000Z", "20270111T060000Z"]
    report = (tmp_path / "w2" / "report.md").read_text()
    assert "since the previous run" in report  # the newest kept run, without --previous
    assert "Trend" in report
    # What is kept is the run's own results.json, byte for byte a valid results document.
    results = json.loads((tmp_path / "w2" / "results.json").read_text())
    newest = json.loads((history / kept(history)[-1]).read_text())
    assert newest == results


def test_the_history_is_bounded_and_files_it_did_not_write_are_left_alone(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history"
    history.mkdir()
    (history / "README.txt").write_text("kept by the weekly workflow\n")
    for index, week in enumerate(WEEKS):
        run = check(tmp_path / f"w{index}", week, "--history", history, "--history-keep", "2")
        assert run.exit_code in (0, 1), run.stderr
    assert [name[8:16] for name in kept(history)] == ["20270111", "20270118"]
    assert (history / "README.txt").exists()


def test_report_never_compares_a_run_with_itself(tmp_path: Path) -> None:
    """``evaluate --history`` keeps the run; ``report --history`` on the same results finds
    only that run in the folder, which is not a previous one."""
    history, results = tmp_path / "history", tmp_path / "results.json"
    evaluated = cli("evaluate", "-s", EXAMPLES / "snapshot.json", "-o", results,
                    "-c", EXAMPLES / "runbook-guard.yaml", "--history", history)  # fmt: skip
    assert evaluated.exit_code == 1, evaluated.stderr  # the example has blocking findings
    assert len(kept(history)) == 1
    shown = cli("report", "-r", results, "-d", tmp_path / "out", "-q", "--history", history)
    assert shown.exit_code == 0, shown.stderr
    assert f"{FIRST_RUN} {history} keeps no run before this one" in shown.stderr
    assert "since the previous run" not in (tmp_path / "out" / "report.md").read_text()
    assert len(kept(history)) == 1  # recording the same run again changes nothing


def test_a_missing_previous_file_is_a_note_and_a_malformed_one_is_bad_input(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "last-week" / "results.json"
    run = check(tmp_path / "out", WEEKS[0], "--previous", missing)
    assert run.exit_code in (0, 1), run.stderr
    assert f"note: no previous run: {missing} does not exist" in run.stderr
    assert (tmp_path / "out" / "report.md").exists()

    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 4}')
    refused = check(tmp_path / "out2", WEEKS[0], "--previous", broken)
    assert refused.exit_code == 2
    assert str(broken) in refused.stderr
    assert not (tmp_path / "out2" / "report.md").exists()  # refused before anything ran


def test_a_damaged_kept_run_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    """Comparing with a damaged run would misreport what changed: exit 2, not a guess."""
    history = tmp_path / "history"
    history.mkdir()
    damaged = history / "results-20270101T000000Z-000000000000.json"
    damaged.write_text("{not json")
    run = check(tmp_path / "out", WEEKS[0], "--history", history)
    assert run.exit_code == 2
    assert str(damaged) in run.stderr
    assert kept(history) == [damaged.name]  # this run was not recorded over it
    assert not (tmp_path / "out").exists()  # refused before anything was judged


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--history", "FILE"), "exists and is not a folder"),
        (("--history", "DIR", "--history-keep", "0"), "--history-keep"),
    ],
)
def test_an_unusable_history_option_is_exit_2(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    (tmp_path / "FILE").write_text("x")
    given = [str(tmp_path / a) if a in ("FILE", "DIR") else a for a in args]
    run = check(tmp_path / "out", WEEKS[0], *given)
    assert run.exit_code == 2
    assert said in run.stderr
