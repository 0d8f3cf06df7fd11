"""An adversarial review of the template gate: templates a careless or hostile author writes so
that the shipped pack passes what it should not (issue 10).

Each template in tests/data/templates/review/ says in its Description what it attempts. The
``CASES`` table gives, per (rule, resource), the status the gate must give and the line it
must point at; a row whose message fragment is not empty also pins why. Cases marked *fixed*
failed before this review (they passed, or were silently not applicable, where the template
does not deploy what the rule requires); the others are attacks the gate already resisted,
kept so this file documents what was tried.

Each ``xfail(strict=True)`` test is a defect found in code this review does not own (the
engine, or a deliberate choice of the reader pinned by its own tests): the test asserts the
fail-closed answer and becomes an unexpected pass, a failure, once the defect is fixed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from runbook_guard import __version__
from runbook_guard.cli import commands as _registers_the_commands  # noqa: F401
from runbook_guard.cli.app import app
from runbook_guard.cli.pipeline import Prepared, evaluate, prepare
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.snapshot import Snapshot
from runbook_guard.engine.timeutil import parse_timestamp
from runbook_guard.template.reader import read_template
from runbook_guard.template.snapshot import template_snapshot

REVIEW = Path(__file__).resolve().parents[1] / "data" / "templates" / "review"
STACK = "agenticai-stack"
REGION = "us-east-1"
#: python3.8 is deprecated by then, python3.12 is not.
NOW = "2025-06-01T00:00:00Z"
SECRET = "Hunter2-db-pw-0xC0FFEE"


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(None, None, None)


@dataclass
class Judged:
    """One template as the gate judges it: the snapshot it reads and the results it gives."""

    snapshot: dict[str, Any]
    results: list[dict[str, Any]]

    def of(self, rule: str) -> dict[str | None, dict[str, Any]]:
        """The rule's results by resource name (None: a result about the rule as a whole)."""
        found = {}
        for result in self.results:
            if result["rule"] == rule:
                found[(result.get("resource") or {}).get("name")] = result
        return found

    def status(self, rule: str, name: str | None) -> str:
        return str(self.of(rule)[name]["status"])


def judge(
    prepared: Prepared,
    template: str,
    *,
    stack: str | None = STACK,
    overrides: dict[str, str] | None = None,
    config_env: str = "default",
    region: str = REGION,
    account: str | None = None,
) -> Judged:
    """The gate in process, as ``evaluate --template`` runs it, with the shipped pack."""
    read = read_template(
        REVIEW / template,
        display_path=template,
        parameter_overrides=overrides or {},
        config_env=config_env,
        stack_name=stack,
        region=region,
        account=account,
    )
    moment = parse_timestamp(NOW)
    assert moment is not None
    document = template_snapshot([read], moment, __version__)
    results = evaluate(prepared, Snapshot(document), NOW, None)
    return Judged(document, results["results"])


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A template (and how it is deployed) and the results it must give.

    A row is ``rule resource status line | message fragment``; ``-`` stands for no resource
    (a result about the rule) or no line.
    """

    id: str
    template: str
    rows: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


WORKER = "agenticai-stack-PmAgentWorker-IUAR6WXHHFRLY"
REFUSED = "(CloudFormation refuses it)"
FULLWIDTH_SEVEN = "\uff17"

CASES = [
    # -- fixed ---------------------------------------------------------------------------------
    # A global table is, in the stack's region, the table DynamoDB describes: it was not
    # mapped at all, so every data-table rule was "not declared in the template".
    Case(
        "global-table-replica-here-has-pitr-off",
        "global_table.yaml",
        (
            "dynamodb.pitr-enabled agenticai-data fail 19 | not enabled",
            "dynamodb.contributor-insights agenticai-data warn 20",
            "dynamodb.ttl-enabled agenticai-data pass 13",
        ),
    ),
    Case(
        "global-table-replica-elsewhere-has-pitr-on",
        "global_table.yaml",
        (
            "dynamodb.pitr-enabled agenticai-data pass 16",
            "dynamodb.contributor-insights agenticai-data pass 17",
        ),
        {"region": "eu-west-1"},
    ),
    Case(
        "global-table-without-a-replica-in-the-region",
        "global_table.yaml",
        ("dynamodb.pitr-enabled agenticai-data error 6 | a replica in ap-south-1",),
        {"region": "ap-south-1"},
    ),
    # The service names its group by an id EC2 assigns: the service's whole network
    # configuration was "known after deploy", so no template's group was ever judged.
    Case(
        "websocket-group-open-to-the-world-on-ssh",
        "ecs_group.yaml",
        (
            "ecs.websocket-security-groups agenticai-websocket warn 28"
            " | admits traffic from anywhere",
        ),
        {"overrides": {"SshCidr": "0.0.0.0/0"}},
    ),
    Case(
        "websocket-group-ssh-from-the-vpc-only",
        "ecs_group.yaml",
        ("ecs.websocket-security-groups agenticai-websocket pass 28",),
    ),
    # Numeric text the engine reads with float() but CloudFormation refuses: each passed.
    Case(
        "numbers-cloudformation-refuses",
        "numbers.yaml",
        (
            f"lambda.timeout-memory-range agenticai-worker error 14 | '1e3' as an Integer"
            f" {REFUSED}",
            f"logs.lambda-retention /aws/lambda/agenticai-worker error 19 | '{FULLWIDTH_SEVEN}'",
            "logs.lambda-retention /aws/lambda/agenticai-other error 24 | '7.0'",
            "logs.lambda-retention /aws/lambda/agenticai-plain pass 29",
            "cloudwatch.alarm-queue-depth agenticai-pm-queue error 30 | -inf",
        ),
    ),
    # Already in its parsed shape, so every widget rule passed; CloudFormation refuses it.
    Case(
        "dashboard-body-as-a-mapping",
        "dashboard_mapping.yaml",
        (
            "cloudwatch.dashboard-widgets agenticai-dashboard error 11 | a string",
            "cloudwatch.dashboard-runbook-widgets agenticai-dashboard error 11",
        ),
    ),
    # A deployment's StageName creates the stage (the classic way, with no Stage resource):
    # the API had no stage at all, a blocking (critical) failure on a template that deploys.
    Case(
        "deployment-names-the-prod-stage",
        "deployment_stage.yaml",
        ("apigateway.prod-stage agenticai-api pass 26",),
    ),
    Case(
        "deployment-names-another-stage",
        "deployment_stage.yaml",
        ("apigateway.prod-stage agenticai-api fail 26 | no prod stage",),
        {"overrides": {"StageName": "staging"}},
    ),
    # Booleans written as the status word a rule asks for: PITR, Contributor Insights and the
    # mapping's State passed on values CloudFormation refuses.
    Case(
        "booleans-written-as-status-words",
        "status_words.yaml",
        (
            "dynamodb.pitr-enabled agenticai-data error 13 | 'ENABLED' as a Boolean",
            "dynamodb.contributor-insights agenticai-data error 15 | 'ENABLED' as a Boolean",
            "dynamodb.ttl-enabled agenticai-data error 14",
            "lambda.worker-consumes-queue agenticai-PmAgentWorker error 32 | 'Enabled' as a",
            # the mapping's state is open, so whether it consumes the queue is too
            "sqs.work-queue-consumed agenticai-pm-queue error 16 | 'Enabled' as a Boolean",
        ),
    ),
    Case(
        "alarm-action-written-as-one-arn",
        "scalar_list.yaml",
        ("cloudwatch.alarm-queue-depth agenticai-pm-queue error 6 | as a List",),
    ),
    # Exactly the type the pack asks for, and one CloudFormation cannot create: it passed.
    Case(
        "securestring-cloudformation-cannot-create",
        "securestring.yaml",
        (
            "ssm.parameters-securestring /agenticai/gemini-api-key error 10"
            " | Type SecureString, which CloudFormation cannot create",
            "ssm.parameters-securestring /agenticai/config/model fail 16 | not a SecureString",
        ),
    ),
    # A condition on the account was decided on the stand-in 123456789012 (passing here); only
    # a given account decides it.
    Case(
        "condition-on-an-account-nobody-gave",
        "accountless/template.yaml",
        ("dynamodb.pitr-enabled agenticai-data error 15 | Fn::If IsSandbox",),
    ),
    Case(
        "condition-on-the-sandbox-account",
        "accountless/template.yaml",
        ("dynamodb.pitr-enabled agenticai-data fail 15 | not enabled",),
        {"account": "111122223333"},
    ),
    Case(
        "condition-on-another-account",
        "accountless/template.yaml",
        ("dynamodb.pitr-enabled agenticai-data pass 15",),
        {"account": "444455556666"},
    ),
    # -- resisted ------------------------------------------------------------------------------
    # Default passes and samconfig fails (Retention), and the reverse (Runtime); --config-env
    # and --parameter-overrides each take over.
    Case(
        "samconfig-over-defaults",
        "precedence/template.yaml",
        (
            f"logs.lambda-retention /aws/lambda/{WORKER} warn 24 | not 7 days",
            f"lambda.runtime-not-deprecated {WORKER} pass 17",
        ),
        {"stack": None},
    ),
    Case(
        "config-env-over-defaults",
        "precedence/template.yaml",
        (
            f"logs.lambda-retention /aws/lambda/{WORKER} pass 24",
            f"lambda.runtime-not-deprecated {WORKER} fail 17 | deprecated",
        ),
        {"stack": None, "config_env": "strict"},
    ),
    Case(
        "overrides-over-samconfig",
        "precedence/template.yaml",
        (
            f"logs.lambda-retention /aws/lambda/{WORKER} warn 24",
            f"lambda.runtime-not-deprecated {WORKER} fail 17",
        ),
        {"stack": None, "overrides": {"Retention": "30", "Runtime": "python3.8"}},
    ),
    # Fn::If to NoValue leaves PITR out (off: AWS's default, located on the table); "False"
    # is not Enabled, "0" not a Boolean; NoValue empties AlarmActions.
    Case(
        "conditions-and-novalue",
        "conditions.yaml",
        (
            "dynamodb.pitr-enabled agenticai-data fail 16 | not enabled",
            "dynamodb.ttl-enabled agenticai-data fail 28 | TTL is not enabled",
            "dynamodb.contributor-insights agenticai-data error 29 | '0' as a Boolean",
            "cloudwatch.alarm-queue-depth agenticai-pm-queue warn 39",
        ),
    ),
    # In prod the dev table, which fails, does not exist: the prod table alone is judged.
    Case(
        "conditions-in-prod",
        "conditions.yaml",
        (
            "dynamodb.pitr-enabled agenticai-data pass 38",
            "cloudwatch.alarm-queue-depth agenticai-pm-queue pass 39",
        ),
        {"overrides": {"Env": "prod"}},
    ),
    # SAM: a per-function Tracing over Globals (and Globals kept), a disabled SQS event,
    # AllAtOnce, reserved concurrency 0 over Globals' 5, AutoPublishAlias (version unknown).
    Case(
        "sam-properties",
        "sam_properties.yaml",
        (
            "lambda.xray-tracing agenticai-PmAgentWorker warn 27",
            "lambda.xray-tracing agenticai-DevAgentWorker pass 13",
            "sqs.work-queue-consumed agenticai-pm-queue fail 16",
            "lambda.worker-consumes-queue agenticai-PmAgentWorker fail 31",
            "lambda.gradual-deployment agenticai-stack-DevAgentWorkerDeploymentGroup-BQ6OUFVPIFZ2R"
            " warn 40 | all at once",
            "lambda.worker-reserved-concurrency agenticai-DevAgentWorker fail 37",
            "lambda.worker-reserved-concurrency agenticai-PmAgentWorker pass 14",
            "sqs.work-queue-consumed agenticai-dev-queue fail 19",
            "lambda.live-alias agenticai-DevAgentWorker not_applicable 38 | known after deploy",
        ),
    ),
    Case(
        "storage-near-misses",
        "storage.yaml",
        (
            "dynamodb.pitr-enabled agenticai-data fail 13 | not enabled",
            "s3.code-versioning agenticai-generated-code fail 18",
            "s3.lifecycle-policy agenticai-generated-code warn 19",
            "s3.lifecycle-policy agenticai-backups warn 25",
        ),
    ),
    # The custom group Lambda creates is judged (no retention), the generated name declared
    # through !Sub is the function's own group (no implicit twin), a typo'd group is not.
    Case(
        "log-groups",
        "log_groups.yaml",
        (
            "logs.lambda-retention /aws/lambda/agenticai-custom fail 7 | never expires",
            "logs.lambda-retention /aws/lambda/agenticai-stack-Generated-4MAMNR32T5RPY warn 27",
            "logs.lambda-retention /aws/lambda/agenticai-typo fail 28",
            "logs.lambda-retention /aws/lambda/agenticai-typo-logs pass 40",
        ),
    ),
    Case(
        "redrive-json-text-and-object",
        "redrive.yaml",
        (
            "sqs.redrive-to-own-dlq agenticai-pm-queue fail 16 | own DLQ",
            "sqs.redrive-to-own-dlq agenticai-dev-queue pass 21",
        ),
    ),
    Case(
        "import-value-where-a-rule-reads",
        "import_value.yaml",
        (
            "dynamodb.pitr-enabled agenticai-data error 13"
            " | Fn::ImportValue shared-pitr-enabled (import_value.yaml:14:37)",
            "lambda.runtime-not-deprecated agenticai-worker error 19"
            " | Fn::ImportValue shared-runtime",
            "logs.lambda-retention /aws/lambda/agenticai-worker error 27"
            " | Fn::ImportValue shared-retention",
            "sqs.visibility-timeout-covers-consumers agenticai-pm-queue error 32"
            " | Fn::ImportValue shared-visibility",
        ),
    ),
    # A lookalike never stands in for the real resource (the real one is then not declared).
    Case(
        "lookalike-names",
        "lookalike.yaml",
        (
            "dynamodb.pitr-enabled agenticai-data not_applicable - | not declared",
            "s3.code-versioning agenticai-generated-code not_applicable - | not declared",
        ),
    ),
]


def _row(text: str) -> tuple[str, str | None, str, int | None, str]:
    head, _, fragment = text.partition(" | ")
    rule, name, status, line = head.split()
    return rule, None if name == "-" else name, status, None if line == "-" else int(line), fragment


SNAPSHOT_SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "snapshot.schema.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_gate_gives_the_fail_closed_answer(prepared: Prepared, case: Case) -> None:
    judged = judge(prepared, case.template, **case.options)
    jsonschema.validate(judged.snapshot, SNAPSHOT_SCHEMA)
    for rule, name, status, line, fragment in map(_row, case.rows):
        result = judged.of(rule).get(name)
        assert result is not None, f"{rule} has no result for {name}: {list(judged.of(rule))}"
        line_found = (result.get("location") or {}).get("line")
        assert (result["status"], line_found) == (status, line), (rule, name, result["message"])
        assert fragment in result["message"], (rule, name, result["message"])


def test_a_stage_a_deployment_creates_has_the_shape_get_stages_answers(
    prepared: Prepared,
) -> None:
    """Its StageDescription's stage-wide settings are the ``*/*`` method settings, its
    variables are redacted, and a deployment naming no stage adds none."""
    judged = judge(prepared, "deployment_stage.yaml")
    (api,) = [r for r in judged.snapshot["resources"] if r["type"] == "aws.apigateway.rest_api"]
    (stage,) = api["data"]["Stages"]
    assert stage["stageName"] == "prod"
    assert stage["tracingEnabled"] is True
    assert stage["variables"] == {"token": "<redacted>"}
    wide = stage["methodSettings"]["*/*"]
    assert (wide["metricsEnabled"], wide["throttlingRateLimit"], wide["loggingLevel"]) == (
        True,
        50.0,
        "OFF",
    )


def test_one_physical_name_declared_twice_is_refused_not_judged_once(prepared: Prepared) -> None:
    """The second declaration builds the name through a parameter; either copy alone would
    give a verdict (pass, fail) for a stack CloudFormation refuses to create."""
    with pytest.raises(InputError) as raised:
        judge(prepared, "duplicate.yaml")
    assert [str(problem) for problem in raised.value.problems] == [
        "duplicate.yaml:14:3: Resources.DataTableCopy: declares aws.dynamodb.table "
        "agenticai-data again: also declared by DataTable at duplicate.yaml:6"
    ]


# -- secrets -----------------------------------------------------------------------------------


def test_a_noecho_value_reaches_no_property_yet_still_decides_conditions(
    prepared: Prepared,
) -> None:
    """Fixed: a NoEcho value Sub'd into a description, a tag, a layer ARN or an alarm action
    was written to the snapshot as is."""
    given = {"DbPassword": SECRET, "BackupMode": "pitr"}
    judged = judge(prepared, "noecho.yaml", overrides=given)
    assert SECRET not in json.dumps([judged.snapshot, judged.results])
    # The mode is NoEcho too: compared in the condition, it still turns PITR on, and off.
    assert judged.status("dynamodb.pitr-enabled", "agenticai-data") == "pass"
    off = judge(prepared, "noecho.yaml", overrides={"DbPassword": SECRET})
    assert off.status("dynamodb.pitr-enabled", "agenticai-data") == "fail"
    # What is built from it is open, named by its parameter: a rule reading it errors.
    (worker,) = [r for r in judged.snapshot["resources"] if r["name"] == "agenticai-worker"]
    assert set(worker["unknown"]) == {"Description", "Layers"}
    assert "Ref DbPassword (NoEcho" in worker["unknown"]["Layers"]["reason"]
    assert "password" not in worker["tags"]
    assert worker["data"]["Environment"] == {"Variables": {"DB_PASSWORD": "<redacted>"}}
    alarm = judged.of("cloudwatch.alarm-lambda-errors")["agenticai-worker"]
    assert alarm["status"] == "error"
    assert "Ref DbPassword (NoEcho" in alarm["message"]


def test_a_noecho_value_the_sam_translator_inlines_reaches_no_output(
    prepared: Prepared,
) -> None:
    """Fixed: SAM resolves AutoPublishAlias and DeploymentPreference itself, and wrote the
    value into the alias, its logical id and the deployment configuration."""
    judged = judge(prepared, "noecho_sam.yaml", overrides={"AliasName": SECRET})
    assert SECRET not in json.dumps([judged.snapshot, judged.results])
    (group,) = [r for r in judged.snapshot["resources"] if r["type"].startswith("aws.codedeploy")]
    assert group["data"]["deploymentConfigName"] == "NoEchoAliasName"


def test_no_output_of_check_holds_a_noecho_value(tmp_path: Path) -> None:
    """Every file ``check --template`` writes, in every format, and its stdout and stderr."""
    out = tmp_path / "out"
    formats = [arg for name in ("json", "junit", "markdown", "sarif") for arg in ("-f", name)]
    options = {"--output-dir": out, "--sarif-root": REVIEW, "--now": NOW, "--stack-name": STACK}
    args = ["check", "--template", REVIEW / "noecho.yaml", *formats, *_flat(options)]
    args += ["--parameter-overrides", f"DbPassword={SECRET}"]
    run = CliRunner().invoke(app, [str(arg) for arg in args])
    assert run.exit_code == 1, run.stderr
    written = {path.name: path.read_text("utf-8") for path in sorted(out.iterdir())}
    assert {"snapshot.json", "results.json", "results.sarif", "junit.xml"} <= set(written)
    texts = {"stdout": run.stdout, "stderr": run.stderr, **written}
    assert [name for name, text in texts.items() if SECRET in text] == []


def _flat(options: dict[str, Any]) -> list[Any]:
    return [part for pair in options.items() for part in pair]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"ApiToken": f"tok {SECRET}"},
            "noecho_invalid.yaml:7:5: Parameters.ApiToken: the NoEcho value (from "
            "--parameter-overrides) does not match AllowedPattern '^tok-[a-z0-9]+$'",
        ),
        (
            {"ApiToken": "tok-a"},
            "noecho_invalid.yaml:8:5: Parameters.ApiToken: the NoEcho value (from "
            "--parameter-overrides) breaks MinLength 8",
        ),
        (
            {"ApiToken": "tok-abcdefgh", "Port": "65535"},
            "noecho_invalid.yaml:12:5: Parameters.Port: the NoEcho value (from "
            "--parameter-overrides) breaks MaxValue 1024",
        ),
    ],
)
def test_a_noecho_value_cloudformation_refuses_is_reported_unquoted(
    overrides: dict[str, str], message: str
) -> None:
    """Fixed: the refusal quoted the value (``value 'tok Hunter2...' ... does not match``)."""
    with pytest.raises(InputError) as raised:
        read_template(
            REVIEW / "noecho_invalid.yaml",
            display_path="noecho_invalid.yaml",
            parameter_overrides=overrides,
            stack_name=STACK,
            region=REGION,
        )
    assert [str(problem) for problem in raised.value.problems] == [message]
    assert [value for value in overrides.values() if value in str(raised.value)] == []


def test_a_number_parameter_in_digits_of_another_script_is_refused() -> None:
    """Fixed: ``\\d`` matched a fullwidth seven, which float() reads as 7: the group passed."""
    with pytest.raises(InputError, match="is not a number"):
        read_template(
            REVIEW / "numbers_param.yaml",
            display_path="numbers_param.yaml",
            parameter_overrides={"Retention": FULLWIDTH_SEVEN},
            stack_name=STACK,
            region=REGION,
        )


# =============================================================================================
# DEFECTS in code this review does not own (strict xfail: each becomes a failure once fixed;
# only a failed assertion counts, so a crash is never taken for the known defect)
# =============================================================================================


def test_a_budget_alerting_too_late_fails(prepared: Prepared) -> None:
    judged = judge(prepared, "budget_threshold.yaml")
    assert {r["status"] for r in judged.of("budgets.alert-at-threshold").values()} == {"fail"}


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="engine/evaluate.py _judge: a related DLQ outside the template makes the result "
    "not_applicable before the expectation is read, though no DLQ anywhere can make an absent "
    "or foreign redrive target equal the queue's own",
)
def test_a_queue_that_cannot_redrive_to_its_own_dlq_fails_wherever_the_dlq_lives(
    prepared: Prepared,
) -> None:
    judged = judge(prepared, "redrive_elsewhere.yaml")
    assert judged.status("sqs.redrive-to-own-dlq", "agenticai-pm-queue") == "fail"
    assert judged.status("sqs.redrive-to-own-dlq", "agenticai-dev-queue") == "fail"


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="engine/phase.py unknown_reads: one alias's version known only after deploy makes "
    "the whole Aliases list not_applicable, though no alias is named live",
)
def test_a_function_whose_only_alias_is_not_live_fails(prepared: Prepared) -> None:
    judged = judge(prepared, "alias_case.yaml")
    assert judged.status("lambda.live-alias", "agenticai-PmAgentWorker") == "fail"


def test_an_open_mapping_does_not_hide_a_consumer(prepared: Prepared) -> None:
    judged = judge(prepared, "hidden_consumer.yaml")
    status = judged.status("sqs.visibility-timeout-covers-consumers", "agenticai-pm-queue")
    assert status in ("fail", "error")


def test_a_table_whose_name_is_imported_is_an_error_for_the_data_table_rules(
    prepared: Prepared,
) -> None:
    judged = judge(prepared, "unnamed.yaml")
    assert judged.status("dynamodb.pitr-enabled", "agenticai-data") == "error"


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="template/reader.py takes the file's stem as the stack name when neither "
    "samconfig.toml nor --stack-name gives one; generated names built on it match no pattern "
    "of the pack, so every function rule is not_applicable (needs the engine's handling of "
    "open names too)",
)
def test_without_a_stack_name_a_deprecated_runtime_is_not_silently_skipped(
    prepared: Prepared,
) -> None:
    judged = judge(prepared, "stackless/template.yaml", stack=None)
    statuses = {r["status"] for r in judged.of("lambda.runtime-not-deprecated").values()}
    assert statuses
    assert statuses <= {"fail", "error"}


def test_the_overrides_replace_samconfigs_as_sam_deploy_replaces_them(
    prepared: Prepared,
) -> None:
    judged = judge(prepared, "overrides/template.yaml", stack=None, overrides={"Owner": "ops"})
    assert judged.status("logs.lambda-retention", "/aws/lambda/agenticai-worker") == "warn"
