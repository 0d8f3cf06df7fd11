"""JSON Schema violations as the one-line problems a person can act on.

jsonschema's own messages describe the schema ("is not valid under any of the given schemas");
a user needs the field, what is wrong with it, and the word they probably meant. Where the
schema offers alternatives (``anyOf``/``oneOf``: an operand that is a number or a related
reference), the problem of the alternative the user evidently wrote (the one of its type) is
the one reported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

import jsonschema

from runbook_guard.engine.suggest import did_you_mean

JsonPath = tuple[str | int, ...]
#: The longest message kept whole: a schema's message can quote a whole rule.
_MAX_MESSAGE = 200


def schema_findings(
    data: Any, schema: dict[str, Any], skip_patterns: Collection[str] = ()
) -> list[tuple[JsonPath, str]]:
    """(where, message) of every violation, in document order.

    ``skip_patterns``: pattern violations of these patterns are left to a more specific check
    (a resource type the collectors' registry names, with a suggestion from it).
    """
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    found: list[tuple[JsonPath, str]] = []
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        for chosen in _relevant(error):
            if chosen.validator == "pattern" and chosen.validator_value in skip_patterns:
                continue
            found.extend(_describe(chosen))
    return found


def _relevant(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    """The error itself, or for a failed ``anyOf``/``oneOf`` the branch the user meant."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        yield error
        return
    # A branch refusing the value's very type is not the one the user wrote.
    meant = [e for e in error.context if e.validator != "type" or e.relative_path]
    if not meant:
        yield error
        return
    deepest = max(len(e.relative_path) for e in meant)
    for branch in meant:
        if len(branch.relative_path) == deepest:
            yield from _relevant(branch)


def _describe(error: jsonschema.ValidationError) -> Iterator[tuple[JsonPath, str]]:
    at = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = {str(key) for key in schema.get("properties", {})}
        for extra in sorted(set(error.instance) - allowed, key=str):
            yield (*at, extra), f"unknown key '{extra}'{did_you_mean(str(extra), allowed)}"
        return
    yield at, _message(error)


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "enum":
        allowed: Any = error.validator_value
        choices = ", ".join(str(choice) for choice in allowed)
        hint = ""
        if isinstance(error.instance, str):
            hint = did_you_mean(error.instance, [str(c) for c in allowed])
        return f"{error.instance!r} is not one of: {choices}{hint}"
    if error.validator in ("anyOf", "oneOf"):  # every branch refused the value's type
        kinds = [t for e in error.context or [] for t in _listed(e.validator_value)]
        return f"{error.instance!r} is not of type {', '.join(dict.fromkeys(kinds))}"
    if error.validator == "format" and error.validator_value == "regex":
        return f"invalid regular expression {error.instance!r}"
    message = error.message
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
