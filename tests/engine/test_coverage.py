"""Coverage of the runbook inventory is computed from the rules' `covers`, and the pack is complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import runbook_guard.cli.commands  # noqa: F401  (registers every command, as main() does)
from runbook_guard.cli.app import app
from runbook_guard.engine.coverage import (
    compute,
    default_expectations,
    load_expectations,
    parse_expectations,
    readme_table,
    render_markdown,
)
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import load_policy_set
from tests.engine.builders import write_policy

PACK_README = default_expectations().parent / "README.md"
INVENTORY = """# Inventory

## Daily

| ID | Expectation | Data | Levels |
|---|---|---|---|
| RB-D01 | The API answers | HTTP | fail |
| RB-D02 | The stage exists | apigateway | fail |

## Weekly

| ID | Metric | Normal | Warning | Critical |
|---|---|---|---|---|
| RB-T05 | Queue depth | < 100 | > 500 | > 1000 |
"""

RULES = """
rules:
  - id: api.stage
    title: stage
    covers: [RB-D02]
    section: Daily
    cadence: daily
    severity: high
    resource: aws.apigateway.rest_api
    expect: {path: Stages, not_empty: true}
  - id: api.health
    kind: manual
    title: health
    covers: [RB-D01, RB-Z99]
    section: Daily
    cadence: daily
    severity: high
    attestation: call it
"""


def test_the_coverage_command_is_registered() -> None:
    assert "coverage" in {command.name for command in app.registered_commands}


def test_the_shipped_pack_covers_every_expectation() -> None:
    coverage = compute(load_expectations(default_expectations()), load_policy_set())
    assert coverage.uncovered == []
    assert coverage.unknown == {}
    assert len(coverage.expectations) == 62
    assert coverage.complete


def test_the_shipped_inventory_is_the_runbooks_unmodified() -> None:
    shared = Path("/work/shared/runbook/EXPECTATIONS.md")
    if not shared.is_file():
        pytest.skip("the runbook folder is not beside this checkout")
    assert default_expectations().read_bytes() == shared.read_bytes()


def test_rows_are_parsed_with_their_sections() -> None:
    rows = parse_expectations(INVENTORY)
    assert [(r.id, r.section) for r in rows] == [
        ("RB-D01", "Daily"),
        ("RB-D02", "Daily"),
        ("RB-T05", "Weekly"),
    ]
    assert rows[2].text == "Queue depth"


def test_an_inventory_without_rows_or_with_duplicates_is_refused() -> None:
    with pytest.raises(InputError, match="no expectation rows"):
        parse_expectations("# nothing here\n")
    with pytest.raises(InputError, match="duplicate expectation id RB-D01"):
        parse_expectations("| RB-D01 | a |\n| RB-D01 | b |\n")


def test_an_uncovered_id_and_an_unknown_id_are_reported(tmp_path: Path) -> None:
    policy_set = load_policy_set([write_policy(tmp_path, RULES)])
    coverage = compute(parse_expectations(INVENTORY), policy_set)
    assert coverage.uncovered == ["RB-T05"]
    assert coverage.unknown == {"RB-Z99": ["api.health"]}
    assert not coverage.complete
    assert [c.how for c in coverage.by_id["RB-D01"]] == ["manual"]
    assert [c.rule for c in coverage.by_id["RB-D02"]] == ["api.stage"]
    table = render_markdown(coverage)
    assert "| RB-T05 | Queue depth | - | **not covered** |" in table
    assert "Unknown ID RB-Z99 named by api.health." in table


def test_the_command_exits_1_naming_uncovered_and_unknown_ids(tmp_path: Path) -> None:
    inventory = tmp_path / "EXPECTATIONS.md"
    inventory.write_text(INVENTORY)
    policy = write_policy(tmp_path, RULES)
    args = ["coverage", "--expectations", str(inventory), "--policies", str(policy)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "uncovered: RB-T05" in result.output
    assert "unknown: RB-Z99" in result.output


def test_the_command_passes_on_the_shipped_pack_and_refuses_a_bad_format() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["coverage"])
    assert result.exit_code == 0, result.output
    assert "62 of 62 expectations covered" in result.output
    assert runner.invoke(app, ["coverage", "--format", "html"]).exit_code == 2


def test_the_pack_readme_table_is_the_generated_one() -> None:
    generated = render_markdown(
        compute(load_expectations(default_expectations()), load_policy_set())
    )
    embedded = readme_table(PACK_README.read_text(encoding="utf-8"))
    assert embedded is not None, "the README lost its coverage markers"
    assert embedded == generated, (
        "policies/agenticai/README.md is stale: paste the output of "
        "`runbook-guard coverage --format markdown` between its coverage markers"
    )
