"""The compiled snapshot check never accepts what the schema refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook_guard.engine.documents import _bulk_check

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "snapshot.schema.json").read_text()
)
RESOURCE = {**SCHEMA["$defs"]["resource"], "$defs": SCHEMA["$defs"]}

values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=6)
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["aws.sqs.queue", "aws.SQS.queue", "sqs", "aws.a.b_c", ""])
        | values,
        "id": st.sampled_from(["arn:aws:sqs:x", ""]) | values,
        "name": values,
        "region": values,
        "account": values,
        "data": st.dictionaries(st.text(max_size=3), values, max_size=2) | values,
        "metrics": st.dictionaries(st.text(max_size=3), values, max_size=2) | values,
        "logs": st.dictionaries(st.text(max_size=3), values, max_size=2) | values,
        "extra": values,
    },
)


@settings(max_examples=400, deadline=None)
@given(fields)
def test_what_the_check_accepts_the_schema_accepts(resource: dict[str, Any]) -> None:
    check = _bulk_check("snapshot")
    assert check is not None
    if check(resource):
        jsonschema.Draft202012Validator(RESOURCE).validate(resource)


def test_a_realistic_resource_is_accepted_without_jsonschema() -> None:
    check = _bulk_check("snapshot")
    assert check is not None
    resource = {
        "type": "aws.sqs.queue",
        "id": "arn:aws:sqs:us-east-1:1:q",
        "name": "q",
        "region": "us-east-1",
        "account": "1",
        "data": {"Attributes": {}},
        "metrics": {"k": None, "j": 1.5},
        "logs": {"e": 2},
    }
    assert check(resource)
    assert not check({**resource, "type": "sqs"})
    assert not check({**resource, "id": ""})
    assert not check({**resource, "logs": {"e": -1}})
