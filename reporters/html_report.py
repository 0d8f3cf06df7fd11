"""A self-contained HTML report: the Markdown report's content, for auditors in a browser.

Same content as the Markdown (both print ``content.context``), one file that opens offline:
no external stylesheet, font, script or image; the style and the small script that sorts
tables (click a column header) are inline.

Escaping: Jinja2's autoescape is on, and ``finalize`` first makes control and bidirectional
characters visible (``escape.visible``), as every other format does. Names, ids and the
bold parts render through their own ``__html__`` (``cells``), tables through ``html_table``;
nothing from the results reaches the page unescaped. As a second line of defence the page's
Content-Security-Policy allows no source at all except this exact style and this exact
script, by their sha256: were a ``<script>`` ever to slip through the escaping, the browser
would refuse to run it (tests/reporters/test_csv_html.py checks both in headless Chromium).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from runbook_guard.reporters.cells import Table, html_table, html_text
from runbook_guard.reporters.content import context
from runbook_guard.reporters.escape import visible
from runbook_guard.reporters.markdown import template_environment
from runbook_guard.reporters.model import Report

STYLE = """
:root { color-scheme: light dark; --line: #d0d7de; --muted: #57606a; --bad: #cf222e;
  --good: #1a7f37; --warn: #9a6700; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; }
main { max-width: 1400px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem;
  margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
.muted { color: var(--muted); }
.verdict { font-size: 1.1rem; padding: .5rem .75rem; border-left: 6px solid var(--good); }
.verdict.blocked { border-color: var(--bad); }
.verdict.not-enforced { border-color: var(--warn); }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top;
  text-align: left; }
td { white-space: pre-wrap; overflow-wrap: break-word; }
th { background: rgba(127, 127, 127, .12); cursor: pointer; user-select: none;
  white-space: nowrap; }
th.n, td.n { text-align: right; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: .92em; }
pre { padding: .75rem; overflow-x: auto; border: 1px solid var(--line); }
ul { padding-left: 1.25rem; }
"""

SCRIPT = """
(function () {
  "use strict";
  function key(cell, numeric) {
    var text = cell ? cell.textContent.trim() : "";
    if (!numeric) { return text.toLowerCase(); }
    var number = parseFloat(text.replace(/[^0-9.+-]/g, ""));
    return isNaN(number) ? -Infinity : number;
  }
  function sortBy(table, th, index) {
    var numeric = th.classList.contains("n");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index], numeric), y = key(b.cells[index], numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, index) {
      th.tabIndex = 0;
      th.title = "Sort by this column";
      th.addEventListener("click", function () { sortBy(table, th, index); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, th, index);
        }
      });
    });
  });
  document.documentElement.setAttribute("data-sortable", "ready");
})();
"""


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


@lru_cache(maxsize=1)
def content_security_policy() -> str:
    """Nothing may load, and only this style and this script may run (by their hashes)."""
    return (
        f"default-src 'none'; style-src 'sha256-{_sha256(STYLE)}'; "
        f"script-src 'sha256-{_sha256(SCRIPT)}'; base-uri 'none'; form-action 'none'"
    )


def _finalize(value: Any) -> Any:
    """Plain text is made visible (controls, bidi overrides) before autoescape escapes it;
    cells and markup render through their own ``__html__``."""
    if type(value) is str:
        return visible(value)
    return value


def _table(table: Table) -> Markup:
    return Markup(html_table(table))


def _text(value: Any) -> Markup:
    """Text with line breaks kept: a remediation or a message spanning lines."""
    return Markup(html_text(str(value)))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = template_environment(autoescape=True, finalize=_finalize)
    env.filters["table"] = _table
    env.filters["text"] = _text
    # Markup: the content of <style> and <script> is raw text, where an entity stays an entity
    # (and the hashes in the policy are of these exact texts).
    env.globals.update(
        style=Markup(STYLE),
        script=Markup(SCRIPT),
        csp=content_security_policy(),
    )
    return env


def verdict_class(report: Report) -> str:
    if not report.gate_enforced:
        return "not-enforced"
    return "blocked" if report.blocked() else "clear"


def render_html(report: Report) -> str:
    values = dict(context(report))
    values["verdict_class"] = verdict_class(report)
    return environment().get_template("report.html.j2").render(values)
