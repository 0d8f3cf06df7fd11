"""Parameter values as CloudFormation would receive them: Default < samconfig.toml < overrides.

Each value is checked against its declaration (type, AllowedValues, AllowedPattern, lengths,
bounds) exactly where CloudFormation would refuse the stack, so the gate never judges a stack
that could not be created. A value the template cannot know (no value at all, or one that lives
in SSM Parameter Store) stays an ``Unresolved`` marker: every ``Ref`` to it becomes one at the
place the ``Ref`` is written.

A NoEcho value is a secret the gate must never write out: it is named in ``secret`` (the
resolver lets conditions compare it and turns every other ``Ref`` to it into an ``Unresolved``),
shown as ``<redacted>``, never quoted in an error, and the SAM translator sees a stand-in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import regex  # type: ignore[import-untyped]

from runbook_guard.template.decode import Marks, fail, key_position
from runbook_guard.template.model import Position, Unresolved
from runbook_guard.template.samconfig import SamConfig

REDACTED = "<redacted>"
#: ASCII digits only: ``\d`` also matches other scripts' digits, which float() reads.
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_PATTERN_SECONDS = 1.0


@dataclass(frozen=True)
class Source:
    """Where a parameter's value was given, to point an invalid value at its author."""

    label: str
    at: Position | None


@dataclass
class ParameterValues:
    """Resolved values (or ``Unresolved`` stand-ins), what results show, what SAM is given."""

    values: dict[str, Any] = field(default_factory=dict)
    shown: dict[str, Any] = field(default_factory=dict)
    for_sam: dict[str, Any] = field(default_factory=dict)
    #: NoEcho parameters: their values decide conditions but never reach a property.
    secret: set[str] = field(default_factory=set)


def resolve_parameters(
    document: Mapping[str, Any],
    marks: Marks,
    samconfig: SamConfig,
    overrides: Mapping[str, str],
) -> ParameterValues:
    """Every declared parameter's value, validated; an override naming none is an error.

    As ``sam deploy``: ``--parameter-overrides`` replaces samconfig's ``parameter_overrides``
    as a whole (aws-sam-cli#2380), so what the gate judges is what that deploy would send.
    """
    declared = document.get("Parameters") or {}
    if overrides:
        samconfig = replace(samconfig, overrides={})
    for given, origin in (
        (samconfig.overrides, samconfig.file),
        (overrides, "--parameter-overrides"),
    ):
        unknown = sorted(set(given) - {str(name) for name in declared})
        if unknown:
            where = samconfig.overrides_at if given is samconfig.overrides else None
            file = samconfig.file if given is samconfig.overrides else marks.file
            known = ", ".join(sorted(str(name) for name in declared)) or "none"
            fail(
                file,
                where,
                "parameter_overrides",
                f"{origin} sets {', '.join(unknown)}, which the template does not declare "
                f"(its parameters: {known})",
            )
    result = ParameterValues()
    for key, declaration in declared.items():
        name, at = str(key), marks.at(key, Position(marks.file, 1, 1))
        if not isinstance(declaration, Mapping) or not isinstance(declaration.get("Type"), str):
            fail(marks.file, at, f"Parameters.{name}", "a parameter needs a Type")
        no_echo = str(declaration.get("NoEcho", "false")).lower() == "true"
        raw, source = _given(name, declaration, marks, samconfig, overrides)
        value = _typed(name, declaration, raw, source, marks, at, no_echo)
        result.values[name] = value
        if no_echo:
            result.secret.add(name)
        if isinstance(value, Unresolved) and raw is None:
            result.shown[name] = None
        elif no_echo:
            result.shown[name] = REDACTED
        else:
            result.shown[name] = raw if isinstance(value, Unresolved) else value
        if raw is not None and not isinstance(value, Unresolved):
            # The translator inlines the values it resolves (an AutoPublishAlias even into
            # logical ids): a NoEcho value reaches it only as a stand-in that says so.
            for_sam = value if isinstance(value, list) else raw
            result.for_sam[name] = _sam_standin(name, for_sam) if no_echo else for_sam
    return result


def _sam_standin(name: str, value: Any) -> Any:
    """What the SAM translator sees of a NoEcho parameter (its name, never its value)."""
    return [f"NoEcho{name}"] * len(value) if isinstance(value, list) else f"NoEcho{name}"


def pseudo_parameters(stack: str, region: str, account: str, partition: str) -> dict[str, Any]:
    """The pseudo parameters the template determines once the stack, region and account are set."""
    return {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": partition,
        "AWS::StackName": stack,
        "AWS::URLSuffix": url_suffix(partition),
    }


#: Pseudo parameters only a created stack has.
AFTER_DEPLOY_PSEUDO = frozenset({"AWS::StackId", "AWS::NotificationARNs"})


def url_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


def _given(
    name: str,
    declaration: Mapping[str, Any],
    marks: Marks,
    samconfig: SamConfig,
    overrides: Mapping[str, str],
) -> tuple[str | None, Source]:
    if name in overrides:
        return overrides[name], Source("--parameter-overrides", None)
    if name in samconfig.overrides:
        return samconfig.overrides[name], Source(samconfig.file, samconfig.overrides_at)
    if "Default" in declaration:
        default = declaration["Default"]
        at = key_position(declaration, "Default", marks)
        return _as_text(default), Source("its Default", at)
    return None, Source("nothing", None)


def _as_text(value: Any) -> str:
    """A YAML default as the string CloudFormation receives (``true``, ``30``, ``a,b``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_as_text(item) for item in value)
    return str(value)


def _typed(
    name: str,
    declaration: Mapping[str, Any],
    raw: str | None,
    source: Source,
    marks: Marks,
    at: Position,
    no_echo: bool = False,
) -> Any:
    kind = str(declaration["Type"])
    if raw is None:
        return Unresolved("unresolvable", f"Ref {name} (a parameter with no value)", at)
    if kind.startswith("AWS::SSM::Parameter::Value<"):
        return Unresolved("unresolvable", f"Ref {name} (SSM parameter {raw})", at)
    items = [item.strip() for item in raw.split(",")] if _is_list(kind) else [raw]
    for item in items:
        _check(name, declaration, item, kind, source, marks, at, no_echo)
    if kind == "Number":
        return _number(items[0])
    if kind == "List<Number>":
        return [_number(item) for item in items]
    return items if _is_list(kind) else raw


def _is_list(kind: str) -> bool:
    return kind == "CommaDelimitedList" or kind.startswith("List<")


def _number(text: str) -> int | float:
    number = float(text)
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?[0-9]+", text) else number


def _check(
    name: str,
    declaration: Mapping[str, Any],
    value: str,
    kind: str,
    source: Source,
    marks: Marks,
    at: Position,
    no_echo: bool = False,
) -> None:
    """CloudFormation's own checks of a parameter value, each reported where it is declared.

    A NoEcho value is never quoted: the message goes to a CI log.
    """
    shown = "the NoEcho value" if no_echo else f"value {value!r}"

    def refuse(rule: str, why: str) -> None:
        where = source.at or key_position(declaration, rule, marks) or at
        file = where.file
        fail(file, where, f"Parameters.{name}", f"{shown} (from {source.label}) {why}")

    if kind in ("Number", "List<Number>") and not _NUMBER.match(value):
        refuse("Type", f"is not a number ({kind})")
    allowed = declaration.get("AllowedValues")
    if isinstance(allowed, list) and value not in {_as_text(item) for item in allowed}:
        refuse("AllowedValues", f"is not one of AllowedValues {[_as_text(i) for i in allowed]}")
    pattern = declaration.get("AllowedPattern")
    if isinstance(pattern, str) and not _full_match(pattern, value, marks, declaration, name):
        refuse("AllowedPattern", f"does not match AllowedPattern {pattern!r}")
    tests: tuple[tuple[str, Callable[[float], bool]], ...] = (
        ("MinLength", lambda bound: len(value) >= bound),
        ("MaxLength", lambda bound: len(value) <= bound),
        ("MinValue", lambda bound: _NUMBER.match(value) is None or float(value) >= bound),
        ("MaxValue", lambda bound: _NUMBER.match(value) is None or float(value) <= bound),
    )
    for rule, test in tests:
        bound = declaration.get(rule)
        if bound is not None and _NUMBER.match(str(bound)) and not test(float(str(bound))):
            refuse(rule, f"breaks {rule} {bound}")


def _full_match(
    pattern: str, value: str, marks: Marks, declaration: Mapping[str, Any], name: str
) -> bool:
    """AllowedPattern must match the whole value (CloudFormation anchors it), in bounded time."""
    try:
        return regex.fullmatch(pattern, value, timeout=_PATTERN_SECONDS) is not None
    except regex.error as error:
        where = key_position(declaration, "AllowedPattern", marks)
        fail(marks.file, where, f"Parameters.{name}", f"AllowedPattern does not compile: {error}")
    except TimeoutError:
        where = key_position(declaration, "AllowedPattern", marks)
        fail(marks.file, where, f"Parameters.{name}", "AllowedPattern takes too long to match")
