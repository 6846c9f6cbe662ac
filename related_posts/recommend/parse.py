"""Split a page into title, body and the related-posts tail it already has.

Pure functions: text (or bytes) in, :class:`Document` out. A document keeps the exact
offsets of its tail, so ``document.prefix + document.original_tail + document.suffix ==
document.text`` byte for byte, and a rewrite (:mod:`.render`) keeps prefix and suffix.

Formats:

- **text / Markdown**: the first line (or ``# heading``, or front-matter ``title:``) is the
  title; the tail opens at a heading such as "Related Posts", "You May Also Like" or
  "More From The Daily Bugle" (any case or punctuation; Markdown heading, bold line or
  underlined) that is followed only by list-like lines. Share, follow and "Tags:" lines
  are dropped from the body; copyright lines after the tail stay in the suffix.
- **HTML**: trafilatura extracts the article text from the page *after* every
  related-posts block found here has been cut out of it; blocks are found in an
  offset-keeping tree of the page (WordPress YARPP, Jetpack, Contextual Related Posts,
  Outbrain, Taboola, containers whose class or id says related / read-next / recommended,
  headed sections such as ``<h2>More stories</h2><ul>...``, link-only ``<aside>`` and
  ``<section>`` blocks after the article).
- **JSON**: one record with ``title`` and ``body`` (or ``text``, ``content``) and an
  optional ``related`` list; the tail span is the ``related`` value itself.

Bad input never ends in a traceback: undecodable or binary data and pages without an
article raise a :class:`ParseError` that names the file; best-effort repairs (a wrong
declared charset, mixed encodings, a huge page) are listed in ``Document.warnings``.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Sequence

from ..article import TailItem
from ..errors import InputError

FORMATS = ("text", "markdown", "html", "json")


# -- errors ----------------------------------------------------------------------------------


class ParseError(InputError, ValueError):
    """A page that cannot be read as an article. ``location`` names the file.

    Also a :class:`ValueError`, so callers that predate this class keep catching it.
    """


class BinaryDataError(ParseError):
    """Bytes that are not text (an image, an archive, a PDF...)."""


class NoArticleError(ParseError):
    """A page in which no article text was found (only a tail, only links, empty)."""


class UnknownFormatError(ParseError):
    """A format name that is not one of :data:`FORMATS`."""


def _where(filename: str | None) -> str:
    return filename or "page"


# -- the document ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TailLayout:
    """How a text or Markdown tail is laid out, so a new tail can take the same shape.

    ``heading_lines`` are the exact heading line(s) (an underline included);
    ``bullet`` is the list marker (``-``, ``*``, ``•``; ``1.`` style for numbered lists);
    ``blank_between`` says whether items are separated by blank lines; ``url_own_line``
    whether a bare URL follows the title on its own line; ``teaser_separator`` joins
    title and teaser on one line (``None``: the teaser is its own paragraph).
    """

    heading_lines: tuple[str, ...] = ()
    bullet: str = "-"
    blank_between: bool = True
    blank_after_heading: bool = True
    url_own_line: bool = True
    teaser_separator: str | None = None
    newline: str = "\n"


@dataclass(frozen=True)
class Document:
    """A parsed page.

    ``text[tail_start:tail_end]`` is the related-posts tail (from its heading, or the
    whole HTML block, or the JSON ``related`` value); a page without one has
    ``tail_start == tail_end`` at the place a new tail goes. ``tail_style`` records how
    the items were laid out (``blocks``: title and teaser paragraphs; ``lines``: one
    "title | teaser" line each; ``bullets``; ``numbered``; ``links``: Markdown links;
    ``html``; ``json``) and ``layout`` the details, so a new tail can take the same
    shape. ``warnings`` lists best-effort repairs (charset guesses, mixed encodings, a
    huge page) a caller may want to show.
    """

    text: str
    format: str
    title: str
    body: str
    tail: tuple[TailItem, ...] = ()
    tail_heading: str | None = None
    tail_start: int = -1
    tail_end: int = -1
    tail_style: str = "blocks"
    ellipsis: str = "..."
    meta: dict[str, Any] = field(default_factory=dict)
    layout: TailLayout = field(default_factory=TailLayout)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.tail_end < 0:
            object.__setattr__(self, "tail_end", len(self.text))
        if self.tail_start < 0:
            object.__setattr__(self, "tail_start", self.tail_end)

    @property
    def prefix(self) -> str:
        """Everything above the tail, exactly as in the input."""
        return self.text[: self.tail_start]

    @property
    def original_tail(self) -> str:
        """The tail exactly as in the input (empty when the page has none)."""
        return self.text[self.tail_start : self.tail_end]

    @property
    def suffix(self) -> str:
        """Everything below the tail (closing HTML tags, a copyright line...)."""
        return self.text[self.tail_end :]

    @property
    def has_tail(self) -> bool:
        """Whether the page has a tail (a heading or block, even one without items)."""
        return self.tail_start < self.tail_end

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``related-posts parse --json``."""
        return {
            "title": self.title,
            "body": self.body,
            "tail": [item.to_dict() for item in self.tail],
            "format": self.format,
            "tail_heading": self.tail_heading,
            "tail_style": self.tail_style if self.has_tail else None,
            "body_chars": len(self.body),
            "tail_start": self.tail_start,
            "tail_end": self.tail_end,
            "warnings": list(self.warnings),
        }


# -- entry points ----------------------------------------------------------------------------


def detect_format(text: str, filename: str | None = None) -> str:
    """The format of a page from its file extension, else from its first characters."""
    if filename:
        suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
        by_suffix = {
            "md": "markdown", "markdown": "markdown", "mdown": "markdown", "mkd": "markdown",
            "html": "html", "htm": "html", "xhtml": "html", "shtml": "html",
            "json": "json", "txt": "text", "text": "text",
        }
        if suffix in by_suffix:
            return by_suffix[suffix]
    head = text.lstrip()[:1000].lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")) or "<body" in head or "<head" in head:
        return "html"
    if head.startswith("{"):
        return "json"
    if head.startswith(("# ", "---\n", "---\r\n", "+++\n", "+++\r\n")):
        return "markdown"
    return "text"


def parse_document(text: str | bytes, format: str | None = None,
                   filename: str | None = None) -> Document:
    """Parse a page in any supported format (``text``, ``markdown``, ``html``, ``json``).

    ``text`` may be bytes (decoded with :func:`decode_page`). ``filename`` picks the
    format by extension when ``format`` is not given and names the page in errors.

    Raises :class:`ParseError` (a :class:`ValueError`): :class:`BinaryDataError` for data
    that is not text, :class:`NoArticleError` for a page without article text (empty,
    only a related-posts tail, only links), :class:`UnknownFormatError`.
    """
    warnings: list[str] = []
    if isinstance(text, (bytes, bytearray)):
        text, warnings = decode_page(bytes(text), filename)
    else:
        _check_not_binary(text, filename)
    fmt = format or detect_format(text, filename)
    if fmt in ("text", "markdown"):
        document = parse_text(text, markdown=fmt == "markdown")
    elif fmt == "html":
        document = parse_html(text, filename=filename)
    elif fmt == "json":
        document = parse_json(text, filename=filename)
    else:
        raise UnknownFormatError(_where(filename), f"unknown format '{fmt}'; valid: "
                                 + ", ".join(FORMATS))
    if warnings:
        document = replace(document, warnings=tuple(warnings) + document.warnings)
    if not document.body.strip():
        raise NoArticleError(_where(filename), _no_body_reason(document))
    return document


def parse_records(text: str | bytes, filename: str | None = None
                  ) -> Iterator[tuple[str, Document | ParseError]]:
    """Each record of a JSON Lines file (or a JSON array, or ``{"articles": [...]}``).

    Yields ``(location, document or error)`` with locations such as ``file:3`` (line) or
    ``file[2]`` (array index), so one bad record does not stop the others.
    """
    where = _where(filename)
    warnings: list[str] = []
    if isinstance(text, (bytes, bytearray)):
        text, warnings = decode_page(bytes(text), filename)
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None  # not one JSON value: read it as JSON Lines below
        if isinstance(data, dict) and isinstance(data.get("articles"), list):
            data = data["articles"]
        if isinstance(data, list):
            for index, record in enumerate(data):
                here = f"{where}[{index}]"
                yield here, _record_document(record, here, warnings)
            return
        if isinstance(data, dict):
            yield where, _record_document_text(text, where, warnings)
            return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            here = f"{where}:{number}"
            yield here, _record_document_text(line, here, warnings)


def _record_document(record: Any, where: str, warnings: list[str]) -> Document | ParseError:
    return _record_document_text(json.dumps(record, ensure_ascii=False), where, warnings)


def _record_document_text(text: str, where: str, warnings: list[str]) -> Document | ParseError:
    try:
        document = parse_json(text, filename=where)
        if not document.body.strip():
            raise NoArticleError(where, _no_body_reason(document))
    except ParseError as exc:
        return exc
    return replace(document, warnings=tuple(warnings)) if warnings else document


def _no_body_reason(document: Document) -> str:
    if document.format == "json":
        return ("no article text: the record needs a non-empty 'body' (or 'text', "
                "'content', 'articleBody') field")
    if document.tail:
        return (f"no article text: the page holds only a related-posts tail "
                f"({len(document.tail)} items); expected a title, the article, then the tail")
    if document.format == "html":
        return ("no article text found in the HTML (an index page, navigation only, or an "
                "empty template); expected a page with an article")
    return "no body text below the title; expected a title line followed by the article"


# -- decoding --------------------------------------------------------------------------------

_MAGIC = (
    (b"%PDF", "a PDF document"), (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"), (b"PK\x03\x04", "a ZIP archive (or an Office file)"),
    (b"\x1f\x8b", "a gzip archive"), (b"BZh", "a bzip2 archive"), (b"\x7fELF", "a program"),
    (b"SQLite format 3\x00", "an SQLite database"), (b"RIFF", "a media file"),
    (b"\x00\x00\x01\x00", "an icon"), (b"OggS", "an audio file"), (b"ID3", "an MP3 file"),
)
_CHARSET = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def decode_page(data: bytes, filename: str | None = None) -> tuple[str, list[str]]:
    """Bytes of a page to text, with warnings for every guess made on the way.

    UTF-8 (a BOM allowed) first: a page that is valid UTF-8 is UTF-8 whatever it declares.
    Else the charset the page declares (``<meta charset>``, ``encoding=``); else, for a
    page that is mostly UTF-8 with some stray bytes (mixed encodings), those bytes are
    read as Windows-1252; else all of it is. UTF-16 with a BOM is accepted.

    Raises :class:`BinaryDataError` for images, archives and other binary data.
    """
    where = _where(filename)
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise BinaryDataError(where, f"this is {what}, not a page; expected UTF-8 text "
                                  "(.txt, .md, .html, .json)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise BinaryDataError(where, "starts with a UTF-16 byte-order mark but is not "
                                  "valid UTF-16; re-save it as UTF-8") from None
    if b"\x00" in data[:8192]:
        raise BinaryDataError(where, "contains NUL bytes, so it is binary data (or UTF-16 "
                              "without a byte-order mark); expected UTF-8 text")
    warnings: list[str] = []
    declared_match = _CHARSET.search(data[:4096])
    declared = declared_match.group(1).decode("ascii", "replace").lower() if declared_match else None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        if declared and not _is_utf8_name(declared) and not data.isascii():
            warnings.append(f"{where}: declares charset '{declared}' but is valid UTF-8; "
                            "read as UTF-8")
        _check_not_binary(text, filename)
        return text, warnings
    if declared and not _is_utf8_name(declared):
        try:
            text = data.decode(declared)
            _check_not_binary(text, filename)
            return text, warnings
        except (LookupError, UnicodeDecodeError):
            warnings.append(f"{where}: declared charset '{declared}' does not decode it; "
                            "guessed instead")
    text, stray = _decode_mixed(data)
    good = len(re.findall(rb"[\xc2-\xf4][\x80-\xbf]+", data))
    if good > stray:
        warnings.append(f"{where}: mixed encodings: {stray} byte sequence(s) are not UTF-8 "
                        "and were read as Windows-1252")
    else:
        text = data.decode("cp1252", errors="replace")
        warnings.append(f"{where}: not UTF-8"
                        + (f" although it declares '{declared}'" if declared else "")
                        + "; read as Windows-1252")
    _check_not_binary(text, filename)
    return text, warnings


def _is_utf8_name(name: str) -> bool:
    return name.replace("-", "").replace("_", "") in ("utf8", "utf8mb4", "unicode11utf8")


def _decode_mixed(data: bytes) -> tuple[str, int]:
    """UTF-8 where the bytes are UTF-8, Windows-1252 for the stray bytes between."""
    text = data.decode("utf-8-sig", errors="surrogateescape")
    stray = 0

    def cp1252(match: re.Match[str]) -> str:
        nonlocal stray
        stray += 1
        raw = bytes(ord(c) - 0xDC00 for c in match.group())
        return raw.decode("cp1252", errors="replace")

    return re.sub("[\udc80-\udcff]+", cp1252, text), stray


def _check_not_binary(text: str, filename: str | None) -> None:
    """Reject text that is mostly control characters: binary data decoded as text."""
    sample = text[:8192]
    if not sample:
        return
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(8, len(sample) // 50):
        raise BinaryDataError(_where(filename), f"{controls} control characters in the first "
                              f"{len(sample)}: this is binary data, not a page; expected "
                              "UTF-8 text (.txt, .md, .html, .json)")


# -- text and Markdown -----------------------------------------------------------------------

# Headings that open a related-posts tail, compared after `normalise_heading`. "Strong"
# ones open a tail before any list-like lines; "weak" ones ("Read more", "Trending") are
# also ordinary words in a body, so their lines must look like links to other pages.
STRONG_HEADINGS = frozenset(
    {
        "related posts", "related post", "related articles", "related article",
        "related stories", "related story", "related reading", "related content",
        "related news", "related links", "related coverage", "you may also like",
        "you might also like", "you may like", "you might like", "you may also enjoy",
        "you might also enjoy", "you may be interested in", "you might be interested in",
        "read next", "read this next", "what to read next", "more stories", "more articles",
        "more posts", "recommended for you", "recommended reading", "recommended stories",
        "recommended articles", "recommended posts", "also read", "read also",
        "popular posts", "popular stories", "popular articles", "most popular", "most read",
        "sponsored content", "sponsored stories", "sponsored links", "promoted stories",
        "paid content", "around the web", "from around the web", "from the web",
        "from our partners", "more from our partners", "further reading", "similar posts",
        "similar articles", "similar stories", "more like this", "other stories",
        "recent posts", "latest posts", "trending now", "trending stories", "editor's picks",
        "editors' picks", "editors picks", "don't miss", "dont miss", "keep reading",
        "more to read", "up next", "most viewed", "most shared", "most commented",
        "more on this story", "more on this topic", "in case you missed it",
        "recommended videos", "watch next", "popular now", "trending in", "related topics",
    }
)
WEAK_HEADINGS = frozenset(
    {
        "related", "read more", "recommended", "trending", "sponsored", "see also",
        "more news", "latest news", "latest stories", "top stories", "in other news",
        "more reading",
    }
)
TAIL_HEADINGS = STRONG_HEADINGS | WEAK_HEADINGS
# "More From The Daily Bugle", "More on Ukraine", "Also on Example News"
_MORE_FROM = re.compile(r"((read )?more (from|on|in|about|by)|also on|more stories from) \S.{0,60}")

# Furniture lines: share and follow prompts, tag lists; not article text.
_SHARE_LINE = re.compile(
    r"^(share( this( post| article| story| page)?)?( on \w+)?|share this:?|"
    r"share (on|via) [\w ,]+|follow us( on .*)?|tweet( this)?|pin it|print( this)?|email( this)?|"
    r"facebook|twitter|x|linkedin|whatsapp|reddit|pinterest|telegram|copy link|"
    r"(facebook|twitter|linkedin|email|whatsapp|reddit|pinterest)"
    r"(\s*[|·•,/]\s*(facebook|twitter|x|linkedin|email|whatsapp|reddit|pinterest))+)"
    r"[\s:.!]*$",
    re.IGNORECASE,
)
_TAGS_LINE = re.compile(r"^(tags|tagged( with)?|filed under|categories|category|topics)\s*:",
                        re.IGNORECASE)
_FOOTER_LINE = re.compile(
    r"^(©|\(c\)\s|copyright\b|all rights reserved|back to top|leave a (comment|reply)|"
    r"\d+ comments?$|comments$|powered by\b)",
    re.IGNORECASE,
)

_MD_LINK = re.compile(r"\[(?P<title>(?:[^\[\]\\]|\\.)+)\]\((?P<url>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_MD_LINK_ITEM = re.compile(
    r"^\s*(?:[-*+•]\s+|\d+[.)]\s+|#{1,6}\s+)?(?:\*\*|__)?"
    r"\[(?P<title>(?:[^\[\]\\]|\\.)+)\]\((?P<url>[^)\s]+)(?:\s+\"[^\"]*\")?\)"
    r"(?:\*\*|__)?(?:\s*(?:[-–—:|]\s*)?(?P<teaser>.*))?$"
)
_BULLET = re.compile(r"^\s*(?P<marker>[-*+•→»›▸▪‣◦●■]|\d+[.)])\s+(?P<rest>.+)$")
_BARE_URL = re.compile(r"^\s*(?:[-*+•→»›]\s+)?<?(?P<url>https?://[^\s<>]+?)>?\s*$")
# "Title (https://...)", "Title <https://...>", "Title https://..." at the end of an item line.
_TRAILING_URL = re.compile(r"\s[(<]?(https?://[^\s()<>]+)[)>]?$")
# "Title | teaser", "Title — teaser": one item a line.
_TITLE_TEASER = re.compile(r"(\s[|–—]\s|\s-\s)")
_UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")
_ATX = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ELLIPSIS = ("...", "…")
_SENTENCE_END = re.compile(r"[.!?;:][\"'”’)\]]*$")
# A tail is a list of short items; a line longer than this that is not a teaser is
# article prose, so a heading above it does not open the tail.
MAX_TAIL_LINE = 300
# A title is short: longer lines in a tail are teasers.
MAX_TITLE = 160


def normalise_heading(line: str) -> str:
    """Lower-case heading text without Markdown marks, emphasis, symbols and punctuation."""
    match = _ATX.match(line)
    text = match.group("text") if match else line
    text = re.sub(r"[*_`]+", "", text).strip()
    text = text.replace("’", "'")
    # Decorations around the words: "--- Related ---", "» Read next", "Related posts:".
    text = re.sub(r"^[\W_]+|[\W_]+$", "", text)
    return " ".join(text.lower().split())


def is_tail_heading(line: str) -> bool:
    """Whether ``line`` alone is a heading that opens a related-posts tail."""
    if not line.strip() or len(line) > 80:
        return False
    heading = normalise_heading(line)
    if heading in TAIL_HEADINGS:
        return True
    # "More from The Daily Bugle", but not "Read more about this in the report."
    return (bool(_MORE_FROM.fullmatch(heading)) and len(heading.split()) <= 8
            and not re.search(r"(?<!\.)\.\s*$", line))


def _is_strong_heading(line: str) -> bool:
    heading = normalise_heading(line)
    return heading in STRONG_HEADINGS or (heading not in WEAK_HEADINGS and is_tail_heading(line))


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    offsets, position = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append((position, line.rstrip("\r\n")))
        position += len(line)
    return offsets


def _newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text[:20000] else "\n"


def parse_text(text: str, *, markdown: bool = False) -> Document:
    """Parse plain text or Markdown: first line (or ``# heading``) is the title.

    Never raises; a page without body text has an empty ``body`` (``parse_document``
    turns that into a :class:`NoArticleError`).
    """
    lines = _lines_with_offsets(text)
    title, body_from, title_is_tail = _find_title(lines, markdown)
    if title_is_tail:
        # The first line is itself a tail heading: a page of only a tail.
        title = ""
    tail_line = _find_tail(lines, body_from, markdown, first=body_from if title_is_tail else None)
    if tail_line is None:
        tail_start = tail_end = len(text)
        items: list[TailItem] = []
        heading, style, layout = None, "blocks", TailLayout(newline=_newline_of(text))
        body_to = _trim_footer(lines, body_from, len(lines))
    else:
        tail_start = lines[tail_line][0]
        last = _trim_footer(lines, tail_line + 1, len(lines))
        tail_end = _line_end(text, lines, last - 1) if last > tail_line + 1 else _line_end(
            text, lines, tail_line)
        heading = lines[tail_line][1].strip()
        items, style, layout = parse_tail_items(
            [line for _, line in lines[tail_line:last]], newline=_newline_of(text)
        )
        body_to = tail_line
    body_lines = [
        line for _, line in lines[body_from:body_to]
        if not _is_furniture(line.strip()) and not _is_promo_line(line.strip())
    ]
    body = _tidy("\n".join(body_lines))
    if markdown:
        body = markdown_to_text(body)
    ellipsis = "…" if any(i.teaser.endswith("…") for i in items) else "..."
    return Document(
        text=text,
        format="markdown" if markdown else "text",
        title=markdown_to_text(title) if markdown else title,
        body=body,
        tail=tuple(items),
        tail_heading=heading,
        tail_start=tail_start,
        tail_end=tail_end,
        tail_style=style,
        ellipsis=ellipsis,
        layout=layout,
    )


def _line_end(text: str, lines: list[tuple[int, str]], index: int) -> int:
    """Offset just past line ``index``, its line break included."""
    return lines[index + 1][0] if index + 1 < len(lines) else len(text)


def _is_furniture(line: str) -> bool:
    return bool(_SHARE_LINE.match(line) or _TAGS_LINE.match(line))


def _is_promo_line(line: str) -> bool:
    """"ALSO READ: <headline>" inside a text body: a link to another page, not prose."""
    match = _PROMO.match(line)
    if not match:
        return False
    rest = match.group("rest").strip()
    return len(rest.split()) <= 20 and not _SENTENCE_END.search(rest) or bool(_BARE_URL.match(rest))


def _trim_footer(lines: list[tuple[int, str]], start: int, stop: int) -> int:
    """Index just past the last line before a trailing run of footer / blank lines."""
    index = stop
    while index > start:
        line = lines[index - 1][1].strip()
        if line and not (_FOOTER_LINE.match(line) or _SHARE_LINE.match(line)):
            break
        index -= 1
    return index


def _find_title(lines: list[tuple[int, str]], markdown: bool) -> tuple[str, int, bool]:
    """The title, the index of the first body line, and whether the title line is a
    tail heading (a page of only a tail)."""
    index = 0
    fence = lines[0][1].strip() if lines else ""
    if fence in ("---", "+++"):
        # YAML (---) or TOML (+++) front matter: take its title and skip it.
        closing = ("---", "...") if fence == "---" else ("+++",)
        for end in range(1, min(len(lines), 200)):
            if lines[end][1].strip() in closing:
                for _, line in lines[1:end]:
                    key = re.match(r"^title\s*[:=]\s*(.*)$", line, re.IGNORECASE)
                    if key:
                        return key.group(1).strip().strip("\"'"), end + 1, False
                index = end + 1
                break
    while index < len(lines) and not lines[index][1].strip():
        index += 1
    if index >= len(lines):
        return "", len(lines), False
    line = lines[index][1]
    following = index + 1
    if following < len(lines) and _UNDERLINE.match(lines[following][1]):
        following += 1
    if is_tail_heading(line) and _find_tail(lines, index, markdown, first=index) == index:
        return "", index, True
    match = _ATX.match(line)
    title = match.group("text") if match else re.sub(r"^[*_]+|[*_]+$", "", line.strip())
    return title.strip(), following, False


def _line_kind(line: str) -> str:
    """What a line below a tail heading is.

    ``item``: a link, list entry or bare URL (evidence of a tail); ``teaser``: ends in an
    ellipsis; ``title``: short and not a sentence; ``short``: short prose; ``heading``:
    another tail heading; ``skip``: blank, underline, furniture; ``prose``: too long for
    a tail, so the heading above it was a word of the article.
    """
    stripped = line.strip()
    if not stripped or _UNDERLINE.match(stripped) or _is_furniture(stripped):
        return "skip"
    if is_tail_heading(stripped):
        return "heading"
    if _MD_LINK_ITEM.match(stripped) or _BARE_URL.match(stripped) or _BULLET.match(stripped):
        return "item"
    if stripped.endswith(_ELLIPSIS):
        return "teaser"
    if len(stripped) > MAX_TAIL_LINE:
        return "prose"
    if len(stripped) <= MAX_TITLE and not _SENTENCE_END.search(stripped):
        return "title"
    return "short"


def _find_tail(lines: list[tuple[int, str]], body_from: int, markdown: bool = False,
               first: int | None = None) -> int | None:
    """Index of the heading line that opens the tail, or None.

    Scans once from the bottom. A heading opens the tail when every line below it (to
    the next heading) is list-like, when a weak heading's section also shows evidence of
    links (a link, a list, a teaser, a title-like line), and when every later section
    passes too. The earliest such heading wins, so a page with two trailing blocks
    ("Related Posts", then "Sponsored") loses both, while "Read more" above article
    prose stays in the body. Headings inside Markdown code fences do not count.
    """
    start = max(body_from, 1) if first is None else first
    fenced = _fenced_lines(lines) if markdown else set()
    best: int | None = None
    evidence, titles, shorts = 0, 0, 0  # kinds of lines in the section below, so far
    for index in range(len(lines) - 1, start - 1, -1):
        line = lines[index][1]
        if index in fenced:
            return best
        kind = _line_kind(line)
        if kind == "heading":
            weak_ok = evidence > 0 or (titles > 0 and shorts <= titles)
            if _is_strong_heading(line) or weak_ok:
                best = index
                evidence, titles, shorts = 0, 0, 0
                continue
            return best
        if kind == "prose":
            return best
        if kind in ("item", "teaser"):
            evidence += 1
        elif kind == "title":
            titles += 1
        elif kind == "short":
            shorts += 1
    return best


def _fenced_lines(lines: list[tuple[int, str]]) -> set[int]:
    """Indices of lines inside Markdown code fences (fence lines included)."""
    inside, fenced = False, set()
    for index, (_, line) in enumerate(lines):
        if _FENCE.match(line):
            fenced.add(index)
            inside = not inside
        elif inside:
            fenced.add(index)
    return fenced


def parse_tail_items(lines: list[str], newline: str = "\n"
                     ) -> tuple[list[TailItem], str, TailLayout]:
    """Items of a tail from its lines (heading first), the style and the layout they use.

    Handles title / teaser paragraphs, bullet and numbered lists, Markdown links (also as
    ``### [Title](url)`` cards), bare URLs under a title, teasers ending in "..." or "…",
    further headings ("Sponsored") between groups of items.
    """
    heading_lines: list[str] = []
    rest = list(lines)
    if rest:
        heading_lines.append(rest.pop(0))
        if rest and _UNDERLINE.match(rest[0]):
            heading_lines.append(rest.pop(0))
    blank_after_heading = bool(rest) and not rest[0].strip()
    items: list[dict[str, Any]] = []
    styles: list[str] = []
    bullet, separator = "-", None
    url_own_line, saw_blank_between, saw_adjacent = False, False, False
    previous_blank = False
    for raw in rest:
        line = raw.strip()
        if not line:
            previous_blank = True
            continue
        if _UNDERLINE.match(line) or _is_furniture(line) or is_tail_heading(line):
            previous_blank = False
            continue
        link = _MD_LINK_ITEM.match(line)
        bare = _BARE_URL.match(line)
        listed = _BULLET.match(line)
        new_item = True
        if link:
            styles.append("links")
            teaser = (link["teaser"] or "").strip()
            sep = re.match(r"^\)?(?:\*\*|__)?(\s*[-–—:|]\s*)", line[link.end("url"):])
            if teaser and sep:
                separator = sep.group(1)
            items.append({"title": _unescape_md(link["title"]).strip(), "url": link["url"],
                          "teaser": teaser})
            if listed:
                bullet = listed["marker"] if not listed["marker"][0].isdigit() else bullet
        elif bare and items and not items[-1]["url"]:
            items[-1]["url"] = bare["url"]
            url_own_line, new_item = True, False
        elif bare:
            items.append({"title": bare["url"], "url": bare["url"], "teaser": ""})
        elif listed:
            marker = listed["marker"]
            styles.append("numbered" if marker[0].isdigit() else "bullets")
            if not marker[0].isdigit():
                bullet = marker
            parts = re.split(r"(\s[-–—|]\s)", listed["rest"], maxsplit=1)
            title, teaser = parts[0], parts[2] if len(parts) == 3 else ""
            if len(parts) == 3:
                separator = parts[1]
            url_match = _TRAILING_URL.search(title)
            url = None
            if url_match:
                url, title = url_match.group(1), title[: url_match.start()]
            items.append({"title": title.strip(), "url": url, "teaser": teaser.strip()})
        elif _is_teaser(line, items) and not _TITLE_TEASER.search(line):
            items[-1]["teaser"] = line
            new_item = False
        else:
            title, teaser, url = line, "", None
            parts = _TITLE_TEASER.split(line, maxsplit=1)
            if len(parts) == 3 and (parts[2].endswith(_ELLIPSIS) or len(parts[2].split()) >= 5):
                title, separator, teaser = parts[0], parts[1], parts[2]
                styles.append("lines")
            else:
                styles.append("blocks")
            url_match = _TRAILING_URL.search(title)
            if url_match:
                url, title = url_match.group(1), title[: url_match.start()]
                styles.append("lines")
            items.append({"title": title.strip(), "url": url, "teaser": teaser.strip()})
        if new_item and len(items) > 1:
            if previous_blank:
                saw_blank_between = True
            else:
                saw_adjacent = True
        previous_blank = False
    style = "blocks"
    for candidate in ("links", "numbered", "bullets", "lines", "blocks"):
        if candidate in styles:
            style = candidate
            break
    layout = TailLayout(
        heading_lines=tuple(heading_lines),
        bullet=bullet,
        blank_between=saw_blank_between or not saw_adjacent if style == "blocks"
        else saw_blank_between and not saw_adjacent,
        blank_after_heading=blank_after_heading or not rest,
        url_own_line=url_own_line or (style == "blocks" and not separator),
        teaser_separator=separator if style != "blocks" else None,
        newline=newline,
    )
    return [TailItem(**item) for item in items], style, layout


def _is_teaser(line: str, items: list[dict[str, Any]]) -> bool:
    """Whether a plain line is the teaser of the item above it (not a new title)."""
    if not items or items[-1]["teaser"]:
        return False
    if line.endswith(_ELLIPSIS):
        return True
    # A sentence under a headline-like title: "Title\nA sentence about it."
    title = items[-1]["title"]
    return (bool(_SENTENCE_END.search(line)) and len(line.split()) >= 6
            and not _SENTENCE_END.search(title) and len(line) > len(title))


def _unescape_md(text: str) -> str:
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!])", r"\1", text)


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:[ \t]+\S+.*$", re.M)


def markdown_to_text(text: str) -> str:
    """Markdown as plain text: link text without URLs, no emphasis or heading marks.

    Light on purpose (no Markdown library): the body is embedded and shown in teasers,
    where ``**`` and URLs are noise; list markers and code stay.
    """
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(lambda m: m.group("title"), text)
    text = _MD_REF_DEF.sub("", text)
    text = re.sub(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$", r"\1", text, flags=re.M)
    text = re.sub(r"^[ \t]{0,3}(?:=+|-+)[ \t]*$", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])", r"\2", text)
    text = re.sub(r"^[ \t]{0,3}>[ \t]?", "", text, flags=re.M)
    text = re.sub(r"^[ \t]{0,3}(```|~~~).*$", "", text, flags=re.M)
    return _tidy(_unescape_md(text))


def _tidy(text: str) -> str:
    """Strip outer blank lines and collapse runs of blank lines to one."""
    return re.sub(r"\n[ \t\r\f\v]*\n(?:[ \t\r\f\v]*\n)+", "\n\n", text).strip()


# -- HTML: an offset-keeping tree ------------------------------------------------------------
#
# trafilatura (over lxml) finds the article text well, but lxml keeps no byte offsets, and a
# rewrite must replace the related block in place and keep every other byte. So the page is
# also read into this small tree, whose elements know where they start and end in the text.
# It is forgiving like a browser: unclosed elements end where their parent ends, stray end
# tags are ignored, <p> and <li> close implicitly.

_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr basefont bgsound "
    "frame keygen command".split()
)
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed",
                       "noframes", "template", "svg", "math", "noscript"})
_CLOSES_P = frozenset(
    "address article aside blockquote details dialog div dl fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section table ul li".split()
)
_INLINE = frozenset(
    "a abbr b bdi bdo cite code data dfn em i kbd mark q s samp small span strong sub sup time "
    "u var font big tt label".split()
)
_BLOCK = _CLOSES_P | frozenset({"li", "dt", "dd", "td", "th", "tr", "br", "body", "html",
                                "caption", "option", "summary"})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_TAG = re.compile(
    r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<![^>]*>|<\?[^>]*>"
    r"|<(?P<close>/)?(?P<tag>[a-zA-Z][^\s/>]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.S,
)
_ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


@dataclass(eq=False)
class _Node:
    """An element: tag, attributes, offsets in the page, and children in order."""

    tag: str
    attrs: dict[str, str]
    start: int
    open_end: int
    parent: "_Node | None" = None
    end: int = -1
    parts: list["_Node | tuple[int, int]"] = field(default_factory=list)

    @property
    def children(self) -> list["_Node"]:
        return [p for p in self.parts if isinstance(p, _Node)]

    def iter(self) -> Iterator["_Node"]:
        """This element and every element below it, in document order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed([p for p in node.parts if isinstance(p, _Node)]))

    def ancestors(self) -> Iterator["_Node"]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def contains(self, other: "_Node") -> bool:
        return self.start <= other.start and other.end <= self.end and self is not other

    @property
    def marker(self) -> str:
        """Class and id, lower-cased: what widget markers are matched against."""
        return f"{self.attrs.get('class', '')} {self.attrs.get('id', '')}".lower()


@dataclass
class _Tree:
    html: str
    root: _Node
    texts: dict[int, str] = field(default_factory=dict)  # cache: id(node) -> text

    def text(self, node: _Node) -> str:
        """The visible text of ``node``: entities decoded, whitespace collapsed,
        block elements on their own lines."""
        key = id(node)
        if key not in self.texts:
            pieces: list[str] = []
            self._collect(node, pieces)
            joined = "".join(pieces)
            self.texts[key] = "\n".join(
                " ".join(line.split()) for line in joined.split("\n") if line.strip()
            )
        return self.texts[key]

    def _collect(self, node: _Node, pieces: list[str]) -> None:
        stack: list[Any] = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                pieces.append(item)
            elif isinstance(item, tuple):
                pieces.append(html_lib.unescape(self.html[item[0]:item[1]]))
            else:
                if item.tag in _RAW_TEXT:
                    continue
                block = item.tag in _BLOCK
                if block:
                    pieces.append("\n")
                if item.tag == "img" and item is not node:
                    continue
                stack.append("\n" if block else "")
                stack.extend(reversed(item.parts))

    def links(self, node: _Node) -> list[_Node]:
        return [n for n in node.iter() if n.tag == "a" and n.attrs.get("href")]


def _parse_attrs(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR.finditer(raw):
        name = match.group(1).lower()
        if name not in attrs:
            value = match.group(2) if match.group(2) is not None else (
                match.group(3) if match.group(3) is not None else (match.group(4) or ""))
            attrs[name] = html_lib.unescape(value)
    return attrs


def build_tree(html: str) -> _Tree:
    """The page as a tree of :class:`_Node` with exact offsets (never raises)."""
    root = _Node("#document", {}, 0, 0)
    stack = [root]
    position = 0
    length = len(html)

    def close_to(index: int, at: int) -> None:
        while len(stack) > index:
            stack.pop().end = at

    while position < length:
        match = _TAG.search(html, position)
        if match is None:
            stack[-1].parts.append((position, length))
            break
        if match.start() > position:
            stack[-1].parts.append((position, match.start()))
        position = match.end()
        tag = match.group("tag")
        if tag is None:
            continue  # comment, doctype, processing instruction
        tag = tag.lower()
        if match.group("close"):
            for index in range(len(stack) - 1, 0, -1):
                if stack[index].tag == tag:
                    close_to(index + 1, match.start())
                    stack.pop().end = match.end()
                    break
                if tag in ("p", "li") and stack[index].tag not in _INLINE:
                    break  # "</p>" never closes an enclosing block
            continue
        if tag in _CLOSES_P or tag in ("li", "dt", "dd", "tr", "td", "th"):
            _implicit_close(stack, tag, match.start())
        node = _Node(tag, _parse_attrs(match.group("attrs")), match.start(), match.end(),
                     parent=stack[-1])
        stack[-1].parts.append(node)
        self_closing = match.group("attrs").rstrip().endswith("/") and tag not in _BLOCK \
            and tag not in _INLINE
        if tag in _VOID or self_closing:
            node.end = match.end()
            continue
        if tag in _RAW_TEXT:
            closing = re.compile(rf"</{re.escape(tag)}\s*>", re.I).search(html, position)
            stop = closing.start() if closing else length
            if tag == "title" and stop > position:
                node.parts.append((position, stop))
            node.end = closing.end() if closing else length
            position = node.end
            continue
        stack.append(node)
    close_to(1, length)
    root.end = length
    return _Tree(html, root)


def _implicit_close(stack: list[_Node], tag: str, at: int) -> None:
    """Close what an opening ``tag`` closes implicitly (an open <p>, a previous <li>)."""
    targets = {"li": ("li",), "dt": ("dt", "dd"), "dd": ("dt", "dd"), "tr": ("tr", "td", "th"),
               "td": ("td", "th"), "th": ("td", "th")}.get(tag, ())
    barriers = {"li": ("ul", "ol", "menu"), "dt": ("dl",), "dd": ("dl",),
                "tr": ("table", "tbody", "thead", "tfoot"), "td": ("tr", "table"),
                "th": ("tr", "table")}.get(tag, ())
    for index in range(len(stack) - 1, 0, -1):
        current = stack[index]
        if current.tag == "p" and tag in _CLOSES_P:
            while len(stack) > index:
                stack.pop().end = at
            return
        if current.tag in targets:
            while len(stack) > index:
                stack.pop().end = at
            return
        if current.tag in barriers or (current.tag not in _INLINE and not targets):
            return


# -- HTML: finding the related blocks --------------------------------------------------------

# Class / id fragments of related-posts blocks: WordPress plugins (YARPP, Jetpack,
# Contextual Related Posts, RP4WP), widget networks (Outbrain, Taboola, Revcontent, MGID,
# ZergNet) and the words templates use for them.
RELATED_BLOCK_MARKERS = (
    "yarpp-related", "yarpp", "jp-relatedposts", "crp_related", "crp-list", "rp4wp",
    "related-posts", "relatedposts", "related_posts", "related-articles", "related",
    "outbrain", "ob-widget", "trc_related_container", "trc_rbox", "taboola", "revcontent",
    "mgid", "zergnet", "read-next", "readnext", "recommended", "recommendation", "recirc",
    "more-stories", "morestories", "more-from", "more-articles", "also-read",
    "you-may-like", "you-might-like", "around-the-web", "popular-posts", "most-popular",
    "most-read", "trending", "further-reading", "sponsored", "partner-content",
    "paid-content",
)
_MARKER = re.compile("|".join(re.escape(m).replace(r"\-", "[-_]?") for m in RELATED_BLOCK_MARKERS))
# Markers that name a whole widget even when it is still empty (filled by script).
_WIDGET_MARKER = re.compile(r"\boutbrain\b|\bob-widget|trc_related_container|taboola|"
                            r"jp-relatedposts|yarpp-related|crp_related|revcontent|zergnet|"
                            r"^related-posts\b")  # the last: the block render.py writes
_NAMED_MARKER = re.compile(r"yarpp|rp4wp|crp[_-]|related[-_]?(posts|articles|stories|content|links)|"
                           r"read[-_]?next|more[-_]?(from|stories|articles)|also[-_]?read|"
                           r"you[-_]?(may|might)|around[-_]?the[-_]?web|recirc|recommended")
# Class words that say the block is not the related list even if a marker word appears.
_NOT_RELATED = re.compile(r"nav|menu|breadcrumb|header|masthead|comment|tags?\b|tag-|"
                          r"categor|share|social|footer-menu|pagination|byline|author")
_BLOCK_TAGS = frozenset({"div", "section", "aside", "ul", "ol", "nav", "footer", "table",
                         "dl", "article", "figure", "details", "p"})
_NAV_MARKER = re.compile(r"(^|[\s_-])(nav|navbar|navigation|menu|main-menu|breadcrumbs?)($|[\s_-])")
_TEASER_CLASS = re.compile(r"excerpt|summary|teaser|desc|dek|snippet|blurb|standfirst|lede|"
                           r"intro|abstract|subtitle|subhead")
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# Reading times, comment counts and dates that cards print beside a teaser.
_TEASER_NOISE = re.compile(
    rf"\b\d+\s*min(ute)?s?( read)?\b|\b\d+ comments?\b|\b{_MONTH} \d{{1,2}},? \d{{4}}\b|"
    rf"\b\d{{1,2}} {_MONTH},? \d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b",
    re.IGNORECASE,
)
_TITLE_CLASS = re.compile(r"title|headline|heading|hed\b")
_NOISE_CLASS = re.compile(r"date|time|meta|byline|author|brand|source|category|label|"
                          r"sponsor|comment|count|tag|thumb|image|img|icon|views")
_MORE_LINK = re.compile(r"^(see|view|show|load|read|browse|get)\s+(all|more)\b|^more\W*$|"
                        r"^(next|previous|prev)\W*$|^\W*$|^(recommended|powered|ads|sponsored|"
                        r"promoted) by\b|^what'?s this|^ad ?choices|^report this ad", re.I)
_PROMO = re.compile(
    r"^(?P<head>read more|related|related stories|related articles|related coverage|"
    r"related content|see also|also read|read also|read next|more|recommended|watch|"
    r"listen|also|must read|don't miss|dont miss|recommended reading|further reading|"
    r"read this|related story|related article|more on this story|more on this)\s*"
    r"(?:[:|–—»>-]\s*)(?P<rest>.+)$",
    re.I,
)


@dataclass
class _Stats:
    text: int = 0       # visible characters
    link_text: int = 0  # of which inside links
    links: int = 0
    paragraphs: int = 0  # <p> with a sentence or more of text outside links
    h1: int = 0


def _node_stats(tree: _Tree) -> dict[int, _Stats]:
    """Text, link-text and paragraph counts for every element, children before parents."""
    html = tree.html
    stats: dict[int, _Stats] = {}
    for node in reversed(list(tree.root.iter())):
        own = _Stats()
        if node.tag in _RAW_TEXT:
            stats[id(node)] = own
            continue
        for part in node.parts:
            if isinstance(part, tuple):
                segment = html[part[0]:part[1]]
                if "&" in segment:
                    segment = html_lib.unescape(segment)
                own.text += len(" ".join(segment.split()))
            else:
                child = stats[id(part)]
                own.text += child.text
                own.link_text += child.link_text
                own.links += child.links
                own.paragraphs += child.paragraphs
                own.h1 += child.h1
        if node.tag == "a" and node.attrs.get("href"):
            own.links += 1
            own.link_text = own.text
        if node.tag == "p" and own.text - own.link_text >= 120:
            own.paragraphs += 1
        if node.tag == "h1":
            own.h1 += 1
        stats[id(node)] = own
    return stats


@dataclass(frozen=True)
class _Block:
    """A related-posts block found in the page: its span, heading and items."""

    start: int
    end: int
    kind: str  # "widget" (class or id marker), "heading", "aside" (link block after the article)
    heading: str | None
    items: tuple[TailItem, ...]
    parts: tuple[tuple[int, int], ...] = ()  # the blocks merged into this one


class _HtmlPage:
    """Everything :func:`parse_html` learns about one page."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.tree = build_tree(html)
        self.stats = _node_stats(self.tree)
        self.nodes = list(self.tree.root.iter())
        root_stats = self.stats[id(self.tree.root)]
        self.page_plain = max(1, root_stats.text - root_stats.link_text)
        self.page_paragraphs = root_stats.paragraphs

    def s(self, node: _Node) -> _Stats:
        return self.stats[id(node)]

    def text(self, node: _Node) -> str:
        return self.tree.text(node)

    def link_density(self, node: _Node) -> float:
        stats = self.s(node)
        return stats.link_text / stats.text if stats.text else 0.0

    def holds_article(self, node: _Node) -> bool:
        """Whether ``node`` contains the article (so it cannot be a related block)."""
        stats = self.s(node)
        if node.tag in ("body", "html", "#document", "main"):
            return True
        if stats.h1 and stats.paragraphs >= 2:
            return True
        if node.attrs.get("itemprop", "").lower() == "articlebody":
            return True
        plain = stats.text - stats.link_text
        if plain > 400 and plain > 0.4 * self.page_plain:
            return True
        # A related list has short teasers; several long paragraphs are an article.
        return stats.paragraphs >= 3 and stats.paragraphs > 0.3 * self.page_paragraphs

    # -- widget and heading blocks ---------------------------------------------------------

    def widget_blocks(self) -> list[_Node]:
        """Outermost elements whose class or id marks a related-posts widget."""
        found: list[_Node] = []
        for node in self.nodes:
            if node.tag not in _BLOCK_TAGS or (found and found[-1].contains(node)):
                continue
            marker = node.marker
            if not marker.strip() or not _MARKER.search(marker):
                continue
            widget = bool(_WIDGET_MARKER.search(marker))
            # Generic words ("related", "trending") also name tag lists and menus; a
            # plugin's or a recirculation module's own name does not.
            if not widget and not _NAMED_MARKER.search(marker) and \
                    _NOT_RELATED.search(marker.replace("related", "")):
                continue
            if self.holds_article(node):
                continue
            if widget or self.s(node).links >= 1:
                found.append(node)
        return found

    def heading_blocks(self) -> list[tuple[_Node, _Node, _Node]]:
        """``(first, last, heading)`` element runs that start with a tail heading
        ("Related Posts", "More stories") and go on with lists of links."""
        runs: list[tuple[_Node, _Node, _Node]] = []
        seen: set[int] = set()
        for node in self.nodes:
            if node.tag in ("a", "li", "h1", "#document", "html", "body", "title") or \
                    id(node) in seen:
                continue
            stats = self.s(node)
            if not 0 < stats.text <= 80 or stats.paragraphs:
                continue
            text = self.text(node)
            if "\n" in text or not is_tail_heading(text):
                continue
            head = node
            while head.parent is not None and head.parent.tag not in ("body", "#document") \
                    and self.text(head.parent) == text:
                head = head.parent
            for inner in head.iter():
                seen.add(id(inner))
            run = self._links_after(head)
            if run is not None:
                runs.append((head, run, node))
        return runs

    def _links_after(self, head: _Node) -> _Node | None:
        """The last of the link-list siblings that follow ``head``, or None.

        Stops at the first sibling (or bare text) that is not a list of links, so a
        "Read more" heading over article paragraphs opens no block.
        """
        parent = head.parent
        if parent is None:
            return None
        index = next(i for i, p in enumerate(parent.parts) if p is head)
        last = None
        for part in parent.parts[index + 1:]:
            if isinstance(part, tuple):
                if _visible(self.html[part[0]:part[1]]):
                    break
                continue
            stats = self.s(part)
            if stats.text == 0:
                continue
            if self.is_link_list(part) and not is_tail_heading(self.text(part)):
                last = part
                continue
            break
        return last

    def is_link_list(self, node: _Node) -> bool:
        """Links, or cards of a link and a short teaser each: not article prose."""
        stats = self.s(node)
        if not stats.links or self.holds_article(node):
            return False
        density = self.link_density(node)
        plain_per_link = (stats.text - stats.link_text) / stats.links
        return density >= 0.5 or (density >= 0.25 and plain_per_link <= 250)

    def widen(self, start: _Node, end: _Node) -> tuple[int, int]:
        """The span of ``start``..``end``, widened to wrappers that hold nothing else."""
        first, last = start, end
        while first is last or first.parent is last.parent:
            parent = first.parent
            if parent is None or parent.tag in ("body", "html", "#document", "main", "article"):
                break
            before = _visible(self.html[parent.open_end:first.start])
            after = _visible(self.html[last.end:parent.end])
            if before or after or self.holds_article(parent):
                break
            first = last = parent
        return first.start, last.end

    # -- navigation, forms, promos and generic link blocks -----------------------------------

    def navigation(self) -> list[_Node]:
        """Menus and breadcrumbs (``<nav>``, ``role=navigation``, class or id ``nav`` /
        ``menu``): never article text, whatever trafilatura makes of an unusual layout."""
        found: list[_Node] = []
        for node in self.nodes:
            if found and found[-1].contains(node):
                continue
            named = node.tag == "nav" or node.attrs.get("role", "").lower() == "navigation" \
                or bool(_NAV_MARKER.search(node.marker))
            if named and self.s(node).links and self.link_density(node) >= 0.5 \
                    and not self.holds_article(node):
                found.append(node)
        return found

    def form_boxes(self) -> list[_Node]:
        """Newsletter, subscribe and search boxes: a form and a few words around it."""
        found: list[_Node] = []
        for node in self.nodes:
            if node.tag != "form" or any(f.contains(node) for f in found):
                continue
            box = node
            while box.parent is not None and box.parent.tag not in ("body", "#document") and \
                    self.s(box.parent).text - self.s(box.parent).link_text <= 300 and \
                    not self.s(box.parent).paragraphs and not self.holds_article(box.parent):
                box = box.parent
            found.append(box)
        return found


    def promos(self) -> list[_Node]:
        """In-article "Read more: <link>" paragraphs: not the tail, not article text."""
        found: list[_Node] = []
        for node in self.nodes:
            if node.tag not in ("p", "div", "li", "h3", "h4", "h5", "h6", "strong", "aside") \
                    or (found and found[-1].contains(node)):
                continue
            stats = self.s(node)
            if not stats.links or stats.text > 250 or stats.paragraphs:
                continue
            text = self.text(node).replace("\n", " ")
            match = _PROMO.match(text)
            if match and stats.link_text >= 0.5 * len(match.group("rest")):
                found.append(node)
        return found

    def aside_blocks(self, after: int) -> list[_Node]:
        """``<aside>`` / ``<section>`` blocks of headline links after offset ``after``."""
        found: list[_Node] = []
        for node in self.nodes:
            if node.tag not in ("aside", "section") or node.start < after:
                continue
            if found and found[-1].contains(node):
                continue
            if _NOT_RELATED.search(node.marker) or self.holds_article(node):
                continue
            links = self.tree.links(node)
            headlines = [a for a in links if len(self.text(a).split()) >= 4]
            if len(headlines) >= 2 and self.link_density(node) >= 0.6:
                found.append(node)
        return found

    # -- items -----------------------------------------------------------------------------

    def items(self, start: int, end: int) -> tuple[TailItem, ...]:
        """The related items (title, URL, teaser) in the span ``start``..``end``."""
        nodes = [n for n in self.nodes if start <= n.start and n.end <= end]
        heading_nodes = [n for n in nodes if self.s(n).text <= 80 and "\n" not in self.text(n)
                         and self.s(n).text and is_tail_heading(self.text(n))]
        links = [
            n for n in nodes
            if n.tag == "a" and n.attrs.get("href")
            and not any(h.contains(n) or h is n for h in heading_nodes)
            and not _MORE_LINK.match(self.text(n) or "")
            and (self.text(n) or n.attrs.get("title") or _img_alt(n))
        ]
        if not links:
            return ()
        groups = _item_groups(links)
        items: list[TailItem] = []
        seen: set[str] = set()
        for container, members in groups:
            for item in self._container_items(container, members):
                key = (item.url or item.title).strip().lower()
                if key and key not in seen and item.title:
                    seen.add(key)
                    items.append(item)
        return tuple(items)

    def _container_items(self, container: _Node, links: list[_Node]) -> list[TailItem]:
        by_url: dict[str, list[_Node]] = {}
        for link in links:
            by_url.setdefault(link.attrs["href"].strip(), []).append(link)
        if len(by_url) > 1:
            # Several headlines in one container without per-item wrappers.
            headline_urls = [u for u, ls in by_url.items()
                             if max(len(self.text(a).split()) for a in ls) >= 3]
            if len(headline_urls) > 1:
                return [TailItem(title=max((self.text(a) for a in by_url[u]), key=len)
                                 .replace("\n", " "), url=u) for u in headline_urls]
        title_node = next(
            (n for n in container.iter()
             if (n.tag in _HEADINGS or _TITLE_CLASS.search(n.attrs.get("class", "")))
             and self.text(n) and self.s(n).text <= 300 and not is_tail_heading(self.text(n))
             and not _NOISE_CLASS.search(n.attrs.get("class", "").replace("title", ""))),
            None,
        )
        best_link = max(links, key=lambda a: len(self._link_title(a)))
        if title_node is not None:
            title = self.text(title_node)
            inner = [a for a in links if title_node.contains(a) or a.contains(title_node)
                     or a is title_node]
            url = (inner or [best_link])[0].attrs["href"]
        else:
            title = self._link_title(best_link) or best_link.attrs.get("title", "") or \
                _img_alt(best_link)
            url = best_link.attrs["href"]
        title = " ".join(title.split())
        return [TailItem(title=title, url=url.strip(), teaser=self._teaser(container, title))]

    def _link_title(self, link: _Node) -> str:
        """A link's text without its source / brand / date labels and rank numbers."""
        noisy = [n for n in link.iter() if n is not link
                 and (_NOISE_CLASS.search(n.attrs.get("class", "").replace("title", ""))
                      or re.fullmatch(r"\d{1,2}\.?", self.text(n)))]
        if not noisy:
            return self.text(link).replace("\n", " ")
        pieces = []
        for node in link.iter():
            if any(n is node or n.contains(node) for n in noisy):
                continue
            pieces.extend(html_lib.unescape(self.html[a:b]) for a, b in
                          (p for p in node.parts if isinstance(p, tuple)))
        return " ".join(" ".join(pieces).split())

    def _teaser(self, container: _Node, title: str) -> str:
        """An item's teaser: an element classed excerpt / summary, else the item's text
        outside its title, dates, bylines and brand labels (when that is a phrase)."""
        for node in container.iter():
            if node is not container and _TEASER_CLASS.search(node.attrs.get("class", "")):
                text = " ".join(self.text(node).split())
                if text and text != title:
                    return text
        pieces: list[str] = []
        stack: list[Any] = [container]
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):
                pieces.append(html_lib.unescape(self.html[item[0]:item[1]]))
                continue
            if isinstance(item, str):
                pieces.append(item)
                continue
            if item is not container and (
                    item.tag in _HEADINGS or item.tag in _RAW_TEXT or item.tag == "time"
                    or (item.tag == "a" and _norm(self._link_title(item)) == _norm(title))
                    or _NOISE_CLASS.search(item.attrs.get("class", ""))
                    or _TITLE_CLASS.search(item.attrs.get("class", ""))):
                continue
            stack.append(" ")
            stack.extend(reversed(item.parts))
            stack.append(" ")
        text = " ".join(_TEASER_NOISE.sub(" ", " ".join("".join(pieces).split())).split())
        if _norm(text) == _norm(title) or not text:
            return ""
        if text.endswith(_ELLIPSIS) or len(text.split()) >= 5:
            return text
        return ""


def _visible(fragment: str) -> str:
    """Visible text of an HTML fragment (tags, comments and scripts dropped)."""
    fragment = re.sub(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", "", fragment, flags=re.S | re.I)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]*>", " ", fragment)).split())


def _img_alt(node: _Node) -> str:
    for inner in node.iter():
        if inner.tag == "img" and inner.attrs.get("alt", "").strip():
            return inner.attrs["alt"].strip()
    return ""


def _item_groups(links: list[_Node]) -> list[tuple[_Node, list[_Node]]]:
    """Links grouped by item: under the deepest element that holds them all, each child
    that holds links is one item (a ``<li>``, a card ``<div>``, or the link itself)."""
    if len(links) == 1:
        container = links[0]
        for ancestor in links[0].ancestors():
            if ancestor.tag in ("li", "article", "div", "td", "dd", "p") and ancestor.tag:
                container = ancestor
                break
        return [(container, links)]
    paths = [list(reversed([link, *link.ancestors()])) for link in links]
    depth = 0
    while all(len(p) > depth + 1 for p in paths) and len({id(p[depth + 1]) for p in paths}) == 1:
        depth += 1
    groups: dict[int, tuple[_Node, list[_Node]]] = {}
    for path, link in zip(paths, links):
        child = path[depth + 1] if len(path) > depth + 1 else link
        groups.setdefault(id(child), (child, []))[1].append(link)
    return list(groups.values())


# -- HTML: title, body, tail -----------------------------------------------------------------

# trafilatura's settings, by the bench (bench/tail_detection.py) on the labelled pages.
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_comments": False, "include_tables": True, "include_images": False,
    "include_links": False, "deduplicate": False,
}
# Above this size a page is parsed anyway, with a warning: template bloat, not text.
LARGE_PAGE = 5_000_000

_FURNITURE_HTML = re.compile(
    r"^(advertisement|advertising|ad|sponsored|story continues( below)?( advertisement)?|"
    r"continue reading( below)?|article continues below|skip to (main )?content|"
    r"scroll to continue|subscribe|sign up|loading|loading\.\.\.|close|menu|search|"
    r"click here to (read|subscribe).*|listen to (this|the) (article|story).*|"
    r"\d+ min(ute)?s? read|view comments|share|share this( article)?)"
    r"[\s.:!]*$",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(by|written by|von|par|por)\s+\S.{0,80}$", re.IGNORECASE)


def parse_html(html: str, *, filename: str | None = None,
               extractor: dict[str, Any] | None = None) -> Document:
    """Title, article text and related-posts block of an HTML page.

    Related blocks (widgets marked by class or id, headed link lists, link-only
    ``<aside>``/``<section>`` after the article) and in-article "Read more: <link>" promos
    are cut out of the page before trafilatura extracts the article text, so neither ends
    up in the body. The first block after the article's last paragraph is the tail; a
    page without one gets an empty tail span just after its ``<article>`` (or after the
    last paragraph), where a new block goes. ``extractor`` overrides
    :data:`TRAFILATURA_OPTIONS` (the bench uses it). Never raises on malformed HTML.
    """
    warnings: list[str] = []
    where = _where(filename)
    if len(html) > LARGE_PAGE:
        warnings.append(f"{where}: large page ({len(html) / 1e6:.1f} MB); parsed anyway, "
                        "which takes a few seconds")
    page = _HtmlPage(html)
    blocks: list[_Block] = []
    for node in page.widget_blocks():
        blocks.append(_Block(node.start, node.end, "widget", _first_heading(page, node), ()))
    for head, last, heading_node in page.heading_blocks():
        start, end = page.widen(head, last)
        if not any(b.start <= start and end <= b.end for b in blocks):
            blocks.append(_Block(start, end, "heading", page.text(heading_node), ()))
    blocks = _merge_blocks(html, blocks)
    promos = [n for n in page.promos()
              if not any(b.start <= n.start and n.end <= b.end for b in blocks)]
    furniture = [n for n in page.navigation() + page.form_boxes()
                 if not any(b.start <= n.start and n.end <= b.end for b in blocks)]
    cut = [(b.start, b.end) for b in blocks] + [(n.start, n.end) for n in promos + furniture]
    title = _html_title(page)
    lines, extract_warning = _extract_lines(_cut_spans(html, cut), extractor)
    if extract_warning:
        warnings.append(f"{where}: {extract_warning}")
    link_texts = _link_texts(page)
    lines = _filter_body(lines, title, link_texts)
    last_node = _locate_last_line(page, lines, cut)
    after = last_node.start if last_node is not None else 0
    # A "See also: <link> <link>" paragraph after the article's end is its tail.
    blocks = _merge_blocks(html, blocks + [
        _Block(n.start, n.end, "promo", None, ()) for n in promos
        if n.start >= after and page.s(n).links >= 2])
    if last_node is not None and not any(b.start >= after for b in blocks):
        for node in page.aside_blocks(last_node.end):
            blocks.append(_Block(node.start, node.end, "aside", _first_heading(page, node), ()))
        blocks = _merge_blocks(html, blocks)
    blocks = [replace(b, items=tuple(item for start, end in b.parts
                                     for item in page.items(start, end))) for b in blocks]
    block_titles = {_norm(i.title) for b in blocks for i in b.items}
    lines = [line for line in lines if _norm(line) not in block_titles]
    tail = next((b for b in blocks if b.start >= after), None)
    if tail is None:
        position = _insertion_point(page, last_node)
        tail_start = tail_end = position
        items: tuple[TailItem, ...] = ()
        heading = None
    else:
        tail_start, tail_end, items, heading = tail.start, tail.end, tail.items, tail.heading
    body = "\n".join(lines)
    if lines and _mostly_links(lines, link_texts):
        warnings.append(f"{where}: the text found is mostly link titles (navigation or an "
                        "index page), not an article")
        body = ""
    return Document(
        text=html,
        format="html",
        title=title,
        body=body,
        tail=items,
        tail_heading=heading,
        tail_start=tail_start,
        tail_end=tail_end,
        tail_style="html",
        ellipsis="…" if any(i.teaser.endswith("…") for i in items) else "...",
        meta={
            "blocks": [{"kind": b.kind, "start": b.start, "end": b.end, "heading": b.heading,
                        "items": len(b.items)} for b in blocks],
            "promos": len(promos),
            "furniture": len(furniture),
        },
        warnings=tuple(warnings),
    )


def _first_heading(page: _HtmlPage, node: _Node) -> str | None:
    for inner in node.iter():
        if inner.tag in _HEADINGS or _TITLE_CLASS.search(inner.attrs.get("class", "")):
            text = page.text(inner)
            if text and "\n" not in text and len(text) <= 80:
                return text if is_tail_heading(text) or inner.tag in _HEADINGS else None
        if inner.tag == "a":
            break
    return None


def _merge_blocks(html: str, blocks: list[_Block]) -> list[_Block]:
    """Blocks in page order; nested ones dropped, neighbours with nothing visible between
    them (a YARPP list right above a Taboola feed) joined into one."""
    merged: list[_Block] = []
    for block in sorted(blocks, key=lambda b: (b.start, -b.end)):
        parts = block.parts or ((block.start, block.end),)
        if merged and block.start < merged[-1].end:
            last = merged[-1]
            if block.end > last.end:  # overlapping, not nested: keep both parts
                merged[-1] = replace(last, end=block.end, parts=last.parts + parts)
            continue
        if merged and not _visible(html[merged[-1].end:block.start]):
            last = merged[-1]
            merged[-1] = replace(last, end=block.end, heading=last.heading or block.heading,
                                 parts=last.parts + parts)
            continue
        merged.append(replace(block, parts=parts))
    return merged


def _cut_spans(html: str, spans: list[tuple[int, int]]) -> str:
    pieces, position = [], 0
    for start, end in sorted(spans):
        if start >= position:
            pieces.append(html[position:start])
            position = end
        else:
            position = max(position, end)
    pieces.append(html[position:])
    return "".join(pieces)


def _extract_lines(html: str, extractor: dict[str, Any] | None) -> tuple[list[str], str | None]:
    """The article text as lines (trafilatura), and a warning if it had to fall back."""
    import trafilatura

    options = dict(TRAFILATURA_OPTIONS, **(extractor or {}))
    text: str | None = None
    try:
        text = trafilatura.extract(html, output_format="txt", **options)
        if not text:
            text = trafilatura.extract(html, output_format="txt",
                                       **dict(options, favor_precision=False, favor_recall=True))
    except Exception as exc:  # noqa: BLE001 - a third-party failure must not crash a batch
        fallback = _paragraph_lines(html)
        return fallback, f"trafilatura failed ({type(exc).__name__}); used paragraph text"
    if not text:
        fallback = _paragraph_lines(html)
        return fallback, ("trafilatura found no article; used the page's paragraphs"
                          if fallback else None)
    return [line.strip() for line in text.split("\n") if line.strip()], None


def _paragraph_lines(html: str) -> list[str]:
    """Fallback article text: the page's paragraphs that hold a sentence or more."""
    tree = build_tree(html)
    lines = []
    for node in tree.root.iter():
        if node.tag == "p":
            text = " ".join(tree.text(node).split())
            if len(text) >= 40 and _SENTENCE_END.search(text):
                lines.append(text)
    return lines


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _link_texts(page: _HtmlPage) -> set[str]:
    return {_norm(page.text(a)) for a in page.nodes if a.tag == "a" and a.attrs.get("href")}


def _filter_body(lines: list[str], title: str, link_texts: set[str]) -> list[str]:
    """Drop what trafilatura keeps but is not article text: the title repeated, bylines,
    share and "Advertisement" lines, "Read more: <link>" promos, tag lines, footers."""
    kept: list[str] = []
    title_norm = _norm(title)
    for index, line in enumerate(lines):
        norm = _norm(line)
        if not norm:
            continue
        if index < 3 and not kept and (norm == title_norm or _BYLINE.match(line)
                                       and len(line.split()) <= 12):
            continue
        if not kept and title_norm and norm.startswith(title_norm + " "):
            # The headline run into the first paragraph (no block between them).
            words = [re.escape(w) for w in title_norm.split()]
            line = re.sub(r"^\W*" + r"\W+".join(words) + r"\W*", "", line, count=1,
                          flags=re.IGNORECASE)
        if _FURNITURE_HTML.match(line) or _is_furniture(line):
            continue
        if norm in ("read more", "comments", "continue reading", "more") and norm in link_texts:
            continue  # a button, not a subheading
        promo = _PROMO.match(line)
        if promo and _norm(promo.group("rest")) in link_texts:
            continue
        kept.append(line)
    # Left-overs of removed blocks at the end: a lone "Related" heading, a copyright line.
    while kept and (_FOOTER_LINE.match(kept[-1]) or is_tail_heading(kept[-1])):
        kept.pop()
    return kept


def _mostly_links(lines: list[str], link_texts: set[str]) -> bool:
    """Whether the "article" is a list of link titles: an index or navigation page."""
    linked = sum(len(line) for line in lines if _norm(line) in link_texts)
    return linked > 0.6 * sum(len(line) for line in lines)


def _locate_last_line(page: _HtmlPage, lines: list[str], cut: list[tuple[int, int]]
                      ) -> _Node | None:
    """The element that holds the body's last line (outside the cut blocks)."""
    candidates = [
        n for n in page.nodes
        if n.tag in ("p", "li", "blockquote", "pre", "td", "dd", "div", "span", "figcaption",
                     "section", "article", "main", "body", "font", "center") + _HEADINGS
        and not any(s <= n.start and n.end <= e for s, e in cut)
    ]
    for line in reversed(lines[-5:]):
        probe = _norm(line)[:60]
        if not probe:
            continue
        # Latest-starting first: the first element that holds the line is the innermost
        # one (its ancestors start earlier). Huge ancestors are skipped, not read.
        for node in reversed(candidates):
            if page.s(node).text <= 20 * len(line) + 2000 and probe in _norm(page.text(node)):
                return node
    return None


def _insertion_point(page: _HtmlPage, last: _Node | None) -> int:
    """Where a new related block goes: after the ``<article>`` that holds the last body
    line, else after that line's block; without a body, before ``</body>``."""
    if last is not None:
        for ancestor in [last, *last.ancestors()]:
            if ancestor.tag == "article":
                return ancestor.end
        node = last
        while node.parent is not None and node.parent.tag in (
                _INLINE | {"li", "ul", "ol", "dl", "dd", "dt", "table", "tbody", "tr", "td",
                           "th", "blockquote", "p", "figure"}):
            node = node.parent
        return node.end
    lower = page.html.lower()
    for closing in ("</article>", "</main>", "</body>"):
        position = lower.rfind(closing)
        if position >= 0:
            return position + (len(closing) if closing == "</article>" else 0)
    return len(page.html)


def _html_title(page: _HtmlPage) -> str:
    """The headline: an ``<h1>`` that the ``<title>`` or ``og:title`` confirms, else
    ``og:title``, else the first ``<h1>``, else ``<title>`` without the site name."""
    og = ""
    title_tag = ""
    for node in page.nodes:
        if node.tag == "meta" and node.attrs.get("property", node.attrs.get("name", "")).lower() \
                in ("og:title", "twitter:title") and not og:
            og = " ".join(node.attrs.get("content", "").split())
        elif node.tag == "title" and not title_tag:
            title_tag = " ".join(html_lib.unescape(page.html[node.open_end:node.end]
                                                    .rsplit("<", 1)[0]).split())
    h1s = [" ".join(page.text(n).split()) for n in page.nodes if n.tag == "h1"]
    h1s = [h for h in h1s if _norm(h)]
    hint = _norm(og or _trim_site_name(title_tag))
    # A logo in an <h1> repeats the site name, which the hint has not: only the headline
    # <h1> agrees with og:title (or with the <title> less its site name).
    confirmed = [h1 for h1 in h1s if hint and (_norm(h1) in hint or hint in _norm(h1))]
    if confirmed:
        return max(confirmed, key=len)
    if og:
        return og
    if h1s:
        return h1s[0]
    return _trim_site_name(title_tag)


def _trim_site_name(title: str) -> str:
    parts = re.split(r"\s+[|–—:·•]\s+|\s+-\s+|\s+::\s+", title)
    return max(parts, key=len).strip() if parts else title


# -- JSON ------------------------------------------------------------------------------------

_TITLE_KEYS = ("title", "headline", "name")
_BODY_KEYS = ("body", "text", "content", "articleBody", "article_body", "body_text")
_RELATED_KEYS = ("related", "related_posts", "relatedPosts", "related_articles",
                 "relatedArticles", "tail")
_ITEM_TITLE_KEYS = ("title", "headline", "name")
_ITEM_URL_KEYS = ("url", "link", "href", "permalink")
_ITEM_TEASER_KEYS = ("teaser", "excerpt", "summary", "description", "snippet")
_JSON_WS = re.compile(r"[ \t\n\r]*")


def parse_json(text: str, *, filename: str | None = None) -> Document:
    """One JSON record: ``title`` (or ``headline``), ``body`` (or ``text``, ``content``,
    ``articleBody``) and an optional ``related`` list of ``{"title", "url", "teaser"}``
    objects (or plain titles).

    The tail span is the ``related`` value in the text, so a rewrite replaces only it and
    keeps every other byte; a record without one gets an empty span after its last value,
    where a ``"related"`` key is inserted.
    """
    where = _where(filename)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(where, f"invalid JSON ({exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno}); expected one object with 'title' and 'body'") from None
    if isinstance(record, list):
        raise ParseError(where, f"holds a list of {len(record)} records; a page is one object "
                         "(use parse on the file to read every record, or ingest it)")
    if not isinstance(record, dict):
        raise ParseError(where, f"holds a JSON {type(record).__name__}; expected one object "
                         "with 'title' and 'body' (or 'text')")
    spans, closing = _top_level_spans(text)
    related_key = next((k for k in _RELATED_KEYS if k in record), None)
    related = record.get(related_key) if related_key else None
    items = tuple(_json_item(r) for r in related if _json_item(r) is not None) \
        if isinstance(related, list) else ()
    layout = _json_layout(text, spans, related_key)
    if related_key and related_key in spans:
        tail_start, tail_end = spans[related_key]
    else:
        tail_start = tail_end = max((end for _, end in spans.values()), default=closing)
    return Document(
        text=text,
        format="json",
        title=_json_text(_first(record, _TITLE_KEYS)),
        body=_json_text(_first(record, _BODY_KEYS)),
        tail=items,  # type: ignore[arg-type]
        tail_start=tail_start,
        tail_end=tail_end,
        tail_style="json",
        meta={"record": record, "related_key": related_key if related_key in spans else None,
              "has_keys": bool(spans), **layout},
    )


def _first(record: dict[str, Any], keys: Sequence[str]) -> Any:
    return next((record[k] for k in keys if record.get(k) not in (None, "")), "")


def _json_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n\n".join(_json_text(v) for v in value if v not in (None, ""))
    return "" if value is None else str(value).strip()


def _json_item(value: Any) -> TailItem | None:
    if isinstance(value, str) and value.strip():
        return TailItem(title=value.strip())
    if not isinstance(value, dict):
        return None
    title = _json_text(_first(value, _ITEM_TITLE_KEYS))
    url = _first(value, _ITEM_URL_KEYS) or None
    if not title and not url:
        return None
    return TailItem(title=title or str(url), teaser=_json_text(_first(value, _ITEM_TEASER_KEYS)),
                    url=str(url) if url else None)


def _top_level_spans(text: str) -> tuple[dict[str, tuple[int, int]], int]:
    """``{key: (value_start, value_end)}`` of the top-level object, and the offset of its
    closing brace. ``text`` is already known to be one valid JSON object."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    i = _JSON_WS.match(text, 0).end() + 1  # past "{"
    i = _JSON_WS.match(text, i).end()
    while text[i] != "}":
        key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        i = _JSON_WS.match(text, i).end() + 1  # past ":"
        i = _JSON_WS.match(text, i).end()
        _, end = decoder.raw_decode(text, i)
        spans[key] = (i, end)
        i = _JSON_WS.match(text, end).end()
        if text[i] == ",":
            i = _JSON_WS.match(text, i + 1).end()
    return spans, i


def _json_layout(text: str, spans: dict[str, tuple[int, int]], key: str | None
                 ) -> dict[str, Any]:
    """Indentation and escaping of the record, so a new ``related`` value matches it."""
    newline = _newline_of(text)
    anchor = spans[key][0] if key in spans else (min(s for s, _ in spans.values())
                                                 if spans else 0)
    line_start = text.rfind("\n", 0, anchor) + 1
    indented = "\n" in text.strip()
    key_indent = re.match(r"[ \t]*", text[line_start:]).group() if indented else ""
    unit = key_indent or ("  " if indented else "")
    ascii_only = text.isascii() and "\\u" in text
    return {"newline": newline, "key_indent": key_indent, "indent": unit,
            "ensure_ascii": ascii_only, "indented": indented}
