"""What resolution produces besides plain values, shared by the resolver and its functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.template.model import Unresolved

_SHORT = 80


class _NoValue:
    """``Ref AWS::NoValue``: the property or list item is removed."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()


def intrinsic_of(node: Any) -> str | None:
    """The function name if ``node`` is an intrinsic call (one key: ``Ref`` or ``Fn::*``)."""
    if isinstance(node, Mapping) and len(node) == 1:
        (key,) = node
        if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
            return str(key)
    return None


def worst(value: Any) -> Unresolved | None:
    """The first ``unresolvable`` inside ``value``, else the first ``after_deploy``, else None."""
    found: Unresolved | None = None
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Unresolved):
            if item.kind == "unresolvable":
                return item
            found = found or item
        elif isinstance(item, Mapping):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def short(node: Any) -> str:
    """An intrinsic's argument as a reader would write it, cut to stay one short line."""
    if isinstance(node, Mapping):
        text = " ".join(f"{key} {short(value)}" for key, value in node.items())
    elif isinstance(node, list):
        text = " ".join(short(item) for item in node)
    else:
        text = str(node)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."
