"""Lambda: functions (configuration, state, aliases, concurrency, event source mappings) and
the account's own limits and usage per region.

A function's ``State`` and ``LastUpdateStatus`` (and their reasons) come from
GetFunctionConfiguration, one call per function: ListFunctions leaves them out on AWS.

Environment variable values are replaced before the configuration leaves this module: the
snapshot is a file people attach to tickets, and a secret in it is a leaked secret. Names stay,
because "a variable called API_KEY holds a literal" is itself a finding (RB-S02).

Only what the loaded rules read is asked for: a function no rule selects keeps its listing
entry and gets no per-function call, and an operation whose keys no rule reads is not made
(the region-wide ListEventSourceMappings included).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.journal import Problem
from runbook_guard.collectors.redaction import redacted_values
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

FUNCTION = "aws.lambda.function"
ACCOUNT = "aws.lambda.account"
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
#: What GetAccountSettings answers, and all the account resource holds.
ACCOUNT_KEYS = ("AccountLimit", "AccountUsage")


#: ListFunctions' items: AWS leaves the state keys and RuntimeVersionConfig out of them.
LISTED = Shape(
    "lambda", "ListFunctions", ("Functions[]",), without=(*STATE_KEYS, "RuntimeVersionConfig")
)
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
    fills={
        "ListFunctions": {FUNCTION: [LISTED]},
        "GetFunctionConfiguration": {FUNCTION: STATE_KEYS},
        "ListAliases": {FUNCTION: ["Aliases"]},
        "GetFunctionConcurrency": {FUNCTION: ["Concurrency"]},
        "ListEventSourceMappings": {FUNCTION: ["EventSourceMappings"]},
    },
    answers={
        "ListFunctions": ("Functions",),
        "GetFunctionConfiguration": STATE_KEYS,
        "ListAliases": ("Aliases",),
        "GetFunctionConcurrency": ("ReservedConcurrentExecutions",),
        "ListEventSourceMappings": ("EventSourceMappings",),
    },
    listings=("ListFunctions",),
)
ACCOUNT_API = OperationSet(
    "lambda.account",
    "lambda",
    ("GetAccountSettings",),
    fills={"GetAccountSettings": {ACCOUNT: ACCOUNT_KEYS}},
    answers={"GetAccountSettings": ACCOUNT_KEYS},
)
#: What ListFunctions needs to show a function's environment: its KMS key's decrypt right.
DECRYPT_ACTION = "kms:Decrypt"
#: One per-function call's contribution to the function's data (``{}`` when it failed).
Detail = Callable[[], dict[str, Any]]


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


def _listed(function: Mapping[str, Any]) -> dict[str, Any]:
    """A listing entry as stored: values redacted, the listing's own state keys dropped.

    moto's ListFunctions returns ``State``; AWS does not. The stored state is always
    GetFunctionConfiguration's, and absent where that call was not made.
    """
    listed = redact(function)
    for key in STATE_KEYS:
        listed.pop(key, None)
    return listed


def _state(call: Call, arn: str) -> dict[str, Any]:
    """The function's state from GetFunctionConfiguration, whatever ListFunctions said.

    A key the answer leaves out is stored as null (no reason given); a failed call leaves all
    six absent, with an error naming them, so the state rule is ``error``. Nothing else of the
    answer is kept: it carries the environment's variables with their values.
    """
    answer = call.request(
        "GetFunctionConfiguration", FunctionName=arn, resource=arn, data_keys=STATE_KEYS
    )
    return {} if answer is None else {key: answer.get(key) for key in STATE_KEYS}


def _aliases(call: Call, name: str, arn: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    call.fill_items(found, "Aliases", "ListAliases", "Aliases", resource=arn, FunctionName=name)
    return found


def _concurrency(call: Call, name: str, arn: str) -> dict[str, Any]:
    answer = call.request(
        "GetFunctionConcurrency", FunctionName=name, resource=arn, data_keys=["Concurrency"]
    )
    if answer is None:
        return {}
    return {"Concurrency": {k: v for k, v in answer.items() if k == "ReservedConcurrentExecutions"}}


def _details(call: Call, name: str, arn: str) -> list[Detail]:
    """The per-function calls some rule reads, in the order they were always made."""
    details: list[Detail] = []
    if call.wants("GetFunctionConfiguration"):
        details.append(partial(_state, call, arn))
    if call.wants("ListAliases"):
        details.append(partial(_aliases, call, name, arn))
    if call.wants("GetFunctionConcurrency"):
        details.append(partial(_concurrency, call, name, arn))
    return details


def _mappings(call: Call, arns: list[str]) -> dict[str, list[Any]] | None:
    """The region's mappings by function ARN; ``None`` when the listing failed."""
    mappings = call.items(
        "ListEventSourceMappings", "EventSourceMappings", data_keys=["EventSourceMappings"]
    )
    return mappings_by_function(mappings, arns) if mappings is not None else None


@register(API, FUNCTION)
def collect_functions(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """Functions, with their state, and the region's event source mappings listed once and
    attached to each.

    Listing mappings per function (``FunctionName=<name>``) misses those bound to an alias or
    version; one unfiltered listing per region finds them all, made only when some rule reads
    ``EventSourceMappings`` of some selected function. If it fails, the error names
    ``EventSourceMappings`` for the whole type here, so every function's rules reading it are
    ``error``, and no function gets an empty list it did not earn.

    The per-function calls of every selected function run on the collection's pool, one task
    per (function, operation); each returns its own keys, merged in a fixed order, so the
    data does not depend on which call finished first.
    """
    functions = call.items("ListFunctions", "Functions", listing=True)
    if functions is None:
        return []
    arns = [str(f["FunctionArn"]) for f in functions]  # a malformed listing fails here
    listed = [_listed(f) for f in functions]
    chosen = [i for i, f in enumerate(listed) if call.selects(str(f["FunctionName"]), f)]
    attached = None
    if chosen and call.wants("ListEventSourceMappings"):
        attached = _mappings(call, arns)
    tasks: list[tuple[int, Detail]] = []
    for index in chosen:
        _undecryptable(call, listed[index], arns[index])
        name = str(listed[index]["FunctionName"])
        tasks.extend((index, detail) for detail in _details(call, name, arns[index]))
    answers = call.each(tasks, lambda task: task[1]())
    for (index, _), answer in zip(tasks, answers, strict=True):
        listed[index].update(answer)
    for index in chosen:
        if attached is not None:
            listed[index]["EventSourceMappings"] = attached[arns[index]]
    return [
        call.resource(FUNCTION, arn, str(function["FunctionName"]), function)
        for arn, function in zip(arns, listed, strict=True)
    ]


@register(ACCOUNT_API, ACCOUNT)
def collect_account(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    """One resource per (account, region): the account's concurrency and code-storage facts.

    Account-wide metrics (``ConcurrentExecutions`` without dimensions) hang on it. The
    resource is the (account, region) itself, known without asking, so it exists even when
    GetAccountSettings fails, or is not made because no rule reads the account's limits: a
    failure is recorded against the keys the call fills, and only rules reading them become
    ``error``; a rule judging the account-wide metric still decides.
    """
    arn = call.arn("lambda", "account-settings")
    settings = None
    if call.wants("GetAccountSettings") and call.selects(call.account, {}):
        settings = call.request("GetAccountSettings", resource=arn, data_keys=ACCOUNT_KEYS)
    data: dict[str, Any] = {k: settings[k] for k in ACCOUNT_KEYS if settings and k in settings}
    return [call.resource(ACCOUNT, arn, call.account, data)]
