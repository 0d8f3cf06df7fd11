"""Which top-level ``data`` keys each operation fills, as data, derived from botocore shapes.

The collection plan runs a detail call only when a loaded rule reads a key that call fills,
so the declarations must be exact: a key a call fills but does not declare would never be
asked for, and a rule reading it would then be ``error`` for want of data. Where a call's
answer is merged into the resource (``DescribeTable``'s ``Table``, a listing's items), the keys
are the members of the answer's output shape in botocore's service model, read lazily (loading
a model costs tens of milliseconds; the EC2 one far more) and once per process, the clients'
loader included; where a collector stores an answer
under a key of its own (``ContinuousBackupsDescription``, ``Backups``), the key is declared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session


@dataclass(frozen=True)
class Shape:
    """The member names of a shape inside an operation's output, found by a path.

    ``path`` names members from the output shape down, ``[]`` stepping into a list's items:
    ``("Table",)`` for DescribeTable's table, ``("Functions[]",)`` for each listed function.
    """

    service: str
    operation: str
    path: tuple[str, ...] = ()
    #: Members AWS documents as left out of this answer (ListFunctions' items lack the state
    #: keys GetFunctionConfiguration gives): declared there, a rule would read null forever.
    without: tuple[str, ...] = ()

    def keys(self) -> frozenset[str]:
        return _shape_keys(self.service, self.operation, self.path) - frozenset(self.without)


#: What one operation fills: per resource type, declared keys and/or shapes whose members it
#: merges. ``Fills = {TABLE: ("ContinuousBackupsDescription",)}``.
Fills = Mapping[str, Iterable["str | Shape"]]


def resolve(fills: Fills) -> dict[str, frozenset[str]]:
    """The declared keys per type, shapes expanded to their members."""
    resolved: dict[str, frozenset[str]] = {}
    for resource_type, items in fills.items():
        keys: set[str] = set()
        for item in items:
            keys |= item.keys() if isinstance(item, Shape) else {item}
        resolved[resource_type] = frozenset(keys)
    return resolved


@cache
def models() -> botocore.session.Session:
    """The process's one botocore session for service models.

    Its loader parses each service's model once: for the fill declarations here, and for every
    client of a collection, whose sessions share this loader (``botocore_session``).
    """
    return botocore.session.get_session()


def botocore_session() -> botocore.session.Session:
    """A fresh botocore session (its own credentials and config) sharing the model loader."""
    session = botocore.session.get_session()
    session.register_component("data_loader", models().get_component("data_loader"))
    return session


def _model(service: str) -> Any:
    return models().get_service_model(service)


@cache
def _shape_keys(service: str, operation: str, path: tuple[str, ...]) -> frozenset[str]:
    shape = _model(service).operation_model(operation).output_shape
    for step in path:
        name = step.removesuffix("[]")
        if name:
            shape = shape.members[name]
        if step.endswith("[]"):
            shape = shape.member
    members = getattr(shape, "members", None)
    if members is None:
        raise ValueError(f"{service}:{operation} {'.'.join(path)} is not a structure")
    return frozenset(members)
