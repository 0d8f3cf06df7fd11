"""A planted secret never reaches a snapshot, whatever the plan asks for.

The demo stack plants it in a Lambda environment variable, an SSM SecureString and an API
Gateway stage variable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from runbook_guard.demo.stack import DEFAULT_SECRET, Seeded
from runbook_guard.engine.fileio import canonical_json
from runbook_guard.engine.plan import CollectionPlan

CANARY = DEFAULT_SECRET


def test_the_canary_is_really_planted(seeded: Seeded) -> None:
    """Guard against a vacuous pass: the secret is where the test says it is."""
    lam = boto3.client("lambda")
    name = next(f for f in seeded.functions if "ApiHandler" in f)
    env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert env["GEMINI_API_KEY"] == CANARY
    ssm = boto3.client("ssm")
    value = ssm.get_parameter(Name="/agenticai/gemini-api-key", WithDecryption=True)
    assert value["Parameter"]["Value"] == CANARY
    apigw = boto3.client("apigateway")
    [api] = [a for a in apigw.get_rest_apis()["items"] if a["name"] == "agenticai-api"]
    stage = apigw.get_stage(restApiId=api["id"], stageName="prod")
    assert stage["variables"]["GEMINI_API_KEY"] == CANARY


def test_no_snapshot_byte_holds_the_canary(
    seeded: Seeded, make_plan: Callable[[], CollectionPlan], run: Callable[..., dict[str, Any]]
) -> None:
    snapshot = run(make_plan())
    text = canonical_json(snapshot)
    assert CANARY not in text
    assert CANARY.encode() not in text.encode("utf-8")
    # The names stay: "a variable called GEMINI_API_KEY holds a literal" is itself a finding.
    assert "GEMINI_API_KEY" in text
    assert '"/agenticai/gemini-api-key"' in text
    [api] = [r for r in snapshot["resources"] if r["name"] == "agenticai-api"]
    [prod] = api["data"]["Stages"]
    assert prod["variables"] == {"GEMINI_API_KEY": "<redacted>", "LOG_LEVEL": "<redacted>"}
