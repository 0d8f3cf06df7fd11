""" "Did you mean ...?": the nearest known word for a misspelt one, shared by every check.

A typo in a policy is refused with the word the author most likely meant, so the fix is one
edit. Closeness is difflib's ratio; a few spellings borrowed from other tools (``gte``,
``regex``, ``eq``) are too far from ours for a ratio and are mapped by hand.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: Operator spellings of other policy languages and what ours are called.
SYNONYMS = {
    "eq": "equals", "equal": "equals", "is": "equals", "ne": "not_equals",
    "not_equal": "not_equals", "neq": "not_equals", "lte": "le", "gte": "ge",
    "less_than": "lt", "greater_than": "gt", "less_or_equal": "le", "greater_or_equal": "ge",
    "regex": "matches", "match": "matches", "includes": "contains", "one_of": "in",
    "not_one_of": "not_in", "exist": "exists", "missing": "absent", "all_of": "all",
    "any_of": "any", "every": "all_items", "some": "any_item",
}  # fmt: skip


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The known word closest to ``word``, if one is close enough to be meant."""
    known = sorted(set(choices))
    synonym = SYNONYMS.get(word.lower())
    if synonym in known:
        return synonym
    found = difflib.get_close_matches(word, known, n=1)
    if not found:  # case slips ("QueueURL") are the commonest typo in a field name
        lowered = {choice.lower(): choice for choice in known}
        found = difflib.get_close_matches(word.lower(), sorted(lowered), n=1)
        found = [lowered[f] for f in found]
    return found[0] if found and found[0] != word else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` to append to a message, or nothing."""
    found = nearest(word, choices)
    return f" (did you mean '{found}'?)" if found else ""
