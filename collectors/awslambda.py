"""Lambda: functions (configuration, state, aliases, concurrency, event source mappings) and
the account's own limits and usage per region.

A function's ``State`` and ``LastUpdateStatus`` (and their reasons) come from
GetFunctionConfiguration, one call per function: ListFunctions leaves them out on AWS.

Environment variable values are replaced before the configuration leaves this module: the
snapshot is a file people attach to tickets, and a secret in it is a leaked secret. Names stay,
because "a variable called API_KEY holds a literal" is itself a finding (RB-S02).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.journal import Problem
from runbook_guard.collectors.redaction import redacted_values
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

FUNCTION = "aws.lambda.function"
ACCOUNT = "aws.lambda.account"
API = OperationSet(
    "lambda.functions",
    "lambda",
    (
        "ListFunctions",
        "GetFunctionConfiguration",
        "ListAliases",
        "GetFunctionConcurrency",
        "ListEventSourceMappings",
    ),
)
#: What ListFunctions leaves out and GetFunctionConfiguration answers. Lambda's model, on
#: ListFunctions: "returns a subset of the FunctionConfiguration fields. To get the additional
#: fields (State, StateReasonCode, StateReason, LastUpdateStatus, LastUpdateStatusReason,
#: LastUpdateStatusReasonCode, RuntimeVersionConfig) for a function or version, use
#: GetFunction." GetFunctionConfiguration answers the same FunctionConfiguration shape.
STATE_KEYS = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
)
ACCOUNT_API = OperationSet("lambda.account", "lambda", ("GetAccountSettings",))
#: What ListFunctions needs to show a function's environment: its KMS key's decrypt right.
DECRYPT_ACTION = "kms:Decrypt"


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


def mappings_by_function(mappings: list[Any], arns: list[str]) -> dict[str, list[Any]]:
    """Each mapping under the function it invokes, whichever qualifier it is bound to.

    A mapping's ``FunctionArn`` is the function's ARN, or that ARN plus ``:<qualifier>`` when
    it is bound to an alias or a version (the runbook's ``live`` alias). Mappings of functions
    not listed (deleted meanwhile) are dropped.
    """
    found: dict[str, list[Any]] = {arn: [] for arn in arns}
    for mapping in mappings:
        target = str(mapping.get("FunctionArn", ""))
        owner = target if target in found else target.rsplit(":", 1)[0]
        if owner in found:
            found[owner].append(mapping)
    return found


def _undecryptable(call: Call, function: Mapping[str, Any], arn: str) -> None:
    """Record an environment AWS could not decrypt for us; its ``Error`` stays in the data.

    ListFunctions then answers ``Environment: {Error: {ErrorCode, Message}}`` without
    ``Variables``: rules about the variables cannot be decided, and the fix is a KMS grant.
    """
    error = (function.get("Environment") or {}).get("Error")
    if not isinstance(error, Mapping):
        return
    code = str(error.get("ErrorCode") or "EnvironmentError")
    problem = Problem(
        code,
        f"the environment of {function.get('FunctionName')} could not be decrypted: "
        f"{code}: {error.get('Message', '')}",
    )
    call.record(
        "ListFunctions", problem, resource=arn, data_keys=["Environment"], iam_action=DECRYPT_ACTION
    )


def _state(call: Call, function: dict[str, Any], arn: str) -> None:
    """Merge the function's state from GetFunctionConfiguration, whatever ListFunctions said.

    The listing's own copies are dropped first (moto's ListFunctions returns ``State``; AWS
    does not), so the stored value is always GetFunctionConfiguration's. A key the answer
    leaves out is stored as null (no reason given); a failed call leaves all six absent, with
    an error naming them, so the state rule is ``error``. Nothing else of the answer is kept:
    it carries the environment's variables with their values.
    """
    for key in STATE_KEYS:
        function.pop(key, None)
    answer = call.request(
        "GetFunctionConfiguration", FunctionName=arn, resource=arn, data_keys=STATE_KEYS
    )
    if answer is not None:
        function.update({key: answer.get(key) for key in STATE_KEYS})


@register(API, FUNCTION)
def collect_functions(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """Functions, with their state, and the region's event source mappings listed once and
    attached to each.

    Listing mappings per function (``FunctionName=<name>``) misses those bound to an alias or
    version; one unfiltered listing per region finds them all. If it fails, the error names
    ``EventSourceMappings`` for the whole type here, so every function's rules reading it are
    ``error``, and no function gets an empty list it did not earn.
    """
    functions = call.items("ListFunctions", "Functions", listing=True)
    if functions is None:
        return []
    arns = [str(f["FunctionArn"]) for f in functions]  # a malformed listing fails here
    mappings = call.items(
        "ListEventSourceMappings", "EventSourceMappings", data_keys=["EventSourceMappings"]
    )
    attached = mappings_by_function(mappings, arns) if mappings is not None else None
    resources = []
    for listed in functions:
        function = redact(listed)
        name = str(function["FunctionName"])
        arn = str(function["FunctionArn"])
        _undecryptable(call, function, arn)
        _state(call, function, arn)
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
        if attached is not None:
            function["EventSourceMappings"] = attached[arn]
        resources.append(call.resource(FUNCTION, arn, name, function))
    return resources


@register(ACCOUNT_API, ACCOUNT)
def collect_account(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """One resource per (account, region): the account's concurrency and code-storage facts.

    Account-wide metrics (``ConcurrentExecutions`` without dimensions) hang on it. The
    resource is the (account, region) itself, known without asking, so it exists even when
    GetAccountSettings fails: the failure is recorded against the keys the call fills, and
    only rules reading the account's limits become ``error``; a rule judging the account-wide
    metric still decides.
    """
    arn = call.arn("lambda", "account-settings")
    settings = call.request(
        "GetAccountSettings", resource=arn, data_keys=["AccountLimit", "AccountUsage"]
    )
    data: dict[str, Any] = {
        k: settings[k] for k in ("AccountLimit", "AccountUsage") if settings and k in settings
    }
    return [call.resource(ACCOUNT, arn, call.account, data)]
