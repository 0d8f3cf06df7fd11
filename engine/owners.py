"""Owners: who is to act on each finding, so a report can be split by team.

A finding nobody owns is read by everybody and fixed by nobody. A result's owner is, in order:

1. the first entry of the config file's ``owners:`` that matches it. An entry names an
   ``owner`` and any of ``rules`` (globs on the rule id, or an id it replaces), ``tags`` (the
   rule's tags, as ``--tag`` selects), ``resources`` (globs on the resource's name or id) and
   ``accounts`` (account ids). Every criterion given must hold, and any value of a list may;
   ``resources`` and ``accounts`` never match a result about no resource;
2. else the rule's own ``owner`` field;
3. else none: the result carries no ``owner``.

The config comes first because the team running the tool knows its organisation better than
the pack's author. An entry must give at least one criterion (the schema says so): an entry
matching everything would silently override every rule's own owner. A rule glob or tag that
matches no loaded rule is refused with its position, as a selection's is: a typo would
otherwise leave findings unowned without a word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.selection import Asked
from runbook_guard.engine.suggest import did_you_mean
from runbook_guard.engine.yamlsafe import Located, dotted

CRITERIA = ("rules", "tags", "resources", "accounts")


@dataclass(frozen=True)
class OwnerEntry:
    """One ``owners:`` entry: an owner and the criteria that all must hold."""

    owner: str
    rules: tuple[Asked, ...] = ()
    tags: tuple[Asked, ...] = ()
    resources: tuple[Asked, ...] = ()
    accounts: tuple[Asked, ...] = ()

    def matches(self, rule: CompiledRule, resource: Mapping[str, Any] | None) -> bool:
        ids = (rule.id, *rule.replaces)
        if self.rules and not any(fnmatchcase(i, a.value) for i in ids for a in self.rules):
            return False
        if self.tags and not {a.value for a in self.tags} & set(rule.tags):
            return False
        if self.resources:
            names = [str(resource[k]) for k in ("name", "id") if resource and resource.get(k)]
            if not any(fnmatchcase(n, a.value) for n in names for a in self.resources):
                return False
        if self.accounts:
            account = str((resource or {}).get("account") or "")
            if not account or account not in {a.value for a in self.accounts}:
                return False
        return True


@dataclass(frozen=True)
class Owners:
    """The config's entries, in order (first match wins)."""

    entries: tuple[OwnerEntry, ...] = ()

    def owner_of(self, rule: CompiledRule, resource: Mapping[str, Any] | None) -> str | None:
        for entry in self.entries:
            if entry.matches(rule, resource):
                return entry.owner
        return rule_owner(rule)

    def check_against_rules(self, rules: Sequence[CompiledRule]) -> None:
        """Refuse a rule glob or tag that names no loaded rule (with its position)."""
        ids = [i for rule in rules for i in (rule.id, *rule.replaces)]
        known_tags = sorted({tag for rule in rules for tag in rule.tags})
        problems = []
        for entry in self.entries:
            for asked in entry.rules:
                if not any(fnmatchcase(i, asked.value) for i in ids):
                    hint = did_you_mean(asked.value, ids)
                    problems.append(asked.problem(f"{asked.value!r} matches no loaded rule{hint}"))
            for asked in entry.tags:
                if asked.value not in known_tags:
                    hint = did_you_mean(asked.value, known_tags)
                    message = f"no loaded rule has the tag {asked.value!r}{hint}"
                    problems.append(asked.problem(message))
        if problems:
            raise InputError(problems)


def rule_owner(rule: CompiledRule) -> str | None:
    """The rule's own ``owner`` field, when it has one."""
    return rule.owner.strip() or None


def owners_from(located: Located) -> Owners:
    """The ``owners:`` block of a schema-valid config document, each value with its position."""
    block = located.data.get("owners") or []

    def asked(index: int, key: str) -> tuple[Asked, ...]:
        values = block[index].get(key) or []
        found = []
        for position, value in enumerate(values):
            at = ("owners", index, key, position)
            line, column = located.where(at)
            found.append(Asked(str(value), located.path, line, column, dotted(at)))
        return tuple(found)

    entries, problems = [], []
    for index, entry in enumerate(block):
        criteria = {key: asked(index, key) for key in CRITERIA}
        if not any(criteria.values()):
            problems.append(
                located.problem(
                    ("owners", index),
                    f"give at least one of {', '.join(CRITERIA)}: an entry matching every "
                    "result would override every rule's own owner",
                )
            )
        entries.append(OwnerEntry(str(entry["owner"]), **criteria))
    if problems:
        raise InputError(problems)
    return Owners(tuple(entries))


def assign_owners(
    results: Iterable[dict[str, Any]], rules: Sequence[CompiledRule], owners: Owners
) -> None:
    """Set ``owner`` on every result that has one (none: the key stays absent)."""
    by_id = {rule.id: rule for rule in rules}
    for result in results:
        rule = by_id.get(result["rule"])
        if rule is None:
            continue
        owner = owners.owner_of(rule, result.get("resource"))
        if owner is not None:
            result["owner"] = owner
