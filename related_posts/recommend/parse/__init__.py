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
article raise a :class:`ParseError` that names the file, and so does an HTML page with
more than :data:`MAX_PAGE` characters of markup (:class:`PageTooLargeError`; the
``max_page`` argument sets another limit); best-effort repairs (a wrong declared charset,
mixed encodings, a huge page) are listed in ``Document.warnings``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from .decode import _check_not_binary, decode_page
from .document import (
    FORMATS,
    BinaryDataError,
    Document,
    InvalidJsonError,
    NoArticleError,
    PageMetadata,
    PageTooLargeError,
    ParseError,
    TailLayout,
    UnknownFormatError,
    _where,
)
from .fields import FieldMap
from .html import (
    LARGE_PAGE,
    MAX_PAGE,
    RELATED_BLOCK_MARKERS,
    TRAFILATURA_OPTIONS,
    build_tree,
    page_size,
    parse_html,
)
from .meta import html_metadata, load_mapping, merge
from .records import RECORD_FORMATS, load_json, parse_json, parse_records
from .text import (
    MAX_TAIL_LINE,
    MAX_TITLE,
    STRONG_HEADINGS,
    TAIL_HEADINGS,
    WEAK_HEADINGS,
    is_tail_heading,
    markdown_to_text,
    normalise_heading,
    parse_tail_items,
    parse_text,
)

__all__ = [
    "FORMATS", "LARGE_PAGE", "MAX_PAGE", "PAGE_FORMATS", "RECORD_FORMATS", "SUFFIXES", "XML_SUFFIXES", "FieldMap", "MAX_TAIL_LINE", "MAX_TITLE", "RELATED_BLOCK_MARKERS",
    "STRONG_HEADINGS", "TAIL_HEADINGS", "TRAFILATURA_OPTIONS", "WEAK_HEADINGS",
    "BinaryDataError", "Document", "InvalidJsonError", "NoArticleError", "PageMetadata", "PageTooLargeError", "ParseError", "TailLayout",
    "UnknownFormatError", "build_tree", "decode_page", "detect_format", "is_tail_heading", "load_mapping",
    "load_json", "markdown_to_text", "normalise_heading", "page_size", "parse_document", "parse_html", "parse_json",
    "parse_file", "parse_records", "parse_tail_items", "parse_text", "suffix_of",
]


# -- entry points ----------------------------------------------------------------------------


#: Pages (one article each) by suffix, and the format each is read as.
PAGE_FORMATS = {
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".shtml": "html",
    ".txt": "text", ".text": "text",
}
#: Every suffix a file may have to be read: pages, records (``RECORD_FORMATS``) and XML
#: sources (feeds, WordPress exports, sitemaps).
XML_SUFFIXES = (".xml", ".rss", ".atom")
SUFFIXES = tuple(sorted(set(PAGE_FORMATS) | set(RECORD_FORMATS) | set(XML_SUFFIXES)))


def suffix_of(filename: str) -> str:
    """The lower-case suffix of a file name (``.md``), or "" without one."""
    name = filename.rsplit("/", 1)[-1]
    return "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""


def detect_format(text: str, filename: str | None = None) -> str:
    """The format of a page from its file extension, else from its first characters."""
    if filename:
        suffix = suffix_of(filename)
        if suffix in PAGE_FORMATS:
            return PAGE_FORMATS[suffix]
        if suffix == ".json":
            return "json"
    head = text.lstrip()[:1000].lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")) or "<body" in head or "<head" in head:
        return "html"
    if head.startswith("{"):
        return "json"
    if head.startswith(("# ", "---\n", "---\r\n", "+++\n", "+++\r\n")):
        return "markdown"
    return "text"


def parse_document(text: str | bytes, format: str | None = None,
                   filename: str | None = None, max_page: int | None = None) -> Document:
    """Parse a page in any supported format (``text``, ``markdown``, ``html``, ``json``).

    Args:
        text: the page, as text or as bytes (decoded with :func:`decode_page`).
        format: one of ``FORMATS``; None detects it from ``filename`` and the content.
        filename: picks the format by extension when ``format`` is not given, and names
            the page in errors.
        max_page: the most markup an HTML page may have, in characters (default
            :data:`MAX_PAGE`, read from ``related_posts.recommend.parse.html``; 0: no limit).

    Returns:
        The :class:`Document`: title, body, the tail found (if any) and warnings.

    Raises:
        ParseError: (a :class:`ValueError`) :class:`BinaryDataError` for data that is not
            text, :class:`NoArticleError` for a page without article text (empty, only a
            related-posts tail, only links), :class:`UnknownFormatError`,
            :class:`PageTooLargeError` for an HTML page over ``max_page``.
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
        document = parse_html(text, filename=filename, max_page=max_page)
        title, metadata = html_metadata(text)
        document = replace(document, metadata=merge(document.metadata, metadata),
                           title=document.title or title or "")
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


def parse_file(data: str | bytes, filename: str, fields: FieldMap | None = None,
               format: str | None = None, max_page: int | None = None
               ) -> Iterator[tuple[str, Document | ParseError]]:
    """Every article in one file, whatever its kind: the one input path of ingest and parse.

    Args:
        data: the file's bytes (decoded with :func:`decode_page`) or text.
        filename: picks the reader by suffix (:data:`SUFFIXES`) and names the file in
            locations and errors.
        fields: where records keep their fields (JSON, JSON Lines, CSV).
        format: read the file as this page format (one of ``FORMATS``) whatever its suffix.
        max_page: the size limit of an HTML page (see :func:`parse_document`).

    Yields:
        ``(location, document or error)``: one pair for a page; one per record, feed
        entry or exported post (locations ``file:3``, ``file[2]``, ``file#4``), so that
        one bad record does not stop the others.
    """
    warnings: list[str] = []
    try:
        if isinstance(data, (bytes, bytearray)):
            text, warnings = decode_page(bytes(data), filename)
        else:
            text = data
            _check_not_binary(text, filename)
        suffix = suffix_of(filename)
        if format is None and suffix in RECORD_FORMATS:
            found: Iterator[tuple[str, Document | ParseError]] = parse_records(text, filename, fields)
        elif format is None and suffix in XML_SUFFIXES:
            found = _xml_source(text, filename, max_page)
        else:
            found = iter([(filename, parse_document(text, format=format, filename=filename,
                                                    max_page=max_page))])
        for location, item in found:
            if warnings and isinstance(item, Document):
                item = replace(item, warnings=tuple(warnings) + item.warnings)
            yield location, item
    except ParseError as exc:
        yield filename, exc


def _xml_source(text: str, filename: str,
                max_page: int | None = None) -> Iterator[tuple[str, Document | ParseError]]:
    """A feed, a WordPress export, or an XHTML page saved as .xml."""
    from .feeds import is_feed, is_wxr, parse_feed, parse_wxr

    if is_wxr(text):
        yield from parse_wxr(text, filename)
    elif is_feed(text):
        yield from parse_feed(text, filename)
    else:
        yield filename, parse_document(text, filename=filename, max_page=max_page)


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
