"""A SAM/CloudFormation template file -> ``ReadTemplate``: what one deploy of it would create.

The stages, each in its own module:

1. ``decode``: the file, with a position for every key (cfn-lint's decoder);
2. ``samconfig`` + ``parameters``: values from Default < samconfig.toml < overrides, checked as
   CloudFormation checks them;
3. ``sam``: nested stacks set aside (reported, not followed); SAM's own transform, offline;
4. ``conditions``: a resource whose Condition is false does not exist;
5. ``intrinsics``: every property resolved, or an ``Unresolved`` marker where the template does
   not determine it; ``sam_positions`` locates what SAM generated on the SAM lines.

Choices where CloudFormation gives no answer before deploy:

* the stack name, region and account stand in when nothing gives them (the file's stem,
  us-east-1, 123456789012): names and ARNs are built on them, but a condition reading one is
  undecidable, never decided on a guess (``IsProd: !Equals [!Ref AWS::AccountId, ...]``);
* a resource whose own Condition is *undecidable* (it reads a parameter with no value) is kept
  and read as if it exists: the gate judges everything the template could deploy, and a value
  inside it that depends on the same unknown is itself ``Unresolved``;
* an unknown tag or function (``!Frobnicate x``, which cfn-lint decodes as ``Fn::Frobnicate``)
  is an ``unresolvable`` value at its position, not an input error: only the rules that read
  that value are affected, and they say where it is;
* ``--parameter-overrides`` replace samconfig's ``parameter_overrides`` as a whole, as
  ``sam deploy`` does (aws-sam-cli#2380): the gate judges what that deploy would send;
* generated resources carry their SAM resource's ``Metadata`` (suppressions written on a SAM
  function apply to what SAM makes of it).

Position paths are ``Properties.Environment.Variables.TOKEN``; a list item is ``[i]``
(``Properties.Tags[0].Key``), counted after ``AWS::NoValue`` items are removed; ``Metadata.*``
paths locate the resource's Metadata entries.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from runbook_guard.template.decode import Marks, decode_file, fail, key_position
from runbook_guard.template.intrinsics import Path as PropertyPath
from runbook_guard.template.intrinsics import Resolver, Stack, Trail
from runbook_guard.template.model import NotFollowed, Position, ReadTemplate, TemplateResource
from runbook_guard.template.names import partition_of
from runbook_guard.template.parameters import pseudo_parameters, resolve_parameters, url_suffix
from runbook_guard.template.sam import (
    SAM_TRANSFORM,
    Transformed,
    run_sam,
    take_nested_stacks,
    transforms_of,
)
from runbook_guard.template.sam_positions import Attribution, Locator, attribute
from runbook_guard.template.samconfig import read_samconfig

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


def read_template(
    path: Path,
    *,
    display_path: str,
    parameter_overrides: Mapping[str, str] = {},
    config_env: str = "default",
    stack_name: str | None = None,
    region: str | None = None,
    account: str | None = None,
) -> ReadTemplate:
    """Read one template as ``sam deploy`` (or ``aws cloudformation deploy``) would deploy it.

    Raises ``InputError`` (file, line, column) for anything CloudFormation or SAM would refuse.
    """
    decoded = decode_file(path, display_path)
    document, marks = decoded.document, decoded.marks
    transforms = transforms_of(document, marks)
    samconfig = read_samconfig(path, display_path, config_env)
    given = {
        "AWS::StackName": stack_name or samconfig.stack_name,
        "AWS::Region": region
        or samconfig.region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION"),
        "AWS::AccountId": account,
    }
    stack_name = given["AWS::StackName"] or path.stem
    region = given["AWS::Region"] or DEFAULT_REGION
    account = account or DEFAULT_ACCOUNT
    partition = partition_of(region)
    parameters = resolve_parameters(document, marks, samconfig, parameter_overrides)
    pseudo = pseudo_parameters(stack_name, region, account, partition)
    nested = take_nested_stacks(document, marks)
    if SAM_TRANSFORM in transforms:
        transformed = run_sam(document, marks, {**parameters.for_sam, **pseudo}, region)
    else:
        transformed = Transformed(document)
    output = transformed.document
    resources = dict(output.get("Resources") or {})
    _refuse_untransformed(resources, marks)
    resolver = Resolver(
        marks=marks,
        stack=Stack(stack_name, region, account, partition, url_suffix(partition)),
        parameters=parameters.values,
        pseudo=pseudo,
        mappings=output.get("Mappings") or {},
        conditions=output.get("Conditions") or {},
        resources=resources,
        not_followed={entry.logical_id: entry.type for entry in nested},
        secret=parameters.secret,
        stand_ins=_stand_ins(given),
    )
    absent = {
        logical_id
        for logical_id, resource in resources.items()
        if _exists(resource, resolver, marks, marks.at(logical_id, decoded.top)) is False
    }
    for logical_id in absent:
        resolver.set_absent(
            str(logical_id), f"its Condition {resources[logical_id]['Condition']} is false"
        )
    return ReadTemplate(
        display_path=display_path,
        stack_name=stack_name,
        account=account,
        region=region,
        partition=partition,
        parameters=parameters.shown,
        resources=[
            _read_resource(
                str(logical_id), resources[logical_id], resolver, transformed, decoded.top
            )
            for logical_id in sorted(resources, key=str)
            if logical_id not in absent
        ],
        not_followed=[
            NotFollowed(entry.logical_id, entry.type, entry.position)
            for entry in nested
            if _exists({"Condition": entry.condition}, resolver, marks, entry.position) is not False
        ],
        digest=decoded.digest,
    )


def _stand_ins(given: Mapping[str, str | None]) -> list[str]:
    """The pseudo parameters nothing gave: the partition and URL suffix follow the region."""
    missing = [name for name, value in given.items() if value is None]
    if "AWS::Region" in missing:
        missing += ["AWS::Partition", "AWS::URLSuffix"]
    return missing


def _exists(
    resource: Mapping[str, object], resolver: Resolver, marks: Marks, at: Position
) -> bool | None:
    condition = resource.get("Condition")
    if condition is None:
        return True
    return resolver.conditions.decide(condition, marks.at(condition, at))


def _refuse_untransformed(resources: Mapping[object, Mapping[str, object]], marks: Marks) -> None:
    for logical_id, resource in resources.items():
        if str(resource["Type"]).startswith("AWS::Serverless::"):
            fail(
                marks.file,
                marks.of(logical_id),
                f"Resources.{logical_id}.Type",
                f"{resource['Type']} needs `Transform: {SAM_TRANSFORM}`",
            )


def _read_resource(
    logical_id: str,
    node: Mapping[str, object],
    resolver: Resolver,
    transformed: Transformed,
    top: Position,
) -> TemplateResource:
    marks = resolver.marks
    if logical_id in transformed.generated and transformed.source is not None:
        where = key_position(transformed.document, "Transform", marks) or top
        found = attribute(
            logical_id,
            str(node["Type"]),
            transformed.generated[logical_id],
            transformed.source,
            where,
        )
    else:
        here = key_position(transformed.document["Resources"], logical_id, marks) or top
        found = Attribution(None, here, here, Locator(marks, {}))
    positions: dict[PropertyPath, Position] = {}
    properties = resolver.properties(
        node.get("Properties") or {},
        found.anchor,
        Trail(("Properties",), positions, found.locate),
        f"Resources.{logical_id}.Properties",
    )
    metadata = node.get("Metadata")
    read_metadata = (
        resolver.resolve(metadata, found.position, Trail(("Metadata",), positions, found.locate))
        if isinstance(metadata, Mapping)
        else {}
    )
    return TemplateResource(
        logical_id=logical_id,
        type=str(node["Type"]),
        properties=properties,
        position=found.position,
        positions={render(path): where for path, where in positions.items()},
        metadata=read_metadata if isinstance(read_metadata, dict) else {},
        origin=found.origin,
    )


def render(path: PropertyPath) -> str:
    """``("Properties", "Tags", 0, "Key")`` -> ``Properties.Tags[0].Key``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
