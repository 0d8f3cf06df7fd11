"""The contract between the template reader and the mapper.

The reader resolves everything the template determines and leaves a marker (``Unresolved``)
wherever it cannot: the mapper never sees an intrinsic function, and the engine never sees a
guessed value. Positions are kept per property path so a finding lands on the line the rule
read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: ``after_deploy``: only a deployed stack knows it (a version number, a generated ARN, an
#: attribute of a resource CloudFormation creates). ``unresolvable``: the template should
#: determine it and does not (an ImportValue, a parameter with no value, a custom resource's
#: attribute, an intrinsic this reader does not know).
UnresolvedKind = Literal["after_deploy", "unresolvable"]


@dataclass(frozen=True)
class Position:
    """Where something is written: the template as the user names it, 1-based line/column."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class Unresolved:
    """A value the template does not determine, standing where the value would be."""

    kind: UnresolvedKind
    #: The intrinsic as written, short: ``Fn::ImportValue shared-table-arn``,
    #: ``Fn::GetAtt DataTable.StreamArn``, ``Ref Stage`` (a parameter with no value).
    intrinsic: str
    position: Position | None

    def reason(self) -> str:
        where = (
            f" ({self.position.file}:{self.position.line}:{self.position.column})"
            if self.position
            else ""
        )
        if self.kind == "after_deploy":
            return f"known after deploy: {self.intrinsic}{where}"
        return f"the template does not determine {self.intrinsic}{where}"


@dataclass
class TemplateResource:
    """One CloudFormation resource after the SAM transform, conditions and intrinsics."""

    logical_id: str
    #: CloudFormation type after the SAM transform (``AWS::Lambda::Function``, not
    #: ``AWS::Serverless::Function``).
    type: str
    #: Intrinsics resolved; an undeterminable value is an ``Unresolved`` at its place, at any
    #: depth (a whole property, a list item, one environment variable).
    properties: dict[str, Any]
    #: Where the resource's logical id is written; for a resource SAM generated, the logical
    #: id of the SAM resource that generated it.
    position: Position
    #: ``Properties.Runtime`` / ``Properties.Environment.Variables.TOKEN`` -> where it is
    #: written (for a resource SAM generated: where the SAM property it came from is written,
    #: as far as known; Globals count as where they are written).
    positions: dict[str, Position] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: The SAM resource's logical id for resources the transform generated; None otherwise.
    origin: str | None = None
    #: CloudFormation's ``DependsOn``, ``DeletionPolicy`` etc. are not needed by any rule.


@dataclass(frozen=True)
class NotFollowed:
    """A nested stack (``AWS::CloudFormation::Stack``, ``AWS::Serverless::Application``)."""

    logical_id: str
    type: str
    position: Position


@dataclass
class ReadTemplate:
    """A template as deployed with one set of parameters into one stack."""

    #: As results show it: relative to the repository root (git top level or --sarif-root).
    display_path: str
    stack_name: str
    account: str
    region: str
    partition: str
    #: Parameter values used (NoEcho parameters' values replaced by ``<redacted>``).
    parameters: dict[str, Any]
    resources: list[TemplateResource]
    not_followed: list[NotFollowed] = field(default_factory=list)
    #: sha256 of the template file's bytes.
    digest: str = ""
