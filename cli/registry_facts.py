"""The collectors' facts a policy check needs, kept out of the engine (which imports no boto3).

Shared by ``validate`` and ``rules new`` without either importing the other's command module
(a run imports only its own command's module).
"""

from __future__ import annotations

from runbook_guard.engine.policy_checks import TypeFacts


def collector_facts() -> TypeFacts:
    """Every resource type the collectors produce, with the data keys their calls fill."""
    from runbook_guard.collectors.registry import COLLECTORS, declared_keys, load_all

    load_all()
    return {resource_type: declared_keys(resource_type) for resource_type in sorted(COLLECTORS)}
