"""Coverage of a runbook's expectation inventory, computed from the rules' ``covers``.

The inventory is a Markdown file (``EXPECTATIONS.md``) whose table rows start ``| RB-``; each
row's first cell is an expectation ID and its second the expectation. A rule covers the IDs it
names in ``covers``. Coverage is then a join, not a claim: an ID no rule names is uncovered,
an ID a rule names that the inventory lacks is unknown (a typo or a stale inventory).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import PolicySet, display_name

_ROW = re.compile(r"^\|\s*(RB-[A-Z]\d{2})\s*\|\s*(.*?)\s*\|")
#: How a rule checks what it covers, as the README's table says it.
AUTOMATIC, MANUAL, INFORMATIONAL = "automatic", "manual", "informational"
#: An expectation the pack covers, by rules a selection left out of this run: not checked
#: here, and neither "covered" (nothing passed for it) nor a gap in the pack.
NOT_SELECTED = "not selected"
NOT_COVERED = "not covered"


@dataclass(frozen=True)
class Expectation:
    id: str
    text: str
    section: str


@dataclass(frozen=True)
class Covering:
    """One rule covering one expectation."""

    rule: str
    how: str
    file: str


@dataclass
class Coverage:
    expectations: list[Expectation]
    inventory: str = "EXPECTATIONS.md"
    by_id: dict[str, list[Covering]] = field(default_factory=dict)
    #: IDs named by rules but absent from the inventory, with the rules naming them.
    unknown: dict[str, list[str]] = field(default_factory=dict)

    @property
    def uncovered(self) -> list[str]:
        return [e.id for e in self.expectations if not self.by_id.get(e.id)]

    @property
    def complete(self) -> bool:
        return not self.uncovered and not self.unknown


def default_expectations() -> Path:
    """The inventory shipped beside the agenticai pack."""
    found = resources.files("runbook_guard.policies.agenticai").joinpath("EXPECTATIONS.md")
    return Path(str(found))


def parse_expectations(text: str, source: str = "EXPECTATIONS.md") -> list[Expectation]:
    """Every ``| RB-...`` table row, in order, with the ``##`` section it sits under."""
    found: list[Expectation] = []
    seen: set[str] = set()
    problems: list[str] = []
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        match = _ROW.match(line)
        if not match:
            continue
        rb_id, expectation = match.group(1), match.group(2)
        if rb_id in seen:
            problems.append(f"{source}:{number}:1: duplicate expectation id {rb_id}")
            continue
        seen.add(rb_id)
        found.append(Expectation(rb_id, expectation, section))
    if not found:
        problems.append(f"{source}:1:1: no expectation rows (lines starting '| RB-') found")
    if problems:
        raise InputError(problems)
    return found


def inventory_for(policy_set: PolicySet) -> Path | None:
    """The EXPECTATIONS.md beside the loaded policies (a pack ships its runbook's inventory)."""
    for folder in policy_set.folders:
        candidate = folder / "EXPECTATIONS.md"
        if candidate.is_file():
            return candidate
    return None


def coverage_of(policy_set: PolicySet) -> Coverage | None:
    """Coverage of the pack's own inventory, when the pack ships one."""
    path = inventory_for(policy_set)
    if path is None:
        return None
    return compute(load_expectations(path), policy_set, display_name(path))


def load_expectations(path: Path) -> list[Expectation]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([f"{path}:1:1: cannot read the expectations inventory: {error}"]) from None
    return parse_expectations(text, str(path))


def how_checked(spec: Mapping[str, object]) -> str:
    """manual for attestation rules, informational for rules of severity info, else automatic."""
    if spec.get("kind") == "manual":
        return MANUAL
    if spec.get("severity") == "info":
        return INFORMATIONAL
    return AUTOMATIC


def compute(
    expectations: Sequence[Expectation], policy_set: PolicySet, inventory: str = "EXPECTATIONS.md"
) -> Coverage:
    """Join the inventory with the rules' ``covers``."""
    coverage = Coverage(list(expectations), inventory, {e.id: [] for e in expectations})
    # Beside a pack with an inventory, a custom pack's covers name its own ids, not these.
    inventoried = any(entry.inventory for entry in policy_set.entries)
    for entry in policy_set.entries:
        if inventoried and not entry.inventory:
            continue
        rule_id = str(entry.spec["id"])
        covers = entry.spec.get("covers") or []
        for rb_id in covers if isinstance(covers, list) else []:
            covering = Covering(rule_id, how_checked(entry.spec), entry.located.path)
            if rb_id in coverage.by_id:
                coverage.by_id[rb_id].append(covering)
            else:
                coverage.unknown.setdefault(str(rb_id), []).append(rule_id)
    for coverings in coverage.by_id.values():
        coverings.sort(key=lambda c: c.rule)
    coverage.unknown = {k: sorted(v) for k, v in sorted(coverage.unknown.items())}
    return coverage


def how_covered(coverings: Sequence[Covering]) -> str:
    """automatic / manual / informational (joined with ' + '), or 'not covered'."""
    return how_of_kinds(c.how for c in coverings)


def how_of_kinds(kinds: Iterable[str]) -> str:
    """The kinds of the rules covering one expectation, joined in a fixed order."""
    ordered = sorted(set(kinds), key=(AUTOMATIC, INFORMATIONAL, MANUAL).index)
    return " + ".join(ordered) if ordered else NOT_COVERED


def narrow_coverage(
    document: Mapping[str, Any], left_out: set[str], how: Mapping[str, str]
) -> dict[str, Any]:
    """A results document's ``coverage`` with the rules in ``left_out`` not evaluated.

    Each expectation keeps in ``rules`` the rules this run evaluated, lists the others in
    ``not_selected``, and says how it is checked from the evaluated ones alone (``how``: rule
    id -> automatic/manual/informational); one left with none is ``not selected``, recorded
    apart from ``uncovered`` (which stays the pack's own gaps).
    """
    expectations = []
    for item in document["expectations"]:
        kept = [rule for rule in item["rules"] if rule not in left_out]
        dropped = {rule for rule in item["rules"] if rule in left_out}
        dropped |= set(item.get("not_selected", ()))
        entry = {**item, "rules": kept}
        if dropped:
            entry["not_selected"] = sorted(dropped)
            kinds = [how.get(rule) for rule in kept]
            if not kept:
                entry["how"] = NOT_SELECTED
            elif None not in kinds:  # else the rule is unknown here: keep what was recorded
                entry["how"] = how_of_kinds(kind for kind in kinds if kind is not None)
        expectations.append(entry)
    return {
        **document,
        "expectations": expectations,
        "not_selected": [e["id"] for e in expectations if e["how"] == NOT_SELECTED],
    }


def _how(coverings: Sequence[Covering]) -> str:
    how = how_covered(coverings)
    return "**not covered**" if how == NOT_COVERED else how


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(coverage: Coverage) -> str:
    """The README table: every ID, the rules covering it, and how they check it."""
    lines = [
        "| ID | Expectation | Rule(s) | How |",
        "|---|---|---|---|",
    ]
    for expectation in coverage.expectations:
        coverings = coverage.by_id.get(expectation.id, [])
        rules = ", ".join(f"`{c.rule}`" for c in coverings) or "-"
        lines.append(
            f"| {expectation.id} | {_cell(expectation.text)} | {rules} | {_how(coverings)} |"
        )
    total = len(coverage.expectations)
    covered = total - len(coverage.uncovered)
    lines += ["", f"{covered} of {total} expectations covered."]
    for rb_id, namers in coverage.unknown.items():
        lines.append(f"Unknown ID {rb_id} named by {', '.join(namers)}.")
    return "\n".join(lines) + "\n"


README_START = "<!-- coverage:start (generated by `runbook-guard coverage --format markdown`) -->"
README_END = "<!-- coverage:end -->"


def readme_table(readme: str) -> str | None:
    """The generated part of a README, between the markers; None when they are missing."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        return None
    return readme[start + len(README_START) : end].strip("\n") + "\n"


def render_table(coverage: Coverage) -> str:
    """Plain text for a terminal: one line per ID, then the totals and the problems."""
    lines: list[str] = []
    for expectation in coverage.expectations:
        coverings = coverage.by_id.get(expectation.id, [])
        rules = ", ".join(c.rule for c in coverings) or "-"
        lines.append(f"{expectation.id}  {_how(coverings).replace('*', ''):<26} {rules}")
    total = len(coverage.expectations)
    lines.append(f"{total - len(coverage.uncovered)} of {total} expectations covered")
    lines.extend(f"uncovered: {rb_id}" for rb_id in coverage.uncovered)
    for rb_id, namers in coverage.unknown.items():
        lines.append(f"unknown: {rb_id} (named by {', '.join(namers)}; not in the inventory)")
    return "\n".join(lines) + "\n"
