"""Counting matching log events with CloudWatch Logs Insights: one query per 50 log groups.

Why not ``FilterLogEvents``: it answers for one log group at a time, and AWS holds it to 5
requests a second per account and Region, a quota that cannot be raised (AWS re:Post, "How do I
determine throttling in my CloudWatch logs?"): 250 log groups are 50 s of calls at best.
``StartQuery`` takes up to 50 log groups (botocore's model of ``logGroupNames``), and
``stats count(*) by @log`` answers one count per group, so the same counts cost
ceil(groups / 50) queries, each a ``StartQuery`` and a few ``GetQueryResults`` polls.

The rules' filter patterns are translated, not passed through: Insights has its own language.
``translate`` accepts the unstructured subset of the filter-pattern syntax (AWS, "Filter pattern
syntax for metric filters, subscription filters, filter log events, and Live Tail"): terms of
letters, digits and ``_`` and ``"quoted phrases"``, all required (``ERROR Exception``) or all
optional (``?ERROR ?WARN``), and the empty pattern (every event). Anything else (exclusions
``-term``, JSON ``{...}``, space-delimited ``[...]``, regular expressions ``%...%``, a mix of
``?`` and plain terms, quotes or characters it cannot carry over) is not translated: those
counts are made with ``FilterLogEvents`` as before (``logs.count_events``), paced, with the
pattern's own semantics.

Where the semantics differ, the translation counts more, never fewer:

- a term becomes ``@message like /TERM/``: the text anywhere in the message. A filter pattern's
  term matches the terms of the message, so ``ERROR`` might not match ``ERRORS`` or
  ``NOERROR`` there; here it does. Every event the term matches contains its text, so Insights
  may count events ``FilterLogEvents`` would not, never the reverse; a count judged ``> 0``
  errs towards a warning, not a pass. Both are case-sensitive.
- ``StartQuery`` takes whole seconds: the window's start is rounded down and its end up, so
  it is never shorter than the rule's.

Failing closed: a query that cannot start, ends ``Failed``, ``Cancelled``, ``Timeout`` or
``Unknown``, is still running after ``Reach.max_wait_seconds``, or answers a row that names no
queried group or holds no whole count is an error on ``logs.<key>`` of every group of the
query, never a count. Results are read only once ``Complete`` (``Running`` ones are partial);
then a group without a row had no matching event: 0. Insights bills the data it scans (AWS
CloudWatch pricing, per GB scanned); the query reads the rule's window of the selected groups
and nothing else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from runbook_guard.collectors.calls import Call, UnexpectedShape
from runbook_guard.collectors.journal import Problem
from runbook_guard.collectors.registry import OperationSet, declare
from runbook_guard.engine.plan import LogQuery

#: Log groups one StartQuery may name (botocore's model of ``logGroupNames``).
MAX_GROUPS = 50
#: Queries of one (account, region) running at once. AWS allows 100 concurrent Logs Insights
#: queries per account and Region, dashboards' and scheduled queries' included (StartQuery,
#: API reference); a tenth leaves the rest to them.
QUERIES_AT_ONCE = 10
#: The result column holding a group's count.
COUNT = "events"
FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 4.0
#: Starts and polls a second per account and Region: FilterLogEvents' documented rate, kept
#: for these too as a conservative bound (adaptive retries absorb any throttling beyond it).
REQUESTS_PER_SECOND = 5.0
API = declare(
    OperationSet(
        "logs.insights",
        "logs",
        ("StartQuery", "GetQueryResults"),
        answers={"StartQuery": ("queryId",), "GetQueryResults": ("status",)},
        rates={"StartQuery": REQUESTS_PER_SECOND, "GetQueryResults": REQUESTS_PER_SECOND},
    )
)

_BARE = re.compile(r"[A-Za-z0-9_]+\Z")
_PHRASE = re.compile(r"[A-Za-z0-9_ .,:;=@#/+-]+\Z")
_TOKEN = re.compile(r'(\?)?(?:"([^"\\]*)"|([^\s"]+))(?=\s|\Z)')


def translate(pattern: str) -> str | None:
    """The Insights condition counting what ``pattern`` matches ("" for every event), or
    ``None`` when the pattern is outside the subset this module carries over (see above)."""
    text = pattern.strip()
    if not text:
        return ""
    if text[0] in "{[%":
        return None
    terms: list[tuple[bool, str]] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        found = _TOKEN.match(text, position)
        if found is None:
            return None
        optional, phrase, bare = bool(found[1]), found[2], found[3]
        if phrase is not None and not _PHRASE.match(phrase):
            return None
        if bare is not None and not _BARE.match(bare):
            return None  # an exclusion (-term) or a character the pattern would need quoted
        terms.append((optional, phrase if phrase is not None else bare))
        position = found.end()
    if len({optional for optional, _ in terms}) > 1:
        return None  # "?A B" mixes alternatives with a required term
    joint = " or " if terms[0][0] else " and "
    return joint.join(f"@message like /{_literal(term)}/" for _, term in terms)


def _literal(text: str) -> str:
    """``text`` as an Insights regular expression matching it literally."""
    return "".join(c if c.isalnum() or c in " _" else f"\\{c}" for c in text)


def query_string(pattern: str) -> str | None:
    """The whole query counting ``pattern``'s events per log group, or ``None`` (see above)."""
    condition = translate(pattern)
    if condition is None:
        return None
    stats = f"stats count(*) as {COUNT} by @log"
    return f"filter {condition} | {stats}" if condition else stats


def chunks(groups: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The groups by name, MAX_GROUPS to a query (so the queries do not depend on order)."""
    ordered = sorted(groups, key=lambda group: str(group["name"]))
    return [ordered[i : i + MAX_GROUPS] for i in range(0, len(ordered), MAX_GROUPS)]


def count_events(call: Call, query: LogQuery, groups: Sequence[dict[str, Any]]) -> None:
    """Store ``logs[query.key]`` on each group: one Insights query for all of them (<= 50).

    Every failure is recorded once per group, naming the group and ``logs.<key>``, and leaves
    the count unset, so exactly the rules reading it are ``error``.
    """
    text = query_string(query.pattern)
    if text is None:
        raise ValueError(f"pattern {query.pattern!r} has no Insights translation")
    limits = call.reach.limits
    held = (
        limits.held("LogsInsightsQuery", call.account, call.region, QUERIES_AT_ONCE)
        if limits is not None
        else nullcontext()
    )
    stage = ["StartQuery"]
    try:
        with held:
            counts = _run(call, query, text, [str(g["name"]) for g in groups], stage)
    except Exception as exc:
        for group in groups:
            call.record(
                stage[0],
                exc,
                resource=str(group["id"]),
                resource_type=str(group["type"]),
                data_keys=[f"logs.{query.key}"],
            )
        return
    for group in groups:
        group.setdefault("logs", {})[query.key] = counts.get(str(group["name"]), 0)


def _run(
    call: Call, query: LogQuery, text: str, names: list[str], stage: list[str]
) -> dict[str, int]:
    end = call.now
    start = end - timedelta(seconds=query.window_seconds)
    started = call.attempt(
        "StartQuery",
        logGroupNames=names,
        startTime=math.floor(start.timestamp()),
        endTime=math.ceil(end.timestamp()),
        queryString=text,
    )
    query_id = started.get("queryId")
    if not isinstance(query_id, str) or not query_id:
        raise UnexpectedShape("StartQuery answer lacks queryId")
    stage[0] = "GetQueryResults"
    rows = _results(call, query_id)
    return _counts(rows, names)


def _results(call: Call, query_id: str) -> list[Any]:
    """The rows of a complete query (every page), polling while it is scheduled or running."""
    pause, waited = FIRST_PAUSE_SECONDS, 0.0
    while True:
        call.wait(pause)
        waited += pause
        answer = call.attempt("GetQueryResults", queryId=query_id)
        status = answer.get("status")
        if status == "Complete":
            return _pages(call, query_id, answer)
        if status not in ("Scheduled", "Running"):
            raise Problem(
                f"Query{status or 'WithoutStatus'}",
                f"the Logs Insights query ended {status or 'without a status'}; its counts "
                "are unknown",
            )
        if waited >= call.reach.max_wait_seconds:
            raise Problem(
                "QueryStillRunning",
                f"the Logs Insights query was still {status} after {waited:g} s; its counts "
                "are unknown (partial results are not counts)",
            )
        pause = min(pause * 2, LONGEST_PAUSE_SECONDS)


def _pages(call: Call, query_id: str, answer: Mapping[str, Any]) -> list[Any]:
    rows: list[Any] = []
    while True:
        found = answer.get("results")
        if not isinstance(found, list):
            raise UnexpectedShape("GetQueryResults answer lacks results")
        rows.extend(found)
        token = answer.get("nextToken")
        if not token:
            return rows
        answer = call.attempt("GetQueryResults", queryId=query_id, nextToken=token)
        if answer.get("status") != "Complete":
            raise UnexpectedShape("a later page of a complete query is not complete")


def _counts(rows: Iterable[Any], names: list[str]) -> dict[str, int]:
    """Per queried group, its count; a row naming no queried group, or no whole count, is a
    malformed answer (never a count of 0)."""
    wanted = set(names)
    counts: dict[str, int] = {}
    for row in rows:
        cells = row if isinstance(row, list) else []
        fields = {c.get("field"): c.get("value") for c in cells if isinstance(c, Mapping)}
        name = group_name(fields.get("@log"))
        value = fields.get(COUNT)
        if name not in wanted or not isinstance(value, str) or not value.isdigit():
            raise UnexpectedShape(f"GetQueryResults row {fields!r} is not a count of a group")
        counts[name] = counts.get(name, 0) + int(value)
    return counts


def group_name(log: Any) -> str:
    """A group's name from ``@log``, which Insights writes ``ACCOUNT-ID:NAME``."""
    text = str(log or "")
    account, colon, name = text.partition(":")
    return name if colon and account.isdigit() else text
