"""Acceptance: the demo stack in moto, seen through a proxy that answers the way real AWS does.

botocore event hooks on the collecting session (``Scope.session_factory``) rewrite two answers
into what real accounts send and moto never does, each validated against the service model:

* ListFunctions (and GetFunctionConfiguration) for one stack function whose environment is
  encrypted with a customer managed key the caller may not use: ``Environment: {Error:
  {ErrorCode: KMSAccessDeniedException, Message}}`` and no ``Variables`` (Lambda API
  Reference, EnvironmentResponse: "If it fails, the response contains details about the
  error"; botocore model shape ``EnvironmentError``);
* DescribeTrails in a member account of an organization: only the organization trail, as a
  shadow trail homed in another region (``IsOrganizationTrail`` true, ``HomeRegion``
  eu-west-1, the management account's ARN), whose GetTrailStatus (asked by ARN, of its home
  region) answers ``IsLogging`` true (botocore model, cloudtrail DescribeTrails
  ``includeShadowTrails``, GetTrailStatus ``Name``).

The shipped pack must then say ``error`` (not pass) for the secrets rule on that function and
``pass`` for trail logging.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.validate import validate_parameters

from runbook_guard.demo.stack import DEFAULT_SECRET, Seeded
from tests.collectors.test_fault_rules import collect_and_evaluate, on
from tests.collectors.test_faults import Body

Snapshot = dict[str, Any]
Run = Callable[..., Snapshot]
MANAGEMENT = "111111111111"
ORG_TRAIL_ARN = f"arn:aws:cloudtrail:eu-west-1:{MANAGEMENT}:trail/org-trail"
KMS_ERROR = {
    "ErrorCode": "KMSAccessDeniedException",
    "Message": "Lambda was unable to decrypt the environment variables because KMS access was "
    "denied. Please check the function's KMS key settings. KMS Exception: "
    "AccessDeniedException",
}
ORG_TRAIL = {
    "Name": "org-trail",
    "S3BucketName": "org-cloudtrail-logs-111111111111",
    "IncludeGlobalServiceEvents": True,
    "IsMultiRegionTrail": True,
    "HomeRegion": "eu-west-1",
    "TrailARN": ORG_TRAIL_ARN,
    "LogFileValidationEnabled": True,
    "HasCustomEventSelectors": True,
    "HasInsightSelectors": False,
    "IsOrganizationTrail": True,
}


def checked(parsed: dict[str, Any], shape: Any) -> dict[str, Any]:
    """``parsed`` checked against the model's shape, as Stubber checks its answers."""
    validate_parameters({k: v for k, v in parsed.items() if k != "ResponseMetadata"}, shape)
    return parsed


class Proxy:
    """The hooks, and what went through them."""

    def __init__(self, locked: str) -> None:
        self.locked = locked
        self.status_asked: list[tuple[str, str]] = []
        self.shadow_trails: list[bool] = []

    def environments(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """after-call ListFunctions / GetFunctionConfiguration: the locked function's
        environment as Lambda answers when its KMS key refuses the caller."""
        entries = parsed.get("Functions") if model.name == "ListFunctions" else [parsed]
        shape = model.output_shape
        entry_shape = shape.members["Functions"].member if model.name == "ListFunctions" else shape
        for entry in entries or []:
            if entry.get("FunctionName") == self.locked:
                entry["Environment"] = {"Error": dict(KMS_ERROR)}
                checked(entry, entry_shape)

    def trail_request(self, params: dict[str, Any], **_: Any) -> None:
        """before-call DescribeTrails: note whether shadow trails were asked for (the
        parameter defaults to true); moto then answers as usual."""
        body = json.loads(params["body"] or b"{}")
        self.shadow_trails.append(bool(body.get("includeShadowTrails", True)))

    def trails(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """after-call DescribeTrails: what a member account sees, the organization trail as
        a shadow trail, and so nothing at all when shadow trails are left out."""
        parsed["trailList"] = [dict(ORG_TRAIL)] if self.shadow_trails[-1] else []
        checked(parsed, model.output_shape)

    def trail_status(
        self, model: Any, params: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]]:
        """before-call GetTrailStatus: the organization trail's status (moto has no such
        trail), recording which endpoint was asked about which name."""
        name = json.loads(params["body"])["Name"]
        self.status_asked.append((str(params["url"]).split("/")[2], name))
        now = datetime.now(timezone.utc)
        status = {
            "IsLogging": True,
            "LatestDeliveryTime": now - timedelta(minutes=3),
            "StartLoggingTime": now - timedelta(days=400),
            "LatestDigestDeliveryTime": now - timedelta(minutes=40),
        }
        return AWSResponse(params["url"], 200, HTTPHeaders(), Body(b"")), checked(
            status, model.output_shape
        )


@pytest.fixture(scope="module")
def locked(seeded: Seeded) -> str:
    """A worker whose variables (TABLE_NAME, LOG_LEVEL) pass the secrets rule when readable."""
    return next(f for f in seeded.functions if "PmAgentWorker" in f)


@pytest.fixture
def proxied(
    locked: str, run: Run, hooked: Callable[..., Any]
) -> tuple[Snapshot, dict[tuple[str, str], dict[str, Any]], Proxy]:
    proxy = Proxy(locked)
    factory = hooked(
        ("after-call.lambda.ListFunctions", proxy.environments),
        ("after-call.lambda.GetFunctionConfiguration", proxy.environments),
        ("before-call.cloudtrail.DescribeTrails", proxy.trail_request),
        ("after-call.cloudtrail.DescribeTrails", proxy.trails),
        ("before-call.cloudtrail.GetTrailStatus", proxy.trail_status),
    )
    snapshot, results = collect_and_evaluate(
        run, factory, "aws.lambda.function", "aws.cloudtrail.trail", "aws.dynamodb.table"
    )
    return snapshot, results, proxy


def test_an_undecryptable_environment_is_an_error_for_the_secrets_rule(
    proxied: tuple[Snapshot, dict[tuple[str, str], dict[str, Any]], Proxy],
    locked: str,
    seeded: Seeded,
    valid: Callable[[Snapshot], None],
) -> None:
    snapshot, results, _proxy = proxied
    valid(snapshot)
    [function] = [r for r in snapshot["resources"] if r["name"] == locked]
    assert function["data"]["Environment"] == {"Error": KMS_ERROR}
    [error] = [e for e in snapshot["errors"] if e.get("resource") == function["id"]]
    assert (error["operation"], error["code"], error["iam_action"]) == (
        "ListFunctions",
        "KMSAccessDeniedException",
        "kms:Decrypt",
    )
    assert error["data_keys"] == ["Environment"]
    secrets = results[("lambda.no-secret-env-vars", locked)]
    assert secrets["status"] == "error"  # was a silent pass before issue 15
    assert "KMSAccessDeniedException" in secrets["message"]
    # The other functions are still judged on their (redacted) variable names.
    others = {
        name: r["status"]
        for (rule, name), r in results.items()
        if rule == "lambda.no-secret-env-vars" and name != locked
    }
    assert len(others) == len(seeded.functions) - 1
    assert "error" not in others.values()
    # The state rule reads GetFunctionConfiguration, which the proxy answered too: every
    # function is Active there (moto), so it passes, the locked one included.
    states = on(results, locked, "lambda.function-state")
    assert states["lambda.function-state"]["status"] == "pass"
    assert DEFAULT_SECRET not in json.dumps(snapshot)


def test_an_organization_trail_seen_only_as_a_shadow_trail_passes(
    proxied: tuple[Snapshot, dict[tuple[str, str], dict[str, Any]], Proxy],
) -> None:
    snapshot, results, proxy = proxied
    [trail] = [r for r in snapshot["resources"] if r["type"] == "aws.cloudtrail.trail"]
    assert (trail["id"], trail["region"], trail["name"]) == (
        ORG_TRAIL_ARN,
        "eu-west-1",
        "org-trail",
    )
    assert trail["data"]["IsOrganizationTrail"] is True
    assert trail["data"]["Status"]["IsLogging"] is True
    assert proxy.shadow_trails == [True]
    # Asked once, by ARN, of the trail's home region: never of the collected us-east-1.
    assert proxy.status_asked == [("cloudtrail.eu-west-1.amazonaws.com", ORG_TRAIL_ARN)]
    assert results[("cloudtrail.trail-logging", "org-trail")]["status"] == "pass"
    assert not [e for e in snapshot["errors"] if e["service"] == "cloudtrail"]
