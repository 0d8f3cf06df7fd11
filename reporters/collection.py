"""Collection errors merged once, for every format: one entry per cause, with its resources.

A denied permission fails the same call for every table, queue or function it covers; listed
one by one, 300 identical AccessDenied lines bury the one line that says what to grant.
Errors are therefore merged when everything a reader acts on is the same (service,
operation, code, message, IAM action, account, region): the merged entry keeps the count and
every resource the call was for. Markdown, HTML, JSON, SARIF, JUnit and CSV show these
entries; the console groups them further by cause and IAM action alone (``causes``), because
a terminal line has room for "3 x AccessDenied on dynamodb:DescribeContinuousBackups" and not
for three messages that differ only in the ARN they quote.

Linear: one pass to group, one sort of the groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook_guard.engine.snapshot import ACCESS_DENIED

#: What must be equal for two errors to be one entry (the resource is what is collected).
MERGE_FIELDS = ("service", "operation", "code", "message", "iam_action", "account", "region")


@dataclass(frozen=True, slots=True)
class MergedError:
    """Identical collection errors: how many there were and which resources they concern."""

    service: str
    operation: str
    code: str
    message: str
    iam_action: str
    account: str
    region: str
    count: int
    resources: tuple[str, ...]
    resource_types: tuple[str, ...]
    data_keys: tuple[str, ...]

    @property
    def denied(self) -> bool:
        """An access-denied code: the IAM action is then a *missing* permission."""
        return self.code in ACCESS_DENIED

    @property
    def action(self) -> str:
        """The IAM action, else ``service:Operation`` (what the call was, in IAM's words)."""
        return self.iam_action or f"{self.service}:{self.operation}"

    def document(self) -> dict[str, Any]:
        """The entry as the JSON report and SARIF carry it (empty fields left out)."""
        out: dict[str, Any] = {
            "service": self.service,
            "operation": self.operation,
            "region": self.region,
            "code": self.code,
            "message": self.message,
            "count": self.count,
            "resources": list(self.resources),
        }
        for key, value in (("account", self.account), ("iam_action", self.iam_action)):
            if value:
                out[key] = value
        if self.resource_types:
            out["resource_types"] = list(self.resource_types)
        if self.data_keys:
            out["data_keys"] = list(self.data_keys)
        return out


def _key(error: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(error.get(field) or "") for field in MERGE_FIELDS)


def merge_errors(errors: Iterable[Mapping[str, Any]]) -> tuple[MergedError, ...]:
    """Identical errors once, sorted by service, operation, region, account, code, action.
    Idempotent: entries already merged (``count``, ``resources``) merge to themselves."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for error in errors:
        groups.setdefault(_key(error), []).append(error)
    merged = []
    for key, members in groups.items():
        service, operation, code, message, action, account, region = key
        resources: set[str] = set()
        types: set[str] = set()
        for error in members:  # an entry merged before (a JSON report read back) too
            resources.update(str(r) for r in error.get("resources") or ())
            resources.update([str(error["resource"])] if error.get("resource") else [])
            types.update(str(t) for t in error.get("resource_types") or ())
            types.update([str(error["resource_type"])] if error.get("resource_type") else [])
        keys = sorted({str(k) for e in members for k in e.get("data_keys") or ()})
        count = sum(int(e.get("count") or 1) for e in members)
        merged.append(
            MergedError(
                service, operation, code, message, action, account, region,
                count, tuple(sorted(resources)), tuple(sorted(types)), tuple(keys),
            )
        )  # fmt: skip
    merged.sort(
        key=lambda m: (m.service, m.operation, m.region, m.account, m.code, m.action, m.message)
    )
    return tuple(merged)


def plural_noun(noun: str) -> str:
    """``tables``, ``policies``, ``log groups``, ``addresses``."""
    if noun.endswith(("s", "x", "ch", "sh")):
        return f"{noun}es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return f"{noun[:-1]}ies"
    return f"{noun}s"


def plural(noun: str, count: int) -> str:
    """``1 table``, ``3 tables``, ``2 policies``, ``4 log groups``."""
    return f"1 {noun}" if count == 1 else f"{count} {plural_noun(noun)}"


def type_noun(resource_type: str) -> str:
    """``aws.dynamodb.table`` -> ``table``; ``aws.logs.log_group`` -> ``log group``."""
    return resource_type.rsplit(".", 1)[-1].replace("_", " ") or "resource"


@dataclass(frozen=True, slots=True)
class Cause:
    """Merged errors of one code and IAM action in one place: one console line."""

    code: str
    action: str
    account: str
    region: str
    count: int
    #: Resource type -> how many distinct resources of it the calls were for.
    resources: tuple[tuple[str, int], ...]
    #: Resource types whose listing failed (the call was for no single resource).
    listings: tuple[str, ...]

    def line(self, with_account: bool) -> str:
        """``3 x AccessDenied on dynamodb:DescribeContinuousBackups (us-east-1): 3 tables``."""
        where = f"{self.account}/{self.region}" if with_account and self.account else self.region
        text = f"{self.count} \u00d7 {self.code} on {self.action} ({where})"
        what = [plural(type_noun(kind), n) for kind, n in self.resources]
        what += [f"listing {plural_noun(type_noun(kind))}" for kind in self.listings]
        return f"{text}: {', '.join(what)}" if what else text


def causes(merged: Sequence[MergedError]) -> list[Cause]:
    """Merged errors grouped by (code, action, account, region), the most frequent first."""
    groups: dict[tuple[str, str, str, str], list[MergedError]] = {}
    for entry in merged:
        groups.setdefault((entry.code, entry.action, entry.account, entry.region), []).append(entry)
    out = []
    for (code, action, account, region), entries in groups.items():
        by_type: dict[str, set[str]] = {}
        listings: set[str] = set()
        for entry in entries:
            kind = entry.resource_types[0] if len(entry.resource_types) == 1 else "resource"
            if entry.resources:
                by_type.setdefault(kind, set()).update(entry.resources)
            else:
                listings.update(entry.resource_types)
        counted = tuple(sorted((kind, len(ids)) for kind, ids in by_type.items()))
        total = sum(entry.count for entry in entries)
        out.append(Cause(code, action, account, region, total, counted, tuple(sorted(listings))))
    out.sort(key=lambda c: (-c.count, c.code, c.action, c.account, c.region))
    return out
