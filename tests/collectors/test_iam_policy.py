"""`iam-policy`: kms:Decrypt only as an opt-in scoped to named keys; partition-aware resources.

Lambda returns a function's environment variables in clear to a caller allowed to decrypt
them, and answers ``Environment.Error`` (``KMSAccessDeniedException``) otherwise (Lambda API
Reference, EnvironmentResponse / EnvironmentError). Granting ``kms:Decrypt`` is therefore a
choice: by default the policy has none, and each CMK-encrypted function is an error.
"""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from runbook_guard.cli import commands  # noqa: F401  (registers the commands)
from runbook_guard.cli.app import app
from runbook_guard.collectors.policy import DECRYPT_SID, iam_policy

KEY_A = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_B = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"


def printed(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["iam-policy", *args])
    return result.exit_code, result.stdout, result.stderr


def actions(policy: dict[str, Any]) -> set[str]:
    return {a for statement in policy["Statement"] for a in statement["Action"]}


def test_no_kms_decrypt_without_the_opt_in() -> None:
    code, out, _ = printed()
    assert code == 0
    policy = json.loads(out)
    assert not any(a.startswith("kms:") for a in actions(policy))
    assert DECRYPT_SID not in {s["Sid"] for s in policy["Statement"]}
    assert "lambda:GetFunctionConfiguration" in actions(policy)  # the state of each function


def test_kms_keys_add_decrypt_on_exactly_those_keys() -> None:
    code, out, _ = printed("--kms-key", KEY_B, "--kms-key", KEY_A, "--kms-key", KEY_A)
    assert code == 0
    policy = json.loads(out)
    [decrypt] = [s for s in policy["Statement"] if "kms:Decrypt" in s["Action"]]
    assert decrypt == {
        "Sid": DECRYPT_SID,
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": sorted([KEY_A, KEY_B]),
    }
    # Everything else is the default policy, unchanged.
    rest = [s for s in policy["Statement"] if s["Sid"] != DECRYPT_SID]
    assert rest == iam_policy()["Statement"]
    assert iam_policy([KEY_A])["Statement"][-1]["Resource"] == KEY_A


def test_only_key_arns_of_the_partition_are_accepted() -> None:
    for bad in ("alias/aws/lambda", "arn:aws:kms:us-east-1:123456789012:alias/app", "*"):
        code, _out, err = printed("--kms-key", bad)
        assert code == 2, bad
        assert "--kms-key" in err
        assert "not a KMS key ARN" in err
    code, _out, err = printed("--kms-key", KEY_A, "--partition", "aws-cn")
    assert code == 2
    assert "not in the aws-cn partition" in err


def test_the_partition_rewrites_scoped_resources() -> None:
    code, out, _ = printed(
        "--partition",
        "aws-cn",
        "--kms-key",
        "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    assert code == 0
    text = json.dumps(json.loads(out))
    assert "arn:aws-cn:apigateway:*::/restapis" in text
    assert "arn:aws:" not in text
