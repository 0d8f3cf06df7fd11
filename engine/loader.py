"""Policy files in, a validated PolicySet out, or every problem at once with its position.

Loading reports all problems of all files in one go (like a compiler), so that fixing a
pack is one edit-run cycle, not one per mistake.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from runbook_guard.engine.access import CompileError
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.overrides import effective
from runbook_guard.engine.params import references
from runbook_guard.engine.rules import CompiledRule, RuleSource, compile_rule
from runbook_guard.engine.yamlsafe import Located, load_yaml

POLICY_SUFFIXES = (".yaml", ".yml")
DATA_FOLDER = "data"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped in the package (``schemas/NAME.schema.json``)."""
    text = resources.files("runbook_guard.schemas").joinpath(f"{name}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_problems(located: Located, schema_name: str) -> list[str]:
    """Every schema violation of a located document, as positioned one-line problems."""
    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    found = []
    for error in sorted(
        validator.iter_errors(located.data), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        at = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - allowed):
                hint = difflib.get_close_matches(extra, sorted(allowed), n=1)
                tip = f" (did you mean '{hint[0]}'?)" if hint else ""
                found.append(located.problem((*at, extra), f"unknown key '{extra}'{tip}"))
            continue
        found.append(located.problem(at, _schema_message(error)))
    return found


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "enum":
        allowed: Any = error.validator_value
        choices = ", ".join(str(choice) for choice in allowed)
        return f"{error.instance!r} is not one of: {choices}"
    if error.validator == "format" and error.validator_value == "regex":
        return f"invalid regular expression {error.instance!r}"
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."


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
        compiled, problems = [], []
        for entry in self.entries:
            try:
                compiled.append(
                    compile_rule(entry.spec, parameters, self.tables, entry.source, entry.pack)
                )
            except CompileError as error:
                problems.append(
                    entry.located.problem(("rules", entry.index, *error.at), str(error))
                )
        if problems:
            raise InputError(problems)
        return sorted(compiled, key=lambda rule: rule.id)


def builtin_policies() -> Path:
    """Where the shipped packs live once installed."""
    return Path(str(resources.files("runbook_guard.policies")))


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


def discover(paths: Sequence[Path]) -> list[Path]:
    """Policy files under the given files and folders, in a stable order."""
    found: list[Path] = []
    problems = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*"))
                if p.suffix in POLICY_SUFFIXES and p.is_file()
                and DATA_FOLDER not in p.relative_to(path).parts[:-1]
            )  # fmt: skip
        elif path.is_file():
            found.append(path)
        else:
            problems.append(problem(str(path), 1, 1, "", "no such file or folder"))
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(found))


def load_policy_set(paths: Sequence[Path] | None = None) -> PolicySet:
    """Load and validate policy files (default: the shipped packs); raise all problems."""
    files = discover(list(paths) if paths else [builtin_policies()])
    policy_set, problems, digest = PolicySet(), [], hashlib.sha256()
    located_files = []
    for path in files:
        label = display_name(path)
        try:
            located = load_yaml(path, label)
        except InputError as error:
            problems.extend(error.problems)
            continue
        digest.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
        policy_set.files.append(label)
        if path.parent not in policy_set.folders:
            policy_set.folders.append(path.parent)
        if not isinstance(located.data, dict):
            problems.append(located.problem((), "a policy file must be a mapping"))
            continue
        found = schema_problems(located, "policy")
        problems.extend(found)
        if not found:
            located_files.append((path, located))
    for path, located in located_files:
        problems.extend(_absorb(policy_set, path, located))
    problems.extend(_check_rules(policy_set))
    problems.extend(_check_parameter_defaults(policy_set))
    if problems:
        raise InputError(problems)
    policy_set.digest = "sha256:" + digest.hexdigest()
    policy_set.compile()  # proves every rule compiles with the defaults
    return policy_set


def _absorb(policy_set: PolicySet, path: Path, located: Located) -> list[str]:
    """Merge one schema-valid file's pack header, parameters, data and rules."""
    document, problems = located.data, []
    pack = document.get("pack")
    if pack:
        policy_set.packs.append(dict(pack))
    pack_name = pack["name"] if pack else path.parent.name
    for name, decl in document.get("parameters", {}).items():
        previous = policy_set.parameters.get(name)
        if previous and previous.default != decl["default"]:
            message = f"already declared in {previous.declared_in} with another default"
            problems.append(located.problem(("parameters", name), message))
            continue
        description = str(decl.get("description", ""))
        policy_set.parameters[name] = ParameterDecl(
            decl["default"], description, located.path, located
        )
    for name, table in document.get("data", {}).items():
        try:
            policy_set.tables[name] = _table(path, located, name, table)
        except InputError as error:
            problems.extend(error.problems)
    for index, spec in enumerate(document.get("rules", [])):
        line = located.where(("rules", index, "id"))[0]
        check_key = next((k for k in ("expect", "value", "attestation") if k in spec), "id")
        source = RuleSource(located.path, line, located.where(("rules", index, check_key))[0])
        policy_set.entries.append(RuleEntry(spec, located, index, source, pack_name))
    return problems


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


def _check_parameter_defaults(policy_set: PolicySet) -> list[str]:
    """Defaults that build on other parameters must name declared ones, without a cycle."""
    problems = []
    for name, decl in sorted(policy_set.parameters.items()):
        if decl.located is None:
            continue
        unknown = sorted({ref for _, ref in references(decl.default)} - set(policy_set.parameters))
        for ref in unknown:
            at = ("parameters", name, "default")
            problems.append(decl.located.problem(at, f"unknown parameter '${{{ref}}}'"))
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


def _check_rules(policy_set: PolicySet) -> list[str]:
    """Duplicate ids, blank titles and references to parameters nobody declares."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    declared = set(policy_set.parameters)
    for entry in policy_set.entries:
        rule_id = entry.spec["id"]
        at = ("rules", entry.index, "id")
        if rule_id in seen:
            problems.append(
                entry.located.problem(
                    at, f"duplicate rule id {rule_id!r} (first at {seen[rule_id]})"
                )
            )
        else:
            seen[rule_id] = f"{entry.located.path}:{entry.source.line}"
        if isinstance(entry.spec.get("title"), str) and not entry.spec["title"].strip():
            # Every report names a rule by its title; GitHub refuses a SARIF rule without one.
            message = "title is blank: say in one line what must hold"
            problems.append(entry.located.problem(("rules", entry.index, "title"), message))
        body = {k: v for k, v in entry.spec.items() if k != "tests"}
        for where, name in references(body):
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                message = f"unknown parameter '${{{name}}}' (declared: {known})"
                problems.append(entry.located.problem(("rules", entry.index, *where), message))
    return problems + _check_replaces(policy_set, set(seen))


def _check_replaces(policy_set: PolicySet, loaded: set[str]) -> list[str]:
    """An old id follows one rule only, and never a rule still loaded under that id.

    Waivers, history and fingerprints written for the old id move to the new rule: naming a
    live rule would take its waivers away, naming one old id twice would give them to both.
    """
    problems: list[str] = []
    claimed: dict[str, str] = {}
    for entry in policy_set.entries:
        for index, old in enumerate(entry.spec.get("replaces", [])):
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
