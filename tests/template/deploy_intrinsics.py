"""CloudFormation's intrinsic functions, answered from a deployed stack.

The deploy helper creates through the service APIs what moto's CloudFormation cannot, and those
resources' properties still hold ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub``. CloudFormation resolves
them against what it created, so this does too: ``Ref`` and ``Fn::GetAtt`` of a resource ask the
``Stack`` (physical ids and attributes read back from the live services), never the template
reader's names, so the live side cannot inherit a naming mistake of the template side.

Written from the intrinsic function reference; a function this stack's templates do not use is
refused with its name rather than passed through as a dict a service would reject obscurely.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

#: ``AWS::NoValue``: the property (or list item) is removed, as CloudFormation does.
NO_VALUE = object()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Stack(Protocol):
    """What a deployed stack answers about one of its resources."""

    def ref(self, logical_id: str) -> Any:
        """What ``Ref`` returns for the resource (per type: a name, an ARN, an id)."""

    def attribute(self, logical_id: str, name: str) -> Any:
        """What ``Fn::GetAtt`` returns for the resource's attribute."""

    def has(self, logical_id: str) -> bool:
        """Whether the stack declares the resource."""


@dataclass
class Resolver:
    """Resolves intrinsics with the stack's parameter values, conditions and resources."""

    parameters: Mapping[str, Any]
    stack: Stack
    mappings: Mapping[str, Any] = field(default_factory=dict)
    conditions: Mapping[str, Any] = field(default_factory=dict)
    _decided: dict[str, bool] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic replaced; ``NO_VALUE`` items and keys are dropped."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        """A named condition's value (evaluated once)."""
        if name not in self._decided:
            self._decided[name] = bool(self.resolve(self.conditions[name]))
        return self._decided[name]

    def _function(self, name: str, argument: Any) -> Any:
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise ValueError(f"the deploy helper does not resolve {name}")
        return handler(self, argument)

    def _ref(self, name: Any) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if self.stack.has(name):
            return self.stack.ref(name)
        raise ValueError(f"Ref {name}: neither a parameter nor a resource of the stack")

    def _get_att(self, argument: Any) -> Any:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self.stack.attribute(logical_id, self.resolve(attribute))

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.resolve(value) for key, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                return str(self._get_att(name))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, argument: Any) -> str:
        delimiter, items = argument
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _select(self, argument: Any) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return str(self.resolve(text)).split(delimiter)

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, argument: Any) -> Any:
        table, top, second = (self.resolve(part) for part in argument[:3])
        return self.mappings[table][top][second]

    def _base64(self, argument: Any) -> str:
        return base64.b64encode(str(self.resolve(argument)).encode()).decode()

    def _equals(self, argument: Any) -> bool:
        left, right = (self.resolve(part) for part in argument)
        return bool(left == right)


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": Resolver._ref,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Sub": Resolver._sub,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::If": Resolver._if,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::Base64": Resolver._base64,
    "Fn::Equals": Resolver._equals,
    "Fn::And": lambda self, items: all(self.resolve(item) for item in items),
    "Fn::Or": lambda self, items: any(self.resolve(item) for item in items),
    "Fn::Not": lambda self, items: not self.resolve(items[0]),
    "Condition": lambda self, name: self.condition(name),
}


def references(value: Any) -> set[str]:
    """Every logical id (or parameter) a value names through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item.split(".", 1)[0] if isinstance(item, str) else item[0])
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else item
                names = (m.group(1) for m in _SUB_VARIABLE.finditer(text))
                found |= {n.split(".", 1)[0] for n in names if not n.startswith("!")}
                found -= set(variables)
                found |= references(variables)
            else:
                found |= references(item)
    return found
