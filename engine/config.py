"""The optional configuration file: a deployment's parameters, policies, waivers and scope."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import schema_problems
from runbook_guard.engine.owners import Owners, owners_from
from runbook_guard.engine.packs import shipped_packs
from runbook_guard.engine.selection import Asked, Selection, at_least
from runbook_guard.engine.waivers import DEFAULT_MAX_EXPIRY_DAYS
from runbook_guard.engine.yamlsafe import Located, dotted, load_yaml

#: Statuses that block the gate for each --fail-on level. error blocks unless 'never':
#: a check that could not run must not let a deploy through (fail closed).
GATES: dict[str, frozenset[str]] = {
    "note": frozenset({"note", "warn", "fail", "error"}),
    "warn": frozenset({"warn", "fail", "error"}),
    "fail": frozenset({"fail", "error"}),
    "never": frozenset(),
}


@dataclass
class Config:
    parameters: dict[str, Any] = field(default_factory=dict)
    policies: list[Path] = field(default_factory=list)
    waivers: Path | None = None
    regions: list[str] = field(default_factory=list)
    profile: str | None = None
    role_arns: list[str] = field(default_factory=list)
    fail_on: str = "fail"
    #: How far after the evaluation a waiver may expire (engine/waivers.py; default 365 days).
    waiver_max_days: int = DEFAULT_MAX_EXPIRY_DAYS
    #: Which rules a run evaluates (``selection:``); command-line options replace a criterion.
    selection: Selection = field(default_factory=Selection)
    #: Results at or past ``fail_on`` block only from this severity up (errors at any).
    fail_severity: str | None = None
    #: Who checked the manual rules (engine/attestations.py); relative to the config file.
    attestations: Path | None = None
    #: Who owns which findings (engine/owners.py), before each rule's own ``owner``.
    owners: Owners = field(default_factory=Owners)


def load_config(path: Path | None) -> Config:
    """Read a config file; paths inside it are relative to the file itself."""
    if path is None:
        return Config()
    located = load_yaml(path)
    if not isinstance(located.data, dict):
        raise InputError([located.problem((), "a config file must be a mapping")])
    problems = schema_problems(located, "config")
    if problems:
        raise InputError(problems)
    data, base = located.data, Path(os.path.abspath(path.parent))
    return Config(
        parameters=dict(data.get("parameters", {})),
        policies=[_policy_source(base, str(p)) for p in data.get("policies", [])],
        waivers=base / data["waivers"] if data.get("waivers") else None,
        regions=list(data.get("regions", [])),
        profile=data.get("profile"),
        role_arns=list(data.get("role_arns", [])),
        fail_on=str(data.get("fail_on", "fail")),
        waiver_max_days=int(data.get("waiver_max_days", DEFAULT_MAX_EXPIRY_DAYS)),
        selection=_selection(located),
        fail_severity=data.get("fail_severity"),
        attestations=base / data["attestations"] if data.get("attestations") else None,
        owners=owners_from(located),
    )


def _selection(located: Located) -> Selection:
    """The file's ``selection:`` block, each value with its line for problem messages."""
    block = located.data.get("selection") or {}

    def asked(key: str, index: int | None = None) -> Asked:
        at = ("selection", key) if index is None else ("selection", key, index)
        value = block[key] if index is None else block[key][index]
        line, column = located.where(at)
        return Asked(str(value), located.path, line, column, dotted(at))

    def many(key: str) -> tuple[Asked, ...]:
        value = block.get(key)
        if value is None:
            return ()
        if isinstance(value, str):  # ``cadence: daily`` reads as the list of one
            return (asked(key),)
        return tuple(asked(key, index) for index in range(len(value)))

    return Selection(
        rules=many("rules"),
        exclude_rules=many("exclude_rules"),
        tags=many("tags"),
        severity=asked("severity") if block.get("severity") is not None else None,
        cadence=many("cadence"),
    )


def blocks(status: str, severity: str, fail_on: str, fail_severity: str | None = None) -> bool:
    """Whether one result blocks the gate.

    ``fail_severity`` is a floor on the rule's severity for the statuses ``fail_on`` blocks,
    except ``error``: an error is a check that could not be decided, and a floor that let an
    undecided check through would pass what nobody looked at (fail closed).
    """
    if status not in GATES[fail_on]:
        return False
    return status == "error" or fail_severity is None or at_least(severity, fail_severity)


def blocking(
    results: Sequence[Mapping[str, Any]],
    fail_on: str,
    fail_severity: str | None = None,
    severities: Mapping[str, str] | None = None,
) -> int:
    """How many results block the gate at this level (``severities``: rule id -> severity,
    needed with ``fail_severity``)."""
    if fail_severity is None:
        gate = GATES[fail_on]
        return sum(1 for result in results if result["status"] in gate)
    if severities is None:
        raise ValueError("fail_severity needs the rules' severities")
    return sum(
        1
        for result in results
        if blocks(result["status"], severities[result["rule"]], fail_on, fail_severity)
    )


def document_blocking(document: Mapping[str, Any], fail_on: str, fail_severity: str | None) -> int:
    """How many results of a results document block this gate."""
    severities = {str(rule["id"]): str(rule["severity"]) for rule in document["rules"]}
    return blocking(document["results"], fail_on, fail_severity, severities)


def _policy_source(base: Path, entry: str) -> Path:
    """A path relative to the config file, or a shipped pack's name left as it is.

    ``policies: [agenticai, team-rules/]``: the name resolves like ``-p agenticai`` unless the
    config's folder holds something of that name (a local path wins, as on the command line).
    """
    local = base / entry
    if local.exists() or entry not in shipped_packs():
        return local
    return Path(entry)
