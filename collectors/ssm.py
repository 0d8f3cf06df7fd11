"""SSM parameter metadata: type and last change, never a value.

``describe_parameters`` is the only SSM call here. No ``get_parameter*`` operation is declared,
so the caller refuses it and the printed IAM policy cannot read a secret.

DescribeParameters is the listing and the only call for the type (no per-parameter detail).
It lists the ``path`` option's paths (all parameters without one) and, when the rules name
their parameters by fixed prefixes, only names beginning with them (``Name`` ``BeginsWith``,
on the server): an account's other parameters are then not even listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

PARAMETER = "aws.ssm.parameter"
API = OperationSet(
    "ssm.parameters",
    "ssm",
    ("DescribeParameters",),
    fills={
        "DescribeParameters": {PARAMETER: (Shape("ssm", "DescribeParameters", ("Parameters[]",)),)}
    },
    answers={"DescribeParameters": ("Parameters",)},
    listings=("DescribeParameters",),
)
#: Values in one ``ParameterStringFilter`` ("Maximum number of 50 items", botocore model).
MAX_FILTER_VALUES = 50


@register(API, PARAMETER)
def collect_parameters(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    paths = call.option_list("path")
    scopes = [[{"Key": "Path", "Option": "Recursive", "Values": [p]}] for p in paths] or [[]]
    prefixes = call.prefixes()
    names = [[]] if prefixes is None else _name_filters(prefixes)
    found: dict[str, dict[str, Any]] = {}
    for scope in scopes:
        for name_filter in names:
            parameter_filters = scope + name_filter
            extra: dict[str, Any] = (
                {"ParameterFilters": parameter_filters} if parameter_filters else {}
            )
            parameters = call.items(
                "DescribeParameters", "Parameters", listing=True, page_size=50, **extra
            )
            for parameter in parameters or []:
                found[str(parameter["Name"])] = parameter
    if prefixes is not None:
        call.journal.listed(PARAMETER, call.account, call.region, True, prefixes=prefixes)
    resources = []
    for name, parameter in sorted(found.items()):
        arn = call.arn("ssm", f"parameter/{name.lstrip('/')}")
        resources.append(call.resource(PARAMETER, arn, name, parameter))
    return resources


def _name_filters(prefixes: list[str]) -> list[list[dict[str, Any]]]:
    """One ``Name BeginsWith`` filter per 50 prefixes (its values are alternatives)."""
    return [
        [{"Key": "Name", "Option": "BeginsWith", "Values": prefixes[i : i + MAX_FILTER_VALUES]}]
        for i in range(0, len(prefixes), MAX_FILTER_VALUES)
    ]
