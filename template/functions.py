"""The intrinsic functions that compute a value from their operands (all but Ref, GetAtt, If).

Each takes the resolver (to resolve operands, read Mappings, know the stack) and returns a
value or an ``Unresolved``: an unresolved operand makes the result unresolved (``worst``).
A malformed call is an ``InputError`` at the call's position, as CloudFormation refuses it.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from runbook_guard.template.decode import fail
from runbook_guard.template.model import Position, Unresolved
from runbook_guard.template.values import short, worst

if TYPE_CHECKING:
    from runbook_guard.template.intrinsics import Resolver

_SUB = re.compile(r"\$\{([^}]*)\}")


def _operands(r: Resolver, argument: Any, here: Position, function: str, usage: str) -> list[Any]:
    """The call's operand list, of the length ``usage`` shows (``[delimiter, [values]]``)."""
    expected = usage.count(",") + 1
    optional = usage.count("[,")
    if not isinstance(argument, list) or not expected - optional <= len(argument) <= expected:
        fail(r.marks.file, here, function, f"{function} takes {usage}")
    return argument


def sub(r: Resolver, argument: Any, here: Position) -> Any:
    """``${Name}``: a variable, else a Ref; ``${Res.Attr}``: a GetAtt; ``${!x}``: ``${x}``."""
    variables: Mapping[str, Any] = {}
    if isinstance(argument, list):
        argument, variables = _operands(r, argument, here, "Fn::Sub", "[string, {variables}]")
    if not isinstance(argument, str) or not isinstance(variables, Mapping):
        fail(r.marks.file, here, "Fn::Sub", "Fn::Sub takes a string or [string, {variables}]")
    values = {str(key): r.text(value, here, "Fn::Sub") for key, value in variables.items()}
    missing: list[Unresolved] = []

    def substitute(found: re.Match[str]) -> str:
        inner = found[1]
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        name = inner.strip()
        if name in values:
            value = values[name]
        elif "." in name and not r.is_parameter(name):
            value = r.text({"Fn::GetAtt": name.split(".", 1)}, here, "Fn::Sub")
        else:
            value = r.text({"Ref": name}, here, "Fn::Sub")
        if isinstance(value, Unresolved):
            missing.append(value)
            return ""
        return str(value)

    text = _SUB.sub(substitute, argument)
    return worst(missing) or text


def join(r: Resolver, argument: Any, here: Position) -> Any:
    delimiter_node, items_node = _operands(r, argument, here, "Fn::Join", "[delimiter, [values]]")
    delimiter, items = r.text(delimiter_node, here, "Fn::Join"), r.value(items_node, here)
    if isinstance(items, Unresolved) or isinstance(delimiter, Unresolved):
        return worst([delimiter, items])
    if not isinstance(items, list):
        fail(r.marks.file, here, "Fn::Join", "Fn::Join's second operand must be a list")
    texts = [r.text(item, here, "Fn::Join") for item in items]
    return worst(texts) or str(delimiter).join(texts)


def split(r: Resolver, argument: Any, here: Position) -> Any:
    operands = _operands(r, argument, here, "Fn::Split", "[delimiter, string]")
    delimiter, text = (r.text(item, here, "Fn::Split") for item in operands)
    return worst([delimiter, text]) or str(text).split(str(delimiter))


def select(r: Resolver, argument: Any, here: Position) -> Any:
    """Only the selected item matters: an unresolved sibling does not spoil it."""
    index_node, items_node = _operands(r, argument, here, "Fn::Select", "[index, [values]]")
    index, items = r.text(index_node, here, "Fn::Select"), r.value(items_node, here)
    if isinstance(index, Unresolved) or isinstance(items, Unresolved):
        return worst([index, items])
    if not isinstance(items, list) or not str(index).isdigit():
        fail(r.marks.file, here, "Fn::Select", "Fn::Select takes a numeric index and a list")
    if int(index) >= len(items):
        message = f"index {index} is past the list's {len(items)} items"
        fail(r.marks.file, here, "Fn::Select", message)
    return items[int(index)]


def find_in_map(r: Resolver, argument: Any, here: Position) -> Any:
    """A missing key is CloudFormation's error unless the call gives a ``DefaultValue``."""
    operands = _operands(r, argument, here, "Fn::FindInMap", "[map, key, key[, {DefaultValue}]]")
    keys = [r.text(item, here, "Fn::FindInMap") for item in operands[:3]]
    if worst(keys):
        return worst(keys)
    default = operands[3] if len(operands) == 4 else None
    if default is not None and not (isinstance(default, Mapping) and "DefaultValue" in default):
        fail(r.marks.file, here, "Fn::FindInMap", "the fourth operand must be {DefaultValue: ...}")
    level: Any = r.mappings
    for key in keys:
        if not isinstance(level, Mapping) or key not in level:
            if default is not None:
                return r.value(default["DefaultValue"], here)
            path = ".".join(str(key) for key in keys)
            fail(r.marks.file, here, "Fn::FindInMap", f"Mappings has no {path}")
        level = level[key]
    return r.value(level, here)


def base64_(r: Resolver, argument: Any, here: Position) -> Any:
    text = r.text(argument, here, "Fn::Base64")
    if isinstance(text, Unresolved):
        return text
    return base64.b64encode(str(text).encode()).decode("ascii")


def get_azs(r: Resolver, argument: Any, here: Position) -> Any:
    """The zones an account sees differ per account: only a deployed stack knows them."""
    region = r.text(argument, here, "Fn::GetAZs")
    shown = region if isinstance(region, str) and region else r.stack.region
    return Unresolved("after_deploy", f"Fn::GetAZs {shown}", here)


def import_value(r: Resolver, argument: Any, here: Position) -> Any:
    """Another stack's export: this template cannot say what it is."""
    name = r.text(argument, here, "Fn::ImportValue")
    shown = name.intrinsic if isinstance(name, Unresolved) else name
    return Unresolved("unresolvable", f"Fn::ImportValue {shown}", here)


def cidr(r: Resolver, argument: Any, here: Position) -> Any:
    """The first ``count`` subnets of ``cidrBits`` host bits, as CloudFormation carves them."""
    operands = _operands(r, argument, here, "Fn::Cidr", "[ipBlock, count, cidrBits]")
    block, count, bits = (r.text(item, here, "Fn::Cidr") for item in operands)
    if worst([block, count, bits]):
        return worst([block, count, bits])
    try:
        network = ipaddress.ip_network(str(block), strict=False)
        prefix = network.max_prefixlen - int(str(bits))
        subnets = list(itertools.islice(network.subnets(new_prefix=prefix), int(str(count))))
    except ValueError as error:
        return Unresolved("unresolvable", f"Fn::Cidr {short(argument)} ({error})", here)
    if len(subnets) < int(str(count)):
        return Unresolved("unresolvable", f"Fn::Cidr {short(argument)} (too few subnets)", here)
    return [str(subnet) for subnet in subnets]


def to_json_string(r: Resolver, argument: Any, here: Position) -> Any:
    """AWS::LanguageExtensions' compact JSON, once nothing inside is unresolved."""
    value = r.value(argument, here)
    missing = worst(value)
    return missing or json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def length(r: Resolver, argument: Any, here: Position) -> Any:
    """A list's length is known even when some of its items are not."""
    value = r.value(argument, here)
    if isinstance(value, Unresolved):
        return value
    if not isinstance(value, list):
        fail(r.marks.file, here, "Fn::Length", "Fn::Length takes a list")
    return len(value)


#: Function name -> implementation; Ref, Fn::GetAtt and Fn::If are the resolver's own.
FUNCTIONS: dict[str, Callable[[Resolver, Any, Position], Any]] = {
    "Fn::Sub": sub,
    "Fn::Join": join,
    "Fn::Select": select,
    "Fn::Split": split,
    "Fn::FindInMap": find_in_map,
    "Fn::Base64": base64_,
    "Fn::GetAZs": get_azs,
    "Fn::ImportValue": import_value,
    "Fn::Cidr": cidr,
    "Fn::ToJsonString": to_json_string,
    "Fn::Length": length,
}
