"""Where the SAM template writes what a generated CloudFormation resource holds.

aws-sam-translator deep-copies the template with cfn-lint's nodes, so most *string* values and
some mappings it moves into generated resources still carry their mark (a Lambda function's
``Runtime`` keeps the mark of the ``Runtime:`` value under ``Globals.Function``). Numbers and
booleans carry none, and SAM renames some properties (``Tracing`` -> ``TracingConfig.Mode``).
So a generated resource's property path is located, in order, by:

1. its key's own mark (SAM kept the key);
2. its value's mark, mapped back to the key that holds that value in the SAM template (the
   index is built before the transform);
3. its name, looked up in the SAM properties it came from (the SAM resource, an
   ``Events.<Name>.Properties`` entry, ``DeploymentPreference``) and then in ``Globals``, with
   SAM's renames;
4. its parent's position, which for a top-level property is the resource's anchor: the
   ``Events.<Name>`` entry of an event source mapping, the ``AutoPublishAlias:`` line of an
   alias or version, ``DeploymentPreference:`` for CodeDeploy resources, else the SAM
   resource's logical id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook_guard.template.decode import Marks
from runbook_guard.template.intrinsics import Path
from runbook_guard.template.model import Position

#: ``Globals`` section per SAM type.
GLOBALS_SECTION = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::Api": "Api",
    "AWS::Serverless::HttpApi": "HttpApi",
    "AWS::Serverless::SimpleTable": "SimpleTable",
    "AWS::Serverless::StateMachine": "StateMachine",
    "AWS::Serverless::LayerVersion": "LayerVersion",
}

#: CloudFormation property -> the SAM properties it is made from, per generated type.
RENAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "AWS::Lambda::Function": {
        "TracingConfig": ("Tracing",),
        "Code": ("CodeUri", "InlineCode", "ImageUri"),
        "DeadLetterConfig": ("DeadLetterQueue",),
        "Role": ("Role", "Policies"),
    },
    "AWS::Lambda::Alias": {"Name": ("AutoPublishAlias",)},
    "AWS::Lambda::Version": {"Description": ("VersionDescription",)},
    "AWS::Lambda::EventSourceMapping": {"EventSourceArn": ("Queue", "Stream")},
    "AWS::ApiGateway::RestApi": {"Body": ("DefinitionBody",), "BodyS3Location": ("DefinitionUri",)},
    "AWS::ApiGatewayV2::Api": {"Body": ("DefinitionBody",), "BodyS3Location": ("DefinitionUri",)},
    "AWS::DynamoDB::Table": {"KeySchema": ("PrimaryKey",), "AttributeDefinitions": ("PrimaryKey",)},
    "AWS::StepFunctions::StateMachine": {
        "LoggingConfiguration": ("Logging",),
        "TracingConfiguration": ("Tracing",),
        "DefinitionString": ("Definition",),
        "DefinitionS3Location": ("DefinitionUri",),
    },
    "AWS::Lambda::LayerVersion": {"Content": ("ContentUri",)},
    "AWS::CodeDeploy::DeploymentGroup": {
        "DeploymentConfigName": ("Type",),
        "AlarmConfiguration": ("Alarms",),
    },
    "AWS::IAM::Role": {"ManagedPolicyArns": ("Policies",)},
}


@dataclass
class SamResource:
    """A SAM resource as written, before the transform changes it in place."""

    logical_id: str
    type: str
    position: Position
    #: ``("Properties", "Events", "Get")`` -> where that key is written.
    paths: dict[Path, Position] = field(default_factory=dict)
    #: Event name -> (event Type, its Properties' keys).
    events: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)

    def at(self, *path: str | int) -> Position:
        return self.paths.get(tuple(path), self.position)


@dataclass
class SamSource:
    """Positions in the SAM template, indexed before the translator rewrites it."""

    marks: Marks
    resources: dict[str, SamResource] = field(default_factory=dict)
    #: ``("Function", "Runtime")`` -> where ``Globals.Function.Runtime`` is written.
    globals: dict[Path, Position] = field(default_factory=dict)
    #: A value's own position -> the position of the key holding it.
    values: dict[Position, Position] = field(default_factory=dict)


def index_sam(document: Mapping[str, Any], marks: Marks) -> SamSource:
    """Record every key's position in SAM resources and Globals, and value -> key marks."""
    source = SamSource(marks)
    top = Position(marks.file, 1, 1)
    globals_node = document.get("Globals")
    if isinstance(globals_node, Mapping):
        _walk(globals_node, (), marks.at(globals_node, top), source, source.globals)
    for logical_id, resource in document["Resources"].items():
        kind = str(resource["Type"])
        if not kind.startswith("AWS::Serverless::"):
            continue
        at = marks.at(logical_id, top)
        entry = SamResource(str(logical_id), kind, at)
        _walk(resource, (), at, source, entry.paths)
        events = (resource.get("Properties") or {}).get("Events")
        if isinstance(events, Mapping):
            for name, event in events.items():
                if isinstance(event, Mapping):
                    properties = event.get("Properties")
                    keys = (
                        frozenset(str(k) for k in properties)
                        if isinstance(properties, Mapping)
                        else frozenset()
                    )
                    entry.events[str(name)] = (str(event.get("Type")), keys)
        source.resources[entry.logical_id] = entry
    return source


def _walk(
    node: Any, path: Path, at: Position, source: SamSource, into: dict[Path, Position]
) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            where = source.marks.at(key, at)
            child: Path = (*path, str(key))
            into[child] = where
            value_at = source.marks.of(value)
            if value_at is not None:
                source.values.setdefault(value_at, where)
            _walk(value, child, where, source, into)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            where = source.marks.at(item, at)
            entry: Path = (*path, index)
            into[entry] = where
            _walk(item, entry, where, source, into)


#: (positions, prefix): where same-named SAM properties are looked up.
Base = tuple[Mapping[Path, Position], Path]


@dataclass(frozen=True)
class Locator:
    """Locates a property path of one resource (see the module's order of evidence)."""

    marks: Marks
    values: Mapping[Position, Position]
    #: (positions, prefix): where same-named SAM properties are looked up, in order.
    bases: tuple[Base, ...] = ()
    renames: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __call__(self, path: Path, key: Any, value: Any, parent: Position) -> Position:
        written = self.marks.of(key) if key is not None else None
        if written is not None:
            return written
        value_at = self.marks.of(value)
        if value_at is not None:
            if value_at in self.values:
                return self.values[value_at]
            if key is None:
                return value_at
        if self.bases and len(path) >= 2 and path[0] == "Properties":
            first, rest = path[1], path[2:]
            names = (first, *self.renames.get(str(first), ()))
            for positions, prefix in self.bases:
                for name in names:
                    candidate: Path = (*prefix, name, *rest)
                    found = positions.get(candidate)
                    if found is not None:
                        return found
        return parent


@dataclass(frozen=True)
class Attribution:
    """Which SAM resource a generated resource comes from, and how to locate its paths."""

    origin: str | None
    position: Position
    anchor: Position
    locate: Locator


def attribute(
    logical_id: str,
    cfn_type: str,
    origin: str | None,
    source: SamSource,
    fallback: Position,
) -> Attribution:
    """Attribute one resource the transform produced (``origin`` from its passed-through marker)."""
    event = None
    if origin is None or origin not in source.resources:
        origin, event = _implicit_origin(logical_id, source)
    if origin is None:
        return Attribution(None, fallback, fallback, Locator(source.marks, source.values))
    sam = source.resources[origin]
    bases, anchor = _evidence(
        logical_id, cfn_type, sam, event or _event_of(logical_id, sam), source
    )
    locate = Locator(source.marks, source.values, bases, RENAMES.get(cfn_type, {}))
    return Attribution(origin, sam.position, anchor, locate)


def _evidence(
    logical_id: str, cfn_type: str, sam: SamResource, event: str | None, source: SamSource
) -> tuple[tuple[Base, ...], Position]:
    """Where same-named SAM properties are looked up, and the resource's anchor position."""
    section = GLOBALS_SECTION.get(sam.type)
    own: Base = (sam.paths, ("Properties",))
    shared: tuple[Base, ...] = ((source.globals, (section,)),) if section else ()
    primary = logical_id == sam.logical_id
    if event is not None and not primary:
        anchor = sam.at("Properties", "Events", event)
        if logical_id.startswith(("ServerlessRestApi", "ServerlessHttpApi")):
            api = "HttpApi" if logical_id.startswith("ServerlessHttpApi") else "Api"
            return ((source.globals, (api,)),), anchor
        return ((sam.paths, ("Properties", "Events", event, "Properties")),), anchor
    if cfn_type in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        return (own, *shared), sam.at("Properties", "AutoPublishAlias")
    if cfn_type.startswith("AWS::CodeDeploy::") or logical_id == "CodeDeployServiceRole":
        preference: Base = (sam.paths, ("Properties", "DeploymentPreference"))
        return (preference,), sam.at("Properties", "DeploymentPreference")
    if cfn_type == "AWS::IAM::Role" and not primary:
        written = [
            p for p in (("Properties", "Policies"), ("Properties", "Role")) if p in sam.paths
        ]
        return (own,), sam.paths[written[0]] if written else sam.position
    if not primary and cfn_type.startswith(("AWS::ApiGateway::", "AWS::ApiGatewayV2::")):
        return (own, *shared), sam.at("Properties", "StageName")
    return (own, *shared), sam.position


def owner(logical_id: str, source: SamSource) -> tuple[SamResource | None, Position | None]:
    """The SAM resource a (possibly generated) logical id belongs to, and its anchor there."""
    if logical_id in source.resources:
        sam = source.resources[logical_id]
        return sam, sam.position
    prefixed = [sam for sam in source.resources.values() if logical_id.startswith(sam.logical_id)]
    if not prefixed:
        return None, None
    sam = max(prefixed, key=lambda candidate: len(candidate.logical_id))
    event = _event_of(logical_id, sam)
    return sam, sam.at("Properties", "Events", event) if event else sam.position


def _event_of(logical_id: str, sam: SamResource) -> str | None:
    """The event a resource was generated for: its logical id is ``<SAM id><Event>...``."""
    rest = logical_id[len(sam.logical_id) :] if logical_id.startswith(sam.logical_id) else ""
    matches = [name for name in sam.events if rest.startswith(name)]
    return max(matches, key=len) if matches else None


def _implicit_origin(logical_id: str, source: SamSource) -> tuple[str | None, str | None]:
    """Resources SAM creates for several SAM resources at once, given to the first that asks.

    The implicit ``ServerlessRestApi``/``ServerlessHttpApi`` and their stages come from the
    first function with an ``Api``/``HttpApi`` event naming no API; the CodeDeploy application
    and service role from the first function with a ``DeploymentPreference``. Anything else is
    given to the SAM resource whose logical id is its longest prefix.
    """
    functions = [r for r in source.resources.values() if r.type == "AWS::Serverless::Function"]
    for prefix, event_type, api_key in (
        ("ServerlessRestApi", "Api", "RestApiId"),
        ("ServerlessHttpApi", "HttpApi", "ApiId"),
    ):
        if logical_id.startswith(prefix):
            for function in functions:
                for name, (kind, keys) in function.events.items():
                    if kind == event_type and api_key not in keys:
                        return function.logical_id, name
    if logical_id in ("ServerlessDeploymentApplication", "CodeDeployServiceRole"):
        for function in functions:
            if ("Properties", "DeploymentPreference") in function.paths:
                return function.logical_id, None
    sam, _anchor = owner(logical_id, source)
    return (sam.logical_id if sam else None), None
