"""Selection on the shipped pack, without AWS: which rules, which mistakes, what follows.

Expected rule sets come from the pack's YAML (``tests/selection_support.expected``); the
collection plan and the IAM policy are checked to shrink with the selection, the waiver
register and coverage to leave out what was not evaluated, and every criterion that names
nothing to be refused with where it was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runbook_guard.cli.iam_policy import narrowed, planned_operation_sets
from runbook_guard.cli.pipeline import Prepared, collection_plan, evaluate, prepare
from runbook_guard.collectors.policy import iam_policy
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.selection import Selection, describe
from runbook_guard.engine.snapshot import load_snapshot
from tests.selection_support import collected_for, expected, pack_rules, services_read

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def chosen(**options: Any) -> Prepared:
    return prepare(None, None, None, selection=Selection.from_options(**options))


def ids(prepared: Prepared) -> set[str]:
    return {rule.id for rule in prepared.rules}


CASES: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
    ({"rules": ["lambda.*"]}, {"rules": ["lambda.*"]}),
    ({"rules": ["*.dlq-empty", "sqs.queue-depth"]}, {"rules": ["*.dlq-empty", "sqs.queue-depth"]}),
    ({"rules": ["lambda.?????-*"]}, {"rules": ["lambda.?????-*"]}),
    ({"rules": ["[ds]*"], "exclude_rules": ["s3.*"]}, {"rules": ["[ds]*"], "exclude": ["s3.*"]}),
    ({"exclude_rules": ["*"], "rules": ["x"]}, None),
    ({"tags": ["cost", "budgets"]}, {"tags": ["cost", "budgets"]}),
    ({"tags": ["lambda"], "severity": "medium"}, {"tags": ["lambda"], "severity": "medium"}),
    ({"severity": "info"}, {"severity": "info"}),
    ({"severity": "low"}, {"severity": "low"}),
    ({"severity": "high"}, {"severity": "high"}),
    ({"cadence": ["weekly", "quarterly"]}, {"cadence": ["weekly", "quarterly"]}),
    (
        {"cadence": ["daily"], "severity": "critical", "tags": ["sqs"]},
        {"cadence": ["daily"], "severity": "critical", "tags": ["sqs"]},
    ),
]


@pytest.mark.parametrize(("options", "criteria"), CASES, ids=[str(o) for o, _ in CASES])
def test_each_criterion_keeps_what_the_pack_says(
    options: dict[str, Any], criteria: dict[str, Any] | None
) -> None:
    if criteria is None:  # a --rule naming nothing: refused, not an empty run
        with pytest.raises(InputError):
            chosen(**options)
        return
    want = expected(**criteria)
    assert want, "each case must select something"
    prepared = chosen(**options)
    assert ids(prepared) == want
    record = prepared.selection
    assert record["selected"] == len(want)
    assert set(record["not_selected"]) == set(pack_rules()) - want
    assert record["not_selected"] == sorted(record["not_selected"])


def test_no_selection_keeps_every_rule_and_records_an_inactive_selection() -> None:
    prepared = prepare(None, None, None)
    assert ids(prepared) == set(pack_rules())
    assert prepared.selection["not_selected"] == []
    assert describe(prepared.selection) == ""


def test_severity_is_a_minimum_in_the_documented_order() -> None:
    by_floor = {floor: ids(chosen(severity=floor)) for floor in ("info", "low", "medium", "high")}
    assert by_floor["info"] == set(pack_rules())  # info is the lowest: everything
    assert by_floor["info"] > by_floor["low"] > by_floor["medium"] > by_floor["high"]
    critical = ids(chosen(severity="critical"))
    assert critical < by_floor["high"]
    assert {pack_rules()[rule].severity for rule in critical} == {"critical"}


def problems(**options: Any) -> list[str]:
    with pytest.raises(InputError) as caught:
        chosen(**options)
    return caught.value.problems


def test_a_rule_pattern_naming_nothing_is_refused_with_a_suggestion() -> None:
    [line] = problems(rules=["dynamodb.pitr-enabled", "dynamodb.pitr-enabeld"])
    assert line == (
        "<command line>:1:1: --rule: 'dynamodb.pitr-enabeld' matches no loaded rule "
        "(did you mean 'dynamodb.pitr-enabled'?)"
    )
    [line] = problems(exclude_rules=["cloudwatch.alarm-*", "cloudwatch.alarms-*"])
    assert "--exclude-rule: 'cloudwatch.alarms-*' matches no loaded rule" in line


def test_a_former_rule_id_says_what_it_is_called_now() -> None:
    [line] = problems(rules=["dynamodb.read-throttles"])
    assert "matches no loaded rule (renamed: now dynamodb.throttled-requests)" in line


def test_every_mistake_is_reported_in_one_run() -> None:
    lines = problems(rules=["nope"], tags=["secuirty", "cost"], exclude_rules=["zzz"])
    assert len(lines) == 3
    assert any(
        "no loaded rule has the tag 'secuirty' (did you mean 'security'?)" in x for x in lines
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"severity": "High"},
            "--severity: 'High' is not a severity: use one of info, low, medium,",
        ),
        ({"cadence": ["daily", "yearly"]}, "--cadence: 'yearly' is not a cadence"),
        ({"rules": [" "]}, "--rule: is blank"),
        ({"tags": [""]}, "--tag: is blank"),
    ],
)
def test_values_no_rule_can_have_are_refused(options: dict[str, Any], message: str) -> None:
    assert any(message in line for line in problems(**options))


def test_a_selection_keeping_nothing_is_refused() -> None:
    [line] = problems(tags=["secrets"], cadence=["quarterly"])
    assert line.startswith("<command line>:1:1: selection: the selection --tag secrets")
    assert "--cadence quarterly matches no loaded rule" in line


def test_the_config_file_selects_and_each_option_replaces_only_its_criterion(
    tmp_path: Path,
) -> None:
    config = tmp_path / "runbook-guard.yaml"
    config.write_text(
        "selection:\n  tags: [lambda]\n  severity: high\n  exclude_rules: ['*.live-alias']\n"
        "fail_severity: medium\n"
    )
    from_file = prepare(config, None, None)
    assert ids(from_file) == expected(tags=["lambda"], severity="high", exclude=["*.live-alias"])
    assert from_file.fail_severity == "medium"
    over = prepare(
        config,
        None,
        None,
        selection=Selection.from_options(tags=["sqs"]),
        fail_severity="critical",
    )
    assert ids(over) == expected(tags=["sqs"], severity="high", exclude=["*.live-alias"])
    assert over.fail_severity == "critical"
    assert over.selection["tags"] == ["sqs"]
    assert over.selection["exclude_rules"] == ["*.live-alias"]


def test_a_bad_config_selection_names_the_file_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "runbook-guard.yaml"
    config.write_text("selection:\n  tags:\n    - lambda\n    - lamdba\n")
    with pytest.raises(InputError) as caught:
        prepare(config, None, None)
    [line] = caught.value.problems
    assert line.startswith(f"{config}:4:7: selection.tags[1]: no loaded rule has the tag")
    config.write_text("selection:\n  severity: urgent\n")
    with pytest.raises(InputError) as caught:
        prepare(config, None, None)
    assert "selection.severity" in caught.value.problems[0]
    config.write_text("fail_severity: urgent\n")
    with pytest.raises(InputError) as caught:
        prepare(config, None, None)
    assert "fail_severity" in caught.value.problems[0]


def test_the_plan_reads_only_for_the_selected_rules() -> None:
    whole = collection_plan(prepare(None, None, None))
    selected = chosen(tags=["backup"])
    plan = collection_plan(selected)
    assert set(plan.rules) == collected_for(ids(selected))
    types = {t for rule in ids(selected) for t in pack_rules()[rule].types}
    assert set(plan.types) <= types
    assert set(plan.types) < set(whole.types)


@pytest.mark.parametrize("tag", ["security", "backup", "cost", "sqs"])
def test_the_iam_policy_grants_only_the_services_the_selection_reads(tag: str) -> None:
    whole = iam_policy()
    prepared = chosen(tags=[tag])
    policy = narrowed(whole, planned_operation_sets(collection_plan(prepared)))
    granted = {a for s in policy["Statement"] for a in s["Action"]}
    everything = {a for s in whole["Statement"] for a in s["Action"]}
    assert granted < everything
    assert {action.split(":")[0] for action in granted} <= services_read(ids(prepared))
    assert all(statement["Action"] for statement in policy["Statement"])


def test_a_waiver_of_a_rule_left_out_is_not_applied_listed_or_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - {id: W-OUT, rule: dynamodb.pitr-enabled, resource: '*', owner: o, reason: r,"
        " expires: '2026-12-31'}\n"
        "  - {id: W-OLD, rule: dynamodb.read-throttles, resource: '*', owner: o, reason: r,"
        " expires: '2026-12-31'}\n"
        "  - {id: W-IN, rule: sqs.queue-depth, resource: '*', owner: o, reason: r,"
        " expires: '2026-12-31'}\n"
    )
    config = EXAMPLES / "runbook-guard.yaml"
    selection = Selection.from_options(tags=["sqs"])
    prepared = prepare(config, None, None, selection=selection)
    results = evaluate(prepared, load_snapshot(EXAMPLES / "snapshot.json"), None, waivers)
    assert [w["id"] for w in results["waivers"]] == ["W-IN"]
    assert "W-OUT" not in capsys.readouterr().err


def coverage_of(**options: Any) -> dict[str, Any]:
    config = EXAMPLES / "runbook-guard.yaml"
    prepared = prepare(config, None, None, selection=Selection.from_options(**options))
    results = evaluate(prepared, load_snapshot(EXAMPLES / "snapshot.json"), None, None)
    coverage: dict[str, Any] = results["coverage"]
    return coverage


def test_coverage_says_not_selected_never_covered_or_uncovered() -> None:
    whole = coverage_of()
    shared = next(e for e in whole["expectations"] if len(e["rules"]) >= 2)
    kept = shared["rules"][0]
    narrowed_coverage = coverage_of(rules=[kept])
    by_id = {e["id"]: e for e in narrowed_coverage["expectations"]}
    assert by_id[shared["id"]]["rules"] == [kept]
    assert set(by_id[shared["id"]]["not_selected"]) == set(shared["rules"]) - {kept}
    assert by_id[shared["id"]]["how"] != "not selected"
    for item in whole["expectations"]:
        now = by_id[item["id"]]
        if item["rules"] and kept not in item["rules"]:
            assert now["how"] == "not selected", item["id"]
            assert now["rules"] == []
            assert item["id"] in narrowed_coverage["not_selected"]
    # The pack's own gaps stay the pack's gaps; what was not selected is not one of them.
    assert narrowed_coverage["uncovered"] == whole["uncovered"]
    assert "not_selected" not in whole
