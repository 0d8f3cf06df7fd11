"""Policy files in, a validated PolicySet out, or every problem at once with its position.

Loading reports all problems of all files in one go (like a compiler), so that fixing a
pack is one edit-run cycle, not one per mistake: a schema problem inside one rule keeps that
rule (not its file) out of compilation, every other rule is compiled and its problems
reported too, and given the collectors' facts (``validate`` gives them) unknown resource
types and paths no collection call fills come out in the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from runbook_guard.engine.access import CompileError, each_error
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.overrides import effective
from runbook_guard.engine.packs import (
    DATA_FOLDER,
    POLICY_SUFFIXES,
    Source,
    builtin_policies,
    default_sources,
    discover,
    has_inventory,
)
from runbook_guard.engine.policy_checks import (
    TypeFacts,
    parameter_problems,
    rule_problems,
    type_problems,
    unfilled_problems,
)
from runbook_guard.engine.policy_schema import RESOURCE_TYPE_PATTERN
from runbook_guard.engine.rules import CompiledRule, RuleSource, compile_rule
from runbook_guard.engine.schema_errors import schema_findings
from runbook_guard.engine.yamlsafe import JsonPath, Located, load_yaml

__all__ = [
    "DATA_FOLDER", "POLICY_SUFFIXES", "Checked", "PolicySet", "builtin_policies",
    "check_policy_set", "display_name", "load_policy_set", "load_schema", "schema_problems",
]  # fmt: skip

#: The sections of a policy file whose entries are absorbed one by one.
_SECTIONS = ("parameters", "data")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped in the package (``schemas/NAME.schema.json``)."""
    text = resources.files("runbook_guard.schemas").joinpath(f"{name}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_problems(located: Located, schema_name: str) -> list[str]:
    """Every schema violation of a located document, as positioned one-line problems."""
    findings = schema_findings(located.data, load_schema(schema_name))
    return [located.problem(at, message) for at, message in findings]


@dataclass
class ParameterDecl:
    default: Any
    description: str
    declared_in: str
    located: Located | None = None


@dataclass
class RuleEntry:
    spec: dict[str, Any]
    located: Located
    index: int
    source: RuleSource
    pack: str
    #: The rule's pack ships an expectation inventory: its ids take the runbook's forms.
    inventory: bool = False


@dataclass
class PolicySet:
    """Validated policy files: rules, parameters, reference data, and their digest."""

    files: list[str] = field(default_factory=list)
    #: The folders the policy files came from, in order (where a pack's inventory lives).
    folders: list[Path] = field(default_factory=list)
    packs: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, ParameterDecl] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: list[RuleEntry] = field(default_factory=list)
    digest: str = ""

    def defaults(self) -> dict[str, Any]:
        return {name: decl.default for name, decl in sorted(self.parameters.items())}

    def effective_parameters(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overridden by config and command line; an unknown name is refused."""
        return effective(self.defaults(), overrides)

    def compile(self, overrides: Mapping[str, Any] | None = None) -> list[CompiledRule]:
        """Every rule compiled with the effective parameters, sorted by id."""
        parameters = self.effective_parameters(overrides or {})
        compiled, problems = _compile(self, self.entries, parameters)
        if problems:
            raise InputError(problems)
        return compiled


def _compile(
    policy_set: PolicySet, entries: Sequence[RuleEntry], parameters: Mapping[str, Any]
) -> tuple[list[CompiledRule], list[str]]:
    """The rules that compile, sorted by id, and every problem of those that do not."""
    compiled: list[CompiledRule] = []
    problems: list[str] = []
    for entry in entries:
        try:
            compiled.append(
                compile_rule(entry.spec, parameters, policy_set.tables, entry.source, entry.pack)
            )
        except CompileError as error:
            problems.extend(
                entry.located.problem(("rules", entry.index, *single.at), str(single))
                for single in each_error(error)
            )
    return sorted(compiled, key=lambda rule: rule.id), problems


def display_name(path: Path) -> str:
    """How a policy file is named in errors and reports: stable, repo-relative where possible.

    Shipped packs are named ``policies/<pack>/<file>`` wherever they are installed, so SARIF
    locations and fingerprints do not change between a checkout and a site-packages install.
    """
    resolved = Path(os.path.abspath(path))
    shipped = Path(os.path.abspath(builtin_policies()))
    for root, prefix in ((shipped, "policies"), (Path.cwd(), "")):
        try:
            relative = resolved.relative_to(root).as_posix()
        except ValueError:
            continue
        return f"{prefix}/{relative}" if prefix else relative
    return path.as_posix()


@dataclass
class Checked:
    """What loading found: the set, the rules that compiled, and every problem."""

    policy_set: PolicySet
    rules: list[CompiledRule]
    problems: list[str]


def load_policy_set(paths: Sequence[Path] | None = None) -> PolicySet:
    """Load and validate policy files (default: the shipped packs); raise all problems."""
    checked = check_policy_set(paths)
    if checked.problems:
        raise InputError(checked.problems)
    return checked.policy_set


def check_policy_set(
    paths: Sequence[Path] | None = None,
    overrides: Mapping[str, Any] | None = None,
    facts: TypeFacts | None = None,
) -> Checked:
    """Go as far as every file and rule allows and collect every problem on the way.

    ``paths`` are files, folders or shipped pack names (default: the shipped packs);
    ``overrides`` are the parameter values to compile with; ``facts`` are the collectors'
    resource types and the keys each fills, to refuse types and paths nothing collects.
    """
    sources, problems = discover(list(paths) if paths else default_sources())
    reader = _Reader(facts is not None)
    for source in sources:
        problems.extend(reader.read(source))
    policy_set = reader.policy_set
    found, skipped = rule_problems(reader.every, policy_set.parameters, reader.broken)
    problems.extend(found)
    defaults = parameter_problems(policy_set)
    problems.extend(defaults)
    if facts is not None:
        problems.extend(type_problems(reader.rule_specs, facts))
    rules: list[CompiledRule] = []
    rules_checked: list[CompiledRule] = []
    if not defaults:
        try:
            parameters = policy_set.effective_parameters(overrides or {})
        except InputError as error:  # an unknown --param: still compile with the defaults
            problems.extend(error.problems)
            parameters = policy_set.effective_parameters({})
        entries = [e for e in policy_set.entries if id(e) not in skipped]
        rules, failed = _compile(policy_set, entries, parameters)
        problems.extend(failed)
        unsound = [(e, reader.unsound[id(e)]) for e in reader.every if id(e) in reader.unsound]
        more_rules, more = _compile_unsound(policy_set, unsound, parameters)
        problems.extend(more)
        rules_checked = [*rules, *more_rules]
    if facts is not None and not defaults:
        readable = policy_set.entries
        problems.extend(unfilled_problems(reader.every, rules_checked, facts, readable))
    policy_set.digest = "sha256:" + reader.digest.hexdigest()
    return Checked(policy_set, rules, _in_order(problems))


def _compile_unsound(
    policy_set: PolicySet,
    unsound: Sequence[tuple[RuleEntry, list[JsonPath]]],
    parameters: Mapping[str, Any],
) -> tuple[list[CompiledRule], list[str]]:
    """Rules the schema refused, compiled anyway to find their other problems too.

    Best effort, never a verdict: the schema's problems already refuse the rule, so a problem
    at (or around) one of their positions is the same mistake seen again and is dropped, and a
    rule too malformed to compile at all adds nothing.
    """
    compiled: list[CompiledRule] = []
    problems: list[str] = []
    for entry, marks in unsound:
        # A missing title or severity is said already; stand-ins let the rest be compiled.
        spec = {"title": "", "severity": "info", **entry.spec}
        inner = [mark for mark in marks if len(mark) > 2]  # not "the rule lacks a key"
        try:
            rule = compile_rule(spec, parameters, policy_set.tables, entry.source, "")
        except CompileError as error:
            for single in each_error(error):
                at = ("rules", entry.index, *single.at)
                if not any(_nested(at, mark) for mark in inner):
                    problems.append(entry.located.problem(at, str(single)))
            continue
        except Exception:  # a shape the schema refused: its problems stand, nothing to add
            continue
        compiled.append(rule)
    return compiled, problems


def _nested(one: JsonPath, other: JsonPath) -> bool:
    """Whether one position lies inside the other (or is it)."""
    shorter = min(len(one), len(other))
    return one[:shorter] == other[:shorter]


_POSITION = re.compile(r"^(.*?):(\d+):(\d+): ")


def _in_order(problems: Sequence[str]) -> list[str]:
    """Problems by file and position (problems about no file first), each once."""

    def key(line: str) -> tuple[str, int, int]:
        found = _POSITION.match(line)
        return (found[1], int(found[2]), int(found[3])) if found else ("", 0, 0)

    return sorted(dict.fromkeys(problems), key=key)


class _Reader:
    """Reads policy files one by one into a PolicySet, keeping what is valid of each."""

    def __init__(self, registry_checks_types: bool) -> None:
        self.policy_set = PolicySet()
        self.digest = hashlib.sha256()
        #: Parameters whose declaration is itself a problem: using one is no second problem.
        self.broken: set[str] = set()
        #: (file, index, rule mapping) of every rule, valid or not: their types are checked.
        self.rule_specs: list[tuple[Located, int, Any]] = []
        #: Every rule with an id, in file order, whatever the schema said (duplicate ids).
        self.every: list[RuleEntry] = []
        #: Rules the schema refused, by ``id()`` of their entry: where its problems are.
        self.unsound: dict[int, list[JsonPath]] = {}
        # With the registry at hand, a malformed type is reported once, with a suggestion.
        self.skip_patterns = (RESOURCE_TYPE_PATTERN,) if registry_checks_types else ()

    def read(self, source: Source) -> list[str]:
        path, policy_set = source.path, self.policy_set
        label = display_name(path)
        try:
            located = load_yaml(path, label)
        except InputError as error:
            return error.problems
        self.digest.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
        policy_set.files.append(label)
        if path.parent not in policy_set.folders:
            policy_set.folders.append(path.parent)
        if not isinstance(located.data, dict):
            return [located.problem((), "a policy file must be a mapping")]
        findings = schema_findings(located.data, load_schema("policy"), self.skip_patterns)
        problems = [located.problem(at, message) for at, message in findings]
        bad = {at[:2] for at, _ in findings}
        if not source.header_only and isinstance(located.data.get("rules"), list):
            self.rule_specs.extend((located, i, s) for i, s in enumerate(located.data["rules"]))
        marks = [at for at, _ in findings]
        problems.extend(self._absorb(path, located, bad, marks, source.header_only))
        return problems

    def _absorb(
        self,
        path: Path,
        located: Located,
        bad: set[JsonPath],
        marks: list[JsonPath],
        header_only: bool,
    ) -> list[str]:
        """Merge a file's pack header, parameters, data and rules, each valid entry alone."""
        document, problems, policy_set = located.data, [], self.policy_set
        sections = {key: document.get(key) or {} if (key,) not in bad else {} for key in _SECTIONS}
        pack = document.get("pack") if not any(at[:1] == ("pack",) for at in bad) else None
        if pack:
            policy_set.packs.append(dict(pack))
        pack_name = pack["name"] if pack else path.parent.name
        for name, decl in sections["parameters"].items():
            if ("parameters", name) in bad:
                self.broken.add(name)
                continue
            problems.extend(self._parameter(located, name, decl))
        for name, table in sections["data"].items():
            if ("data", name) in bad:
                continue
            try:
                policy_set.tables[name] = _table(path, located, name, table)
            except InputError as error:
                problems.extend(error.problems)
        if header_only:
            return problems
        inventory = has_inventory(path.parent)
        rules = document.get("rules")
        for index, spec in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
                continue  # nothing to compile or to compare: its schema problems say it all
            line = located.where(("rules", index, "id"))[0]
            check_key = next((k for k in ("expect", "value", "attestation") if k in spec), "id")
            source = RuleSource(located.path, line, located.where(("rules", index, check_key))[0])
            entry = RuleEntry(spec, located, index, source, pack_name, inventory)
            self.every.append(entry)
            if ("rules", index) in bad:
                self.unsound[id(entry)] = [at for at in marks if at[:2] == ("rules", index)]
            else:
                policy_set.entries.append(entry)
        return problems

    def _parameter(self, located: Located, name: str, decl: Mapping[str, Any]) -> list[str]:
        previous = self.policy_set.parameters.get(name)
        if previous and previous.default != decl["default"]:
            message = f"already declared in {previous.declared_in} with another default"
            return [located.problem(("parameters", name), message)]
        description = str(decl.get("description", ""))
        self.policy_set.parameters[name] = ParameterDecl(
            decl["default"], description, located.path, located
        )
        return []


def _table(path: Path, located: Located, name: str, table: Any) -> dict[str, Any]:
    """Reference data: inline, or a file beside the policy holding ``entries``."""
    if isinstance(table, dict):
        return table
    folder = Path(os.path.abspath(path.parent))
    target = Path(os.path.normpath(folder / str(table)))
    if not target.is_relative_to(folder):
        raise InputError([located.problem(("data", name), "data files must lie beside the policy")])
    if not target.is_file():
        raise InputError([located.problem(("data", name), f"data file {table!r} not found")])
    data = load_yaml(target, display_name(target))
    entries = data.data.get("entries") if isinstance(data.data, dict) else None
    if not isinstance(entries, dict):
        raise InputError([data.problem((), "a data file needs a mapping under 'entries'")])
    return ReferenceTable(entries, as_of=data.data.get("as_of"))


class ReferenceTable(dict[str, Any]):
    """A data file's entries, remembering the date they are true as of (``data_as_of``)."""

    def __init__(self, entries: dict[str, Any], as_of: Any = None) -> None:
        super().__init__(entries)
        self.as_of = as_of
