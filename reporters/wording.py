"""Observed and expected values in words with their units, for people rather than parsers.

A result's ``expected`` is the engine's text of the rule (``retentionInDays exists; warn
unless retentionInDays == 7``, ``normal < 0.1%, warn > 1%, fail > 5%``): exact, and written
for whoever reads the policy. An auditor reads "warning unless retentionInDays is exactly 7"
and "normal below 0.1%, warning above 1%, critical above 5%". This module derives that plain
form from the text alone (the results carry no parsed rule), with the wording the rule
catalog uses (``engine.catalog_model``: operators in words, amounts with units), so a rule
reads the same in ``rules explain`` and in a report. The raw text is never lost: reports keep
it in the appendix of rules.

What cannot be said better stays as written: a regular expression is quoted, a JMESPath
projection is kept. Long JMESPath chains are shortened to their last field
(``ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus`` is
``PointInTimeRecoveryStatus``), which is the name the AWS console shows.

Every function is cached on its text: a rule's expected text repeats on each of its results.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from runbook_guard.engine.catalog_model import OPERATOR_WORDS, amount
from runbook_guard.reporters.model import Row, format_value

#: The engine's level names as a reader says them.
LEVEL_WORDS = {"normal": "normal", "warn": "warning", "fail": "critical"}
_LEVEL = re.compile(
    r"^(?P<level>normal|warn|fail) (?:(?P<op><=|>=|==|<|>) ?)?"
    r"(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+))(?P<unit>%|/\s*\d*\s*[A-Za-z]+|\s*[A-Za-z]+)?$"
)
# Comparison operators between a left side and an operand, in the engine's spelling; ``in``
# only before a list, since labels written for people use the word ("names in metric rows").
_COMPARISON = re.compile(r" (==|!=|>=|<=|>|<|=~|not in(?= \[)|in(?= \[)) (?=\S)")
_LONG_PATH = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){2,}\b")
_WORD_OF = {"!=": "is not", "=~": "matches", "in": "is one of", "not in": "is none of"}
# A test of presence or emptiness, alone or inside parentheses: ``(X exists)``, ``not X empty``.
_UNARY = re.compile(
    r"(?P<start>^|\(|: )(?P<negated>not )?(?P<path>(?:[^():;]|\([^();]*\))+?) "
    r"(?P<op>exists|absent|not empty|empty)(?=$|\))"
)
_UNARY_WORDS = {
    ("exists", False): "is set",
    ("exists", True): "is not set",
    ("absent", False): "is absent",
    ("absent", True): "is set",
    ("empty", False): "is empty",
    ("empty", True): "is not empty",
    ("not empty", False): "is not empty",
    ("not empty", True): "is empty",
}


def _level_words(part: str) -> str | None:
    """``normal < 0.1%, warn > 1%`` -> ``normal below 0.1%, warning above 1%``; None if the
    part is not a list of levels."""
    bands = []
    for piece in part.split(", "):
        match = _LEVEL.match(piece)
        if match is None:
            return None
        op = match["op"] or "=="
        unit = (match["unit"] or "").strip()
        value = amount(float(match["number"]), unit)
        words = value if op == "==" else f"{OPERATOR_WORDS[op]} {value}"
        bands.append(f"{LEVEL_WORDS[match['level']]} {words}")
    return ", ".join(bands)


def _comparison(match: re.Match[str]) -> str:
    op = match.group(1)
    if op in _WORD_OF:
        return f" {_WORD_OF[op]} "
    return " is " if op == "==" else f" is {OPERATOR_WORDS[op]} "


def _exactly(text: str) -> str:
    """``is 7`` -> ``is exactly 7`` for a number (``is ENABLED`` stays)."""
    return re.sub(r" is (?=[-+]?\d+(?:\.\d+)?(?:\b|%))", " is exactly ", text)


def _unary(match: re.Match[str]) -> str:
    words = _UNARY_WORDS[(match["op"], match["negated"] is not None)]
    return f"{match['start']}{match['path']} {words}"


def _condition_words(part: str) -> str:
    text = _LONG_PATH.sub(lambda m: m.group().rsplit(".", 1)[-1], part)
    text = _UNARY.sub(_unary, text)
    return _exactly(_COMPARISON.sub(_comparison, text))


@lru_cache(maxsize=4096)
def expected_words(expected: str) -> str:
    """The expected text in words; the parts the engine joins with ``; `` stay apart."""
    out = []
    for part in expected.split("; "):
        head, sep, rest = part.partition("warn unless ")
        if sep and not head:
            out.append(f"warning unless {_condition_words(rest)}")
            continue
        levels = _level_words(part)
        out.append(levels if levels is not None else _condition_words(part))
    return "; ".join(out)


@lru_cache(maxsize=4096)
def unit_of(expected: str) -> str:
    """The unit the expected text's levels are written in (``%``, ``/5min``, ``days``), or ""."""
    for part in expected.split("; "):
        for piece in part.split(", "):
            match = _LEVEL.match(piece)
            if match is not None and match["unit"]:
                return match["unit"].strip()
    return ""


def with_unit(number: str, unit: str) -> str:
    """A formatted number with a unit as the catalog writes amounts (``amount``): ``40%``,
    ``7 per 5min``, ``14 days``. The number keeps ``format_number``'s form (no exponent)."""
    return number + amount(0.0, unit)[1:] if unit else number


_PLAIN_WORDS = re.compile(r"^[a-z][a-z0-9 _()-]*$")


def _is_label(key: str) -> bool:
    """A label the rule's author wrote for people (``retention``, ``billing mode``), as
    opposed to a field or JMESPath the engine read (``retentionInDays``, ``related.alarms``)."""
    if key.startswith(("related.", "metric.", "log.")):
        return False
    return " " in key or _PLAIN_WORDS.match(key) is not None


def _key_words(key: str) -> str:
    """A label as written; a field path by its last field (``a.b.Status`` is ``Status``)."""
    return key if _is_label(key) else key.rsplit(".", 1)[-1]


def _mapping_words(observed: Mapping[str, Any]) -> str:
    labelled = [(k, v) for k, v in sorted(observed.items()) if _is_label(str(k))]
    chosen = labelled or sorted(observed.items())
    parts = [f"{_key_words(str(key))} {format_value(value)}" for key, value in chosen[:4]]
    more = len(chosen) - 4
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def observed_words(row: Row) -> str:
    """What was seen, in words: a number with the unit of its thresholds (``7 per 5min``,
    ``40%``), the labelled parts of an object (``retention 14 days``), else the value."""
    observed = row.observed
    if observed is None:
        return "no data"
    if isinstance(observed, bool):
        return "yes" if observed else "no"
    if isinstance(observed, int | float):
        return with_unit(row.observed_text, unit_of(row.expected))
    if isinstance(observed, Mapping):
        return _mapping_words(observed) if observed else "nothing"
    return row.observed_text
