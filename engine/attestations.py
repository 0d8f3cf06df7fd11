"""Attestations: a person's record that a manual rule was checked, and until when it holds.

A manual rule ("restore a backup once a quarter") cannot be collected; without a record it is
``manual`` every week and nobody can tell a drill done last month from one never done. An
attestation (who, when, a link to the evidence, an expiry) turns the rule's ``manual`` result
into ``pass`` while it holds, carrying the attestation so every report shows whose word the
pass rests on; once expired the rule is ``manual`` again, saying so. No new status: a reader
of the results needs no new vocabulary, and a gate cannot be cleared by an old drill.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import schema_problems
from runbook_guard.engine.yamlsafe import Located, load_yaml


@dataclass(frozen=True)
class Attestation:
    rule: str
    by: str
    at: date
    evidence: str
    expires: date
    note: str
    #: ``file:line:column`` of the entry, for problems found once the rules are known.
    where: str

    def record(self, today: date) -> dict[str, Any]:
        """What a result carries: enough for an auditor to follow the evidence."""
        return {
            "by": self.by, "at": self.at.isoformat(), "evidence": self.evidence,
            "expires": self.expires.isoformat(), "expired": today > self.expires,
            **({"note": self.note} if self.note else {}),
        }  # fmt: skip


def load_attestations(path: Path) -> list[Attestation]:
    """Read and validate an attestations file; every problem positioned, all at once."""
    located = load_yaml(path)
    if not isinstance(located.data, dict):
        raise InputError([located.problem((), "an attestations file must be a mapping")])
    problems = schema_problems(located, "attestations")
    entries = located.data.get("attestations")
    if not isinstance(entries, list):
        raise InputError(problems or [located.problem(("attestations",), "must be a list")])
    attestations = []
    for index, entry in enumerate(entries):
        if isinstance(entry, dict):
            found = _attestation(located, index, entry, problems)
            if found is not None:
                attestations.append(found)
    if problems:
        raise InputError(problems)
    return attestations


def _attestation(
    located: Located, index: int, entry: dict[str, Any], problems: list[str]
) -> Attestation | None:
    days: dict[str, date] = {}
    for field in ("at", "expires"):
        try:
            days[field] = date.fromisoformat(str(entry.get(field, "")))
        except ValueError:
            at = ("attestations", index, field)
            problems.append(located.problem(at, f"{entry.get(field)!r} is not a date (YYYY-MM-DD)"))
    if len(days) < 2:
        return None
    if days["expires"] < days["at"]:
        at = ("attestations", index, "expires")
        problems.append(located.problem(at, f"expires {days['expires']} is before at {days['at']}"))
    line, column = located.where(("attestations", index))
    return Attestation(
        rule=str(entry.get("rule", "")), by=str(entry.get("by", "")), at=days["at"],
        evidence=str(entry.get("evidence", "")), expires=days["expires"],
        note=str(entry.get("note") or ""), where=f"{located.path}:{line}:{column}",
    )  # fmt: skip


def check_against_rules(
    attestations: Sequence[Attestation], manual: Collection[str], known: Collection[str],
    now: datetime,
) -> None:  # fmt: skip
    """Refuse attestations that could not mean what they say.

    One for a rule the pack lacks (a typo would otherwise leave the real rule ``manual``
    silently), for a rule that is checked automatically (a person's word must not override
    collected data), or dated after the evaluation day (a check not yet done).
    """
    today = now.astimezone(timezone.utc).date()
    problems = []
    for entry in attestations:
        if entry.rule not in known:
            problems.append(f"{entry.where}: rule {entry.rule!r}: no loaded rule has this id")
        elif entry.rule not in manual:
            problems.append(
                f"{entry.where}: rule {entry.rule!r} is checked from collected data, not by "
                "hand: only a manual rule (kind: manual) can be attested"
            )
        if entry.at > today:
            problems.append(f"{entry.where}: at {entry.at} is after the evaluation day {today}")
    if problems:
        raise InputError(problems)


def apply_attestations(
    results: list[dict[str, Any]], attestations: Sequence[Attestation], now: datetime
) -> None:
    """Turn each attested rule's ``manual`` results into ``pass`` (or say it expired).

    Of several attestations of a rule, the latest check counts (an older, longer one is
    history, not a second opinion).
    """
    today = now.astimezone(timezone.utc).date()
    latest: dict[str, Attestation] = {}
    for entry in sorted(attestations, key=lambda e: (e.at, e.expires)):
        latest[entry.rule] = entry
    for result in results:
        found = latest.get(result["rule"])
        if found is None or result["status"] != "manual":
            continue
        record = result["attestation"] = found.record(today)
        if record["expired"]:
            result["message"] = (
                f"attestation expired on {record['expires']} (checked by {found.by} on "
                f"{record['at']}): check it again; {result['message']}"
            )
        else:
            result["status"] = "pass"
            result["message"] = (
                f"attested by {found.by} on {record['at']}, holds until {record['expires']};"
                f" evidence: {found.evidence}"
            )
