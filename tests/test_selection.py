"""Selection end to end: the real commands against a moto server seeded with the demo stack.

Every option of issue 12's selection is run through ``check`` and its five report formats;
the API calls on the wire are recorded (botocore's ``_make_api_call``, wrapped, not replaced)
to show collection shrinks to what the selected rules read; the gate by severity is read from
exit codes. The expected rule sets come from the pack's YAML (``tests/selection_support``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from typer.testing import CliRunner

from runbook_guard.cli import commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.collectors.registry import OPERATION_SETS, load_all
from runbook_guard.demo.server import DUMMY_ENV, moto_server, reset
from runbook_guard.demo.stack import seed_runbook_stack
from tests.selection_support import (
    ALL_FORMAT_ARGS,
    RANK,
    check_formats,
    collected_for,
    expected,
    pack_rules,
    services_read,
)

pytestmark = pytest.mark.slow

UNSET = ("AWS_PROFILE", "AWS_RETRY_MODE", "AWS_ENDPOINT_URL_FREETIER")


@dataclass
class Wire:
    """Every AWS call the process makes, as (service, operation)."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def services(self) -> set[str]:
        return {service for service, _ in self.calls}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    calls: list[tuple[str, str]]


@pytest.fixture(scope="module")
def wire() -> Iterator[Wire]:
    """A moto server with the demo stack, and a record of every call made to it."""
    recorded = Wire()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def spy(client: BaseClient, operation: str, params: Any) -> Any:
        with recorded.lock:
            recorded.calls.append((client.meta.service_model.service_name, operation))
        return original(client, operation, params)

    with pytest.MonkeyPatch.context() as patch, moto_server() as url:
        for name, value in {**DUMMY_ENV, "AWS_ENDPOINT_URL": url, "AWS_MAX_ATTEMPTS": "2"}.items():
            patch.setenv(name, value)
        for name in UNSET:
            patch.delenv(name, raising=False)
        reset(url)  # moto's state is per process: start from nothing whatever ran before
        seed_runbook_stack(boto3.Session(), endpoint_url=url)
        patch.setattr(BaseClient, "_make_api_call", spy)
        yield recorded


def cli(wire: Wire, *args: str) -> Run:
    with wire.lock:
        wire.calls.clear()
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    with wire.lock:
        calls = list(wire.calls)
    return Run(result.exit_code, result.stdout, result.stderr, calls)


def gate(results: dict[str, Any]) -> int:
    """The exit code the default gate must give: 1 when a fail or error is there."""
    return 1 if any(r["status"] in ("fail", "error") for r in results["results"]) else 0


@pytest.fixture(scope="module")
def full(wire: Wire, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """The whole pack, no selection: what every selected run is compared with."""
    out = tmp_path_factory.mktemp("full")
    run = cli(wire, "check", "-q", "-d", str(out), *ALL_FORMAT_ARGS)
    assert run.code == 1, run.stderr  # the demo seeds failures
    results = json.loads((out / "results.json").read_text())
    assert {rule["id"] for rule in results["rules"]} == set(pack_rules())
    assert results["selection"]["not_selected"] == []
    return out, run


OPTIONS = {
    "rule": (
        ["--rule", "sqs.*", "--rule", "dynamodb.pitr-enabled"],
        {"rules": ["sqs.*", "dynamodb.pitr-enabled"]},
    ),
    "exclude-rule": (
        ["--exclude-rule", "cloudwatch.*", "--exclude-rule", "lambda.*"],
        {"exclude": ["cloudwatch.*", "lambda.*"]},
    ),
    "tag": (["--tag", "security", "--tag", "backup"], {"tags": ["security", "backup"]}),
    "severity": (["--severity", "critical"], {"severity": "critical"}),
    "cadence": (["--cadence", "monthly"], {"cadence": ["monthly"]}),
}


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_each_option_checks_only_its_rules_in_every_format_and_collects_only_for_them(
    option: str, wire: Wire, full: tuple[Path, Run], tmp_path: Path
) -> None:
    args, criteria = OPTIONS[option]
    chosen = expected(**criteria)  # type: ignore[arg-type]
    left_out = set(pack_rules()) - chosen
    assert chosen
    assert left_out
    run = cli(wire, "check", "-q", "-d", str(tmp_path), *ALL_FORMAT_ARGS, *args)
    results = check_formats(tmp_path, chosen, left_out)
    assert run.code == gate(results), run.stderr
    assert "selection:" in run.stderr  # the console summary line
    # Collection: planned for the selected rules, calling only the services they read.
    snapshot = json.loads((tmp_path / "snapshot.json").read_text())
    assert set(snapshot["metadata"]["planned_rules"]) == collected_for(chosen)
    assert run.calls
    assert wire_services(run) <= services_read(chosen)
    full_out, full_run = full
    whole = json.loads((full_out / "snapshot.json").read_text())
    assert snapshot["metadata"]["api_calls"] < whole["metadata"]["api_calls"]
    assert len(run.calls) < len(full_run.calls)


def wire_services(run: Run) -> set[str]:
    return {service for service, _ in run.calls}


def test_collect_and_iam_policy_shrink_to_the_selection(wire: Wire, tmp_path: Path) -> None:
    chosen = expected(tags=["security"])
    snapshot_path = tmp_path / "snapshot.json"
    run = cli(wire, "collect", "-q", "-o", str(snapshot_path), "--tag", "security")
    assert run.code == 0, run.stderr
    snapshot = json.loads(snapshot_path.read_text())
    assert set(snapshot["metadata"]["planned_rules"]) == collected_for(chosen)
    assert wire_services(run) <= services_read(chosen)
    assert not {"sqs", "apigateway", "budgets"} & wire_services(run)

    narrowed = cli(wire, "iam-policy", "--tag", "security")
    whole = cli(wire, "iam-policy")
    assert narrowed.code == whole.code == 0, narrowed.stderr
    granted, everything = actions(narrowed.stdout), actions(whole.stdout)
    assert granted < everything
    assert {action.split(":")[0] for action in granted} <= services_read(chosen)
    # Least privilege that still works: every call the selected collection made is granted.
    load_all()
    iam = {(api.service, op): api.iam_action(op) for api in OPERATION_SETS for op in api.operations}
    assert {iam[call] for call in run.calls} <= granted


def actions(policy: str) -> set[str]:
    return {a for statement in json.loads(policy)["Statement"] for a in statement["Action"]}


def test_a_snapshot_collected_for_a_selection_passes_no_other_rule(
    wire: Wire, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snapshot.json"
    assert cli(wire, "collect", "-q", "-o", str(snapshot), "--rule", "sqs.*").code == 0
    selected = tmp_path / "selected.json"
    run = cli(wire, "evaluate", "-s", str(snapshot), "-o", str(selected), "--rule", "sqs.*")
    assert run.code in (0, 1), run.stderr
    assert {r["rule"] for r in json.loads(selected.read_text())["results"]} == expected(
        rules=["sqs.*"]
    )
    assert run.calls == []  # evaluation reads files only
    # Without the selection, every rule the collection was not planned for is undecided.
    whole = tmp_path / "whole.json"
    assert cli(wire, "evaluate", "-s", str(snapshot), "-o", str(whole)).code == 1
    chosen = expected(rules=["sqs.*"])  # parses the pack: once, not once per result
    others = [r for r in json.loads(whole.read_text())["results"] if r["rule"] not in chosen]
    assert others
    assert {r["status"] for r in others} <= {"error", "manual"}


def test_report_narrows_a_results_file_in_every_format(
    wire: Wire, full: tuple[Path, Run], tmp_path: Path
) -> None:
    full_out, _ = full
    chosen = expected(tags=["sqs"], severity="high")
    run = cli(
        wire, "report", "-q", "-r", str(full_out / "results.json"), "-d", str(tmp_path),
        *ALL_FORMAT_ARGS, "--tag", "sqs", "--severity", "high",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    (tmp_path / "results.json").write_text((tmp_path / "report.json").read_text())
    document = check_formats(tmp_path, chosen, set(pack_rules()) - chosen)
    assert document["schema_version"] == 4
    assert document["summary"]["total"] == len(document["results"])
    assert document["selection"]["severity"] == "high"


def test_report_cannot_select_a_rule_the_results_do_not_hold(wire: Wire, tmp_path: Path) -> None:
    """A rule left out when evaluating has no result: selecting it later must not show it
    passing (or as an empty, clear gate): exit 2, nothing written."""
    results = tmp_path / "results.json"
    snapshot = Path(__file__).resolve().parents[1] / "examples" / "snapshot.json"
    done = cli(wire, "evaluate", "-s", str(snapshot), "-o", str(results), "--tag", "security")
    assert done.code in (0, 1), done.stderr
    out = tmp_path / "out"
    run = cli(wire, "report", "-r", str(results), "-f", "json", "-d", str(out), "--rule", "sqs.*")
    assert run.code == 2
    assert "--rule: 'sqs.*' matches no rule in the results" in run.stderr
    assert not out.exists()


def test_the_gate_by_severity(wire: Wire, full: tuple[Path, Run], tmp_path: Path) -> None:
    """``--fail-severity``: fails below the floor stop blocking, errors never do."""
    full_out, _ = full
    snapshot = str(full_out / "snapshot.json")
    document = json.loads((full_out / "results.json").read_text())
    severity = {rule["id"]: rule["severity"] for rule in document["rules"]}
    lambda_results = [r for r in document["results"] if r["rule"].startswith("lambda.")]
    codes = {}
    for floor in RANK:
        out = tmp_path / f"{floor}.json"
        run = cli(wire, "evaluate", "-s", snapshot, "-o", str(out), "--rule", "lambda.*",
                  "--fail-severity", floor)  # fmt: skip
        blocking = [
            r for r in lambda_results
            if r["status"] == "error"
            or (r["status"] == "fail" and RANK[severity[r["rule"]]] >= RANK[floor])
        ]  # fmt: skip
        assert run.code == (1 if blocking else 0), (floor, run.stderr)
        gate_record = json.loads(out.read_text())["summary"]["gate"]
        assert gate_record == {"fail_on": "fail", "fail_severity": floor, "blocking": len(blocking)}
        codes[floor] = run.code
    assert codes["info"] == 1, "the demo must give both verdicts"
    assert codes["critical"] == 0, "the demo must give both verdicts"

    # An error is an undecided check: it blocks below any floor.
    errors = [r for r in document["results"] if r["status"] == "error"]
    low = next(r for r in errors if RANK[severity[r["rule"]]] < RANK["critical"])
    run = cli(wire, "evaluate", "-s", snapshot, "-o", str(tmp_path / "e.json"),
              "--rule", low["rule"], "--fail-severity", "critical")  # fmt: skip
    assert run.code == 1, run.stderr


def test_excluding_a_failing_rule_does_not_clear_a_gate_another_selected_rule_blocks(
    wire: Wire, full: tuple[Path, Run], tmp_path: Path
) -> None:
    full_out, _ = full
    document = json.loads((full_out / "results.json").read_text())
    failing = sorted({r["rule"] for r in document["results"] if r["status"] == "fail"})
    assert len(failing) >= 2, "the demo must fail more than one rule"
    dropped = failing[0]
    out = tmp_path / "results.json"
    run = cli(wire, "evaluate", "-s", str(full_out / "snapshot.json"), "-o", str(out),
              "--exclude-rule", dropped)  # fmt: skip
    assert run.code == 1, run.stderr
    narrowed = json.loads(out.read_text())
    assert dropped not in {r["rule"] for r in narrowed["results"]}
    assert narrowed["summary"]["gate"]["blocking"] > 0
    # Its findings are "not selected" when compared with the full run, never "resolved".
    reports = tmp_path / "reports"
    shown = cli(wire, "report", "-q", "-r", str(out), "--previous", str(full_out / "results.json"),
                "-f", "markdown", "-f", "sarif", "-d", str(reports))  # fmt: skip
    assert shown.code == 0, shown.stderr
    markdown = (reports / "report.md").read_text()
    assert f"| {dropped} | not selected in this run: not evaluated |" in markdown
    resolved = markdown.partition("Resolved findings")[2].partition("Status changed")[0]
    assert f"`{dropped}`" not in resolved
    sarif = json.loads((reports / "results.sarif").read_text())
    # another category than the full run's: uploading it closes none of the full run's alerts
    assert sarif["runs"][0]["properties"]["baseline"]["compared"] is False


def test_the_config_file_selects_and_options_override_it(
    wire: Wire, full: tuple[Path, Run], tmp_path: Path
) -> None:
    full_out, _ = full
    snapshot = str(full_out / "snapshot.json")
    config = tmp_path / "runbook-guard.yaml"
    config.write_text(
        "selection:\n  tags: [security]\n  severity: high\n  cadence: monthly\n"
        "fail_severity: critical\n"
    )
    out = tmp_path / "results.json"
    run = cli(wire, "evaluate", "-s", snapshot, "-o", str(out), "--config", str(config))
    document = json.loads(out.read_text())
    chosen = expected(tags=["security"], severity="high", cadence=["monthly"])
    assert {rule["id"] for rule in document["rules"]} == chosen
    assert document["selection"]["tags"] == ["security"]
    assert document["summary"]["gate"]["fail_severity"] == "critical"
    assert run.code == (1 if any(r["status"] == "error" for r in document["results"]) else 0)

    # An option replaces its criterion of the file; the file's other criteria stay.
    run = cli(wire, "evaluate", "-s", snapshot, "-o", str(out), "--config", str(config),
              "--tag", "lambda", "--fail-severity", "info")  # fmt: skip
    document = json.loads(out.read_text())
    chosen = expected(tags=["lambda"], severity="high", cadence=["monthly"])
    assert {rule["id"] for rule in document["rules"]} == chosen
    assert document["selection"]["tags"] == ["lambda"]
    assert document["selection"]["severity"] == "high"
    assert document["summary"]["gate"]["fail_severity"] == "info"
    assert run.code == gate(document)


def test_a_config_selection_naming_nothing_is_refused_with_its_line(
    wire: Wire, tmp_path: Path
) -> None:
    config = tmp_path / "runbook-guard.yaml"
    config.write_text("selection:\n  rules:\n    - dynamodb.pitr-enabled\n    - dynamodb.pitr\n")
    run = cli(wire, "collect", "-q", "-o", str(tmp_path / "s.json"), "--config", str(config))
    assert run.code == 2
    assert f"{config}:4:7: selection.rules[1]: 'dynamodb.pitr' matches no loaded rule" in run.stderr
    assert "did you mean 'dynamodb.pitr-enabled'" in run.stderr
    assert run.calls == []


BAD = {
    "a rule glob naming nothing": (
        ["--rule", "dynamodb.pitr-enabeld"],
        "--rule: 'dynamodb.pitr-enabeld' matches no",
    ),
    "an exclusion naming nothing": (["--exclude-rule", "sqs.nope*"], "--exclude-rule: 'sqs.nope*'"),
    "a tag no rule has": (["--tag", "secuirty"], "did you mean 'security'"),
    "a severity that does not exist": (["--severity", "urgent"], "'urgent' is not a severity"),
    "a cadence that does not exist": (["--cadence", "hourly"], "'hourly' is not a cadence"),
    "a selection keeping nothing": (
        ["--tag", "secrets", "--cadence", "quarterly"],
        "matches no",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", ["check", "collect", "evaluate", "report", "iam-policy"])
def test_bad_selections_are_exit_2_before_any_call(
    case: str, command: str, wire: Wire, full: tuple[Path, Run], tmp_path: Path
) -> None:
    args, message = BAD[case]
    full_out, _ = full
    where = {
        "check": ["-d", str(tmp_path / "out")],
        "collect": ["-o", str(tmp_path / "out.json")],
        "evaluate": ["-s", str(full_out / "snapshot.json"), "-o", str(tmp_path / "out.json")],
        "report": ["-r", str(full_out / "results.json"), "-f", "json", "-d", str(tmp_path / "out")],
        "iam-policy": [],
    }[command]
    run = cli(wire, command, *where, *args)
    assert run.code == 2, (run.stdout, run.stderr)
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert run.calls == []
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("command", ["check", "evaluate", "report"])
def test_a_bad_fail_severity_is_exit_2(
    command: str, wire: Wire, full: tuple[Path, Run], tmp_path: Path
) -> None:
    full_out, _ = full
    where = {
        "check": ["-d", str(tmp_path / "out")],
        "evaluate": ["-s", str(full_out / "snapshot.json"), "-o", str(tmp_path / "out.json")],
        "report": ["-r", str(full_out / "results.json"), "-f", "json", "-d", str(tmp_path / "out")],
    }[command]
    run = cli(wire, command, *where, "--fail-severity", "severe")
    assert run.code == 2
    assert "--fail-severity: 'severe' is not a severity" in run.stderr
    assert run.calls == []
