"""What changed since the previous run: the comparison, its Markdown section, SARIF
baselineState, and `--previous` on the command line."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from typer.testing import CliRunner

from runbook_guard.cli import check as _registers_check  # noqa: F401
from runbook_guard.cli import report as _registers_report  # noqa: F401
from runbook_guard.cli.app import app
from runbook_guard.reporters import compare_documents, render
from runbook_guard.reporters.changes import Changes

from .checks import (
    github_problems,
    parser,
    sarif_schema_errors,
    table_problems,
    tables,
    unexpected_html,
)
from .factory import (
    RULES,
    TABLE,
    base_results,
    document,
    queue,
    resource,
    result,
    with_hostile_text,
)
from .test_hostile_text import hostile, names

PREVIOUS_AT = "2026-11-20T10:00:00+00:00"
CHANGE_HEADER = ["Rule", "Resource", "Before \u2192 now", "Message", "Resource id"]


def _by_name(results: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in results if r["resource"] and r["resource"]["name"] == name)


def previous_document() -> dict[str, Any]:
    """Last week, as the current factory document would have seen it: one of each change."""
    results = [
        r
        for r in base_results()
        if not (r["resource"] and r["resource"]["name"] == "agenticai-dev-dlq")
    ]
    _by_name(results, "agenticai-data")["status"] = "pass"  # now fail: new
    _by_name(results, "agenticai-qa-queue")["status"] = "fail"  # now warn: changed
    _by_name(results, "agenticai-pm-queue")["status"] = "warn"  # now pass: resolved
    pm_dlq = _by_name(results, "agenticai-pm-dlq")  # now waived (warn): changed
    pm_dlq.update(status="fail")
    del pm_dlq["original_status"], pm_dlq["waiver"]
    key = _by_name(results, "agenticai-deployer/AKIAEXAMPLE")  # now fail: changed
    key.update(status="waived", original_status="fail", waiver="W-001")
    results.append(  # gone now: resolved
        result("sqs-queue-depth", queue("agenticai-old-queue"), "fail", 2000, "< 100", "2000 deep")
    )
    doc = document(results)
    doc["evaluated_at"] = PREVIOUS_AT
    doc["scope"]["snapshot_digest"] = "sha256:" + "01" * 32
    return doc


def _seen(changes: Changes) -> dict[str, set[tuple[str, str, str, str]]]:
    return {
        kind: {(c.rule_id, c.resource_name, c.before_text, c.after_text) for c in group}
        for kind, group in (("new", changes.new), ("resolved", changes.resolved),
                            ("changed", changes.changed))
    }  # fmt: skip


def _projection(changes: Changes) -> tuple[Any, ...]:
    """Everything a report shows, without the previous document itself."""
    groups = tuple(
        tuple((c.kind, c.rule_id, c.resource_id, c.before_text, c.after_text, c.message) for c in g)
        for g in (changes.new, changes.resolved, changes.changed)
    )
    return (groups, changes.unchanged, changes.scope_matches, changes.rules_added,
            changes.rules_removed, changes.rules_changed, dict(changes.states))  # fmt: skip


# The comparison ------------------------------------------------------------------------


def test_every_category() -> None:
    changes = compare_documents(document(), previous_document())
    assert _seen(changes) == {
        "new": {
            ("dynamodb-pitr-enabled", "agenticai-data", "pass", "fail"),
            ("sqs-dlq-empty", "agenticai-dev-dlq", "no result", "fail"),
        },
        "resolved": {
            ("sqs-queue-depth", "agenticai-pm-queue", "warn", "pass"),
            ("sqs-queue-depth", "agenticai-old-queue", "fail", "no result"),
        },
        "changed": {
            ("sqs-queue-depth", "agenticai-qa-queue", "fail", "warn"),
            ("sqs-dlq-empty", "agenticai-pm-dlq", "fail", "waived (warn)"),
            ("iam-unused-access-keys", "agenticai-deployer/AKIAEXAMPLE", "waived (fail)", "fail"),
        },
    }
    assert changes.unchanged == 3  # the note, the error and the log group's warn
    assert changes.scope_matches
    assert changes.previous_is_older
    assert changes.rules_added == changes.rules_removed == changes.rules_changed == ()
    gone = next(c for c in changes.resolved if c.after is None)
    assert gone.message == "was: 2000 deep"
    # worst status first, then severity (both high here), then rule id
    assert [c.rule_id for c in changes.new] == ["dynamodb-pitr-enabled", "sqs-dlq-empty"]
    assert changes.persisting == 6  # unchanged and changed: the finding is there in both runs

    def key(rule: str, res: dict[str, str]) -> tuple[str, str, str, str, str]:
        return (rule, res["account"], res["region"], res["type"], res["name"])

    assert changes.baseline_state(key("sqs-queue-depth", queue("agenticai-qa-queue"))) == "updated"
    assert changes.baseline_state(key("dynamodb-pitr-enabled", TABLE)) == "new"
    dev_queue = key("sqs-queue-depth", queue("agenticai-dev-queue"))
    assert changes.baseline_state(dev_queue) == "unchanged"


def test_identical_documents_have_no_changes() -> None:
    changes = compare_documents(document(), document())
    assert (changes.new, changes.resolved, changes.changed) == ((), (), ())
    assert changes.unchanged == 8  # every fail, error, warn, note and waived result
    assert set(changes.states.values()) == {"unchanged"}
    assert not changes.previous_is_older  # same evaluation time: the report says so


def test_independent_of_input_order() -> None:
    reference = _projection(compare_documents(document(), previous_document()))
    for seed in range(5):
        rng = random.Random(seed)
        current, previous = document(), previous_document()
        for doc in (current, previous):
            for field in ("results", "rules", "waivers", "collection_errors"):
                rng.shuffle(doc[field])
        assert _projection(compare_documents(current, previous)) == reference, seed


def test_a_duplicate_key_is_settled_by_value_not_order() -> None:
    twice = [
        *base_results(),
        result("sqs-queue-depth", queue("agenticai-qa-queue"), "pass", 1, "< 100", "fine"),
    ]
    forward = compare_documents(document(), document(twice))
    backward = compare_documents(document(), document(list(reversed(twice))))
    assert _projection(forward) == _projection(backward)
    assert forward.changed == ()  # the worse of the two (warn) is the one compared


def _regional(name: str, region: str, status: str) -> dict[str, Any]:
    res = {**queue(name), "region": region, "id": f"arn:aws:sqs:{region}:123456789012:{name}"}
    return result("sqs-queue-depth", res, status, 900, "< 100", f"{name} deep")


def test_a_scope_mismatch_is_flagged_and_not_counted_as_new_or_resolved() -> None:
    current = document([*base_results(), _regional("west-queue", "us-west-2", "fail")])
    current["scope"]["regions"] = ["us-east-1", "us-west-2"]
    previous = document([*base_results(), _regional("eu-queue", "eu-west-1", "warn")])
    previous["scope"]["regions"] = ["eu-west-1", "us-east-1"]
    previous["evaluated_at"] = PREVIOUS_AT
    changes = compare_documents(current, previous)
    assert not changes.scope_matches
    assert (changes.new, changes.resolved, changes.changed) == ((), (), ())
    assert (changes.outside_scope_now, changes.outside_scope_before) == (1, 1)
    assert changes.unchanged == 8  # us-east-1 and global results are still compared

    markdown = render(current, "markdown", previous=previous)
    section = markdown[markdown.index("## What changed since") :]
    assert section.split("\n")[2].startswith("**Scope differs from the previous run.**")
    regions = next(t for t in tables(markdown) if t[0] == ["Item", "Previous run", "This run"])
    assert ["Regions", "eu-west-1, us-east-1", "us-east-1, us-west-2"] in regions

    # SARIF compares within its category (tool and packs, not scope: docs/reports.md), as
    # GitHub does: a finding outside the previous run's scope is a new alert there.
    run = json.loads(render(current, "sarif", previous=previous))["runs"][0]
    assert run["properties"]["baseline"]["compared"] is True
    west = next(r for r in run["results"] if r["properties"]["resource"]["region"] == "us-west-2")
    assert west["baselineState"] == "new"
    assert run["properties"]["regions"] == ["us-east-1", "us-west-2"]


def test_sarif_baseline_needs_the_same_packs() -> None:
    previous = previous_document()
    previous["policies"]["packs"][0]["name"] = "other-pack"
    run = json.loads(render(document(), "sarif", previous=previous))["runs"][0]
    assert all("baselineState" not in r for r in run["results"])
    assert run["properties"]["baseline"]["compared"] is False


def test_rules_added_removed_and_redefined() -> None:
    old_rule = RULES[1] | {"id": "sqs-legacy-depth"}
    previous_rules = copy.deepcopy(
        [r for r in RULES if r["id"] != "s3-bucket-lifecycle"] + [old_rule]
    )
    retention = next(r for r in previous_rules if r["id"] == "logs-retention-7-days")
    retention["severity"] = "medium"
    previous_results = [r for r in base_results() if r["rule"] != "s3-bucket-lifecycle"] + [
        result("sqs-legacy-depth", queue("agenticai-pm-queue"), "fail", 5000, "< 100", "deep")
    ]
    bucket = resource("aws.s3.bucket", "agenticai-logs", "arn:aws:s3:::agenticai-logs")
    current_results = [
        *base_results(),
        result("s3-bucket-lifecycle", bucket, "fail", None, "set", "no lifecycle"),
    ]
    changes = compare_documents(
        document(current_results), document(previous_results, previous_rules)
    )
    assert [(r.id, r.findings_before, r.findings_now) for r in changes.rules_added] == [
        ("s3-bucket-lifecycle", 0, 1)
    ]
    assert [(r.id, r.findings_before) for r in changes.rules_removed] == [("sqs-legacy-depth", 1)]
    assert [(r.id, r.fields) for r in changes.rules_changed] == [
        ("logs-retention-7-days", ("severity",))
    ]
    assert changes.no_longer_evaluated == 1
    assert changes.resolved == ()  # a removed rule's finding was not fixed
    assert [c.resource_name for c in changes.new] == ["agenticai-logs"]  # a new rule's are new


# Markdown ------------------------------------------------------------------------------


def _h2(markdown: str) -> list[str]:
    tokens = parser().parse(markdown)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]  # fmt: skip


def test_markdown_section_sits_after_the_top_findings_with_parsable_tables() -> None:
    markdown = render(document(), "markdown", previous=previous_document())
    assert _h2(markdown)[:3] == [
        "Top findings (6 of 6)", "What changed since the previous run",
        "Findings needing action (6)",
    ]  # fmt: skip
    # and the first screen says it in one line
    assert (
        f"**Since the previous run** ({PREVIOUS_AT}): 2 new, 2 resolved, 6 persisting "
        "(3 of them changed status)." in markdown.split("\n")[:40]
    )
    assert table_problems(markdown) == []
    assert unexpected_html(markdown) == []
    all_tables = tables(markdown)
    header = ["Item", "Previous run", "This run"]
    head = {row[0]: row[1:] for row in next(t for t in all_tables if t[0] == header)[1:]}
    assert head["Evaluated at"] == [PREVIOUS_AT, "2026-11-27T10:00:00+00:00"]
    assert head["Snapshot digest"] == ["sha256:" + "01" * 32, "sha256:" + "ab" * 32]
    counts = dict(next(t for t in all_tables if t[0] == ["Findings", "Count"])[1:])
    assert counts == {
        "New": "2", "Resolved": "2", "Persisting": "6", "of which status changed": "3",
    }  # fmt: skip
    new, resolved, changed = [t for t in all_tables if t[0] == CHANGE_HEADER]
    assert all(len(row) == 5 for table in (new, resolved, changed) for row in table)
    assert new[1] == ["dynamodb-pitr-enabled", "agenticai-data", "pass \u2192 fail",
                      "Point-in-time recovery is DISABLED", TABLE["id"]]  # fmt: skip
    assert ["sqs-queue-depth", "agenticai-old-queue", "fail \u2192 no result", "was: 2000 deep",
            queue("agenticai-old-queue")["id"]] in resolved  # fmt: skip
    assert [row[2] for row in changed[1:]] == [
        "waived (fail) \u2192 fail", "fail \u2192 warn", "fail \u2192 waived (warn)",
    ]  # fmt: skip


def test_markdown_without_previous_has_no_section_and_identical_runs_say_none() -> None:
    assert "What changed since" not in render(document(), "markdown")
    assert "Since the previous run" not in render(document(), "markdown")
    markdown = render(document(), "markdown", previous=document())
    for line in ("New findings: none.", "Resolved findings: none.", "Status changed: none."):
        assert line in markdown
    assert "**The previous results are not older than these**" in markdown
    assert table_problems(markdown) == []


# SARIF ---------------------------------------------------------------------------------


def test_sarif_baseline_state_validates_and_passes_github_checks() -> None:
    sarif = json.loads(render(document(), "sarif", previous=previous_document()))
    assert sarif_schema_errors(sarif) == []
    assert github_problems(sarif) == []
    run = sarif["runs"][0]
    states = {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r["baselineState"]
        for r in run["results"]
    }
    assert states[("dynamodb-pitr-enabled", "agenticai-data")] == "new"
    assert states[("sqs-dlq-empty", "agenticai-pm-dlq")] == "updated"  # suppressed now
    assert states[("sqs-queue-depth", "agenticai-qa-queue")] == "updated"
    assert ("sqs-queue-depth", "agenticai-dev-queue") not in states  # a note is not emitted
    assert "absent" not in states.values()  # resolved findings are not emitted
    baseline = run["properties"]["baseline"]
    assert baseline["compared"] is True
    assert baseline["baselineStates"] == {"new": 2, "updated": 3, "unchanged": 2}
    assert baseline["resolved"] == 2
    assert baseline["previousEvaluatedAt"] == PREVIOUS_AT


def test_sarif_without_previous_has_no_baseline() -> None:
    run = json.loads(render(document(), "sarif"))["runs"][0]
    assert all("baselineState" not in r for r in run["results"])
    assert "baseline" not in run["properties"]


# Determinism and hostile text ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["markdown", "sarif"])
def test_byte_identical_across_runs_and_orderings(fmt: str) -> None:
    reference = render(document(), fmt, previous=previous_document())
    assert render(document(), fmt, previous=previous_document()) == reference
    for seed in range(5):
        rng = random.Random(seed)
        current, previous = document(), previous_document()
        for doc in (current, previous):
            for field in ("results", "rules", "waivers", "collection_errors"):
                rng.shuffle(doc[field])
            rng.shuffle(doc["scope"]["regions"])
        assert render(current, fmt, previous=previous) == reference, seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, message=hostile)
@example(name="a|b`c<script>x</script>]]>\x00\n\x1b", message="| --- |\n\n# h\r\n*x*")
@example(name=" \u202e ", message="\\u0000\\")
def test_hostile_names_are_escaped_in_the_changes_tables(name: str, message: str) -> None:
    current = with_hostile_text(name, message)
    previous = document()
    previous["evaluated_at"] = PREVIOUS_AT
    markdown = render(current, "markdown", previous=previous)
    assert table_problems(markdown) == []
    assert unexpected_html(markdown) == []
    new = next(t for t in tables(markdown) if t[0] == CHANGE_HEADER)
    mine = [row for row in new[1:] if row[4] == f"arn:{name}"]
    assert sorted(row[2] for row in mine) == [
        "no result \u2192 error", "no result \u2192 fail", "no result \u2192 waived (fail)",
        "no result \u2192 warn",
    ]  # fmt: skip
    assert {row[1] for row in mine} == {name}
    assert {row[3] for row in mine} == {message}
    sarif = json.loads(render(current, "sarif", previous=previous))
    assert sarif_schema_errors(sarif) == []


# Command line --------------------------------------------------------------------------


def _write(path: Path, doc: dict[str, Any] | str) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _run(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [*map(str, args)])


def test_report_previous_writes_the_changes(tmp_path: Path) -> None:
    current = _write(tmp_path / "results.json", document())
    previous = _write(tmp_path / "last-week.json", previous_document())
    out = tmp_path / "out"
    run = _run("report", "-r", current, "-f", "markdown", "-f", "sarif", "-d", out,
               "--previous", previous, "-q")  # fmt: skip
    assert run.exit_code == 0, run.output
    assert (out / "report.md").read_text("utf-8") == render(
        document(), "markdown", previous=previous_document()
    )
    sarif = json.loads((out / "results.sarif").read_text("utf-8"))
    assert {r["baselineState"] for r in sarif["runs"][0]["results"]} == {
        "new", "updated", "unchanged",
    }  # fmt: skip


def test_report_refuses_to_overwrite_the_previous_file(tmp_path: Path) -> None:
    current = _write(tmp_path / "results.json", document())
    previous = _write(tmp_path / "last-week.json", previous_document())
    run = _run("report", "-r", current, "-f", "json", "-o", previous, "--previous", previous)
    assert run.exit_code == 2
    assert "would overwrite the previous results file" in run.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{\n  "tool": ,\n}', ":2:11: <document>: not JSON"),
        ("results[0].status", ":1:1: results[0].status: 'maybe' is not one of"),
    ],
)
@pytest.mark.parametrize("command", ["report", "check"])
def test_a_malformed_previous_file_exits_2_naming_file_line_and_field(
    tmp_path: Path, content: str, expected: str, command: str
) -> None:
    bad = document()
    bad["results"][0]["status"] = "maybe"
    previous = _write(tmp_path / "prev.json", bad if content == "results[0].status" else content)
    current = _write(tmp_path / "results.json", document())
    out = tmp_path / "out"
    if command == "report":
        run = _run("report", "-r", current, "-f", "markdown", "--previous", previous)
    else:  # fails before collecting anything: no AWS needed, nothing written
        run = _run("check", "-d", out, "--previous", previous, "-q")
        assert not out.exists()
    assert run.exit_code == 2
    assert f"{previous}{expected}" in run.stderr
    assert "Traceback" not in run.output
    assert run.stdout == ""
