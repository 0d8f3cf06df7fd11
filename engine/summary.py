"""The results document's ``summary``: counts by status, severity and cadence, and the gate.

Apart from evaluation because ``report`` recomputes it when a selection narrows a results
document: the counts must describe the results the document holds, and reading them must not
pull in the evaluator.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from runbook_guard.engine.config import blocking

#: ``not_applicable``: what a template cannot say before deploy (engine/phase.py); outside
#: the gate and every pass rate, JUnit ``skipped``, no SARIF alert.
STATUSES = ("pass", "note", "warn", "fail", "error", "manual", "waived", "not_applicable")

#: Rule id -> (severity, cadence): all the summary needs of a rule.
RuleClasses = Mapping[str, tuple[str, str]]


def classes_of(rules: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    """Rule id -> (severity, cadence) of a results document's rules."""
    return {str(rule["id"]): (str(rule["severity"]), str(rule["cadence"])) for rule in rules}


def summarise(
    results: Sequence[Mapping[str, Any]],
    rules: RuleClasses,
    fail_on: str,
    fail_severity: str | None,
) -> dict[str, Any]:
    """Totals by status, by severity and cadence (each by status), and the gate."""
    by_status = Counter(r["status"] for r in results)
    by_severity: dict[str, Counter[str]] = defaultdict(Counter)
    by_cadence: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        severity, cadence = rules[result["rule"]]
        by_severity[severity][result["status"]] += 1
        by_cadence[cadence][result["status"]] += 1
    severities = {rule_id: severity for rule_id, (severity, _) in rules.items()}
    return {
        "total": len(results),
        "by_status": {status: by_status.get(status, 0) for status in STATUSES},
        "by_severity": {k: dict(sorted(v.items())) for k, v in sorted(by_severity.items())},
        "by_cadence": {k: dict(sorted(v.items())) for k, v in sorted(by_cadence.items())},
        "gate": {
            "fail_on": fail_on,
            "blocking": blocking(results, fail_on, fail_severity, severities),
            # only with a floor: a document without one blocks at every severity, as before
            **({"fail_severity": fail_severity} if fail_severity is not None else {}),
        },
    }
