"""Scalar converters: CloudFormation's property types read back as the API's.

CloudFormation accepts ``"30"`` for an Integer and ``"true"`` for a Boolean and sends AWS the
number and the flag; the API answers them typed. Anything else stays as written (``"abc"`` for
a Timeout): a rule then fails or errors on it, and nothing is coerced into a passing value.

Text that only *looks* numeric to Python is the exception. The engine compares numeric text
as a number (SQS answers its attributes as text), with ``float()``, which also reads
``"1e3"``, ``"7.0"``, ``"1_000"``, ``"Infinity"`` and digits of other scripts (a fullwidth
seven, U+FF17). CloudFormation refuses all of them for an Integer (and the last three for a
Double): left as written, ``MemorySize: "1e3"`` or a fullwidth ``RetentionInDays`` would pass
a rule on a template that cannot deploy. Such a value, and a number CloudFormation cannot take
(``7.5`` for an Integer, ``.inf``), becomes an ``unresolvable`` marker: the rule reading it
errors, naming it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from runbook_guard.template.model import Unresolved

# ASCII digits only: ``\d`` also matches other scripts' digits, which int() and float() read.
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")


def _refused(value: Any, kind: str) -> Unresolved:
    """A value CloudFormation refuses for this type, standing where the value would be."""
    return Unresolved("unresolvable", f"{value!r} as {kind} (CloudFormation refuses it)", None)


def _numeric_text(value: str) -> bool:
    """Whether the engine would read this text as a number."""
    try:
        float(value)
    except ValueError:
        return False
    return True


def integer(value: Any, ctx: Any = None) -> Any:
    """CloudFormation's Integer: a number or the text of one ("30"), else as written."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else _refused(value, "an Integer")
    if isinstance(value, str):
        if _INTEGER.match(value.strip()):
            return int(value.strip())
        if _numeric_text(value):
            return _refused(value, "an Integer")
    return value


def number(value: Any, ctx: Any = None) -> Any:
    """CloudFormation's Double, as the API answers it (``500`` -> ``500.0``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else _refused(value, "a finite Double")
    if isinstance(value, str):
        if _DECIMAL.match(value.strip()):
            return float(value.strip())
        if _numeric_text(value):
            return _refused(value, "a finite Double")
    return value


def boolean(value: Any, ctx: Any = None) -> Any:
    """CloudFormation's Boolean: ``true``/``false`` or their text (any case)."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def text(value: Any, ctx: Any = None) -> Any:
    """CloudFormation's String: a number written bare is its text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def listed(value: Any, ctx: Any = None) -> Any:
    """A List property: one value written where CloudFormation wants a list is refused, as a
    text is not empty (``AlarmActions: arn:...`` would pass "has an action")."""
    return value if isinstance(value, list) else _refused(value, "a List")


def status(on: str, off: str) -> Callable[[Any, Any], Any]:
    """A Boolean property read back as the API's status word (``ENABLED``/``DISABLED``).

    Anything but a Boolean is refused rather than kept: as written, ``Enabled: ENABLED`` would
    be the very status word a rule asks for, on a template CloudFormation refuses.
    """

    def convert(value: Any, ctx: Any = None) -> Any:
        flag = boolean(value)
        if flag is True:
            return on
        if flag is False:
            return off
        return _refused(value, "a Boolean")

    return convert
