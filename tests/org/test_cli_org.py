"""The organisation options on the command line: the role template, and what goes together."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from runbook_guard.cli.app import app, register_commands

register_commands()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def role_policy(template_text: str) -> dict[str, object]:
    template = yaml.safe_load(template_text)
    [policy] = template["Resources"]["CollectionRole"]["Properties"]["Policies"]
    document: dict[str, object] = policy["PolicyDocument"]
    return document


def test_the_stackset_template_carries_exactly_the_policy_iam_policy_prints() -> None:
    code, printed = invoke("iam-policy")
    assert code == 0
    code, template = invoke(
        "iam-policy", "--format", "cloudformation", "--trusted-account", "999999999999"
    )
    assert code == 0, template
    assert role_policy(template) == json.loads(printed)


def test_a_selection_narrows_the_template_as_it_narrows_the_policy() -> None:
    code, printed = invoke("iam-policy", "--tag", "security")
    assert code == 0
    code, template = invoke(
        "iam-policy", "--tag", "security", "--format", "cloudformation",
        "--trusted-account", "999999999999", "--template-format", "json",
    )  # fmt: skip
    assert code == 0, template
    narrowed = json.loads(printed)
    assert role_policy(template) == narrowed
    _, whole = invoke("iam-policy")
    assert len(json.dumps(narrowed)) < len(whole)


def test_a_template_without_who_may_assume_it_is_refused() -> None:
    code, output = invoke("iam-policy", "--format", "cloudformation")
    assert code == 2
    assert "--trusted-account" in output
    code, output = invoke("iam-policy", "--format", "terraform")
    assert code == 2
    assert "json or cloudformation" in output


def test_account_options_that_do_not_go_together_are_refused_before_any_call(
    tmp_path: Path,
) -> None:
    out = str(tmp_path / "s.json")
    cases = [
        (["--manifest", "m.json"], "--manifest and --shard go together"),
        (["--ou", "ou-ab12-cd34ef56"], "add it"),
        (["--organization"], "needs --role-name"),
        (["--organization", "--role-name", "R", "--accounts", "a.yaml"], "give one"),
    ]
    for extra, message in cases:
        code, output = invoke("collect", "-o", out, *extra)
        assert code == 2, (extra, output)
        assert message in output, (extra, output)
        assert not Path(out).exists()


def test_several_snapshots_without_a_manifest_are_refused(tmp_path: Path) -> None:
    code, output = invoke(
        "evaluate", "-o", str(tmp_path / "r.json"), "-s", "a.json", "-s", "b.json"
    )
    assert code == 2
    assert "give its --manifest" in output


def test_plan_needs_the_accounts(tmp_path: Path) -> None:
    code, output = invoke("plan", "--shards", "2", "-o", str(tmp_path / "m.json"))
    assert code == 2
    assert "--organization or --accounts" in output
