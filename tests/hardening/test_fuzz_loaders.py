"""Fuzzing the loaders of every file a run reads besides policies: snapshot, waivers, config,
results. Each starts from a valid document and breaks it the ways files break (a value of
any type anywhere, a key removed, a key written twice, the text cut short or spliced with
junk); the loader answers or refuses with positioned one-line problems, nothing else.

A snapshot that loads is also evaluated with the shipped pack: whatever its ``data`` holds,
evaluation gives results, never an exception (the schema leaves ``data`` free).
tests/engine/test_hostile_input.py covers arbitrary JSON against the snapshot schema alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from runbook_guard.engine.config import load_config
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.evaluate import evaluate_rules
from runbook_guard.engine.loader import PolicySet, load_policy_set
from runbook_guard.engine.rules import CompiledRule
from runbook_guard.engine.snapshot import load_snapshot
from runbook_guard.engine.waivers import load_waivers
from runbook_guard.reporters.loading import load_results
from tests.engine.builders import NOW, resource, snapshot_doc
from tests.hardening.fuzzing import fuzz
from tests.reporters.factory import base_results, document

PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<field>\S+): \S.*$")

SNAPSHOT = snapshot_doc(
    [
        resource("aws.sqs.queue", "agenticai-dev-queue", {"QueueUrl": "https://q/1/agenticai-dev-queue",
                 "Attributes": {"VisibilityTimeout": 900, "ApproximateNumberOfMessages": 3,
                                "RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:::x", "maxReceiveCount": 3}}}),
        resource("aws.dynamodb.table", "agenticai-data", {"TableName": "agenticai-data", "TableStatus": "ACTIVE",
                 "ContinuousBackupsDescription": {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}},
                 "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED"}, "ItemCount": 10, "TableSizeBytes": 100},
                 metrics={"throttled": 2.0}),
        resource("aws.lambda.function", "agenticai-stack-Api", {"FunctionName": "agenticai-stack-Api", "Runtime": "python3.12",
                 "Timeout": 30, "MemorySize": 512, "State": "Active", "TracingConfig": {"Mode": "Active"},
                 "Environment": {"Variables": {"KEY": "<redacted>"}}, "Concurrency": {}, "EventSourceMappings": []}),
        resource("aws.logs.log_group", "/aws/lambda/agenticai-stack-Api", {"retentionInDays": 7}),
    ],
    errors=[{"service": "s3", "operation": "GetBucketVersioning", "region": "global", "account": "123456789012",
             "resource_type": "aws.s3.bucket", "iam_action": "s3:GetBucketVersioning", "code": "AccessDenied",
             "message": "denied", "data_keys": ["Versioning"]}],
    types=["aws.s3.bucket"],
)  # fmt: skip
WAIVERS = {
    "waivers": [
        {"id": "W-1", "rule": "sqs.queue-depth", "resource": "agenticai-*", "owner": "ops",
         "reason": "draining", "expires": "2026-12-15", "account": "123456789012", "region": "us-east-1"}
    ]
}  # fmt: skip
CONFIG = {
    "parameters": {"prefix": "agenticai"},
    "policies": ["policies"],
    "waivers": "waivers.yaml",
    "regions": ["us-east-1", "eu-west-1"],
    "profile": "audit",
    "role_arns": ["arn:aws:iam::123456789012:role/audit"],
    "fail_on": "warn",
}
RESULTS = document(base_results())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10) | st.sampled_from(["", "2026-11-27", "arn:aws:x", "aws.sqs.queue", "error"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*at, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*at, index))
    return found


def _edit(node: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    """``node`` with the value at ``path`` replaced by ``value`` (or its key deleted)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        changed = dict(node)
        if delete and not rest:
            changed.pop(head, None)
        else:
            changed[head] = _edit(node[head], rest, value, delete)
        return changed
    items = list(node)
    if delete and not rest:
        del items[head]
    else:
        items[head] = _edit(items[head], rest, value, delete)
    return items


@st.composite
def broken(draw: st.DrawFn, valid: dict[str, Any]) -> str:
    """The text of ``valid`` broken once or twice, the ways files break."""
    text = json.dumps(valid, indent=2)
    for _ in range(draw(st.integers(1, 2))):
        how = draw(st.sampled_from(["value", "delete", "duplicate", "truncate", "junk"]))
        if how in ("value", "delete"):
            try:
                current = json.loads(text)
            except ValueError:
                continue
            path = draw(st.sampled_from(_paths(current)[1:] or [()]))
            value = draw(json_values)
            text = json.dumps(_edit(current, path, value, how == "delete"), indent=2)
        elif how == "duplicate":
            keys = re.findall(r'"([A-Za-z_]+)": ', text)
            if keys:
                key = draw(st.sampled_from(keys))
                at = text.index(f'"{key}": ')
                text = f'{text[:at]}"{key}": null, {text[at:]}'
        elif how == "truncate":
            text = text[: draw(st.integers(0, max(len(text) - 1, 0)))]
        else:
            at = draw(st.integers(0, len(text)))
            junk = draw(st.text(alphabet='{}[]",:\\\x00\ufeff\ud800 \n1ae-', max_size=4))
            text = text[:at] + junk + text[at:]
    return text


def refused_with_positions(path: Path, load: Callable[[Path], Any]) -> Any:
    """What ``load`` answers, or None when it refused with positioned one-line problems."""
    try:
        return load(path)
    except InputError as error:
        assert error.problems  # noqa: PT017
        for line in error.problems:
            assert "\n" not in line, line
            found = PROBLEM_LINE.match(line)
            assert found is not None, line
            assert found["file"] == str(path), line
        return None


def _write(tmp_path_factory: Any, name: str, text: str) -> Path:
    path = Path(tmp_path_factory.mktemp("fuzz")) / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


@cache
def _pack() -> tuple[PolicySet, list[CompiledRule]]:
    policy_set = load_policy_set()
    return policy_set, policy_set.compile()


@fuzz(120)
@given(text=broken(SNAPSHOT))
@example(text=json.dumps(SNAPSHOT))
@example(text=json.dumps(SNAPSHOT).replace('"errors": [', '"errors": [], "errors": [', 1))
def test_a_broken_snapshot_loads_and_evaluates_or_is_refused(
    tmp_path_factory: Any, text: str
) -> None:
    snapshot = refused_with_positions(
        _write(tmp_path_factory, "snapshot.json", text), load_snapshot
    )
    if snapshot is None:
        return
    policy_set, rules = _pack()
    results = evaluate_rules(rules, snapshot, NOW, policy_set.tables)
    assert {r["rule"] for r in results} == {rule.id for rule in rules}


@fuzz(80)
@given(
    data=st.dictionaries(
        st.sampled_from(["Attributes", "Timeout", "State", "TracingConfig", "ItemCount",
                         "ContinuousBackupsDescription", "retentionInDays", "EventSourceMappings",
                         "Concurrency", "Runtime", "MemorySize", "Environment"]),
        json_values, max_size=6),
    kind=st.sampled_from(["aws.sqs.queue", "aws.dynamodb.table", "aws.lambda.function",
                          "aws.logs.log_group"]),
)  # fmt: skip
def test_any_data_under_the_keys_the_pack_reads_evaluates(
    tmp_path_factory: Any, data: dict[str, Any], kind: str
) -> None:
    """The schema leaves ``data`` free: a number where a mapping was, a list for a string."""
    doc = json.loads(json.dumps(SNAPSHOT))
    for item in doc["resources"]:
        if item["type"] == kind:
            item["data"].update(data)
    path = _write(tmp_path_factory, "snapshot.json", json.dumps(doc))
    policy_set, rules = _pack()
    results = evaluate_rules(rules, load_snapshot(path), NOW, policy_set.tables)
    assert all(r["status"] for r in results)


@fuzz(150)
@given(text=broken(WAIVERS))
@example(text=json.dumps(WAIVERS))
def test_a_broken_waivers_file_loads_or_is_refused(tmp_path_factory: Any, text: str) -> None:
    loaded = refused_with_positions(_write(tmp_path_factory, "waivers.yaml", text), load_waivers)
    if loaded is not None:
        assert isinstance(loaded, list)


@fuzz(150)
@given(text=broken(CONFIG))
@example(text=json.dumps(CONFIG))
def test_a_broken_config_file_loads_or_is_refused(tmp_path_factory: Any, text: str) -> None:
    refused_with_positions(_write(tmp_path_factory, "config.yaml", text), load_config)


@fuzz(120)
@given(text=broken(RESULTS))
@example(text=json.dumps(RESULTS))
@example(text=json.dumps(RESULTS).replace('"results": [', '"results": NaN, "x": [', 1))
def test_a_broken_results_file_loads_or_is_refused(tmp_path_factory: Any, text: str) -> None:
    loaded = refused_with_positions(_write(tmp_path_factory, "results.json", text), load_results)
    if loaded is not None:
        assert isinstance(loaded["results"], list)


@pytest.mark.parametrize("value", ["true", "5", "1.5"])
def test_waivers_that_are_not_a_list_are_refused_not_a_crash(tmp_path: Path, value: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(f"waivers: {value}\n")
    assert refused_with_positions(path, load_waivers) is None


@pytest.mark.parametrize(
    ("key", "field"),
    [
        (" rule", 'waivers[0]["\\u0020rule"]'),
        ("a\nb", 'waivers[0]["a\\nb"]'),
        ("x:y", 'waivers[0]["x:y"]'),
    ],
)
def test_a_key_with_spaces_or_breaks_is_quoted_in_the_field(
    tmp_path: Path, key: str, field: str
) -> None:
    """Regression (found by the fuzzing above): an unknown key holding a space or a line
    break made the problem's field two words, or two lines."""
    path = tmp_path / "waivers.yaml"
    path.write_text(json.dumps({"waivers": [{**WAIVERS["waivers"][0], key: 1}]}))
    with pytest.raises(InputError) as refused:
        load_waivers(path)
    [line] = refused.value.problems
    found = PROBLEM_LINE.match(line)
    assert found is not None, line
    assert found["field"] == field
