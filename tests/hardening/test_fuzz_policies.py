"""Fuzzing the policy loader: whatever YAML arrives, a valid policy or one positioned line per
problem (``file:line:col: field: message``), never another exception.

tests/engine/test_hostile_input.py mutates the text of a shipped policy and feeds arbitrary
text to the YAML parser; these go further in: documents that parse, shaped like a policy, with
any field given any value (so the schema, the parameter substitution and the rule compiler
see them), and YAML's own features (anchors, merge keys, tags, several documents).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.yamlsafe import parse_yaml
from tests.hardening.fuzzing import fuzz

PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<field>\S+): \S.*$")

#: Three valid rules between them using every part a value can reach: a condition, levels of
#: a metric over a window, a log count, a related lookup, parameters.
BASE: dict[str, Any] = {
    "parameters": {"prefix": {"default": "agenticai", "description": "name prefix"}},
    "rules": [
        {
            "id": "fuzz.condition",
            "title": "a condition",
            "covers": ["RB-B01"],
            "section": "fuzz",
            "cadence": "daily",
            "severity": "high",
            "resource": "aws.sqs.queue",
            "select": {"name_matches": "^${prefix}-"},
            "expect": {"path": "Attributes.VisibilityTimeout", "ge": 30},
        },
        {
            "id": "fuzz.levels",
            "title": "levels of a metric",
            "covers": ["RB-T02"],
            "section": "fuzz",
            "cadence": "daily",
            "severity": "medium",
            "resource": "aws.lambda.function",
            "metrics": {
                "errors": {
                    "namespace": "AWS/Lambda",
                    "metric": "Errors",
                    "stat": "Sum",
                    "dimensions": {"FunctionName": "{name}"},
                    "window_hours": 24,
                }
            },
            "value": {"metric": "errors", "unit": "errors"},
            "levels": {"normal": "< 1", "warn": "> 5", "fail": "> 10"},
        },
        {
            "id": "fuzz.logs",
            "title": "a log count",
            "covers": ["RB-D01"],
            "section": "fuzz",
            "cadence": "weekly",
            "severity": "low",
            "resource": "aws.logs.log_group",
            "logs": {"errors": {"pattern": "ERROR", "window_hours": 24}},
            "value": {"logs": "errors"},
            "levels": {"warn": "> 0"},
        },
    ],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["${prefix}", "${nope}", "$", "{name}", "{each:X[].Y}", "> 5", "1e999", "*"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*at, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*at, index))
    return found


PATHS = _paths(BASE)


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``document`` with the value at ``path`` replaced; unchanged where an earlier change
    took the path away (its parent replaced by a scalar)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict) and isinstance(head, str):
        return {**document, head: _replaced(document.get(head), rest, value)}
    if isinstance(document, list) and isinstance(head, int) and head < len(document):
        changed = list(document)
        changed[head] = _replaced(changed[head], rest, value)
        return changed
    return document


def problems_of(path: Path) -> list[str]:
    """The problems the loader refuses ``path`` with ([] when it loads and compiles). Any other
    exception propagates and fails the test."""
    try:
        load_policy_set([path]).compile()
    except InputError as error:
        return error.problems
    return []


def assert_positioned(path: Path, problems: list[str]) -> None:
    for line in problems:
        assert "\n" not in line, line
        found = PROBLEM_LINE.match(line)
        assert found is not None, line
        assert found["file"] == str(path), line


@fuzz(150)
@given(changes=st.lists(st.tuples(st.sampled_from(PATHS), values), min_size=1, max_size=3))
@example(changes=[(("rules", 0, "expect", "ge"), math.inf)])
@example(changes=[(("rules", 0, "expect", "ge"), math.nan)])
@example(changes=[(("rules", 1, "levels", "warn"), "> 1e999")])
@example(changes=[(("parameters", "prefix", "default"), ["a"])])
def test_any_value_in_any_field_loads_or_is_refused_with_positions(
    tmp_path_factory: Any, changes: list[tuple[tuple[Any, ...], Any]]
) -> None:
    document: Any = BASE
    for path, value in changes:
        document = _replaced(document, path, value)
    policy = tmp_path_factory.mktemp("fuzz") / "policy.yaml"
    policy.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    assert_positioned(policy, problems_of(policy))


FEATURES = [
    "&a {id: x}\n",
    "*a\n",
    "<<: *a\n",
    "!!python/object:os.system [ls]\n",
    "!!binary aGk=\n",
    "!custom x\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "? [complex, key]\n: v\n",
    "rules:\n",
    "  - ",
    "- ",
    "  ",
    "id: r\n",
    "title: |\n  block\n",
    "covers: [RB-B01]\n",
    "expect: {path: A, equals: 1}\n",
    "{",
    "}",
    "[",
    "'unterminated\n",
    "\ufeff",
    "\t",
    "\x00",
    "key: key: key\n",
    "2001-12-14t21:59:43.10-05:00\n",
    "0o17\n",
    ".inf\n",
]


@fuzz(150)
@given(st.lists(st.sampled_from(FEATURES) | st.text(max_size=6), min_size=1, max_size=14))
@example(["&a [*a]\n"])
@example(["a: &x [1]\n", "b: &y [*x, *x, *x]\n", "c: [*y, *y, *y]\n"])
def test_yaml_features_load_or_are_refused_with_positions(
    tmp_path_factory: Any, parts: list[str]
) -> None:
    policy = tmp_path_factory.mktemp("fuzz") / "policy.yaml"
    policy.write_bytes("".join(parts).encode("utf-8", "surrogatepass"))
    assert_positioned(policy, problems_of(policy))


@pytest.mark.parametrize("written", [".inf", ".nan", "1.0e+308"])
def test_a_window_no_clock_can_hold_is_refused_not_a_crash(tmp_path: Path, written: str) -> None:
    text = yaml.safe_dump(BASE).replace("window_hours: 24\n", f"window_hours: {written}\n", 1)
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    problems = problems_of(policy)
    assert_positioned(policy, problems)
    assert problems


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("rules: &a [*a]\n", "1:8: rules"),
        ("rules:\n  - &r {id: x, also: [*r]}\n", "2:5: rules[0]"),
        ("parameters: &p {prefix: {default: *p}}\nrules: []\n", "1:13: parameters"),
    ],
)
def test_a_recursive_alias_is_refused_where_it_is_anchored(
    tmp_path: Path, text: str, where: str
) -> None:
    """Regression (found by the fuzzing above): an alias inside the value it names made the
    YAML reader recurse until RecursionError (exit 3). Waivers and config files are read by the
    same reader (engine/yamlsafe.py)."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    [line] = problems_of(policy)
    assert line.startswith(f"{policy}:{where}"), line
    assert line.endswith("an alias refers to a value that contains it")
    done = subprocess.run(
        [sys.executable, "-m", "runbook_guard", "validate", str(policy)],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard, not a performance assertion
    )
    assert (done.returncode, done.stderr.strip()) == (2, line)


def test_text_with_a_lone_surrogate_is_refused_not_a_crash() -> None:
    """libyaml, which composes policies where PyYAML has it, takes UTF-8: a lone surrogate
    (possible in text handed over by code, never in a file read as UTF-8) is refused."""
    with pytest.raises(InputError) as refused:
        parse_yaml("rules:\n  - id: \ud800\n", "x.yaml")
    assert refused.value.problems == ["x.yaml:2:1: <document>: text is not valid Unicode"]
