"""``samconfig.toml`` and ``--parameter-overrides`` text, read the way the SAM CLI reads them.

SAM merges ``[<env>.global.parameters]`` under ``[<env>.deploy.parameters]`` key by key (the
command's table wins). ``parameter_overrides`` is a string of ``Key=Value`` pairs separated by
spaces, a value quoted with ``"`` or ``'`` when it holds spaces (``A=1 B="two words"``), or the
older ``ParameterKey=A,ParameterValue=1`` form; a TOML list holds one ``Key=Value`` per item.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

from runbook_guard.engine.errors import InputError, problem
from runbook_guard.template.model import Position

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

SAMCONFIG = "samconfig.toml"

#: A key, ``=``, then a quoted value (backslash escapes inside) or a run of non-blank characters
#: (``\ `` escapes a blank). Anchored by the caller at each pair's start.
_PAIR = re.compile(
    r"""(?:ParameterKey=(?P<pkey>[^\s,=]+),ParameterValue=|(?P<key>[^\s=]+)=)"""
    r"""(?P<value>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|(?:\\.|[^\s"'\\])*)"""
)
_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]")
_TOML_LINE = re.compile(r"at line (\d+), column (\d+)")


@dataclass(frozen=True)
class SamConfig:
    """What one environment of ``samconfig.toml`` says about a deploy."""

    file: str
    stack_name: str | None = None
    region: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    #: Where ``parameter_overrides`` is written (values from it are reported there).
    overrides_at: Position | None = None


def read_samconfig(template: Path, display_path: str, env: str) -> SamConfig:
    """The ``env`` environment of the samconfig.toml beside the template (empty if none)."""
    path = template.parent / SAMCONFIG
    display = str(PurePosixPath(display_path).parent / SAMCONFIG)
    if not path.is_file():
        if env != "default":
            raise InputError(
                [
                    problem(
                        display,
                        None,
                        None,
                        env,
                        f"--config-env {env}: no {SAMCONFIG} beside the template",
                    )
                ]
            )
        return SamConfig(display)
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except OSError as error:
        raise InputError(
            [problem(display, None, None, "<document>", f"cannot read: {error}")]
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(
            [problem(display, None, None, "<document>", f"not UTF-8: {error.reason}")]
        ) from None
    except tomllib.TOMLDecodeError as error:
        found = _TOML_LINE.search(str(error))
        line, column = (int(found[1]), int(found[2])) if found else (None, None)
        message = _TOML_LINE.sub("", str(error)).strip(" ()")
        raise InputError(
            [problem(display, line, column, "<document>", f"malformed TOML: {message}")]
        ) from None
    environment = document.get(env)
    if not isinstance(environment, dict):
        if env != "default":
            raise InputError(
                [problem(display, None, None, env, f"--config-env {env}: no [{env}] tables")]
            )
        return SamConfig(display)
    merged: dict[str, Any] = {}
    for command in ("global", "deploy"):
        table = environment.get(command, {})
        parameters = table.get("parameters", {}) if isinstance(table, dict) else {}
        if not isinstance(parameters, dict):
            raise InputError(
                [problem(display, None, None, f"{env}.{command}.parameters", "must be a table")]
            )
        merged.update(parameters)
    sections = (f"{env}.deploy.parameters", f"{env}.global.parameters")
    overrides_at = _line_of(text, display, "parameter_overrides", sections)
    overrides = parse_overrides(merged.get("parameter_overrides"), display, overrides_at)
    return SamConfig(
        display,
        stack_name=_text(merged.get("stack_name"), display, "stack_name", text, sections),
        region=_text(merged.get("region"), display, "region", text, sections),
        overrides=overrides,
        overrides_at=overrides_at,
    )


def parse_overrides(value: Any, file: str, where: Position | None) -> dict[str, str]:
    """``A=1 B="two words"`` (or a list of ``Key=Value`` items) -> ``{"A": "1", "B": ...}``."""
    if value is None:
        return {}
    if isinstance(value, list):
        result: dict[str, str] = {}
        for item in value:
            if not isinstance(item, str) or "=" not in item:
                _bad(file, where, f"parameter_overrides item {item!r} is not Key=Value")
            key, _, text = item.partition("=")
            result[_unquote(key.strip())] = _unquote(text.strip())
        return result
    if not isinstance(value, str):
        _bad(file, where, "parameter_overrides must be a string or a list of strings")
    return parse_override_text(value, file, where)


def parse_override_text(text: str, file: str, where: Position | None) -> dict[str, str]:
    """Parse the space-separated form; anything that is not a pair is an error, not skipped."""
    result: dict[str, str] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        found = _PAIR.match(text, position)
        if found is None or found.end() == position:
            _bad(file, where, f"parameter_overrides: {text[position:]!r} is not Key=Value")
        result[_unquote(found["pkey"] or found["key"])] = _unquote(found["value"])
        position = found.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return result


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return re.sub(r"\\(.)", r"\1", value)


def _bad(file: str, where: Position | None, message: str) -> NoReturn:
    raise InputError(
        [
            problem(
                file,
                where.line if where else None,
                where.column if where else None,
                "parameter_overrides",
                message,
            )
        ]
    )


def _text(value: Any, file: str, key: str, source: str, sections: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        where = _line_of(source, file, key, sections)
        raise InputError(
            [
                problem(
                    file, where.line if where else None, 1, key, f"{key} must be a non-empty string"
                )
            ]
        )
    return value


def _line_of(text: str, file: str, key: str, sections: tuple[str, ...]) -> Position | None:
    """Where ``key = ...`` is written in the first of ``sections`` that sets it.

    tomllib keeps no positions; a scan of table headers and keys is enough for the files SAM
    writes (``[default.deploy.parameters]`` then ``key = value`` lines).
    """
    assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
    found: dict[str, Position] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            section = header[1].replace(" ", "").replace('"', "")
        elif section in sections and section not in found and assignment.match(line):
            found[section] = Position(file, number, line.index(key) + 1)
    return next((found[name] for name in sections if name in found), None)
