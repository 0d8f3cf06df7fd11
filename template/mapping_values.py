"""Scalar converters: CloudFormation's property types read back as the API's.

CloudFormation accepts ``"30"`` for an Integer and ``"true"`` for a Boolean and sends AWS the
number and the flag; the API answers them typed. Anything else stays as written (``"abc"`` for
a Timeout): a rule then fails or errors on it, and nothing is coerced into a passing value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def integer(value: Any, ctx: Any = None) -> Any:
    """CloudFormation's Integer: a number or the text of one ("30"), else as written."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    return value


def number(value: Any, ctx: Any = None) -> Any:
    """CloudFormation's Double, as the API answers it (``500`` -> ``500.0``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _DECIMAL.match(value.strip()):
        return float(value.strip())
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


def status(on: str, off: str) -> Callable[[Any, Any], Any]:
    """A Boolean property read back as the API's status word (``ENABLED``/``DISABLED``)."""

    def convert(value: Any, ctx: Any = None) -> Any:
        flag = boolean(value)
        if flag is True:
            return on
        if flag is False:
            return off
        return value

    return convert
