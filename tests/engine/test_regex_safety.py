"""Issue 11, defect 2: a policy's regular expression can never hang the gate, and a parameter
pasted into a pattern is literal text unless the parameter is declared a pattern.

The catastrophic cases run in a child process with a deadline: before the fix ``re`` ran
them for minutes, so the test fails (TimeoutExpired) instead of hanging the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine import regexes
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.regexes import PatternTimeout, compile_pattern, escape
from tests.engine.builders import compile_text, resource, run, snapshot_doc, statuses

ROOT = Path(__file__).resolve().parents[2]
NAME = "a" * 31 + "!"  # 32 characters: exponential for (a|a)+ and, under re, for (a+)+

RULE = """
parameters:
  prefix: {default: agenticai}
  team_matches: {default: "^(pm|dev)-"}
rules:
  - id: t.rule
    title: t
    covers: [RB-B01]
    section: test
    cadence: daily
    severity: low
    resource: aws.test.thing
%s
"""

CHILD = r"""
import json, sys
from pathlib import Path
from runbook_guard.engine.errors import InputError
from tests.engine.builders import resource, run, snapshot_doc

folder, pattern, where = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
name = "a" * 31 + "!"
if where == "expect":
    body = '    expect: {path: Tag, matches: "%s"}' % pattern
else:
    body = '    select: {name_matches: "%s"}\n    expect: {path: Tag, exists: true}' % pattern
text = sys.argv[4] % body
doc = snapshot_doc([resource("aws.test.thing", name, {"Tag": name})])
try:
    results = run(folder, text, doc)
    print(json.dumps([[r["status"], r.get("message", ""), r.get("causes", [])] for r in results]))
except InputError as error:
    print(json.dumps({"input_error": error.problems}))
"""


def _child(tmp_path: Path, pattern: str, where: str) -> Any:
    """The child's results; idle, a stopped search takes about 1.5 s, the child 2 to 3 s."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), pattern, where, RULE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,  # under re these ran for minutes
        check=True,
    )
    return json.loads(done.stdout)


def test_a_catastrophic_matches_is_an_error_naming_the_pattern(tmp_path: Path) -> None:
    found = _child(tmp_path, "^(a|a)+$", "expect")
    ((status, message, causes),) = found
    assert status == "error"
    assert "^(a|a)+$" in message + json.dumps(causes)
    assert "took longer than" in message + json.dumps(causes)


def test_a_catastrophic_name_matches_stops_the_run_naming_the_pattern(tmp_path: Path) -> None:
    found = _child(tmp_path, "^(a|a)+$", "select")
    (problem,) = found["input_error"]
    assert "'^(a|a)+$'" in problem
    assert "took longer than" in problem


def test_the_pattern_of_the_report_is_decided_at_once(tmp_path: Path) -> None:
    """``^(a+)+$`` on a 31-character name ran past 60 s under ``re``."""
    found = _child(tmp_path, "^(a+)+$", "select")
    assert [status for status, _, _ in found] == ["note"]  # nothing selected: a visible note


def test_a_timeout_is_an_input_error_carrying_the_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regexes, "TIMEOUT_SECONDS", 0.05)
    with pytest.raises(PatternTimeout) as caught:
        compile_pattern("^(a|a)+$").search(NAME)
    assert isinstance(caught.value, InputError)
    assert caught.value.pattern == "^(a|a)+$"


def test_lookarounds_keep_working() -> None:
    """The shipped lambda.no-secret-env-vars pattern (a negative lookahead)."""
    pattern = compile_pattern(
        "^(?!.*_(ARN|PARAM|PARAMETER|PATH|NAME)$).*(KEY|Key|key|SECRET|Secret|secret)"
    )
    assert pattern.search("API_KEY") is not None
    assert pattern.search("API_KEY_PARAM") is None


def test_an_invalid_pattern_is_a_load_error(tmp_path: Path) -> None:
    for body in ('    expect: {path: Tag, matches: "(unclosed"}',
                 '    select: {name_matches: "(unclosed"}\n    expect: {path: Tag, exists: true}'):  # fmt: skip
        with pytest.raises(InputError, match="invalid regular expression"):
            compile_text(tmp_path, RULE % body)


SELECT = '    select: {name_matches: "^${prefix}-"}\n    expect: {path: Tag, exists: true}'
WHERE = '    select: {where: {path: Name, matches: "^${prefix}-"}}\n    expect: {path: Tag, exists: true}'


@pytest.mark.parametrize("body", [SELECT, WHERE], ids=["name_matches", "matches"])
def test_a_parameter_inside_a_pattern_is_literal_text(tmp_path: Path, body: str) -> None:
    names = ["agenticai-fn", "other-fn", "a.b-fn", "aXb-fn"]
    doc = snapshot_doc([resource("aws.test.thing", n, {"Tag": 1, "Name": n}) for n in names])
    widened = statuses(run(tmp_path, RULE % body, doc, prefix="agenticai|.*"))
    assert widened == {"(rule)": "note"}  # 'agenticai|.*' is no name's prefix
    assert set(statuses(run(tmp_path, RULE % body, doc, prefix="a.b"))) == {"a.b-fn"}
    assert set(statuses(run(tmp_path, RULE % body, doc))) == {"agenticai-fn"}


def test_a_parameter_named_matches_is_a_pattern(tmp_path: Path) -> None:
    body = '    select: {name_matches: "${team_matches}"}\n    expect: {path: Tag, exists: true}'
    doc = snapshot_doc(
        [resource("aws.test.thing", n, {"Tag": 1}) for n in ["pm-a", "dev-b", "qa-c"]]
    )
    assert set(statuses(run(tmp_path, RULE % body, doc))) == {"pm-a", "dev-b"}
    assert set(statuses(run(tmp_path, RULE % body, doc, team_matches="^qa"))) == {"qa-c"}


def test_escape_leaves_a_literal_name_prefix_for_the_planner() -> None:
    assert escape("agenticai-x") == "agenticai-x"
    assert escape("a.b+c|d") == "a\\.b\\+c\\|d"
    assert compile_pattern("^" + escape("a.b+c|(d)")).search("a.b+c|(d)-x") is not None


def test_a_prefix_override_cannot_widen_a_pattern_parameter_built_on_it() -> None:
    """budget_name_matches defaults to "^${prefix}": the prefix is pasted as text."""
    from runbook_guard.engine.loader import load_policy_set

    resolved = load_policy_set([]).effective_parameters({"prefix": "x|.*"})
    assert resolved["budget_name_matches"] == "^x\\|\\.\\*"
