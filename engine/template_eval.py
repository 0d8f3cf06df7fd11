"""The engine on a snapshot read from templates: the same rules, with what a template
cannot say made explicit (engine/phase.py) and every result on the line the rule read.

A subclass of the live evaluator, so the two share every decision but these: which rules
apply, values the template leaves open, names it leaves open, resources it does not declare.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runbook_guard.engine.absence import when_none
from runbook_guard.engine.evaluate import Evaluator, _result_key
from runbook_guard.engine.phase import NOT_APPLICABLE, location_of, template_gap, unknown_reads
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.verdicts import Result, make_error, make_result


def _open(rule: CompiledRule, ref: Mapping[str, Any], resource: Mapping[str, Any]) -> Result | None:
    """The result when the rule reads a value this template resource leaves open."""
    open_values = unknown_reads(rule, resource)
    if open_values is None:
        return None
    status, causes = open_values
    if status == "error":
        return make_error(rule, ref, causes)
    return make_result(rule, ref, status, "; ".join(causes))


class TemplateEvaluator(Evaluator):
    """Evaluates rules against a template snapshot (``metadata.source.kind: template``)."""

    def rule(self, rule: CompiledRule) -> list[Result]:
        """A rule judged before deploy: what a template cannot say is not_applicable."""
        gap = template_gap(rule, self.snapshot.collected_keys or {}, self.snapshot.runtime_keys)
        if gap:
            return [make_result(rule, None, NOT_APPLICABLE, gap)]
        selected, extras = self._select(rule)
        opened = self._open_names(rule)
        if opened:  # never judged by name on a stand-in: each has its own result above
            selected = [(r, b) for r, b in selected if not r["template"].get("name_open")]
        extras += opened
        if not selected and not extras:
            if self._declares_candidates(rule):
                # The template declares the resources and the rule's own where rejects them
                # all (a budget alerting only at 95 %): decided as the live gate decides it.
                extras.extend(when_none(rule, self.snapshot, selected, extras))
            else:
                what = rule.when_none_message or f"no {rule.resource_type} matched the selection"
                extras.append(make_result(rule, None, NOT_APPLICABLE, f"{what} in the template"))
        extras.sort(key=_result_key)
        checked = [self._check(rule, resource, bindings) for resource, bindings in selected]
        if rule.names is not None:
            checked.sort(key=_result_key)
        return extras + checked

    def _open_names(self, rule: CompiledRule) -> list[Result]:
        """A resource whose name the template leaves open, for a rule selecting by name: it
        may be one the rule names (a table named by ImportValue may be the data table)."""
        if rule.names is None and rule.name_pattern is None:
            return []
        found = []
        for resource in self.snapshot.by_type.get(rule.resource_type, []):
            open_name = resource["template"].get("name_open")
            if open_name is None:
                continue
            why = open_name["reason"]
            cause = f"cannot tell whether the rule selects it: its name is open ({why})"
            result = (
                make_error(rule, self.ref(resource), [cause])
                if open_name["kind"] == "unresolvable"
                else make_result(rule, self.ref(resource), NOT_APPLICABLE, cause)
            )
            found.append(self._located(rule, resource, result))
        return found

    def _declares_candidates(self, rule: CompiledRule) -> bool:
        """Whether the template declares a resource the rule's names or pattern select."""
        return any(
            rule.name_selected(resource["name"])
            for resource in self.snapshot.by_type.get(rule.resource_type, [])
        )

    def _named_elsewhere(
        self, rule: CompiledRule, ref: Mapping[str, Any], name: str, account: str
    ) -> Result | None:
        away = self.snapshot.declared_elsewhere(rule.resource_type, account, name)
        if not away:
            return None
        hidden = [
            r["template"]["logical_id"]
            for r in self.snapshot.by_type.get(rule.resource_type, [])
            if r["template"].get("name_open")
        ]
        if hidden:  # a resource named by ImportValue may well be this one
            cause = f"{name} may be {', '.join(hidden)}, whose name the template leaves open"
            return make_error(rule, ref, [cause])
        return make_result(rule, ref, NOT_APPLICABLE, away)

    def _open_targets(
        self,
        rule: CompiledRule,
        ref: Mapping[str, Any],
        targets: Mapping[str, Sequence[Mapping[str, Any]]],
    ) -> Result | None:
        for found in targets.values():
            for target in found:
                opened = _open(rule, ref, target)
                if opened is not None:
                    return opened
        return None

    def _located(self, rule: CompiledRule, resource: Mapping[str, Any], result: Result) -> Result:
        """A result about a template's resource carries the line the rule read."""
        where = location_of(rule, resource)
        if where is not None:
            result["location"] = where
        return result

    def _check(
        self, rule: CompiledRule, resource: Mapping[str, Any], bindings: Mapping[str, Any]
    ) -> Result:
        """Values the template leaves open decide before any condition reads them."""
        opened = _open(rule, self.ref(resource), resource)
        result = opened if opened is not None else self._judge(rule, resource, bindings)
        return self._located(rule, resource, result)
