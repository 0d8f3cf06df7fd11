"""Malformed custom rules: one `validate` run gives every problem, positioned, with a hint.

Each case of ``malformed_custom/`` is a rule an SRE could write on a first try: a typo in a
resource type, an operator, a path, a related alias or key, a select key, cadence, severity,
a parameter, a test case; a missing expectation; bad regular expressions; mistakes in several
stages (schema, compilation, collection, types) or in two files at once. The table lists
every problem each must give: file, line, column, field, a fragment of the message and the
suggestion where one exists. Nothing else may be printed, and the exit code is 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from runbook_guard.cli.app import app, register_commands

CORPUS = Path(__file__).parent / "malformed_custom"
PROBLEM_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<field>\S+): (?P<message>.+)$"
)


class Problem(NamedTuple):
    file: str
    line: int
    column: int
    field: str
    fragment: str
    #: The word "did you mean" must offer; None where nothing close exists.
    suggestion: str | None = None


P = Problem
#: case (a file, or a folder validated whole) -> every problem it must give.
EXPECTED: dict[str, list[Problem]] = {
    "type_typo.yaml": [
        P("type_typo.yaml", 5, 5, "rules[0].resource", "unknown resource type 'aws.sqs.queues'",
          "aws.sqs.queue"),
    ],
    "type_without_service.yaml": [
        P("type_without_service.yaml", 5, 5, "rules[0].resource",
          "unknown resource type 'sqs.queue'", "aws.sqs.queue"),
    ],
    "operator_typos.yaml": [
        P("operator_typos.yaml", 6, 50, "rules[0].expect.equal", "unknown key 'equal'", "equals"),
        P("operator_typos.yaml", 13, 7, "rules[1].expect.gte", "unknown key 'gte'", "ge"),
    ],
    "path_typos.yaml": [
        P("path_typos.yaml", 8, 12, "rules[0].expect.all[0].path",
          "reads 'Atributes' of aws.sqs.queue, which no collection call fills", "Attributes"),
        P("path_typos.yaml", 9, 12, "rules[0].expect.all[1].path",
          "reads 'QueueURL' of aws.sqs.queue, which no collection call fills", "QueueUrl"),
    ],
    "related_alias_typo.yaml": [
        P("related_alias_typo.yaml", 12, 12, "rules[0].expect.lt.related",
          "related 'dql' is not declared", "dlq"),
    ],
    "related_key_typo.yaml": [
        P("related_key_typo.yaml", 7, 34, "rules[0].related.dlq.frm", "unknown key 'frm'", "from"),
    ],
    "related_type_typo.yaml": [
        P("related_type_typo.yaml", 7, 13, "rules[0].related.dlq.type",
          "unknown resource type 'aws.sqs.queu'", "aws.sqs.queue"),
    ],
    "related_operand_typos.yaml": [
        P("related_operand_typos.yaml", 11, 30, "rules[0].expect.all[0].lt.pth",
          "unknown key 'pth'", "path"),
        # The same rule's second mistake (a compile problem) is reported in the same run.
        P("related_operand_typos.yaml", 13, 30, "rules[0].expect.all[1].le.path",
          "a related path is id, name, region, account or data.<path>"),
    ],
    "select_key_typos.yaml": [
        P("select_key_typos.yaml", 6, 14, "rules[0].select.name_not_match",
          "unknown key 'name_not_match'", "name_not_matches"),
        P("select_key_typos.yaml", 12, 49, "rules[1].select.exclude_name",
          "unknown key 'exclude_name'", "exclude_names"),
    ],
    "cadence_and_severity_typos.yaml": [
        P("cadence_and_severity_typos.yaml", 4, 5, "rules[0].cadence", "'dialy' is not one of",
          "daily"),
        P("cadence_and_severity_typos.yaml", 5, 5, "rules[0].severity", "'hihg' is not one of",
          "high"),
    ],
    "missing_expect.yaml": [
        P("missing_expect.yaml", 2, 5, "rules[0]", "a check rule needs 'expect'"),
    ],
    "bad_regexes.yaml": [
        P("bad_regexes.yaml", 6, 14, "rules[0].select.name_not_matches",
          "invalid regular expression '(-dlq$'"),
        P("bad_regexes.yaml", 12, 66, "rules[1].expect.matches", "invalid regular expression"),
    ],
    "parameter_typos.yaml": [
        P("parameter_typos.yaml", 10, 23, "rules[0].select.exclude_names[0]",
          "unknown parameter '${app_prefx}'", "app_prefix"),
        P("parameter_typos.yaml", 13, 7, "rules[0].expect.le",
          "unknown parameter '${max_recieve_count}'", "max_receive_count"),
    ],
    "rule_key_typos.yaml": [
        P("rule_key_typos.yaml", 2, 5, "rules[0]", "'severity' is a required property"),
        P("rule_key_typos.yaml", 4, 5, "rules[0].sevrity", "unknown key 'sevrity'", "severity"),
        P("rule_key_typos.yaml", 6, 60, "rules[0].expect.if_abset", "unknown key 'if_abset'",
          "if_absent"),
    ],
    "test_case_typos.yaml": [
        P("test_case_typos.yaml", 9, 42, "rules[0].tests[0].resources[0].dat",
          "unknown key 'dat'", "data"),
        P("test_case_typos.yaml", 10, 9, "rules[0].tests[0].expect", "'fial' is not one of",
          "fail"),
    ],
    "levels_typos.yaml": [
        P("levels_typos.yaml", 7, 14, "rules[0].levels.norml", "unknown key 'norml'", "normal"),
        P("levels_typos.yaml", 13, 5, "rules[1].levels", "threshold '> 1 msgs' is in 'msgs'"),
    ],
    "every_stage_at_once.yaml": [
        P("every_stage_at_once.yaml", 7, 50, "rules[0].expect.equls", "unknown key 'equls'",
          "equals"),
        P("every_stage_at_once.yaml", 12, 14, "rules[1].expect.related",
          "related 'dlqs' is not declared"),
        P("every_stage_at_once.yaml", 17, 14, "rules[2].expect.path",
          "'Tags.team' reads 'Tags' of aws.sqs.queue, which no collection call fills"),
        P("every_stage_at_once.yaml", 21, 5, "rules[3].resource",
          "unknown resource type 'aws.lambda.functions'", "aws.lambda.function"),
    ],
    "one_rule_two_stages.yaml": [
        P("one_rule_two_stages.yaml", 11, 12, "rules[0].expect.all[0].path",
          "'Atributes.RedrivePolicy' reads 'Atributes'", "Attributes"),
        P("one_rule_two_stages.yaml", 12, 58, "rules[0].expect.all[1].lt.related",
          "related 'dql' is not declared", "dlq"),
    ],
    "two_files": [
        P("two_files/a.yaml", 6, 46, "rules[0].expect.exist", "unknown key 'exist'", "exists"),
        P("two_files/b.yaml", 2, 5, "rules[0].id", "duplicate rule id 'queue-redrive'"),
    ],
}  # fmt: skip


def validate(target: Path) -> tuple[int, str, BaseException | None]:
    register_commands(["validate"])
    result = CliRunner().invoke(app, ["validate", str(target)])
    return result.exit_code, result.output, result.exception


def test_the_corpus_is_complete() -> None:
    cases = sorted(p.name for p in CORPUS.iterdir())
    assert cases == sorted(EXPECTED)
    assert len(EXPECTED) >= 15
    with_hint = [c for c, problems in EXPECTED.items() if any(p.suggestion for p in problems)]
    assert len(with_hint) >= 12


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_malformed_rule_gives_every_problem_in_one_run(case: str) -> None:
    code, output, exception = validate(CORPUS / case)
    assert code == 2, output
    assert exception is None or isinstance(exception, SystemExit), exception
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    parsed = [PROBLEM_LINE.match(line) for line in lines]
    assert all(parsed), lines
    expected = EXPECTED[case]
    assert len(lines) == len(expected), lines  # every problem, and nothing else
    for want in expected:
        found = [
            m for m in parsed
            if m is not None and m["file"].endswith(f"malformed_custom/{want.file}")
            and (int(m["line"]), int(m["column"]), m["field"]) == (want.line, want.column, want.field)
        ]  # fmt: skip
        assert found, f"{want} not in {lines}"
        message = found[0]["message"]
        assert want.fragment in message, message
        if want.suggestion is not None:
            assert f"(did you mean '{want.suggestion}'?)" in message, message
        else:
            assert "did you mean" not in message, message


def test_the_whole_corpus_at_once_lists_every_case_problem() -> None:
    """Validating the folder reports every file's problems in one run (plus the duplicate ids
    the files share, which one file alone does not have)."""
    code, output, _ = validate(CORPUS)
    assert code == 2
    lines = output.strip().splitlines()
    for case, problems in EXPECTED.items():
        for want in problems:
            where = f"malformed_custom/{want.file}:{want.line}:{want.column}: {want.field}: "
            assert any(where in line for line in lines), (case, want)
