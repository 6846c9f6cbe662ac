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

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from .decode import _check_not_binary, decode_page
from .document import (
    FORMATS,
    BinaryDataError,
    Document,
    InvalidJsonError,
    NoArticleError,
    PageMetadata,
    ParseError,
    TailLayout,
    UnknownFormatError,
    _where,
)
from .html import LARGE_PAGE, RELATED_BLOCK_MARKERS, TRAFILATURA_OPTIONS, build_tree, parse_html
from .records import load_json, parse_json
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
    "FORMATS", "LARGE_PAGE", "MAX_TAIL_LINE", "MAX_TITLE", "RELATED_BLOCK_MARKERS",
    "STRONG_HEADINGS", "TAIL_HEADINGS", "TRAFILATURA_OPTIONS", "WEAK_HEADINGS",
    "BinaryDataError", "Document", "InvalidJsonError", "NoArticleError", "PageMetadata", "ParseError", "TailLayout",
    "UnknownFormatError", "build_tree", "decode_page", "detect_format", "is_tail_heading",
    "load_json", "markdown_to_text", "normalise_heading", "parse_document", "parse_html", "parse_json",
    "parse_records", "parse_tail_items", "parse_text",
]


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

    Args:
        text: the page, as text or as bytes (decoded with :func:`decode_page`).
        format: one of ``FORMATS``; None detects it from ``filename`` and the content.
        filename: picks the format by extension when ``format`` is not given, and names
            the page in errors.

    Returns:
        The :class:`Document`: title, body, the tail found (if any) and warnings.

    Raises:
        ParseError: (a :class:`ValueError`) :class:`BinaryDataError` for data that is not
            text, :class:`NoArticleError` for a page without article text (empty, only a
            related-posts tail, only links), :class:`UnknownFormatError`.
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

    Args:
        text: the file, as text or bytes (decoded with :func:`decode_page`).
        filename: names the records in locations and errors.

    Yields:
        ``(location, document or error)`` with locations such as ``file:3`` (line) or
        ``file[2]`` (array index), so one bad record does not stop the others.
    """
    where = _where(filename)
    warnings: list[str] = []
    if isinstance(text, (bytes, bytearray)):
        text, warnings = decode_page(bytes(text), filename)
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = load_json(text, where, "expected JSON Lines, a JSON array or {\"articles\": [...]}")
        except InvalidJsonError:
            data = None  # not one JSON value: read it as JSON Lines below
        except ParseError as exc:  # one JSON value that cannot be read at all
            yield where, exc
            return
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
