"""The template gate end to end on a corpus of small templates (issue 10's acceptance).

Each template in ``tests/data/templates/gate`` exercises one thing (SAM Globals, conditions,
parameters from defaults, samconfig.toml and overrides, every intrinsic, the JSON form, nested
stacks, unknown tags, unresolvable values, suppressions, malformed input) through the whole
gate as ``check --template`` runs it: read, mapped, judged by the shipped pack. ``cases.yaml``
beside the templates is the table of what must come out: per (rule, resource) the status and
the exact line, for every result that is not a pass, so a near miss that slips to a pass, or a
finding that moves off its line, fails here. The table is data, not code, so a case is a
template and a few rows, never a copied test function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbook_guard.cli.pipeline import Prepared, evaluate, prepare
from runbook_guard.cli.rules import phases_of, template_keys
from runbook_guard.cli.template_gate import TemplateRequest, template_snapshot
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.phase import NOT_APPLICABLE
from runbook_guard.engine.snapshot import Snapshot

GATE = Path(__file__).parents[1] / "data" / "templates" / "gate"
#: Judged as of this day: python3.10 deprecated (2026-10-31), ruby3.3 within 90 days (2027-03-31).
NOW = datetime(2027, 1, 15, tzinfo=timezone.utc)
NONE = "-"

Key = tuple[str, str]  # (rule, resource name or "-")
Outcome = tuple[str, str | None, int | None]  # (status, original status, line)


@dataclass(frozen=True)
class Row:
    """One expected result: ``RULE RESOURCE STATUS LINE [| TEXT]`` (see cases.yaml)."""

    rule: str
    resource: str
    outcome: Outcome
    text: str | None

    @classmethod
    def parse(cls, written: str) -> Row:
        if not isinstance(written, str):
            raise ValueError(f"a row is one line of text (quote it if it holds ': '): {written}")
        head, _, text = written.partition(" | ")
        rule, resource, status, line = head.split()
        status, _, original = status.partition(":")
        where = None if line == NONE else int(line)
        return cls(rule, resource, (status, original or None, where), text.strip() or None)

    @property
    def key(self) -> Key:
        return (self.rule, self.resource)


@dataclass(frozen=True)
class Case:
    """One template judged one way, and what must come out (see cases.yaml)."""

    id: str
    template: str
    focus: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()
    overrides: tuple[str, ...] = ()
    config_env: str = "default"
    stack_name: str | None = None
    absent: tuple[str, ...] = ()
    not_followed: tuple[str, ...] = ()
    input_error: str | None = None

    @classmethod
    def of(cls, written: dict[str, Any]) -> Case:
        """A case from its YAML entry; an unknown key is a typo that would check nothing."""
        unknown = set(written) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"case {written.get('id')}: unknown key(s) {sorted(unknown)}")
        values: dict[str, Any] = {
            key: tuple(Row.parse(row) for row in value) if key == "rows"
            else tuple(value) if isinstance(value, list) else value
            for key, value in written.items()
        }  # fmt: skip
        return cls(**values)

    def in_focus(self, rule: str) -> bool:
        return any(rule.startswith(prefix) for prefix in self.focus)


def load_cases() -> list[Case]:
    loaded = yaml.safe_load((GATE / "cases.yaml").read_text(encoding="utf-8"))
    return [Case.of(entry) for entry in loaded]


CASES = load_cases()
JUDGED = [case for case in CASES if case.input_error is None]


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(None, None, None)


@pytest.fixture(autouse=True)
def fixed_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader takes the region from the environment when samconfig gives none; the
    corpus is written for us-east-1 (the Mappings and ARNs in it say so)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Gate:
    """One run: the snapshot the templates were read into, and the results."""

    snapshot: dict[str, Any]
    results: dict[str, Any]


def run_gate(case: Case, prepared: Prepared) -> Gate:
    """``check --template`` in process, locations relative to the corpus folder."""
    request = TemplateRequest(
        [GATE / case.template], list(case.overrides), case.config_env, case.stack_name, GATE
    )
    snapshot = template_snapshot(request, NOW)
    return Gate(snapshot, evaluate(prepared, Snapshot(snapshot), None, None))


def name_of(result: dict[str, Any]) -> str:
    return str((result.get("resource") or {}).get("name") or NONE)


def judged(case: Case, results: Sequence[dict[str, Any]]) -> dict[Key, Outcome]:
    """What the case accounts for: within its focus, every result but a pass and an
    unlocated not_applicable, and any result it lists."""
    listed = {row.key for row in case.rows}
    found: dict[Key, Outcome] = {}
    for result in results:
        key = (result["rule"], name_of(result))
        location = result.get("location")
        quiet = result["status"] == "pass" or (
            result["status"] == NOT_APPLICABLE and location is None
        )
        if not case.in_focus(result["rule"]) or (quiet and key not in listed):
            continue
        assert key not in found, f"two results for {key}: the table cannot tell them apart"
        line = location["line"] if location else None
        found[key] = (result["status"], result.get("original_status"), line)
    return found


def test_the_corpus_is_at_least_fifteen_templates() -> None:
    templates = {case.template for case in CASES}
    assert len(templates) >= 15
    assert all((GATE / template).is_file() for template in templates)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_gate_judges_each_template(case: Case, prepared: Prepared) -> None:
    if case.input_error is not None:
        with pytest.raises(InputError) as raised:
            run_gate(case, prepared)
        (problem,) = raised.value.problems
        assert problem.startswith(case.input_error), problem
        return
    gate = run_gate(case, prepared)
    results = gate.results["results"]
    assert judged(case, results) == {row.key: row.outcome for row in case.rows}
    by_key = {(r["rule"], name_of(r)): r for r in results}
    for row in case.rows:
        if row.text is not None:
            said = [by_key[row.key]["message"], *by_key[row.key].get("causes", [])]
            assert any(row.text in text for text in said), (row.key, said)
    located = [r["location"] for r in results if "location" in r]
    assert {where["file"] for where in located} <= {case.template}
    for name in case.absent:
        assert name not in {name_of(r) for r in results}
        assert name not in {r["name"] for r in gate.snapshot["resources"]}
    (source,) = gate.results["scope"]["source"]["templates"]
    assert source["file"] == case.template
    assert [
        f"{nested['logical_id']} {nested['type']} {nested['line']}"
        for nested in sorted(source["not_followed"], key=lambda n: n["line"])
    ] == list(case.not_followed)


def test_every_rule_judging_templates_has_a_near_miss(prepared: Prepared) -> None:
    """Each rule `rules list --phase template` names has a row in the corpus where it does
    not pass: the near miss that must not slip through before deploy. An informational rule
    reports a value and never fails; its row shows the value instead."""
    keys = template_keys()
    assert keys is not None
    judging = {
        rule.id
        for rule in prepared.rules
        if "template" in phases_of(rule, keys) and not rule.informational
    }
    caught = {row.rule for case in JUDGED for row in case.rows if row.outcome[0] != "pass"}
    assert sorted(judging - caught) == []
