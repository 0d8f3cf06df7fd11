"""Attestations: a manual rule passes only on an unexpired, well-formed record of a person's check."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine.attestations import (
    apply_attestations,
    check_against_rules,
    load_attestations,
)
from runbook_guard.engine.errors import InputError

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
VALID = """\
attestations:
  - rule: backup.restore-tested
    by: alice@example.com
    at: "2026-11-20"
    evidence: https://tickets.example.com/OPS-123
    expires: "2027-02-20"
    note: restored agenticai-data into a scratch table
  - rule: iam.policies-reviewed
    by: bob@example.com
    at: "2026-08-01"
    evidence: https://tickets.example.com/SEC-9
    expires: "2026-12-01"
"""


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "attestations.yaml"
    path.write_text(text)
    return path


def manual(rule: str) -> dict[str, Any]:
    return {"rule": rule, "resource": None, "status": "manual", "message": "needs a person"}


def test_an_unexpired_attestation_passes_its_manual_rule_and_says_whose_word_it_is(
    tmp_path: Path,
) -> None:
    results = [manual("backup.restore-tested")]
    apply_attestations(results, load_attestations(written(tmp_path, VALID)), NOW)
    [result] = results
    assert result["status"] == "pass"
    assert result["attestation"] == {
        "by": "alice@example.com",
        "at": "2026-11-20",
        "evidence": "https://tickets.example.com/OPS-123",
        "expires": "2027-02-20",
        "expired": False,
        "note": "restored agenticai-data into a scratch table",
    }
    assert "alice@example.com" in result["message"]
    assert "https://tickets.example.com/OPS-123" in result["message"]


def test_an_expired_attestation_leaves_the_rule_manual_and_says_it_expired(
    tmp_path: Path,
) -> None:
    results = [manual("iam.policies-reviewed")]
    apply_attestations(results, load_attestations(written(tmp_path, VALID)), NOW)
    [result] = results
    assert result["status"] == "manual"  # expired on 2026-12-01, evaluated 2026-12-02
    assert result["attestation"]["expired"] is True
    assert result["message"].startswith("attestation expired on 2026-12-01")


def test_the_expiry_day_itself_still_holds(tmp_path: Path) -> None:
    results = [manual("iam.policies-reviewed")]
    on_the_day = datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)
    apply_attestations(results, load_attestations(written(tmp_path, VALID)), on_the_day)
    assert results[0]["status"] == "pass"


def test_the_latest_check_counts_not_the_longest(tmp_path: Path) -> None:
    text = VALID + (
        '  - rule: iam.policies-reviewed\n    by: carol@example.com\n    at: "2026-11-30"\n'
        '    evidence: https://tickets.example.com/SEC-10\n    expires: "2026-12-01"\n'
        '  - rule: iam.policies-reviewed\n    by: dave@example.com\n    at: "2026-01-01"\n'
        '    evidence: https://tickets.example.com/SEC-1\n    expires: "2027-12-31"\n'
    )
    results = [manual("iam.policies-reviewed")]
    apply_attestations(results, load_attestations(written(tmp_path, text)), NOW)
    # dave's older record runs longer, but carol's check is the latest, and it expired
    assert results[0]["status"] == "manual"
    assert results[0]["attestation"]["by"] == "carol@example.com"


@pytest.mark.parametrize("status", ["fail", "warn", "error", "pass"])
def test_an_attestation_never_touches_a_result_that_is_not_manual(
    tmp_path: Path, status: str
) -> None:
    result = {**manual("backup.restore-tested"), "status": status}
    apply_attestations([result], load_attestations(written(tmp_path, VALID)), NOW)
    assert result["status"] == status
    assert "attestation" not in result


def test_a_malformed_file_gives_every_problem_positioned(tmp_path: Path) -> None:
    text = """\
attestations:
  - rule: backup.restore-tested
    by: "  "
    at: "2026-13-40"
    evidence: https://x
    expires: "2027-01-01"
    signed: yes
  - rule: iam.policies-reviewed
    at: "2026-11-01"
    evidence: https://y
    expires: "2026-10-01"
"""
    with pytest.raises(InputError) as raised:
        load_attestations(written(tmp_path, text))
    problems = "\n".join(raised.value.problems)
    assert "attestations.yaml:3:" in problems  # the blank 'by'
    assert "attestations.yaml:4:" in problems
    assert "not a date" in problems
    assert "unknown key 'signed'" in problems
    assert "'by' is a required property" in problems
    assert "expires 2026-10-01 is before at 2026-11-01" in problems


def test_attesting_an_unknown_or_automatic_rule_or_a_future_check_is_refused(
    tmp_path: Path,
) -> None:
    text = VALID.replace("iam.policies-reviewed", "dynamodb.pitr-enabled").replace(
        "backup.restore-tested", "backup.restore-testd"
    ) + (
        '  - rule: backup.restore-tested\n    by: eve@example.com\n    at: "2026-12-25"\n'
        '    evidence: https://x\n    expires: "2027-01-01"\n'
    )
    found = load_attestations(written(tmp_path, text))
    with pytest.raises(InputError) as raised:
        check_against_rules(
            found,
            manual={"backup.restore-tested"},
            known={"backup.restore-tested", "dynamodb.pitr-enabled"},
            now=NOW,
        )
    problems = raised.value.problems
    assert len(problems) == 3
    assert "attestations.yaml:2:" in problems[0]
    assert "no loaded rule" in problems[0]
    assert "only a manual rule" in problems[1]
    assert "after the evaluation day" in problems[2]
