"""API Gateway REST APIs and their stages (the runbook's ``prod`` stage, tracing, logging).

Stage variables are name/value pairs people put credentials in: their values are replaced
(``redaction``) before a stage is stored, like Lambda environment variables.

The management API is authorised per HTTP verb and path, so the IAM statement is ``GET`` on
the two paths read here, not ``apigateway:*``.

GetRestApis cannot filter by name, so every API is listed; its stages are asked for only when
some rule reads ``Stages``, and only for the APIs some rule selects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.redaction import redacted_values
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

REST_API = "aws.apigateway.rest_api"
API = OperationSet(
    "apigateway.rest_apis",
    "apigateway",
    ("GetRestApis", "GetStages"),
    iam_actions={"GetRestApis": "apigateway:GET", "GetStages": "apigateway:GET"},
    iam_resources=("arn:aws:apigateway:*::/restapis", "arn:aws:apigateway:*::/restapis/*/stages"),
    fills={
        "GetRestApis": {REST_API: [Shape("apigateway", "GetRestApis", ("items[]",))]},
        "GetStages": {REST_API: ["Stages"]},
    },
    answers={"GetRestApis": ("items",), "GetStages": ("item",)},
    listings=("GetRestApis",),
)


def _redact_stage(stage: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a stage with every stage variable's value replaced (names kept)."""
    redacted = dict(stage)
    if "variables" in redacted:
        redacted["variables"] = redacted_values(redacted["variables"])
    return redacted


@register(API, REST_API)
def collect_rest_apis(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    apis = call.items("GetRestApis", "items", listing=True)
    if apis is None:
        return []
    stages_read = call.wants("GetStages")

    def envelope(api: Mapping[str, Any]) -> dict[str, Any]:
        # Built from the listing, so the id is the same whether GetStages runs or not.
        arn = call.arn("apigateway", f"/restapis/{api['id']}", account="")
        data = dict(api)
        if stages_read and call.selects(str(api["name"]), api):
            stages = call.request(
                "GetStages", restApiId=api["id"], resource=arn, data_keys=["Stages"]
            )
            if stages is not None:
                data["Stages"] = [_redact_stage(stage) for stage in stages.get("item") or []]
        return call.resource(REST_API, arn, str(api["name"]), data)

    return call.each(apis, envelope)
