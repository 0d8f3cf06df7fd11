"""Checks of a policy set beyond its schema: ids, parameters, runbook forms, types, paths.

Each check returns positioned problems and never stops at the first, so ``validate`` shows a
pack's every mistake in one run. The checks against what the collectors produce (resource
types, the keys each type's calls fill) take those facts as data: the engine stays pure, and
``validate`` hands it the collectors' registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.params import references
from runbook_guard.engine.policy_schema import ID_PATTERN, RUNBOOK_ID_PATTERN
from runbook_guard.engine.reads import ALL, rule_reads
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.suggest import did_you_mean
from runbook_guard.engine.yamlsafe import JsonPath, Located

if TYPE_CHECKING:
    from runbook_guard.engine.loader import ParameterDecl, PolicySet, RuleEntry

#: Per resource type the collectors produce, the top-level data keys its calls fill (``None``:
#: the type declares none, so its paths cannot be checked).
TypeFacts = Mapping[str, frozenset[str] | None]
_RULE_ID = re.compile(ID_PATTERN)
_RUNBOOK_ID = re.compile(RUNBOOK_ID_PATTERN)
_TYPES_DOC = "see docs/resource-types.md"


def rule_problems(
    entries: Sequence[RuleEntry], parameters: Mapping[str, ParameterDecl], broken: set[str]
) -> tuple[list[str], set[int]]:
    """Duplicate ids, blank titles, unknown parameters, replaced ids and runbook forms.

    Also returns the ``id()`` of entries that cannot be compiled (they name a parameter no one
    declares, or one whose declaration is itself refused).
    """
    problems: list[str] = []
    skipped: set[int] = set()
    seen: dict[str, str] = {}
    for entry in entries:
        rule_id = entry.spec["id"]
        at = ("rules", entry.index, "id")
        if rule_id in seen:
            message = f"duplicate rule id {rule_id!r} (first at {seen[rule_id]})"
            problems.append(entry.located.problem(at, message))
        else:
            seen[rule_id] = f"{entry.located.path}:{entry.source.line}"
        if isinstance(entry.spec.get("title"), str) and not entry.spec["title"].strip():
            # Every report names a rule by its title; GitHub refuses a SARIF rule without one.
            message = "title is blank: say in one line what must hold"
            problems.append(entry.located.problem(("rules", entry.index, "title"), message))
        body = {k: v for k, v in entry.spec.items() if k != "tests"}
        for where, name in references(body):
            if name in broken:
                skipped.add(id(entry))
            elif name not in parameters:
                skipped.add(id(entry))
                known = ", ".join(sorted(parameters)) or "none"
                hint = did_you_mean(name, parameters)
                message = f"unknown parameter '${{{name}}}'{hint} (declared: {known})"
                problems.append(entry.located.problem(("rules", entry.index, *where), message))
        if entry.inventory:
            problems.extend(_runbook_forms(entry))
    return problems + _replaces_problems(entries, set(seen)), skipped


def _runbook_forms(entry: RuleEntry) -> Iterator[str]:
    """A pack with an expectation inventory names its rules and their expectations its way.

    Its coverage is computed from ``covers``, so a rule covering nothing, or an ID that is not
    the inventory's form, would make coverage silently wrong.
    """
    at: JsonPath = ("rules", entry.index)
    why = "this pack has an expectation inventory (EXPECTATIONS.md)"
    if not _RULE_ID.match(entry.spec["id"]):
        message = f"{entry.spec['id']!r}: {why}, whose rule ids are lower-case and dotted"
        yield entry.located.problem((*at, "id"), f"{message} ({ID_PATTERN})")
    covers = entry.spec.get("covers", [])
    if not isinstance(covers, list):
        return  # not a list at all: the schema says so
    if not covers:
        message = f"{why}: say which expectations the rule encodes, e.g. covers: [RB-B01]"
        yield entry.located.problem((*at, "id"), message)
    for index, rb_id in enumerate(covers):
        if isinstance(rb_id, str) and not _RUNBOOK_ID.match(rb_id):
            message = f"{rb_id!r} is not an expectation ID of the inventory (RB-<letter><2 digits>)"
            yield entry.located.problem((*at, "covers", index), message)


def _replaces_problems(entries: Sequence[RuleEntry], loaded: set[str]) -> list[str]:
    """An old id follows one rule only, and never a rule still loaded under that id.

    Waivers, history and fingerprints written for the old id move to the new rule: naming a
    live rule would take its waivers away, naming one old id twice would give them to both.
    """
    problems: list[str] = []
    claimed: dict[str, str] = {}
    for entry in entries:
        replaces = entry.spec.get("replaces")
        for index, old in enumerate(replaces if isinstance(replaces, list) else []):
            at = ("rules", entry.index, "replaces", index)
            if old in loaded:
                message = f"{old!r} is a loaded rule; replaces names ids no rule has any more"
                problems.append(entry.located.problem(at, message))
            elif old in claimed:
                message = f"{old!r} is already replaced by {claimed[old]!r}"
                problems.append(entry.located.problem(at, message))
            else:
                claimed[old] = entry.spec["id"]
    return problems


def parameter_problems(policy_set: PolicySet) -> list[str]:
    """Defaults that build on other parameters must name declared ones, without a cycle."""
    problems = []
    for name, decl in sorted(policy_set.parameters.items()):
        if decl.located is None:
            continue
        declared = policy_set.parameters
        for ref in sorted({ref for _, ref in references(decl.default)} - set(declared)):
            at = ("parameters", name, "default")
            message = f"unknown parameter '${{{ref}}}'{did_you_mean(ref, declared)}"
            problems.append(decl.located.problem(at, message))
    if problems:
        return problems
    try:
        policy_set.effective_parameters({})
    except InputError as error:
        first = next(iter(policy_set.parameters.values()))
        if first.located is None:
            return error.problems
        return [first.located.problem(("parameters",), p) for p in error.problems]
    return []


def type_problems(rule_specs: Sequence[tuple[Located, int, Any]], facts: TypeFacts) -> list[str]:
    """Every resource type a rule names (its own, its related ones) that nothing collects.

    A typo such as ``aws.sqs.queues`` would otherwise load, pass its tests and, at run time,
    read as "not collected": refused here with the nearest type the collectors know.
    """
    problems = []
    for located, index, spec in rule_specs:
        if not isinstance(spec, dict):
            continue
        named: list[tuple[JsonPath, Any]] = [(("rules", index, "resource"), spec.get("resource"))]
        related = spec.get("related")
        for alias, target in related.items() if isinstance(related, dict) else []:
            if isinstance(target, dict):
                named.append((("rules", index, "related", alias, "type"), target.get("type")))
        for at, resource_type in named:
            if isinstance(resource_type, str) and resource_type not in facts:
                hint = did_you_mean(resource_type, facts)
                message = f"unknown resource type {resource_type!r}{hint} ({_TYPES_DOC})"
                problems.append(located.problem(at, message))
    return problems


def unfilled_problems(
    entries: Sequence[RuleEntry],
    rules: Sequence[CompiledRule],
    facts: TypeFacts,
    sound: Sequence[RuleEntry] = (),
) -> list[str]:
    """One problem per (rule, type, key) read that no collection call of the type fills.

    Such a rule would be collected without the key and be ``error`` on every run: a typo in a
    path, or a field of another type. Positioned at the path that reads it, with the nearest
    key the type's calls fill. A compiled rule's reads are used (its parameters filled in); a
    schema-valid rule that did not compile is read from its text, so its path typos come out
    in the same run as its compile problems.
    """
    compiled = {(rule.source.file, rule.source.line): rule for rule in rules}
    readable = {id(entry) for entry in sound}
    problems = []
    for entry in entries:
        rule = compiled.get((entry.located.path, entry.source.line))
        if rule is not None:
            reads, read_by = rule.reads, rule.read_by
        elif id(entry) in readable and isinstance(entry.spec.get("resource"), str):
            found = rule_reads(entry.spec, entry.spec["resource"], entry.spec.get("related") or {})
            reads, read_by = dict(found.keys), found.where
        else:
            continue
        for resource_type, keys in sorted(reads.items()):
            declared = facts.get(resource_type)
            if not declared:  # an unknown type is refused above; none declared: unchecked
                continue
            for key in sorted(keys - declared - {ALL}):
                if "${" in key:  # a parameter not filled in: nothing to check
                    continue
                path = read_by.get((resource_type, key), key)
                at = ("rules", entry.index, *_where_written(entry.spec, path))
                hint = did_you_mean(key, declared)
                message = (
                    f"{entry.spec['id']}: {path!r} reads '{key}' of {resource_type}, which no "
                    f"collection call fills{hint} ({_TYPES_DOC})"
                )
                problems.append(entry.located.problem(at, message))
    return problems


def _where_written(spec: Mapping[str, Any], path: str) -> JsonPath:
    """Where in the rule a path is written (as itself, ``data.PATH`` or ``{each:PATH}``)."""
    spellings = {path, f"data.{path}", f"{{each:{path}}}"}

    def search(node: Any, at: JsonPath) -> JsonPath | None:
        if isinstance(node, str):
            return at if node in spellings else None
        if isinstance(node, dict):
            items: list[tuple[str | int, Any]] = [
                (k, v) for k, v in node.items() if k not in ("tests", "remediation")
            ]
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            return None
        for key, child in items:
            found = search(child, (*at, key))
            if found is not None:
                return found
        return None

    return search(spec, ()) or ("id",)
