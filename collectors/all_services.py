"""Imports every service module so that each registers its collectors and operations."""

from runbook_guard.collectors import (  # noqa: F401
    apigateway,
    awslambda,
    budgets,
    cloudtrail,
    cloudwatch,
    dynamodb,
    ecs,
    iam,
    logs,
    metrics,
    s3,
    sqs,
    ssm,
)
