"""The malformed-policy corpus: each file gives one clear positioned line and exit 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import runbook_guard.cli.commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app

CORPUS = Path(__file__).parent / "malformed"

# file -> (line the problem is reported on, a fragment the message must contain)
EXPECTED: dict[str, tuple[int, str]] = {
    "alias_bomb.yaml": (1, "expands to more than"),
    "bad_covers_id.yaml": (4, "does not match"),
    "bad_id.yaml": (2, "does not match"),
    "bad_jmespath.yaml": (9, "invalid JMESPath"),
    "bad_regex_matches.yaml": (9, "invalid regular expression"),
    "bad_regex_select.yaml": (9, "invalid regular expression"),
    "bad_resource_type.yaml": (8, "unknown resource type 'dynamodb' (did you mean"),
    "bad_threshold.yaml": (10, "cannot parse threshold"),
    "binary_garbage.yaml": (1, "binary file"),
    "check_without_expect.yaml": (2, "needs 'expect'"),
    "duplicate_id.yaml": (10, "duplicate rule id"),
    "duplicate_key.yaml": (4, "duplicate key"),
    "empty.yaml": (1, "empty document"),
    "manual_with_expect.yaml": (10, "manual rule has no 'expect'"),
    "missing_required.yaml": (2, "'title' is a required property"),
    "no_operator.yaml": (9, "exactly one operator"),
    "non_mapping.yaml": (1, "must be a mapping"),
    "not_utf8.yaml": (2, "not UTF-8"),
    "only_comments.yaml": (1, "empty document"),
    "parameter_without_default.yaml": (2, "'default' is a required property"),
    "python_object_tag.yaml": (1, "is not allowed"),
    "scalar_document.yaml": (1, "must be a mapping"),
    "threshold_unit_mismatch.yaml": (10, "is in '/5min'"),
    "thresholds_out_of_order.yaml": (10, "out of order"),
    "two_documents.yaml": (11, "more than one YAML document"),
    "two_operators.yaml": (9, "exactly one operator"),
    "undeclared_metric.yaml": (9, "is not declared"),
    "unknown_cadence.yaml": (6, "is not one of"),
    "unknown_condition_key.yaml": (9, "did you mean 'equals'"),
    "unknown_parameter.yaml": (9, "unknown parameter '${status}'"),
    "unknown_rule_key.yaml": (4, "did you mean 'severity'"),
    "unknown_severity.yaml": (7, "is not one of"),
    "unknown_top_key.yaml": (1, "unknown key 'rulez'"),
    "value_without_levels.yaml": (2, "'levels' is missing"),
    "wrong_type_covers.yaml": (4, "is not of type 'array'"),
    "wrong_type_severity.yaml": (7, "is not one of"),
    "yaml_syntax_error.yaml": (4, "YAML syntax error"),
}
PROBLEM_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<field>\S+): (?P<message>.+)$"
)


def test_the_corpus_is_complete() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_malformed_policy_gives_one_clear_line(name: str) -> None:
    result = CliRunner().invoke(app, ["validate", str(CORPUS / name)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    match = PROBLEM_LINE.match(lines[0])
    assert match, lines[0]
    line, fragment = EXPECTED[name]
    assert match["file"].endswith(name)
    assert int(match["line"]) == line
    assert fragment in match["message"]
    assert "Traceback" not in result.output


def test_a_ten_megabyte_file_and_hostile_input_fail_fast_in_a_real_process(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("rules:\n" + "# padding\n" * 1_100_000)
    assert huge.stat().st_size > 10_000_000
    for path in (huge, CORPUS / "alias_bomb.yaml", CORPUS / "binary_garbage.yaml"):
        done = subprocess.run(
            [sys.executable, "-m", "runbook_guard", "validate", str(path)],
            capture_output=True,
            text=True,
            timeout=60,  # a hang guard, not a performance assertion
            env={**os.environ, "COLUMNS": "200"},
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        assert PROBLEM_LINE.match(done.stderr.strip()), done.stderr
    assert (
        "the limit is"
        in subprocess.run(
            [sys.executable, "-m", "runbook_guard", "validate", str(huge)],
            capture_output=True,
            text=True,
            timeout=60,
        ).stderr
    )
