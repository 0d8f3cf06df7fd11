"""`rules new`: a skeleton that validates and passes its own (adversarial) cases as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import runbook_guard.cli.rules_new  # noqa: F401  (registers `rules new` on the rules app)
from runbook_guard.cli.app import app, register_commands
from runbook_guard.cli.registry_facts import collector_facts


def cli(*args: str) -> tuple[int, str]:
    register_commands(list(args))
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_a_skeleton_validates_and_passes_its_cases_strictly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = cli(
        "rules", "new", "orders-redrive", "--resource", "aws.sqs.queue",
        "--path", "Attributes.RedrivePolicy",
    )  # fmt: skip
    assert code == 0, output
    written = tmp_path / "orders-redrive.yaml"
    assert output.startswith("wrote orders-redrive.yaml: runbook-guard validate")
    text = written.read_text()
    assert "resource: aws.sqs.queue" in text
    assert "path: Attributes.RedrivePolicy" in text
    assert cli("validate", str(written)) == (0, "1 file, 1 rule: valid\n")
    assert cli("test", "--strict", str(written)) == (0, "3 passed, 0 failed (2 adversarial)\n")


def test_the_skeleton_cases_catch_a_rule_that_passes_everything(tmp_path: Path) -> None:
    target = tmp_path / "rule.yaml"
    cli("rules", "new", "r", "--resource", "aws.sqs.queue", "-o", str(target))
    target.write_text(target.read_text().replace("exists: true", "exists: false"))
    code, output = cli("test", str(target))
    assert code == 1
    assert output.count("adversarial:") == 2  # both adversarial cases fail: they bite


def test_every_resource_type_gets_a_working_skeleton(tmp_path: Path) -> None:
    types = sorted(t for t, keys in collector_facts().items() if keys)
    assert "aws.sqs.queue" in types
    assert len(types) >= 15
    for index, resource_type in enumerate(types):
        out = tmp_path / f"rule{index}.yaml"
        code, output = cli("rules", "new", f"rule-{index}", "--resource", resource_type,
                           "-o", str(out))  # fmt: skip
        assert code == 0, (resource_type, output)
    assert cli("validate", str(tmp_path)) == (0, f"{len(types)} files, {len(types)} rules: valid\n")
    code, output = cli("test", "--strict", str(tmp_path))
    assert code == 0, output
    assert output == f"{3 * len(types)} passed, 0 failed ({2 * len(types)} adversarial)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resource", "aws.sqs.queues"], "unknown resource type 'aws.sqs.queues' "
         "(did you mean 'aws.sqs.queue'?)"),
        (["--resource", "aws.sqs.queue", "--path", "Atributes.RedrivePolicy"],
         "no collection call of aws.sqs.queue fills 'Atributes' (did you mean 'Attributes'?)"),
        (["--resource", "aws.sqs.queue", "--path", "Attributes[0]"], "is not a dotted path"),
    ],
)  # fmt: skip
def test_a_mistyped_type_or_path_is_refused_with_a_suggestion(
    tmp_path: Path, args: list[str], message: str
) -> None:
    target = tmp_path / "rule.yaml"
    code, output = cli("rules", "new", "r", *args, "-o", str(target))
    assert code == 2
    assert message in output
    assert not target.exists()


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "rule.yaml"
    target.write_text("mine\n")
    code, output = cli("rules", "new", "r", "--resource", "aws.sqs.queue", "-o", str(target))
    assert code == 2
    assert "already exists (--force replaces it)" in output
    assert target.read_text() == "mine\n"
    code, _ = cli("rules", "new", "r", "--resource", "aws.sqs.queue", "-o", str(target), "--force")
    assert code == 0
    assert "id: r\n" in target.read_text()


def test_a_bad_id_is_refused_and_dash_prints_the_skeleton() -> None:
    code, output = cli("rules", "new", "Bad Id!", "--resource", "aws.sqs.queue", "-o", "-")
    assert code == 2
    assert "rule id 'Bad Id!'" in output
    code, output = cli("rules", "new", "ok-id", "--resource", "aws.sqs.queue", "-o", "-")
    assert code == 0
    assert output.startswith("# A rule of your own.")
    assert "  - id: ok-id\n" in output
