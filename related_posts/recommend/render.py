"""Write a new related-posts tail in the page's own format and shape.

Pure functions. ``rewrite(document, items)`` keeps ``document.prefix`` and
``document.suffix`` byte for byte and puts the new tail between them.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import urlsplit

from ..article import TailItem
from .parse import Document

DEFAULT_HEADING = "Related Posts"
HTML_CLASS = "related-posts"


@dataclass(frozen=True)
class RenderOptions:
    """How the new tail looks. ``heading=None`` keeps the page's own heading."""

    heading: str | None = None
    teaser_chars: int = 80
    show_scores: bool = False


def make_teaser(body: str, max_chars: int = 80, ellipsis: str = "...") -> str:
    """The opening words of ``body``, cut at a word boundary, ending in an ellipsis."""
    words = " ".join(body.split())
    if len(words) <= max_chars:
        return words
    cut = words[: max_chars + 1].rsplit(" ", 1)[0].rstrip(",;:-–—")
    return cut + ellipsis


def rewrite(document: Document, items: Sequence[TailItem], options: RenderOptions | None = None,
            scores: Sequence[float] | None = None) -> str:
    """The document with its tail replaced by ``items`` (or a tail appended if it had none)."""
    options = options or RenderOptions()
    scores = scores if options.show_scores else None
    if document.format == "json":
        return render_json(document, items, scores)
    tail = render_tail(document, items, options, scores)
    return document.prefix + tail + document.suffix


def render_tail(document: Document, items: Sequence[TailItem],
                options: RenderOptions | None = None,
                scores: Sequence[float] | None = None) -> str:
    """Only the new tail, shaped like the page's existing one."""
    options = options or RenderOptions()
    scores = scores if options.show_scores else None
    if document.format == "html":
        return render_html_block(items, options.heading or DEFAULT_HEADING, scores)
    heading = options.heading or document.tail_heading or _default_heading(document)
    lead = _separator(document.prefix) if not document.has_tail else ""
    style = document.tail_style if document.has_tail else (
        "links" if document.format == "markdown" else "blocks"
    )
    lines = [heading, ""]
    for index, item in enumerate(items):
        score = f" ({scores[index]:.2f})" if scores else ""
        title = _one_line(item.title)
        teaser = _one_line(item.teaser)
        if style == "blocks":
            lines.append(title + score)
            if item.url:
                lines.append(item.url)
            lines.append("")
            if teaser:
                lines.extend([teaser, ""])
        else:
            if style == "links" and item.url:
                entry = f"[{_md_escape(title)}]({item.url})"
            else:
                entry = title + (f" {item.url}" if item.url else "")
            marker = f"{index + 1}." if style == "numbered" else "-"
            lines.append(f"{marker} {entry}{score}" + (f" — {teaser}" if teaser else ""))
    return lead + "\n".join(lines).rstrip("\n") + "\n"


def _default_heading(document: Document) -> str:
    return f"## {DEFAULT_HEADING}" if document.format == "markdown" else DEFAULT_HEADING


def _separator(prefix: str) -> str:
    """Newlines needed so an appended tail starts after one blank line."""
    if not prefix:
        return ""
    trailing = len(prefix) - len(prefix.rstrip("\n"))
    return "\n" * max(0, 2 - trailing)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _md_escape(text: str) -> str:
    return re.sub(r"([\[\]])", r"\\\1", text)


def safe_url(url: str | None) -> str | None:
    """``url`` if it is http(s) or relative; ``None`` for ``javascript:``, ``data:`` and the like."""
    if not url:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("", "http", "https") else None


def render_html_block(items: Sequence[TailItem], heading: str = DEFAULT_HEADING,
                      scores: Sequence[float] | None = None) -> str:
    """A ``<section class="related-posts">`` list; every title, teaser and URL is escaped."""
    rows = []
    for index, item in enumerate(items):
        title = html.escape(_one_line(item.title))
        url = safe_url(item.url)
        link = f'<a href="{html.escape(url, quote=True)}">{title}</a>' if url else title
        teaser = (
            f' <span class="{HTML_CLASS}__teaser">{html.escape(_one_line(item.teaser))}</span>'
            if item.teaser else ""
        )
        score = (
            f' <span class="{HTML_CLASS}__score">{scores[index]:.2f}</span>' if scores else ""
        )
        rows.append(f'  <li class="{HTML_CLASS}__item">{link}{teaser}{score}</li>')
    return (
        f'<section class="{HTML_CLASS}">\n<h2>{html.escape(heading)}</h2>\n<ul>\n'
        + "\n".join(rows)
        + "\n</ul>\n</section>\n"
    )


def render_json(document: Document, items: Sequence[TailItem],
                scores: Sequence[float] | None = None) -> str:
    """The JSON record with its ``related`` field replaced."""
    record = dict(document.meta.get("record") or {"title": document.title, "body": document.body})
    related = []
    for index, item in enumerate(items):
        entry = item.to_dict()
        if scores:
            entry["score"] = round(float(scores[index]), 4)
        related.append(entry)
    record["related"] = related
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"
