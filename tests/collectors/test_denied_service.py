"""One service denied: the rest is still judged, and stderr ends with the denial and its action.

A CI role missing one permission must read as exactly that, not as a failed run or as a wall
of findings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from typer.testing import CliRunner

from runbook_guard.cli.app import app, register_commands
from runbook_guard.collectors.fills import botocore_session
from runbook_guard.demo.stack import Seeded
from tests.collectors.test_faults import denied

register_commands()


def test_a_denied_service_errors_only_its_rules_and_ends_stderr_with_its_action(
    seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_denial() -> botocore.session.Session:
        """The collection's sessions, with the denial hooked in before moto answers."""
        session = botocore_session()
        refusal: Any = denied("AccessDeniedException", 400)
        events = session.get_component("event_emitter")
        events.register_first("before-call.dynamodb.DescribeContinuousBackups", refusal)
        return session

    monkeypatch.setattr("runbook_guard.collectors.context.botocore_session", with_denial)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["check", "-d", str(out), "--format", "json"])
    assert result.exit_code == 1, result.output
    results = json.loads((out / "results.json").read_text())["results"]
    pitr = [r for r in results if r["rule"] == "dynamodb.pitr-enabled"]
    assert pitr
    assert {r["status"] for r in pitr} == {"error"}
    assert all("dynamodb:DescribeContinuousBackups" in r["message"] for r in pitr)
    others = {r["status"] for r in results if not r["rule"].startswith("dynamodb.")}
    assert {"pass", "fail"} <= others  # every other service was judged
    lines = result.stderr.strip().splitlines()
    heading = next(i for i, line in enumerate(lines) if "by cause and IAM action" in line)
    causes = [line.strip() for line in lines[heading + 1 :]]  # stderr ends with them
    assert (
        "1 \u00d7 AccessDeniedException on dynamodb:DescribeContinuousBackups (us-east-1): 1 table"
        in (causes)
    ), result.stderr
