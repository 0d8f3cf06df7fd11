"""The snapshot as the engine sees it: resources indexed by type and name, and the gaps.

Gaps are the heart of failing closed: which listings were incomplete, and which calls failed
for which resource and which data keys.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runbook_guard.engine.context import BlockedLookup, nothing_blocked
from runbook_guard.engine.documents import digest_of, load_document
from runbook_guard.engine.errors import InputError, problem
from runbook_guard.engine.fileio import canonical_json

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnrecognizedClientException",
    "KMSAccessDeniedException",
}

_NO_CAUSES: list[str] = []
GLOBAL_REGION = "global"
#: Calls that establish who the collection is: when they fail, the account lists nothing.
#: Region discovery belongs with them: an account whose regions are unknown lists nowhere.
IDENTITY_OPERATIONS = frozenset({"GetCallerIdentity", "AssumeRole", "DescribeRegions"})


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


def resource_order(resource: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """The snapshot's order of resources: (type, account, region, id)."""
    return (resource["type"], resource["account"], resource["region"], resource["id"])


def _coverage_key(entry: Mapping[str, Any]) -> tuple[str, str, str, bool]:
    return (entry["type"], entry["account"], entry["region"], entry["complete"])


def _error_key(error: Mapping[str, Any]) -> tuple[str, ...]:
    """Every field, so that no two distinct errors tie and input order never shows."""
    fields = ("service", "operation", "account", "region", "resource_type", "resource", "code")
    return (
        *(str(error.get(f, "")) for f in fields),
        ",".join(error.get("data_keys", [])),
        str(error.get("iam_action", "")),
        error["message"],
    )


def _refuse_duplicates(resources: list[Mapping[str, Any]]) -> None:
    """Two resources with one identity would make results depend on which came first."""
    keys = [resource_order(resource) for resource in resources]
    if len(set(keys)) == len(keys):
        return
    for before, after in itertools.pairwise(keys):
        if before == after:
            kind, account, region, rid = after
            raise InputError([f"resources: {kind} {rid} appears twice in {account}/{region}"])


#: The newest snapshot contract: 4 added ``metadata.payer_account``. Writers give the lowest
#: version that holds what a file uses, so older readers keep reading files they understand.
SNAPSHOT_SCHEMA_VERSION = 4


#: In an account's view of a snapshot (``engine.accounts.account_view``, in memory only): the
#: payer the whole snapshot holds, which the view of a member does not.
VIEW_PAYER = "view_payer"


def payer_held_by(
    payer: str | None, accounts: Iterable[Any], coverage: Iterable[Mapping[str, Any]]
) -> str | None:
    """``payer``, when it is an account a snapshot of these accounts and listings holds: one
    it collected, or one whose listings it records incomplete (a payer whose role failed,
    whose gaps then stand for the facts it holds). A payer outside it excuses no one."""
    if not payer:
        return None
    held = {str(a) for a in accounts} | {str(c["account"]) for c in coverage if not c["complete"]}
    return str(payer) if str(payer) in held else None


def held_payer(document: Mapping[str, Any]) -> str | None:
    """The payer a snapshot document records, when it holds it (``payer_held_by``)."""
    metadata = document["metadata"]
    return payer_held_by(
        metadata.get("payer_account"), metadata.get("accounts") or [], document["coverage"]
    )


class Snapshot:
    """Indexes over one snapshot document; built once, read by every rule."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.metadata: Mapping[str, Any] = document["metadata"]
        self.resources = sorted(document["resources"], key=resource_order)
        _refuse_duplicates(self.resources)
        self.errors = sorted(document["errors"], key=_error_key)
        self.coverage = sorted(
            document["coverage"],
            key=lambda c: (c["type"], c["account"], c["region"], c["complete"]),
        )
        self.by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for resource in self.resources:
            self.by_type[resource["type"]].append(resource)
        # Built per type on first use: only rules with names or related resources need it.
        self._by_name: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
        self.collected_types = {entry["type"] for entry in self.coverage}
        # Field-level collection (schema 2): per type, the keys of the operations that ran;
        # None for a snapshot that recorded none (every key of a collected type was asked for).
        recorded = self.metadata.get("collected_keys")
        self.collected_keys: dict[str, frozenset[str]] | None = (
            {t: frozenset(keys) for t, keys in recorded.items()} if recorded is not None else None
        )
        #: Rule id -> fingerprint the field-level collection was planned for (None: a snapshot
        #: that collected every key of every resource, schema 1).
        planned = self.metadata.get("planned_rules")
        self.planned_rules: dict[str, str] | None = dict(planned) if planned is not None else None
        #: Read from templates before deploy (engine/phase.py): only what they determine is known.
        source = self.metadata.get("source") or {}
        self.is_template = source.get("kind") == "template"
        #: Per type, the keys a live collection has and a template never determines.
        self.runtime_keys: dict[str, list[str]] = dict(source.get("runtime_keys") or {})
        self._prefixes: dict[tuple[str, str], list[list[str] | None]] = defaultdict(list)
        #: Collected field by field (keys or prefixes recorded): only planned rules may judge it.
        self.field_level = recorded is not None or any("prefixes" in c for c in self.coverage)
        for entry in self.coverage:
            self._prefixes[(entry["type"], entry["account"])].append(entry.get("prefixes"))
        self._incomplete: dict[str, list[str]] = defaultdict(list)
        #: The same causes per (type, account): one account's gap must not make another
        #: account's missing resource undecidable.
        self._incomplete_in: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._gap_accounts: dict[str, set[str]] = defaultdict(set)
        #: Types with an incomplete listing recorded for no account: no account's part of
        #: them can be trusted whole.
        self._gaps_of_no_account: set[str] = set()
        for entry in self.coverage:
            if not entry["complete"]:
                cause = self._listing_cause(entry)
                self._incomplete[entry["type"]].append(cause)
                self._incomplete_in[(entry["type"], entry["account"])].append(cause)
                if entry["account"]:
                    self._gap_accounts[entry["type"]].add(entry["account"])
                else:
                    self._gaps_of_no_account.add(entry["type"])
        for resource_type, missing in self._uncovered().items():
            where = ", ".join(f"{account}/{region}" for account, region in missing)
            self._incomplete[resource_type].append(
                f"no coverage of {resource_type} in {where}: the snapshot does not say it was"
                " listed there"
            )
            for account in dict.fromkeys(account for account, _region in missing):
                self._gap_accounts[resource_type].add(account)
                regions = ", ".join(r for a, r in missing if a == account)
                self._incomplete_in[(resource_type, account)].append(
                    f"no coverage of {resource_type} in {account}/{regions}: the snapshot does"
                    " not say it was listed there"
                )
        self._by_resource: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self._by_scope: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
        for error in self.errors:
            if error.get("resource"):
                self._by_resource[error["resource"]].append(error)
            elif error.get("resource_type"):
                scope = (error["resource_type"], error.get("account", ""), error["region"])
                self._by_scope[scope].append(error)
        ordered = {**document, "resources": self.resources, "errors": self.errors}
        self.digest = digest_of({**ordered, "coverage": self.coverage})
        #: The organisation's payer (management) account, when the collection knew it and
        #: the snapshot holds it (``held_payer``; in a member's view, the one its whole
        #: snapshot holds): facts it holds for everyone (the free tier, consolidated
        #: budgets) are judged there.
        view = self.metadata.get(VIEW_PAYER)
        self.payer_account: str | None = str(view) if view else held_payer(document)

    def _uncovered(self) -> dict[str, list[tuple[str, str]]]:
        """Per collected type, the (account, region) its coverage entries leave out.

        Coverage must span the snapshot's accounts x regions (a global type once per account,
        region ``global``): a listing recorded only for another account or region says
        nothing of this one, so "no resource found" there proves nothing.
        """
        accounts = [str(a) for a in self.metadata.get("accounts") or []]
        regions = [str(r) for r in self.metadata.get("regions") or []]
        # An account of an organisation may be collected in its own regions (accounts file,
        # discovered regions): its coverage spans those, not the run's list.
        own_regions = {
            str(account): [str(r) for r in entry["regions"]]
            for account, entry in (self.metadata.get("per_account") or {}).items()
            if isinstance(entry, Mapping) and entry.get("regions") is not None
        }
        covered: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for entry in self.coverage:
            covered[entry["type"]].add((entry["account"], entry["region"]))
        missing: dict[str, list[tuple[str, str]]] = {}
        for resource_type, pairs in sorted(covered.items()):
            # Global: listed only in region "global". A type with regional entries too (an
            # account whose identity failed is recorded at "global") is regional.
            is_global = all(region == GLOBAL_REGION for _account, region in pairs)
            gaps = [
                (a, r)
                for a in accounts
                for r in ([GLOBAL_REGION] if is_global else own_regions.get(a, regions))
                if (a, r) not in pairs
            ]
            if gaps:
                missing[resource_type] = gaps
        return missing

    def _listing_cause(self, entry: Mapping[str, Any]) -> str:
        """Why a listing is incomplete, each distinct reason once with its count.

        An account whose identity failed (its role refused, its token expired) lists nothing:
        the identity error is the reason for every one of its listings. The same failure
        repeated (eleven CloudTrail lookups) is one reason counted 11 times, not eleven copies.
        """
        reasons = Counter(
            describe_error(e)
            for e in self.errors
            if e.get("account", entry["account"]) == entry["account"]
            and (
                e.get("operation") in IDENTITY_OPERATIONS
                or (
                    e.get("resource_type") == entry["type"]
                    and e["region"] == entry["region"]
                    and not e.get("resource")
                )
            )
        )
        listed = [f"{text} \u00d7{count}" if count > 1 else text for text, count in reasons.items()]
        detail = f": {'; '.join(listed)}" if listed else ""
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

    def outside_listing(self, resource_type: str, account: str, name: str) -> str | None:
        """Why a name cannot be proven missing when the listing was limited to prefixes.

        A listing asked only for names starting with the rules' prefixes is complete for them
        alone: a name outside them (a related target named by a field) is unknown, not absent.
        """
        scopes = self._prefixes.get((resource_type, account))
        if not scopes:
            scopes = [p for (t, _a), ps in self._prefixes.items() if t == resource_type for p in ps]
        if not scopes or any(p is None for p in scopes):
            return None  # listed in full somewhere in this account
        prefixes = sorted({prefix for limited in scopes if limited for prefix in limited})
        if any(name.startswith(prefix) for prefix in prefixes):
            return None
        return (
            f"{resource_type} was listed only for names starting with "
            f"{', '.join(prefixes)}; {name} is outside that listing"
        )

    def declared_elsewhere(self, resource_type: str, account: str, name: str) -> str | None:
        """Why a name absent from a template is not "missing": another stack may declare it."""
        if not self.is_template or self.named(resource_type, name):
            return None
        del account  # a template describes one stack: a name it lacks is outside it anywhere
        return f"{resource_type} {name} is not declared in the template: judged on the live system"

    def uncollected_keys(self, resource_type: str, keys: set[str]) -> list[str]:
        """Keys a rule reads that the snapshot's field-level collection never asked for."""
        if self.collected_keys is None or resource_type not in self.collected_keys:
            return []
        return sorted(k for k in keys if k != "*" and k not in self.collected_keys[resource_type])

    def accounts_with_gaps(self, resource_type: str) -> set[str]:
        """Accounts whose listing of this type is incomplete or missing (an unreadable one
        included)."""
        return self._gap_accounts.get(resource_type, set())

    def gaps_by_account(self, resource_type: str) -> dict[str, list[str]] | None:
        """Why each account's listing of this type may be incomplete, by account; ``None``
        when some gap belongs to no account of the snapshot (then none is whole)."""
        if resource_type in self._gaps_of_no_account:
            return None
        gaps = self.accounts_with_gaps(resource_type)
        return {account: self.incomplete(resource_type, account) for account in sorted(gaps)}

    def incomplete(self, resource_type: str, account: str | None = None) -> list[str]:
        """Why resources of this type may be missing from the snapshot (empty if none); with
        ``account``, only from that account's part of it."""
        if account is None:
            return self._incomplete.get(resource_type, _NO_CAUSES)
        return self._incomplete_in.get((resource_type, account), _NO_CAUSES)

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


def blocked_lookup(errors: list[Mapping[str, Any]]) -> BlockedLookup:
    """A function telling which of these errors could explain absent data keys."""
    if not errors:
        return nothing_blocked
    prepared = [(frozenset(e.get("data_keys") or ()), describe_error(e)) for e in errors]

    def blocked(roots: frozenset[str]) -> list[str]:
        return [text for keys, text in prepared if not keys or keys & roots]

    return blocked


def as_written(document: Mapping[str, Any]) -> Snapshot:
    """The snapshot exactly as ``evaluate`` will read it back from the file ``check`` writes.

    The file is canonical JSON (keys sorted), the collected document is in AWS's answer order:
    evaluating the in-memory one would list a function's environment variables in another
    order than re-evaluating the file, and an auditor's rerun must give identical bytes.
    """
    return Snapshot(json.loads(canonical_json(document)))


def load_snapshot(path: Path) -> Snapshot:
    """Read, validate and index a snapshot file."""
    document = load_document(path, "snapshot")
    try:
        snapshot = Snapshot(document)
        payer = document["metadata"].get("payer_account")
        if payer and snapshot.payer_account is None:  # a file holds no view's payer
            raise InputError(
                [f"metadata.payer_account: {payer} is not one of the snapshot's accounts"]
            )
        return snapshot
    except InputError as error:
        raise InputError([problem(str(path), 1, 1, "", p) for p in error.problems]) from None
