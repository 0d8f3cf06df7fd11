"""AWS Free Tier usage (RB-W01): one resource per offer the account is tracked against this month.

The Free Tier API is global (one us-east-1 endpoint) and has no ARNs, so each offer gets an id
built from what tells offers apart. An empty answer is a complete listing with nothing in it:
AWS tracks no offers for Organizations member accounts or accounts past the free tier.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runbook_guard.collectors.calls import Call
from runbook_guard.collectors.fills import Shape
from runbook_guard.collectors.registry import OperationSet, register
from runbook_guard.engine.plan import TypeRequest

USAGE = "aws.freetier.usage"
#: One listing, no detail call: every offer is stored as GetFreeTierUsage answers it.
API = OperationSet(
    "freetier.usage",
    "freetier",
    ("GetFreeTierUsage",),
    fills={
        "GetFreeTierUsage": {USAGE: [Shape("freetier", "GetFreeTierUsage", ("freeTierUsages[]",))]}
    },
    answers={"GetFreeTierUsage": ("freeTierUsages",)},
    listings=("GetFreeTierUsage",),
)
#: The offer fields the id is made of, in order.
ID_FIELDS = ("service", "usageType", "region", "operation")


def offer_ids(account: str, offers: list[Mapping[str, Any]]) -> list[str]:
    """A stable, unique id per offer, in the order given.

    ``freetier:<account>:<service>:<usageType>:<region>:<operation>``; offers sharing all of
    these (two free tier types of one usage type) get ``#1``, ``#2``, ... in the order of
    their whole content, so the ids do not depend on the order AWS lists them in.
    """
    bases = [
        ":".join(["freetier", account, *(str(o.get(k) or "") for k in ID_FIELDS)]) for o in offers
    ]
    ids = list(bases)
    for base in set(bases):
        same = [i for i, b in enumerate(bases) if b == base]
        if len(same) < 2:
            continue
        ranked = sorted(same, key=lambda i: json.dumps(offers[i], sort_keys=True, default=str))
        for rank, index in enumerate(ranked, start=1):
            ids[index] = f"{base}#{rank}"
    return ids


@register(API, USAGE, is_global=True)
def collect_usage(call: Call, requests: Mapping[str, TypeRequest]) -> list[dict[str, Any]]:
    offers = call.items("GetFreeTierUsage", "freeTierUsages", listing=True)
    if offers is None:
        return []
    return [
        call.resource(USAGE, rid, f"{offer.get('service')} {offer.get('usageType')}", offer)
        for rid, offer in zip(offer_ids(call.account, offers), offers, strict=True)
    ]
