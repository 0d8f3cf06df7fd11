"""AWS Budgets with their notifications (the runbook's 80 % alert).

Subscribers are not read: the rule asks whether an 80 % notification exists, and a third call
per notification would double the cost for data no rule uses. Notifications are asked only for
the budgets some rule selects (by name, or by a ``where`` on DescribeBudgets' fields), and only
when a rule reads them; every budget stays in the listing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

BUDGET = "aws.budgets.budget"
#: Budgets calls in flight per account. AWS publishes no request rate for the Budgets API (it
#: throttles with ``ThrottlingException``; the endpoint is one global one, shared by every
#: caller in the account): 4 is this tool's choice, the same as for IAM, and adaptive retries
#: absorb what throttling remains.
IN_FLIGHT = 4
OPERATIONS = ("DescribeBudgets", "DescribeNotificationsForBudget")
#: Every Budgets read is authorised by the one action ``budgets:ViewBudget``.
API = OperationSet(
    "budgets.budgets",
    "budgets",
    OPERATIONS,
    iam_actions=dict.fromkeys(OPERATIONS, "budgets:ViewBudget"),
    fills={
        "DescribeBudgets": {BUDGET: [Shape("budgets", "DescribeBudgets", ("Budgets[]",))]},
        "DescribeNotificationsForBudget": {BUDGET: ["Notifications"]},
    },
    answers={
        "DescribeBudgets": ("Budgets",),
        "DescribeNotificationsForBudget": ("Notifications",),
    },
    listings=("DescribeBudgets",),
    caps=dict.fromkeys(OPERATIONS, IN_FLIGHT),
)


def _budget(call: Call, budget: Mapping[str, Any], notifications: bool) -> dict[str, Any]:
    """A budget's resource, with its notifications when they are read (on the shared pool)."""
    name = str(budget["BudgetName"])
    arn = call.arn("budgets", f"budget/{name}")
    data = dict(budget)
    if notifications and call.selects(name, budget):
        call.fill_items(
            data,
            "Notifications",
            "DescribeNotificationsForBudget",
            "Notifications",
            resource=arn,
            AccountId=call.account,
            BudgetName=name,
        )
    return call.resource(BUDGET, arn, name, data)


@register(API, BUDGET, is_global=True)
def collect_budgets(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    budgets = call.items("DescribeBudgets", "Budgets", listing=True, AccountId=call.account)
    if budgets is None:
        return []
    notifications = call.wants("DescribeNotificationsForBudget")
    return call.each(budgets, lambda budget: _budget(call, budget, notifications))
