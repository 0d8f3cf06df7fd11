"""A stand-in, inside moto, for the part of CloudWatch Logs Insights the collection uses.

moto 5.2 accepts ``StartQuery`` but reads only ``fields``, ``sort`` and ``limit`` of a query:
it ignores ``filter`` and ``stats``, so the query counting ERROR lines per log group
(``collectors.insights``) would answer one row per event of the window, with neither the group
nor a count, and every count would be an error. ``install()`` teaches the moto of this process
(in-process ``mock_aws``, or the demo's ``ThreadedMotoServer``) exactly the queries that module
writes, with the semantics AWS documents for them:

    filter @message like /RE/ [and|or @message like /RE/ ...] | stats count(*) as NAME by @log
    stats count(*) as NAME by @log

``like /RE/`` finds the regular expression anywhere in the message, case-sensitive; one row per
log group with at least one matching event of the window (``startTime`` to ``endTime``, epoch
seconds, both included), ``@log`` written ``ACCOUNT-ID:NAME``, the count as text. Any other
query is left to moto's own code, unchanged. The queries complete at once, as moto's do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_TERM = re.compile(r"@message like /((?:\\.|[^/\\])*)/")
_QUERY = re.compile(
    r"(?:filter (?P<condition>.+) \| )?stats count\(\*\) as (?P<name>\w+) by @log", re.DOTALL
)
_JOINT = re.compile(r" (and|or) ")
_MARK = "_runbook_guard_insights"
#: What moto's LogQuery calls to run a query (imported by name into moto.logs.models).
_HOOK = "execute_query"


def install() -> None:
    """Make moto's Logs Insights answer the counting queries (idempotent)."""
    from moto.logs import models

    original: Callable[..., list[dict[str, Any]]] = getattr(models, _HOOK)
    if getattr(original, _MARK, False):
        return

    def execute(
        log_groups: list[Any], query: str, start_time: int, end_time: int
    ) -> list[dict[str, Any]]:
        parsed = parse(query)
        if parsed is None:
            return original(log_groups, query, start_time, end_time)
        name, test = parsed
        rows = []
        for group in log_groups:
            count = sum(
                1
                for stream in group.streams.values()
                for event in stream.events
                if start_time * 1000 <= event.timestamp <= end_time * 1000
                and test(str(event.message))
            )
            if count:
                rows.append({"@log": f"{group.account_id}:{group.name}", name: str(count)})
        return rows

    setattr(execute, _MARK, True)
    setattr(models, _HOOK, execute)


def parse(query: str) -> tuple[str, Callable[[str], bool]] | None:
    """(count column, message test) of a counting query, or ``None`` for any other query."""
    found = _QUERY.fullmatch(query.strip())
    if found is None:
        return None
    condition = found["condition"]
    if condition is None:
        return found["name"], lambda message: True
    terms: list[re.Pattern[str]] = []
    joints: set[str] = set()
    position = 0
    while True:
        term = _TERM.match(condition, position)
        if term is None:
            return None
        terms.append(re.compile(term[1]))
        position = term.end()
        if position == len(condition):
            break
        joint = _JOINT.match(condition, position)
        if joint is None:
            return None
        joints.add(joint[1])
        position = joint.end()
    if len(joints) > 1:
        return None  # mixed and/or: precedence this stand-in does not model
    if joints == {"or"}:
        return found["name"], lambda message: any(t.search(message) for t in terms)
    return found["name"], lambda message: all(t.search(message) for t in terms)
