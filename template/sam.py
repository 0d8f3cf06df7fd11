"""The SAM transform, run offline as ``sam deploy`` would have CloudFormation run it.

aws-sam-translator is given a static (empty) managed-policy map, so it never asks IAM, and a
stand-in "session" that only carries the region, so it never builds a boto3 session or reads
the environment's region. Two things it cannot do offline are done before it runs:

* a local ``CodeUri``/``ContentUri``/``DefinitionUri`` (a folder ``sam build`` would upload) is
  replaced by ``s3://runbook-guard-placeholder/<LogicalId>``, as the translator refuses paths;
* nested stacks (``AWS::Serverless::Application`` would make it call the Serverless Application
  Repository, ``AWS::CloudFormation::Stack`` is another template) are removed and reported as
  not followed, in every template, SAM or not.

Which SAM resource produced a generated resource is taken from the translator itself: each SAM
resource's ``Metadata`` gets a marker that ``passthrough_metadata`` copies onto everything the
resource generates (the few shared resources SAM makes outside that loop are attributed in
``sam_positions``). The marker is removed again; generated resources keep the SAM resource's
own ``Metadata``, as ``sam deploy`` passes it through.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

from samtranslator.model.exceptions import ExceptionWithMessage
from samtranslator.parser.parser import Parser
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.translator import Translator

from runbook_guard.engine.errors import InputError, problem
from runbook_guard.template.decode import Marks, fail, key_position
from runbook_guard.template.model import Position
from runbook_guard.template.sam_positions import SamSource, index_sam, owner

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
NESTED_STACK_TYPES = frozenset({"AWS::CloudFormation::Stack", "AWS::Serverless::Application"})
PLACEHOLDER_BUCKET = "runbook-guard-placeholder"
_MARKER = "runbook-guard:sam-origin"

#: SAM properties that may name a local path, per SAM type (and per Globals section).
_LOCAL_URIS = {
    "AWS::Serverless::Function": ("CodeUri",),
    "AWS::Serverless::WebFunction": ("CodeUri",),
    "AWS::Serverless::LayerVersion": ("ContentUri",),
    "AWS::Serverless::Api": ("DefinitionUri",),
    "AWS::Serverless::HttpApi": ("DefinitionUri",),
    "AWS::Serverless::StateMachine": ("DefinitionUri",),
    "AWS::Serverless::GraphQLApi": ("SchemaUri",),
}
_GLOBAL_URIS = {"Function": "CodeUri", "Api": "DefinitionUri", "HttpApi": "DefinitionUri"}
_ID_IN_MESSAGE = re.compile(r"\[([A-Za-z0-9]+)\]")


@dataclass(frozen=True)
class Nested:
    """A nested stack taken out of the template, decided later against its Condition."""

    logical_id: str
    type: str
    position: Position
    condition: Any


@dataclass
class Transformed:
    """The CloudFormation template and what the transform made of each SAM resource."""

    document: Mapping[str, Any]
    #: Generated logical id -> the SAM logical id its marker names (None: no marker).
    generated: dict[str, str | None] = field(default_factory=dict)
    #: SAM logical id -> its Metadata node as written (positions intact).
    metadata: dict[str, Any] = field(default_factory=dict)
    source: SamSource | None = None


def transforms_of(document: Mapping[str, Any], marks: Marks) -> list[str]:
    """The template's Transform list; a macro that runs only in AWS is refused."""
    declared = document.get("Transform", [])
    names = declared if isinstance(declared, list) else [declared]
    for name in names:
        if name not in (SAM_TRANSFORM, LANGUAGE_EXTENSIONS):
            where = key_position(document, "Transform", marks)
            fail(
                marks.file,
                where,
                "Transform",
                f"the transform {name!r} is a macro that runs only in AWS; the gate reads "
                f"{SAM_TRANSFORM} and {LANGUAGE_EXTENSIONS} templates",
            )
    return [str(name) for name in names]


def take_nested_stacks(document: dict[str, Any], marks: Marks) -> list[Nested]:
    """Remove nested stacks from ``Resources`` (in place) and return them."""
    resources = document["Resources"]
    nested: list[Nested] = []
    for logical_id in list(resources):
        resource = resources[logical_id]
        if resource["Type"] in NESTED_STACK_TYPES:
            where = marks.at(logical_id, Position(marks.file, 1, 1))
            nested.append(
                Nested(str(logical_id), str(resource["Type"]), where, resource.get("Condition"))
            )
            del resources[logical_id]
    return nested


def run_sam(
    document: dict[str, Any], marks: Marks, parameters: Mapping[str, Any], region: str
) -> Transformed:
    """Translate a SAM template (changed in place by the translator; use the result)."""

    source = index_sam(document, marks)
    _replace_local_uris(document)
    authored = {str(lid) for lid, r in document["Resources"].items() if not _is_sam(r)}
    metadata: dict[str, Any] = {}
    for logical_id, resource in document["Resources"].items():
        original = resource.get("Metadata")
        if _is_sam(resource) and (original is None or isinstance(original, Mapping)):
            metadata[str(logical_id)] = original
            resource["Metadata"] = {**(original or {}), _MARKER: str(logical_id)}
    saved_region = ArnGenerator.BOTO_SESSION_REGION_NAME  # the translator sets it globally
    translator = Translator({}, Parser(), boto_session=_Region(region))
    try:
        with _quiet("samtranslator"):
            try:
                output = translator.translate(document, dict(parameters), passthrough_metadata=True)
            finally:
                # Its timing metrics go nowhere (a dummy publisher) but would log a warning
                # when garbage-collected unpublished.
                translator.metrics.publish()
    except ExceptionWithMessage as error:
        _refuse(error, marks, document, source)
    except Exception as error:  # the translator's own bugs on odd input must not be a traceback
        where = key_position(document, "Transform", marks)
        fail(
            marks.file,
            where,
            "Transform",
            f"the SAM transform failed: {type(error).__name__}: {error}",
        )
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = saved_region
    result = Transformed(output, metadata=metadata, source=source)
    for logical_id, resource in output.get("Resources", {}).items():
        if logical_id in authored:
            continue
        meta = resource.get("Metadata")
        origin = meta.get(_MARKER) if isinstance(meta, Mapping) else None
        result.generated[str(logical_id)] = origin
        if origin is not None:
            original = metadata.get(origin)
            if original:
                resource["Metadata"] = original
            else:
                del resource["Metadata"]
    return result


def _is_sam(resource: Mapping[str, Any]) -> bool:
    return str(resource.get("Type", "")).startswith("AWS::Serverless::")


def _is_local(uri: Any) -> bool:
    return isinstance(uri, str) and not uri.startswith("s3://")


def _replace_local_uris(document: dict[str, Any]) -> None:
    for logical_id, resource in document["Resources"].items():
        properties = resource.get("Properties")
        if not isinstance(properties, dict):
            continue
        for name in _LOCAL_URIS.get(str(resource["Type"]), ()):
            if _is_local(properties.get(name)):
                properties[name] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}"
    globals_node = document.get("Globals")
    if isinstance(globals_node, dict):
        for section, name in _GLOBAL_URIS.items():
            entry = globals_node.get(section)
            if isinstance(entry, dict) and _is_local(entry.get(name)):
                entry[name] = f"s3://{PLACEHOLDER_BUCKET}/Globals"


class _Region:
    """All the translator reads from its boto3 session: the region (no credentials, no env)."""

    def __init__(self, region: str) -> None:
        self.region_name = region


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """The translator logs warnings about its own feature flags; they are not the user's."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _refuse(error: Any, marks: Marks, document: Mapping[str, Any], source: SamSource) -> NoReturn:
    """Each of the translator's complaints, on the line of the resource (or property) it names.

    A complaint may name a resource SAM was generating (``WorkerJobs`` for the ``Jobs`` event
    of ``Worker``): it is reported on that event's entry in the SAM resource.
    """
    problems: list[str] = []
    for cause in list(getattr(error, "causes", None) or [error]):
        message = str(getattr(cause, "message", cause))
        logical_id = getattr(cause, "_logical_id", None)
        if not isinstance(logical_id, str):
            found = _ID_IN_MESSAGE.search(message)
            logical_id = found[1] if found else None
        if logical_id == "Globals":
            where, field_name = key_position(document, "Globals", marks), "Globals"
        else:
            where = key_position(document, "Transform", marks)
            field_name = f"Resources.{logical_id}" if logical_id else "Transform"
            sam, anchor = owner(logical_id or "", source)
            key_path = getattr(cause, "key_path", None)
            if sam is not None and isinstance(key_path, str):
                anchor = sam.paths.get(("Properties", *key_path.split(".")), anchor)
            where = anchor or where
        line, column = (where.line, where.column) if where else (None, None)
        problems.append(problem(marks.file, line, column, field_name, f"SAM transform: {message}"))
    raise InputError(problems)
