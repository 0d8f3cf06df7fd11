"""Lambda functions: configuration, aliases, reserved concurrency, event source mappings.

Environment variable values are replaced before the configuration leaves this module: the
snapshot is a file people attach to tickets, and a secret in it is a leaked secret. Names stay,
because "a variable called API_KEY holds a literal" is itself a finding (RB-S02).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.redaction import redacted_values
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

FUNCTION = "aws.lambda.function"
API = OperationSet(
    "lambda.functions",
    "lambda",
    ("ListFunctions", "ListAliases", "GetFunctionConcurrency", "ListEventSourceMappings"),
)


def redact(function: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a function configuration with every environment value replaced."""
    redacted = dict(function)
    environment = function.get("Environment")
    if isinstance(environment, Mapping):
        environment = dict(environment)
        if "Variables" in environment:
            environment["Variables"] = redacted_values(environment["Variables"])
        redacted["Environment"] = environment
    return redacted


@register(API, FUNCTION)
def collect_functions(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    functions = call.items("ListFunctions", "Functions", listing=True)
    if functions is None:
        return []
    resources = []
    for listed in functions:
        function = redact(listed)
        name = str(function["FunctionName"])
        arn = str(function["FunctionArn"])
        call.fill_items(
            function, "Aliases", "ListAliases", "Aliases", resource=arn, FunctionName=name
        )
        concurrency = call.request(
            "GetFunctionConcurrency", FunctionName=name, resource=arn, data_keys=["Concurrency"]
        )
        if concurrency is not None:
            function["Concurrency"] = {
                k: v for k, v in concurrency.items() if k == "ReservedConcurrentExecutions"
            }
        call.fill_items(
            function,
            "EventSourceMappings",
            "ListEventSourceMappings",
            "EventSourceMappings",
            resource=arn,
            FunctionName=name,
        )
        resources.append(call.resource(FUNCTION, arn, name, function))
    return resources
