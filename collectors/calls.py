"""One mechanism for every AWS call the collectors make: declared, paginated, errors as data.

A failed call never raises out of a collector. It becomes a snapshot error (``journal``)
naming the IAM action, the resource and the ``data`` keys it would have filled, so the engine
can turn exactly the rules that needed those keys into ``error`` (fail closed) and leave the
rest be. This module also shapes what is stored: JSON-safe values in resource envelopes.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from botocore import xform_name
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from runbook_guard.collectors.journal import Attribution, Journal, error_code, readable
from runbook_guard.collectors.partitions import DEFAULT_PARTITION, build_arn, global_region
from runbook_guard.collectors.pool import Limits, run_each
from runbook_guard.collectors.registry import OperationSet

if TYPE_CHECKING:
    from runbook_guard.engine.plan import TypeRequest

T = TypeVar("T")
R = TypeVar("R")

GLOBAL_REGION = "global"
#: How long a collector may wait, in total, for AWS to finish something it started (the IAM
#: credential report), unless the scope says otherwise.
DEFAULT_MAX_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Reach:
    """What one call may know and reach beyond its own client.

    The partition (for the ARNs it builds) and where that partition's global services answer;
    the regions of the whole collection (a CloudTrail trail homed in a region not collected is
    recorded once, by the first collected region); clients of the same account in other
    regions (a trail's status is asked of its home region); and how to wait: ``sleep`` is
    injectable so tests of polling are instant, ``max_wait_seconds`` bounds the total.
    """

    partition: str = DEFAULT_PARTITION
    global_region: str = ""
    regions: tuple[str, ...] = ()
    client_for: Callable[[str], BaseClient] | None = None
    sleep: Callable[[float], None] = time.sleep
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS
    #: The pool per-resource calls run on, and the limits every call passes through.
    executor: Executor | None = None
    limits: Limits | None = None

    @property
    def global_client_region(self) -> str:
        return self.global_region or global_region(self.partition)


class UndeclaredOperation(RuntimeError):
    """A collector tried an operation its OperationSet does not declare: a programming error."""


class UnexpectedShape(ValueError):
    """A successful answer lacks a field the collector reads (recorded as ``UnexpectedShape``)."""


#: The (operation, answer member) pairs real AWS leaves out of a successful answer when there
#: is nothing to say, so an absent member there means "none". Every other member a collector
#: reads (``OperationSet.answers``) must be present, in a listing's every page and in a detail
#: call's answer: an answer without it is malformed (an empty 200 body), recorded as
#: ``UnexpectedShape`` on the keys the call fills (a listing then incomplete), never read as an
#: empty listing or a setting that is off. Any output member botocore's model marks required
#: (``ListAccessKeys``' ``AccessKeyMetadata``) is held to the same.
#:
#: Listings that leave out an empty list:
#:
#: - SQS ListQueues: "QueueUrls" is omitted when the account has no queues (API reference).
#: - API Gateway GetRestApis: "items" is omitted when there is no REST API.
#: - Budgets DescribeBudgets / DescribeNotificationsForBudget: the lists are optional in the
#:   model and left out when empty.
#: - CloudWatch ListDashboards: "DashboardEntries" is optional and omitted when empty.
#: - DynamoDB ListExports: "ExportSummaries" is optional and omitted when there is no export.
#: - CloudWatch DescribeAlarms: "LogAlarms" is the newest alarm kind, added to the API after
#:   the other two; answers that predate it (moto's) have no such member, while
#:   "MetricAlarms" and "CompositeAlarms" are in every answer that asks for their kinds.
#:
#: Detail calls that answer "not set" by leaving a member out:
#:
#: - S3 GetBucketLocation: "Buckets in Region us-east-1 have a LocationConstraint of null"
#:   (API reference): read as us-east-1 whether null or absent.
#: - S3 GetBucketVersioning: "If the versioning state has never been set on a bucket, Amazon
#:   S3 doesn't return a versioning state value" (API reference): no Status, no MFADelete.
#: - Lambda GetFunctionConcurrency: a function with no reserved concurrency answers ``{}``
#:   (no ReservedConcurrentExecutions), stored as a ``Concurrency`` without it.
#: - Lambda GetFunctionConfiguration: "State" and "LastUpdateStatus" are always set (Lambda
#:   Developer Guide, "Lambda function states"); their reasons and reason codes only while a
#:   function is pending or failed, or an update failed.
#:
#: Members always present when the call succeeds (so required): S3 GetBucketEncryption's
#: ServerSideEncryptionConfiguration, GetBucketLifecycleConfiguration's Rules and
#: GetBucketReplication's ReplicationConfiguration (each answers an error code when the setting
#: is off: ``Call.request``'s ``not_configured``); CloudTrail DescribeTrails' trailList (an
#: empty list when there is no trail); API Gateway GetStages' item; ECS DescribeClusters' and
#: DescribeServices' lists and ``failures``; Logs FilterLogEvents' events; SQS
#: GetQueueAttributes' Attributes; each DynamoDB Describe* call's description.
MAY_BE_ABSENT: frozenset[tuple[str, str]] = frozenset(
    {
        ("ListQueues", "QueueUrls"),
        ("GetRestApis", "items"),
        ("DescribeBudgets", "Budgets"),
        ("DescribeNotificationsForBudget", "Notifications"),
        ("ListDashboards", "DashboardEntries"),
        ("ListExports", "ExportSummaries"),
        ("DescribeAlarms", "LogAlarms"),
        ("GetBucketLocation", "LocationConstraint"),
        ("GetBucketVersioning", "Status"),
        ("GetBucketVersioning", "MFADelete"),
        ("GetFunctionConcurrency", "ReservedConcurrentExecutions"),
        ("GetFunctionConfiguration", "StateReason"),
        ("GetFunctionConfiguration", "StateReasonCode"),
        ("GetFunctionConfiguration", "LastUpdateStatusReason"),
        ("GetFunctionConfiguration", "LastUpdateStatusReasonCode"),
    }
)


def _output_shape(client: BaseClient, operation: str) -> Any:
    try:
        return client.meta.service_model.operation_model(operation).output_shape
    except Exception:  # a stand-in client without a model: nothing to check
        return None


def _expected(api: OperationSet, client: BaseClient, operation: str) -> dict[str, list[str]]:
    """The members every successful answer of ``operation`` must carry, each with the members
    it must carry in turn when it is a structure.

    Those botocore's model requires and those the collector reads (``OperationSet.answers``),
    less the ones AWS documents as left out for "none" (``MAY_BE_ABSENT``). A structure's own
    required members are checked because some protocols parse an empty body into an empty
    structure: S3's REST-XML gives ``{"ServerSideEncryptionConfiguration": {}}``, whose
    ``Rules`` the model requires.
    """
    shape = _output_shape(client, operation)
    required = list(getattr(shape, "required_members", None) or [])
    members = getattr(shape, "members", None) or {}
    expected: dict[str, list[str]] = {}
    for name in dict.fromkeys([*required, *api.answers.get(operation, ())]):
        if (operation, name) in MAY_BE_ABSENT:
            continue
        member = members.get(name)
        structure = getattr(member, "type_name", "") == "structure"
        expected[name] = list(getattr(member, "required_members", [])) if structure else []
    return expected


def _check_page(operation: str, page: Any, expected: Mapping[str, Iterable[str]]) -> None:
    if not isinstance(page, Mapping):
        raise UnexpectedShape(f"{operation} answered {type(page).__name__}, not an object")
    missing: list[str] = []
    for member, inner in expected.items():
        if member not in page:
            missing.append(member)
            continue
        value = page[member]
        within = value if isinstance(value, Mapping) else {}
        missing += [f"{member}.{name}" for name in inner if name not in within]
    if missing:
        raise UnexpectedShape(f"{operation} answer lacks {', '.join(missing)}")


def jsonable(value: Any) -> Any:
    """Turn a botocore response into plain JSON: UTC ISO timestamps, no ResponseMetadata."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def unique_by(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """The first item of each key, in order: what overlapping prefix listings found once."""
    first: dict[str, T] = {}
    for item in items:
        first.setdefault(key(item), item)
    return list(first.values())


def envelope(
    resource_type: str, rid: str, name: str, account: str, region: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """A resource as the snapshot schema wants it, with ``data`` already JSON-safe."""
    return {
        "type": resource_type,
        "id": rid,
        "name": name,
        "account": account,
        "region": region,
        "data": jsonable(data),
    }


def _number(value: Any) -> float | None:
    """``value`` as a number when it is one (``168``, ``24.5``, ``"168"``), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class Call:
    """The calls of one collector in one (account, region), bound to a client."""

    def __init__(
        self,
        api: OperationSet,
        client: BaseClient,
        journal: Journal,
        account: str,
        region: str,
        resource_type: str,
        options: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        page_size: int | None = None,
        reach: Reach | None = None,
        requests: Mapping[str, TypeRequest] | None = None,
    ) -> None:
        self.api = api
        self.client = client
        self.journal = journal
        self.account = account
        self.region = region
        #: The type errors are attributed to unless a call names another.
        self.resource_type = resource_type
        self.options: Mapping[str, Any] = options or {}
        #: The collection's one "now", so every window in a snapshot ends at the same moment.
        self.now = now or datetime.now(timezone.utc)
        #: Overrides every paginator's page size (tests use it to force many pages).
        self.page_size = page_size
        self.reach = reach or Reach()
        #: What the rules want of each type this collector produces (keys, selection).
        self.requests: Mapping[str, TypeRequest] = requests or {}
        self.last_operation = api.operations[0] if api.operations else "?"

    def wants(
        self, operation: str, resource_type: str | None = None, *, beyond_listing: bool = False
    ) -> bool:
        """Whether some loaded rule reads a key ``operation`` fills (for this type).

        A collector asks before every detail call: a call whose keys no rule reads is not
        made. An operation that declares nothing, or a type nobody planned, is always made.
        ``beyond_listing``: keys the listing always carries (a table's name) are no reason to
        make the call (only where the listing's declaration holds for every item).
        """
        rtype = resource_type or self.resource_type
        request = self.requests.get(rtype)
        fills = self.api.filled(operation).get(rtype)
        if request is None or fills is None:
            return True
        if beyond_listing:
            fills = fills - self.api.listing_keys(rtype)
        return request.wants(fills)

    def selects(
        self, name: str, listed: Mapping[str, Any], resource_type: str | None = None
    ) -> bool:
        """Whether some rule may read the details of this listed resource (else: none made)."""
        rtype = resource_type or self.resource_type
        request = self.requests.get(rtype)
        if request is None:
            return True
        return request.selects(name, listed, self.api.listing_keys(rtype))

    def prefixes(self, resource_type: str | None = None) -> list[str] | None:
        """Name prefixes to list by on the server, or ``None`` to list everything."""
        request = self.requests.get(resource_type or self.resource_type)
        return None if request is None else request.server_prefixes()

    def by_prefix(
        self, listing: Callable[[str | None], list[T] | None], resource_type: str | None = None
    ) -> list[T] | None:
        """What ``listing`` finds, once per server-side name prefix the rules allow, or once.

        ``listing(prefix)`` lists the names starting with ``prefix`` (``None``: all) and answers
        ``None`` when it failed (recorded, the type marked incomplete). With prefixes the
        listings run side by side and the coverage records them: complete for those names
        alone. ``None`` only when the single unlimited listing failed. Callers drop the
        duplicates two overlapping prefixes may find.
        """
        rtype = resource_type or self.resource_type
        prefixes = self.prefixes(rtype)
        if prefixes is None:
            return listing(None)
        found = self.each(prefixes, listing)
        self.journal.listed(rtype, self.account, self.region, True, prefixes=prefixes)
        return [item for items in found for item in items or []]

    def each(self, items: Iterable[T], work: Callable[[T], R]) -> list[R]:
        """``work`` per item on the collection's pool (in order), so per-resource calls overlap;
        no more of them at once than the operation set's caps or rates let run."""
        return run_each(self.reach.executor, items, work, self.api.lanes())

    @contextmanager
    def _slot(self, operation: str) -> Iterator[None]:
        """The limits one call passes (all in flight, the operation's cap and rate)."""
        limits = self.reach.limits
        self.journal.collected(self.api.filled(operation))
        if limits is None:
            yield
            return
        cap = self.api.caps.get(operation)
        rate = self.api.rates.get(operation)
        with limits.call(operation, self.account, self.region, cap, rate):
            yield

    def _method(self, operation: str) -> str:
        if operation not in self.api.operations:
            raise UndeclaredOperation(f"{self.api.owner} does not declare {operation}")
        self.last_operation = operation
        return str(xform_name(operation))

    def record(
        self,
        operation: str,
        exc: BaseException,
        *,
        resource: str | None = None,
        resource_type: str | None = None,
        data_keys: Iterable[str] = (),
        attribution: Attribution | None = None,
        iam_action: str | None = None,
    ) -> None:
        """Turn a failure into snapshot errors, one per resource type it leaves undecided.

        Public so that collectors can report answers of the wrong shape the same way, and
        failures AWS reports inside a successful answer (a Lambda environment its KMS key
        cannot decrypt); ``iam_action`` names the permission when it is not the operation's
        own (``kms:Decrypt`` there).
        """
        code, message = error_code(exc)
        for rtype, keys in attribution or [(resource_type or self.resource_type, list(data_keys))]:
            error: dict[str, Any] = {
                "service": self.api.service,
                "operation": operation,
                "region": self.region,
                "account": self.account,
                "resource_type": rtype,
                "iam_action": iam_action or self.api.iam_action(operation),
                "code": code,
                "message": readable(message),
            }
            if resource:
                error["resource"] = resource
            if keys:
                error["data_keys"] = sorted(set(keys))
            self.journal.add_error(error)

    def request(
        self,
        operation: str,
        *,
        resource: str | None = None,
        resource_type: str | None = None,
        data_keys: Iterable[str] = (),
        not_configured: Iterable[str] = (),
        attribution: Attribution | None = None,
        **params: Any,
    ) -> dict[str, Any] | None:
        """One call; ``None`` when it failed (and the error is recorded).

        An error code in ``not_configured`` is AWS's way of saying "this setting is off"
        (S3 lifecycle, replication, encryption): it returns ``{}`` so the caller stores null.
        A successful answer without a member the collector reads (``OperationSet.answers``,
        less ``MAY_BE_ABSENT``) is malformed: recorded as ``UnexpectedShape`` on
        ``data_keys`` and ``None``, so the caller leaves those keys absent. ``attribution``
        names the keys per type when the answer fills more than one type (see ``record``).
        """
        method = self._method(operation)
        try:
            with self._slot(operation):
                response: dict[str, Any] = getattr(self.client, method)(**params)
            _check_page(operation, response, _expected(self.api, self.client, operation))
        except Exception as exc:
            if isinstance(exc, ClientError) and error_code(exc)[0] in set(not_configured):
                return {}
            self.record(
                operation,
                exc,
                resource=resource,
                resource_type=resource_type,
                data_keys=data_keys,
                attribution=attribution,
            )
            return None
        return response

    def attempt(self, operation: str, **params: Any) -> dict[str, Any]:
        """One call that raises when it fails, for a caller that records the failure itself
        (a query over many resources records it once per resource). Declared, limited and
        counted like every other call."""
        method = self._method(operation)
        with self._slot(operation):
            response: dict[str, Any] = getattr(self.client, method)(**params)
        _check_page(operation, response, _expected(self.api, self.client, operation))
        return response

    def pages(
        self,
        operation: str,
        *,
        resource: str | None = None,
        resource_type: str | None = None,
        data_keys: Iterable[str] = (),
        listing: bool = False,
        attribution: Attribution | None = None,
        page_size: int | None = None,
        **params: Any,
    ) -> list[dict[str, Any]] | None:
        """Every page of a call, through botocore's paginator where the service has one.

        ``listing=True`` means this call enumerates the resource type: its failure marks the
        type incomplete for this (account, region), so "no table found" cannot pass a rule.
        """
        method = self._method(operation)
        pages: list[dict[str, Any]] = []
        required = _expected(self.api, self.client, operation)
        try:
            with self._slot(operation):
                if self.client.can_paginate(method):
                    paginator = self.client.get_paginator(method)
                    size = self.page_size or page_size
                    # botocore rejects PageSize where the operation has no limit parameter.
                    sized = size and getattr(paginator, "_limit_key", None)
                    config = {"PaginationConfig": {"PageSize": size}} if sized else {}
                    for page in paginator.paginate(**params, **config):
                        pages.append(page)
                else:
                    pages.extend(self._token_loop(method, params))
            for page in pages:
                _check_page(operation, page, required)
        except Exception as exc:
            self.record(
                operation,
                exc,
                resource=resource,
                resource_type=resource_type,
                data_keys=data_keys,
                attribution=attribution,
            )
            if listing:
                self.journal.listed(
                    resource_type or self.resource_type, self.account, self.region, False
                )
            return None
        return pages

    def _token_loop(self, method: str, params: dict[str, Any]) -> Iterable[dict[str, Any]]:
        """NextToken loop for the few list calls botocore ships no paginator for."""
        token: str | None = None
        while True:
            page: dict[str, Any] = getattr(self.client, method)(
                **params, **({"NextToken": token} if token else {})
            )
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def items(
        self,
        operation: str,
        key: str,
        *,
        resource: str | None = None,
        resource_type: str | None = None,
        data_keys: Iterable[str] = (),
        listing: bool = False,
        page_size: int | None = None,
        **params: Any,
    ) -> list[Any] | None:
        """The concatenated ``key`` list of every page; ``None`` when the call failed.

        A page without ``key`` is "none" only where AWS omits empty lists (``MAY_BE_ABSENT``);
        elsewhere, or when ``key`` is not a list, the answer is malformed: recorded as
        ``UnexpectedShape`` and, for a listing, the listing incomplete.
        """
        pages = self.pages(
            operation,
            resource=resource,
            resource_type=resource_type,
            data_keys=data_keys,
            listing=listing,
            page_size=page_size,
            **params,
        )
        if pages is None:
            return None
        found: list[Any] = []
        for page in pages:
            value = page.get(key)
            if value is None and (operation, key) in MAY_BE_ABSENT:
                continue
            if not isinstance(value, list):
                problem = "lacks" if value is None else f"has a {type(value).__name__} for"
                self.record(
                    operation,
                    UnexpectedShape(f"{operation} answer {problem} {key}"),
                    resource=resource,
                    resource_type=resource_type,
                    data_keys=data_keys,
                )
                if listing:
                    self.incomplete(resource_type or self.resource_type)
                return None
            found.extend(value)
        return found

    def fill_items(
        self,
        data: dict[str, Any],
        field: str,
        operation: str,
        key: str,
        *,
        resource: str,
        **params: Any,
    ) -> None:
        """A per-resource list stored under ``field``, which is also the key a failure names.

        On failure the field stays absent (never ``[]``) and the recorded error says which
        field it left undecided, so rules reading it fail closed.
        """
        found = self.items(operation, key, resource=resource, data_keys=[field], **params)
        if found is not None:
            data[field] = found

    def resource(
        self, resource_type: str, rid: str, name: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """An envelope in this call's account and region (``global`` for global services)."""
        return envelope(resource_type, rid, name, self.account, self.region, data)

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: str | None = None
    ) -> str:
        """An ARN in this call's partition, for resources AWS names none.

        Region and account default to the call's (a global call's region is empty in an ARN:
        ``arn:aws:iam::123456789012:user/...``); pass ``""`` for ARNs without them
        (``arn:aws:s3:::bucket``).
        """
        where = self.region if region is None else region
        return build_arn(
            self.reach.partition,
            service,
            "" if where == GLOBAL_REGION else where,
            self.account if account is None else account,
            resource,
        )

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions of the whole collection (just this call's when it was made alone)."""
        return self.reach.regions or (self.region,)

    def in_region(self, region: str) -> Call:
        """The same collector's calls, in the same account, bound to ``region``'s client.

        Errors it records name that region, and resources it builds are in it.
        """
        if region == self.region:
            return self
        if self.reach.client_for is None:
            raise RuntimeError(f"{self.api.owner} has no client for {region}")
        return Call(
            self.api,
            self.reach.client_for(region),
            self.journal,
            self.account,
            region,
            self.resource_type,
            self.options,
            self.now,
            self.page_size,
            self.reach,
            self.requests,
        )

    def wait(self, seconds: float) -> None:
        """Pause while AWS finishes something (through the injectable ``Reach.sleep``)."""
        self.reach.sleep(seconds)

    def incomplete(self, resource_type: str) -> None:
        """Some resources of this type may be missing from this (account, region)."""
        self.journal.listed(resource_type, self.account, self.region, False)

    def option(self, name: str, default: Any) -> Any:
        """The widest value the rules asked for of a scalar option (a window, a day count).

        The plan holds, per option, the union of every rule's values in no meaningful order.
        Scalars take the widest: the numeric maximum when every value is a number (or a
        numeric string), so a 168-hour window wins over a 24-hour one; otherwise the greatest
        in text order. List-valued options (``event_names``, ``path``) are unions: read them
        with ``option_list``.
        """
        values = list(self.options.get(name) or [])
        if not values:
            return default
        numbers = [_number(v) for v in values]
        if all(n is not None for n in numbers):
            return values[max(range(len(values)), key=lambda i: numbers[i] or 0.0)]
        return max(values, key=str)

    def option_list(self, name: str) -> list[Any]:
        """Every value of a list-valued option (e.g. all event names any rule asked for)."""
        return list(self.options.get(name) or [])
