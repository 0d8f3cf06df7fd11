"""The example SAM app is a template CloudFormation would take: cfn-lint, the linter SAM users
run, finds nothing in it but the deprecated runtime it holds on purpose, and nothing once the
deliberate violations are fixed; each violation is marked once, for a rule of the pack."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import lint_file

from runbook_guard.cli.pipeline import prepare
from tests.template.sam_app import APP, FIXES, TEMPLATE, copy_app, violations


def _findings(template: Path) -> list[tuple[str, int]]:
    return sorted((match.rule.id, match.linenumber) for match in lint_file(template))


def test_the_shipped_template_lints_clean_but_for_its_deprecated_runtime() -> None:
    # W2531: cfn-lint's own deprecated-runtime warning (on the Globals Runtime line it reads
    # the transformed function from), the same fact lambda.runtime-not-deprecated fails on.
    assert [rule for rule, _ in _findings(APP / TEMPLATE)] == ["W2531"]


def test_the_fixed_template_lints_clean(tmp_path: Path) -> None:
    app = copy_app(tmp_path / "sam-app", fixed=True)
    assert _findings(app / TEMPLATE) == []
    assert violations(app / TEMPLATE) == {}


def test_each_violation_names_a_rule_of_the_pack_and_has_a_fix() -> None:
    rules = {rule.id for rule in prepare(None, None, None).rules}
    marked = violations()
    assert 3 <= len(marked) <= 5
    assert set(marked) == set(FIXES)
    assert set(marked) <= rules
