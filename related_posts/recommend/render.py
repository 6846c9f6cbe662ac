"""Write a new related-posts tail in the page's own format and shape.

Pure functions. ``rewrite(document, items)`` keeps ``document.prefix`` and
``document.suffix`` byte for byte and puts the new tail between them:

- text and Markdown: the page's own heading line(s) (``## Related``, ``**Read next**``, an
  underlined heading), item layout (title and teaser paragraphs, bullets, numbered lists,
  Markdown links, URLs on their own line), teaser separator, ellipsis and line ends; a
  page without a tail gets ``Related Posts`` (``## Related Posts`` and a list of links in
  Markdown) after one blank line;
- HTML: a ``<section class="related-posts">`` block in place of the old block, or after
  the article; every title, teaser and URL escaped, ``javascript:`` and ``data:`` URLs
  dropped;
- JSON: only the ``related`` value is replaced (or the key added), in the record's indent.

Rewriting a page with the tail it already has (same items, default options) gives the
page back unchanged.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlsplit

from ..article import TailItem
from .parse import Document
from .parse.html import OWN_BLOCK_CLASS

DEFAULT_HEADING = "Related Posts"
HTML_CLASS = OWN_BLOCK_CLASS  # the parser recognises its own block by it


@dataclass(frozen=True)
class RenderOptions:
    """How the new tail looks.

    ``heading``: heading text (``None`` keeps the page's own, else "Related Posts");
    ``max_items``: at most this many items (``None``: all given); ``teaser_chars``: teasers
    longer than this are cut at a word boundary (0: no teasers); ``show_scores``: print
    each item's similarity score.
    """

    heading: str | None = None
    teaser_chars: int = 80
    show_scores: bool = False
    max_items: int | None = None

    def __post_init__(self) -> None:
        if self.heading is not None and self.heading != _one_line(self.heading):
            # A heading is one line: a line break in it would add lines to a text tail.
            object.__setattr__(self, "heading", _one_line(self.heading))
        if self.teaser_chars < 0:
            raise ValueError(f"teaser_chars must be 0 or more, got {self.teaser_chars}")
        if self.max_items is not None and self.max_items < 0:
            raise ValueError(f"max_items must be 0 or more, got {self.max_items}")


def make_teaser(body: str, max_chars: int = 80, ellipsis: str = "...") -> str:
    """The opening words of ``body``, cut at a word boundary, ending in an ellipsis."""
    words = " ".join(body.split())
    if len(words) <= max_chars:
        return words
    cut = words[: max_chars + 1].rsplit(" ", 1)[0].rstrip(",;:-–—")
    return cut + ellipsis


def rewrite(document: Document, items: Sequence[TailItem], options: RenderOptions | None = None,
            scores: Sequence[float] | None = None) -> str:
    """The document with its tail replaced by ``items`` (or a tail added if it had none)."""
    options = options or RenderOptions()
    if _unchanged(document, items, options):
        return document.text
    return document.prefix + render_tail(document, items, options, scores) + document.suffix


def _unchanged(document: Document, items: Sequence[TailItem], options: RenderOptions) -> bool:
    """Whether the new tail is the old one: then the page is left exactly as it was."""
    return (document.has_tail and tuple(items) == document.tail and options.heading is None
            and not options.show_scores and options.max_items is None
            and all(len(i.teaser) <= options.teaser_chars for i in items))


def render_tail(document: Document, items: Sequence[TailItem],
                options: RenderOptions | None = None,
                scores: Sequence[float] | None = None) -> str:
    """Only the new tail, shaped like the page's existing one (what goes between
    ``document.prefix`` and ``document.suffix``)."""
    options = options or RenderOptions()
    chosen = list(items)[: options.max_items] if options.max_items is not None else list(items)
    scores = list(scores)[: len(chosen)] if (scores is not None and options.show_scores) else None
    chosen = [_with_teaser(item, options.teaser_chars, document.ellipsis) for item in chosen]
    if document.format == "html":
        heading = options.heading or document.tail_heading or DEFAULT_HEADING
        return render_html_block(chosen, _plain_heading(heading), scores)
    if document.format == "json":
        return _json_tail(document, chosen, scores)
    return _text_tail(document, chosen, options, scores)


def _with_teaser(item: TailItem, max_chars: int, ellipsis: str) -> TailItem:
    if max_chars == 0:
        teaser = ""
    elif len(item.teaser) > max_chars:
        teaser = make_teaser(item.teaser, max_chars, ellipsis)
    else:
        teaser = item.teaser
    return replace(item, teaser=teaser)


def _plain_heading(heading: str) -> str:
    """A page heading such as "Related posts:" as the text of an ``<h2>``."""
    return re.sub(r"[\s:|»›>–—-]+$", "", heading.strip()) or DEFAULT_HEADING


# -- text and Markdown -----------------------------------------------------------------------


def _text_tail(document: Document, items: Sequence[TailItem], options: RenderOptions,
               scores: Sequence[float] | None) -> str:
    layout = document.layout
    newline = layout.newline
    markdown = document.format == "markdown"
    if document.has_tail:
        style = document.tail_style
        heading_lines = list(layout.heading_lines) or [document.tail_heading or DEFAULT_HEADING]
        if options.heading is not None:
            heading_lines = _restyle_heading(options.heading, heading_lines)
        blank_after_heading, blank_between = layout.blank_after_heading, layout.blank_between
        url_own_line = layout.url_own_line
        separator = layout.teaser_separator or " — "
        bullet = layout.bullet
        lead = ""
    else:
        style = "links" if markdown else "blocks"
        text = options.heading or DEFAULT_HEADING
        heading_lines = [f"## {text}" if markdown else text]
        blank_after_heading, blank_between = True, style == "blocks"
        url_own_line, separator, bullet = style == "blocks", " — ", "-"
        lead = _separator(document.prefix, newline)
    lines = list(heading_lines)
    if blank_after_heading:
        lines.append("")
    for index, item in enumerate(items):
        score = f" ({scores[index]:.2f})" if scores else ""
        title = _one_line(item.title)
        teaser = _one_line(item.teaser)
        url = safe_url(item.url)
        if style == "blocks":
            lines.append(title + score)
            if url:
                lines.append(url)
            lines.append("")
            if teaser:
                lines.extend([teaser, ""])
            continue
        if markdown:  # page text must not open a link, emphasis or raw HTML in the tail
            title, teaser = markdown_text(title), markdown_text(teaser)
        if style == "links" and url:
            entry = f"[{title}]({_md_url(url)})"
        else:
            entry = title + (f" {url}" if url and not url_own_line else "")
        marker = f"{index + 1}. " if style == "numbered" else "" if style == "lines" else f"{bullet} "
        lines.append(f"{marker}{entry}{score}" + (f"{separator}{teaser}" if teaser else ""))
        if url and url_own_line and style != "links":
            lines.append(url)
        if blank_between:
            lines.append("")
    while lines and lines[-1] == "":
        lines.pop()
    return lead + newline.join(lines) + newline


def _restyle_heading(text: str, old: list[str]) -> list[str]:
    """``text`` dressed like the page's heading: ``## x``, ``**x**``, ``x:``, underlined."""
    match = re.match(r"^(\s*(?:#{1,6}\s+)?[*_]*)(.*?)([*_]*[\s:]*)$", old[0])
    prefix, suffix = (match.group(1), match.group(3)) if match else ("", "")
    line = f"{prefix}{text}{suffix}"
    if len(old) > 1 and old[1].strip():
        return [line, old[1].strip()[0] * len(line)]
    return [line]


def _separator(prefix: str, newline: str = "\n") -> str:
    """Line breaks needed so an appended tail starts after one blank line."""
    if not prefix:
        return ""
    trailing = len(prefix) - len(prefix.rstrip("\r\n"))
    ends = prefix[len(prefix) - trailing:].count("\n") if trailing else 0
    return newline * max(0, 2 - ends)


def _one_line(text: str) -> str:
    return " ".join(text.split())


_MD_SPECIAL = re.compile(r"([\\`*_\[\]])")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;", "~": "&#126;"}


def markdown_text(text: str) -> str:
    """``text`` as one line of Markdown that renders as itself: no link, emphasis, code or HTML.

    Backslash-escapes what opens links, emphasis and code, and writes ``& < > | ~`` (raw
    HTML, table cells, strike-through) as entities: CommonMark renderers and Python-Markdown
    alike show both literally, and Python-Markdown has no backslash escape for those five.
    Meant for text after a list marker or heading mark, not at the start of a line.
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", _one_line(text))
    return re.sub(r"[&<>|~]", lambda match: _MD_ENTITIES[match.group()], escaped)


def _md_url(url: str) -> str:
    # Markdown decodes entities in a link's destination: "&" is written as one, so that
    # "&copy=1" stays a query parameter; parentheses and angle brackets would end it.
    return (url.replace("&", "&amp;").replace("(", "%28").replace(")", "%29")
            .replace("<", "%3C").replace(">", "%3E"))


# -- HTML ------------------------------------------------------------------------------------


#: Schemes a link in a tail may have; anything else (javascript:, data:, vbscript:...) is dropped.
ALLOWED_SCHEMES = ("", "http", "https", "mailto")
# Characters a browser skips or a renderer drops inside a URL: whitespace (Unicode too),
# C0/C1 controls, zero-width and bidirectional marks, the byte-order mark.
_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+")


def safe_url(url: object) -> str | None:
    """The one URL policy of every tail format: ``url`` if it is http(s), mailto or relative.

    The scheme is checked on what a browser or Markdown renderer would read: entities
    decoded (``&#106;avascript:``), invisible and space characters removed wherever they
    are (``\u00a0javascript:``, ``java\tscript:``). The URL returned is the one given,
    trimmed, with any space or control character inside percent-encoded, so that no output
    format can read it back as something else or as more than one line. ``None`` for
    anything else, a URL that does not parse, or a value that is not a string.
    """
    if not isinstance(url, str):
        return None
    trimmed = _INVISIBLE.sub(" ", url).strip()
    probe = _INVISIBLE.sub("", html.unescape(trimmed))
    if not probe:
        return None
    try:
        scheme = urlsplit(probe).scheme.lower()
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if scheme not in ALLOWED_SCHEMES:
        return None
    return _INVISIBLE.sub(lambda match: quote(match.group(), safe=""), trimmed)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?=$|[T ])")


def render_html_block(items: Sequence[TailItem], heading: str = DEFAULT_HEADING,
                      scores: Sequence[float] | None = None) -> str:
    """A ``<section class="related-posts">`` list; every title, teaser and URL is escaped."""
    rows = []
    for index, item in enumerate(items):
        title = html.escape(_one_line(item.title))
        url = safe_url(item.url)
        image = safe_url(item.image)
        if image:  # a thumbnail, inside the link as themes put it
            title = (f'<img class="{HTML_CLASS}__image" src="{html.escape(image, quote=True)}" alt="" '
                     f'loading="lazy" decoding="async"> {title}')
        link = f'<a href="{html.escape(url, quote=True)}">{title}</a>' if url else title
        day = _DAY.match(item.published or "")
        if day:
            link += f' <time class="{HTML_CLASS}__date" datetime="{day.group()}">{day.group()}</time>'
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


# -- JSON ------------------------------------------------------------------------------------


def _json_entries(items: Sequence[TailItem], scores: Sequence[float] | None
                  ) -> list[dict[str, Any]]:
    related = []
    for index, item in enumerate(items):
        entry = item.to_dict()
        entry["url"] = safe_url(item.url)  # JSON consumers put it in an href as is
        if item.image is not None:
            entry["image"] = safe_url(item.image)
        if scores:
            entry["score"] = round(float(scores[index]), 4)
        related.append(entry)
    return related


def _json_tail(document: Document, items: Sequence[TailItem],
               scores: Sequence[float] | None) -> str:
    """The new ``related`` value (or ``, "related": [...]`` when the record had none),
    indented like the record around it."""
    meta = document.meta
    newline, key_indent = meta.get("newline", "\n"), meta.get("key_indent", "")
    if meta.get("indented"):
        value = json.dumps(_json_entries(items, scores), ensure_ascii=meta.get("ensure_ascii", False),
                           indent=meta.get("indent") or "  ")
        value = value.replace("\n", newline + key_indent)
    else:
        value = json.dumps(_json_entries(items, scores), ensure_ascii=meta.get("ensure_ascii", False))
    if meta.get("related_key"):
        return value
    comma = "," if meta.get("has_keys") else ""
    gap = newline + key_indent if meta.get("indented") else (" " if comma else "")
    return f'{comma}{gap}"related": {value}'


def render_json(document: Document, items: Sequence[TailItem],
                scores: Sequence[float] | None = None) -> str:
    """The JSON record with its ``related`` field replaced (every other byte kept)."""
    if "indent" not in document.meta:  # a Document built by hand, without spans
        record = dict(document.meta.get("record") or {"title": document.title,
                                                      "body": document.body})
        record["related"] = _json_entries(items, scores)
        return json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    return document.prefix + _json_tail(document, items, scores) + document.suffix
