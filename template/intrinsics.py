"""Intrinsic functions resolved on the CloudFormation template (after the SAM transform).

Every value the template determines becomes a plain value; every value it does not becomes an
``Unresolved`` standing where the value would be, with the intrinsic as written and where it
is written. An ``Unresolved`` operand makes the whole result unresolved, keeping the worst
kind (``unresolvable`` over ``after_deploy``) and that operand's own text and position, so a
reason names the root cause (``Fn::GetAtt Table.StreamArn``), not the ``Fn::Sub`` around it.

While resolving a resource's properties the resolver records, per property path, where the
value is written (``Trail``): the key's own mark; for values SAM moved, a locator supplied by
the caller (``sam_positions``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from runbook_guard.template import refs
from runbook_guard.template.conditions import Conditions
from runbook_guard.template.decode import Marks, fail, key_position, plain
from runbook_guard.template.functions import FUNCTIONS
from runbook_guard.template.model import Position, Unresolved
from runbook_guard.template.names import generated_name
from runbook_guard.template.parameters import AFTER_DEPLOY_PSEUDO
from runbook_guard.template.values import NO_VALUE, intrinsic_of, short, worst

Path = tuple[str | int, ...]
#: (path, key node or None for a list item, value node, parent's position) -> position.
Locate = Callable[[Path, Any, Any, Position], Position]


@dataclass
class Trail:
    """Where a resolution is in a resource and where to record each path's position."""

    path: Path
    positions: dict[Path, Position]
    locate: Locate

    def child(self, key: str | int) -> Trail:
        return Trail((*self.path, key), self.positions, self.locate)


@dataclass(frozen=True)
class Stack:
    """The stack the template is deployed as: it fixes names, ARNs and pseudo parameters."""

    name: str
    region: str
    account: str
    partition: str
    url_suffix: str


class Resolver:
    """Resolves intrinsics of one template for one stack, with its parameters and conditions."""

    def __init__(
        self,
        *,
        marks: Marks,
        stack: Stack,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        mappings: Mapping[str, Any],
        conditions: Mapping[str, Any],
        resources: Mapping[str, Mapping[str, Any]],
        not_followed: Mapping[str, str],
        secret: Collection[str] = (),
        stand_ins: Collection[str] = (),
    ) -> None:
        self.marks = marks
        self.stack = stack
        self._parameters = parameters
        self._secret = frozenset(secret)
        self._stand_ins = frozenset(stand_ins)
        self._deciding = 0
        self._pseudo = pseudo
        self.mappings = mappings
        self.conditions = Conditions(conditions, self._decide_operand, marks)
        self._resources = dict(resources)
        self._absent: dict[str, str] = {}
        self._not_followed = not_followed
        self._subjects: dict[str, _Resource] = {}
        self._naming: list[str] = []

    def set_absent(self, logical_id: str, why: str) -> None:
        """A resource whose condition is false: references to it cannot be answered."""
        self._absent[logical_id] = why
        self._resources.pop(logical_id, None)

    # -- the walk -------------------------------------------------------------------------

    def resolve(self, node: Any, at: Position, trail: Trail | None = None) -> Any:
        """``node`` with every intrinsic resolved; ``NO_VALUE`` if it resolves to nothing."""
        function = intrinsic_of(node)
        if function is not None:
            here = self.marks.at(node, at)
            (argument,) = node.values()
            if function == "Fn::If":
                return self._if(argument, here, trail)
            if function == "Ref":
                value = self._ref(argument, here)
            elif function == "Fn::GetAtt":
                value = self._getatt(argument, here)
            elif function in FUNCTIONS:
                value = FUNCTIONS[function](self, argument, here)
            else:
                value = Unresolved("unresolvable", f"{function} {short(argument)}".strip(), here)
            if trail is not None:
                self._fill(value, at, trail)
            return value
        if isinstance(node, Mapping):
            return dict(self._each(((str(k), k, v) for k, v in node.items()), at, trail))
        if isinstance(node, list):
            return [value for _, value in self._each(((None, None, v) for v in node), at, trail)]
        return plain(node)

    def _each(
        self, entries: Iterable[tuple[str | None, Any, Any]], at: Position, trail: Trail | None
    ) -> list[tuple[str | None, Any]]:
        """Resolve a mapping's (name, key node, value) or a list's (None, None, item) entries.

        What resolves to ``AWS::NoValue`` is dropped, so a list item's path index counts only
        the items kept (``Tags[1]`` is the second tag CloudFormation receives).
        """
        kept: list[tuple[str | None, Any]] = []
        for name, key, child in entries:
            child_trail = trail.child(len(kept) if name is None else name) if trail else None
            child_at = child_trail.locate(child_trail.path, key, child, at) if child_trail else at
            value = self.resolve(child, child_at, child_trail)
            if value is NO_VALUE:
                continue
            kept.append((name, value))
            if child_trail:
                child_trail.positions[child_trail.path] = child_at
        return kept

    def properties(self, node: Any, at: Position, trail: Trail, field: str) -> dict[str, Any]:
        """A resource's Properties, which must resolve to a mapping.

        ``Properties: !If [Undecidable, {A: 1}, {A: 2, B: 3}]`` is not the user's error: every
        property either branch could set (``A``, ``B``) is the undecidable ``Unresolved``.
        """
        value = self.resolve(node, at, trail)
        if isinstance(value, dict):
            return value
        if isinstance(value, Unresolved) and intrinsic_of(node) == "Fn::If":
            branches = [b for b in node["Fn::If"][1:] if isinstance(b, Mapping)]
            keys = dict.fromkeys(str(key) for branch in branches for key in branch)
            for key in keys:
                trail.positions[trail.child(key).path] = value.position or at
            return dict.fromkeys(keys, value)
        if isinstance(value, Unresolved):
            where, shown = value.position or at, value.intrinsic
        else:
            where, shown = self.marks.at(node, at), short(value)
        fail(self.marks.file, where, field, f"Properties resolve to {shown!r}, not a mapping")

    def _fill(self, value: Any, at: Position, trail: Trail) -> None:
        """A computed structure's parts are written where the intrinsic is."""
        children: Any = ()
        if isinstance(value, Mapping):
            children = value.items()
        elif isinstance(value, list):
            children = enumerate(value)
        for key, item in children:
            child = trail.child(key)
            trail.positions.setdefault(child.path, at)
            self._fill(item, at, child)

    def value(self, node: Any, at: Position) -> Any:
        """An operand resolved; ``Ref AWS::NoValue`` as an operand is the empty string."""
        resolved = self.resolve(node, at)
        return "" if resolved is NO_VALUE else resolved

    def text(self, node: Any, at: Position, function: str) -> Any:
        """An operand that must be a string (or a value CloudFormation turns into one)."""
        value = self.value(node, at)
        if isinstance(value, Unresolved):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float, str)):
            return str(value)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return ",".join(value)
        missing = worst(value)
        if missing is not None:
            return missing
        fail(self.marks.file, at, function, f"{function} needs a string here, not {short(value)!r}")

    # -- condition-driven ------------------------------------------------------------------

    def _decide_operand(self, node: Any, at: Position) -> Any:
        """An operand of ``Fn::Equals``: NoEcho values are compared here and only here (a
        condition yields a decision, never the value); stand-ins are not compared at all."""
        self._deciding += 1
        try:
            return self.resolve(node, at)
        finally:
            self._deciding -= 1

    def _if(self, argument: Any, here: Position, trail: Trail | None) -> Any:
        if not isinstance(argument, list) or len(argument) != 3:
            fail(
                self.marks.file,
                here,
                "Fn::If",
                "Fn::If takes [condition, value if true, value if false]",
            )
        decided = self.conditions.decide(argument[0], here)
        if decided is None:
            return Unresolved(
                "unresolvable", f"Fn::If {argument[0]} (the condition is undecidable)", here
            )
        return self.resolve(argument[1] if decided else argument[2], here, trail)

    # -- Ref and GetAtt -------------------------------------------------------------------

    def is_parameter(self, name: str) -> bool:
        """A parameter or pseudo parameter (``${A.B}`` in Fn::Sub is then not a GetAtt)."""
        return name in self._parameters or name in self._pseudo

    def _ref(self, argument: Any, here: Position) -> Any:
        name = self.text(argument, here, "Ref") if isinstance(argument, Mapping) else argument
        if isinstance(name, Unresolved):
            return name
        name = str(name)
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._pseudo:
            if self._deciding and name in self._stand_ins:
                # Names and ARNs may be built on a stand-in; a decision may not be taken on one.
                shown = f"Ref {name} (not given: {self._pseudo[name]} only stands in for it)"
                return Unresolved("unresolvable", shown, here)
            return self._pseudo[name]
        if name in AFTER_DEPLOY_PSEUDO:
            return Unresolved("after_deploy", f"Ref {name}", here)
        if name in self._parameters:
            value = self._parameters[name]
            if isinstance(value, Unresolved):
                return replace(value, position=here)
            if name in self._secret and not self._deciding:
                # A NoEcho value never enters a property: whatever is built from it (a Sub'd
                # description, a tag, an ARN) would reach the snapshot file and the reports.
                return Unresolved(
                    "unresolvable", f"Ref {name} (NoEcho: the gate keeps it out)", here
                )
            return value
        if name in self._resources:
            return self._subject(name).ref(here)
        if name in self._not_followed:
            return Unresolved("after_deploy", f"Ref {name} (a nested stack)", here)
        if name in self._absent:
            return Unresolved("unresolvable", f"Ref {name} ({self._absent[name]})", here)
        fail(
            self.marks.file, here, "Ref", f"Ref {name}: no parameter or resource is named {name!r}"
        )

    def _getatt(self, argument: Any, here: Position) -> Any:
        if isinstance(argument, str) and "." in argument:
            argument = argument.split(".", 1)
        if not isinstance(argument, list) or len(argument) != 2:
            fail(self.marks.file, here, "Fn::GetAtt", "Fn::GetAtt takes [LogicalId, Attribute]")
        logical_id = str(argument[0])
        attribute = self.text(argument[1], here, "Fn::GetAtt")
        if isinstance(attribute, Unresolved):
            return attribute
        text = f"Fn::GetAtt {logical_id}.{attribute}"
        if logical_id in self._resources:
            return self._subject(logical_id).attribute(attribute, text, here)
        if logical_id in self._not_followed:
            return Unresolved("unresolvable", f"{text} (a nested stack, not followed)", here)
        if logical_id in self._absent:
            return Unresolved("unresolvable", f"{text} ({self._absent[logical_id]})", here)
        fail(self.marks.file, here, "Fn::GetAtt", f"{text}: no resource is named {logical_id!r}")

    def _subject(self, logical_id: str) -> _Resource:
        if logical_id not in self._subjects:
            node = self._resources[logical_id]
            top = self.marks.at(node, Position(self.marks.file, 1, 1))
            at = key_position(self._resources, logical_id, self.marks) or top
            self._subjects[logical_id] = _Resource(self, logical_id, node, at)
        return self._subjects[logical_id]

    def physical_name(self, subject: _Resource, kind: refs.Kind) -> Any:
        """The name the properties set, else CloudFormation's; a cycle CloudFormation refuses."""
        if subject.logical_id in self._naming:
            chain = " -> ".join([*self._naming, subject.logical_id])
            field = f"Resources.{subject.logical_id}"
            fail(self.marks.file, subject.position, field, f"circular reference {chain}")
        self._naming.append(subject.logical_id)
        try:
            written = subject.prop(*kind.name_property) if kind.name_property else None
            if written is not None:
                return written if isinstance(written, Unresolved) else str(written)
            suffix = refs.fifo_suffix(subject.type, subject.prop("FifoQueue"))
            return generated_name(self.stack.name, subject.logical_id, subject.type) + suffix
        finally:
            self._naming.pop()


class _Resource:
    """A resource as Ref/GetAtt see it: its type, lazily resolved properties and its name."""

    def __init__(
        self, resolver: Resolver, logical_id: str, node: Mapping[str, Any], position: Position
    ) -> None:
        self._resolver = resolver
        self.logical_id = logical_id
        self.type = str(node.get("Type"))
        self._properties = node.get("Properties") or {}
        self.position = position
        stack = resolver.stack
        self.partition, self.region, self.account = stack.partition, stack.region, stack.account
        self.url_suffix = stack.url_suffix
        self._kind = refs.KINDS.get(self.type)
        self._cache: dict[tuple[str, ...], Any] = {}

    def prop(self, *path: str) -> Any:
        if path not in self._cache:
            node: Any = self._properties
            for key in path:
                node = node.get(key) if isinstance(node, Mapping) else None
            value = None if node is None else self._resolver.resolve(node, self.position)
            self._cache[path] = None if value is NO_VALUE else value
        return self._cache[path]

    def name(self) -> Any:
        kind = self._kind or refs.Kind()
        return self._resolver.physical_name(self, kind)

    def ref(self, here: Position) -> Any:
        if self._kind is None or self._kind.ref is None:
            return Unresolved("after_deploy", f"Ref {self.logical_id}", here)
        return self._kind.ref(self)

    def attribute(self, attribute: str, text: str, here: Position) -> Any:
        if refs.is_custom(self.type):
            return Unresolved("unresolvable", f"{text} (a custom resource's attribute)", here)
        builder = self._kind.attributes.get(attribute) if self._kind else None
        if builder is None:
            return Unresolved("after_deploy", text, here)
        # An Unresolved from the target's own properties keeps its root cause and position.
        return builder(self)
