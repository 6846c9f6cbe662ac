"""Write a new related-posts tail in the page's own format and shape.

Pure functions. ``rewrite(document, items)`` keeps ``document.prefix`` and
``document.suffix`` byte for byte and puts the new tail between them:

- text and Markdown: the page's own heading line(s) (``## Related``, ``**Read next**``, an
  underlined heading), item layout (title and teaser paragraphs, bullets, numbered lists,
  Markdown links, URLs on their own line), teaser separator, ellipsis and line ends; a
  page without a tail gets ``Related Posts`` (``## Related Posts`` and a list of links in
  Markdown) after one blank line;
- HTML: the old block in the theme's own markup (:func:`themed_block`: its container,
  heading, list and item elements with their classes and link attributes, thumbnail and
  date slots filled from the store), marked ``data-related-posts``; a
  ``<section class="related-posts">`` block where there was none (or where the old one
  was a widget network's, or cannot be reused), after the article; or a user's Jinja2
  template (``RenderOptions.template``, :func:`render_template_block`). Every title,
  teaser and URL escaped, ``javascript:`` and ``data:`` URLs dropped;
- JSON: only the ``related`` value is replaced (or the key added), in the record's indent.

Rewriting a page with the tail it already has (same items, default options) gives the
page back unchanged, and rewriting a rewritten page gives the same page again (the block
written is recognised by its marker and replaced in place, with no line added).
:func:`encode_page` turns the new page into bytes in the charset it declares.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

from ..article import TailItem
from ..errors import RelatedPostsError
from .parse import Document
from .parse.decode import _ALIASES, _EXTENDED, _WINDOWS, _charset_name, _is_utf8_name
from .parse.html import (
    _HEADINGS,
    _MORE_LINK,
    _NOISE_CLASS,
    _RAW_TEXT,
    _TEASER_CLASS,
    _TITLE_CLASS,
    OWN_BLOCK_ATTR,
    OWN_BLOCK_CLASS,
    _Node,
    _Tree,
    _visible,
    build_tree,
    is_own_block,
)
from .parse.text import is_tail_heading

DEFAULT_HEADING = "Related Posts"
HTML_CLASS = OWN_BLOCK_CLASS  # the parser recognises its own block by it


@dataclass(frozen=True)
class RenderOptions:
    """How the new tail looks.

    ``heading``: heading text (``None`` keeps the page's own, else "Related Posts");
    ``max_items``: at most this many items (``None``: all given); ``teaser_chars``: teasers
    longer than this are cut at a word boundary (0: no teasers); ``show_scores``: print
    each item's similarity score; ``template``: the source of a Jinja2 template that
    renders the block of an HTML page (see :func:`render_template_block`), instead of the
    theme's own markup.
    """

    heading: str | None = None
    teaser_chars: int = 80
    show_scores: bool = False
    max_items: int | None = None
    template: str | None = field(default=None, repr=False)

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
            and not options.show_scores and options.max_items is None and options.template is None
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
        return _html_tail(document, chosen, options, scores)
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
                      scores: Sequence[float] | None = None, newline: str = "\n") -> str:
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
        f'<section class="{HTML_CLASS}">{newline}<h2>{html.escape(heading)}</h2>{newline}<ul>{newline}'
        + newline.join(rows)
        + f"{newline}</ul>{newline}</section>{newline}"
    )


def _html_tail(document: Document, items: Sequence[TailItem], options: RenderOptions,
               scores: Sequence[float] | None) -> str:
    """The new block of an HTML page: the user's template, else the old block's own
    markup, else a ``<section class="related-posts">``."""
    newline = "\r\n" if document.text.count("\r\n") * 2 > document.text.count("\n") else "\n"
    heading = _plain_heading(options.heading or document.tail_heading or DEFAULT_HEADING)
    # A block of its own ends its line, once: a rerun finds the line break in the suffix.
    end = "" if document.suffix.startswith(("\n", "\r")) else newline
    if options.template is not None:
        return render_template_block(options.template, items, heading, scores) + end
    if document.has_tail:
        themed = themed_block(document.original_tail, items, options.heading, scores)
        if themed is not None:
            return themed
    return render_html_block(items, heading, scores, newline).removesuffix(newline) + end


# -- HTML: a user's template ---------------------------------------------------------------


class TemplateRenderError(RelatedPostsError, ValueError):
    """A ``--template`` that does not compile, or fails while rendering a page."""


@lru_cache(maxsize=8)
def _compiled(source: str) -> Any:
    from jinja2 import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(autoescape=True, keep_trailing_newline=False)
    try:
        return environment.from_string(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateRenderError(f"the template does not compile{f' (line {line})' if line else ''}: "
                                  f"{exc}") from None


def check_template(source: str) -> None:
    """Raise :class:`TemplateRenderError` if ``source`` is not a valid Jinja2 template."""
    _compiled(source)


def render_template_block(source: str, items: Sequence[TailItem], heading: str = DEFAULT_HEADING,
                          scores: Sequence[float] | None = None) -> str:
    """The block a user's Jinja2 template renders, marked so that a rerun finds it.

    The template runs in a sandbox (no access to Python internals, nothing it is given can
    be changed) with autoescape on, so every value it prints is escaped. It gets
    ``heading`` and ``items``, each with ``title``, ``url`` and ``image`` (passed through
    :func:`safe_url`: ``None`` for a dropped link), ``teaser``, ``published`` (as the
    store has it, ISO 8601), ``day`` (its ``YYYY-MM-DD``), ``score`` (``None`` without
    ``--scores``) and ``rank`` (1, 2, ...). When the output is one element that carries
    ``data-related-posts`` it is used as it is; anything else is wrapped in a
    ``<div data-related-posts>``. A rerun replaces that element, so the template may
    print anything inside it.
    """
    from jinja2 import TemplateError

    template = _compiled(source)
    values = []
    for index, item in enumerate(items):
        day = _DAY.match(item.published or "")
        values.append({"title": _one_line(item.title), "url": safe_url(item.url),
                       "teaser": _one_line(item.teaser), "image": safe_url(item.image),
                       "published": item.published, "day": day.group() if day else None,
                       "score": round(float(scores[index]), 4) if scores else None,
                       "rank": index + 1})
    try:
        output = str(template.render(items=values, heading=heading)).strip()
    except TemplateError as exc:
        raise TemplateRenderError(f"the template failed: {type(exc).__name__}: {exc}") from None
    tree = build_tree(output)
    tops = [part for part in tree.root.parts if isinstance(part, _Node)]
    if (len(tops) == 1 and OWN_BLOCK_ATTR in tops[0].attrs and tops[0].start == 0
            and tops[0].end == len(output)):
        return output
    return f"<div {OWN_BLOCK_ATTR}>{output}</div>"


# -- HTML: the theme's own markup ----------------------------------------------------------
#
# The old block is read into the offset-keeping tree; its container, heading, list and
# item elements are written again around the new items. Each new item is a copy of an old
# item (the one at its place, or the nearest with a slot for each of its image, date and
# teaser; past the old list's end the last, its numbered classes counted on) with its
# slots refilled: the
# links' href and title, the title text, the teaser, the thumbnail (img src and alt), the
# date (<time> or a date-classed element), a rank number; whatever else the old item said
# about itself (a category, a byline, a reading time, ids and data- attributes) is left out,
# and a slot the new item has nothing for is left out with its element. Slots are found by
# structure (element, class, place), never by what the text says, so a rewritten block has
# the same slots as the one it was made from, and writing it again gives the same bytes.

# Widget networks fill their containers from a script that is still on the page: their
# markup is never reused (the script would fill it with its own links again).
_NETWORK = re.compile(r"outbrain|ob-widget|taboola|trc_|revcontent|zergnet|mgid", re.I)
_RANK = re.compile(r"^(\s*)(\d{1,3})([.)]?\s*)$")
_DATE_CLASS = re.compile(r"(^|[\s_-])(date|time|pubdate|published|post-date|entry-date)([\s_-]|$)", re.I)
# Labels that a title-classed element may be instead ("title-date", "title-label"); a
# thumbnail's or an icon's title ("yarpp-thumbnail-title") is a title.
_NOT_TITLE = re.compile(r"date|time|meta|byline|author|brand|source|category|label|sponsor|comment|count|tag|views")
_ITEM_TAGS = ("li", "article", "div", "dd", "td", "p", "figure", "section")
_SCORE_CLASS = f"{OWN_BLOCK_CLASS}__score"
_NAME = re.compile(r"<([^\s/>]+)")
_INDEX_TOKEN = re.compile(r"^(.*?)(\d+)$")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_MONTH_NAMES = {name.lower(): number for number, name in enumerate(_MONTHS, 1)}
_MONTH_NAMES.update({name[:3].lower(): number for number, name in enumerate(_MONTHS, 1)})
_MONTH_NAMES["sept"] = 9


def themed_block(old: str, items: Sequence[TailItem], heading: str | None = None,
                 scores: Sequence[float] | None = None) -> str | None:
    """``items`` in the markup of the old block ``old``, or ``None`` where it cannot be reused.

    The container keeps its element and attributes and gains ``data-related-posts``; a
    block that had none (a heading followed by a list) is wrapped in a
    ``<div data-related-posts>``. The heading keeps its element, level and classes (its
    text is replaced only when ``heading`` is given), the list its element (``ol``/``ul``
    or the theme's ``div``), each item the element, classes and link attributes (such as
    ``rel="bookmark"``) of the old item at its place. Thumbnails, dates and teasers are
    filled where the old items had an ``<img>`` / a ``<time>`` or date element / an excerpt
    and the new item has an image / a date / a teaser; a theme without such a slot shows
    none. Every text is escaped and every URL goes through :func:`safe_url`.

    Not reused (``None``): no old item found, a widget network's block (Outbrain,
    Taboola...), the plain ``<section class="related-posts">`` this module writes, and
    items it cannot hold: one without a safe URL (a theme's item is a link), two with one
    URL, a title that reads as a heading or a "read more" link. The block returned is a
    fixed point: made from itself with the same items, it comes back unchanged (it is
    checked, and ``None`` returned where it would not).
    """
    if not items or not _fits_a_theme(items):
        return None
    first = _themed(old, items, heading, scores)
    if first is None or _themed(first, items, heading, scores) != first:
        return None
    return first


def _fits_a_theme(items: Sequence[TailItem]) -> bool:
    urls = [safe_url(item.url) for item in items]
    if any(url is None for url in urls) or len({u.strip() for u in urls if u}) < len(urls):
        return False
    return all(_one_line(i.title) and not is_tail_heading(_one_line(i.title))
               and not _MORE_LINK.match(_one_line(i.title)) for i in items)


@dataclass
class _Slots:
    """Where an old item keeps what a new item fills in."""

    node: _Node
    url: str | None = None             # the item's link target
    title: _Node | None = None         # the element holding the title text
    title_parts: list[tuple[int, int]] = field(default_factory=list)
    old_title: str = ""
    teaser: _Node | None = None
    teaser_part: tuple[int, int] | None = None  # a teaser that is bare text in the item
    date: _Node | None = None
    image: _Node | None = None         # the <img>
    image_slot: _Node | None = None    # what goes with it when there is no image
    ranks: list[_Node] = field(default_factory=list)
    score: _Node | None = None
    keep: set[int] = field(default_factory=set)  # elements that hold a slot


def _themed(old: str, items: Sequence[TailItem], heading: str | None,
            scores: Sequence[float] | None) -> str | None:
    tree = build_tree(old)
    tops = [part for part in tree.root.parts if isinstance(part, _Node)]
    first = next((top for top in tops if _item_links(tree, top)), None)
    if first is None or first.tag == "a" or first.tag in _HEADINGS:
        return None
    if is_own_block(first) and OWN_BLOCK_ATTR not in first.attrs:
        return None  # the plain section: written afresh
    if any(_NETWORK.search(node.marker) for node in first.iter()):
        return None
    olds = _item_nodes(first, _item_links(tree, first))
    if not olds:
        return None
    position = tops.index(first)
    head_top = tops[position - 1] if position else None
    wrap = (head_top is not None and OWN_BLOCK_ATTR not in first.attrs
            and bool(tree.text(head_top)) and not _item_links(tree, head_top)
            and not _visible(old[head_top.end:first.start]))
    if wrap and head_top is not None:
        opening, start, closing = f"<div {OWN_BLOCK_ATTR}>", head_top.start, "</div>"
        after = old[olds[-1].end:first.end]
    else:
        opening, start, closing = _with_marker(old, first), first.open_end, ""
        after = old[olds[-1].end:first.end]
    before = old[start:olds[0].start]
    heading_node = next((n for n in tree.root.iter() if n.tag != "#document" and start <= n.start
                         and n.end <= olds[0].start and tree.text(n)), None)
    if heading is not None:
        if heading_node is None:
            before = f"<h2>{html.escape(heading)}</h2>" + before
        else:
            before = (old[start:heading_node.start] + _with_text(tree, heading_node, html.escape(heading))
                      + old[heading_node.end:olds[0].start])
    separator = _separator_of(old, olds)
    slots = [_slots(tree, node, index) for index, node in enumerate(olds)]
    index_tokens = _index_tokens(olds)
    written = []
    for index, item in enumerate(items):
        proto = _prototype(slots, index, item)
        written.append(_clone(tree, slots[proto], proto, index, item,
                              scores[index] if scores else None, index_tokens))
    return opening + before + separator.join(written) + after + closing


def _prototype(slots: list[_Slots], index: int, item: TailItem) -> int:
    """The old item whose markup the new item at ``index`` takes: of those with the most
    slots for what it has (an image, a date, a teaser), the one nearest its place."""
    needs = (bool(safe_url(item.image)), bool(_DAY.match(item.published or "")), bool(_one_line(item.teaser)))

    def fit(position: int) -> tuple[int, int]:
        old = slots[position]
        has = (old.image is not None, old.date is not None,
               old.teaser is not None or old.teaser_part is not None)
        return sum(need and there for need, there in zip(needs, has)), -abs(position - index)

    return max(range(len(slots)), key=fit)


def _with_marker(old: str, node: _Node) -> str:
    tag = old[node.start:node.open_end]
    if OWN_BLOCK_ATTR in node.attrs:
        return tag
    cut = len(tag) - (2 if tag.endswith("/>") else 1)
    return f"{tag[:cut].rstrip()} {OWN_BLOCK_ATTR}{tag[cut:]}"


def _item_links(tree: _Tree, node: _Node) -> list[_Node]:
    """The links of related items under ``node``: not a heading's, not "see all"."""
    links = []
    for link in node.iter():
        if link.tag != "a" or not link.attrs.get("href"):
            continue
        text = tree.text(link).replace("\n", " ")
        if is_tail_heading(text) or _MORE_LINK.match(text):
            continue
        if text or link.attrs.get("title") or any(i.tag == "img" for i in link.iter()):
            links.append(link)
    return links


def _item_nodes(container: _Node, links: list[_Node]) -> list[_Node]:
    """The old items: the elements, children of one list element, that hold one link
    target each."""
    urls = {link.attrs["href"].strip() for link in links}
    paths = []
    for link in links:
        chain = [link, *[a for a in _up_to(link, container)]]
        paths.append(list(reversed(chain)))
    depth = 0
    while all(len(p) > depth + 1 for p in paths) and len({id(p[depth + 1]) for p in paths}) == 1:
        depth += 1
    common = paths[0][depth]
    if len(urls) == 1:
        node: _Node | None = common
        while node is not None and node is not container and node.tag not in _ITEM_TAGS:
            node = node.parent
        item = node if node is not None and node is not container else common
        return [] if item is container else [item]
    nodes: list[_Node] = []
    for path in paths:
        child = path[depth + 1] if len(path) > depth + 1 else path[depth]
        if not nodes or nodes[-1] is not child:
            nodes.append(child)
    if len({id(n) for n in nodes}) != len(nodes) or any(n is container for n in nodes):
        return []
    for node in nodes:  # one link target per item, or the list has no per-item elements
        if len({a.attrs["href"].strip() for a in links if a is node or node.contains(a)}) != 1:
            return []
    return nodes


def _up_to(node: _Node, top: _Node) -> list[_Node]:
    """``node``'s ancestors up to and including ``top``, nearest first."""
    chain = []
    for ancestor in node.ancestors():
        chain.append(ancestor)
        if ancestor is top:
            break
    return chain


def _separator_of(old: str, olds: list[_Node]) -> str:
    """What the old list has between two items (a line break, a ``<br>``), if no text."""
    gap = old[olds[0].end:olds[1].start] if len(olds) > 1 else old[olds[0].end:]
    if len(olds) == 1:
        match = re.match(r"(?:\s|<br\s*/?>)*", gap, re.I)
        gap = match.group() if match else ""
    if _visible(gap) or re.search(r"<(?!br\b)[a-z]", gap, re.I):
        return "\n" if "\n" in gap else ""
    return gap


def _index_tokens(olds: list[_Node]) -> set[str]:
    """Class-name prefixes that number the old items (``post-0``, ``post-1``)."""
    seen: dict[str, set[str]] = {}
    for item in olds:
        for node in item.iter():
            for token in node.attrs.get("class", "").split():
                match = _INDEX_TOKEN.match(token)
                if match:
                    seen.setdefault(match.group(1), set()).add(match.group(2))
    return {prefix for prefix, numbers in seen.items() if len(numbers) > 1}


def _slots(tree: _Tree, item: _Node, index: int) -> _Slots:
    """Where the old item at ``index`` keeps its title, link, teaser, image and date."""
    slots = _Slots(item)
    nodes = list(item.iter())
    links = [n for n in nodes if n.tag == "a" and n.attrs.get("href")]
    slots.title = next(
        (n for n in nodes
         if n is not item and (n.tag in _HEADINGS or _TITLE_CLASS.search(n.attrs.get("class", "")))
         and tree.text(n) and not _NOT_TITLE.search(n.attrs.get("class", "").replace("title", ""))),
        None)
    if slots.title is not None:
        around = [a for a in links if a is slots.title or a.contains(slots.title)
                  or slots.title.contains(a)]
        main = around[0] if around else (links[0] if links else None)
    else:
        main = max(links, key=lambda a: len(tree.text(a)), default=None)
        slots.title = main
    slots.url = main.attrs["href"].strip() if main is not None else None
    slots.ranks = [n for n in nodes if n is not item and n.tag not in _RAW_TEXT and not n.children
                   and _is_rank(tree.text(n), index)]
    slots.score = next((n for n in nodes if _SCORE_CLASS in n.attrs.get("class", "").split()), None)
    slots.date = next(
        (n for n in nodes if n is not item and (n.tag == "time" or (
            _DATE_CLASS.search(n.attrs.get("class", "")) and tree.text(n)))
         and not _related(n, slots.title)), None)
    slots.image = next((n for n in nodes if n.tag == "img" and _own_link(n, item, slots.url)), None)
    if slots.image is not None:
        slots.image_slot = slots.image
        for ancestor in _up_to(slots.image, item):
            if ancestor is item or _visible(tree.html[ancestor.open_end:ancestor.end]) \
                    or _related(ancestor, slots.title) or len(
                        [n for n in ancestor.iter() if n.tag == "img"]) > 1:
                break
            slots.image_slot = ancestor
    taken = [slots.title, slots.date, slots.image_slot, slots.score, *slots.ranks]
    if slots.title is not None:
        skip = [n for n in taken[1:] if n is not None]
        slots.title_parts = [part for part in _text_parts(slots.title, skip + _noise(slots.title))
                             if tree.html[part[0]:part[1]].strip()]
        slots.old_title = " ".join(html.unescape(tree.html[a:b]) for a, b in slots.title_parts).strip()
        slots.old_title = " ".join(slots.old_title.split())
    slots.teaser = next(
        (n for n in nodes
         if n is not item and tree.text(n) and not any(_related(n, t) for t in taken if t is not None)
         and (_TEASER_CLASS.search(n.attrs.get("class", "")) or (
             n.tag in ("small", "p", "blockquote", "dd")
             and not _NOISE_CLASS.search(n.attrs.get("class", ""))))),
        None)
    if slots.teaser is None and slots.title is not None:
        holders = [item, *[a for a in _up_to(slots.title, item) if a is not item]]
        slots.teaser_part = next(
            (part for holder in holders for part in holder.parts
             if isinstance(part, tuple) and part[0] >= slots.title.end
             and tree.html[part[0]:part[1]].strip()), None)
    for node in (slots.title, slots.teaser, slots.date, slots.image_slot, slots.score, *slots.ranks):
        if node is not None:
            slots.keep.add(id(node))
            slots.keep.update(id(a) for a in _up_to(node, item))
    for part in [*slots.title_parts, *([slots.teaser_part] if slots.teaser_part else [])]:
        slots.keep.update(id(n) for n in nodes if n.start <= part[0] < n.end)
    slots.keep.update(id(a) for a in links if a.attrs["href"].strip() == slots.url
                      and _MORE_LINK.match(tree.text(a)))  # the theme's "Read more" button
    return slots


def _is_rank(text: str, index: int) -> bool:
    match = _RANK.match(text)
    return match is not None and int(match.group(2)) == index + 1


def _related(node: _Node, other: _Node | None) -> bool:
    """Whether ``node`` is ``other``, holds it or is inside it."""
    return other is not None and (node is other or node.contains(other) or other.contains(node))


def _own_link(node: _Node, item: _Node, url: str | None) -> bool:
    """Whether ``node`` sits in no link of the item but its own."""
    for ancestor in _up_to(node, item):
        if ancestor.tag == "a" and ancestor.attrs.get("href", "").strip() != url:
            return False
    return True


def _noise(title: _Node) -> list[_Node]:
    """Labels inside a title element (source, brand, date) that are not the title."""
    return [n for n in title.iter() if n is not title and (
        _NOISE_CLASS.search(n.attrs.get("class", "").replace("title", "")) or n.tag in _RAW_TEXT)]


def _text_parts(node: _Node, skip: list[_Node]) -> list[tuple[int, int]]:
    """The text spans under ``node``, outside the ``skip`` elements, in page order."""
    found: list[tuple[int, int]] = []
    for part in node.parts:
        if isinstance(part, tuple):
            found.append(part)
        elif not any(part is s or s.contains(part) for s in skip) and part.tag not in _RAW_TEXT:
            found.extend(_text_parts(part, skip))
    return found


def _with_text(tree: _Tree, node: _Node, escaped: str) -> str:
    """``node`` as written, its first text replaced by ``escaped`` and its other text dropped."""
    parts = [p for p in _text_parts(node, []) if tree.html[p[0]:p[1]].strip()]

    def text(part: tuple[int, int]) -> str | None:
        if parts and part == parts[0]:
            return _keep_space(tree.html[part[0]:part[1]], escaped)
        return "" if part in parts else None

    return _emit(tree, node, lambda n: None, text)


def _keep_space(old: str, new: str) -> str:
    """``new`` with the white space ``old`` had around its text."""
    lead = old[:len(old) - len(old.lstrip())]
    trail = old[len(old.rstrip()):]
    return f"{lead}{new}{trail}"


def _emit(tree: _Tree, node: _Node, element: Callable[[_Node], str | None],
          text: Callable[[tuple[int, int]], str | None]) -> str:
    """``node`` written out again: ``element`` may replace an element (``None``: write it
    as it was, its children through these hooks), ``text`` a text span (``None``: keep)."""
    replaced = element(node)
    if replaced is not None:
        return replaced
    return tree.html[node.start:node.open_end] + _emit_children(tree, node, element, text)


def _inner(tree: _Tree, node: _Node) -> tuple[str, str]:
    """The open tag and the end tag of ``node``, as written."""
    source = tree.html
    last = node.parts[-1] if node.parts else None
    stop = (last.end if isinstance(last, _Node) else last[1]) if last is not None else node.open_end
    return source[node.start:node.open_end], source[stop:node.end] if node.end > stop else ""


def _clone(tree: _Tree, slots: _Slots, proto: int, index: int, item: TailItem,
           score: float | None, index_tokens: set[str]) -> str:
    """The new ``item`` in the markup of the old item ``slots``."""
    title = html.escape(_one_line(item.title))
    teaser = html.escape(_one_line(item.teaser))
    url = safe_url(item.url)
    image = safe_url(item.image)
    found_day = _DAY.match(item.published or "")
    day = found_day.group() if found_day else None
    title_parts = slots.title_parts

    def open_tag(node: _Node) -> str:
        attrs = dict(node.attrs)
        for name in list(attrs):
            if name == "id" or name.startswith("data-") or (node.tag == "img" and name in ("srcset", "sizes")):
                del attrs[name]
        if node.tag == "a" and "href" in attrs and attrs["href"].strip() == slots.url:
            if url is None:
                del attrs["href"]
            else:
                attrs["href"] = url
        if node is slots.image and image:
            attrs["src"] = image
            if attrs.get("alt"):
                attrs["alt"] = _one_line(item.title)
        if node is slots.date and node.tag == "time" and day:
            attrs["datetime"] = day
        for name in ("title", "aria-label", "alt"):
            value = attrs.get(name)
            if value and slots.old_title and slots.old_title in value and node is not slots.image:
                attrs[name] = value.replace(slots.old_title, _one_line(item.title))
            elif value and name == "title" and node.tag == "a":
                attrs[name] = _one_line(item.title)
        if index != proto and "class" in attrs:
            attrs["class"] = " ".join(_renumber(token, index - proto, index_tokens)
                                      for token in attrs["class"].split())
        if attrs == node.attrs:
            return tree.html[node.start:node.open_end]
        spelled = _NAME.match(tree.html, node.start)
        written = "".join(f' {key}="{html.escape(value, quote=True)}"' for key, value in attrs.items())
        slash = " /" if tree.html[node.start:node.open_end].endswith("/>") else ""
        return f"<{spelled.group(1) if spelled else node.tag}{written}{slash}>"

    def filled(node: _Node, content: str) -> str:
        _, end = _inner(tree, node)
        return open_tag(node) + content + end

    def element(node: _Node) -> str | None:
        if node is slots.image_slot and not image:
            return ""
        if node.tag == "source" and slots.image_slot is not None and _related(node, slots.image_slot):
            return ""
        if node is slots.date:
            if not day:
                return ""
            return filled(node, _format_day(day, tree.text(node)) if tree.text(node) or
                          node.tag != "time" else "")
        if node is slots.teaser:
            return filled(node, teaser) if teaser else ""
        if node is slots.score:
            return filled(node, f"{score:.2f}") if score is not None else ""
        if any(node is rank for rank in slots.ranks):
            match = _RANK.match(tree.text(node))
            number = f"{match.group(1)}{index + 1}{match.group(3)}" if match else str(index + 1)
            return filled(node, number)
        if node is not slots.node and id(node) not in slots.keep:
            if tree.text(node) or (node.tag == "a" and node.attrs.get("href", "").strip() != slots.url):
                return ""  # what the old item said about itself: not about the new one
        written = open_tag(node) + _emit_children(tree, node, element, text)
        if node is slots.title and score is not None and slots.score is None:
            written += f' <span class="{_SCORE_CLASS}">{score:.2f}</span>'
        return written

    def text(part: tuple[int, int]) -> str | None:
        old = tree.html[part[0]:part[1]]
        if title_parts and part == title_parts[0]:
            return _keep_space(old, title)
        if part in title_parts:
            return ""
        if part == slots.teaser_part:
            return _keep_space(old, teaser) if teaser else ""
        return None if not old.strip() else ""

    return element(slots.node) or ""


def _emit_children(tree: _Tree, node: _Node, element: Callable[[_Node], str | None],
                   text: Callable[[tuple[int, int]], str | None]) -> str:
    """Everything of ``node`` after its open tag, through the hooks (see :func:`_emit`)."""
    source = tree.html
    pieces = []
    cursor = node.open_end
    for part in node.parts:
        start, end = (part.start, part.end) if isinstance(part, _Node) else part
        pieces.append(source[cursor:start])  # comments and stray end tags between parts
        if isinstance(part, _Node):
            pieces.append(_emit(tree, part, element, text))
        else:
            new = text(part)
            pieces.append(source[start:end] if new is None else new)
        cursor = end
    pieces.append(source[cursor:node.end] if node.end > cursor else "")
    return "".join(pieces)


def _renumber(token: str, shift: int, index_tokens: set[str]) -> str:
    match = _INDEX_TOKEN.match(token)
    if not match or match.group(1) not in index_tokens:
        return token
    return f"{match.group(1)}{int(match.group(2)) + shift}"


def _format_day(day: str, like: str) -> str:
    """The day ``YYYY-MM-DD`` written as the old date was: "April 3, 2025", "3 Apr 2025",
    ISO otherwise."""
    year, month, date = (int(x) for x in day.split("-"))
    stripped = like.strip()
    month_first = re.fullmatch(r"([A-Za-z]+)(\.?) (\d{1,2})(,?) (\d{4})", stripped)
    day_first = re.fullmatch(r"(\d{1,2}) ([A-Za-z]+)(\.?)(,?) (\d{4})", stripped)
    if month_first and month_first.group(1).lower() in _MONTH_NAMES:
        name = _month(month_first.group(1), month)
        written = f"{name}{month_first.group(2)} {date}{month_first.group(4)} {year}"
    elif day_first and day_first.group(2).lower() in _MONTH_NAMES:
        name = _month(day_first.group(2), month)
        written = f"{date} {name}{day_first.group(3)}{day_first.group(4)} {year}"
    else:
        written = day
    return _keep_space(like, written) if stripped else written


def _month(like: str, month: int) -> str:
    full = _MONTHS[month - 1]
    name = full if like.lower() in (m.lower() for m in _MONTHS) else full[:3]
    return name.upper() if like.isupper() else name


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


# -- bytes -----------------------------------------------------------------------------------

_DECLARED = re.compile(r"""(?:charset|encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def encode_page(text: str, format: str, original: bytes | None = None) -> tuple[bytes, str]:
    """The rewritten page ``text`` as bytes, and the name of the charset they are in.

    One rule, what a browser reads the bytes as: a page whose original bytes began with a
    byte-order mark keeps it and its encoding (UTF-8, UTF-16); else an HTML page is written
    in the charset it declares (``<meta charset>``, ``http-equiv`` Content-Type, an XML
    ``encoding=``, in its first 4096 characters), taken as browsers take it (ISO-8859-1 and
    ASCII as Windows-1252, Shift_JIS as Windows-31J), and every character that charset
    cannot hold is written as a numeric character reference (``&#1046;``), which a browser
    decodes as that character. So the bytes outside the new tail are the page's own bytes
    again, and the declaration stays true. A page that declares UTF-8, a charset Python does
    not know, UTF-16 or UTF-32 without a byte-order mark, or nothing, and every page that is
    not HTML (text, Markdown, JSON), is written as UTF-8. (References are not decoded inside
    ``<script>`` and ``<style>``: a character there that does not fit was not in the
    page's declared charset to begin with.)
    """
    for bom, marked in _BOMS:
        if original is not None and original.startswith(bom):
            return bom + text.encode(marked), _charset_name(marked)
    if format == "html":
        declared = _DECLARED.search(text[:4096])
        codec = _codec(declared.group(1).lower()) if declared else None
        if codec is not None:
            candidates = [c for c in (_WINDOWS.get(codec), codec, _EXTENDED.get(codec)) if c]
            for candidate in candidates:
                try:
                    return text.encode(candidate), _charset_name(candidate)
                except UnicodeEncodeError:
                    continue
            return text.encode(candidates[0], "xmlcharrefreplace"), _charset_name(candidates[0])
    return text.encode("utf-8"), "UTF-8"


def _codec(label: str) -> str | None:
    """Python's name for a declared charset other than UTF-8, or None (written as UTF-8)."""
    if _is_utf8_name(label):
        return None
    try:
        codec = codecs.lookup(_ALIASES.get(label, label)).name
    except LookupError:
        return None
    if codec.startswith(("utf-8", "utf-16", "utf-32")) or codec.startswith("utf_"):
        return None
    try:
        "".encode(codec)
    except LookupError:  # a decoder only (e.g. a bytes-to-bytes codec)
        return None
    return codec
