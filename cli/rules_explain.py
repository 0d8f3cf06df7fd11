"""``rules explain ID``: one rule in full without opening its YAML.

What it reads and which API call fills each key, its thresholds in words with their units,
its window, the runbook's words for what it covers, its remediation and its test cases: the
same facts as its catalog page (``docs/rules/ID.md``), computed with the parameters given here,
so a ``--param`` override shows in the names and thresholds it explains.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from runbook_guard.cli.app import Command, examples
from runbook_guard.cli.common import guarded
from runbook_guard.cli.formats import FormatOption, check_format, echo_json, echo_text, unknown
from runbook_guard.cli.options import ParamOption, PoliciesOption
from runbook_guard.cli.pipeline import prepare
from runbook_guard.cli.rules import rules_app
from runbook_guard.engine.catalog_model import RuleDoc, build_doc
from runbook_guard.engine.catalog_pages import explain
from runbook_guard.engine.catalog_sources import lookups_for


@rules_app.command(
    "explain",
    short_help="Explain a rule: what it reads, its thresholds, window and test cases.",
    cls=Command,
    epilog=examples(
        "runbook-guard rules explain sqs.dlq-empty",
        "runbook-guard rules explain lambda.error-rate --param metric_window_hours=48 -f json",
    ),
)
def explain_rule(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="A rule id (see rules list).")],
    policies: PoliciesOption = None,
    param: ParamOption = None,
    output_format: FormatOption = "table",
) -> None:
    """Explain a rule: what it reads, its thresholds and window, the runbook's words, its
    remediation and its test cases."""

    def run() -> RuleDoc:
        check_format(output_format)
        prepared = prepare(None, policies, param)
        rules = {rule.id: rule for rule in prepared.rules}
        if rule_id not in rules:
            raise unknown("rule", rule_id, rules, "`runbook-guard rules list` shows them all")
        spec = next(e.spec for e in prepared.policy_set.entries if e.spec["id"] == rule_id)
        return build_doc(rules[rule_id], spec, lookups_for(prepared.policy_set.folders))

    doc = guarded(run)
    if output_format == "json":
        echo_json(asdict(doc))
    else:
        echo_text(explain(doc))
