"""The stack's governance side: the Lambda role and the deployer user with its keys, the
CloudTrail trail, and the monthly budget (alerting the wrong way round).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbook_guard.demo.stack import Stack


def identities(stack: Stack) -> str:
    iam = stack.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(
        RoleName=f"{stack.prefix}-lambda-role", AssumeRolePolicyDocument=json.dumps(trust)
    )
    user = f"{stack.prefix}-deployer"
    iam.create_user(UserName=user)
    # Violation RB-M02: a second active key, never used.
    iam.create_access_key(UserName=user)
    iam.create_access_key(UserName=user)
    return str(role["Role"]["Arn"])


def trail(stack: Stack) -> None:
    trail = f"{stack.prefix}-trail"
    cloudtrail = stack.client("cloudtrail")
    cloudtrail.create_trail(
        Name=trail, S3BucketName=f"{stack.prefix}-logs-archive", IsMultiRegionTrail=True
    )
    cloudtrail.start_logging(Name=trail)


def budget(stack: Stack) -> None:
    budgets = stack.client("budgets")
    budgets.create_budget(
        AccountId=stack.account,
        Budget={
            "BudgetName": f"{stack.prefix}-monthly",
            "BudgetLimit": {"Amount": "25", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        NotificationsWithSubscribers=[
            {
                "Notification": {
                    "NotificationType": "ACTUAL",
                    # Violation RB-C01 (budgets.alert-at-threshold): the runbook's "budget
                    # alert at 80%" with its operator reversed: it notifies while spend is
                    # LESS_THAN 80 % of the limit (all month) and never once 80 % is passed.
                    # Every other field is right, and it is the stack's only budget: the rule
                    # asks for at least one budget alerting correctly, so a second, correct
                    # budget would make it pass.
                    "ComparisonOperator": "LESS_THAN",
                    "Threshold": 80.0,
                    "ThresholdType": "PERCENTAGE",
                },
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "ops@example.com"}],
            }
        ],
    )
