"""Imports every command module so that each registers itself on the app."""

from runbook_guard.cli import (  # noqa: F401
    check,
    collect,
    coverage,
    demo,
    evaluate,
    iam_policy,
    policy_commands,
    report,
    rules,
    version,
)
