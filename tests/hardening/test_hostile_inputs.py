"""Hostile and large inputs end in a result or a clean error: what happens, never how fast.

The inputs (hostile_inputs.py) are shared with benchmarks/hostile.py, which measures their time and peak memory
(docs/reliability.md has the figures); here only the outcomes are asserted. Cases the engine
tests already hold are not repeated: a policy nested 1,000 levels and snapshots nested 990 to
5,000 (tests/engine/test_hardening_inputs.py), the policy alias bomb and a 10 MB policy
(tests/engine/test_malformed_policies.py), catastrophic ``matches`` / ``name_matches``
(tests/engine/test_regex_safety.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from runbook_guard.engine.config import load_config
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import load_policy_set
from runbook_guard.engine.results import build_results
from runbook_guard.engine.snapshot import Snapshot, load_snapshot
from runbook_guard.engine.waivers import load_waivers
from runbook_guard.engine.yamlsafe import MAX_BYTES, MAX_DEPTH, MAX_NODES
from runbook_guard.reporters import render, validate_results
from runbook_guard.reporters.console import print_summary
from runbook_guard.reporters.loading import load_results
from tests.hardening.hostile_inputs import (
    NOW,
    alias_bomb,
    deep_json,
    evaluate_with_pack,
    large_snapshot,
    many_rules,
    many_scripts_snapshot,
    one_file_of_rules,
    queue,
    snapshot_document,
)
from tests.reporters.checks import sarif_schema_errors, table_problems, unexpected_html

ROOT = Path(__file__).resolve().parents[2]
PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<field>\S+): \S.*$")
#: C0 controls and DEL but tab and newline: none may reach a report or a terminal raw.
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def refused(path: Path, load: Callable[[Path], Any]) -> str:
    """The one problem line ``load`` refuses ``path`` with (it must refuse)."""
    with pytest.raises(InputError) as error:
        load(path)
    [line] = error.value.problems
    found = PROBLEM_LINE.match(line)
    assert found is not None, line
    assert found["file"] == str(path)
    return line


def test_a_50_mb_snapshot_is_evaluated(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_bytes(large_snapshot(50))
    assert path.stat().st_size > 45_000_000
    snapshot = load_snapshot(path)
    results = evaluate_with_pack(snapshot, tmp_path)
    validate_results(results)
    judged = {r["resource"]["name"] for r in results["results"] if r["resource"]}
    stack = {r["name"] for r in snapshot.resources if r["name"].startswith("agenticai-")}
    assert len(snapshot.resources) > 75_000
    assert len(stack) > 1_500
    assert stack <= judged  # every selected queue has its results


def test_10000_rules_in_files_load_and_each_gives_results(tmp_path: Path) -> None:
    folder = many_rules(tmp_path / "rules", 10_000)
    assert all(p.stat().st_size < MAX_BYTES for p in folder.iterdir())
    policy_set = load_policy_set([folder])
    queues = [queue(f"agenticai-bench-{i:06d}", i) for i in range(100)]
    results = build_results(
        policy_set, policy_set.compile(), Snapshot(snapshot_document(queues)), {}, NOW
    )
    assert len(policy_set.entries) == 10_000
    assert {r["rule"] for r in results["results"]} == {e.spec["id"] for e in policy_set.entries}
    assert results["summary"]["total"] == len(results["results"]) >= 10_000


def test_10000_rules_in_one_file_are_refused_on_its_size(tmp_path: Path) -> None:
    path = one_file_of_rules(tmp_path / "rules.yaml", 10_000)
    line = refused(path, lambda p: load_policy_set([p]))
    assert line.endswith(f"the limit is {MAX_BYTES}")


def test_a_results_file_nested_100000_levels_is_refused(tmp_path: Path) -> None:
    """Regression: the results loader (report, --previous) ended in RecursionError, exit 3."""
    path = tmp_path / "results.json"
    path.write_text(deep_json(100_000))
    assert refused(path, load_results).endswith("nested too deeply to read")


@pytest.mark.parametrize(("load", "key"), [(load_waivers, "waivers"), (load_config, "regions")])
def test_waivers_and_config_nested_too_deep_are_refused(
    tmp_path: Path, load: Callable[[Path], Any], key: str
) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(f"{key}: " + "[" * 5_000 + "]" * 5_000 + "\n")
    assert refused(path, load).endswith(f"nested more than {MAX_DEPTH} levels deep")


@pytest.mark.parametrize(("load", "key"), [(load_waivers, "waivers"), (load_config, "regions")])
def test_alias_bombs_in_waivers_and_config_are_refused(
    tmp_path: Path, load: Callable[[Path], Any], key: str
) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(alias_bomb(key))
    assert refused(path, load).endswith(f"more than {MAX_NODES} values (alias expansion?)")


@pytest.mark.parametrize(("load", "key"), [(load_waivers, "waivers"), (load_config, "regions")])
def test_recursive_aliases_in_waivers_and_config_are_refused(
    tmp_path: Path, load: Callable[[Path], Any], key: str
) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(f"{key}: &loop [*loop]\n")
    assert refused(path, load).endswith("an alias refers to a value that contains it")


WAIVER_CHILD = r"""
import json, sys
from datetime import datetime, timezone
from runbook_guard.engine.waivers import apply_waivers
name = "a" * 10_000
results = [{"rule": "r", "status": "fail", "message": "m", "resource": {"type": "aws.sqs.queue",
            "id": "arn:" + name, "name": name, "region": "us-east-1", "account": "1"}}]
waiver = {"id": "W", "rule": "r", "resource": sys.argv[1], "owner": "o", "reason": "r",
          "expires": "2026-12-31"}
apply_waivers(results, [waiver], datetime(2026, 11, 27, tzinfo=timezone.utc), {})
print(json.dumps([r["status"] for r in results]))
"""  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "status"), [("*a" * 30 + "*b", "fail"), ("*a" * 30 + "*", "waived")]
)
def test_a_backtracking_waiver_pattern_against_a_long_name_ends(pattern: str, status: str) -> None:
    """Waiver resource patterns are fnmatch globs: ``*a*a...*b`` against 10,000 a's would
    backtrack for ever with a naive translation; CPython's is linear. A hang guard, not a
    timing: the child gets a minute."""
    done = subprocess.run(
        [sys.executable, "-c", WAIVER_CHILD, pattern],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == [status]


def test_names_in_many_scripts_with_control_characters_keep_every_output_valid(
    tmp_path: Path,
) -> None:
    """1,000 queues named in 20 scripts (bidirectional, zero-width, combining, emoji) with
    terminal escapes, NUL and line breaks: the pack judges them, every format stays valid,
    no control character reaches a report or the console raw, and each name survives in the
    JSON report exactly."""
    snapshot = Snapshot(many_scripts_snapshot(50))  # the benchmark's 10,000 take longer
    results = evaluate_with_pack(snapshot, tmp_path)
    validate_results(results)
    judged = {r["resource"]["name"] for r in results["results"] if r["resource"]}
    assert {r["name"] for r in snapshot.resources} <= judged

    junit = render(results, "junit")
    ET.fromstring(junit.encode("utf-8"))
    sarif = json.loads(render(results, "sarif"))
    assert sarif_schema_errors(sarif) == []
    for fmt in ("markdown", "markdown-summary"):
        markdown = render(results, fmt)
        assert table_problems(markdown) == []
        assert unexpected_html(markdown) == []
    for fmt in ("junit", "sarif", "markdown", "markdown-summary", "json"):
        assert RAW_CONTROL.findall(render(results, fmt)) == [], fmt
    reported = {
        r["resource"]["name"]
        for r in orjson.loads(render(results, "json"))["results"]
        if r["resource"]
    }
    assert reported == judged

    screen = StringIO()
    print_summary(results, Console(file=screen, width=120, force_terminal=True))
    assert "\x1b]" not in screen.getvalue()  # rich's own colours (CSI) only, no OSC
