"""A template file -> cfn-lint's nodes, which remember where each key and value is written.

cfn-lint's decoder is used rather than a YAML loader of our own: it knows every short-form
intrinsic (``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}``), refuses duplicate keys and
YAML alias bombs, and its ``str``/``dict``/``list`` nodes carry ``start_mark`` (0-based). Numbers,
booleans and nulls carry no mark: their position is their key's. A tag cfn-lint does not know
(``!Foo x``) is decoded as ``{"Fn::Foo": "x"}``; the resolver turns it into an ``Unresolved``
value (``unresolvable``), as CloudFormation would refuse it only at deploy time.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

# cfn-lint (the `template` extra) is imported with this module, so a missing extra shows when
# the CLI imports the reader (it says which extra to install), not halfway through a read.
from cfnlint.decode import cfn_json, cfn_yaml
from yaml import YAMLError
from yaml.scanner import ScannerError

from runbook_guard.engine.errors import InputError, problem
from runbook_guard.template.model import Position

#: Top-level sections that must be mappings when present.
_MAPPING_SECTIONS = ("Parameters", "Conditions", "Mappings", "Globals", "Outputs")


@dataclass(frozen=True)
class Marks:
    """Turns a node's 0-based mark into the model's 1-based ``Position`` of one file.

    cfn-lint's JSON fallback (used only for tab-indented JSON, which YAML refuses) already
    counts columns from 1, so the offset depends on the decoder that produced the nodes.
    """

    file: str
    column_offset: int = 1

    def of(self, node: object) -> Position | None:
        mark = getattr(node, "start_mark", None)
        if mark is None:
            return None
        return Position(self.file, mark.line + 1, mark.column + self.column_offset)

    def at(self, node: object, fallback: Position) -> Position:
        return self.of(node) or fallback


@dataclass(frozen=True)
class Decoded:
    """The decoded document, the file's digest and how to read positions from its nodes."""

    document: dict[str, Any]
    digest: str
    marks: Marks

    @property
    def top(self) -> Position:
        return Position(self.marks.file, 1, 1)


def fail(file: str, where: Position | None, field: str, message: str) -> NoReturn:
    """Raise the one InputError shape the CLI turns into exit 2 with file and line."""
    raise InputError(
        [
            problem(
                file, where.line if where else None, where.column if where else None, field, message
            )
        ]
    )


def decode_file(path: Path, display_path: str) -> Decoded:
    """Read, decode and check that the file is a CloudFormation template at all."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        fail(
            display_path, None, "<document>", f"cannot read the template: {error.strerror or error}"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        fail(display_path, None, "<document>", f"the template is not UTF-8 text: {error.reason}")
    document, offset = _decode_text(text, display_path)
    marks = Marks(display_path, offset)
    _check_shape(document, marks)
    return Decoded(document, hashlib.sha256(raw).hexdigest(), marks)


def _decode_text(text: str, file: str) -> tuple[Any, int]:
    try:
        return cfn_yaml.loads(text, file), 1
    except cfn_yaml.CfnParseError as error:
        # Every match: a duplicate key is reported at both of its places.
        raise InputError(
            [
                problem(
                    file,
                    m.linenumber,
                    m.columnnumber,
                    "<document>",
                    f"malformed template: {m.message}",
                )
                for m in error.matches
            ]
        ) from None
    except ScannerError as error:
        if not _is_json_with_tabs(error):
            _yaml_failure(file, error)
        json_error: Exception
        try:
            return cfn_json.loads(text), 0
        except cfn_json.JSONDecodeError as error2:
            match = error2.matches[0]
            where = Position(file, match.linenumber, match.columnnumber)
            fail(file, where, "<document>", f"malformed template: {match.message}")
        except ValueError as error2:  # json.JSONDecodeError
            json_error = error2
        line = getattr(json_error, "lineno", None)
        column = getattr(json_error, "colno", None)
        fail(
            file,
            Position(file, line, column) if line and column else None,
            "<document>",
            f"malformed template: {getattr(json_error, 'msg', json_error)}",
        )
    except YAMLError as error:
        _yaml_failure(file, error)
    except RecursionError:
        fail(file, None, "<document>", "malformed template: nested too deeply")


def _is_json_with_tabs(error: Any) -> bool:
    problem_text = str(getattr(error, "problem", "") or "")
    return problem_text.startswith(
        ("found character '\\t' that cannot start any token", "found unknown escape character")
    )


def _yaml_failure(file: str, error: Any) -> NoReturn:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = Position(file, mark.line + 1, mark.column + 1) if mark is not None else None
    reason = getattr(error, "problem", None) or str(error)
    context, opened = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and opened is not None and opened is not mark:
        context = f"{context} (opened at line {opened.line + 1}, column {opened.column + 1})"
    text = f"{context}: {reason}" if context else str(reason)
    fail(file, where, "<document>", f"malformed YAML: {text}")


def _check_shape(document: Any, marks: Marks) -> None:
    """What makes a document a template: a Resources mapping whose entries all have a Type."""
    top = Position(marks.file, 1, 1)
    if not isinstance(document, Mapping):
        fail(marks.file, marks.of(document) or top, "<document>", "not a template: not a mapping")
    if "Resources" not in document:
        fail(marks.file, top, "Resources", "not a template: no Resources section")
    for section in ("Resources", *_MAPPING_SECTIONS):
        if section in document and not isinstance(document[section], Mapping):
            where = key_position(document, section, marks) or top
            fail(marks.file, where, section, f"not a template: {section} is not a mapping")
    resources = document["Resources"]
    for logical_id, resource in resources.items():
        where = marks.of(logical_id) or marks.of(resources) or top
        field = f"Resources.{logical_id}"
        if not isinstance(resource, Mapping):
            fail(marks.file, where, field, "a resource must be a mapping")
        if "Type" not in resource:
            fail(marks.file, where, field, "a resource needs a Type")
        if not isinstance(resource["Type"], str):
            fail(marks.file, where, f"{field}.Type", "a resource's Type must be a string")
        properties = resource.get("Properties")
        if properties is not None and not isinstance(properties, Mapping):
            fail(marks.file, where, f"{field}.Properties", "Properties must be a mapping")
        if str(logical_id).startswith("Fn::ForEach"):
            fail(marks.file, where, field, "Fn::ForEach (AWS::LanguageExtensions) is not supported")


def key_position(mapping: Mapping[Any, Any], key: str, marks: Marks) -> Position | None:
    """Where ``key`` is written in ``mapping`` (the key node keeps the mark, not the lookup)."""
    for candidate in mapping:
        if candidate == key:
            return marks.of(candidate)
    return None


def plain(node: Any) -> Any:
    """cfn-lint's node subclasses -> builtin types, so nothing downstream holds a mark object.

    An unquoted YAML date (``2010-09-09``) becomes its ISO text: CloudFormation reads it as a
    string.
    """
    if isinstance(node, str):
        return str(node)
    if isinstance(node, Mapping):
        return {str(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat()
    return node
