"""The report's words once, rendered twice: neutral cells that Markdown and HTML each escape.

The audit report exists as Markdown (GitHub, plain text) and as HTML (a browser, sortable
tables) with the same content. The content is built once (``audit.py``) from these values:

* ``str`` (and numbers): text from anywhere, the AWS account included; escaped by each format.
* ``Code``: a name or id (rule, resource, digest): a code span, so it reads and copies as is.
* ``Strong``: the few words a reader must see first (the verdict, the score).
* ``Join``: several of the above in a row ("`queue` at `template.yaml:12`").

Markdown renders them through ``md`` (``escape.md_inline``/``md_code``); HTML through their
``__html__``, which Jinja2's autoescape calls, so neither template can print a value
unescaped by forgetting a filter. Both apply ``escape.visible`` first: control and
bidirectional characters read as ``\\uXXXX`` in both.

Rendering is cached per distinct text (rule ids, statuses and thresholds repeat on every row)
and a table row is one call, which keeps 100,000-row reports within the time budget.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from runbook_guard.reporters.escape import md_code, md_inline, visible


class Code(str):
    """A name or id shown as code."""

    __slots__ = ()

    def __html__(self) -> str:
        return f"<code>{html_text(str(self))}</code>"


class Strong(str):
    """Text shown in bold."""

    __slots__ = ()

    def __html__(self) -> str:
        return f"<strong>{html_text(str(self))}</strong>"


@dataclass(frozen=True, slots=True)
class Join:
    """Cells shown one after the other, as one piece of text."""

    parts: tuple[Cell, ...]

    def __html__(self) -> str:
        return "".join(html_cell(part) for part in self.parts)

    def __str__(self) -> str:  # what a CSV cell or the console shows: the text, no markup
        return "".join(str(part) for part in self.parts)


Cell = str | int | float | Code | Strong | Join


def join(*parts: Cell) -> Join:
    return Join(tuple(parts))


class Md(str):
    """Markdown that is safe to print as it is (already escaped, or written by us)."""

    __slots__ = ()


@lru_cache(maxsize=1 << 16)
def _md_text(text: str) -> str:
    return md_inline(text)


@lru_cache(maxsize=1 << 16)
def _md_code(text: str) -> str:
    return md_code(text)


def md(cell: Cell | Md | None) -> str:
    """One cell as Markdown text."""
    kind = type(cell)
    if kind is str:
        return _md_text(cell)
    if kind is Md:
        return cell  # type: ignore[return-value]
    if kind is Code:
        return _md_code(cell)
    if kind is Strong:
        return f"**{_md_text(str(cell))}**"
    if kind is Join:
        return "".join(_md_part(part) for part in cell.parts)  # type: ignore[union-attr]
    if cell is None:
        return "-"
    return _md_text(str(cell))


def _md_part(cell: Cell) -> str:
    """A part of a ``Join``: spaces at its edges are between parts, not at a paragraph's or a
    cell's edge (which ``md_inline`` writes as references so that GFM keeps them)."""
    if type(cell) is not str or not cell.strip(" ") or cell.strip(" ") == cell:
        return md(cell)
    body = cell.strip(" ")
    head = cell[: len(cell) - len(cell.lstrip(" "))]
    tail = cell[len(cell.rstrip(" ")) :]
    return head + _md_text(body) + tail


def md_row(cells: Iterable[Cell | Md]) -> Md:
    """One Markdown table row (text and code inline: a 100,000-row table calls this for
    every row, and a function call per cell is a measurable share of the report)."""
    parts = []
    for cell in cells:
        kind = type(cell)
        if kind is str:
            parts.append(_md_text(cell))
        elif kind is Code:
            parts.append(_md_code(cell))
        else:
            parts.append(md(cell))
    return Md("| " + " | ".join(parts) + " |")


@lru_cache(maxsize=1 << 16)
def html_text(text: str) -> str:
    """Escaped text (quotes too: safe in attributes); line breaks kept as ``<br>``."""
    escaped = html.escape(visible(text), quote=True)
    return escaped.replace("\n", "<br>") if "\n" in escaped else escaped


def html_cell(cell: Cell | Md | None) -> str:
    """One cell as HTML."""
    kind = type(cell)
    if kind is str or kind is Md:
        return html_text(cell)
    if kind is Code or kind is Strong or kind is Join:
        return cell.__html__()  # type: ignore[union-attr]
    if cell is None:
        return "-"
    return html_text(str(cell))


def html_row(cells: Iterable[Cell], numeric: frozenset[int] = frozenset()) -> str:
    """One ``<tr>``; cells at the ``numeric`` positions are right-aligned and sort as numbers."""
    parts = []
    for index, cell in enumerate(cells):
        kind = type(cell)
        text = html_text(cell) if kind is str else html_cell(cell)
        parts.append(f'<td class="n">{text}</td>' if index in numeric else f"<td>{text}</td>")
    return "<tr>" + "".join(parts) + "</tr>"


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the report: its header, its rows of cells, which columns are numbers."""

    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    numeric: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return len(self.rows)


def md_table(table: Table) -> Md:
    """Header, alignment line and rows (numbers right-aligned), without a trailing newline."""
    align = "|" + "".join(
        "---:|" if i in table.numeric else "---|" for i in range(len(table.header))
    )
    lines = [md_row(table.header), align, *(md_row(row) for row in table.rows)]
    return Md("\n".join(lines))


NUMERIC_TH = ' class="n"'


def html_table(table: Table) -> str:
    """A sortable ``<table>``: the inline script sorts by a header's column when clicked."""
    head = "".join(
        f'<th{NUMERIC_TH if i in table.numeric else ""} scope="col">{html_text(title)}</th>'
        for i, title in enumerate(table.header)
    )
    body = "\n".join(html_row(row, table.numeric) for row in table.rows)
    return (
        f'<table class="sortable">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table>"
    )
