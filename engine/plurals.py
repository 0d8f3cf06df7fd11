"""Counts in words: ``1 rule``, ``2 rules``; shared by the command line and every report."""

from __future__ import annotations


def noun(count: int, singular: str, plural: str | None = None) -> str:
    """The noun's form for ``count``: ``rule`` or ``rules``, never the two at once."""
    return singular if count == 1 else plural or f"{singular}s"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``1 rule``, ``2 rules``, ``0 rules``."""
    return f"{count} {noun(count, singular, plural)}"
