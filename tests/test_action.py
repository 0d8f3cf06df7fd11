"""The GitHub Action (action.yml) and the CI examples that use it.

No Actions runner exists here, so the action is checked in two ways: its file against the
GitHub Action schema that check-jsonschema vendors (and the examples against the workflow and
GitLab CI schemas), and its run step executed as a runner would execute it (bash -eo
pipefail, inputs in the step's environment, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files),
with this environment's runbook-guard standing in for the one the install step makes.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from tests.distribution_tools import BIN, ROOT, load_yaml, run, shellcheck, tool

pytestmark = pytest.mark.slow

ACTION = ROOT / "action.yml"
EXAMPLES = ROOT / "examples"
WORKFLOWS = sorted(p for p in (EXAMPLES / "ci").glob("*.yml") if p.name != "gitlab-ci.yml")
EXPRESSION = re.compile(r"^\$\{\{ (inputs|steps\.install\.outputs)\.([a-z-]+) \}\}$")


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(ACTION)
    return loaded


def check_jsonschema(schema: str, *paths: Path) -> tuple[int, str]:
    done = run([tool("check-jsonschema"), "--builtin-schema", schema, *paths])
    return done.returncode, done.stdout + done.stderr


def test_action_yml_matches_the_published_action_schema() -> None:
    code, said = check_jsonschema("vendor.github-actions", ACTION)
    assert code == 0, said


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["outputs"]["sarif"].pop("value"), "'value' is a required property"),
        (lambda d: d["inputs"]["mode"].update(typo=1), "'typo' was unexpected"),
    ],
)
def test_the_action_schema_check_refuses_a_broken_action(
    change: Any, expected: str, tmp_path: Path
) -> None:
    """The validation above means something: the same file, broken, fails it."""
    broken = action()
    change(broken)
    path = tmp_path / "action.yml"
    path.write_text(yaml.safe_dump(broken))
    code, said = check_jsonschema("vendor.github-actions", path)
    assert code == 1
    assert expected in said


def test_the_example_workflows_match_the_published_schemas() -> None:
    assert {p.name for p in WORKFLOWS} >= {"github-actions-gate.yml", "sam-gate.yml"}
    code, said = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert code == 0, said
    code, said = check_jsonschema("vendor.gitlab-ci", EXAMPLES / "ci" / "gitlab-ci.yml")
    assert code == 0, said


def action_steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[Any]]]:
    """(job name, job, steps) for each job whose steps use the runbook-guard action."""
    found = []
    for name, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        if any(str(s.get("uses", "")).startswith("OWNER/runbook-guard@") for s in steps):
            found.append((name, job, steps))
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_example_uses_the_action_as_declared(path: Path) -> None:
    workflow = load_yaml(path)
    declared = action()
    jobs = action_steps(workflow)
    assert jobs, f"{path.name} does not use the runbook-guard action"
    for job_name, job, steps in jobs:
        (index,) = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("OWNER/")]
        step = steps[index]
        given = step.get("with", {})
        assert set(given) <= set(declared["inputs"]), f"{job_name}: unknown inputs"
        assert given.get("mode", "check") in {"check", "template", "evaluate"}
        # Later steps read only outputs the action declares.
        text = yaml.safe_dump(steps[index + 1 :])
        used = set(re.findall(rf"steps\.{step['id']}\.outputs\.([a-z-]+)", text))
        assert used <= set(declared["outputs"]), f"{job_name}: {used - set(declared['outputs'])}"
        if given.get("mode", "check") != "check":
            continue
        # A live run: OIDC credentials for a role, assumed before the action runs.
        permissions = {**workflow.get("permissions", {}), **job.get("permissions", {})}
        assert permissions.get("id-token") == "write", job_name
        before = [s for s in steps[:index] if "configure-aws-credentials" in s.get("uses", "")]
        assert before, f"{job_name}: no aws-actions/configure-aws-credentials before the action"
        assert before[0]["with"]["role-to-assume"].startswith("arn:aws:iam::")


def test_no_example_holds_or_reads_stored_keys() -> None:
    for path in (EXAMPLES / "ci").glob("*.yml"):
        text = path.read_text()
        for stored in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"):
            assert stored not in text, f"{path.name} uses {stored}"


@pytest.mark.parametrize("step_id", ["install", "run"])
def test_shellcheck_finds_nothing_in_the_action_steps(step_id: str, tmp_path: Path) -> None:
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == step_id]
    assert step["shell"] == "bash"
    code, said = shellcheck(step["run"], "bash", tmp_path)
    assert code == 0, said


def test_every_option_the_action_passes_exists_on_the_cli() -> None:
    """A typo or a removed option would fail every user's run; the CLI is the reference."""
    import typer.main

    from runbook_guard.cli.app import app, register_commands

    register_commands()  # every command, as for --help
    group = typer.main.get_command(app)
    ctx = group.make_context("runbook-guard", ["--help"], resilient_parsing=True)
    known: set[str] = set()
    for name in ("check", "evaluate", "report"):
        command = group.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command is not None, name
        known |= {opt for param in command.params for opt in param.opts}
    script = run_step()["run"]
    passed = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", script))
    assert {"--template", "--format", "--output-dir"} <= passed
    assert not sorted(passed - known), f"not options of runbook-guard: {sorted(passed - known)}"


def run_step() -> dict[str, Any]:
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == "run"]
    return step  # type: ignore[no-any-return]


def run_action(
    inputs: dict[str, str],
    workdir: Path,
    runner: Path,
    env: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str, str]:
    """Run action.yml's run step as a runner would, in ``workdir`` (the job's checkout), with
    the runner's own files in ``runner``; (exit code, outputs, job summary, log)."""
    declared = action()["inputs"]
    assert set(inputs) <= set(declared), set(inputs) - set(declared)
    installed = {"bin": str(BIN / "runbook-guard"), "python": sys.executable}
    step = run_step()
    output_file, summary_file = runner / "github-output", runner / "step-summary"
    step_env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(runner),
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "RUNNER_TEMP": str(runner),
        **(env or {}),
    }
    for name, value in step["env"].items():
        match = EXPRESSION.match(value)
        assert match, f"{name}: an expression the test cannot evaluate: {value}"
        source, key = match.groups()
        if source == "inputs":
            step_env[name] = inputs.get(key, str(declared[key].get("default", "")))
        else:
            step_env[name] = installed[key]
    script = runner / "step.sh"
    script.write_text(step["run"])
    # GitHub's own invocation of a `shell: bash` step.
    done = run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], workdir, step_env)
    outputs = {}
    if output_file.exists():
        for line in output_file.read_text().splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
    summary = summary_file.read_text() if summary_file.exists() else ""
    return done.returncode, outputs, summary, done.stdout + done.stderr


@pytest.fixture
def runner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runner's own folder (RUNNER_TEMP, GITHUB_OUTPUT), apart from the checkout."""
    return tmp_path_factory.mktemp("runner")


def assert_reports(outputs: dict[str, str], workdir: Path) -> dict[str, Any]:
    """SARIF and JUnit written where the outputs say; the results they were made from."""
    declared = set(action()["outputs"])
    assert set(outputs) == declared, set(outputs) ^ declared
    results: dict[str, Any] = json.loads((workdir / outputs["results"]).read_text())
    sarif = json.loads((workdir / outputs["sarif"]).read_text())
    assert sarif["version"] == "2.1.0"
    junit = ElementTree.parse(workdir / outputs["junit"]).getroot()
    # One JUnit test case per result: the reports describe the same run.
    assert len(junit.findall(".//testcase")) == len(results["results"])
    return results


def test_evaluate_mode_judges_a_snapshot_and_writes_the_reports(
    tmp_path: Path, runner: Path
) -> None:
    snapshot = json.loads((EXAMPLES / "snapshot.json").read_text())
    taken = datetime.fromisoformat(snapshot["metadata"]["finished_at"])
    now = (taken + timedelta(days=1)).replace(microsecond=0).isoformat()
    code, outputs, summary, log = run_action(
        {
            "mode": "evaluate",
            "snapshot": str(EXAMPLES / "snapshot.json"),
            "config": str(EXAMPLES / "runbook-guard.yaml"),
            # Lists as users write them: blank lines, spaces, commas.
            "policies": f"\n  {ROOT / 'policies' / 'agenticai'}  \n\n",
            "formats": "markdown-summary,  json",
            # Split as a shell would: the quotes group the value.
            "args": f"--now '{now}'",
        },
        tmp_path,
        runner,
    )
    # The example snapshot holds failures and the config's gate is fail: the job fails, and
    # every report is there for the steps that follow under if: always().
    assert code == 1, log
    assert outputs["exit-code"] == "1"
    results = assert_reports(outputs, tmp_path)
    assert datetime.fromisoformat(results["evaluated_at"]) == datetime.fromisoformat(now)
    assert {r["status"] for r in results["results"]} >= {"fail", "pass"}
    assert outputs["summary"].endswith("summary.md")
    assert outputs["markdown"] == ""  # not requested
    assert summary == (tmp_path / outputs["summary"]).read_text()
    assert summary.startswith("# ")


def test_fail_on_never_turns_the_same_run_into_a_report(tmp_path: Path, runner: Path) -> None:
    code, outputs, summary, log = run_action(
        {
            "mode": "evaluate",
            "snapshot": str(EXAMPLES / "snapshot.json"),
            "config": str(EXAMPLES / "runbook-guard.yaml"),
            "fail-on": "never",
            "job-summary": "false",
        },
        tmp_path,
        runner,
    )
    assert code == 0, log
    assert outputs["exit-code"] == "0"
    assert_reports(outputs, tmp_path)
    assert summary == ""


def test_the_selection_inputs_reach_the_cli(tmp_path: Path, runner: Path) -> None:
    code, outputs, _, log = run_action(
        {
            "mode": "evaluate",
            "snapshot": str(EXAMPLES / "snapshot.json"),
            "rule": "dynamodb.*,\n sqs.*",
            "exclude-rule": "sqs.redrive*",
            "severity": "high",
            "fail-on": "never",
        },
        tmp_path,
        runner,
    )
    assert code == 0, log
    results = assert_reports(outputs, tmp_path)
    rules = {rule["id"]: rule for rule in results["rules"]}
    judged = {r["rule"] for r in results["results"]}
    assert judged, "the selection left nothing: it proves nothing"
    assert all(re.match(r"(dynamodb|sqs)\.", rule) for rule in judged), judged
    assert not [rule for rule in judged if rule.startswith("sqs.redrive")]
    assert {rules[rule]["severity"] for rule in judged} <= {"high", "critical"}


def test_template_mode_judges_the_template_before_deploy(tmp_path: Path, runner: Path) -> None:
    app = EXAMPLES / "sam-app"
    code, outputs, _, log = run_action(
        {"mode": "template", "template": "template.yaml", "output-dir": str(tmp_path / "out")},
        app,
        runner,
        # No AWS credentials at all: the template gate calls nothing.
        {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"},
    )
    assert code == 1, log  # the example app carries deliberate violations
    results = assert_reports(outputs, app)
    assert results["results"]
    sarif = json.loads(Path(outputs["sarif"]).read_text())
    located = [
        loc["physicalLocation"]
        for result in sarif["runs"][0]["results"]
        for loc in result.get("locations", [])
    ]
    assert any(
        p["artifactLocation"]["uri"].endswith("template.yaml") and p["region"]["startLine"] > 1
        for p in located
    ), "no SARIF result is on a template line"


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"mode": "template"}, "mode template needs the template input"),
        ({"mode": "evaluate"}, "mode evaluate needs the snapshot input"),
        ({"mode": "scan"}, "mode must be check, template or evaluate, not 'scan'"),
    ],
)
def test_an_unusable_input_is_exit_2_with_an_annotation(
    inputs: dict[str, str], said: str, tmp_path: Path, runner: Path
) -> None:
    code, outputs, _, log = run_action(inputs, tmp_path, runner)
    assert code == 2
    assert f"::error title=runbook-guard::{said}" in log
    assert outputs == {"exit-code": "2"}


def test_a_refused_run_offers_no_stale_reports(tmp_path: Path, runner: Path) -> None:
    """Exit 2 from runbook-guard: an earlier run's files in the folder are not its reports."""
    stale = tmp_path / "runbook-guard-out"
    stale.mkdir()
    for name in ("results.sarif", "junit.xml", "summary.md", "results.json"):
        (stale / name).write_text("from an earlier run")
    code, outputs, summary, log = run_action(
        {"mode": "evaluate", "snapshot": str(tmp_path / "missing.json")}, tmp_path, runner
    )
    assert code == 2, log
    assert outputs["exit-code"] == "2"
    assert {key: value for key, value in outputs.items() if value} == {"exit-code": "2"}
    assert summary == ""


def test_check_mode_collects_the_live_account(
    tmp_path: Path, runner: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live gate against the demo's stack on a local moto server, as with real AWS."""
    pytest.importorskip("moto")
    from runbook_guard.demo.server import DUMMY_ENV, moto_server, reset
    from runbook_guard.demo.stack import seed_runbook_stack

    for key, value in DUMMY_ENV.items():  # the seeding client's credentials
        monkeypatch.setenv(key, value)
    with moto_server() as endpoint:
        reset(endpoint)  # moto's state is per process: start from nothing whatever ran before
        seed_runbook_stack(endpoint_url=endpoint)
        code, outputs, summary, log = run_action(
            {"mode": "check", "region": "us-east-1", "fail-on": "never", "output-dir": "out"},
            tmp_path,
            runner,
            {**DUMMY_ENV, "AWS_ENDPOINT_URL": endpoint, "AWS_MAX_ATTEMPTS": "2"},
        )
    assert code == 0, log
    results = assert_reports(outputs, tmp_path)
    snapshot = json.loads((tmp_path / "out" / "snapshot.json").read_text())
    assert "agenticai-data" in {r["name"] for r in snapshot["resources"]}
    assert "fail" in {r["status"] for r in results["results"]}
    assert summary
