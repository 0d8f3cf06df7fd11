"""A rule's documentation as Markdown: one page per rule, the index, and ``rules explain``.

Pages keep fixed headings in a fixed order, like Ruff's rule pages, so a reader finds the same
answer in the same place on every page and a test can hold every page to them. ``rules explain``
prints the same sections (its test cases in place of the example), so the terminal and the
catalog never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import yaml

from runbook_guard.engine.catalog_examples import Example
from runbook_guard.engine.catalog_model import RuleDoc

HEADINGS = (
    "What it checks",
    "Why",
    "Thresholds",
    "Example",
    "Remediation",
    "Runbook reference",
)
SEVERITIES = ("critical", "high", "medium", "low", "info")
_TICKS = re.compile(r"`+")


def code(text: str) -> str:
    """Inline code that survives backticks inside (a JMESPath literal) and table pipes."""
    longest = max((len(run) for run in _TICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def cell(text: str) -> str:
    """Text made to stay inside one table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def block(text: str, language: str) -> list[str]:
    """A fenced block longer than any fence inside the text."""
    longest = max((len(run) for run in _TICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *text.rstrip("\n").splitlines(), fence, ""]


def paragraph(text: str) -> list[str]:
    return [" ".join(text.split()), ""] if text.strip() else []


def quoted(text: str) -> list[str]:
    return [*(f"> {line}" if line else ">" for line in text.splitlines()), ""]


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = [f"| {' | '.join(header)} |", "|" + "---|" * len(header)]
    lines += [f"| {' | '.join(cell(c) for c in row)} |" for row in rows]
    return [*lines, ""]


def judges(doc: RuleDoc) -> str:
    if "template" in doc.phases:
        return "templates (before deploy) and the live account"
    why = f" ({doc.why_not_template})" if doc.why_not_template else ""
    return f"the live account only{why}"


def metadata(doc: RuleDoc) -> list[str]:
    adversarial = sum(1 for case in doc.tests if case.adversarial)
    rows = [
        ("Severity", doc.severity),
        ("Cadence", doc.cadence),
        ("Resource type", code(doc.resource_type) if doc.resource_type else "none (manual)"),
        ("Judges", judges(doc)),
        ("Tags", ", ".join(doc.tags) or "none"),
        ("Covers", ", ".join(doc.covers) or "none"),
        ("Defined in", f"{code(doc.file)} line {doc.line} (pack {doc.pack})"),
        ("Test cases", f"{len(doc.tests)} ({adversarial} adversarial)"),
    ]
    if doc.replaces:
        rows.append(("Replaces", ", ".join(code(r) for r in doc.replaces)))
    return table(("", ""), rows)


def what_it_checks(doc: RuleDoc) -> list[str]:
    if doc.kind == "manual":
        return ["A person attests it; no data is read:", "", *paragraph(doc.expected)]
    out = [f"Applies to each {code(doc.resource_type)} {'; '.join(doc.selection)}.", ""]
    if doc.reads:
        out += ["Reads (the API call that fills each key):", ""]
        rows = [
            (" or ".join(r.of) or "-", code(r.resource_type), code(r.path),
             ", ".join(r.calls) or "no collection call declares it")
            for r in doc.reads
        ]  # fmt: skip
        out += table(("of", "type", "path", "filled by"), rows)
    if doc.related:
        out += ["Related resources:", ""]
        out += [f"- {code(r.alias)}: {r.found}" for r in doc.related] + [""]
    if doc.figures:
        out += ["Figures the collection computes:", ""]
        rows = [(code(f.name), f.query, f.window, ", ".join(f.calls)) for f in doc.figures]
        out += table(("figure", "query", "window", "made by"), rows)
    return out


def why(doc: RuleDoc) -> list[str]:
    out = []
    for item in doc.runbook:
        if item.in_inventory:
            out += quoted(f"**{item.id}**: {item.text}")
    if doc.quote:
        out += ["The runbook's words:", "", *quoted(doc.quote)]
    out += paragraph(doc.description)
    if doc.rationale:
        out += paragraph(f"Why these values: {doc.rationale}")
    return out or ["The rule gives no reason of its own.", ""]


def thresholds(doc: RuleDoc) -> list[str]:
    unit = f" ({doc.unit})" if doc.unit else ""
    out = []
    if doc.levels:
        rows = [(lv.level, lv.status, lv.words, code(lv.threshold) if lv.threshold else "")
                for lv in doc.levels]  # fmt: skip
        out += table(("band", "status", f"when the value{unit} is", "as written"), rows)
    elif doc.informational:
        out += [f"None: the value{unit} is reported, not judged.", ""]
    for check in doc.checks:
        out += [f"- {check.unmet} unless {check.condition}"]
    out += [""] if doc.checks else []
    if doc.windows:
        out += ["Window:", "", *(f"- {w}" for w in doc.windows), ""]
    if doc.edge_cases:
        out += [f"Where there is nothing to judge: {'; '.join(doc.edge_cases)}.", ""]
    return out or ["None: a person attests it.", ""]


def _example(example: Example) -> list[str]:
    verb = {"pass": "passes", "fail": "fails", "warn": "warns"}.get(example.status, example.status)
    source = f"From the test case {code(example.case)}"
    names = {r.get("name") for r in example.resources}
    if not example.resources:
        said = f"{source}: with no resources, the rule {verb}."
    elif not example.subject:
        said = f"{source}, every resource below {verb}:"
    elif example.subject in names:
        said = f"{source}, {code(example.subject)} {verb}:"
    else:
        said = f"{source}, {code(example.subject)} {verb}: it is not among the resources below."
    out = [f"### {verb.capitalize()}", "", said, ""]
    document: dict[str, object] = {}
    if example.parameters:
        document["parameters"] = example.parameters
    if example.now:
        document["now"] = example.now
    document["resources"] = example.resources
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=96)
    return out + block(text, "yaml")


def examples(doc: RuleDoc) -> list[str]:
    if doc.kind == "manual":
        return ["None: a person attests it, from no data.", ""]
    out = [line for example in doc.examples for line in _example(example)]
    statuses = {e.status for e in doc.examples}
    if "pass" not in statuses:
        out += ["No test case of this rule passes a resource.", ""]
    if not statuses & {"fail", "warn"}:
        out += ["No test case of this rule fails or warns on a resource.", ""]
    return out


def remediation(doc: RuleDoc) -> list[str]:
    return block(doc.remediation, "sh") if doc.remediation else ["None given.", ""]


def runbook_reference(doc: RuleDoc) -> list[str]:
    out = [f"Section: {doc.section or 'not given'}", ""]
    for item in doc.runbook:
        if item.in_inventory:
            details = "; ".join(f"{k}: {v}" for k, v in item.details.items())
            extra = f" ({details})" if details else ""
            out.append(f"- **{item.id}** ({item.inventory_section}): {item.text}{extra}")
        else:
            out.append(f"- **{item.id}**: not in the pack's EXPECTATIONS.md")
    if not doc.runbook:
        out.append("- No runbook expectation is named (`covers` is empty).")
    return [*out, ""]


def test_cases(doc: RuleDoc) -> list[str]:
    out = []
    for case in doc.tests:
        expect = case.expect
        pairs = expect.items() if isinstance(expect, dict) else ()
        shown = expect if isinstance(expect, str) else ", ".join(f"{k}: {v}" for k, v in pairs)
        out.append(f"- {case.name} -> {shown}")
    return [*out, ""] if out else ["None: `runbook-guard test` has nothing to run.", ""]


_SECTIONS = {
    "What it checks": what_it_checks,
    "Why": why,
    "Thresholds": thresholds,
    "Example": examples,
    "Remediation": remediation,
    "Runbook reference": runbook_reference,
}


def page(doc: RuleDoc) -> str:
    """The catalog page of one rule: its title, metadata, then every fixed heading."""
    out = [f"# {doc.id}", "", f"**{cell(doc.title)}**", "", *metadata(doc)]
    for heading in HEADINGS:
        out += [f"## {heading}", "", *_SECTIONS[heading](doc)]
    return "\n".join(out).rstrip() + "\n"


def explain(doc: RuleDoc) -> str:
    """``rules explain``: the page's sections with the test cases in place of the example."""
    out = [f"# {doc.id}", "", f"**{cell(doc.title)}**", "", *metadata(doc)]
    for heading in HEADINGS:
        if heading == "Example":
            out += ["## Test cases", "", *test_cases(doc)]
        else:
            out += [f"## {heading}", "", *_SECTIONS[heading](doc)]
    return "\n".join(out).rstrip() + "\n"


def _link(doc: RuleDoc) -> str:
    return f"[{code(doc.id)}]({doc.id}.md)"


def index(docs: Sequence[RuleDoc], command: str) -> str:
    """The catalog's README: every rule by area (pack file), by severity, by runbook section."""
    out = [
        "# Rules",
        "",
        f"Generated from the rules by `{command}`; a test fails when these pages are stale.",
        f"{len(docs)} rules. Every page has the same headings: "
        + ", ".join(HEADINGS)
        + ". Names are shown with the pack's default parameters.",
        "",
        "## By area",
        "",
    ]
    by_file: dict[tuple[str, str], list[RuleDoc]] = {}
    for doc in docs:
        by_file.setdefault((doc.pack, doc.file), []).append(doc)
    for (pack, file), members in sorted(by_file.items()):
        area = file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        out += [f"### {pack} / {area}", "", f"From {code(file)}.", ""]
        rows = [(_link(d), d.title, d.severity, d.cadence, ", ".join(d.phases)) for d in members]
        out += table(("rule", "title", "severity", "cadence", "judges"), rows)
    out += ["## By severity", ""]
    order = {s: i for i, s in enumerate(SEVERITIES)}
    for severity in sorted({d.severity for d in docs}, key=lambda s: (order.get(s, 99), s)):
        members = [d for d in docs if d.severity == severity]
        out += [f"### {severity} ({len(members)})", ""]
        out += [f"- {_link(d)}: {cell(d.title)}" for d in members] + [""]
    out += ["## By runbook section", ""]
    for section in sorted({d.section for d in docs}):
        members = [d for d in docs if d.section == section]
        out += [f"### {section or 'No section given'}", ""]
        out += [f"- {_link(d)} ({', '.join(d.covers) or 'covers nothing named'}): "
                f"{cell(d.title)}" for d in members] + [""]  # fmt: skip
    return "\n".join(out).rstrip() + "\n"
