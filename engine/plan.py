"""What to collect, derived from the loaded rules.

The collection stage reads only this plan, never the rules themselves, so that collectors
stay ignorant of the policy language and a run with one rule makes a handful of calls.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jmespath

#: A predicate over a resource envelope ``{type, id, name, region, account, data}``.
#: Collectors call it before per-resource calls that cost one request per resource
#: (metrics, log event counts) so that only resources some rule selects pay for them.
ResourcePredicate = Callable[[Mapping[str, Any]], bool]


#: A dimension value ``{each:PATH}`` stands for every value the JMESPath PATH finds in the
#: resource's data (a table's index names: ``{each:GlobalSecondaryIndexes[].IndexName}``).
_EACH = re.compile(r"^\{each:(?P<path>.+)\}$")


@dataclass(frozen=True)
class MetricPart:
    """One metric name with its dimensions; a dimension may list several values.

    Every combination of the listed values is one CloudWatch series, and the series of a part
    are summed period by period: ``ThrottledRequests`` of a table is published per
    ``Operation``, so "the table's throttled requests, all of them" is the sum over operations.
    """

    metric: str
    dimensions: tuple[tuple[str, tuple[str, ...]], ...]

    def series(self, resource: Mapping[str, Any]) -> list[list[dict[str, str]]]:
        """Each series as the ``Dimensions`` GetMetricData wants, filled from the resource."""
        fields = {k: str(resource.get(k, "")) for k in ("name", "id", "region", "account")}
        choices: list[list[tuple[str, str]]] = []
        for name, values in self.dimensions:
            filled: list[str] = []
            for value in values:
                each = _EACH.match(value)
                if each is None:
                    filled.append(value.format_map(fields))
                    continue
                found = jmespath.search(each["path"], resource.get("data") or {})
                items = found if isinstance(found, list) else [] if found is None else [found]
                filled.extend(str(item) for item in items if item is not None)
            choices.append([(name, v) for v in dict.fromkeys(filled)])
        return [
            [{"Name": n, "Value": v} for n, v in combination]
            for combination in itertools.product(*choices)
        ]


@dataclass(frozen=True)
class MetricQuery:
    """One CloudWatch figure a rule needs, per selected resource.

    ``key`` is where the value is stored: ``resource["metrics"][key]``; ``None`` there means
    no period of the window had datapoints (or, for a ratio, no period reached
    ``min_denominator``). Dimension values may hold the placeholders ``{name}``, ``{id}``,
    ``{region}`` and ``{account}``, filled from each resource, or ``{each:PATH}``.

    The collector asks for ``period_seconds`` periods over the last ``window_seconds``. Per
    period, the series of every part of ``numerator`` are summed (a period no series has is
    absent, not 0). With a ``denominator``, the figure of a period is numerator / denominator,
    kept only where the denominator reaches ``min_denominator`` (and is above 0), a numerator
    absent in such a period counting as 0: so one failed call out of one in a quiet hour is not
    an outage, and an outage hour is not diluted by a quiet day. The periods' figures are then
    folded with ``reduce`` (sum, max, min, avg). Ratios are computed here, not with
    CloudWatch metric math, which moto does not evaluate and auditors cannot re-run by hand.
    """

    key: str
    namespace: str
    metric: str
    stat: str
    dimensions: tuple[tuple[str, str], ...]
    window_seconds: int
    period_seconds: int
    reduce: str
    #: Every part summed per period; empty means the single part (metric, dimensions).
    parts: tuple[MetricPart, ...] = ()
    #: Per-period divisor; empty means no ratio.
    denominator: tuple[MetricPart, ...] = ()
    min_denominator: float = 0.0

    @property
    def numerator(self) -> tuple[MetricPart, ...]:
        """The parts summed per period (the single metric when no parts were given)."""
        if self.parts:
            return self.parts
        return (MetricPart(self.metric, tuple((n, (v,)) for n, v in self.dimensions)),)

    def resolved_dimensions(self, resource: Mapping[str, Any]) -> list[dict[str, str]]:
        """The dimensions of a single-series query with the resource's own fields filled in."""
        fields = {k: str(resource.get(k, "")) for k in ("name", "id", "region", "account")}
        return [{"Name": n, "Value": v.format_map(fields)} for n, v in self.dimensions]

    def describe_window(self) -> str:
        """The window in words, for the expected text reports show."""
        window = _duration(self.window_seconds)
        if self.period_seconds >= self.window_seconds:
            return f"over the last {window}"
        period = _duration(self.period_seconds, adjective=True)
        how = {"max": "worst", "min": "lowest", "sum": "sum of each", "avg": "average"}
        return f"{how.get(self.reduce, self.reduce)} {period} period of the last {window}"


def _duration(seconds: int, adjective: bool = False) -> str:
    """``7 days`` / ``day``, or as an adjective ``5-minute`` / ``1-hour``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            if adjective:
                return f"{count}-{unit}"
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds}-second" if adjective else f"{seconds} seconds"


@dataclass(frozen=True)
class LogQuery:
    """Count of log events matching a CloudWatch Logs filter pattern in a window.

    Stored as ``resource["logs"][key]`` on each selected log group.
    """

    key: str
    pattern: str
    window_seconds: int


class NotListed(LookupError):
    """A condition read a key the listing does not fill: it cannot be decided on the listing."""


class ListingOnly(dict[str, Any]):
    """A listed resource's data that refuses to be read beyond the listing's keys.

    A condition applied to a listing must not decide on the absence of a key only a detail call
    fills (``if_absent`` would turn "not asked yet" into a value). Reading such a key, or the
    whole resource, raises ``NotListed``, and the resource is kept; a listing key the item
    lacks reads as absent, as AWS left it out (the detail call would not have it either).
    """

    def __init__(self, listed: Mapping[str, Any], keys: frozenset[str]) -> None:
        super().__init__(listed)
        self.listing_keys = keys

    def _check(self, key: object) -> None:
        if key not in self.listing_keys:
            raise NotListed(key)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self._check(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._check(key)
        return super().get(key, default)

    def __iter__(self) -> Iterator[str]:
        raise NotListed("@")

    def __len__(self) -> int:
        raise NotListed("@")

    def keys(self) -> Any:
        raise NotListed("@")

    def values(self) -> Any:
        raise NotListed("@")

    def items(self) -> Any:
        raise NotListed("@")


@dataclass(frozen=True)
class Selector:
    """One rule's selection as the collector can apply it to a listing, conservatively.

    A name test (``None``: any name) and a ``where`` with the keys it reads; the ``where`` drops
    a resource only when the listing filled every key it reads and it decides False, so a
    resource some rule would select after its details are read is never dropped before.
    ``reads``: the top-level keys the rule reads of the type (``None``: any, or something a
    detail may be needed for, such as a metric's region); a resource whose listing already
    holds all of them needs no detail call for this rule (a queue a lookup finds by its URL).
    """

    name: Callable[[str], bool] | None = None
    where: Callable[[Mapping[str, Any]], Any] | None = None
    where_reads: frozenset[str] = frozenset()
    reads: frozenset[str] | None = None

    def accepts(self, name: str, listed: Mapping[str, Any], listing_keys: frozenset[str]) -> bool:
        if self.name is not None and not self.name(name):
            return False
        if self.where is None or not self.where_reads <= listing_keys:
            return True
        try:
            return self.where(ListingOnly(listed, listing_keys)) is not False
        except Exception:  # it read beyond the listing, or cannot decide there: keep
            return True

    def needs_details(self, listed: Mapping[str, Any]) -> bool:
        """Whether this rule reads something the listed data does not hold yet."""
        return self.reads is None or not self.reads <= listed.keys()


@dataclass
class TypeRequest:
    """Everything the rules want of one resource type."""

    resource_type: str
    metrics: list[tuple[MetricQuery, ResourcePredicate]] = field(default_factory=list)
    log_queries: list[tuple[LogQuery, ResourcePredicate]] = field(default_factory=list)
    #: Type-specific collection options merged from every rule's ``collect:`` block, e.g.
    #: ``{"event_names": ["DeleteTable"], "window_hours": [24, 168]}``: each option is the union
    #: of the values the rules asked for, and its order means nothing. Collectors read a list
    #: option (event names, parameter paths) as the whole union and a scalar option as its
    #: widest value, the numeric maximum for numbers (``Call.option``): 168 hours, never "24".
    options: dict[str, list[Any]] = field(default_factory=dict)
    #: The top-level ``data`` keys some loaded rule reads of this type; ``None`` means every key
    #: (a rule reads the whole resource, ``@``). A detail call runs only when it fills one.
    keys: set[str] | None = field(default_factory=set)
    #: Who may read a listed resource's details: one entry per rule (or related lookup). A
    #: resource no entry accepts gets no detail call.
    selectors: list[Selector] = field(default_factory=list)
    #: Name prefixes a listing API may filter by on the server (``ListQueues`` by
    #: ``QueueNamePrefix``); ``None`` when some rule needs the whole listing.
    prefixes: list[str] | None = field(default_factory=list)

    #: Built by the planner from rules. A request made by hand (a test, the demo's "collect
    #: everything" plan) is not: it wants every key of every resource and lists everything.
    planned: bool = False

    def wants(self, fills: frozenset[str] | set[str]) -> bool:
        """Whether a call filling these keys is read by some rule."""
        if not self.planned or self.keys is None:
            return True
        return bool(self.keys & set(fills))

    def selects(self, name: str, listed: Mapping[str, Any], listing_keys: frozenset[str]) -> bool:
        """Whether some rule may read details of this listed resource that its listing lacks
        (no entry: every one)."""
        return (
            not self.planned
            or not self.selectors
            or any(
                selector.accepts(name, listed, listing_keys) and selector.needs_details(listed)
                for selector in self.selectors
            )
        )

    def server_prefixes(self) -> list[str] | None:
        """Name prefixes to list by on the server; ``None``: list everything."""
        return self.prefixes if self.planned and self.prefixes else None


@dataclass
class CollectionPlan:
    """The resource types to list, and per type the metrics, log counts and options."""

    types: dict[str, TypeRequest] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    #: Rule id -> fingerprint of every rule the plan was built for (recorded in the snapshot:
    #: a rule the collection was not planned for may find details it never asked for absent).
    rules: dict[str, str] = field(default_factory=dict)

    def request(self, resource_type: str) -> TypeRequest:
        """The request for a type, created empty if no rule asked for it yet."""
        if resource_type not in self.types:
            self.types[resource_type] = TypeRequest(resource_type)
        return self.types[resource_type]

    @property
    def field_level(self) -> bool:
        """Whether the plan limits collection to what rules read (built by the planner)."""
        return any(request.planned for request in self.types.values())
