"""The snapshot as the engine sees it: resources indexed by type and name, and the gaps.

Gaps are the heart of failing closed: which listings were incomplete, and which calls failed
for which resource and which data keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runbook_guard.engine.documents import digest_of, load_document

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnrecognizedClientException",
}

_NO_CAUSES: list[str] = []


def describe_error(error: Mapping[str, Any]) -> str:
    """One collection error in words, with the permission to grant where it is one."""
    where = f" for {error['resource']}" if error.get("resource") else ""
    text = (
        f"{error['service']}:{error['operation']} failed in {error['region']}{where}: "
        f"{error['code']}: {error['message']}"
    )
    if error.get("iam_action") and error["code"] in ACCESS_DENIED:
        text += f" (grant {error['iam_action']})"
    return text


def _sort_key(resource: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (resource["type"], resource["account"], resource["region"], resource["id"])


class Snapshot:
    """Indexes over one snapshot document; built once, read by every rule."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.metadata: Mapping[str, Any] = document["metadata"]
        self.resources = sorted(document["resources"], key=_sort_key)
        self.errors = sorted(
            document["errors"],
            key=lambda e: (e["service"], e["operation"], e["region"], e.get("resource", "")),
        )
        self.coverage = document["coverage"]
        self.by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for resource in self.resources:
            self.by_type[resource["type"]].append(resource)
        # Built per type on first use: only rules with names or related resources need it.
        self._by_name: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
        self.collected_types = {entry["type"] for entry in self.coverage}
        self._incomplete: dict[str, list[str]] = defaultdict(list)
        for entry in self.coverage:
            if not entry["complete"]:
                self._incomplete[entry["type"]].append(self._listing_cause(entry))
        self._by_resource: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self._by_scope: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
        for error in self.errors:
            if error.get("resource"):
                self._by_resource[error["resource"]].append(error)
            elif error.get("resource_type"):
                scope = (error["resource_type"], error.get("account", ""), error["region"])
                self._by_scope[scope].append(error)
        coverage = sorted(self.coverage, key=lambda c: (c["type"], c["account"], c["region"]))
        ordered = {**document, "resources": self.resources, "errors": self.errors}
        self.digest = digest_of({**ordered, "coverage": coverage})

    def _listing_cause(self, entry: Mapping[str, Any]) -> str:
        reasons = [
            describe_error(e) for e in self.errors
            if e.get("resource_type") == entry["type"] and e["region"] == entry["region"]
            and not e.get("resource")
        ]  # fmt: skip
        detail = f": {'; '.join(reasons)}" if reasons else ""
        return (
            f"listing {entry['type']} in {entry['account']}/{entry['region']} was incomplete"
            f"{detail}"
        )

    def named(self, resource_type: str, name: str) -> list[Mapping[str, Any]]:
        """Resources of a type with this name (one per account and region at most)."""
        index = self._by_name.get(resource_type)
        if index is None:
            index = self._by_name[resource_type] = defaultdict(list)
            for resource in self.by_type.get(resource_type, []):
                index[resource["name"]].append(resource)
        return index.get(name, [])

    def incomplete(self, resource_type: str) -> list[str]:
        """Why resources of this type may be missing from the snapshot (empty if none)."""
        return self._incomplete.get(resource_type, _NO_CAUSES)

    def errors_for(self, resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Collection errors that may have left holes in this resource's data."""
        if not self._by_resource and not self._by_scope:
            return []  # a snapshot without errors: the common case, decided at once
        own = self._by_resource.get(resource["id"])
        scoped = self._by_scope.get((resource["type"], resource["account"], resource["region"]))
        anywhere = self._by_scope.get((resource["type"], "", resource["region"]))
        if not own and not scoped and not anywhere:
            return []
        return [*(own or []), *(scoped or []), *(anywhere or [])]


def blocked_lookup(errors: list[Mapping[str, Any]]) -> Any:
    """A function telling which of these errors could explain absent data keys."""
    if not errors:
        return _nothing_blocked
    prepared = [(frozenset(e.get("data_keys") or ()), describe_error(e)) for e in errors]

    def blocked(roots: frozenset[str]) -> list[str]:
        return [text for keys, text in prepared if not keys or keys & roots]

    return blocked


def _nothing_blocked(_roots: frozenset[str]) -> list[str]:
    return _NO_CAUSES


def load_snapshot(path: Path) -> Snapshot:
    """Read, validate and index a snapshot file."""
    return Snapshot(load_document(path, "snapshot"))
