"""The template gate as a pull request runs it, in a copy of the example SAM app.

``runbook-guard check --template template.yaml --output-dir OUT`` in the app's folder (beside its
``samconfig.toml``), as the example workflow runs it: blocking (exit 1) on the deliberate
violations, each finding on the line its ``# violation:`` comment marks, and passing (exit 0)
once they are fixed. The copy is not in a git repository, so ``--sarif-root .`` makes locations
relative to the app's folder, as they would be to the repository root of the app.

No AWS call is made: every endpoint is a closed port and there are no credentials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.template.sam_app import FIXES, STACK_NAME, TEMPLATE, copy_app, violations

pytestmark = pytest.mark.slow  # a real subprocess per app

#: Planted as a literal environment value; it must reach no output.
SECRET = "canary-sam-4b1d-do-not-leak"
OUT = "out"


@dataclass
class Gate:
    """One run of the gate: its process and the folder it ran in."""

    app: Path
    run: subprocess.CompletedProcess[str]

    @property
    def results(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.app / OUT / "results.json").read_text())
        return loaded

    def blocking(self) -> list[str]:
        """The results that decide the exit code, as ``rule resource: status message``."""
        return [
            f"{r['rule']} {(r.get('resource') or {}).get('name')}: {r['status']} {r['message']}"
            for r in self.results["results"]
            if r["status"] in ("fail", "error")
        ]

    @property
    def sarif(self) -> dict[str, Any]:
        (found,) = sorted((self.app / OUT).glob("*.sarif"))
        loaded: dict[str, Any] = json.loads(found.read_text())
        return loaded


def run_gate(app: Path) -> Gate:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # any AWS call would fail at once
    command = [
        sys.executable,
        "-m",
        "runbook_guard",
        "check",
        "--template",
        TEMPLATE,
        "--output-dir",
        OUT,
        "--sarif-root",
        ".",
    ]
    run = subprocess.run(command, cwd=app, env=env, capture_output=True, text=True, timeout=300)
    return Gate(app, run)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    """The app as shipped, with a secret planted in the API handler's environment."""
    return run_gate(copy_app(tmp_path_factory.mktemp("shipped") / "sam-app", secret=SECRET))


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    return run_gate(copy_app(tmp_path_factory.mktemp("fixed") / "sam-app", fixed=True))


def test_the_gate_blocks_the_shipped_app(shipped: Gate) -> None:
    assert shipped.run.returncode == 1, shipped.run.stdout + shipped.run.stderr
    assert shipped.results["summary"]["gate"]["blocking"] > 0
    assert shipped.blocking()
    source = shipped.results["scope"]["source"]
    assert source["kind"] == "template"
    # The stack name comes from samconfig.toml, as `sam deploy` takes it: generated names
    # (agenticai-stack-QaAgentWorker-...) then start with the pack's prefix.
    assert [t["stack_name"] for t in source["templates"]] == [STACK_NAME]


def test_each_violation_is_found_on_its_line(shipped: Gate) -> None:
    marked = violations(shipped.app / TEMPLATE)
    assert set(marked) == set(FIXES)
    located = {
        (result["ruleId"], location["physicalLocation"]["region"]["startLine"])
        for result in shipped.sarif["runs"][0]["results"]
        for location in result["locations"]
        if result["level"] == "error"
    }
    for rule_id, line in marked.items():
        assert (rule_id, line) in located, f"{rule_id}: no SARIF error on template.yaml:{line}"
    failed = {
        r["rule"]: r["location"]["line"]
        for r in shipped.results["results"]
        if r["status"] == "fail"
    }
    assert {rule_id: failed.get(rule_id) for rule_id in marked} == marked


def test_every_sarif_result_sits_on_a_line_of_the_template(shipped: Gate) -> None:
    lines = len((shipped.app / TEMPLATE).read_text().splitlines())
    results = shipped.sarif["runs"][0]["results"]
    assert results
    for result in results:
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == TEMPLATE
        assert 1 <= physical["region"]["startLine"] <= lines


def test_the_planted_secret_reaches_no_output(shipped: Gate) -> None:
    written = sorted(path for path in (shipped.app / OUT).rglob("*") if path.is_file())
    assert {path.name for path in written} >= {"results.json", "snapshot.json"}
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path.name
    assert SECRET not in shipped.run.stdout + shipped.run.stderr
    # The variable is judged by its name (RB-S02), and its value alone is withheld.
    named = [
        r
        for r in shipped.results["results"]
        if r["rule"] == "lambda.no-secret-env-vars" and r["status"] == "fail"
    ]
    assert len(named) == 1
    assert "GEMINI_API_KEY" in json.dumps(named[0]["evidence"])


def test_the_fixed_app_passes_the_gate(fixed: Gate) -> None:
    assert fixed.run.returncode == 0, "\n".join([fixed.run.stderr, *fixed.blocking()])
    assert not fixed.blocking()
    passed = {r["rule"] for r in fixed.results["results"] if r["status"] == "pass"}
    assert set(FIXES) <= passed
    assert not [r for r in fixed.sarif["runs"][0]["results"] if r["level"] == "error"]
