"""Budgets with their notifications, CloudTrail trails and SSM parameters.

Budgets: DescribeBudgets' fields (``BudgetLimit.Amount`` as the API's text) and the
notifications DescribeNotificationsForBudget lists, without subscribers (the collector reads
none); spend exists only once the account runs, so ``CalculatedSpend`` is never declared.
Trails: DescribeTrails' names. ``Status`` is not declared: the pack reads
``Status.LatestDeliveryTime`` and ``LatestDeliveryError`` beside ``IsLogging``, and no template
says when logs were last delivered, so the trail rule is not applicable before deploy rather
than judged on half of what it reads. SSM parameters: DescribeParameters' metadata, never a
value (the template's ``Value`` is not read); CloudFormation creates only String and StringList
parameters, so a ``SecureString`` written in a template is undeterminable, not a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runbook_guard.template.mapping_base import (
    EMPTY,
    Ctx,
    Field,
    Props,
    Table,
    each,
    shape,
    the_name,
)
from runbook_guard.template.mapping_values import boolean, number, text
from runbook_guard.template.model import Unresolved

# Budgets -------------------------------------------------------------------------------------


def _amount(value: Any, ctx: Ctx) -> Any:
    """A Double in CloudFormation, text in the API's answer (``25`` -> ``"25.0"``)."""
    amount = number(value)
    if isinstance(amount, Unresolved):
        return amount
    return str(amount) if isinstance(amount, float) else value


NOTIFICATION = (
    Field("NotificationType", "NotificationType"),
    Field("ComparisonOperator", "ComparisonOperator"),
    Field("Threshold", "Threshold", convert=number),
    Field("ThresholdType", "ThresholdType", default="PERCENTAGE"),
)


def _notification(item: Any, ctx: Ctx) -> Any:
    if isinstance(item, Mapping) and "Notification" in item:
        return shape(NOTIFICATION)(item["Notification"], ctx)
    return item


#: What DescribeBudgets answers for a cost budget that sets no CostTypes.
INCLUDED = "Tax Subscription Refund Credit Upfront Recurring OtherSubscription Support Discount"
COST_TYPES = (
    *(Field(f"Include{name}", f"Include{name}", True, boolean) for name in INCLUDED.split()),
    Field("UseBlended", "UseBlended", False, boolean),
    Field("UseAmortized", "UseAmortized", False, boolean),
)


def _cost(props: Props, ctx: Ctx) -> bool:
    budget = props.get("Budget")
    return isinstance(budget, Mapping) and budget.get("BudgetType") == "COST"


BUDGET = Table(
    "aws.budgets.budget",
    "AWS::Budgets::Budget",
    fields=(
        Field("BudgetName", "Budget.BudgetName", derive=the_name),
        Field(
            "BudgetLimit",
            "Budget.BudgetLimit",
            convert=shape((Field("Amount", "Amount", convert=_amount), Field("Unit", "Unit"))),
        ),
        Field("BudgetType", "Budget.BudgetType"),
        Field("TimeUnit", "Budget.TimeUnit"),
        Field("CostFilters", "Budget.CostFilters"),
        Field("CostTypes", "Budget.CostTypes", EMPTY, shape(COST_TYPES), when=_cost),
        Field(
            "Notifications",
            "NotificationsWithSubscribers",
            default=[],
            convert=each(_notification),
        ),
    ),
    identity=lambda ctx: ctx.arn("budgets", f"budget/{ctx.display_name()}", region=""),
    name_prop="Budget.BudgetName",
    is_global=True,
    tags_prop="ResourceTags",
)

# CloudTrail ----------------------------------------------------------------------------------


def _has(*props_names: str) -> Any:
    """Whether any of these selector lists is written and not empty."""

    def derive(props: Props, ctx: Ctx) -> Any:
        for name in props_names:
            value = props.get(name)
            if isinstance(value, Unresolved):
                return value
            if value:
                return True
        return False

    return derive


TRAIL = Table(
    "aws.cloudtrail.trail",
    "AWS::CloudTrail::Trail",
    fields=(
        Field("Name", "TrailName", derive=the_name),
        Field(
            "TrailARN",
            "TrailName",
            derive=lambda props, ctx: ctx.named(
                lambda name: ctx.arn("cloudtrail", f"trail/{name}")
            ),
        ),
        Field("HomeRegion", derive=lambda props, ctx: ctx.region),
        Field("IsMultiRegionTrail", "IsMultiRegionTrail", False, boolean),
        Field("IncludeGlobalServiceEvents", "IncludeGlobalServiceEvents", True, boolean),
        Field("LogFileValidationEnabled", "EnableLogFileValidation", False, boolean),
        Field("IsOrganizationTrail", "IsOrganizationTrail", False, boolean),
        Field("S3BucketName", "S3BucketName", convert=text),
        Field("S3KeyPrefix", "S3KeyPrefix"),
        Field("SnsTopicName", "SnsTopicName"),
        Field("CloudWatchLogsLogGroupArn", "CloudWatchLogsLogGroupArn"),
        Field("CloudWatchLogsRoleArn", "CloudWatchLogsRoleArn"),
        Field("KmsKeyId", "KMSKeyId"),
        Field(
            "HasCustomEventSelectors",
            "EventSelectors",
            derive=_has("EventSelectors", "AdvancedEventSelectors"),
        ),
        Field("HasInsightSelectors", "InsightSelectors", derive=_has("InsightSelectors")),
    ),
    identity=lambda ctx: ctx.arn("cloudtrail", f"trail/{ctx.display_name()}"),
    name_prop="TrailName",
)

# SSM -----------------------------------------------------------------------------------------


def _parameter_type(value: Any, ctx: Ctx) -> Any:
    """String or StringList: "SecureString isn't currently supported for CloudFormation
    templates" (PutParameter's reference). A template writing it passes the pack's SecureString
    rule on a parameter the deploy refuses to create."""
    if value == "SecureString":
        return Unresolved(
            "unresolvable",
            "Type SecureString, which CloudFormation cannot create (aws ssm put-parameter can)",
            None,
        )
    return value


SSM_PARAMETER = Table(
    "aws.ssm.parameter",
    "AWS::SSM::Parameter",
    fields=(
        Field("Name", "Name", derive=the_name),
        Field("Type", "Type", convert=_parameter_type),
        Field("Description", "Description"),
        Field("AllowedPattern", "AllowedPattern"),
        Field("Tier", "Tier", default="Standard"),
        Field("DataType", "DataType", default="text"),
    ),
    identity=lambda ctx: ctx.arn("ssm", f"parameter/{ctx.display_name().lstrip('/')}"),
    name_prop="Name",
)

TABLES = (BUDGET, TRAIL, SSM_PARAMETER)
