"""JUnit XML for CI test tabs (Jenkins, GitLab, Azure, GitHub test reporters).

One ``<testsuite>`` per rule, one ``<testcase>`` per (rule, resource): CI tabs group by
suite, and a rule is what a team owns and fixes, whereas a runbook section would mix
severities and cadences in one group (the section is a suite property instead). The
output targets the lenient Surefire schema (``junit-10.xsd``) that CI systems accept; the
strict Ant schema cannot hold a passing test's ``<system-out>``, which is where warn and
note results say what was seen.

Written by string building rather than ElementTree: it is several times faster on 100,000
results and the escaping (``escape.xml_text``/``xml_attr``) has to be ours anyway, because
ElementTree neither rejects nor repairs characters XML forbids.

Collection errors, merged (``collection``), are one more suite, ``collection errors``, with no
test case (they are not checks: the checks they made undecidable are the ``<error>`` cases)
and one line per merged error in its ``<system-err>``, with how many times and for which
resources; a ``count`` property says how many calls failed.

Results of several accounts: suites stay one per rule, so a CI tab of 100 accounts shows the
rules (tens of suites), not 100 x rules; each test case's name starts with its account
(``111111111111: arn:...``), so a tab sorted or filtered by name reads account by account
and two accounts' resources of one name are two tests; the failure text has an ``account:``
line (``account: 111111111111 (prod)``, with the account's name when the results carry one)
and each suite an ``accounts`` property. ``junit-10.xsd`` has no properties on a test case,
and nested suites (per account, then per rule) are not shown alike by CI readers, so the
account goes where every reader shows it: the name. The account's name stays out of it: CI
keeps a test's history by its name, and renaming an account must not make its tests new
ones. The ``classname`` stays the rule id. A single-account run is written exactly as before.

A result located on a template line (the template gate) gets the testcase attributes ``file``
and ``line`` that GitLab, Jenkins' xunit and the GitHub JUnit annotators read (pytest's xunit1
family writes them). ``junit-10.xsd`` does not declare them: that is the one deviation from
it, limited to located results, and the tests check that nothing else deviates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import groupby
from operator import attrgetter

from runbook_guard.engine.per_account import ACCOUNT_TYPE
from runbook_guard.reporters.accounts import account_names, several_accounts, with_name
from runbook_guard.reporters.appendix import resources_text
from runbook_guard.reporters.collection import MergedError
from runbook_guard.reporters.escape import xml_attr, xml_text
from runbook_guard.reporters.model import RULE_LEVEL, Report, Row, format_value, merge_repeats

SKIPPED = frozenset({"manual", "waived", "not_applicable"})


#: The account names of a report spanning several accounts (``accounts.account_names``), or
#: ``None`` for a single account's, whose test cases name no account.
Named = Mapping[str, str] | None


def _account_line(account: str, names: Mapping[str, str]) -> str:
    if not account:
        return "account: (none: judged over every account)"
    return f"account: {with_name(account, names.get(account, ''))}"


def _detail(row: Row, names: Named) -> str:
    """The failure text: what was seen, what was expected, what to do and why."""
    lines = [
        f"status: {row.status}"
        + (f" (would be {row.original_status})" if row.original_status else ""),
        f"message: {row.message}",
        f"resource: {row.label}",
        *((_account_line(row.account, names),) if names is not None else ()),
        f"observed: {row.observed_text}",
        f"expected: {row.expected}",
    ]
    if row.owner:
        lines.append(f"owner: {row.owner}")
    if row.attestation is not None:
        lines.append(f"attestation: {row.attestation.text}")
    if row.causes:
        lines.append("causes: " + "; ".join(row.causes))
    if row.missing_permissions:
        lines.append("missing permissions: " + ", ".join(row.missing_permissions))
    if row.evidence:
        lines.append("evidence: " + format_value(row.evidence))
    if row.location:
        lines.append(f"location: {row.location.text}")
    if row.drift:
        lines.append(f"drift: {row.drift['message']}")
    lines.append(f"runbook section: {row.rule.section}")
    if row.rule.remediation:
        lines.append(f"remediation:\n{row.rule.remediation}")
    return "\n".join(lines)


def _skip_reason(row: Row) -> str:
    if row.status == "manual" and row.attestation is not None:
        return f"manual attestation required ({row.attestation.text}): {row.message}"
    if row.status == "manual":
        return f"manual attestation required: {row.message}"
    if row.status == "not_applicable":
        return f"not applicable: {row.message}"
    waiver = row.waiver
    if waiver is None:
        return f"waived ({row.waiver_id or 'unknown waiver'}): {row.message}"
    return (
        f"waived by {waiver.id} (owner {waiver.owner}, expires {waiver.expires or 'never'}): "
        f"{waiver.reason}"
    )


Failing = Callable[[Row], bool]
_account = attrgetter("account")


def case_name(row: Row, several: bool) -> str:
    """The resource id (the ARN), or ``(rule-level)``; with several accounts, after its account
    (an account-level result is the account's ``(rule-level)`` case)."""
    if not several or not row.account:
        return row.label
    if row.resource_type == ACCOUNT_TYPE and row.resource_id == row.account:
        return f"{row.account}: {RULE_LEVEL}"
    return f"{row.account}: {row.label}"


def _testcase(row: Row, failing: Failing, names: Named) -> Iterator[str]:
    name, classname = xml_attr(case_name(row, names is not None)), xml_attr(row.rule.id)
    where = (
        f' file="{xml_attr(row.location.file)}" line="{row.location.line}"' if row.location else ""
    )
    yield f'    <testcase classname="{classname}" name="{name}"{where} time="0">\n'
    detail = xml_text(_detail(row, names))
    if row.status == "error":
        message = xml_attr(f"could not be checked: {row.message}")
        yield f'      <error type="error" message="{message}">{detail}</error>\n'
    elif failing(row):
        message = xml_attr(f"{row.status}: {row.message}")
        yield f'      <failure type="{row.status}" message="{message}">{detail}</failure>\n'
    elif row.status in SKIPPED:
        yield f'      <skipped message="{xml_attr(_skip_reason(row))}">{detail}</skipped>\n'
    else:
        yield f"      <system-out>{detail}</system-out>\n"
    yield "    </testcase>\n"


def _suite(rows: list[Row], failing: Failing, selection: str, names: Named) -> Iterator[str]:
    rule = rows[0].rule
    several = names is not None
    if several:  # account by account, as the test names read (stable: by id within one)
        rows = sorted(rows, key=_account)
    failures = sum(1 for row in rows if row.status != "error" and failing(row))
    errors = sum(1 for row in rows if row.status == "error")
    skipped = sum(1 for row in rows if row.status in SKIPPED)
    yield (
        f'  <testsuite name="{xml_attr(rule.id)}" tests="{len(rows)}" failures="{failures}"'
        f' errors="{errors}" skipped="{skipped}" time="0" file="{xml_attr(rule.path)}">\n'
    )
    yield "    <properties>\n"
    for key, value in (
        ("title", rule.title),
        ("severity", rule.severity),
        ("cadence", rule.cadence),
        ("kind", rule.kind),
        ("covers", " ".join(rule.covers)),
        ("runbook_section", rule.section),
        ("source", f"{rule.path}:{rule.line}"),
        *((("selection", selection),) if selection else ()),
        *(
            (("accounts", str(len({row.account for row in rows if row.account}))),)
            if several
            else ()
        ),
    ):
        yield f'      <property name="{key}" value="{xml_attr(value)}"/>\n'
    yield "    </properties>\n"
    for row in rows:
        yield from _testcase(row, failing, names)
    yield "  </testsuite>\n"


def _suites(report: Report) -> Iterable[list[Row]]:
    # rows are already sorted by rule id, so one pass groups them
    for _, group in groupby(report.rows, key=lambda row: row.rule.id):
        yield list(group)


def _error_line(error: MergedError) -> str:
    where = f"{error.account}/{error.region}" if error.account else error.region
    needs = f" (needs {error.iam_action})" if error.iam_action else ""
    resources = f"; resources: {resources_text(error.resources)}" if error.resources else ""
    return (
        f"{error.count} \u00d7 {error.service}.{error.operation} {where}: {error.code}: "
        f"{merge_repeats(error.message)}{needs}{resources}"
    )


def _collection_suite(report: Report) -> Iterator[str]:
    merged = report.merged_errors
    if not merged:
        return
    yield (
        '  <testsuite name="collection errors" tests="0" failures="0" errors="0" skipped="0"'
        ' time="0">\n'
    )
    yield "    <properties>\n"
    yield f'      <property name="count" value="{len(report.collection_errors)}"/>\n'
    yield f'      <property name="merged" value="{len(merged)}"/>\n'
    yield "    </properties>\n"
    text = "\n".join(_error_line(error) for error in merged)
    yield f"    <system-err>{xml_text(text)}</system-err>\n"
    yield "  </testsuite>\n"


def render_junit(report: Report) -> str:
    # A lower gate (--fail-on warn/note) turns more statuses into failures; ``never`` and a
    # severity floor (--fail-severity) only change the exit code: a CI test tab never shows a
    # failed check as passed. A warn or note below the floor is not a failure.
    statuses = report.blocking | {"fail"}

    def failing(row: Row) -> bool:
        if report.fail_severity is None:
            return row.status in statuses
        return row.status == "fail" or report.blocks(row)

    rows = report.rows
    failures = sum(1 for row in rows if row.status != "error" and failing(row))
    errors = report.counts.get("error", 0)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<testsuites name="{xml_attr(report.tool_name)}" tests="{len(rows)}"'
        f' failures="{failures}" errors="{errors}" time="0">\n',
    ]
    # A run of part of the pack says so on every suite, where CI test tabs show properties.
    names = account_names(report) if several_accounts(report) else None
    for group in _suites(report):
        parts.extend(_suite(group, failing, report.selection_text, names))
    parts.extend(_collection_suite(report))
    parts.append("</testsuites>\n")
    return "".join(parts)
