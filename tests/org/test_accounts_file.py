"""The accounts file: units from YAML, every problem named by file, line and field (exit 2);
and the plan serving every account with its own parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook_guard.cli.pipeline import collection_plan, prepare
from runbook_guard.engine.accounts import (
    MAX_UNION_PREFIXES,
    AccountUnit,
    load_accounts,
    plan_for_accounts,
    role_arn,
)
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.selection import Selection

GOOD = """\
defaults:
  role: RunbookGuardReadOnly
  regions: [us-east-1]
  parameters: {queues: [pm, dev]}
accounts:
  - id: "111111111111"
    name: dev
    parameters: {prefix: agenticai-dev}
    tags: {env: dev}
  - id: "222222222222"
    role: arn:aws:iam::222222222222:role/audit/Reader
    external_id: prod-ext-1
    regions: [eu-west-1, us-east-1]
    parameters: {prefix: agenticai-prod, queues: [pm]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.yaml"
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as raised:
        load_accounts(write(tmp_path, text))
    return raised.value.problems


def test_units_take_defaults_and_their_own_values(tmp_path: Path) -> None:
    loaded = load_accounts(write(tmp_path, GOOD))
    dev, prod = loaded.units
    assert dev == AccountUnit(
        id="111111111111",
        role="RunbookGuardReadOnly",
        regions=("us-east-1",),
        parameters={"queues": ["pm", "dev"], "prefix": "agenticai-dev"},
        tags={"env": "dev"},
        name="dev",
    )
    assert prod.regions == ("eu-west-1", "us-east-1")  # its own list replaces the default
    assert prod.parameters == {"queues": ["pm"], "prefix": "agenticai-prod"}  # its own win
    assert prod.external_id == "prod-ext-1"
    assert role_arn(dev, "aws") == "arn:aws:iam::111111111111:role/RunbookGuardReadOnly"
    assert role_arn(dev, "aws-cn") == "arn:aws-cn:iam::111111111111:role/RunbookGuardReadOnly"
    assert role_arn(prod, "aws") == "arn:aws:iam::222222222222:role/audit/Reader"


def test_the_payer_is_marked_on_its_unit_alone(tmp_path: Path) -> None:
    text = 'accounts:\n  - id: "111111111111"\n    payer: true\n  - id: "222222222222"\n'
    units = load_accounts(write(tmp_path, text)).units
    assert [(u.id, u.payer) for u in units] == [("111111111111", True), ("222222222222", False)]


def test_the_command_lines_role_applies_where_the_file_names_none(tmp_path: Path) -> None:
    path = write(tmp_path, 'accounts:\n  - id: "111111111111"\n')
    [unit] = load_accounts(path, default_role="audit", default_external_id="x-42").units
    assert (unit.role, unit.external_id, unit.regions) == ("audit", "x-42", None)
    [own] = load_accounts(path).units
    assert own.role is None  # the caller's own credentials (checked against the id later)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("accounts:\n  - id: 111111111111\n", 2, "accounts[0].id", "quote the account id"),
        ('accounts:\n  - id: "1234"\n', 2, "accounts[0].id", "does not match"),
        (
            'accounts:\n  - id: "111111111111"\n  - id: "111111111111"\n',
            3,
            "accounts[1].id",
            "listed twice",
        ),
        (
            'accounts:\n  - id: "111111111111"\n    role: arn:aws:iam::222222222222:role/x\n',
            3,
            "accounts[0].role",
            "is in account 222222222222, not 111111111111",
        ),
        (
            'accounts:\n  - id: "111111111111"\n    external_id: abc\n',
            3,
            "accounts[0].external_id",
            "needs a role",
        ),
        (
            'accounts:\n  - id: "111111111111"\n    regions: [us-east-1, mars-1]\n',
            3,
            "accounts[0].regions[1]",
            "does not match",
        ),
        (
            'accounts:\n  - id: "111111111111"\n    rol: audit\n',
            3,
            "accounts[0].rol",
            "did you mean 'role'",
        ),
        (
            'accounts:\n  - id: "111111111111"\n    payer: true\n'
            '  - id: "222222222222"\n    payer: true\n',
            5,
            "accounts[1].payer",
            "only one account can be the payer",
        ),
        (
            'accounts:\n  - id: "111111111111"\n    payer: "yes"\n',
            3,
            "accounts[0].payer",
            "is not of type 'boolean'",
        ),
        ("accounts: []\n", 1, "accounts", "should be non-empty"),
        ("- id: 1\n", 1, "<document>", "a mapping with 'accounts'"),
    ],
)
def test_bad_input_is_named_by_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, words: str
) -> None:
    problems = problems_of(tmp_path, text)
    assert any(
        p.startswith(f"{tmp_path / 'accounts.yaml'}:{line}:") and f": {field}: " in p and words in p
        for p in problems
    ), problems


def test_an_unquoted_id_is_one_problem_not_two(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "accounts:\n  - id: 111111111111\n")
    assert "'111111111111'" in problem


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        'accounts:\n  - id: "111111111111"\n    external_id: abc\n'
        '  - id: "111111111111"\n    role: arn:aws:iam::333333333333:role/x\n'
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 3, problems


def test_parameters_no_policy_declares_are_positioned(tmp_path: Path) -> None:
    text = GOOD.replace("{prefix: agenticai-dev}", "{prefix: agenticai-dev, prefx: oops}")
    loaded = load_accounts(write(tmp_path, text))
    declared = load_policy_set().parameters
    [problem] = loaded.parameter_problems(declared)
    assert ":8:" in problem
    assert "accounts[0].parameters.prefx" in problem
    assert "no policy declares 'prefx'" in problem


def test_many_stacks_list_a_type_whole_rather_than_once_per_prefix() -> None:
    """Twenty accounts with twenty prefixes: one whole listing per account beats twenty
    prefix listings each; every account still records its own parameters and fingerprints."""
    prepared = prepare(
        None, None, None, selection=Selection.from_options(rules=["sqs.work-queues-exist"])
    )
    ids = [rule.id for rule in prepared.rules]
    base = collection_plan(prepared)
    few = [AccountUnit(f"{i:012d}", parameters={"prefix": f"s{i}"}) for i in range(2)]
    plan, _ = plan_for_accounts(prepared.policy_set, ids, {}, base, few)
    assert len(plan.types["aws.sqs.queue"].prefixes or []) == 12  # 3 stacks x 4 queues
    many = [AccountUnit(f"{i:012d}", parameters={"prefix": f"s{i}"}) for i in range(20)]
    plan, planned = plan_for_accounts(prepared.policy_set, ids, {}, base, many)
    assert MAX_UNION_PREFIXES < 12 * 20
    assert plan.types["aws.sqs.queue"].prefixes is None
    assert plan.rules == base.rules  # the run's own fingerprints stay the snapshot's
    prints = {unit.planned_rules["sqs.work-queues-exist"] for unit in planned if unit.planned_rules}
    assert len(prints) == 20
    assert [unit.parameters["prefix"] for unit in planned] == [f"s{i}" for i in range(20)]
    assert planned[0].parameters["table"] == "s0-data"  # effective: derived ones follow
