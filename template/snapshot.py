"""Templates read before deploy -> a snapshot document the engine judges like a collection.

The document has a collection's shape (schema version 3) with ``metadata.source.kind``
``template``. What it claims mirrors a collection's claims:

- ``collected_keys``: per mapped type, the keys the mapping tables declare (not the keys that
  happened to appear), so a rule reading anything else is known to be outside the template.
- ``coverage``: every mapped type complete in every (account, region) of the templates, a
  global type once per account at ``global``: the templates are the whole stacks, so a
  resource they do not declare is, before deploy, a resource that does not exist.
- no ``planned_rules``: a template snapshot is not planned for rules; any rule may judge it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any

from runbook_guard.engine.timeutil import iso
from runbook_guard.template.mapping import GLOBAL, declared_keys, global_types, map_templates
from runbook_guard.template.mapping_base import first_unresolved, plain
from runbook_guard.template.model import ReadTemplate

SCHEMA_VERSION = 3


def template_snapshot(
    templates: Sequence[ReadTemplate], now: datetime, tool_version: str
) -> dict[str, Any]:
    ordered = sorted(templates, key=lambda t: (t.display_path, t.stack_name))
    keys = declared_keys()
    accounts = sorted({t.account for t in ordered})
    regions = sorted({t.region for t in ordered})
    moment = iso(now)
    return {
        "schema_version": SCHEMA_VERSION,
        "metadata": {
            "tool_version": tool_version,
            "started_at": moment,
            "finished_at": moment,
            "accounts": accounts,
            "regions": regions,
            "parameters": {},
            "resource_types": sorted(keys),
            "collected_keys": keys,
            "source": {
                "kind": "template",
                "templates": [_described(t) for t in ordered],
                "runtime_keys": runtime_keys(keys),
            },
        },
        "resources": map_templates(ordered),
        "errors": [],
        "coverage": _coverage(sorted(keys), accounts, regions),
    }


RUNTIME_KEYS_FILE = "runtime_keys.json"


def runtime_keys(keys: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Per mapped type, the keys a live collection fills and no template determines (an
    alarm's StateValue), so a rule reading the whole resource applies before deploy unless it
    names one of them (engine/phase.py).

    Derived from the collectors' declarations, which load eleven botocore models (0.3 s):
    the gate reads the result from ``runtime_keys.json`` (``python -m
    runbook_guard.template.snapshot`` writes it; a test keeps it equal to the derivation).
    """
    stored = resources.files("runbook_guard.template").joinpath(RUNTIME_KEYS_FILE)
    if stored.is_file():
        loaded: dict[str, list[str]] = json.loads(stored.read_text(encoding="utf-8"))
        return {rtype: loaded[rtype] for rtype in sorted(keys) if rtype in loaded}
    return derive_runtime_keys(keys)


def derive_runtime_keys(keys: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """``runtime_keys`` computed from the collectors' declarations."""
    from runbook_guard.collectors.registry import declared_keys as live_keys

    found = {}
    for rtype, declared in sorted(keys.items()):
        live = live_keys(rtype)
        if live is not None:
            tops = {key.split(".", 1)[0] for key in declared}
            found[rtype] = sorted(live - tops)
    return found


def _described(template: ReadTemplate) -> dict[str, Any]:
    return {
        "file": template.display_path,
        "stack_name": template.stack_name,
        "digest": template.digest,
        "parameters": {k: _value(v) for k, v in sorted(template.parameters.items())},
        "not_followed": [
            {
                "logical_id": nested.logical_id,
                "type": nested.type,
                "file": nested.position.file,
                "line": nested.position.line,
                "column": nested.position.column,
            }
            for nested in sorted(template.not_followed, key=lambda n: n.logical_id)
        ],
    }


def _value(value: Any) -> Any:
    """A parameter's value as JSON; one the reader left open is null (it has none)."""
    found = plain(value)
    return None if first_unresolved(found) is not None else found


def _coverage(types: list[str], accounts: list[str], regions: list[str]) -> list[dict[str, Any]]:
    wide = global_types()
    return [
        {"type": rtype, "account": account, "region": region, "complete": True}
        for rtype in types
        for account in accounts
        for region in ([GLOBAL] if rtype in wide else regions)
    ]


if __name__ == "__main__":
    print(json.dumps(derive_runtime_keys(declared_keys()), indent=2))
