"""The operations moto 5.2 lacks, answered as AWS documents them (served by ``standins``).

Two kinds of answer:

- What AWS knows of the account's past cannot come from moto's state, so it is seeded
  (``story`` seeds the demo's): CloudTrail's event history (``LookupEvents``: one lookup
  attribute, a time range, newest first, 1-50 a page, the last 90 days) and this month's Free
  Tier usage (``GetFreeTierUsage``). With nothing seeded they answer what AWS answers for an
  account with no such history: no events, no offers.
- What follows from the account's present state is read from moto's: Contributor Insights per
  table or index (``UpdateContributorInsights`` sets it, ``DescribeContributorInsights`` reads
  it, DISABLED until enabled, ResourceNotFoundException for a table moto does not have), an
  export's times (moto's ``DescribeExport`` leaves out ``ExportTime``, ``StartTime`` and
  ``EndTime``; the layer notes when it saw the export start and adds them to moto's answers)
  and Lambda's account settings (limit and usage from moto's functions and reservations).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runbook_guard.demo.standins import Answer, AwsError, Handler, Relay, Request
from runbook_guard.demo.wire import checked_items, page, problems, service_model, timestamp

#: How far back CloudTrail's event history (what LookupEvents reads) goes.
EVENT_HISTORY = timedelta(days=90)
#: LookupEvents' page sizes ("Possible values are 1 through 50. The default is 50.").
LOOKUP_PAGE = range(1, 51)
#: GetFreeTierUsage's page sizes (the model's maxResults: 1 to 1000).
FREE_TIER_PAGE = range(1, 1001)


@dataclass(frozen=True)
class Seedable:
    """A kind of seeded data: items of a model shape, with the members each must have, kept
    per account and region (CloudTrail's history) or per account (Free Tier usage)."""

    service: str
    shape: str
    needed: tuple[str, ...]
    regional: bool


#: What a seeder may post (``standins.seed``), by kind.
SEEDS = {
    "cloudtrail/events": Seedable(
        "cloudtrail", "Event", ("EventId", "EventName", "EventTime"), regional=True
    ),
    "freetier/usages": Seedable("freetier", "FreeTierUsage", (), regional=False),
}
#: Lambda's fixed quotas (Lambda Developer Guide, "Lambda quotas"), in bytes.
CODE_STORAGE, UNZIPPED, ZIPPED = 75 * 1024**3, 250 * 1024**2, 50 * 1024**2
#: The account's concurrency limit, unless moto's own setting says otherwise.
DEFAULT_CONCURRENCY = 1000
DONE = ("COMPLETED", "FAILED")


class MissingOperations:
    """The state behind the stand-ins of one server, and their handlers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._offers: dict[str, list[dict[str, Any]]] = {}
        self._insights: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self._exports: dict[str, dict[str, datetime]] = {}

    def handlers(self) -> Mapping[tuple[str, str], Handler]:
        return {
            ("cloudtrail", "LookupEvents"): self.lookup_events,
            ("freetier", "GetFreeTierUsage"): self.free_tier_usage,
            ("dynamodb", "DescribeContributorInsights"): self.describe_contributor_insights,
            ("dynamodb", "UpdateContributorInsights"): self.update_contributor_insights,
            ("dynamodb", "ExportTableToPointInTime"): self.export_table,
            ("dynamodb", "DescribeExport"): self.describe_export,
            ("lambda", "GetAccountSettings"): self.account_settings,
        }

    def reset(self) -> None:
        with self._lock:
            for state in (self._events, self._offers, self._insights, self._exports):
                state.clear()

    def seed(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Events are added to an (account, region)'s history; offers replace an account's."""
        if kind not in SEEDS:
            raise ValueError(f"no stand-in takes {kind!r}; one of {', '.join(SEEDS)}")
        seedable = SEEDS[kind]
        names = ("account", "region") if seedable.regional else ("account",)
        where = tuple(str(payload.get(name) or "") for name in names)
        if not all(where):
            raise ValueError(f"{kind}: {' and '.join(names)} must be named")
        items = checked_items(seedable.service, seedable.shape, payload.get("items"))
        missing = [
            f"items[{i}].{m}"
            for i, item in enumerate(items)
            for m in seedable.needed
            if m not in item
        ]
        if missing:
            raise ValueError(f"{kind}: missing {', '.join(missing)}")
        with self._lock:
            if seedable.regional:
                self._events.setdefault((where[0], where[1]), []).extend(items)
            else:
                self._offers[where[0]] = items

    # --- The account's past, as seeded ------------------------------------------------------

    def lookup_events(self, request: Request) -> Answer:
        params = request.params
        attributes = params.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise AwsError(
                "InvalidLookupAttributesException", "only one lookup attribute may be given"
            )
        try:
            start = timestamp(params["StartTime"], "StartTime") if "StartTime" in params else None
            end = timestamp(params["EndTime"], "EndTime") if "EndTime" in params else request.now
        except ValueError as bad:
            raise AwsError("InvalidTimeRangeException", str(bad)) from None
        if start is not None and start > end:
            raise AwsError("InvalidTimeRangeException", "the start time is after the end time")
        size = params.get("MaxResults", LOOKUP_PAGE[-1])
        if not isinstance(size, int) or size not in LOOKUP_PAGE:
            raise AwsError("InvalidMaxResultsException", "MaxResults must be 1 through 50")
        oldest = max(start or request.now - EVENT_HISTORY, request.now - EVENT_HISTORY)
        with self._lock:
            history = list(self._events.get((request.account, request.region), []))
        if params.get("EventCategory") == "insight":
            history = []  # the demo's account records no CloudTrail Insights events
        found = [
            event
            for event in history
            if oldest <= event["EventTime"] <= end
            and all(_matches(event, a["AttributeKey"], a["AttributeValue"]) for a in attributes)
        ]
        found.sort(key=lambda e: (e["EventTime"], e["EventId"]), reverse=True)
        query = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
        try:
            events, token = page(found, size, params.get("NextToken"), query)
        except ValueError as bad:
            raise AwsError("InvalidNextTokenException", str(bad)) from None
        return {"Events": events, **({"NextToken": token} if token else {})}

    def free_tier_usage(self, request: Request) -> Answer:
        params = request.params
        if params.get("filter"):
            raise AwsError(
                "ValidationException", "the demo's Free Tier stand-in does not evaluate filters"
            )
        size = params.get("maxResults", FREE_TIER_PAGE[-1])
        if not isinstance(size, int) or size not in FREE_TIER_PAGE:
            raise AwsError("ValidationException", "maxResults must be 1 through 1000")
        with self._lock:
            offers = list(self._offers.get(request.account, []))
        try:
            found, token = page(offers, size, params.get("nextToken"), {})
        except ValueError as bad:
            raise AwsError("ValidationException", str(bad)) from None
        return {"freeTierUsages": found, **({"nextToken": token} if token else {})}

    # --- The account's present, from moto's state --------------------------------------------

    def describe_contributor_insights(self, request: Request) -> Answer:
        key, base, _ = _insights_target(request)
        with self._lock:
            state = self._insights.get(key, {"ContributorInsightsStatus": "DISABLED"})
        return {**base, **state}

    def update_contributor_insights(self, request: Request) -> Answer:
        """ENABLE answers ENABLING and DISABLE DISABLING, as DynamoDB does; the change is done
        by the next describe (DynamoDB takes moments)."""
        key, base, table = _insights_target(request)
        action = request.params.get("ContributorInsightsAction")
        mode = str(request.params.get("ContributorInsightsMode", "ACCESSED_AND_THROTTLED_KEYS"))
        if action == "ENABLE":
            state: dict[str, Any] = {
                "ContributorInsightsRuleList": _rule_names(base, table, mode, request.now),
                "ContributorInsightsStatus": "ENABLED",
                "LastUpdateDateTime": request.now,
                "ContributorInsightsMode": mode,
            }
            answer = {
                **base,
                "ContributorInsightsStatus": "ENABLING",
                "ContributorInsightsMode": mode,
            }
        elif action == "DISABLE":
            state = {"ContributorInsightsStatus": "DISABLED", "LastUpdateDateTime": request.now}
            answer = {**base, "ContributorInsightsStatus": "DISABLING"}
        else:
            raise ValueError(f"ContributorInsightsAction {action!r} is neither ENABLE nor DISABLE")
        with self._lock:
            self._insights[key] = state
        return answer

    def export_table(self, request: Request) -> Answer:
        """moto's answer, with the times: the export starts now, from ``ExportTime`` if given."""
        relay = request.forward()
        if not relay.ok:
            return relay
        answer = relay.json()
        arn = str((answer.get("ExportDescription") or {}).get("ExportArn") or "")
        if arn:
            asked = request.params.get("ExportTime")
            point = timestamp(asked, "ExportTime") if asked is not None else request.now
            with self._lock:
                self._exports[arn] = {"ExportTime": point, "StartTime": request.now}
        return self._timed(relay, answer)

    def describe_export(self, request: Request) -> Answer:
        relay = request.forward()
        return self._timed(relay, relay.json()) if relay.ok else relay

    def _timed(self, relay: Relay, answer: dict[str, Any]) -> Relay:
        """moto's export description with the times the layer noted (none for an export it
        never saw start: moto's answer then goes as it is, without them). moto finishes an
        export as it starts it, so a finished one ends when it started."""
        description = dict(answer.get("ExportDescription") or {})
        with self._lock:
            times = dict(self._exports.get(str(description.get("ExportArn")), {}))
        if not times:
            return relay
        if description.get("ExportStatus") in DONE:
            times["EndTime"] = times["StartTime"]
        wrong = problems(service_model("dynamodb").shape_for("ExportDescription"), times)
        if wrong:
            raise ValueError("; ".join(wrong))
        return relay.replaced({**answer, "ExportDescription": {**description, **times}})

    def account_settings(self, request: Request) -> Answer:
        """The account's limits and usage: every version's code counts toward the storage
        used, as Lambda counts it; the concurrency limit is moto's own setting
        (``MOTO_LAMBDA_CONCURRENCY_QUOTA``, which its PutFunctionConcurrency enforces) or
        AWS's default of 1000, less what the functions reserve."""
        from moto.awslambda.utils import get_backend

        backend = get_backend(request.account, request.region)
        functions = list(backend.list_functions())
        versions = list(backend.list_functions("ALL"))
        limit = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA") or DEFAULT_CONCURRENCY)
        reserved = sum(int(f.reserved_concurrency or 0) for f in functions)
        return {
            "AccountLimit": {
                "TotalCodeSize": CODE_STORAGE,
                "CodeSizeUnzipped": UNZIPPED,
                "CodeSizeZipped": ZIPPED,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": limit - reserved,
            },
            "AccountUsage": {
                "TotalCodeSize": sum(int(f.code_size or 0) for f in versions),
                "FunctionCount": len(functions),
            },
        }


def _matches(event: Mapping[str, Any], key: str, value: str) -> bool:
    """Whether an event has this lookup attribute; resources match on any of theirs."""
    if key in ("ResourceType", "ResourceName"):
        return any(r.get(key) == value for r in event.get("Resources") or [])
    return event.get(key) == value


def _insights_target(request: Request) -> tuple[tuple[str, str, str, str], dict[str, Any], Any]:
    """(state key, the answer's table and index members, moto's table) of the request; a table
    or index moto does not have is ResourceNotFoundException, as DynamoDB answers."""
    from moto.dynamodb.models import dynamodb_backends

    name = str(request.params.get("TableName", "")).rpartition(":table/")[2]
    index = str(request.params.get("IndexName") or "")
    table = dynamodb_backends[request.account][request.region].tables.get(name)
    if table is None:
        raise AwsError("ResourceNotFoundException", f"Requested resource not found: {name}")
    if index and index not in {i.name for i in [*table.indexes, *table.global_indexes]}:
        raise AwsError("ResourceNotFoundException", f"Requested resource not found: {index}")
    base = {"TableName": name, **({"IndexName": index} if index else {})}
    return (request.account, request.region, name, index), base, table


def _rule_names(base: Mapping[str, str], table: Any, mode: str, now: datetime) -> list[str]:
    """The CloudWatch Contributor Insights rules DynamoDB creates: most accessed (C) and most
    throttled (T) partition keys (PK), and sort keys (SK) where the table has one; throttled
    only in THROTTLED_KEYS mode."""
    keys = ["PK", *(["SK"] if table.range_key_attr else [])]
    kinds = ["T"] if mode == "THROTTLED_KEYS" else ["C", "T"]
    owner = "-".join(base.values())
    stamp = int(now.timestamp() * 1000)
    return [f"DynamoDBContributorInsights-{k}{c}-{owner}-{stamp}" for k in keys for c in kinds]
