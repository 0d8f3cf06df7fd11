"""A rule's examples, taken from its own test cases: the data of a passing and a failing case.

A page's example must be true of the rule, so it is never written by hand: it is the plainest
case the rule's tests already prove, cut down to the resource that gives the status and the
resources its related lookups may need (tests/engine/test_catalog.py runs every page's examples
back through the rule).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbook_guard.engine.casetest import is_adversarial
from runbook_guard.engine.rules import CompiledRule


@dataclass(frozen=True)
class Example:
    """The data of one test case that gives ``status``: what such a resource looks like."""

    status: str
    case: str
    #: The resource that gives ``status``; empty where every resource shown gives it.
    subject: str
    parameters: dict[str, Any]
    now: str
    resources: list[dict[str, Any]]


def _bare(name: str) -> str:
    """A case's expectation key without its ``@account`` qualifier."""
    return name.split("@", 1)[0]


def _shown(
    rule: CompiledRule, case: Mapping[str, Any], status: str
) -> tuple[str, list[dict[str, Any]]] | None:
    """The resources of a case that show ``status``, and the one that gives it; None where
    the case shows no such status.

    Where the case expects one status of everything, all its resources (no single subject).
    Else the one resource expected to give it, with the resources its related lookups may
    find (not the case's other judged resources); a subject the case leaves out (a named
    resource that does not exist) is shown with the whole case, whose absence it is.
    """
    resources = [r for r in case.get("resources") or [] if isinstance(r, dict)]
    expect = case.get("expect")
    if isinstance(expect, str):
        return ("", resources) if expect == status else None
    if not isinstance(expect, dict):
        return None
    named = {str(r.get("name")) for r in resources}
    judged = sorted(
        (_bare(str(n)) not in named, _bare(str(n)))
        for n, s in expect.items()
        if s == status and not str(n).startswith("(")  # "(none in account ...)": no resource
    )
    if not judged:
        return None
    absent, chosen = judged[0]
    if absent:
        return chosen, resources
    others = {_bare(str(n)) for n in expect} - {chosen}
    return chosen, [
        r
        for r in resources
        if r.get("name") == chosen or (rule.related and r.get("name") not in others)
    ]


#: How plain an example is, smaller first: does it show only an absence (a missing named
#: resource, no resources), is it a warning standing in for a failure, is it adversarial,
#: does it carry collection errors, its size, its place among the cases.
Rank = tuple[bool, bool, bool, bool, int, int]


def _candidates(
    rule: CompiledRule, spec: Mapping[str, Any], statuses: tuple[str, ...]
) -> list[tuple[Rank, Example]]:
    found = []
    for index, case in enumerate(spec.get("tests") or []):
        for status in statuses:
            shown = _shown(rule, case, status)
            if shown is None:
                continue
            subject, resources = shown
            name = str(case["name"])
            absent = not resources or (
                bool(subject) and all(r.get("name") != subject for r in resources)
            )
            troubled = bool(case.get("errors") or case.get("incomplete"))
            size = len(json.dumps(resources, default=str))
            rank = (absent, status != statuses[0], is_adversarial(name), troubled, size, index)
            parameters = dict(case.get("parameters") or {})
            example = Example(
                status, name, subject, parameters, str(case.get("now") or ""), resources
            )
            found.append((rank, example))
    return found


def examples_of(rule: CompiledRule, spec: Mapping[str, Any]) -> list[Example]:
    """The plainest passing case, and the plainest failing one: data that fails before an
    absence that does, a warning where the rule fails only on an absence or never."""
    found = []
    for statuses in (("pass",), ("fail", "warn")):
        candidates = _candidates(rule, spec, statuses)
        if candidates:
            found.append(min(candidates, key=lambda pair: pair[0])[1])
    return found
