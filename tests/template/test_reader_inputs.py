"""The reader's inputs: parameters (Default < samconfig.toml < overrides), bad input, speed.

Bad input is an ``InputError`` whose problems name the file, line and column the CLI prints
(exit 2); the exact problem text is asserted so a regression in where it points shows.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from runbook_guard.engine.errors import InputError
from runbook_guard.template.model import Position, Unresolved
from runbook_guard.template.reader import read_template
from tests.template.test_reader import (  # the fixture applies here too
    CORPUS,
    read,
    region_not_from_the_environment,  # noqa: F401
    resource,
)

APP = "samconfig_app/template.yaml"


@pytest.mark.parametrize(
    ("options", "stack", "region", "parameters", "log_group"),
    [
        # samconfig's default environment: stack and region from [default.global.parameters],
        # overrides from [default.deploy.parameters]; the rest from Default.
        (
            {},
            "agenticai-dev",
            "eu-west-1",
            {"Stage": "staging", "Owner": "data team", "Retention": 7, "Zones": ["a", "b"]},
            "/agenticai/staging/agenticai-dev/eu-west-1",
        ),
        # --config-env prod: its deploy table's stack_name and list of overrides, its global region.
        (
            {"config_env": "prod"},
            "agenticai-prod",
            "eu-central-1",
            {"Stage": "prod", "Owner": "platform team", "Retention": 90, "Zones": ["x", "y", "z"]},
            "/agenticai/prod/agenticai-prod/eu-central-1",
        ),
        # --parameter-overrides replace samconfig's as a whole, as `sam deploy` does (Owner
        # falls back to its Default); explicit stack and region over both.
        (
            {
                "parameter_overrides": {"Stage": "dev", "Prefix": "rg"},
                "stack_name": "s1",
                "region": "us-west-2",
            },
            "s1",
            "us-west-2",
            {"Stage": "dev", "Prefix": "rg", "Owner": "platform team", "Retention": 7},
            "/rg/dev/s1/us-west-2",
        ),
    ],
)
def test_parameters_from_defaults_samconfig_and_overrides(
    options: dict[str, Any], stack: str, region: str, parameters: dict[str, Any], log_group: str
) -> None:
    template = read(APP, **options)
    assert (template.stack_name, template.region, template.partition) == (stack, region, "aws")
    assert {name: template.parameters[name] for name in parameters} == parameters
    assert template.parameters["ApiKey"] == "<redacted>"
    logs = resource(template, "Logs")
    assert logs.properties["LogGroupName"] == log_group
    assert logs.properties["RetentionInDays"] == parameters["Retention"]
    assert logs.positions["Properties.RetentionInDays"] == Position(APP, 34, 7)
    assert logs.properties["Tags"][0] == {"Key": "owner", "Value": parameters["Owner"]}


def test_without_samconfig_the_stack_is_the_file_stem_and_the_region_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    template = read("refs.yaml")
    assert (template.stack_name, template.region, template.account) == (
        "refs",
        "ap-southeast-2",
        "123456789012",
    )
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    assert read("refs.yaml").region == "eu-north-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert read("refs.yaml").region == "us-east-1"


def test_ssm_and_valueless_parameters_are_unresolvable_where_used() -> None:
    template = read("ssm_parameter.yaml")
    assert template.parameters == {"Runtime": "/agenticai/runtime", "Token": None}
    function = resource(template, "Fn")
    assert function.properties["Runtime"] == Unresolved(
        "unresolvable",
        "Ref Runtime (SSM parameter /agenticai/runtime)",
        Position("ssm_parameter.yaml", 12, 16),
    )
    assert function.properties["Environment"]["Variables"]["TOKEN"] == Unresolved(
        "unresolvable",
        "Ref Token (a parameter with no value)",
        Position("ssm_parameter.yaml", 15, 18),
    )
    given = read("ssm_parameter.yaml", parameter_overrides={"Token": "s3cr3t"})
    assert given.parameters["Token"] == "<redacted>"
    # A NoEcho value never enters a property: whatever is built from it could reach an output
    assert resource(given, "Fn").properties["Environment"]["Variables"]["TOKEN"] == Unresolved(
        "unresolvable",
        "Ref Token (NoEcho: the gate keeps it out)",
        Position("ssm_parameter.yaml", 15, 18),
    )


def test_an_unknown_tag_is_an_unresolvable_value_on_its_line() -> None:
    queue = resource(read("unknown_tag.yaml"), "Queue")
    assert queue.properties == {
        "QueueName": Unresolved(
            "unresolvable", "Fn::Frobnicate agenticai-jobs", Position("unknown_tag.yaml", 5, 18)
        ),
        "DelaySeconds": 5,
    }
    assert queue.positions["Properties.DelaySeconds"] == Position("unknown_tag.yaml", 6, 7)


def test_json_with_tabs_keeps_its_columns() -> None:
    queue = resource(read("tabs.json"), "Queue")
    assert queue.properties == {"DelaySeconds": 5}
    assert queue.position == Position("tabs.json", 3, 3)
    assert queue.positions["Properties.DelaySeconds"] == Position("tabs.json", 5, 19)


def test_digest_and_display_path() -> None:
    template = read_template(CORPUS / "refs.yaml", display_path="infra/refs.yaml")
    assert template.digest == hashlib.sha256((CORPUS / "refs.yaml").read_bytes()).hexdigest()
    assert template.display_path == "infra/refs.yaml"
    assert resource(template, "Bucket").position == Position("infra/refs.yaml", 13, 3)


def _problems(name: str, **options: Any) -> list[str]:
    with pytest.raises(InputError) as raised:
        read(name, **options)
    return raised.value.problems


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        (
            "malformed.yaml",
            {},
            [
                "malformed.yaml:6:19: <document>: malformed YAML: while parsing a flow sequence "
                "(opened at line 5, column 18): did not find expected ',' or ']'"
            ],
        ),
        (
            "not_a_template.yaml",
            {},
            ["not_a_template.yaml:1:1: Resources: not a template: no Resources section"],
        ),
        (
            "resource_without_type.yaml",
            {},
            ["resource_without_type.yaml:4:3: Resources.Table: a resource needs a Type"],
        ),
        (
            "duplicate_key.yaml",
            {},
            [
                "duplicate_key.yaml:5:7: <document>: malformed template: Duplicate found 'DelaySeconds' (line 5)",
                "duplicate_key.yaml:6:7: <document>: malformed template: Duplicate found 'DelaySeconds' (line 6)",
            ],
        ),
        (
            "sam_error.yaml",
            {},
            [
                "sam_error.yaml:3:3: Resources.Worker: SAM transform: Resource with id [Worker] is invalid. "
                "Event with id [Jobs] is invalid. Resource dict has missing or invalid value for key Type. "
                "Event Type is: NotAnEventType."
            ],
        ),
        (
            "sam_bad_globals.yaml",
            {},
            [
                "sam_bad_globals.yaml:2:1: Globals: SAM transform: 'Globals' section is invalid. "
                "'Nonsense' is not supported. ..."
            ],
        ),
        # The translator names the resource it was generating: reported at the event's entry.
        (
            "sam_event_error.yaml",
            {},
            [
                "sam_event_error.yaml:11:9: Resources.FQ: SAM transform: Resource with id [FQ] is "
                "invalid. Missing required property 'Queue'."
            ],
        ),
        (
            "serverless_without_transform.yaml",
            {},
            [
                "serverless_without_transform.yaml:2:3: Resources.Worker.Type: "
                "AWS::Serverless::Function needs `Transform: AWS::Serverless-2016-10-31`"
            ],
        ),
        (
            "macro.yaml",
            {},
            [
                "macro.yaml:1:1: Transform: the transform 'MyCompany::Macro' is a macro that runs only in "
                "AWS; the gate reads AWS::Serverless-2016-10-31 and AWS::LanguageExtensions templates"
            ],
        ),
        (
            "bad_reference.yaml",
            {},
            [
                "bad_reference.yaml:6:30: Fn::GetAtt: Fn::GetAtt Missing.Arn: no resource is named 'Missing'"
            ],
        ),
        (
            "bad_samconfig/template.yaml",
            {},
            [
                "bad_samconfig/samconfig.toml:5:34: <document>: malformed TOML: Illegal character '\\n'"
            ],
        ),
        (
            "refs.yaml",
            {"config_env": "prod"},
            ["samconfig.toml:1:1: prod: --config-env prod: no samconfig.toml beside the template"],
        ),
        (
            APP,
            {"config_env": "qa"},
            ["samconfig_app/samconfig.toml:1:1: qa: --config-env qa: no [qa] tables"],
        ),
        (
            APP,
            {"parameter_overrides": {"Stage": "prod", "Nope": "1"}},
            [
                f"{APP}:1:1: parameter_overrides: --parameter-overrides sets Nope, which the template "
                "does not declare (its parameters: ApiKey, Owner, Prefix, Retention, Stage, Zones)"
            ],
        ),
        (
            APP,
            {"parameter_overrides": {"Stage": "qa"}},
            [
                f"{APP}:8:5: Parameters.Stage: value 'qa' (from --parameter-overrides) is not one of "
                "AllowedValues ['dev', 'staging', 'prod']"
            ],
        ),
        (
            APP,
            {"parameter_overrides": {"Prefix": "Agentic_AI"}},
            [
                f"{APP}:12:5: Parameters.Prefix: value 'Agentic_AI' (from --parameter-overrides) does not "
                "match AllowedPattern '[a-z][a-z0-9-]*'"
            ],
        ),
        (
            APP,
            {"parameter_overrides": {"Retention": "5000"}},
            [
                f"{APP}:20:5: Parameters.Retention: value '5000' (from --parameter-overrides) breaks MaxValue 3653"
            ],
        ),
        (
            APP,
            {"parameter_overrides": {"Retention": "a week"}},
            [
                f"{APP}:17:5: Parameters.Retention: value 'a week' (from --parameter-overrides) is not a number (Number)"
            ],
        ),
    ],
)
def test_bad_input_names_file_line_and_column(
    name: str, options: dict[str, Any], expected: list[str]
) -> None:
    """A trailing ``...`` ends the part of the translator's own wording this test relies on."""
    problems = _problems(name, **options)
    assert len(problems) == len(expected)
    for got, want in zip(problems, expected, strict=True):
        assert got.startswith(want[:-3]) if want.endswith("...") else got == want


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        read_template(tmp_path / "missing.yaml", display_path="missing.yaml")
    assert raised.value.problems == [
        "missing.yaml:1:1: <document>: cannot read the template: No such file or directory"
    ]


def _app_copy(tmp_path: Path, samconfig: str) -> Path:
    shutil.copy(CORPUS / APP, tmp_path / "template.yaml")
    (tmp_path / "samconfig.toml").write_text(samconfig, encoding="utf-8")
    return tmp_path / "template.yaml"


@pytest.mark.parametrize(
    ("samconfig", "expected"),
    [
        # A value from samconfig is reported at samconfig's parameter_overrides line.
        (
            'version = 0.1\n[default.deploy.parameters]\nparameter_overrides = "Stage=qa"\n',
            "samconfig.toml:3:1: Parameters.Stage: value 'qa' (from samconfig.toml) is not one of "
            "AllowedValues ['dev', 'staging', 'prod']",
        ),
        (
            'version = 0.1\n[default.global.parameters]\nregion = "eu-west-1"\n'
            '[default.deploy.parameters]\nstack_name = "x"\n  parameter_overrides = "Unknown=1"\n',
            "samconfig.toml:6:3: parameter_overrides: samconfig.toml sets Unknown, which the template "
            "does not declare (its parameters: ApiKey, Owner, Prefix, Retention, Stage, Zones)",
        ),
        (
            'version = 0.1\n[default.deploy.parameters]\nparameter_overrides = "Stage=prod Owner"\n',
            "samconfig.toml:3:1: parameter_overrides: parameter_overrides: 'Owner' is not Key=Value",
        ),
        (
            "version = 0.1\n[default.deploy.parameters]\nstack_name = 3\n",
            "samconfig.toml:3:1: stack_name: stack_name must be a non-empty string",
        ),
    ],
)
def test_samconfig_values_are_checked_where_written(
    tmp_path: Path, samconfig: str, expected: str
) -> None:
    with pytest.raises(InputError) as raised:
        read_template(_app_copy(tmp_path, samconfig), display_path="template.yaml")
    assert raised.value.problems == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Stage=prod Owner="data team"', {"Stage": "prod", "Owner": "data team"}),
        ("Stage=prod Owner='data team'", {"Stage": "prod", "Owner": "data team"}),
        (r"Owner=data\ team Stage=dev", {"Owner": "data team", "Stage": "dev"}),
        (
            "ParameterKey=Stage,ParameterValue=prod ParameterKey=Owner,ParameterValue=ops",
            {"Stage": "prod", "Owner": "ops"},
        ),
        ('Owner="say \\"hi\\""', {"Owner": 'say "hi"'}),
    ],
)
def test_parameter_override_strings_as_sam_writes_them(
    tmp_path: Path, text: str, expected: dict[str, str]
) -> None:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    path = _app_copy(tmp_path, f'[default.deploy.parameters]\nparameter_overrides = "{escaped}"\n')
    template = read_template(path, display_path="template.yaml")
    assert {name: template.parameters[name] for name in expected} == expected


def test_a_default_breaking_its_own_constraint_points_at_the_default(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Parameters:\n  Size:\n    Type: String\n    Default: huge\n    AllowedValues: [small]\n"
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        read_template(path, display_path="t.yaml")
    assert raised.value.problems == [
        "t.yaml:4:5: Parameters.Size: value 'huge' (from its Default) is not one of AllowedValues ['small']"
    ]


def test_reads_offline_and_leaves_the_process_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No network, no credentials, no profile: a broken AWS setup cannot matter."""
    from samtranslator.translator.arn_generator import ArnGenerator

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the reader opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    environment = dict(os.environ)
    region_before = ArnGenerator.BOTO_SESSION_REGION_NAME
    template = read("sam_globals.yaml")
    assert template.region == "eu-west-3"
    assert resource(template, "WorkerRole").type == "AWS::IAM::Role"
    assert dict(os.environ) == environment
    region_after = ArnGenerator.BOTO_SESSION_REGION_NAME
    assert region_after == region_before
    assert capsys.readouterr() == ("", "")


def _big_template(functions: int, queues: int) -> str:
    """A SAM stack: each function makes 5 resources (function, role, version, alias, mapping)."""
    lines = [
        "Transform: AWS::Serverless-2016-10-31",
        "Globals:\n  Function:\n    Runtime: python3.12\n    Timeout: 30",
        "Parameters:\n  Stage:\n    Type: String\n    Default: dev",
        "Conditions:\n  IsProd: !Equals [!Ref Stage, prod]",
        "Resources:",
    ]
    for index in range(queues):
        lines.append(
            f"  Queue{index}:\n    Type: AWS::SQS::Queue\n    Properties:\n"
            f'      QueueName: !Sub "agenticai-${{Stage}}-{index}"\n'
            "      VisibilityTimeout: !If [IsProd, 180, 60]"
        )
    for index in range(functions):
        lines.append(
            f"  Worker{index}:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            f"      CodeUri: src/w{index}/\n      Handler: app.handler\n      AutoPublishAlias: live\n"
            f"      Events:\n        Jobs:\n          Type: SQS\n          Properties:\n"
            f"            Queue: !GetAtt Queue{index}.Arn\n            BatchSize: 5"
        )
    return "\n".join(lines) + "\n"


def test_a_500_resource_template_reads_well_under_two_seconds(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(_big_template(functions=80, queues=100), encoding="utf-8")
    read("refs.yaml")  # warm: a first read fills the translator's caches
    started = time.perf_counter()
    template = read_template(path, display_path="big.yaml")
    elapsed = time.perf_counter() - started
    assert len(template.resources) == 80 * 5 + 100
    worker = resource(template, "Worker79")
    assert worker.positions["Properties.Runtime"] == Position("big.yaml", 4, 5)
    assert elapsed < 2.0, f"{elapsed:.2f} s"


def _snippet(tmp_path: Path, resources: str, head: str = "") -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(f"{head}Resources:\n{resources}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("head", "resources", "expected"),
    [
        (
            "",
            "  A:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !GetAtt B.QueueName\n"
            "  B:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !GetAtt A.QueueName\n",
            "t.yaml:6:3: Resources.B: circular reference B -> A -> B",
        ),
        (
            "Conditions:\n  One: !Condition Two\n  Two: !Condition One\n",
            "  Q:\n    Type: AWS::SQS::Queue\n    Condition: One\n",
            "t.yaml:3:8: Conditions: circular conditions: One -> Two -> One",
        ),
        (
            "",
            "  Q:\n    Type: AWS::SQS::Queue\n    Condition: Nowhere\n",
            "t.yaml:4:16: Condition: no condition named 'Nowhere'",
        ),
        (
            "",
            "  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Ref Nope\n",
            "t.yaml:5:18: Ref: Ref Nope: no parameter or resource is named 'Nope'",
        ),
        (
            "",
            "  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Select [2, [a, b]]\n",
            "t.yaml:5:18: Fn::Select: index 2 is past the list's 2 items",
        ),
        (
            "Mappings:\n  M:\n    a:\n      b: c\n",
            "  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !FindInMap [M, a, x]\n",
            "t.yaml:9:18: Fn::FindInMap: Mappings has no M.a.x",
        ),
        (
            "",
            "  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Join [only-one]\n",
            "t.yaml:5:18: Fn::Join: Fn::Join takes [delimiter, [values]]",
        ),
        (
            "Parameters:\n  P:\n    Type: String\n",
            "  Q:\n    Type: AWS::SQS::Queue\n    Properties: !Ref P\n",
            "t.yaml:7:17: Resources.Q.Properties: Properties resolve to "
            "'Ref P (a parameter with no value)', not a mapping",
        ),
    ],
)
def test_templates_cloudformation_refuses(
    tmp_path: Path, head: str, resources: str, expected: str
) -> None:
    with pytest.raises(InputError) as raised:
        read_template(_snippet(tmp_path, resources, head), display_path="t.yaml")
    assert raised.value.problems == [expected]


def test_references_the_template_cannot_answer(tmp_path: Path) -> None:
    head = "Parameters:\n  P:\n    Type: String\nConditions:\n  Unknown: !Equals [!Ref P, x]\n  Never: !Equals [a, b]\n"
    resources = (
        "  Gone:\n    Type: AWS::SQS::Queue\n    Condition: Never\n"
        "  Either:\n    Type: AWS::SQS::Queue\n"
        "    Properties: !If [Unknown, {DelaySeconds: 1}, {DelaySeconds: 2, QueueName: q}]\n"
        "  User:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt Gone.Arn\n"
    )
    template = read_template(_snippet(tmp_path, resources, head), display_path="t.yaml")
    assert [r.logical_id for r in template.resources] == ["Either", "User"]
    undecided = Unresolved(
        "unresolvable", "Fn::If Unknown (the condition is undecidable)", Position("t.yaml", 13, 17)
    )
    either = resource(template, "Either")
    assert either.properties == {"DelaySeconds": undecided, "QueueName": undecided}
    assert either.positions["Properties.QueueName"] == Position("t.yaml", 13, 17)
    assert resource(template, "User").properties["RedrivePolicy"][
        "deadLetterTargetArn"
    ] == Unresolved(
        "unresolvable",
        "Fn::GetAtt Gone.Arn (its Condition Never is false)",
        Position("t.yaml", 18, 30),
    )
