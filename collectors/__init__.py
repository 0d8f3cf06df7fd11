"""The collection stage: read-only boto3 calls from a collection plan to a snapshot.

This package is the only code that reads AWS. ``collect(plan, scope)`` is its entry point;
``registry`` holds what each collector may call, which ``iam-policy`` prints.
"""

from runbook_guard.collectors.context import Scope
from runbook_guard.collectors.runner import collect

__all__ = ["Scope", "collect"]
