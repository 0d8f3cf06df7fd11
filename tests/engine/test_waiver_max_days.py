"""The config file sets how far ahead a waiver may expire: an organisation that allows 30 days
must not have a 60-day waiver accepted because the tool's default is a year."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from runbook_guard.cli.pipeline import evaluate, prepare
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.snapshot import load_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def waiver_file(tmp_path: Path, expires: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        "  - {id: w1, rule: dynamodb.pitr-enabled, resource: '*', owner: ops,\n"
        f"     reason: migration, expires: '{expires}'}}\n"
    )
    return path


@pytest.mark.parametrize(("limit", "accepted"), [(None, True), (30, False), (90, True)])
def test_the_config_bounds_a_waivers_expiry(
    tmp_path: Path, limit: int | None, accepted: bool
) -> None:
    config = tmp_path / "runbook-guard.yaml"
    config.write_text("fail_on: fail\n" + (f"waiver_max_days: {limit}\n" if limit else ""))
    snapshot = load_snapshot(EXAMPLES / "snapshot.json")
    finished = date.fromisoformat(str(snapshot.metadata["finished_at"])[:10])
    expires = (finished + timedelta(days=60)).isoformat()
    prepared = prepare(config, None, None)
    waivers = waiver_file(tmp_path, expires)
    if accepted:
        results = evaluate(prepared, snapshot, None, waivers)
        assert [w["id"] for w in results["waivers"]] == ["w1"]
    else:
        with pytest.raises(InputError, match=r"more than 30 days after"):
            evaluate(prepared, snapshot, None, waivers)


def test_the_limit_is_validated(tmp_path: Path) -> None:
    config = tmp_path / "runbook-guard.yaml"
    config.write_text("waiver_max_days: 0\n")
    with pytest.raises(InputError, match="waiver_max_days"):
        prepare(config, None, None)
