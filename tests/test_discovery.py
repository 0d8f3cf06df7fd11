"""Discovery: ``rules list``, ``rules explain``, ``schema`` and ``types`` through the real CLI.

What they show is checked against its sources, not against itself: a call shown as filling a
key must be one the collector declares for that key (and every declared one must be shown),
a schema printed must be the very file the package ships, a rule count must be the loaded
rules that read the type.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import runbook_guard.cli.discovery
import runbook_guard.cli.rules
import runbook_guard.cli.rules_explain  # noqa: F401  (registers the commands under test)
from runbook_guard.cli.app import app
from runbook_guard.collectors.registry import COLLECTORS, load_all
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.reads import top_level_keys

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_NAMES = ("config", "policy", "results", "snapshot", "waivers")
#: Whatever the package ships: a schema added later is printed and listed without a change.
SHIPPED = sorted(
    p.name.removesuffix(".schema.json") for p in (ROOT / "schemas").glob("*.schema.json")
)
CUSTOM_RULE = """\
rules:
  - id: custom.redrive-max-receive
    title: Every queue redrives after at most 5 receives
    covers: [RB-Z01]
    section: Custom / Queues
    cadence: daily
    severity: high
    resource: aws.sqs.queue
    expect: {path: Attributes.RedrivePolicy.maxReceiveCount, le: 5}
    remediation: aws sqs set-queue-attributes --queue-url URL --attributes RedrivePolicy=...
    tests:
      - name: five receives pass
        resources: [{name: q, data: {Attributes: {RedrivePolicy: {maxReceiveCount: 5}}}}]
        expect: pass
      - name: "adversarial: six receives fail"
        resources: [{name: q, data: {Attributes: {RedrivePolicy: {maxReceiveCount: 6}}}}]
        expect: fail
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--format", "json"))


@pytest.fixture(scope="module")
def pack_rules() -> dict[str, Any]:
    return {rule.id: rule for rule in load_policy_set([]).compile()}


@pytest.fixture
def custom_pack(tmp_path: Path) -> Path:
    (tmp_path / "queues.yaml").write_text(CUSTOM_RULE, encoding="utf-8")
    return tmp_path


def declared_fills(resource_type: str, key: str) -> list[str]:
    """Every call the type's collector declares as filling the key, as ``service:Operation``."""
    load_all()
    api = COLLECTORS[resource_type].api
    return [
        f"{api.service}:{op}"
        for op in api.operations
        if key in api.filled(op).get(resource_type, frozenset())
    ]


# rules list -----------------------------------------------------------------------------


def test_rules_list_shows_what_each_rule_covers_in_table_and_json(
    pack_rules: dict[str, Any],
) -> None:
    rows = as_json("rules", "list")
    assert {row["id"]: row["covers"] for row in rows} == {
        rule_id: rule.covers for rule_id, rule in pack_rules.items()
    }
    table = ok("rules", "list")
    header = next(line for line in table.splitlines() if "severity" in line)
    assert "covers" in header
    assert "phases" in header
    row = next(line for line in table.splitlines() if "lambda.error-rate" in line)
    assert "RB-T02" in row


def test_rules_list_keeps_the_template_phase_filter() -> None:
    template_only = as_json("rules", "list", "--phase", "template")
    assert template_only
    assert all("template" in row["phases"] and "covers" in row for row in template_only)
    assert len(template_only) < len(as_json("rules", "list"))


# rules explain --------------------------------------------------------------------------


def test_explain_a_metric_rule_gives_figures_thresholds_window_words_and_cases() -> None:
    text = ok("rules", "explain", "lambda.error-rate")
    for heading in ("## What it checks", "## Why", "## Thresholds", "## Remediation",
                    "## Runbook reference", "## Test cases"):  # fmt: skip
        assert heading in text
    assert "AWS/Lambda Errors per Invocations by FunctionName" in text
    assert "cloudwatch:GetMetricData" in text
    assert "worst 1-hour period of the last day" in text
    assert "| fail | fail | above 5% | `> 5%` |" in text
    assert "| normal | pass | below 0.5% | `< 0.5%` |" in text
    assert "**RB-T02**" in text
    assert "Lambda error rate (Errors / Invocations), per function" in text
    assert "Critical: > 5 %" in text
    assert "aws lambda update-alias" in text
    assert "- adversarial: exactly 5 % is a warning, one past it critical -> " \
           "agenticai-at: warn, agenticai-past: fail" in text  # fmt: skip


def test_explain_a_plain_rule_names_each_path_and_the_call_that_fills_it() -> None:
    text = ok("rules", "explain", "dynamodb.pitr-enabled")
    assert "`aws.dynamodb.table` named agenticai-data" in text
    assert "dynamodb:DescribeContinuousBackups" in text
    assert "- fail unless " in text
    assert "PointInTimeRecoveryStatus == ENABLED" in text
    assert "## Thresholds" in text
    assert "RB-B01" in text


def test_explain_json_reads_name_exactly_the_declared_calls_of_each_key(
    pack_rules: dict[str, Any],
) -> None:
    for rule_id in ("sqs.redrive-to-own-dlq", "lambda.worker-consumes-queue", "s3.code-versioning"):
        doc = as_json("rules", "explain", rule_id)
        rule = pack_rules[rule_id]
        shown = {(r["resource_type"], r["path"]) for r in doc["reads"]}
        assert shown == {(t, p) for t, paths in rule.read_paths.items() for p in paths}
        for read in doc["reads"]:
            assert read["keys"] == sorted(top_level_keys(read["path"]))
            expected = [c for k in read["keys"] for c in declared_fills(read["resource_type"], k)]
            assert read["calls"] == list(dict.fromkeys(expected)), read
            assert read["calls"], f"{rule_id} reads {read['path']} that nothing fills"


def test_explain_json_tells_the_resources_own_reads_from_a_related_ones() -> None:
    doc = as_json("rules", "explain", "sqs.redrive-to-own-dlq")
    whose = {r["path"]: r["of"] for r in doc["reads"]}
    assert whose["Attributes.RedrivePolicy.deadLetterTargetArn"] == ["the resource"]
    assert [r["alias"] for r in doc["related"]] == ["dlq"]


def test_explain_json_shape_of_a_metric_rule() -> None:
    doc = as_json("rules", "explain", "lambda.error-rate")
    assert doc["id"] == "lambda.error-rate"
    assert doc["unit"] == "%"
    bands = {b["level"]: b for b in doc["levels"]}
    assert (bands["warn"]["operator"], bands["warn"]["number"], bands["warn"]["status"]) == (
        ">",
        2.0,
        "warn",
    )
    assert bands["above normal"]["status"] == "note"
    assert {f["name"] for f in doc["figures"]} == {"errors", "invocations", "whole_window",
                                                   "worst_period"}  # fmt: skip
    assert "worst_period: worst 1-hour period of the last day" in doc["windows"]
    assert doc["runbook"][0]["details"] == {"Normal": "< 0.5 %", "Warning": "> 2 %",
                                            "Critical": "> 5 %"}  # fmt: skip
    spec = next(e.spec for e in load_policy_set([]).entries if e.spec["id"] == doc["id"])
    assert [case["name"] for case in doc["tests"]] == [case["name"] for case in spec["tests"]]
    assert all(set(case) == {"name", "adversarial", "expect"} for case in doc["tests"])


def test_explain_uses_the_parameters_given() -> None:
    doc = as_json("rules", "explain", "dynamodb.pitr-enabled", "--param", "prefix=acme")
    assert doc["selection"] == ["named acme-data"]
    levels = as_json("rules", "explain", "sqs.queue-depth")["selection"]
    assert "agenticai-pm-queue" in levels[0]


def test_explain_a_custom_rule_without_an_inventory_says_so(custom_pack: Path) -> None:
    doc = as_json("rules", "explain", "custom.redrive-max-receive", "-p", str(custom_pack))
    assert doc["runbook"] == [
        {"id": "RB-Z01", "text": "", "inventory_section": "", "details": {}, "in_inventory": False}
    ]
    assert doc["checks"] == [
        {"unmet": "fail", "condition": "Attributes.RedrivePolicy.maxReceiveCount <= 5"}
    ]
    text = ok("rules", "explain", "custom.redrive-max-receive", "-p", str(custom_pack))
    assert "**RB-Z01**: not in the pack's EXPECTATIONS.md" in text


def test_explain_an_unknown_rule_exits_2_with_the_nearest_id() -> None:
    result = run("rules", "explain", "lambda.eror-rate")
    assert result.exit_code == 2
    assert "unknown rule 'lambda.eror-rate' (did you mean 'lambda.error-rate'?)" in result.stderr
    assert "rules list" in result.stderr
    assert result.stdout == ""


def test_explain_refuses_an_unknown_format() -> None:
    result = run("rules", "explain", "lambda.error-rate", "--format", "yaml")
    assert result.exit_code == 2
    assert "--format must be table or json" in result.stderr


# schema ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_schema_prints_the_shipped_file_byte_for_byte(name: str) -> None:
    printed = ok("schema", name)
    shipped = resources.files("runbook_guard.schemas").joinpath(f"{name}.schema.json")
    assert printed == shipped.read_text(encoding="utf-8")
    assert printed == (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    assert json.loads(printed)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_without_a_name_lists_every_shipped_schema() -> None:
    listed = [line.split("\t")[0] for line in ok("schema").splitlines()]
    assert listed == SHIPPED
    assert set(SCHEMA_NAMES) <= set(listed)


def test_an_unknown_schema_exits_2_with_the_nearest_name_and_the_choices() -> None:
    result = run("schema", "polcy")
    assert result.exit_code == 2
    assert "unknown schema 'polcy' (did you mean 'policy'?)" in result.stderr
    assert f"choose one of: {', '.join(SHIPPED)}" in result.stderr


# types ----------------------------------------------------------------------------------


def test_types_lists_every_collected_type_with_the_rules_reading_it(
    pack_rules: dict[str, Any],
) -> None:
    load_all()
    rows = {row["type"]: row for row in as_json("types")}
    assert set(rows) == set(COLLECTORS)
    queue = rows["aws.sqs.queue"]
    assert (queue["service"], queue["collector"], queue["global"]) == ("sqs", "sqs.queues", False)
    assert queue["rules"] == sorted(
        rule_id for rule_id, rule in pack_rules.items()
        if rule.resource_type == "aws.sqs.queue" or "aws.sqs.queue" in rule.reads
    )  # fmt: skip
    assert "lambda.worker-consumes-queue" in queue["rules"]  # reads queues as related ones
    table = ok("types")
    line = next(row for row in table.splitlines() if "aws.sqs.queue" in row)
    assert str(len(queue["rules"])) in line


def test_types_counts_the_rules_of_the_loaded_pack_only(custom_pack: Path) -> None:
    rows = {row["type"]: row["rules"] for row in as_json("types", "-p", str(custom_pack))}
    assert rows["aws.sqs.queue"] == ["custom.redrive-max-receive"]
    assert all(rules == [] for rtype, rules in rows.items() if rtype != "aws.sqs.queue")


@pytest.mark.parametrize("resource_type", ["aws.dynamodb.table", "aws.lambda.function",
                                           "aws.sqs.queue", "aws.s3.bucket"])  # fmt: skip
def test_a_types_fields_are_the_collectors_declarations_with_their_calls(
    resource_type: str,
) -> None:
    load_all()
    api = COLLECTORS[resource_type].api
    detail = as_json("types", resource_type)
    fields = {f["key"]: f for f in detail["fields"]}
    assert set(fields) == set(api.keys_of(resource_type))
    listings = {f"{api.service}:{op}" for op in api.listings}
    for key, field in fields.items():
        assert field["calls"] == declared_fills(resource_type, key), key
        assert field["listed_by"] == [c for c in field["calls"] if c in listings]


def test_a_types_fields_name_the_rules_reading_them(custom_pack: Path) -> None:
    detail = as_json("types", "aws.sqs.queue", "-p", str(custom_pack))
    fields = {f["key"]: f for f in detail["fields"]}
    assert fields["Attributes"]["rules"] == ["custom.redrive-max-receive"]
    assert fields["Attributes"]["calls"] == ["sqs:GetQueueAttributes"]
    assert fields["QueueUrl"] == {"key": "QueueUrl", "calls": ["sqs:ListQueues"],
                                  "listed_by": ["sqs:ListQueues"], "rules": []}  # fmt: skip
    shipped = {f["key"]: f for f in as_json("types", "aws.sqs.queue")["fields"]}
    assert "sqs.queue-depth" in shipped["Attributes"]["rules"]
    table = ok("types", "aws.sqs.queue")
    assert "sqs:ListQueues (listing)" in table


def test_a_types_figures_name_the_metric_call_and_the_rules_asking() -> None:
    detail = as_json("types", "aws.lambda.function")
    figures = {f["key"]: f for f in detail["figures"]}
    assert figures["metrics"]["calls"] == ["cloudwatch:GetMetricData"]
    assert "lambda.error-rate" in figures["metrics"]["rules"]
    assert "logs" not in figures  # no rule counts log events of a function


def test_an_unknown_type_exits_2_with_the_nearest_type() -> None:
    result = run("types", "aws.sqs.queues")
    assert result.exit_code == 2
    assert "unknown resource type 'aws.sqs.queues' (did you mean 'aws.sqs.queue'?)" in result.stderr
    assert result.stdout == ""
