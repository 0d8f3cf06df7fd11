"""Which rules a run evaluates: ``--rule``/``--exclude-rule`` globs, ``--tag``, ``--severity``
(a minimum) and ``--cadence``, from the command line or the config file's ``selection:``.

One module because the same choice is made in two places that must agree: on compiled rules
before collection (so the collection plan and the IAM policy shrink to what the selected rules
read) and on a results document's rules when ``report`` re-renders it. Both refuse the same
mistakes, because each would otherwise gate on less than was asked, silently: a rule pattern
or a tag that names no rule is a typo, not an empty wish; a selection that keeps no rule is not
a run. What was asked is recorded in the results (``record``) and every report shows it
(``describe``), so nobody reads a partial run as a whole one.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from fnmatch import fnmatchcase
from typing import Any

from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.policy_schema import CADENCES, SEVERITIES
from runbook_guard.engine.suggest import did_you_mean

COMMAND_LINE = "<command line>"
#: The record's criteria, in the order ``describe`` prints them, with their option names.
OPTIONS = {
    "rules": "--rule",
    "exclude_rules": "--exclude-rule",
    "tags": "--tag",
    "severity": "--severity",
    "cadence": "--cadence",
}


def at_least(severity: str, floor: str) -> bool:
    """Whether ``severity`` is ``floor`` or worse (info < low < medium < high < critical)."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(floor)


def severity_problem(value: str, option: str) -> str | None:
    """The problem with a severity given as a command-line option, or None when it is one."""
    if value in SEVERITIES:
        return None
    return Asked(value, field=option).problem(_not_a_severity(value))


def _not_a_severity(value: str) -> str:
    return f"{value!r} is not a severity: use one of {_choices()}"


def _choices() -> str:
    return ", ".join(reversed(SEVERITIES))


@dataclass(frozen=True)
class Asked:
    """One value of a criterion and where it was written, to name it in a problem line."""

    value: str
    path: str = COMMAND_LINE
    line: int | None = None
    column: int | None = None
    field: str = ""

    def problem(self, message: str) -> str:
        return problem(self.path, self.line, self.column, self.field, message)


@dataclass(frozen=True)
class Candidate:
    """What selection reads of a rule (a compiled rule, or a rule of a results document)."""

    id: str
    tags: tuple[str, ...]
    severity: str
    cadence: str
    replaces: tuple[str, ...] = ()

    @staticmethod
    def of_metadata(raw: Mapping[str, Any]) -> Candidate:
        return Candidate(
            id=str(raw["id"]),
            tags=tuple(raw.get("tags", ())),
            severity=str(raw["severity"]),
            cadence=str(raw["cadence"]),
            replaces=tuple(raw.get("replaces", ())),
        )


@dataclass(frozen=True)
class Selection:
    """The criteria; an empty one selects every rule. A rule is selected when its id matches
    some ``rules`` glob (if any), none of ``exclude_rules``, it has one of ``tags`` (if any),
    its severity is ``severity`` or worse (if given) and its cadence is one of ``cadence``."""

    rules: tuple[Asked, ...] = ()
    exclude_rules: tuple[Asked, ...] = ()
    tags: tuple[Asked, ...] = ()
    severity: Asked | None = None
    cadence: tuple[Asked, ...] = ()

    @staticmethod
    def from_options(
        rules: Iterable[str] = (),
        exclude_rules: Iterable[str] = (),
        tags: Iterable[str] = (),
        severity: str | None = None,
        cadence: Iterable[str] = (),
    ) -> Selection:
        def asked(values: Iterable[str], option: str) -> tuple[Asked, ...]:
            return tuple(Asked(value, field=option) for value in values)

        return Selection(
            rules=asked(rules, OPTIONS["rules"]),
            exclude_rules=asked(exclude_rules, OPTIONS["exclude_rules"]),
            tags=asked(tags, OPTIONS["tags"]),
            severity=Asked(severity, field=OPTIONS["severity"]) if severity is not None else None,
            cadence=asked(cadence, OPTIONS["cadence"]),
        )

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def over(self, base: Selection) -> Selection:
        """This selection (the command line) over ``base`` (the config file), criterion by
        criterion: an option given replaces that criterion of the file, the others stay."""
        given = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        return replace(base, **given)

    def value_problems(self) -> list[str]:
        """Values no rule could ever have: a severity or cadence that does not exist, a blank."""
        problems = []
        if self.severity is not None and self.severity.value not in SEVERITIES:
            problems.append(self.severity.problem(_not_a_severity(self.severity.value)))
        for asked in self.cadence:
            if asked.value not in CADENCES:
                problems.append(
                    asked.problem(
                        f"{asked.value!r} is not a cadence: use one of {', '.join(CADENCES)}"
                    )
                )
        for asked in (*self.rules, *self.exclude_rules, *self.tags):
            if not asked.value.strip():
                problems.append(asked.problem("is blank"))
        return problems

    def admits(self, rule: Candidate) -> bool:
        if self.rules and not any(fnmatchcase(rule.id, a.value) for a in self.rules):
            return False
        if any(fnmatchcase(rule.id, a.value) for a in self.exclude_rules):
            return False
        if self.tags and not {a.value for a in self.tags} & set(rule.tags):
            return False
        if self.severity is not None and not at_least(rule.severity, self.severity.value):
            return False
        return not self.cadence or rule.cadence in {a.value for a in self.cadence}

    def choose(self, candidates: Sequence[Candidate], what: str = "loaded rule") -> list[str]:
        """The ids of the selected candidates, in their order; ``InputError`` when a criterion
        names nothing or nothing is left."""
        problems = self.value_problems()
        if not problems:
            problems = self._unmatched(candidates, what)
        if problems:
            raise InputError(problems)
        chosen = [c.id for c in candidates if self.admits(c)]
        if not chosen and self.active:
            where = {a.path for a in self._all()}
            source = where.pop() if len(where) == 1 else COMMAND_LINE
            message = (
                f"the selection {describe(self.criteria())} matches no {what} "
                f"(of {len(candidates)}); nothing would be checked"
            )
            raise InputError([problem(source, None, None, "selection", message)])
        return chosen

    def _all(self) -> list[Asked]:
        severity = [self.severity] if self.severity is not None else []
        return [*self.rules, *self.exclude_rules, *self.tags, *severity, *self.cadence]

    def _unmatched(self, candidates: Sequence[Candidate], what: str) -> list[str]:
        ids = [c.id for c in candidates]
        problems = []
        for asked in (*self.rules, *self.exclude_rules):
            if any(fnmatchcase(rule_id, asked.value) for rule_id in ids):
                continue
            hint = _hint(asked.value, candidates)
            problems.append(asked.problem(f"{asked.value!r} matches no {what}{hint}"))
        known_tags = sorted({tag for c in candidates for tag in c.tags})
        for asked in self.tags:
            if asked.value not in known_tags:
                hint = did_you_mean(asked.value, known_tags)
                problems.append(asked.problem(f"no {what} has the tag {asked.value!r}{hint}"))
        return problems

    def criteria(self) -> dict[str, Any]:
        """What was asked, as the results record it (values only, in the order given)."""
        return {
            "rules": [a.value for a in self.rules],
            "exclude_rules": [a.value for a in self.exclude_rules],
            "tags": [a.value for a in self.tags],
            "severity": self.severity.value if self.severity is not None else None,
            "cadence": [a.value for a in self.cadence],
        }

    def record(
        self,
        chosen: Sequence[str],
        candidates: Iterable[str],
        within: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The results' ``selection``: what was asked, how many rules it kept, which it did
        not (their results are absent, never passes), and the earlier selection it narrowed."""
        kept = set(chosen)
        earlier = list(within.get("not_selected", [])) if within else []
        record: dict[str, Any] = {
            **self.criteria(),
            "selected": len(kept),
            "not_selected": sorted({*earlier, *(c for c in candidates if c not in kept)}),
        }
        if within is not None and is_active(within):
            record["within"] = dict(within)
        return record


def _hint(pattern: str, candidates: Sequence[Candidate]) -> str:
    """Why a pattern matches nothing: a rule's former id (``replaces``), or a near miss."""
    renamed = sorted(c.id for c in candidates if any(fnmatchcase(o, pattern) for o in c.replaces))
    if renamed:
        return f" (renamed: now {', '.join(renamed)})"
    return did_you_mean(pattern, [c.id for c in candidates])


def is_active(record: Mapping[str, Any] | None) -> bool:
    """Whether a recorded selection (or criteria) narrowed the rules at all."""
    if not record:
        return False
    return bool(record.get("within")) or any(record.get(key) for key in OPTIONS)


def describe(record: Mapping[str, Any] | None) -> str:
    """The selection as the options that would ask for it: ``--tag security --severity high``
    (an earlier selection it narrowed first, then ``then``); empty when it selected all."""
    if not is_active(record):
        return ""
    assert record is not None
    words = []
    for key, option in OPTIONS.items():
        value = record.get(key)
        for item in [value] if isinstance(value, str) else value or []:
            words.append(f"{option} {shlex.quote(str(item))}")
    text = " ".join(words) or "(all rules)"
    within = record.get("within")
    return f"{describe(within)}, then {text}" if is_active(within) else text


def inactive_record(rule_ids: Iterable[str]) -> dict[str, Any]:
    """The record of a run that evaluated every loaded rule."""
    return Selection().record(list(rule_ids), [])
