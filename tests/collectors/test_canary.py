"""A planted secret never reaches anything the tool writes, whatever the plan asks for.

The demo stack plants it in a Lambda environment variable, an SSM SecureString and an API
Gateway stage variable. Every writer is read back: the snapshot, the results, every report
format (through ``check`` and through ``report``, to files and to stdout), the console and
CI log output of each command (stdout and stderr), and Python's log records at INFO and
above from every logger (what a CI run with logging configured would keep). The search is
for the secret as written, base64- and URL-encoded, and in text with escapes and invisible
characters removed (a report escaping ``-`` would otherwise hide a leak).

``WRITERS`` lists them; the template gate's output joins it as ``TEMPLATE_GATE_WRITERS``.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from typer.testing import CliRunner

from runbook_guard.cli import commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.demo.stack import DEFAULT_SECRET, Seeded
from runbook_guard.engine.fileio import canonical_json
from runbook_guard.engine.plan import CollectionPlan
from runbook_guard.reporters import ALL_FORMATS

CANARY = DEFAULT_SECRET
#: What escaping may put inside text: backslashes, and invisible characters reports insert.
INVISIBLE = re.compile(r"[\\\u200b\u200c\u200d\u2060\ufeff]")


def test_the_canary_is_really_planted(seeded: Seeded) -> None:
    """Guard against a vacuous pass: the secret is where the test says it is."""
    lam = boto3.client("lambda")
    name = next(f for f in seeded.functions if "ApiHandler" in f)
    env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert env["GEMINI_API_KEY"] == CANARY
    ssm = boto3.client("ssm")
    value = ssm.get_parameter(Name="/agenticai/gemini-api-key", WithDecryption=True)
    assert value["Parameter"]["Value"] == CANARY
    apigw = boto3.client("apigateway")
    [api] = [a for a in apigw.get_rest_apis()["items"] if a["name"] == "agenticai-api"]
    stage = apigw.get_stage(restApiId=api["id"], stageName="prod")
    assert stage["variables"]["GEMINI_API_KEY"] == CANARY


def test_no_snapshot_byte_holds_the_canary(
    seeded: Seeded, make_plan: Callable[[], CollectionPlan], run: Callable[..., dict[str, Any]]
) -> None:
    snapshot = run(make_plan())
    text = canonical_json(snapshot)
    assert CANARY not in text
    assert CANARY.encode() not in text.encode("utf-8")
    # The names stay: "a variable called GEMINI_API_KEY holds a literal" is itself a finding.
    assert "GEMINI_API_KEY" in text
    assert '"/agenticai/gemini-api-key"' in text
    [api] = [r for r in snapshot["resources"] if r["name"] == "agenticai-api"]
    [prod] = api["data"]["Stages"]
    assert prod["variables"] == {"GEMINI_API_KEY": "<redacted>", "LOG_LEVEL": "<redacted>"}


@dataclass
class Written:
    """What one writer produced: files by name, and console text by stream."""

    files: dict[str, bytes] = field(default_factory=dict)
    console: dict[str, str] = field(default_factory=dict)

    def texts(self) -> dict[str, str]:
        found = {name: data.decode("utf-8", "replace") for name, data in self.files.items()}
        return {**found, **{f"<{stream}>": text for stream, text in self.console.items()}}


class Records(logging.Handler):
    """Every log record at INFO or above, formatted as a log file would hold it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def invoke(arguments: list[str], into: Path) -> Written:
    """One command in-process; every file it left in ``into`` and both console streams."""
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code in (0, 1), (arguments, result.output, result.exception)
    written = Written(console={"stdout": result.stdout, "stderr": result.stderr})
    for path in sorted(into.rglob("*")):
        if path.is_file():
            written.files[str(path.relative_to(into))] = path.read_bytes()
    return written


def check_everything(out: Path) -> Written:
    """``check`` writing every format (snapshot.json and results.json beside them)."""
    formats = [flag for fmt in ALL_FORMATS for flag in ("--format", fmt)]
    return invoke(["check", "--output-dir", str(out), "--quiet", *formats], out)


def collect_alone(out: Path) -> Written:
    out.mkdir()
    return invoke(["collect", "--output", str(out / "snapshot.json"), "--quiet"], out)


def evaluate_alone(out: Path, checked: Path) -> Written:
    out.mkdir()
    snapshot = checked / "snapshot.json"
    return invoke(["evaluate", "-s", str(snapshot), "-o", str(out / "results.json")], out)


def report_every_format(out: Path, checked: Path) -> Written:
    """``report`` to files, and each format once more to stdout (``-o -``)."""
    results = str(checked / "results.json")
    formats = [flag for fmt in ALL_FORMATS for flag in ("--format", fmt)]
    written = invoke(["report", "--results", results, "--output-dir", str(out), *formats], out)
    for fmt in ALL_FORMATS:
        printed = invoke(["report", "--results", results, "--format", fmt, "--output", "-"], out)
        written.console[f"report {fmt} stdout"] = printed.console["stdout"]
        written.console[f"report {fmt} stderr"] = printed.console["stderr"]
    return written


#: Each writer: a name, and how to run it given a fresh folder and the ``check`` output folder.
Writer = Callable[[Path, Path], Written]
WRITERS: dict[str, Writer] = {
    "check (snapshot, results, every format, console)": lambda out, checked: check_everything(out),
    "collect (snapshot, console)": lambda out, checked: collect_alone(out),
    "evaluate (results, console, gate)": evaluate_alone,
    "report (every format to files and to stdout)": report_every_format,
}
#: A template planting the canary where a template can: an environment variable, a stage
#: variable, a NoEcho parameter's default (built into a tag and a description), an SSM value.
CANARY_TEMPLATE = f"""
Transform: AWS::Serverless-2016-10-31
Parameters:
  Token: {{Type: String, NoEcho: true, Default: "{CANARY}"}}
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: agenticai-canary-worker
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Description: !Sub "token ${{Token}}"
      Environment: {{Variables: {{GEMINI_API_KEY: "{CANARY}", FROM_PARAM: !Ref Token}}}}
      Tags: {{secret: !Ref Token}}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      Name: agenticai-api
      StageName: prod
      Variables: {{GEMINI_API_KEY: "{CANARY}"}}
  Key:
    Type: AWS::SSM::Parameter
    Properties: {{Name: /agenticai/canary, Type: String, Value: "{CANARY}"}}
"""


def template_gate(out: Path, checked: Path, command: list[str]) -> Written:
    """The template gate (and, with ``--live``, beside the seeded stack) in every format."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "template.yaml").write_text(CANARY_TEMPLATE)
    written = invoke([*command, "--template", str(out / "template.yaml")], out)
    written.files.pop("template.yaml")  # the input itself holds the canary, by design
    return written


EVERY_FORMAT = [flag for fmt in ALL_FORMATS for flag in ("--format", fmt)]
#: The template gate's writers (``check --template``, ``evaluate --template``, ``check --live
#: --template``): each is run and searched like the writers above.
TEMPLATE_GATE_WRITERS: dict[str, Writer] = {
    "check --template (snapshot, results, every format, console)": lambda out, checked: (
        template_gate(out / "t", checked, ["check", "--output-dir", str(out / "t"), *EVERY_FORMAT])
    ),
    "evaluate --template (results, console)": lambda out, checked: template_gate(
        out, checked, ["evaluate", "-o", str(out / "results.json")]
    ),
    "check --live --template (drift, every format)": lambda out, checked: template_gate(
        out / "l",
        checked,
        ["check", "--live", "--quiet", "--output-dir", str(out / "l"), *EVERY_FORMAT],
    ),
}


@pytest.fixture(scope="module")
def outputs(
    seeded: Seeded, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Written]]:
    """Every writer run once, with every log record of the runs kept."""
    records = Records()
    records.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.INFO)
    try:
        checked = tmp_path_factory.mktemp("check")
        found = {}
        for name, writer in {**WRITERS, **TEMPLATE_GATE_WRITERS}.items():
            out = checked if name.startswith("check") else tmp_path_factory.mktemp("out") / "w"
            found[name] = writer(out, checked)
        found["log records (INFO and above, every logger)"] = Written(
            console={"logging": "\n".join(records.lines)}
        )
        yield found
    finally:
        root.removeHandler(records)
        root.setLevel(level)


def leaks(text: str) -> list[str]:
    """Where the canary shows in ``text``, in any of the forms it could take."""
    forms = {
        "as written": CANARY,
        "base64": base64.b64encode(CANARY.encode()).decode(),
        "url-encoded": quote(CANARY),
    }
    found = [form for form, needle in forms.items() if needle in text]
    if CANARY in INVISIBLE.sub("", text):
        found.append("with escapes removed")
    return found


@pytest.mark.parametrize(
    "writer", [*WRITERS, *TEMPLATE_GATE_WRITERS, "log records (INFO and above, every logger)"]
)
def test_no_writer_lets_the_canary_out(outputs: dict[str, Written], writer: str) -> None:
    texts = outputs[writer].texts()
    assert any(texts.values()), "the writer wrote nothing"
    assert {name: leaks(text) for name, text in texts.items() if leaks(text)} == {}


def test_the_writers_carry_the_resources_that_hold_the_secret(outputs: dict[str, Written]) -> None:
    """Guard against a vacuous pass: the reports judge the function whose environment holds
    the secret, and name the variable (a literal in an environment is itself a finding)."""
    checked = outputs["check (snapshot, results, every format, console)"]
    assert set(checked.files) >= {"snapshot.json", "results.json", "junit.xml", "results.sarif",
                                  "report.md", "report.json", "summary.md"}  # fmt: skip
    for name in ("results.json", "junit.xml", "results.sarif", "report.md", "report.json"):
        text = checked.files[name].decode()
        assert "ApiHandler" in text, name
        assert "no-secret-env-vars" in text, name
    assert "GEMINI_API_KEY" in checked.files["snapshot.json"].decode()
    assert checked.console["stderr"]  # the summary table and the gate's verdict


def test_the_template_gate_judged_the_resources_that_hold_the_secret(
    outputs: dict[str, Written],
) -> None:
    """Guard against a vacuous pass: the template gate read the planted template."""
    gate = outputs["check --template (snapshot, results, every format, console)"]
    snapshot = gate.files["snapshot.json"].decode()
    assert "agenticai-canary-worker" in snapshot
    assert '"GEMINI_API_KEY": "<redacted>"' in snapshot
    assert "lambda.no-secret-env-vars" in gate.files["results.json"].decode()
