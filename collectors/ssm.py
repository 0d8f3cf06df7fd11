"""SSM parameter metadata: type and last change, never a value.

``describe_parameters`` is the only SSM call here. No ``get_parameter*`` operation is declared,
so the caller refuses it and the printed IAM policy cannot read a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

PARAMETER = "aws.ssm.parameter"
API = OperationSet("ssm.parameters", "ssm", ("DescribeParameters",))


@register(API, PARAMETER)
def collect_parameters(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    paths = call.option_list("path")
    filters = [[{"Key": "Path", "Option": "Recursive", "Values": [p]}] for p in paths] or [[]]
    found: dict[str, dict[str, Any]] = {}
    for parameter_filters in filters:
        extra: dict[str, Any] = {"ParameterFilters": parameter_filters} if parameter_filters else {}
        parameters = call.items(
            "DescribeParameters", "Parameters", listing=True, page_size=50, **extra
        )
        for parameter in parameters or []:
            found[str(parameter["Name"])] = parameter
    resources = []
    for name, parameter in sorted(found.items()):
        arn = call.arn("ssm", f"parameter/{name.lstrip('/')}")
        resources.append(call.resource(PARAMETER, arn, name, parameter))
    return resources
