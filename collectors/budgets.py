"""AWS Budgets with their notifications (the runbook's 80 % alert).

Subscribers are not read: the rule asks whether an 80 % notification exists, and a third call
per notification would double the cost for data no rule uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

BUDGET = "aws.budgets.budget"
#: Every Budgets read is authorised by the one action ``budgets:ViewBudget``.
API = OperationSet(
    "budgets.budgets",
    "budgets",
    ("DescribeBudgets", "DescribeNotificationsForBudget"),
    iam_actions={
        "DescribeBudgets": "budgets:ViewBudget",
        "DescribeNotificationsForBudget": "budgets:ViewBudget",
    },
)


@register(API, BUDGET, is_global=True)
def collect_budgets(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    budgets = call.items("DescribeBudgets", "Budgets", listing=True, AccountId=call.account)
    if budgets is None:
        return []
    resources = []
    for budget in budgets:
        name = str(budget["BudgetName"])
        arn = call.arn("budgets", f"budget/{name}")
        data = dict(budget)
        call.fill_items(
            data,
            "Notifications",
            "DescribeNotificationsForBudget",
            "Notifications",
            resource=arn,
            AccountId=call.account,
            BudgetName=name,
        )
        resources.append(call.resource(BUDGET, arn, name, data))
    return resources
