"""The template reader on the corpus: values and the exact lines they are written on.

Each case names a file of ``tests/data/templates/reader``, a resource, a property path, the
value the reader must produce and the line (and column where it matters) it must point at.
Generated resources (the SAM transform's) are located on the SAM template's lines: a function's
``Runtime`` taken from ``Globals`` points at the ``Globals`` line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runbook_guard.template.model import Position, ReadTemplate, TemplateResource, Unresolved
from runbook_guard.template.names import generated_name
from runbook_guard.template.reader import read_template

CORPUS = Path(__file__).resolve().parents[1] / "data" / "templates" / "reader"


@pytest.fixture(autouse=True)
def region_not_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Expected ARNs say us-east-1: a developer's AWS_REGION must not change them."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


def read(name: str, **options: Any) -> ReadTemplate:
    """Read a corpus file, named in results by its file name."""
    return read_template(CORPUS / name, display_path=name, **options)


def resource(template: ReadTemplate, logical_id: str) -> TemplateResource:
    found = [r for r in template.resources if r.logical_id == logical_id]
    assert found, f"{logical_id} not in {[r.logical_id for r in template.resources]}"
    return found[0]


def value_at(properties: dict[str, Any], path: str) -> Any:
    """``Environment.Variables.X`` / ``Tags[1].Key`` inside a resource's properties."""
    node: Any = properties
    for part in path.replace("[", ".[").split("."):
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node


def line_of(item: TemplateResource, path: str) -> int:
    return item.positions[path].line


# -- SAM with Globals ----------------------------------------------------------------------

SAM = "sam_globals.yaml"


@pytest.mark.parametrize(
    ("logical_id", "path", "expected", "line"),
    [
        # Globals apply unless the function sets its own value; each points where it is written.
        ("Worker", "Runtime", "python3.9", 53),
        ("Reporter", "Runtime", "python3.12", 13),
        ("Worker", "Timeout", 30, 14),
        ("Worker", "MemorySize", 256, 15),
        ("Worker", "TracingConfig.Mode", "Active", 16),
        ("Worker", "Environment.Variables.STAGE", "dev", 19),
        ("Worker", "Environment.Variables.API_TOKEN", "not-a-real-secret", 57),
        ("Worker", "Handler", "app.handler", 52),
        ("Worker", "Code.S3Bucket", "runbook-guard-placeholder", 51),
        ("Worker", "Code.S3Key", "Worker", 51),
        ("Reporter", "Code.ZipFile", "def handler(event, context): return event", 75),
        # Event source mappings: their properties from Events.<Name>, the rest at the entry.
        ("WorkerJobs", "BatchSize", 5, 63),
        (
            "WorkerJobs",
            "EventSourceArn",
            "arn:aws:sqs:us-east-1:123456789012:agenticai-dev-jobs",
            62,
        ),
        (
            "WorkerJobs",
            "FunctionName",
            "arn:aws:lambda:us-east-1:123456789012:function:"
            + generated_name("sam_globals", "Worker", "AWS::Lambda::Function")
            + ":live",
            59,
        ),
        ("WorkerChanges", "StartingPosition", "LATEST", 68),
        ("WorkerChanges", "BatchSize", 100, 69),
        # AutoPublishAlias: alias and version at the AutoPublishAlias line.
        ("WorkerAliaslive", "Name", "live", 54),
        ("ReporterAliaslive", "FunctionName", "agenticai-reporter", 74),
        # DeploymentPreference's CodeDeploy resources.
        (
            "ReporterDeploymentGroup",
            "DeploymentConfigName",
            "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            78,
        ),
        ("ReporterDeploymentGroup", "DeploymentStyle.DeploymentType", "BLUE_GREEN", 77),
        # An explicit Api: its stage from the Api's properties and Globals.Api.
        ("PublicApiv1Stage", "StageName", "v1", 90),
        ("PublicApiv1Stage", "TracingEnabled", True, 21),
        ("PublicApiv1Stage", "MethodSettings[0].ThrottlingRateLimit", 50, 94),
        (
            "PublicApiv1Stage",
            "AccessLogSetting.DestinationArn",
            "arn:aws:logs:us-east-1:123456789012:log-group:"
            + generated_name("sam_globals", "ApiLogs", "AWS::Logs::LogGroup")
            + ":*",
            97,
        ),
        # The implicit API of an Api event: at that event, with Globals.Api.
        ("ServerlessRestApiProdStage", "StageName", "Prod", 81),
        ("ServerlessRestApiProdStage", "TracingEnabled", True, 21),
        # Resources written as CloudFormation keep their own lines.
        ("JobsQueue", "QueueName", "agenticai-dev-jobs", 27),
        ("ApiLogs", "RetentionInDays", 30, 103),
    ],
)
def test_sam_values_sit_on_the_sam_lines(
    logical_id: str, path: str, expected: Any, line: int
) -> None:
    item = resource(read(SAM), logical_id)
    assert value_at(item.properties, path) == expected
    assert line_of(item, f"Properties.{path}") == line


def test_sam_resources_generated_and_attributed() -> None:
    template = read(SAM)
    ids = [r.logical_id for r in template.resources]
    assert ids == sorted(ids)
    origins = {r.logical_id: (r.type, r.origin, r.position.line) for r in template.resources}
    version = next(i for i in ids if i.startswith("WorkerVersion"))
    assert {i: origins[i] for i in ("Worker", "WorkerRole", "WorkerJobs", version)} == {
        "Worker": ("AWS::Lambda::Function", "Worker", 43),
        "WorkerRole": ("AWS::IAM::Role", "Worker", 43),
        "WorkerJobs": ("AWS::Lambda::EventSourceMapping", "Worker", 43),
        version: ("AWS::Lambda::Version", "Worker", 43),
    }
    # Shared resources SAM makes once go to the first function that asks for them.
    assert origins["ServerlessRestApi"] == ("AWS::ApiGateway::RestApi", "Reporter", 71)
    assert origins["ServerlessDeploymentApplication"][1:] == ("Reporter", 71)
    assert origins["CodeDeployServiceRole"][1:] == ("Reporter", 71)
    assert origins["JobsQueue"] == ("AWS::SQS::Queue", None, 24)
    assert {r.type for r in template.resources if r.type.startswith("AWS::Serverless")} == set()
    assert resource(template, version).positions["Properties.FunctionName"].line == 54


def test_sam_unresolved_values_point_where_the_intrinsic_is_written() -> None:
    template = read(SAM)
    assert resource(template, "WorkerChanges").properties["EventSourceArn"] == Unresolved(
        "after_deploy", "Fn::GetAtt DataTable.StreamArn", Position(SAM, 67, 21)
    )
    version = resource(template, "WorkerAliaslive").properties["FunctionVersion"]
    assert isinstance(version, Unresolved)
    assert (version.kind, version.intrinsic.split(".")[-1]) == ("after_deploy", "Version")


def test_sam_metadata_passes_to_what_the_resource_generates() -> None:
    template = read(SAM)
    skip = {
        "runbook-guard": {
            "skip": [{"id": "lambda.reserved-concurrency", "reason": "bursty by design"}]
        }
    }
    for logical_id in ("Worker", "WorkerJobs", "WorkerRole"):
        item = resource(template, logical_id)
        assert item.metadata == skip
        assert item.positions["Metadata.runbook-guard.skip[0].reason"] == Position(SAM, 49, 13)
    assert "runbook-guard:sam-origin" not in str([r.metadata for r in template.resources])
    assert resource(template, "Reporter").metadata == {}


# -- conditions ----------------------------------------------------------------------------

CONDITIONS = "conditions.yaml"


@pytest.mark.parametrize(
    ("overrides", "present"),
    [
        ({}, ["AlertTopic", "Dashboard", "ProdTable"]),
        ({"Stage": "dev"}, ["AlertTopic", "Dashboard", "DevBucket"]),
        ({"Stage": "dev", "AlarmEmail": ""}, ["DevBucket"]),
    ],
)
def test_a_false_condition_removes_the_resource(
    overrides: dict[str, str], present: list[str]
) -> None:
    template = read(CONDITIONS, parameter_overrides=overrides)
    assert [r.logical_id for r in template.resources] == present


def test_fn_if_picks_its_branch_and_no_value_removes() -> None:
    table = resource(read(CONDITIONS), "ProdTable")
    assert table.properties == {
        "TableName": "agenticai-data",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "Tags": [{"Key": "stage", "Value": "prod"}, {"Key": "retention", "Value": "long"}],
    }
    # The removed list item shifts the next one: Tags[1] is the item written on line 37.
    assert table.positions["Properties.Tags[1].Key"] == Position(CONDITIONS, 37, 11)
    assert table.positions["Properties.TableName"] == Position(CONDITIONS, 29, 7)
    assert "Properties.SSESpecification" not in table.positions


def test_undecidable_conditions() -> None:
    template = read(CONDITIONS)
    # HasEmail reads AlarmEmail, which has no value: the topic is kept (documented choice)...
    topic = resource(template, "AlertTopic")
    assert topic.properties["TopicName"] == Unresolved(
        "unresolvable",
        "Fn::If ProdAndEmail (the condition is undecidable)",
        Position(CONDITIONS, 50, 18),
    )
    assert topic.properties["Subscription"][0]["Endpoint"] == Unresolved(
        "unresolvable", "Ref AlarmEmail (a parameter with no value)", Position(CONDITIONS, 52, 21)
    )
    assert topic.properties["Subscription"][0]["Protocol"] == "email"
    # ...and Or(true, undecidable) is true, And(false, undecidable) is false.
    body = resource(template, "Dashboard").properties["DashboardBody"]
    assert body == '{"widgets":[{"type":"text","properties":{"markdown":"prod"}}]}'
    assert template.parameters == {"Stage": "prod", "AlarmEmail": None, "Retention": 14}


def test_a_resource_with_an_undecidable_condition_is_kept_and_its_if_unresolved() -> None:
    dashboard = resource(read(CONDITIONS, parameter_overrides={"Stage": "dev"}), "Dashboard")
    assert dashboard.properties["DashboardName"] == "agenticai"
    assert dashboard.properties["DashboardBody"] == Unresolved(
        "unresolvable",
        "Fn::If DevAndEmail (the condition is undecidable)",
        Position(CONDITIONS, 60, 22),
    )


def test_a_value_for_the_missing_parameter_decides_everything() -> None:
    topic = resource(
        read(CONDITIONS, parameter_overrides={"AlarmEmail": "ops@example.com"}), "AlertTopic"
    )
    assert topic.properties == {
        "TopicName": "agenticai-alerts",
        "Subscription": [{"Endpoint": "ops@example.com", "Protocol": "email"}],
    }


# -- intrinsics ----------------------------------------------------------------------------

SHORT = "intrinsics.yaml"
STREAM = Unresolved("after_deploy", "Fn::GetAtt Table.StreamArn", None)


@pytest.mark.parametrize(
    ("variable", "expected", "line"),
    [
        ("SUB", "arn:aws:s3:::bucket-prod/${Literal}", 71),
        ("SUB_VARS", "prod-us-east-1", 72),
        ("SELECT", "subnet-b", 73),
        ("SPLIT", "c", 74),
        ("FIND", "gold", 75),
        ("FIND_DEFAULT", "none", 76),
        ("BASE64", "aGVsbG8=", 77),
        (
            "IMPORT",
            Unresolved("unresolvable", "Fn::ImportValue shared-table-arn", Position(SHORT, 78, 19)),
            78,
        ),
        ("JSON", '{"a":1,"b":["x","y"]}', 79),
        ("LENGTH", 3, 80),
        ("ACCOUNT", "123456789012", 81),
        ("STACK_ID", Unresolved("after_deploy", "Ref AWS::StackId", Position(SHORT, 82, 21)), 82),
        ("URL_SUFFIX", "amazonaws.com", 83),
        ("ROLE_NAME", generated_name("intrinsics", "FnRole", "AWS::IAM::Role"), 84),
        ("TABLE_ARN", "arn:aws:dynamodb:us-east-1:123456789012:table/intrinsics-data", 85),
        (
            "STREAM",
            Unresolved("after_deploy", "Fn::GetAtt Table.StreamArn", Position(SHORT, 86, 19)),
            86,
        ),
        ("SUB_GETATT", "arn:aws:dynamodb:us-east-1:123456789012:table/intrinsics-data/index/*", 87),
        # An unresolved operand makes the whole value unresolved, naming the operand...
        (
            "SUB_AFTER",
            Unresolved("after_deploy", "Fn::GetAtt Table.StreamArn", Position(SHORT, 88, 22)),
            88,
        ),
        # ...the worst one: unresolvable over after_deploy.
        (
            "JOIN_WORST",
            Unresolved(
                "unresolvable", "Fn::ImportValue other-stack-output", Position(SHORT, 89, 61)
            ),
            89,
        ),
    ],
)
def test_short_form_intrinsics(variable: str, expected: Any, line: int) -> None:
    function = resource(read(SHORT), "Fn")
    path = f"Environment.Variables.{variable}"
    assert value_at(function.properties, path) == expected
    assert function.positions[f"Properties.{path}"] == Position(SHORT, line, 11)


@pytest.mark.parametrize(
    ("logical_id", "path", "expected"),
    [
        ("Fn", "FunctionName", "agenticai-prod-worker"),
        ("Fn", "MemorySize", 512),
        (
            "Fn",
            "Role",
            "arn:aws:iam::123456789012:role/service/"
            + generated_name("intrinsics", "FnRole", "AWS::IAM::Role"),
        ),
        ("Fn", "Tags[0].Value", "1,2,3"),
        ("Subnet", "CidrBlock", "10.0.1.0/24"),
        ("Subnet", "VpcId", Unresolved("after_deploy", "Ref Vpc", Position(SHORT, 35, 14))),
        (
            "Subnet",
            "AvailabilityZone",
            Unresolved("after_deploy", "Fn::GetAZs us-east-1", Position(SHORT, 37, 37)),
        ),
        ("Table", "TableName", "intrinsics-data"),
    ],
)
def test_short_form_intrinsics_in_properties(logical_id: str, path: str, expected: Any) -> None:
    assert value_at(resource(read(SHORT), logical_id).properties, path) == expected


LONG = "intrinsics.json"


@pytest.mark.parametrize(
    ("logical_id", "path", "expected", "position"),
    [
        ("Queue", "QueueName", "agenticai-dev-jobs", (21, 9)),
        (
            "Queue",
            "RedrivePolicy.deadLetterTargetArn",
            "arn:aws:sqs:us-east-1:123456789012:"
            + generated_name("intrinsics", "DeadLetters", "AWS::SQS::Queue"),
            (24, 11),
        ),
        ("Logs", "LogGroupName", "/agenticai/dev/b", (37, 9)),
        ("Logs", "RetentionInDays", 7, (38, 9)),
        (
            "Alarm",
            "AlarmActions[0]",
            "arn:aws:sns:us-east-1:123456789012:"
            + generated_name("intrinsics", "Topic", "AWS::SNS::Topic"),
            (48, 26),
        ),
        ("Alarm", "Dimensions[0].Value", "agenticai-dev-jobs", (49, 46)),
        ("Alarm", "AlarmDescription", "dXMtZWFzdC0x", (51, 9)),
        (
            "Alarm",
            "InsufficientDataActions",
            Unresolved("unresolvable", "Fn::ImportValue dev-topics", Position(LONG, 52, 56)),
            (52, 9),
        ),
    ],
)
def test_long_form_intrinsics_in_json(
    logical_id: str, path: str, expected: Any, position: tuple[int, int]
) -> None:
    item = resource(read(LONG), logical_id)
    assert value_at(item.properties, path) == expected
    assert item.positions[f"Properties.{path}"] == Position(LONG, *position)


def test_long_form_conditions_and_no_value() -> None:
    template = read(LONG)
    assert [r.logical_id for r in template.resources] == [
        "Alarm",
        "DeadLetters",
        "Logs",
        "Queue",
        "Topic",
    ]
    assert "MessageRetentionPeriod" not in resource(template, "Queue").properties
    prod = read(LONG, parameter_overrides={"Stage": "prod"})
    assert resource(prod, "Queue").properties["MessageRetentionPeriod"] == 1209600
    assert resource(prod, "Logs").properties["RetentionInDays"] == 90


# -- Ref and GetAtt of each type -----------------------------------------------------------

STACK = "agenticai-prod"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("QueueUrl", "https://sqs.eu-west-1.amazonaws.com/123456789012/agenticai-jobs"),
        ("QueueArn", "arn:aws:sqs:eu-west-1:123456789012:agenticai-jobs"),
        ("FifoName", generated_name(STACK, "FifoQueue", "AWS::SQS::Queue") + ".fifo"),
        ("BucketName", generated_name(STACK, "Bucket", "AWS::S3::Bucket")),
        ("BucketArn", "arn:aws:s3:::" + generated_name(STACK, "Bucket", "AWS::S3::Bucket")),
        (
            "BucketDomain",
            generated_name(STACK, "Bucket", "AWS::S3::Bucket") + ".s3.eu-west-1.amazonaws.com",
        ),
        ("LogsArn", "arn:aws:logs:eu-west-1:123456789012:log-group:/agenticai/api:*"),
        ("TopicRef", "arn:aws:sns:eu-west-1:123456789012:agenticai-alerts"),
        ("FnArn", "arn:aws:lambda:eu-west-1:123456789012:function:agenticai-worker"),
        ("AliasRef", "arn:aws:lambda:eu-west-1:123456789012:function:agenticai-worker:live"),
        ("ServiceRef", "arn:aws:ecs:eu-west-1:123456789012:service/agenticai/websocket"),
        (
            "MachineRef",
            "arn:aws:states:eu-west-1:123456789012:stateMachine:"
            + generated_name(STACK, "Machine", "AWS::StepFunctions::StateMachine"),
        ),
        ("SettingValue", "strict"),
        ("ApiRef", Unresolved("after_deploy", "Ref Api", Position("refs.yaml", 74, 15))),
        (
            "RootResource",
            Unresolved(
                "after_deploy", "Fn::GetAtt Api.RootResourceId", Position("refs.yaml", 75, 21)
            ),
        ),
        ("LookupRef", Unresolved("after_deploy", "Ref Lookup", Position("refs.yaml", 76, 18))),
        (
            "LookupAttr",
            Unresolved(
                "unresolvable",
                "Fn::GetAtt Lookup.Endpoint (a custom resource's attribute)",
                Position("refs.yaml", 77, 19),
            ),
        ),
        # A dashboard body built with Fn::Sub stays a string.
        (
            "Dashboard",
            '{"widgets":[{"type":"metric","properties":{"region":"eu-west-1","metrics":'
            '[["AWS/SQS","ApproximateAgeOfOldestMessage","QueueName","agenticai-jobs"]]}}]}',
        ),
    ],
)
def test_ref_and_getatt_per_type(key: str, expected: Any) -> None:
    template = read("refs.yaml", region="eu-west-1", stack_name=STACK)
    assert resource(template, "Consumer").metadata[key] == expected


def test_partition_follows_the_region() -> None:
    china = read("refs.yaml", region="cn-north-1", stack_name=STACK)
    assert (china.partition, china.region) == ("aws-cn", "cn-north-1")
    values = resource(china, "Consumer").metadata
    assert (
        values["QueueUrl"] == "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/agenticai-jobs"
    )
    assert values["FnArn"] == "arn:aws-cn:lambda:cn-north-1:123456789012:function:agenticai-worker"
    assert read("refs.yaml", region="us-gov-west-1").partition == "aws-us-gov"
    assert read("refs.yaml", account="999999999999").account == "999999999999"


# -- nested stacks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {},
            [
                ("Network", "AWS::CloudFormation::Stack", 14),
                ("Auth", "AWS::Serverless::Application", 19),
            ],
        ),
        (
            {"WithExtras": "true"},
            [
                ("Network", "AWS::CloudFormation::Stack", 14),
                ("Auth", "AWS::Serverless::Application", 19),
                ("Extra", "AWS::CloudFormation::Stack", 26),
            ],
        ),
    ],
)
def test_nested_stacks_are_not_followed(
    overrides: dict[str, str], expected: list[tuple[str, str, int]]
) -> None:
    template = read("nested.yaml", parameter_overrides=overrides)
    assert [(n.logical_id, n.type, n.position.line) for n in template.not_followed] == expected
    assert all(n.position.column == 3 for n in template.not_followed)
    assert [r.logical_id for r in template.resources] == ["Api", "ApiRole"]
    variables = resource(template, "Api").properties["Environment"]["Variables"]
    assert variables == {
        "SUBNET": Unresolved(
            "unresolvable",
            "Fn::GetAtt Network.Outputs.SubnetId (a nested stack, not followed)",
            Position("nested.yaml", 40, 19),
        ),
        "AUTH_STACK": Unresolved(
            "after_deploy", "Ref Auth (a nested stack)", Position("nested.yaml", 41, 23)
        ),
    }
