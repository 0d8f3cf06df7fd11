"""History: bounded, keyed by what a person fixes, and honest about how old a finding is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.history import History, Run, first_seen, identity, trend


def result(
    rule: str, status: str, name: str, arn: str, account: str = "111111111111"
) -> dict[str, Any]:
    resource = {"type": "aws.sqs.queue", "id": arn, "name": name, "account": account,
                "region": "eu-west-1"}  # fmt: skip
    return {"rule": rule, "status": status, "resource": resource}


def document(day: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "evaluated_at": f"2026-11-{day:02d}T06:00:00+00:00",
        "scope": {"snapshot_digest": f"sha256:{day:064x}"},
        "results": results,
    }


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def test_record_keeps_the_newest_runs_and_never_touches_other_files(tmp_path: Path) -> None:
    history = History(tmp_path / "h", keep=3)
    (tmp_path / "h").mkdir()
    foreign = tmp_path / "h" / "notes.json"
    foreign.write_text("{}")
    for day in range(1, 6):
        history.record(document(day, []))
    kept = [run.evaluated_at[:10] for run in history.runs(load)]
    assert kept == ["2026-11-03", "2026-11-04", "2026-11-05"]
    assert foreign.exists()


def test_a_missing_folder_is_an_empty_history_and_a_file_in_its_place_is_bad_input(
    tmp_path: Path,
) -> None:
    assert History(tmp_path / "none").runs(load) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        History(tmp_path / "file")
    with pytest.raises(InputError, match="at least 1"):
        History(tmp_path / "h", keep=0)


def test_a_queue_recreated_under_a_new_arn_is_the_same_finding_another_account_is_not() -> None:
    before = result("sqs.dlq-empty", "fail", "agenticai-dlq", "arn:aws:sqs:eu-west-1:1:old")
    after = result("sqs.dlq-empty", "fail", "agenticai-dlq", "arn:aws:sqs:eu-west-1:1:new")
    elsewhere = result("sqs.dlq-empty", "fail", "agenticai-dlq", "arn:x", account="222222222222")
    assert identity(before) == identity(after)
    assert identity(before) != identity(elsewhere)


def test_first_seen_dates_a_finding_from_the_start_of_its_unbroken_streak() -> None:
    def run(day: int, status: str) -> Run:
        found = result("sqs.dlq-empty", status, "agenticai-dlq", f"arn:{day}")
        return Run(f"2026-11-{day:02d}", [found])

    runs = [run(1, "fail"), run(2, "pass"), run(3, "fail"), run(4, "warn")]
    current = run(5, "fail")
    [(since, at_least)] = first_seen(runs, current).values()
    assert since == "2026-11-03"  # resolved on the 2nd: dated from its return
    assert at_least is False
    always = [run(1, "fail"), run(2, "fail")]
    [(since, at_least)] = first_seen(always, current).values()
    assert (since, at_least) == ("2026-11-01", True)  # open in every kept run: at least that old
    [(since, at_least)] = first_seen([], current).values()
    assert (since, at_least) == ("2026-11-05", False)  # a first run: seen today


def test_trend_counts_each_status_for_the_last_runs_oldest_first() -> None:
    runs = [
        Run(f"2026-11-{day:02d}", [result("r", s, "q", "a") for s in statuses])
        for day, statuses in [(1, ["fail", "pass"]), (2, ["pass", "pass"]), (3, ["error"])]
    ]
    assert trend(runs, last=2) == [
        {"evaluated_at": "2026-11-02", "counts": {"pass": 2}},
        {"evaluated_at": "2026-11-03", "counts": {"error": 1}},
    ]
