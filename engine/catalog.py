"""``docs/rules/``: a page per rule of the shipped pack and an index, generated from the rules.

An auditor asks of each check what it reads, over which window, against which threshold, and
why that threshold: the pages answer from the rule's own fields (``quote``, ``rationale``, the
compiled ``expected`` and window, its test cases), never from prose kept beside it, so they
cannot drift. Regenerate with ``python -m runbook_guard.engine.catalog --output docs/rules``;
a test fails when the committed pages are stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from runbook_guard.engine.catalog_model import RuleDoc, build_doc
from runbook_guard.engine.catalog_pages import index, page
from runbook_guard.engine.catalog_sources import lookups_for
from runbook_guard.engine.errors import InputError
from runbook_guard.engine.loader import PolicySet, load_policy_set

COMMAND = "python -m runbook_guard.engine.catalog --output docs/rules"
INDEX = "README.md"


def _paths(node: Any) -> Iterator[str]:
    """Every data path a rule's text names (conditions, values, evidence, related fields), as
    written: what a test matching template paths against the shipped rules looks for."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("path", "from", "referenced_by") and isinstance(value, str):
                yield value
            elif key == "evidence" and isinstance(value, dict):
                for item in value.values():
                    yield from ([item] if isinstance(item, str) else _paths(item))
            elif key not in ("tests", "remediation"):
                yield from _paths(value)
    elif isinstance(node, list):
        for item in node:
            yield from _paths(item)


def rule_docs(policy_set: PolicySet) -> list[RuleDoc]:
    """Every rule of the set documented, by id, with the pack's default parameters.

    Which moments a rule judges is part of its page, so the template reader's declarations
    are required: pages written without them would differ by installation.
    """
    lookups = lookups_for(policy_set.folders)
    if lookups.keys is None:
        extra = "pip install 'runbook-guard[template]'"
        raise InputError([f"the catalog needs the template extra: {extra}"])
    specs = {entry.spec["id"]: entry.spec for entry in policy_set.entries}
    return [build_doc(rule, specs[rule.id], lookups) for rule in policy_set.compile()]


def render(policy_set: PolicySet) -> dict[str, str]:
    """File name -> Markdown: ``<rule id>.md`` for each rule, and the index ``README.md``."""
    docs = rule_docs(policy_set)
    pages = {f"{doc.id}.md": page(doc) for doc in docs}
    pages[INDEX] = index(docs, COMMAND)
    return pages


def write(pages: Mapping[str, str], folder: Path) -> list[str]:
    """Write the pages, remove the Markdown pages of rules that are gone; the removed names."""
    folder.mkdir(parents=True, exist_ok=True)
    stale = sorted(p.name for p in folder.glob("*.md") if p.name not in pages)
    for name in stale:
        (folder / name).unlink()
    for name, text in sorted(pages.items()):
        (folder / name).write_text(text, encoding="utf-8", newline="\n")
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runbook_guard.engine.catalog", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--output", required=True, type=Path, help="the folder: docs/rules")
    args = parser.parse_args(argv)
    try:
        pages = render(load_policy_set([]))  # the shipped pack, with its default parameters
    except InputError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 2
    removed = write(pages, args.output)
    gone = f", {len(removed)} stale removed" if removed else ""
    print(f"{len(pages)} pages written to {args.output}{gone}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
