"""Imports every service module so that each registers its collectors and operations (once)."""

from runbook_guard.collectors import (  # noqa: F401
    apigateway,
    awslambda,
    budgets,
    cloudtrail,
    cloudwatch,
    codedeploy,
    dynamodb,
    ec2,
    ecs,
    freetier,
    iam,
    insights,
    logs,
    metrics,
    s3,
    sqs,
    ssm,
)
