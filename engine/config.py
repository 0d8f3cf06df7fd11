"""The optional configuration file: a deployment's parameters, policies, waivers and scope."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import schema_problems
from runbook_guard.engine.waivers import DEFAULT_MAX_EXPIRY_DAYS
from runbook_guard.engine.yamlsafe import load_yaml

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
        policies=[base / p for p in data.get("policies", [])],
        waivers=base / data["waivers"] if data.get("waivers") else None,
        regions=list(data.get("regions", [])),
        profile=data.get("profile"),
        role_arns=list(data.get("role_arns", [])),
        fail_on=str(data.get("fail_on", "fail")),
        waiver_max_days=int(data.get("waiver_max_days", DEFAULT_MAX_EXPIRY_DAYS)),
    )


def blocking(results: list[dict[str, Any]], fail_on: str) -> int:
    """How many results block the gate at this level."""
    gate = GATES[fail_on]
    return sum(1 for result in results if result["status"] in gate)
