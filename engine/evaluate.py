"""The engine: compiled rules x snapshot -> results. Pure: no I/O, no clock, no boto3.

Fail closed at every step: a type that was not collected, a listing that was incomplete, a
named resource that cannot be proven missing, data absent because a call failed: each is an
``error`` result naming the cause, never a pass.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from runbook_guard.engine.absence import listing_gaps, when_none
from runbook_guard.engine.context import NO_DATA, UNDECIDED, BlockedLookup, EvalContext
from runbook_guard.engine.params import substitute
from runbook_guard.engine.paths import MISSING
from runbook_guard.engine.phase import NOT_APPLICABLE
from runbook_guard.engine.related import RelatedFinder, RelatedSpec
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import Snapshot, blocked_lookup
from runbook_guard.engine.verdicts import Result, make_error, make_result, resource_ref

_NO_BINDINGS: dict[str, Any] = {}  # shared and never written: selection without names


def _clean(value: Any) -> Any:
    """Stable JSON for evidence: floats rounded so the same inputs give the same bytes."""
    if isinstance(value, float):
        rounded = round(value, 6)
        # 2.0 keys reads as a measurement error; whole numbers print as whole numbers.
        return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
    if value is NO_DATA:
        return "no data"
    return value


class Evaluator:
    """Evaluates rules against one snapshot at one moment."""

    def __init__(
        self,
        snapshot: Snapshot,
        now: datetime,
        tables: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.now = now
        self.tables = tables or {}
        # Per resource, computed once and shared by every rule: its reference in results and
        # which collection errors could explain holes in its data.
        self._facts: dict[int, tuple[dict[str, str], BlockedLookup]] = {}
        self.finder = RelatedFinder(
            snapshot.by_type,
            snapshot.collected_types,
            snapshot.incomplete,
            snapshot.outside_listing,
            lambda resource: self.facts(resource)[1],
            self._plain_context,
            snapshot.declared_elsewhere if snapshot.is_template else None,
        )

    def _plain_context(self, resource: Mapping[str, Any]) -> EvalContext:
        blocked = self.facts(resource)[1]
        ctx = EvalContext(resource, resource["data"], self.now, blocked, None, self.tables)
        ctx.blocked_of = self._blocked_of
        return ctx

    def _blocked_of(self, resource: Mapping[str, Any]) -> BlockedLookup:
        return self.facts(resource)[1]

    def facts(self, resource: Mapping[str, Any]) -> tuple[dict[str, str], BlockedLookup]:
        key = id(resource)
        found = self._facts.get(key)
        if found is None:
            blocked = blocked_lookup(self.snapshot.errors_for(resource))
            found = self._facts[key] = (resource_ref(resource), blocked)
        return found

    def ref(self, resource: Mapping[str, Any]) -> dict[str, str]:
        return self.facts(resource)[0]

    def rule(self, rule: CompiledRule) -> list[Result]:
        """Every result of one rule."""
        if rule.kind == "manual":
            return [
                make_result(rule, None, "manual", "needs a person's attestation: " + rule.expected)
            ]
        if rule.resource_type not in self.snapshot.collected_types:
            cause = f"{rule.resource_type} was not collected in this snapshot"
            return [make_error(rule, None, [cause])]
        gap = collection_gap(rule, self.snapshot.metadata)
        if gap:
            return [make_error(rule, None, [gap])]
        planned = self.snapshot.planned_rules
        if planned is None and self.snapshot.field_level:
            cause = (
                "the snapshot records a collection limited to what some rules read (collected "
                "keys or listing prefixes) but not which rules: it cannot judge any rule"
            )
            return [make_error(rule, None, [cause])]
        if planned is not None and planned.get(rule.id) != rule.fingerprint:
            # Only the rules a collection was planned for had their keys asked for, their
            # resources detailed and their names listed: any other could pass on absence.
            how = "other rules" if rule.id not in planned else "another version of this rule"
            cause = (
                f"the snapshot was collected for {how} (or other parameters): "
                "collect again with these rules"
            )
            return [make_error(rule, None, [cause])]
        unread = (
            [
                f"{key} of {rtype} ({rule.read_by.get((rtype, key), key)})"
                for rtype, keys in sorted(rule.reads.items())
                for key in self.snapshot.uncollected_keys(rtype, keys)
            ]
            if planned is None
            else []
        )
        if unread:
            cause = (
                "the snapshot was collected for other rules and never asked for "
                + "; ".join(unread)
                + ": collect again with these rules"
            )
            return [make_error(rule, None, [cause])]
        selected, extras = self._select(rule)
        extras.extend(listing_gaps(rule, self.snapshot))
        if not any(r["resource"] is None for r in extras):
            extras.extend(when_none(rule, self.snapshot, selected, extras))
        # Selected resources come in snapshot order (type, account, region, id); results
        # about the rule itself or about missing resources go first, sorted the same way.
        extras.sort(key=_result_key)
        checked = [self._check(rule, resource, bindings) for resource, bindings in selected]
        if rule.names is not None:
            checked.sort(key=_result_key)  # named resources come in the order of the names
        return extras + checked

    def _select(
        self, rule: CompiledRule
    ) -> tuple[list[tuple[Mapping[str, Any], dict[str, Any]]], list[Result]]:
        """The resources a rule applies to, and results for named ones that are missing."""
        chosen: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
        results: list[Result] = []
        if rule.names is not None:
            # Every account collected, and every account that could not be read (its listings
            # are recorded incomplete): a named resource of that account is undecided, not
            # silently left out.
            known = set(self.snapshot.metadata.get("accounts") or [])
            unread = self.snapshot.accounts_with_gaps(rule.resource_type)
            accounts = sorted(known | unread) or [""]
            for name, bindings in rule.names:
                found = self.snapshot.named(rule.resource_type, name)
                chosen.extend((resource, bindings) for resource in found)
                # A named resource must exist in every account collected: one account's table
                # does not stand in for another's.
                present = {resource["account"] for resource in found}
                for account in accounts:
                    if account in present or (account == "" and found):
                        continue
                    # Only this account's gaps can hide this account's resource.
                    gaps = self.snapshot.incomplete(rule.resource_type, account or None)
                    results.append(self._missing_named(rule, name, account, gaps))
        else:
            chosen = [(r, _NO_BINDINGS) for r in self.snapshot.by_type.get(rule.resource_type, [])]
        if rule.name_pattern is not None:
            chosen = [(r, b) for r, b in chosen if rule.name_pattern.search(r["name"])]
        if rule.excludes:  # collected for another rule, perhaps, but never judged by this one
            chosen = [(r, b) for r, b in chosen if not rule.name_excluded(r["name"])]
        if rule.where is None:
            return chosen, results
        kept = []
        for resource, bindings in chosen:
            ctx = self._context(rule, resource, bindings)
            verdict = rule.where(ctx)
            if verdict is UNDECIDED:
                error = make_error(rule, self.ref(resource), ctx.causes, self.snapshot, resource)
                results.append(self._located(rule, resource, error))
            elif verdict:
                kept.append((resource, bindings))
        return kept, results

    def _missing_named(
        self, rule: CompiledRule, name: str, account: str, gaps: Sequence[str]
    ) -> Result:
        ref = {
            "type": rule.resource_type,
            "id": name,
            "name": name,
            "region": "",
            "account": account,
        }
        if gaps:
            return make_error(rule, ref, [*gaps, f"cannot tell whether {name} exists"])
        elsewhere = self._named_elsewhere(rule, ref, name, account)
        if elsewhere is not None:
            return elsewhere
        outside = self.snapshot.outside_listing(rule.resource_type, account, name)
        if outside:
            return make_error(rule, ref, [outside])
        where = f" in account {account}" if account else ""
        message = f"{rule.resource_type} {name} does not exist{where}"
        return make_result(rule, ref, "fail", message, observed="missing")

    def _named_elsewhere(
        self, rule: CompiledRule, ref: Mapping[str, Any], name: str, account: str
    ) -> Result | None:
        """A named resource that another source may declare (a template's): none live."""
        return None

    def _open_targets(
        self,
        rule: CompiledRule,
        ref: Mapping[str, Any],
        targets: Mapping[str, Sequence[Mapping[str, Any]]],
    ) -> Result | None:
        """Related targets whose values the source leaves open (a template's): none live."""
        return None

    def _located(self, rule: CompiledRule, resource: Mapping[str, Any], result: Result) -> Result:
        """Where a result is written in a file the user owns: nowhere for a live resource."""
        return result

    def _check(
        self, rule: CompiledRule, resource: Mapping[str, Any], bindings: Mapping[str, Any]
    ) -> Result:
        return self._judge(rule, resource, bindings)

    def _context(
        self, rule: CompiledRule, resource: Mapping[str, Any], bindings: Mapping[str, Any]
    ) -> EvalContext:
        """The context of a (rule, resource); related resources resolved where the rule has any."""
        return self._plain_context(resource)  # select.where reads the resource alone

    def _resolve(
        self,
        rule: CompiledRule,
        resource: Mapping[str, Any],
        bindings: Mapping[str, Any],
        ctx: EvalContext,
    ) -> Any:
        def name_of(spec: RelatedSpec) -> str:
            return str(substitute(spec.name or "", {**rule.parameters, **bindings}))

        return self.finder.resolve(rule.related, resource, ctx, name_of)

    def _undecided(
        self,
        rule: CompiledRule,
        ref: Mapping[str, Any],
        ctx: EvalContext,
        resource: Mapping[str, Any],
    ) -> Result:
        """An error result that still shows what could be read (evidence helps the fix)."""
        result = make_error(rule, ref, ctx.causes, self.snapshot, resource)
        _gather_evidence(rule, ctx)
        result["evidence"] = {key: _clean(value) for key, value in ctx.evidence.items()}
        return result

    def _judge(
        self, rule: CompiledRule, resource: Mapping[str, Any], bindings: Mapping[str, Any]
    ) -> Result:
        facts = self._facts.get(id(resource))
        ref, blocked = facts if facts is not None else self.facts(resource)
        if rule.related:
            ctx = self._plain_context(resource)
            resolution = self._resolve(rule, resource, bindings, ctx)
            opened = self._open_targets(rule, ref, resolution.targets)
            if opened is not None:
                return opened
            if resolution.causes:
                return make_error(rule, ref, resolution.causes, self.snapshot, resource)
            ctx.related = resolution.targets
            if resolution.missing:
                # Listed completely and not there: a finding whatever the conditions say (a
                # `not` around the comparison must not turn a missing DLQ into a pass).
                # The worst of the missing aliases decides, whatever order they were declared in.
                status, message = max(
                    ((rule.related[alias].when_missing or "fail", words)
                     for alias, words in resolution.missing),
                    key=lambda pair: _SEVERITY.index(pair[0]),
                )  # fmt: skip
                return self._finish(rule, ref, ctx, status, message)
            if resolution.elsewhere:
                # A target another stack declares: only the live gate can compare with it. A
                # missing one above (no redrive policy at all) is a finding whatever it is.
                return make_result(rule, ref, NOT_APPLICABLE, "; ".join(resolution.elsewhere))
        else:
            ctx = EvalContext(resource, resource["data"], self.now, blocked, None, self.tables)
        # expect unmet is a fail; warn_unless (checked only once expect holds) unmet a warn.
        for condition, unmet in rule.conditions:
            verdict = condition(ctx)
            if verdict is UNDECIDED:
                return self._undecided(rule, ref, ctx, resource)
            if not verdict:
                return self._finish(rule, ref, ctx, unmet, "; ".join(ctx.failures))
        if rule.value is not None:
            return self._levels(rule, ref, ctx, resource)
        return self._finish(rule, ref, ctx, "pass", "as expected")

    def _levels(
        self,
        rule: CompiledRule,
        ref: Mapping[str, Any],
        ctx: EvalContext,
        resource: Mapping[str, Any],
    ) -> Result:
        assert rule.value is not None
        value = rule.value(ctx)
        if value is UNDECIDED:
            return self._undecided(rule, ref, ctx, resource)
        if value is NO_DATA:
            message = "no data: " + ("; ".join(ctx.causes) or "no datapoints in the window")
            return self._finish(rule, ref, ctx, rule.no_data, message, observed="no data")
        number = finite_number(value)
        if number is None:  # NaN meets no threshold and a boolean is no count: never a pass
            causes = [f"value {value!r} is not a number"]
            return make_error(rule, ref, causes, self.snapshot, resource)
        status = rule.levels.classify(number) if rule.levels is not None else "pass"
        observed = _clean(number)
        custom = rule.custom_level_messages.get(status)
        if custom is None:
            message = rule.level_messages[status].format(_display(number))
        else:  # plain replacement: a rule's text is data, never a format string
            message = (
                custom.replace("{value}", _display(number))
                .replace("{abs}", _display(abs(number)))
                .replace("{unit}", rule.unit)
            )
        return self._finish(rule, ref, ctx, status, message, observed=observed)

    def _finish(
        self,
        rule: CompiledRule,
        ref: Mapping[str, Any],
        ctx: EvalContext,
        status: str,
        message: str,
        observed: Any = None,
    ) -> Result:
        evidence = ctx.evidence
        _gather_evidence(rule, ctx)
        for key, value in evidence.items():
            if type(value) is float:
                evidence[key] = _clean(value)
        if observed is None and evidence:
            observed = next(iter(evidence.values())) if len(evidence) == 1 else evidence
        return make_result(rule, ref, status, message, observed, evidence)


def _gather_evidence(rule: CompiledRule, ctx: EvalContext) -> None:
    """The rule's extra evidence: paths read from the data, values computed (no data shown)."""
    for label, get, is_value in rule.evidence:
        if is_value:
            causes = len(ctx.causes)
            found = get(ctx)
            del ctx.causes[causes:]  # evidence never decides a result
            if isinstance(found, dict):
                found = {key: _clean(value) for key, value in found.items()}
            ctx.evidence[label] = None if found is UNDECIDED else _clean(found)
        else:
            found = get(ctx.data)
            ctx.evidence[label] = None if found is MISSING else found


def collection_gap(rule: CompiledRule, metadata: Mapping[str, Any]) -> str | None:
    """Why the snapshot cannot answer this rule's collection options, if it cannot.

    A rule asking for a 2160-hour CloudTrail window must not pass on a snapshot that looked
    back 168 hours; nor on event names nobody looked up. Numbers must be covered by the
    widest value collected, anything else must have been collected as such.
    """
    if not rule.collect:
        return None
    recorded = (metadata.get("options") or {}).get(rule.resource_type)
    if recorded is None:
        return (
            f"the snapshot does not record the options {rule.resource_type} was collected "
            f"with; collect again with these rules"
        )
    for key, wanted in sorted(rule.collect.items()):
        needed = wanted if isinstance(wanted, list) else [wanted]
        have = recorded.get(key)
        if have is None:
            return f"{rule.resource_type} was collected without '{key}' (this rule needs {wanted})"
        if all(_is_number(v) for v in [*needed, *have]) and needed and have:
            if max(needed) > max(have):
                return (
                    f"{rule.resource_type} was collected with {key} {max(have)}; "
                    f"this rule needs {max(needed)}"
                )
            continue
        missing = [item for item in needed if item not in have]
        if missing:
            return f"{rule.resource_type} was collected without {key} {missing}"
    return None


_SEVERITY = ("pass", "note", "warn", "fail", "error")


def finite_number(value: Any) -> float | None:
    """A finite number from a number or numeric text; None for booleans, NaN, infinity, text."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _display(number: float) -> str:
    """A value for people: at most two decimals (the exact value is in ``observed``)."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def evaluate_rules(
    rules: Sequence[CompiledRule],
    snapshot: Snapshot,
    now: datetime,
    tables: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Result]:
    """All results, sorted by rule, then resource, independent of input order."""
    # A template is judged by the same engine, with what it cannot say made explicit.
    from runbook_guard.engine.template_eval import TemplateEvaluator

    evaluator = (TemplateEvaluator if snapshot.is_template else Evaluator)(snapshot, now, tables)
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of small dicts, none of them cyclic garbage
    try:
        results = [
            result for rule in sorted(rules, key=lambda r: r.id) for result in evaluator.rule(rule)
        ]
    finally:
        if collecting:
            gc.enable()
    return results


def _result_key(result: Result) -> tuple[str, str, str, str, str]:
    ref = result["resource"] or {}
    return (
        result["rule"],
        ref.get("type", ""),
        ref.get("account", ""),
        ref.get("region", ""),
        ref.get("id", ""),
    )
