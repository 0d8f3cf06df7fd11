"""The rule catalog (docs/rules.md) and the pack's adversarial cases."""

from __future__ import annotations

from pathlib import Path

from runbook_guard.engine.casetest import rules_without_adversarial_cases
from runbook_guard.engine.catalog import render
from runbook_guard.engine.loader import load_policy_set

CATALOG = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_generated_from_the_shipped_pack() -> None:
    assert CATALOG.read_text(encoding="utf-8") == render(load_policy_set([])), (
        "docs/rules.md is stale: python -m runbook_guard.engine.catalog > docs/rules.md"
    )


def test_every_check_rule_of_the_pack_has_an_adversarial_case() -> None:
    assert rules_without_adversarial_cases(load_policy_set([])) == []


def test_every_rule_of_the_pack_quotes_the_runbook_and_says_why() -> None:
    rules = load_policy_set([]).compile()
    assert [r.id for r in rules if not r.quote] == []
    assert [r.id for r in rules if not r.rationale] == []


def test_the_catalog_shows_what_a_rule_reads_its_window_and_its_reasons() -> None:
    text = render(load_policy_set([]))
    section = text.split("### `lambda.error-rate`", 1)[1].split("### ", 1)[0]
    assert "| Metric |" in section
    assert "period of the last" in section
    assert "> " in section
    assert "Why: " in section
    assert "adversarial)" in section
