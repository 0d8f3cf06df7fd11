"""The least-privilege IAM policy for a collection, built from the declared operations.

Generated, never hand-written, so it cannot drift from what the collectors call: adding a call
without declaring it fails at run time, and declaring it adds it here.
"""

from __future__ import annotations

from typing import Any

from runbook_guard.collectors.registry import OPERATION_SETS, is_read_only, load_all


def iam_policy() -> dict[str, Any]:
    """One statement per (service, resource scope), actions sorted, for a stable diff."""
    load_all()
    grouped: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for api in OPERATION_SETS:
        for operation in api.operations:
            if not is_read_only(operation):
                raise RuntimeError(f"{api.owner} declares a non-read-only call {operation}")
            grouped.setdefault((api.service, api.iam_resources), set()).add(
                api.iam_action(operation)
            )
    statements = []
    for (service, resources), actions in sorted(grouped.items()):
        statements.append(
            {
                "Sid": f"RunbookGuardRead{service.capitalize()}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": list(resources) if len(resources) > 1 else resources[0],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def declared_operations() -> dict[str, set[str]]:
    """Every declared operation by boto3 service name (what a test compares the wire with)."""
    load_all()
    declared: dict[str, set[str]] = {}
    for api in OPERATION_SETS:
        declared.setdefault(api.service, set()).update(api.operations)
    return declared
