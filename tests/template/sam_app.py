"""The example SAM app (examples/sam-app) as the template tests use it: its deliberate
violations, the edits that fix them, and copies of the app with either.

The violations are read from the template's own ``# violation: <rule id>`` comments, so a test
that expects a finding on each comment's line follows the template when it is edited; each fix
must match the template exactly once, so a fix that stops applying fails loudly instead of
leaving a violation in the "fixed" app.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "examples" / "sam-app"
TEMPLATE = "template.yaml"
STACK_NAME = "agenticai-stack"

_VIOLATION = re.compile(r"#\s*violation:\s*(?P<rule>[\w.-]+)")

#: Rule id -> (text of the violation, the text that fixes it).
FIXES = {
    "lambda.runtime-not-deprecated": (
        "      Runtime: python3.9  # violation: lambda.runtime-not-deprecated\n",
        "      Runtime: python3.13\n",
    ),
    "sqs.redrive-to-own-dlq": (
        "  OpsQueue:  # violation: sqs.redrive-to-own-dlq\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      QueueName: !Sub ${Prefix}-ops-queue\n"
        "      VisibilityTimeout: 900\n",
        "  OpsQueue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      QueueName: !Sub ${Prefix}-ops-queue\n"
        "      VisibilityTimeout: 900\n"
        "      RedrivePolicy:\n"
        "        deadLetterTargetArn: !GetAtt OpsDeadLetterQueue.Arn\n"
        "        maxReceiveCount: 3\n",
    ),
    "dynamodb.pitr-enabled": (
        "{PointInTimeRecoveryEnabled: false}  # violation: dynamodb.pitr-enabled",
        "{PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35}",
    ),
    "logs.lambda-retention": (
        "  DevAgentWorkerLogGroup:  # violation: logs.lambda-retention\n"
        "    Type: AWS::Logs::LogGroup\n"
        "    Properties:\n"
        "      LogGroupName: !Sub /aws/lambda/${DevAgentWorker}\n",
        "  DevAgentWorkerLogGroup:\n"
        "    Type: AWS::Logs::LogGroup\n"
        "    Properties:\n"
        "      LogGroupName: !Sub /aws/lambda/${DevAgentWorker}\n"
        "      RetentionInDays: !Ref LogRetentionDays\n",
    ),
}

#: Where a planted secret goes: a literal value in the API handler's environment.
_SECRET_AFTER = "          OPS_QUEUE_URL: !Ref OpsQueue\n"


def violations(template: Path = APP / TEMPLATE) -> dict[str, int]:
    """Rule id -> the 1-based line of its ``# violation:`` comment."""
    found = {}
    for number, line in enumerate(template.read_text().splitlines(), start=1):
        match = _VIOLATION.search(line)
        if match and not line.lstrip().startswith("#"):
            found[match.group("rule")] = number
    return found


def _replace_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    if count != 1:
        raise AssertionError(f"the example template holds {old!r} {count} times, not once")
    return text.replace(old, new)


def copy_app(destination: Path, *, fixed: bool = False, secret: str | None = None) -> Path:
    """A copy of the app (its template, samconfig.toml and sources) at ``destination``."""
    shutil.copytree(APP, destination, ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))
    template = destination / TEMPLATE
    text = template.read_text()
    if fixed:
        for old, new in FIXES.values():
            text = _replace_once(text, old, new)
    if secret is not None:
        text = _replace_once(
            text, _SECRET_AFTER, f"{_SECRET_AFTER}          GEMINI_API_KEY: {secret}\n"
        )
    template.write_text(text)
    return destination
