"""Budgets with their notifications, CloudTrail trails and SSM parameters."""

from __future__ import annotations

import json

from tests.template.test_mapping_fixtures import at, mapped, one, only, resource, where

TRAIL_ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/agenticai-trail"


def test_a_budget_maps_to_describe_budgets_and_its_notifications() -> None:
    declared = resource(
        "Res",
        "AWS::Budgets::Budget",
        {
            "Budget": {
                "BudgetName": "agenticai-monthly",
                "BudgetLimit": {"Amount": 25, "Unit": "USD"},
                "BudgetType": "COST",
                "TimeUnit": "MONTHLY",
                "CostTypes": {"IncludeTax": False},
            },
            "NotificationsWithSubscribers": [
                {
                    "Notification": {
                        "NotificationType": "ACTUAL",
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": 80,
                    },
                    "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "ops@example.com"}],
                },
                {
                    "Notification": {
                        "NotificationType": "FORECASTED",
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": "100",
                        "ThresholdType": "ABSOLUTE_VALUE",
                    },
                    "Subscribers": [],
                },
            ],
        },
        positions={"Properties.Budget.BudgetLimit": at(14, 9)},
    )
    budget = one(mapped(declared), "aws.budgets.budget", "Res")
    assert (budget["id"], budget["name"], budget["region"]) == (
        "arn:aws:budgets::123456789012:budget/agenticai-monthly",
        "agenticai-monthly",
        "global",
    )
    included = {f"Include{n}": True for n in ("Subscription", "Refund", "Credit", "Upfront")}
    included |= {
        f"Include{n}": True for n in ("Recurring", "OtherSubscription", "Support", "Discount")
    }
    assert budget["data"] == {
        "BudgetName": "agenticai-monthly",
        "BudgetLimit": {"Amount": "25.0", "Unit": "USD"},
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "CostTypes": {"IncludeTax": False, **included, "UseBlended": False, "UseAmortized": False},
        "Notifications": [
            {
                "NotificationType": "ACTUAL",
                "ComparisonOperator": "GREATER_THAN",
                "Threshold": 80.0,
                "ThresholdType": "PERCENTAGE",
            },
            {
                "NotificationType": "FORECASTED",
                "ComparisonOperator": "GREATER_THAN",
                "Threshold": 100.0,
                "ThresholdType": "ABSOLUTE_VALUE",
            },
        ],
    }
    # The most specific position recorded; the enclosing property's where none is.
    assert budget["template"]["keys"]["BudgetLimit"] == where(
        14, "Properties.Budget.BudgetLimit", 9
    )
    assert budget["template"]["keys"]["BudgetType"] == where(11, "Properties.Budget")
    assert budget["template"]["keys"]["Notifications"] == where(
        12, "Properties.NotificationsWithSubscribers"
    )
    assert "CalculatedSpend" not in budget["data"]
    assert "ops@example.com" not in json.dumps(budget)


def test_a_budget_without_notifications_has_none() -> None:
    budget = only(
        "aws.budgets.budget",
        "AWS::Budgets::Budget",
        {"Budget": {"BudgetType": "USAGE", "TimeUnit": "DAILY"}},
    )
    assert budget["data"]["Notifications"] == []
    assert budget["name"].startswith("agenticai-stack-Res-")
    assert "CostTypes" not in budget["data"]  # a cost budget's alone
    assert budget["defaults"] == ["BudgetName", "Notifications"]


def test_a_trail_maps_to_describe_trails_and_never_claims_a_status() -> None:
    trail = only(
        "aws.cloudtrail.trail",
        "AWS::CloudTrail::Trail",
        {
            "TrailName": "agenticai-trail",
            "S3BucketName": "agenticai-logs-archive",
            "IsLogging": True,
            "IsMultiRegionTrail": "true",
            "IncludeGlobalServiceEvents": True,
            "EnableLogFileValidation": True,
            "EventSelectors": [{"ReadWriteType": "All"}],
        },
    )
    assert (trail["id"], trail["name"]) == (TRAIL_ARN, "agenticai-trail")
    assert trail["data"] == {
        "Name": "agenticai-trail",
        "TrailARN": TRAIL_ARN,
        "HomeRegion": "us-east-1",
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
        "LogFileValidationEnabled": True,
        "IsOrganizationTrail": False,
        "S3BucketName": "agenticai-logs-archive",
        "HasCustomEventSelectors": True,
        "HasInsightSelectors": False,
    }
    assert "Status" not in trail["data"]
    assert "Status" not in trail.get("unknown", {})
    assert trail["template"]["keys"]["LogFileValidationEnabled"] == where(
        16, "Properties.EnableLogFileValidation"
    )
    bare = only("aws.cloudtrail.trail", "AWS::CloudTrail::Trail", {"S3BucketName": "b"})
    assert (bare["data"]["IsMultiRegionTrail"], bare["data"]["IncludeGlobalServiceEvents"]) == (
        False,
        True,
    )
    assert "LogFileValidationEnabled" in bare["defaults"]


def test_an_ssm_parameter_maps_its_metadata_and_never_its_value() -> None:
    parameter = only(
        "aws.ssm.parameter",
        "AWS::SSM::Parameter",
        {"Name": "/agenticai/config/model", "Type": "String", "Value": "gemini-s3cr3t"},
    )
    assert (parameter["id"], parameter["name"]) == (
        "arn:aws:ssm:us-east-1:123456789012:parameter/agenticai/config/model",
        "/agenticai/config/model",
    )
    assert parameter["data"] == {
        "Name": "/agenticai/config/model",
        "Type": "String",
        "Tier": "Standard",
        "DataType": "text",
    }
    assert parameter["defaults"] == ["DataType", "Tier"]
    assert "gemini-s3cr3t" not in json.dumps(parameter)
