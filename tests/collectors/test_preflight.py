"""Preflight: an unreadable run stops in one line; one unreadable account errors only its own rules.

A broken CI role must not look like compliance findings (every rule ``error``, the cause deep
in a report), and one refused role among many must not hide the accounts that answered.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.cli.pipeline import collection_plan, evaluate, prepare
from runbook_guard.demo.stack import Seeded
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.snapshot import Snapshot
from tests.collectors.conftest import Collect
from tests.collectors.test_faults import denied

REFUSED = "arn:aws:iam::222222222222:role/audit"
READABLE = "arn:aws:iam::123456789012:role/audit"


def no_credentials_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def test_check_without_credentials_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "runbook_guard", "check", "--output-dir", str(out), "-q"],
        env=no_credentials_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "no credentials" in lines[0]
    assert "aws sso login" in lines[0]  # the fix, not only the cause
    assert "Traceback" not in completed.stderr
    assert not (out / "results.json").exists()  # nothing was evaluated


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("ExpiredToken", "expired credentials"),
        ("InvalidClientTokenId", "invalid credentials"),
        ("Throttling", "sts:GetCallerIdentity failed (Throttling)"),  # unknown: shown as is
    ],
)
def test_an_identity_failure_names_its_cause(
    seeded: Seeded, run: Collect, hooked: Callable[..., Any], code: str, cause: str
) -> None:
    factory = hooked(("before-call.sts.GetCallerIdentity", denied(code, 403)))
    with pytest.raises(InputError) as raised:
        run(collection_plan(prepare(None, None, None)), session_factory=factory)
    [line] = raised.value.problems
    assert cause in line


def test_every_refused_role_is_named_when_none_can_be_read(
    seeded: Seeded, run: Collect, hooked: Callable[..., Any]
) -> None:
    other = "arn:aws:iam::333333333333:role/audit"
    factory = hooked(("before-call.sts.AssumeRole", denied("AccessDenied", 403)))
    with pytest.raises(InputError) as raised:
        run(collection_plan(prepare(None, None, None)), session_factory=factory,
            role_arns=[REFUSED, other])  # fmt: skip
    [line] = raised.value.problems
    assert line.startswith("cannot read any of the 2 accounts")
    assert f"{REFUSED}: role not assumable" in line
    assert f"{other}: role not assumable" in line


def test_one_refused_role_among_readable_accounts_errors_only_its_rules(
    seeded: Seeded, run: Collect, hooked: Callable[..., Any]
) -> None:
    def refuse_one(params: dict[str, Any], **_: Any) -> Any:
        return denied("AccessDenied", 403)() if REFUSED in str(params.get("body")) else None

    prepared = prepare(None, None, None)
    snapshot = run(
        collection_plan(prepared),
        session_factory=hooked(("before-call.sts.AssumeRole", refuse_one)),
        role_arns=[REFUSED, READABLE],
    )
    results = evaluate(prepared, Snapshot(snapshot), None, None)["results"]
    about_refused = [r for r in results if "222222222222" in r["message"]]
    readable = [r for r in results if (r["resource"] or {}).get("account") == "123456789012"]
    assert about_refused, "the refused account's rules must say so"
    assert {r["status"] for r in about_refused} == {"error"}
    for result in about_refused:
        cause = "sts:AssumeRole failed in global for arn:aws:iam::222222222222:role/audit"
        assert cause in result["message"], result["message"]
    statuses = {r["status"] for r in readable}
    assert {"pass", "fail"} <= statuses  # the readable account was judged
