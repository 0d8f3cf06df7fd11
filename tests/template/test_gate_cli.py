"""The template gate at the command line: exit codes, files and what must never be printed.

``check --template`` / ``evaluate --template`` / ``rules list --phase template`` through the
typer app (one real process for the malformed file, where a traceback would show), on the
corpus in ``tests/data/templates/gate``. ``--sarif-root`` is always given, so locations are
relative to a folder this test chooses, not to wherever the checkout happens to live.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from typer.testing import CliRunner

from runbook_guard.cli import commands as _registers_the_commands  # noqa: F401
from runbook_guard.cli.app import app
from tests.reporters.checks import sarif_schema_errors

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "tests" / "data" / "templates" / "gate"
NOW = "2027-01-15T00:00:00Z"
#: every_type.yaml's stack: the generated CodeDeploy application name starts with the prefix.
STACK = "agenticai-app"
#: Planted in every_type.yaml (NoEcho default, a variable, a stage variable) or given below.
SECRETS = (
    "canary-noecho-5c2e-do-not-leak",
    "canary-env-91d4-do-not-leak",
    "canary-stage-0e7b-do-not-leak",
)
OVERRIDDEN_SECRET = "canary-override-3a9f-do-not-leak"
ALL_FORMATS = ("json", "junit", "markdown", "sarif")
PROBLEM_LINE = re.compile(r"^[^:\s]+:\d+:\d+: \S+: .+$")


@dataclass
class Run:
    """One command: its exit code, its two streams, and the folder it wrote into."""

    exit_code: int
    stdout: str
    stderr: str
    out: Path

    def read(self, name: str) -> Any:
        return json.loads((self.out / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials and no region: the template gate needs neither, and the corpus is
    written for the reader's default region (us-east-1)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any call fails at once


def invoke(out: Path, *args: str | Path) -> Run:
    run = CliRunner().invoke(app, [str(arg) for arg in args])
    if run.exception is not None and not isinstance(run.exception, SystemExit):
        raise run.exception  # a crash, never an outcome
    return Run(run.exit_code, run.stdout, run.stderr, out)


def check(out: Path, template: str, *args: str | Path, root: Path = GATE) -> Run:
    """``check --template`` into ``out``, locations relative to ``root``."""
    return invoke(out, "check", "--template", GATE / template, "--output-dir", out,
                  "--sarif-root", root, "--now", NOW, *args)  # fmt: skip


def evaluate(out: Path, template: str, *args: str | Path) -> Run:
    """``evaluate --template`` writing ``out/results.json``."""
    return invoke(out, "evaluate", "--template", GATE / template, "-o", out / "results.json",
                  "--sarif-root", GATE, "--now", NOW, *args)  # fmt: skip


def by_rule(results: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(r["rule"], (r.get("resource") or {}).get("name")): r for r in results["results"]}


# -- bad input: exit 2, one located line, no traceback -------------------------------------


@pytest.mark.parametrize(
    ("template", "args", "expected"),
    [
        ("malformed.yaml", (), "malformed.yaml:8:24: <document>: malformed YAML: while parsing "
         "a flow sequence (opened at line 7, column 18): did not find expected ',' or ']'"),
        ("not_a_template.yaml", (),
         "not_a_template.yaml:1:1: Resources: not a template: no Resources section"),
        ("suppression_without_reason.yaml", (),
         "suppression_without_reason.yaml:9:13: Resources.DataTable.Metadata.runbook-guard."
         "skip[0]: the suppression of dynamodb.pitr-enabled needs a reason (reason: why it is "
         "waived)"),
        ("samconfig_app/template.yaml", ("--parameter-overrides", "Retension=7"),
         "samconfig_app/template.yaml:1:1: parameter_overrides: --parameter-overrides sets "
         "Retension, which the template does not declare (its parameters: Pitr, Retention)"),
        ("samconfig_app/template.yaml", ("--parameter-overrides", "Retention"),
         "<command line>:1:1: --parameter-overrides: 'Retention' is not Key=Value"),
    ],
    ids=["malformed-yaml", "not-a-template", "suppression-without-reason",
         "override-of-no-parameter", "override-without-value"],
)  # fmt: skip
def test_bad_input_is_exit_2_with_one_located_line(
    tmp_path: Path, template: str, args: tuple[str, ...], expected: str
) -> None:
    run = check(tmp_path / "out", template, *args)
    assert run.exit_code == 2, run.stdout + run.stderr
    assert run.stderr.splitlines() == [expected]
    assert not (tmp_path / "out" / "results.json").exists()


@pytest.mark.slow  # a real process
def test_a_malformed_template_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    command = [sys.executable, "-m", "runbook_guard", "check", "--template",
               str(GATE / "malformed.yaml"), "--output-dir", str(tmp_path), "--sarif-root",
               str(GATE)]  # fmt: skip
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    (line,) = run.stderr.splitlines()
    assert PROBLEM_LINE.match(line), line
    assert line.startswith("malformed.yaml:8:24: "), line
    assert "Traceback" not in run.stderr + run.stdout


# -- what is read and what is written -------------------------------------------------------


@pytest.mark.parametrize(
    ("config_env", "stack", "pitr", "retention"),
    [("default", "agenticai-dev", "pass", "warn"), ("prod", "agenticai-prod", "fail", "pass")],
)
def test_config_env_picks_that_samconfig_environment(
    tmp_path: Path, config_env: str, stack: str, pitr: str, retention: str
) -> None:
    run = evaluate(tmp_path, "samconfig_app/template.yaml", "--config-env", config_env)
    assert run.exit_code == (1 if "fail" in (pitr, retention) else 0), run.stderr
    results = run.read("results.json")
    (source,) = results["scope"]["source"]["templates"]
    assert source["stack_name"] == stack
    found = by_rule(results)
    assert found[("dynamodb.pitr-enabled", "agenticai-data")]["status"] == pitr
    assert found[("logs.lambda-retention", "/aws/lambda/agenticai-app")]["status"] == retention


def results_validator() -> jsonschema.Draft202012Validator:
    """The shipped results schema, read as a file (with the snapshot schema it refers to)."""
    schemas = {n: json.loads((ROOT / "schemas" / f"{n}.schema.json").read_text("utf-8"))
               for n in ("results", "snapshot")}  # fmt: skip
    registry: Registry[Any] = Registry().with_resources(
        [("snapshot.schema.json", Resource.from_contents(schemas["snapshot"]))]
    )
    return jsonschema.Draft202012Validator(schemas["results"], registry=registry)


def test_evaluate_template_writes_valid_results_of_a_template_source(tmp_path: Path) -> None:
    run = evaluate(tmp_path, "table_pitr_off.yaml")
    assert run.exit_code == 1, run.stderr  # PITR off and TTL on the wrong attribute fail
    results = run.read("results.json")
    results_validator().validate(results)
    assert results["scope"]["source"]["kind"] == "template"
    pitr = by_rule(results)[("dynamodb.pitr-enabled", "agenticai-data")]
    assert pitr["status"] == "fail"
    assert pitr["location"] == {
        "file": "table_pitr_off.yaml", "line": 15, "column": 7, "logical_id": "DataTable",
        "property": "Properties.PointInTimeRecoverySpecification",
    }  # fmt: skip
    statuses = {r["status"] for r in results["results"]}
    assert "not_applicable" in statuses  # metrics, backups taken, attestations


def test_sarif_locations_are_relative_to_the_sarif_root(tmp_path: Path) -> None:
    root = GATE.parent  # the template is gate/table_pitr_off.yaml from there
    run = check(tmp_path, "table_pitr_off.yaml", "-f", "sarif", root=root)
    assert run.exit_code == 1, run.stderr
    sarif = run.read("results.sarif")
    assert sarif_schema_errors(sarif) == []
    located = {}
    for result in sarif["runs"][0]["results"]:
        (where,) = [loc["physicalLocation"] for loc in result["locations"]]
        assert where["artifactLocation"]["uri"] == "gate/table_pitr_off.yaml"
        located[result["ruleId"]] = where["region"]["startLine"]
    assert {rule: located[rule] for rule in ("dynamodb.pitr-enabled", "dynamodb.ttl-enabled",
            "dynamodb.contributor-insights")} == {
        "dynamodb.pitr-enabled": 15, "dynamodb.ttl-enabled": 17,
        "dynamodb.contributor-insights": 20,
    }  # fmt: skip
    alerts = [r for r in run.read("results.json")["results"] if r["status"] in ("warn", "fail")]
    assert located == {r["rule"]: r["location"]["line"] for r in alerts}


# -- which rules judge a template -----------------------------------------------------------


def test_rules_list_phase_template_is_what_judges_a_template(tmp_path: Path) -> None:
    listing = invoke(tmp_path, "rules", "list", "--phase", "template", "--format", "json")
    assert listing.exit_code == 0, listing.stderr
    listed = {row["id"] for row in json.loads(listing.stdout)}
    run = evaluate(tmp_path, "every_type.yaml", "--stack-name", STACK)
    assert run.exit_code == 1, run.stderr  # the String parameter under /agenticai fails
    judged = {r["rule"] for r in run.read("results.json")["results"]
              if r["status"] != "not_applicable"}  # fmt: skip
    assert sorted(judged - listed) == []  # judged a template, yet not listed as judging one
    assert sorted(listed - judged) == []  # listed, yet no template can give it a verdict


# -- secrets --------------------------------------------------------------------------------


def everything_written(run: Run) -> dict[str, str]:
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    texts.update({p.name: p.read_text("utf-8") for p in sorted(run.out.iterdir())})
    return texts


@pytest.mark.parametrize("override", [False, True], ids=["noecho-default", "noecho-override"])
def test_secret_values_reach_no_output(tmp_path: Path, override: bool) -> None:
    args = ["--parameter-overrides", f"ApiToken={OVERRIDDEN_SECRET}"] if override else []
    formats = [arg for name in ALL_FORMATS for arg in ("-f", name)]
    run = check(tmp_path / "out", "every_type.yaml", "--stack-name", STACK, *formats, *args)
    assert run.exit_code == 1, run.stderr
    texts = everything_written(run)
    assert {"snapshot.json", "results.json", "results.sarif", "junit.xml"} <= set(texts)
    leaks = [(name, secret) for name, text in texts.items()
             for secret in (*SECRETS, OVERRIDDEN_SECRET) if secret in text]  # fmt: skip
    assert leaks == []
    # The names are kept: the secret-looking-variable rule reads them.
    assert "UPSTREAM_AUTH" in texts["snapshot.json"]


def test_a_noecho_value_copied_into_any_property_reaches_no_output(tmp_path: Path) -> None:
    """Not only where a secret belongs (a variable, an SSM value): a tag, a dashboard body."""
    written = (GATE / "every_type.yaml").read_text("utf-8")
    insights = "      ContributorInsightsSpecification: {Enabled: true}\n"
    tagged = insights + "      Tags: [{Key: owner-token, Value: !Ref ApiToken}]\n"
    body = """      DashboardBody: '{"widgets": ["""
    noted = """      DashboardBody: !Sub '{"widgets": [{"type": "text", "properties": {"markdown": \
"${ApiToken}"}}, """
    copied = written.replace(insights, tagged, 1).replace(body, noted, 1)
    assert copied.count("ApiToken") == written.count("ApiToken") + 2
    template = tmp_path / "template.yaml"
    template.write_text(copied, encoding="utf-8")
    out = tmp_path / "out"
    run = invoke(out, "check", "--template", template, "--output-dir", out, "--sarif-root",
                 tmp_path, "--now", NOW, "--stack-name", STACK)  # fmt: skip
    assert run.exit_code == 1, run.stderr
    texts = everything_written(run)
    assert [name for name, text in texts.items() if SECRETS[0] in text] == []
