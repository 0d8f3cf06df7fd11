"""What to collect, derived from the loaded rules.

The collection stage reads only this plan, never the rules themselves, so that collectors
stay ignorant of the policy language and a run with one rule makes a handful of calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: A predicate over a resource envelope ``{type, id, name, region, account, data}``.
#: Collectors call it before per-resource calls that cost one request per resource
#: (metrics, log event counts) so that only resources some rule selects pay for them.
ResourcePredicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class MetricQuery:
    """One CloudWatch metric a rule needs, per selected resource.

    ``key`` is where the value is stored: ``resource["metrics"][key]``; ``None`` there means
    the metric had no datapoints in the window. Dimension values may hold the placeholders
    ``{name}``, ``{id}``, ``{region}`` and ``{account}``, filled from each resource.
    The collector asks for ``period_seconds`` periods over the last ``window_seconds`` and
    folds the datapoints with ``reduce`` (sum, max, min, avg).
    """

    key: str
    namespace: str
    metric: str
    stat: str
    dimensions: tuple[tuple[str, str], ...]
    window_seconds: int
    period_seconds: int
    reduce: str

    def resolved_dimensions(self, resource: Mapping[str, Any]) -> list[dict[str, str]]:
        """The dimensions with the resource's own fields filled in, as GetMetricData wants them."""
        fields = {k: str(resource.get(k, "")) for k in ("name", "id", "region", "account")}
        return [{"Name": n, "Value": v.format_map(fields)} for n, v in self.dimensions]


@dataclass(frozen=True)
class LogQuery:
    """Count of log events matching a CloudWatch Logs filter pattern in a window.

    Stored as ``resource["logs"][key]`` on each selected log group.
    """

    key: str
    pattern: str
    window_seconds: int


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


@dataclass
class CollectionPlan:
    """The resource types to list, and per type the metrics, log counts and options."""

    types: dict[str, TypeRequest] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def request(self, resource_type: str) -> TypeRequest:
        """The request for a type, created empty if no rule asked for it yet."""
        if resource_type not in self.types:
            self.types[resource_type] = TypeRequest(resource_type)
        return self.types[resource_type]
