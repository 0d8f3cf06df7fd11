"""The one mechanism every resource type is mapped with: a declarative table per type.

A table row (``Field``) says where a ``data`` key comes from: a CloudFormation property (renamed
and converted to the API's shape), a value derived from the resource as a whole (its name, its
ARN), AWS's default when the template leaves the property out, or nothing yet (a value only a
deployed stack has). The same rows shape nested items (a lifecycle rule, an alarm's metric
query, a function's aliases), so a type module is data plus a few converters, and what a
table declares is exactly the type's ``collected_keys``.

Converters never invent a value: an ``Unresolved`` passes through untouched (the key it sits in
becomes ``unknown``), and a value of the wrong type stays as written, so a rule fails or errors
on it rather than passing on a coerced one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from runbook_guard.template.mapping_values import text
from runbook_guard.template.model import (
    Position,
    ReadTemplate,
    TemplateResource,
    Unresolved,
)
from runbook_guard.template.names import arn, generated_name


class _Marker:
    """A one-of-a-kind value that stays itself when a default holding it is copied."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __deepcopy__(self, memo: dict[int, Any]) -> _Marker:
        return self


#: Not there: a property the template leaves out, or a key AWS leaves out of its answer.
ABSENT: Any = _Marker("ABSENT")
#: The default is what the field's converter makes of an empty specification.
EMPTY: Any = _Marker("EMPTY")
Props = Mapping[str, Any]
Convert = Callable[[Any, "Ctx"], Any]
Derive = Callable[[Props, "Ctx"], Any]


def as_written(value: Any, ctx: Ctx) -> Any:
    return value


@dataclass(frozen=True)
class Field:
    """One ``data`` key (``a.b`` nests it) and where its value comes from."""

    key: str
    #: The property it is read from, under ``Properties`` (``a.b`` for a nested one).
    prop: str | None = None
    #: AWS's value when the property is left out (``EMPTY``: the converter's reading of ``{}``;
    #: a callable ``(props, ctx)``: one that depends on other properties); ``ABSENT``: the key is
    #: left out, as AWS leaves it out of its answer.
    default: Any = ABSENT
    convert: Convert = as_written
    #: Computed from the resource rather than read (a name, an ARN); ``prop`` then only says
    #: where it is written, when it is.
    derive: Derive | None = None
    #: Known only once deployed (an id AWS assigns): why. The key is declared but never filled.
    after_deploy: str | None = None
    #: The key exists only for some resources (a FIFO queue's attributes).
    when: Callable[[Props, Ctx], bool] | None = None


@dataclass(frozen=True)
class Child:
    """Resources of other types that AWS reports inside their parent, as a list under ``key``
    (a function's aliases and event source mappings, a REST API's stages)."""

    key: str
    cfn_types: tuple[str, ...]
    #: The child's property naming the parent (``FunctionName``, ``RestApiId``).
    refers: str
    fields: tuple[Field, ...]
    #: The child's property whose line stands for the item.
    locate: str
    #: Whether the parent (its context) is what the ``refers`` value names.
    owns: Callable[[Ctx, Any], bool]
    #: A child type's properties as ``fields`` read them, given its CloudFormation type; None
    #: when that resource makes no item (a deployment that names no stage).
    view: Callable[[str, Props], Props | None] | None = None


@dataclass(frozen=True)
class Table:
    """How one CloudFormation type becomes envelopes of one resource type."""

    resource_type: str
    cfn_type: str
    fields: tuple[Field, ...]
    #: The envelope id from the resource's context (an ARN, with the stand-in where AWS
    #: assigns the part that would go there).
    identity: Callable[[Ctx], str]
    #: The property holding the physical name; absent: CloudFormation generates one.
    name_prop: str | None = None
    #: The physical name when it is not simply ``name_prop`` or generated.
    name: Callable[[Ctx], Any] | None = None
    #: The envelope's name when it is not the physical name (a security group's GroupId).
    label: Callable[[Ctx], str] | None = None
    is_global: bool = False
    children: tuple[Child, ...] = ()
    tags_prop: str | None = "Tags"
    #: The resource as this table reads it, when its type spreads what one envelope holds
    #: over several places (a global table's settings for this region sit in its replica).
    normalize: Callable[[TemplateResource, ReadTemplate], TemplateResource] | None = None

    def declared_keys(self) -> list[str]:
        """Top-level keys, plus ``a.b`` for each part of a key several properties build."""
        keys: set[str] = set()
        for row in (*self.fields, *(Field(child.key) for child in self.children)):
            keys.add(row.key.split(".", 1)[0])
            if "." in row.key:
                keys.add(row.key)
        return sorted(keys)


@dataclass
class Scope:
    """What a resource's mapping may look up: its template and that template's resources
    (their plain properties read once, however many parents look for their children)."""

    template: ReadTemplate
    by_id: dict[str, TemplateResource] = field(default_factory=dict)
    _props: dict[int, dict[str, Any]] = field(default_factory=dict)
    _types: dict[tuple[str, ...], list[TemplateResource]] = field(default_factory=dict)

    @classmethod
    def of(cls, template: ReadTemplate) -> Scope:
        return cls(template, {r.logical_id: r for r in template.resources})

    def of_type(self, *cfn_types: str) -> list[TemplateResource]:
        if cfn_types not in self._types:
            found = [r for r in self.template.resources if r.type in cfn_types]
            self._types[cfn_types] = sorted(found, key=lambda r: r.logical_id)
        return self._types[cfn_types]

    def props(self, resource: TemplateResource) -> dict[str, Any]:
        """A resource's properties as plain values (shared: never modify them)."""
        key = id(resource)  # an implicit resource shares its cause's logical id
        if key not in self._props:
            self._props[key] = plain(resource.properties)
        return self._props[key]


@dataclass
class Ctx:
    """One resource being mapped: its properties (plain values), name and template."""

    scope: Scope
    resource: TemplateResource
    props: dict[str, Any]
    name: Any = ABSENT
    #: For an item folded into its parent (an alias into its function): the parent.
    parent: Ctx | None = None

    @classmethod
    def of(cls, scope: Scope, resource: TemplateResource, parent: Ctx | None = None) -> Ctx:
        return cls(scope, resource, scope.props(resource), parent=parent)

    @property
    def template(self) -> ReadTemplate:
        return self.scope.template

    @property
    def region(self) -> str:
        return self.template.region

    @property
    def account(self) -> str:
        return self.template.account

    @property
    def standin(self) -> str:
        """What stands for a name or id the template does not determine (documented in
        docs/template-gate.md): the stack and logical id, which no AWS id looks like."""
        return f"{self.template.stack_name}.{self.resource.logical_id}"

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: str | None = None
    ) -> str:
        return arn(
            self.template.partition,
            service,
            self.region if region is None else region,
            self.account if account is None else account,
            resource,
        )

    def named(self, build: Callable[[str], Any]) -> Any:
        """``build(name)``, or the name's ``Unresolved`` when the template leaves it open."""
        return build(self.name) if isinstance(self.name, str) else self.name

    def display_name(self) -> str:
        return self.name if isinstance(self.name, str) else self.standin

    def where(self, prop: str) -> dict[str, Any]:
        """The position of a property: the most specific path the reader recorded."""
        positions = self.resource.positions
        parts = f"Properties.{prop}".split(".")
        for end in range(len(parts), 0, -1):
            path = ".".join(parts[:end])
            if path in positions:
                return position(positions[path], path)
        return position(self.resource.position, f"Properties.{prop}")

    def ref(self, value: Any) -> TemplateResource | None:
        """The resource a ``Ref``/``GetAtt`` the reader left open points at."""
        target = referenced_id(value)
        return self.scope.by_id.get(target) if target else None


def position(at: Position, prop: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"file": at.file, "line": at.line, "column": at.column}
    if prop:
        found["property"] = prop
    return found


_REFERENCE = re.compile(r"^(?:Ref\s+([A-Za-z0-9]+)$|Fn::GetAtt\s+([A-Za-z0-9]+)\.)")


def referenced_id(value: Any) -> str | None:
    """The logical id of a ``Ref X`` / ``Fn::GetAtt X.Attr`` the reader could not resolve
    (an id AWS assigns): enough to know which resource it names."""
    return _target_of(value.intrinsic) if isinstance(value, Unresolved) else None


@cache
def _target_of(intrinsic: str) -> str | None:
    found = _REFERENCE.match(intrinsic.strip())
    return (found.group(1) or found.group(2)) if found else None


def plain(value: Any) -> Any:
    """JSON-ready values (the decoder's node subclasses, dates) with ``Unresolved`` kept."""
    if isinstance(value, Unresolved) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def first_unresolved(value: Any) -> Unresolved | None:
    """The worst ``Unresolved`` anywhere in a value (undeterminable over after deploy),
    the first of its kind in key order."""
    found: list[Unresolved] = []

    def walk(node: Any) -> None:
        if isinstance(node, Unresolved):
            found.append(node)
        elif isinstance(node, Mapping):
            for key in node:
                walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    worst = [u for u in found if u.kind == "unresolvable"] or found
    return worst[0] if worst else None


def get(props: Props, path: str) -> Any:
    """A property by dotted path; ``ABSENT`` when left out, the ``Unresolved`` a part is."""
    node: Any = props
    for part in path.split("."):
        if isinstance(node, Unresolved):
            return node
        if not isinstance(node, Mapping) or part not in node:
            return ABSENT
        node = node[part]
    return node


def put(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


@dataclass
class Assembled:
    data: dict[str, Any]
    #: data key -> the property it was read from.
    sources: dict[str, str]
    #: data keys filled with AWS's default.
    defaults: list[str]
    #: data key -> why only a deployed stack knows it.
    after_deploy: dict[str, str]


def assemble(fields: Sequence[Field], props: Props, ctx: Ctx) -> Assembled:
    """Apply a table to a property mapping (a resource's, or one nested item's)."""
    out = Assembled({}, {}, [], {})
    for row in fields:
        if row.when is not None and not row.when(props, ctx):
            continue
        if row.after_deploy is not None:
            out.after_deploy[row.key] = row.after_deploy
            continue
        raw = get(props, row.prop) if row.prop else ABSENT
        if row.derive is not None:
            value = row.derive(props, ctx)
        elif raw is not ABSENT:
            value = raw if isinstance(raw, Unresolved) else row.convert(raw, ctx)
        elif row.default is EMPTY:
            value = row.convert({}, ctx)
        elif callable(row.default):
            value = row.default(props, ctx)
        else:
            value = copy.deepcopy(row.default)
        if value is ABSENT:
            continue
        put(out.data, row.key, value)
        if row.prop and raw is not ABSENT:
            out.sources[row.key] = row.prop
        elif row.prop or row.derive is None:
            out.defaults.append(row.key)
    return out


def shape(fields: Sequence[Field]) -> Convert:
    """A nested object rebuilt with its own table; anything but a mapping as written."""

    def convert(value: Any, ctx: Ctx) -> Any:
        if not isinstance(value, Mapping):
            return value
        return assemble(fields, value, ctx).data

    return convert


def each(item: Convert) -> Convert:
    """A list whose items are converted one by one; anything but a list as written."""

    def convert(value: Any, ctx: Ctx) -> Any:
        if not isinstance(value, list):
            return value
        return [v if isinstance(v, Unresolved) else item(v, ctx) for v in value]

    return convert


def camel(*names: str, convert: Convert | None = None) -> tuple[Field, ...]:
    """Fields whose API name is the property's with a lower-case first letter."""
    return tuple(
        Field(name[0].lower() + name[1:], name, convert=convert or as_written) for name in names
    )


def constant(value: Any) -> Derive:
    return lambda props, ctx: copy.deepcopy(value)


def the_name(props: Props, ctx: Ctx) -> Any:
    return ctx.name


def physical_name(ctx: Ctx, name_prop: str | None, cfn_type: str) -> Any:
    """The name a property sets (as text), else the one CloudFormation generates."""
    written = get(ctx.props, name_prop) if name_prop else ABSENT
    if written is ABSENT or written is None:
        return generated_name(ctx.template.stack_name, ctx.resource.logical_id, cfn_type)
    return text(written)
