"""Escaping shared by the text formats, so a hostile resource name means the same in each.

Resource names, messages and evidence come from the AWS account being checked, i.e. from
whoever can name a queue. Every format therefore runs them through two layers:

1. ``visible``: characters no reader should receive raw (C0/C1 controls, which XML 1.0
   forbids; lone surrogates; U+FFFE/U+FFFF; bidirectional overrides that can make a name read
   differently from what it is) become ``\\uXXXX``. A backslash is doubled only where it
   would otherwise be read as the start of such an escape, so ordinary text (paths,
   regular expressions) is unchanged and ``unvisible`` recovers the original exactly.
2. The format's own syntax: XML entities for JUnit, backslash escapes and entities for
   Markdown. JSON and SARIF need only layer 2, which ``json.dumps`` already does.
"""

from __future__ import annotations

import re

# XML 1.0 forbids C0 controls except TAB, LF and CR; CR is included here too because XML
# parsers normalise it away and Markdown treats it as a line ending. C1 controls, lone
# surrogates and the two non-characters follow; then the bidi embedding/override/isolate
# controls behind "Trojan Source" style spoofing.
_UNSAFE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069"
    "\u2060"  # WORD JOINER: md_inline inserts it to break links, so a literal one is escaped
)
UNSAFE = _UNSAFE  # the character class body, for a format that searches for it in bulk
_UNSAFE_CHAR = re.compile(f"[{_UNSAFE}]")
_ENCODE = re.compile(f"\\\\(?=[\\\\u{_UNSAFE}])|[{_UNSAFE}]")
_DECODE = re.compile(r"\\(\\|u[0-9a-fA-F]{4})")


def _encode(match: re.Match[str]) -> str:
    char = match.group()
    return "\\\\" if char == "\\" else f"\\u{ord(char):04x}"


def _decode(match: re.Match[str]) -> str:
    body = match.group(1)
    return "\\" if body == "\\" else chr(int(body[1:], 16))


def visible(text: str) -> str:
    """Make unsafe characters visible as ``\\uXXXX``, reversibly (see ``unvisible``)."""
    if "\\" not in text and _UNSAFE_CHAR.search(text) is None:
        return text
    return _ENCODE.sub(_encode, text)


def unvisible(text: str) -> str:
    """Invert ``visible``: what a test (or a reader's script) uses to recover the original."""
    return _DECODE.sub(_decode, text) if "\\" in text else text


def has_unsafe(text: str) -> bool:
    """Whether ``visible`` would change anything other than backslashes."""
    return _UNSAFE_CHAR.search(text) is not None


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_surrogates(text: str) -> str:
    """Escape lone surrogates in JSON text as ``\\udXXX``.

    ``json.loads`` accepts them (from ``\\ud800`` escapes) and ``ensure_ascii=False`` writes
    them back raw, which UTF-8 cannot encode. In JSON text they can only sit inside strings,
    so the escape is exact: parsing gives back the same string.
    """
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# XML ----------------------------------------------------------------------------------

# Chained str.replace, each skipped when its character is absent: several times faster than
# str.translate with a mapping, which matters at 100,000 results.


def xml_text(text: str) -> str:
    """Element content. ``>`` is escaped too, so ``]]>`` in a name is harmless."""
    text = visible(text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def xml_attr(text: str) -> str:
    """A double-quoted attribute value that parses back to the same string.

    Parsers normalise whitespace in attribute values, so TAB and LF become references.
    """
    text = xml_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#9;")
    return text


# Markdown -----------------------------------------------------------------------------

# Characters with inline meaning in CommonMark/GFM as GitHub renders it: escapes, code,
# emphasis, links/images, raw HTML and autolinks, entities, table cells, strikethrough,
# heading closers and GitHub's math delimiters. Other punctuation only matters at the
# start of a line, and escaped text never starts one (newlines become <br>).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&$])")
_MD_NEWLINE = "<br>"


def _entity(char: str) -> str:
    return f"&#{ord(char)};"


WORD_JOINER = "\u2060"
# What GitHub turns into links, mentions or emoji in text: http(s)://, www., @name (users,
# teams, and the domain of an e-mail address), :shortcode: (with a letter and not
# right after a word character, so times and ARNs stay clean to copy), #123. A WORD JOINER
# (invisible, zero width) after the trigger breaks each without changing what a reader sees;
# a literal WORD JOINER in the input is escaped by ``visible`` first, so the text still
# round-trips.
_LINKISH = re.compile(
    r"(?<=:)(?=//)"  # scheme://
    r"|(?i:(?<=www)(?=\.))"  # www.
    r"|(?<=@)"  # @mention, e-mail
    r"|(?<=(?<!\w):)(?=[\w+-]*[A-Za-z][\w+-]*:)"  # :emoji: (not inside arn:aws:sqs:...)
    r"|(?<=#)(?=\d)"  # #123
)


def neutralise_links(text: str) -> str:
    """Insert a WORD JOINER where GitHub would autolink, mention or emojify."""
    if "@" not in text and ":" not in text and "#" not in text and "." not in text:
        return text
    return _LINKISH.sub(WORD_JOINER, text)


def md_inline(text: str) -> str:
    """Text that stays literal inside a paragraph, heading, list item or table cell.

    Newlines become ``<br>`` (a table row cannot span lines); leading and trailing
    whitespace becomes numeric references because GFM trims cells and paragraphs; URLs,
    ``@mentions``, ``:emoji:`` and ``#123`` references are broken (``neutralise_links``).
    """
    escaped = neutralise_links(_MD_SPECIAL.sub(r"\\\1", visible(text)))
    if "\n" in escaped:
        escaped = escaped.replace("\n", _MD_NEWLINE)
    if escaped[:1].isspace() or escaped[-1:].isspace():
        start = len(escaped) - len(escaped.lstrip())
        end = max(start, len(escaped.rstrip()))
        head, body, tail = escaped[:start], escaped[start:end], escaped[end:]
        escaped = "".join(map(_entity, head)) + body + "".join(map(_entity, tail))
    return escaped


def md_code(text: str) -> str:
    """A code span for a name or id in a table cell (no link, mention or emoji inside one).

    The fence is one backtick longer than the longest run inside; content that starts or
    ends with a backtick or a space is padded with one space each side, which CommonMark
    strips again. Pipes are escaped (``\\|``, which GFM unescapes inside a cell before the
    code span is parsed). Text a code span cannot hold exactly (empty or all spaces, a line
    break, or a backslash right before a pipe, which GitHub and markdown-it split
    differently) falls back to ``md_inline``.
    """
    body = visible(text)
    if not body.strip(" ") or "\n" in body or "\\|" in body:
        return md_inline(text)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0) if "`" in body else 0
    fence = "`" * (longest + 1)
    if body[0] in "` " or body[-1] in "` ":
        body = f" {body} "
    if "|" in body:
        body = body.replace("|", "\\|")
    return f"{fence}{body}{fence}"


def md_fence(text: str, info: str = "") -> str:
    """A fenced code block that no content can close early.

    The content stays verbatim (a remediation command must paste as it is) unless it holds
    unsafe characters, which are then made visible.
    """
    body = visible(text) if has_unsafe(text) else text
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    if not body.endswith("\n"):
        body += "\n"
    return f"{fence}{info}\n{body}{fence}"
