"""Safe YAML loading that remembers where every value came from.

PyYAML's SafeLoader already refuses ``!!python/object`` tags, but it forgets positions and
silently keeps the last of two duplicate keys. Policies, waivers and config files are read
here instead, so that every later problem can name ``file:line:column`` and nothing a user
wrote is lost without a word.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runbook_guard.engine.errors import InputError, problem

#: Policy files are hand-written text; anything this large is a mistake or an attack.
MAX_BYTES = 1_000_000
#: Bounds alias expansion ("billion laughs"): a real policy has a few thousand nodes.
MAX_NODES = 200_000

#: Bounds nesting: PyYAML's composer recurses once per level, and a hand-written policy is
#: a dozen levels deep; a thousand would end in RecursionError instead of a positioned error.
MAX_DEPTH = 100

JsonPath = tuple[str | int, ...]


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__("too deep")
        self.mark = mark


#: libyaml's loader where PyYAML was built with it: composing in C is several times faster
#: than PyYAML's pure-Python composer (reading 10,000 rules: 11 s without it, 3 s with it).
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer refuses nesting beyond ``MAX_DEPTH`` (before recursing)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class Located:
    """A parsed document plus the line and column (1-based) of every value in it."""

    path: str
    data: Any
    positions: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, at: JsonPath) -> tuple[int, int]:
        """Position of the value at ``at``, or of its nearest ancestor that has one."""
        at = tuple(at)
        while at:
            if at in self.positions:
                return self.positions[at]
            at = at[:-1]
        return self.positions.get((), (1, 1))

    def problem(self, at: JsonPath, message: str) -> str:
        """A problem line for the value at ``at``, with a dotted field name."""
        line, column = self.where(at)
        return problem(self.path, line, column, dotted(at), message)


#: A key that can stand in a field name as written: no space, quote, bracket, dot or colon.
_PLAIN_KEY = re.compile(r"^[^\s\[\]\"'.:\\]+$")


def dotted(at: JsonPath) -> str:
    r"""``("rules", 0, "expect")`` -> ``rules[0].expect``: how users name a field.

    A key of any other text is quoted, JSON-escaped, spaces included (``waivers[0]["\u0020x"]``):
    the field stays one word on one line, whatever a file's keys hold, so a problem line
    ``file:line:col: field: message`` still splits where it should.
    """
    text = ""
    for part in at:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)) and str(part).isprintable():
            text += f".{part}" if text else str(part)
        else:
            text += "[" + json.dumps(str(part)).replace(" ", "\\u0020") + "]"
    return text


class _Builder:
    """Turns a composed node tree into plain Python, checking tags, keys and size."""

    def __init__(self, located: Located) -> None:
        self.located = located
        self.nodes = 0
        self.constructor = yaml.SafeLoader(stream="")
        #: The collections being built, outermost first: an alias to one of them (``&a [*a]``)
        #: would recurse forever.
        self.building: set[int] = set()

    def fail(self, node: yaml.Node, at: JsonPath, message: str) -> InputError:
        mark = node.start_mark
        return InputError(
            [problem(self.located.path, mark.line + 1, mark.column + 1, dotted(at), message)]
        )

    def build(self, node: yaml.Node, at: JsonPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            message = f"document expands to more than {MAX_NODES} values (alias expansion?)"
            raise self.fail(node, at[:1], message)
        self.located.positions.setdefault(
            at, (node.start_mark.line + 1, node.start_mark.column + 1)
        )
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self.building:
                raise self.fail(node, at, "an alias refers to a value that contains it")
            self.building.add(id(node))
            try:
                return self._collection(node, at)
            finally:
                self.building.discard(id(node))
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, at, f"tag {node.tag!r} is not allowed")
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as error:  # e.g. 2026-02-30 read as a date
            raise self.fail(node, at, f"invalid value {node.value!r}: {error}") from None
        # Dates stay text: every stage compares ISO strings, and JSON has no date type.
        return value.isoformat() if hasattr(value, "isoformat") else value

    def _collection(self, node: yaml.CollectionNode, at: JsonPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, at)
        if node.tag != "tag:yaml.org,2002:seq":
            raise self.fail(node, at, f"tag {node.tag!r} is not allowed")
        return [self.build(child, (*at, i)) for i, child in enumerate(node.value)]

    def _mapping(self, node: yaml.MappingNode, at: JsonPath) -> dict[str, Any]:
        if node.tag != "tag:yaml.org,2002:map":
            raise self.fail(node, at, f"tag {node.tag!r} is not allowed")
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key_node, at, "merge keys (<<) are not supported")
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, at, "mapping keys must be plain strings")
            key = str(key_node.value)
            if key in result:
                raise self.fail(key_node, (*at, key), "duplicate key")
            child_at = (*at, key)
            self.located.positions[child_at] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.build(value_node, child_at)
        return result


def read_text(path: Path, label: str | None = None) -> str:
    """Read a UTF-8 text file of bounded size, turning every failure into an InputError."""
    name = label or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                [problem(name, 1, 1, "", f"file is {size} bytes; the limit is {MAX_BYTES}")]
            )
        raw = path.read_bytes()
    except OSError as error:
        raise InputError([problem(name, 1, 1, "", f"cannot read file: {error.strerror}")]) from None
    if b"\x00" in raw:
        raise InputError([problem(name, 1, 1, "", "binary file (contains NUL bytes), not YAML")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError([problem(name, line, 1, "", "file is not UTF-8 text")]) from None


def load_yaml(path: Path, label: str | None = None) -> Located:
    """Parse one YAML document from a file into plain data with positions."""
    name = label or str(path)
    return parse_yaml(read_text(path, name), name)


def _check_depth(text: str) -> None:
    """Raise ``_TooDeep`` at the first collection nested past ``MAX_DEPTH``, from libyaml's
    events (a flat loop): its composer recurses in C, where no depth can be bounded."""
    depth = 0
    for event in yaml.parse(text, Loader=_FAST_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooDeep(event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _compose(text: str, name: str) -> list[yaml.Node]:
    if _FAST_LOADER is None:
        return list(yaml.compose_all(text, Loader=_Loader))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, which libyaml cannot be given
        line = text.count("\n", 0, error.start) + 1
        raise InputError([problem(name, line, 1, "", "text is not valid Unicode")]) from None
    _check_depth(text)
    return list(yaml.compose_all(text, Loader=_FAST_LOADER))


def parse_yaml(text: str, name: str) -> Located:
    """Parse one YAML document from text into plain data with positions."""
    located = Located(name, None)
    try:
        nodes = _compose(text, name)
    except _TooDeep as deep:
        line, column = deep.mark.line + 1, deep.mark.column + 1
        message = f"nested more than {MAX_DEPTH} levels deep"
        raise InputError([problem(name, line, column, "", message)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else 1
        reason = (error.problem or error.context or "invalid YAML").strip()
        if "maximum nesting depth" in reason:  # libyaml's own bound (1,000), met first
            reason = f"nested more than {MAX_DEPTH} levels deep"
            raise InputError([problem(name, line, column, "", reason)]) from None
        raise InputError(
            [problem(name, line, column, "", f"YAML syntax error: {reason}")]
        ) from None
    except yaml.YAMLError as error:
        raise InputError([problem(name, 1, 1, "", f"YAML error: {error}")]) from None
    if not nodes:
        raise InputError([problem(name, 1, 1, "", "empty document")])
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        raise InputError(
            [problem(name, mark.line + 1, 1, "", "more than one YAML document in the file")]
        )
    located.data = _Builder(located).build(nodes[0], ())
    return located
