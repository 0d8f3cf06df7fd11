"""Packs by name, a team's own pack beside the shipped one, and custom rules without friction.

Each feature is tried the way it could go wrong: a name shadowed by a local folder, a single
pack file losing its parameters, a combination inheriting or dropping rules, an exclusion that
lets an excluded resource be judged (or a named one be excused), an inventory pack accepting
free-form ids, a rule with no cases reported as tested.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from runbook_guard.cli.app import app, register_commands
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import builtin_policies, check_policy_set, load_policy_set
from runbook_guard.engine.planner import build_plan
from tests.engine.builders import compile_text, resource, run, snapshot_doc, statuses

ROOT = Path(__file__).resolve().parents[2]
CUSTOM = ROOT / "examples" / "custom-rules"
SHIPPED = builtin_policies() / "agenticai"
QUEUE = "aws.sqs.queue"

HEADER = """
pack: {name: team-queues, version: "1"}
parameters:
  app: {default: orders}
  workers: {default: [pm, dev]}
rules:
"""


def cli(*args: str) -> tuple[int, str]:
    register_commands(list(args))
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


# --- Packs by name ----------------------------------------------------------------------------


def test_the_shipped_pack_by_name_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no local folder named agenticai here
    by_name = load_policy_set([Path("agenticai")])
    default = load_policy_set()
    assert by_name.files == default.files
    assert by_name.digest == default.digest
    assert len(by_name.entries) > 50
    assert all(f.startswith("policies/agenticai/") for f in by_name.files)


def test_a_local_path_wins_over_a_pack_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "agenticai"
    local.mkdir()
    (local / "rules.yaml").write_text(
        HEADER + "  - {id: mine, title: mine, severity: low, resource: aws.sqs.queue,"
        " expect: {path: QueueUrl, exists: true}}\n"
    )
    monkeypatch.chdir(tmp_path)
    loaded = load_policy_set([Path("agenticai")])
    assert [e.spec["id"] for e in loaded.entries] == ["mine"]
    assert loaded.files == ["agenticai/rules.yaml"]


def test_an_unknown_pack_name_is_refused_listing_the_known_packs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = cli("validate", "agenticia")
    assert code == 2
    assert output.strip() == (
        "agenticia:1:1: <document>: no such file or folder, nor a shipped pack "
        "(known packs: agenticai)"
    )
    code, output = cli("validate", "nowhere/rules.yaml")  # a path, not a name: no pack list
    assert code == 2
    assert "no such file or folder" in output
    assert "known packs" not in output


def test_one_file_of_a_pack_loads_with_its_parameters_and_data_tables() -> None:
    """The issue's case: security.yaml alone gave 12 'unknown parameter' lines."""
    for name in ("security.yaml", "maintenance.yaml"):  # maintenance looks up runtime data
        code, output = cli("validate", str(SHIPPED / name))
        assert code == 0, output
        assert output.strip() == f"2 files, {output.split()[2]} rules: valid"
    loaded = load_policy_set([SHIPPED / "maintenance.yaml"])
    assert {e.located.path for e in loaded.entries} == {"policies/agenticai/maintenance.yaml"}
    assert "policies/agenticai/pack.yaml" in loaded.files  # the header: parameters and data
    assert "prefix" in loaded.parameters
    assert "runtime_lifecycle" in loaded.tables
    whole = {r.id: r.fingerprint for r in load_policy_set().compile()}
    for rule in loaded.compile():  # the same rule, the same parameters: the same fingerprint
        assert whole[rule.id] == rule.fingerprint


def test_a_header_file_never_brings_its_own_rules(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(
        HEADER + "  - {id: in-header, title: t, severity: low, resource: aws.sqs.queue,"
        " expect: {path: QueueUrl, exists: true}}\n"
    )
    (tmp_path / "one.yaml").write_text(
        "rules:\n  - {id: one, title: t, severity: low, resource: aws.sqs.queue,"
        ' select: {names: ["${app}-queue"]}, expect: {path: QueueUrl, exists: true}}\n'
    )
    alone = load_policy_set([tmp_path / "one.yaml"])
    assert [e.spec["id"] for e in alone.entries] == ["one"]
    assert alone.parameters["app"].default == "orders"
    whole = load_policy_set([tmp_path])
    assert sorted(e.spec["id"] for e in whole.entries) == ["in-header", "one"]


def test_p_replaces_the_default_pack_and_repeating_it_combines() -> None:
    shipped = {e.spec["id"] for e in load_policy_set().entries}
    alone = load_policy_set([CUSTOM])
    assert {e.spec["id"] for e in alone.entries} == {
        "sqs-redrive-max-receive",
        "sqs-dlq-outlives-source",
    }
    assert "prefix" not in alone.parameters  # nothing of the runbook's named resources
    combined = load_policy_set([Path("agenticai"), CUSTOM])
    assert {e.spec["id"] for e in combined.entries} == shipped | {
        "sqs-redrive-max-receive",
        "sqs-dlq-outlives-source",
    }


# --- Custom rules: ids, covers, section, cadence -------------------------------------------------


def test_a_custom_rule_needs_no_covers_section_or_cadence(tmp_path: Path) -> None:
    text = HEADER + (
        "  - {id: Team.Queue_1, title: t, severity: low, resource: aws.sqs.queue,"
        " expect: {path: QueueUrl, exists: true}}\n"
        "  - {id: RB-Z01, title: t, severity: low, covers: [OPS-7], section: Ours,"
        " cadence: weekly, resource: aws.sqs.queue, expect: {path: QueueUrl, exists: true}}\n"
    )
    _, rules = compile_text(tmp_path, text)
    first, second = sorted(rules, key=lambda r: r.id)
    assert (first.id, first.covers, first.section, first.cadence) == (
        "RB-Z01", ["OPS-7"], "Ours", "weekly",
    )  # fmt: skip
    assert (second.id, second.covers, second.section, second.cadence) == (
        "Team.Queue_1", [], "team-queues", "daily",
    )  # fmt: skip
    assert second.metadata()["covers"] == []


def test_an_inventory_pack_keeps_the_runbook_id_forms(tmp_path: Path) -> None:
    rules = (
        "rules:\n"
        "  - {id: My-Rule, title: t, severity: low, resource: aws.sqs.queue,"
        " expect: {path: QueueUrl, exists: true}}\n"
        "  - {id: my.rule, title: t, severity: low, covers: [OPS-7], resource: aws.sqs.queue,"
        " expect: {path: QueueUrl, exists: true}}\n"
    )
    (tmp_path / "rules.yaml").write_text(rules)
    assert check_policy_set([tmp_path]).problems == []  # no inventory: free-form
    (tmp_path / "EXPECTATIONS.md").write_text("| RB-A01 | something |\n")
    problems = check_policy_set([tmp_path]).problems
    assert [p.split(": ", 2)[1] for p in problems] == [
        "rules[0].id", "rules[0].id", "rules[1].covers[0]",
    ]  # fmt: skip
    assert "lower-case and dotted" in problems[0]
    assert "covers: [RB-B01]" in problems[1]
    assert "'OPS-7' is not an expectation ID" in problems[2]


# --- Exclusions -----------------------------------------------------------------------------------

EXCLUDING = (
    HEADER
    + """
  - id: by-pattern
    title: every queue but the dead-letter ones
    severity: low
    resource: aws.sqs.queue
    select: {name_not_matches: "-dlq$"}
    expect: {path: Attributes.RedrivePolicy, exists: true}
  - id: by-name
    title: every queue but the workers' dead-letter queues
    severity: low
    resource: aws.sqs.queue
    select: {exclude_names: ["${app}-${workers}-dlq"]}
    expect: {path: Attributes.RedrivePolicy, exists: true}
  - id: named-and-excluded
    title: the named queues but one
    severity: low
    resource: aws.sqs.queue
    select: {names: ["${app}-${workers}-queue", "${app}-gone-queue"], exclude_names: ["${app}-gone-queue"]}
    expect: {path: Attributes.RedrivePolicy, exists: true}
"""
)


def queues(*names: str) -> dict[str, object]:
    return snapshot_doc(resource(QUEUE, name, {"Attributes": {}}) for name in names)


def test_excluded_resources_are_never_judged(tmp_path: Path) -> None:
    doc = queues("orders-pm-queue", "orders-pm-dlq", "orders-qa-dlq", "orders-dlq-replay")
    results = run(tmp_path, EXCLUDING, doc)
    by_rule: dict[str, dict[str, str]] = {}
    for result in results:
        by_rule.setdefault(result["rule"], {})[result["resource"]["name"]] = result["status"]
    # The pattern excludes what ends in -dlq; a look-alike is still judged.
    assert by_rule["by-pattern"] == {"orders-pm-queue": "fail", "orders-dlq-replay": "fail"}
    # A list parameter expands to one excluded name per item: qa is not a worker, so judged.
    assert by_rule["by-name"] == {
        "orders-pm-queue": "fail", "orders-qa-dlq": "fail", "orders-dlq-replay": "fail",
    }  # fmt: skip
    # Excluding a named resource excuses its absence; the other named ones must still exist.
    assert by_rule["named-and-excluded"] == {"orders-pm-queue": "fail", "orders-dev-queue": "fail"}
    missing = [
        r for r in results if r["rule"] == "named-and-excluded" and r["observed"] == "missing"
    ]
    assert [r["resource"]["name"] for r in missing] == ["orders-dev-queue"]


def test_an_exclusion_pattern_escapes_parameters(tmp_path: Path) -> None:
    text = HEADER + (
        "  - {id: r, title: t, severity: low, resource: aws.sqs.queue,"
        ' select: {name_not_matches: "^${app}-"}, expect: {path: Attributes.RedrivePolicy, exists: true}}\n'
    )
    doc = queues("a.b-x", "aXb-y")
    assert statuses(run(tmp_path, text, doc, app="a.b")) == {"aXb-y": "fail"}


def test_the_plan_details_no_excluded_name_for_the_rule(tmp_path: Path) -> None:
    policy_set, rules = compile_text(tmp_path, EXCLUDING)
    plan = build_plan(rules, policy_set.effective_parameters({}))
    selectors = {rule.id: sel for rule, sel in zip(rules, plan.types[QUEUE].selectors, strict=True)}
    assert [r.id for r in rules] == ["by-name", "by-pattern", "named-and-excluded"]
    for rule_id, name, selected in [
        ("by-pattern", "orders-pm-dlq", False), ("by-pattern", "orders-pm-queue", True),
        ("by-name", "orders-dev-dlq", False), ("by-name", "orders-qa-dlq", True),
        ("named-and-excluded", "orders-gone-queue", False),
        ("named-and-excluded", "orders-dev-queue", True),
    ]:  # fmt: skip
        accepts = selectors[rule_id].accepts(name, {}, frozenset())
        assert accepts is selected, (rule_id, name)
    assert plan.types[QUEUE].prefixes is None  # exclusions never narrow the listing itself


# --- Absent fields, test cases -------------------------------------------------------------------


def test_an_absent_field_says_how_to_make_the_rule_decide(tmp_path: Path) -> None:
    text = HEADER + (
        "  - {id: r, title: t, severity: low, resource: aws.sqs.queue,"
        " expect: {path: Attributes.RedrivePolicy.maxReceiveCount, le: 5}}\n"
    )
    [result] = run(tmp_path, text, queues("orders-queue"))
    assert result["status"] == "error"
    assert "Attributes.RedrivePolicy.maxReceiveCount is absent" in result["message"]
    assert "'if_absent: VALUE'" in result["message"]
    assert "'exists: true'" in result["message"]


UNTESTED = (
    HEADER
    + """
  - id: tested
    title: t
    severity: low
    resource: aws.sqs.queue
    expect: {path: QueueUrl, exists: true}
    tests:
      - {name: set, resources: [{name: q, data: {QueueUrl: u}}], expect: pass}
      - {name: "adversarial: null", resources: [{name: q, data: {QueueUrl: null}}], expect: fail}
  - id: untested
    title: t
    severity: low
    resource: aws.sqs.queue
    expect: {path: QueueUrl, exists: true}
"""
)


def test_a_rule_without_cases_warns_and_fails_with_strict(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(UNTESTED)
    line = 1 + UNTESTED[: UNTESTED.index("- id: untested")].count("\n")
    code, output = cli("test", str(path))
    assert code == 0, output
    assert f"{path}:{line}:5: untested: warning: no test cases" in output
    assert (
        output.splitlines()[-1] == "2 passed, 0 failed (1 adversarial); 1 rule without test cases"
    )
    code, output = cli("test", "--strict", str(path))
    assert code == 1, output
    assert f"{path}:{line}:5: untested: error: no test cases" in output
    path.write_text(UNTESTED.split("  - id: untested")[0])
    assert cli("test", "--strict", str(path)) == (0, "2 passed, 0 failed (1 adversarial)\n")


def test_strict_also_fails_a_rule_no_case_tried_to_fool(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(UNTESTED.split("  - id: untested")[0].replace("adversarial: null", "null"))
    assert cli("test", str(path))[0] == 0
    code, output = cli("test", "--strict", str(path))
    assert code == 1
    assert "tested: no adversarial case" in output


def test_validate_refuses_an_unknown_type_that_load_alone_accepts(tmp_path: Path) -> None:
    """Without the collectors' facts (the engine alone) a well-formed unknown type loads; the
    validate command brings the registry and refuses it with the nearest type."""
    text = HEADER + (
        "  - {id: r, title: t, severity: low, resource: aws.sqs.queues,"
        " expect: {path: QueueUrl, exists: true}}\n"
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    load_policy_set([path])
    code, output = cli("validate", str(path))
    assert code == 2
    assert "did you mean 'aws.sqs.queue'?" in output
    with pytest.raises(InputError):
        load_policy_set([tmp_path / "missing.yaml"])
