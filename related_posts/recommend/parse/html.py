"""HTML pages: an offset-keeping tree, the related blocks found in it, and the body
that trafilatura extracts once those blocks are cut out."""

from __future__ import annotations

import html as html_lib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import accumulate
from typing import Any

from ...article import TailItem
from .document import Document, PageTooLargeError, _where
from .text import (
    _ELLIPSIS,
    _FOOTER_LINE,
    _PROMO,
    _SENTENCE_END,
    _is_furniture,
    is_tail_heading,
)

# -- HTML: an offset-keeping tree ------------------------------------------------------------
#
# trafilatura (over lxml) finds the article text well, but lxml keeps no byte offsets, and a
# rewrite must replace the related block in place and keep every other byte. So the page is
# also read into this small tree, whose elements know where they start and end in the text.
# It is forgiving like a browser: unclosed elements end where their parent ends, stray end
# tags are ignored, <p> and <li> close implicitly, an <a> closes an open <a> (when only
# inline elements lie between them), and elements nested deeper than MAX_DEPTH are
# flattened. Building it costs time linear in the page whatever the nesting: the open
# elements are indexed by tag, so no tag searches the whole stack.

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
# What an opening tag closes implicitly (an earlier <li>, <dt>/<dd>, a table cell or row),
# unless one of its barriers (the list, the table) is open nearer.
_IMPLICIT_TARGETS = {"li": ("li",), "dt": ("dt", "dd"), "dd": ("dt", "dd"),
                     "tr": ("tr", "td", "th"), "td": ("td", "th"), "th": ("td", "th")}
_IMPLICIT_BARRIERS = {"li": ("ul", "ol", "menu"), "dt": ("dl",), "dd": ("dl",),
                      "tr": ("table", "tbody", "thead", "tfoot"), "td": ("tr", "table"),
                      "th": ("tr", "table")}
#: Elements nested deeper than this are flattened: an element that would open below the
#: deepest one closes it first and becomes its sibling (browsers do so at 512 levels; the
#: libxml2 parser under lxml and trafilatura stops reading at 256). No real page comes near;
#: the bound keeps every walk up the tree short on a page of unclosed tags.
MAX_DEPTH = 200
_TAG = re.compile(
    r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<![^>]*>|<\?[^>]*>"
    r"|<(?P<close>/)?(?P<tag>[a-zA-Z][^\s/>]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.S,
)
_ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


@dataclass(eq=False)
class _Node:
    """An element: tag, attributes, offsets in the page, and children in order.

    ``close`` is where its end tag starts (``end`` where it ends), or -1 for an element
    closed implicitly or never."""

    tag: str
    attrs: dict[str, str]
    start: int
    open_end: int
    parent: _Node | None = None
    end: int = -1
    parts: list[_Node | tuple[int, int]] = field(default_factory=list)
    close: int = -1

    @property
    def children(self) -> list[_Node]:
        return [p for p in self.parts if isinstance(p, _Node)]

    def iter(self) -> Iterator[_Node]:
        """This element and every element below it, in document order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed([p for p in node.parts if isinstance(p, _Node)]))

    def ancestors(self) -> Iterator[_Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def contains(self, other: _Node) -> bool:
        return self.start <= other.start and other.end <= self.end and self is not other

    @property
    def marker(self) -> str:
        """Class and id, lower-cased: what widget markers are matched against."""
        return f"{self.attrs.get('class', '')} {self.attrs.get('id', '')}".lower()


# The visible text of an element, as (lead, words, trail): the words with whitespace
# collapsed (a run with a line break becomes "\n", any other run " "), and what separates
# them from the text before and after (0 nothing, 1 a space, 2 a line break). An
# element's summary is made from its children's, so each element's text is made once.
_Summary = tuple[int, str, int]
_NO_TEXT: _Summary = (0, "", 0)
_LINE_BREAK: _Summary = (2, "", 2)


def _collapse(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def _gap(run: str) -> int:
    return 2 if "\n" in run else 1 if run else 0


def _segment_summary(segment: str) -> _Summary:
    words = _collapse(segment)
    if not words:
        gap = _gap(segment)
        return (gap, "", gap)
    return (_gap(segment[:len(segment) - len(segment.lstrip())]), words,
            _gap(segment[len(segment.rstrip()):]))


def _join_summaries(summaries: list[_Summary]) -> _Summary:
    pieces: list[str] = []
    lead = gap = 0
    for before, words, after in summaries:
        if not words:
            gap = max(gap, before)
            continue
        if pieces:
            gap = max(gap, before)
            if gap:
                pieces.append("\n" if gap == 2 else " ")
        else:
            lead = max(gap, before)
        pieces.append(words)
        gap = after
    if not pieces:
        return (gap, "", gap)
    return (lead, "".join(pieces), gap)


@dataclass
class _Tree:
    html: str
    root: _Node
    flattened: bool = False  # whether elements deeper than MAX_DEPTH were flattened
    summaries: dict[int, _Summary] = field(default_factory=dict)  # cache: id(node) -> text

    def text(self, node: _Node) -> str:
        """The visible text of ``node``: entities decoded, whitespace collapsed,
        block elements on their own lines."""
        summary = self.summaries.get(id(node))
        if summary is None:
            summary = self._summarise(node)
        return summary[1]

    def _summarise(self, top: _Node) -> _Summary:
        """The summary of ``top``, made bottom-up from those of its children (cached)."""
        summaries = self.summaries
        html = self.html
        stack: list[tuple[_Node, bool]] = [(top, False)]
        while stack:
            node, ready = stack.pop()
            key = id(node)
            if key in summaries:
                continue
            if node.tag in _RAW_TEXT:
                summaries[key] = _NO_TEXT
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((part, False) for part in node.parts
                             if isinstance(part, _Node) and id(part) not in summaries)
                continue
            block = node.tag in _BLOCK
            found: list[_Summary] = [_LINE_BREAK] if block else []
            for part in node.parts:
                if isinstance(part, tuple):
                    found.append(_segment_summary(html_lib.unescape(html[part[0]:part[1]])))
                else:
                    found.append(summaries[id(part)])
            if block:
                found.append(_LINE_BREAK)
            summaries[key] = _join_summaries(found)
        return summaries[id(top)]

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


class _OpenElements:
    """The stack of open elements, indexed by tag and by "not inline", so that finding the
    element an end tag closes, or one that an opening tag closes implicitly, takes a look
    at the top of a list instead of a walk down the whole stack."""

    def __init__(self, root: _Node) -> None:
        self.stack = [root]
        self.by_tag: dict[str, list[int]] = {}  # tag -> stack indices, innermost last
        self.blocks = [0]  # indices of elements that are not inline (the root too)

    def push(self, node: _Node) -> None:
        self.by_tag.setdefault(node.tag, []).append(len(self.stack))
        if node.tag not in _INLINE:
            self.blocks.append(len(self.stack))
        self.stack.append(node)

    def close_to(self, index: int, at: int) -> None:
        """Close the elements at ``index`` and above at offset ``at``."""
        stack, by_tag, blocks = self.stack, self.by_tag, self.blocks
        while len(stack) > index:
            node = stack.pop()
            node.end = at
            by_tag[node.tag].pop()
            if node.tag not in _INLINE:
                blocks.pop()

    def innermost(self, *tags: str) -> int:
        """The stack index of the innermost open element with one of ``tags``, else 0."""
        return max((self.by_tag[tag][-1] for tag in tags if self.by_tag.get(tag)), default=0)

    def nearest_block(self) -> int:
        """The stack index of the innermost open element that is not inline (0: none)."""
        return self.blocks[-1]


def build_tree(html: str) -> _Tree:
    """The page as a tree of :class:`_Node` with exact offsets (never raises)."""
    root = _Node("#document", {}, 0, 0)
    elements = _OpenElements(root)
    stack = elements.stack
    flattened = False
    position = 0
    length = len(html)

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
            if tag in ("p", "li"):
                # "</p>" never closes an enclosing block: only the innermost block can match.
                index = elements.nearest_block()
                index = index if stack[index].tag == tag else 0
            else:
                index = elements.innermost(tag)
            if index:
                elements.close_to(index + 1, match.start())
                stack[index].close = match.start()
                elements.close_to(index, match.end())
            continue
        if tag in _CLOSES_P or tag in _IMPLICIT_TARGETS:
            _implicit_close(elements, tag, match.start())
        if tag == "a":
            # An <a> inside an open <a> (with only inline elements between) closes it.
            index = elements.innermost("a")
            if index and index > elements.nearest_block():
                elements.close_to(index, match.start())
        self_closing = match.group("attrs").rstrip().endswith("/") and tag not in _BLOCK \
            and tag not in _INLINE
        opens = not (tag in _VOID or self_closing or tag in _RAW_TEXT)
        if opens and len(stack) > MAX_DEPTH:
            elements.close_to(len(stack) - 1, match.start())
            flattened = True
        node = _Node(tag, _parse_attrs(match.group("attrs")), match.start(), match.end(),
                     parent=stack[-1])
        stack[-1].parts.append(node)
        if tag in _VOID or self_closing:
            node.end = match.end()
            continue
        if tag in _RAW_TEXT:
            closing = re.compile(rf"</{re.escape(tag)}\s*>", re.I).search(html, position)
            stop = closing.start() if closing else length
            if tag == "title" and stop > position:
                node.parts.append((position, stop))
            node.end = closing.end() if closing else length
            if closing:
                node.close = closing.start()
            position = node.end
            continue
        elements.push(node)
    elements.close_to(1, length)
    root.end = length
    return _Tree(html, root, flattened=flattened)


def _implicit_close(elements: _OpenElements, tag: str, at: int) -> None:
    """Close what an opening ``tag`` closes implicitly (an open <p>, a previous <li>)."""
    stack = elements.stack
    targets = _IMPLICIT_TARGETS.get(tag, ())
    if not targets:
        # A block closes an open <p> with only inline elements above it.
        index = elements.nearest_block()
        if index and stack[index].tag == "p":
            elements.close_to(index, at)
        return
    barriers = _IMPLICIT_BARRIERS[tag]
    # The innermost open target (or <p>), unless a barrier is open inside it.
    index = elements.innermost(*targets, *barriers, *(("p",) if tag in _CLOSES_P else ()))
    if index and stack[index].tag not in barriers:
        elements.close_to(index, at)


# -- HTML: finding the related blocks --------------------------------------------------------

#: The class the block that render.py writes carries: a page rewritten once is
#: recognised by it, so rewriting it again replaces that block and nothing else.
OWN_BLOCK_CLASS = "related-posts"
#: The attribute render.py adds to every block it writes, its own ``<section>`` and a
#: theme's container it reuses alike: an element that carries it is the page's tail,
#: whatever else the page holds, so that a rewritten page is rewritten in the same place.
OWN_BLOCK_ATTR = "data-related-posts"

# Class / id fragments of related-posts blocks: WordPress plugins (YARPP, Jetpack,
# Contextual Related Posts, RP4WP), widget networks (Outbrain, Taboola, Revcontent, MGID,
# ZergNet) and the words templates use for them; a "-" in a fragment also matches "_" or
# nothing. Each has a kind:
# - "widget": names a whole widget even when it is still empty (filled by script);
# - "named": a plugin's or a recirculation module's own name;
# - "word": a generic word that also names tag lists and menus, so a block it marks must
#   not also carry a navigation word (_NOT_RELATED).
# Adding a marker is adding a row here.
_MARKERS: tuple[tuple[str, str], ...] = (
    ("yarpp-related", "widget"), ("jp-relatedposts", "widget"), ("crp_related", "widget"),
    ("outbrain", "widget"), ("ob-widget", "widget"), ("trc_related_container", "widget"),
    ("taboola", "widget"), ("revcontent", "widget"), ("zergnet", "widget"),
    ("yarpp", "named"), ("crp-list", "named"), ("rp4wp", "named"),
    ("related-posts", "named"), ("related-articles", "named"), ("related-stories", "named"),
    ("related-content", "named"), ("related-links", "named"), ("read-next", "named"),
    ("more-stories", "named"), ("more-from", "named"), ("more-articles", "named"),
    ("also-read", "named"), ("you-may-like", "named"), ("you-might-like", "named"),
    ("around-the-web", "named"), ("recirc", "named"), ("recommended", "named"),
    ("related", "word"), ("trc_rbox", "word"), ("mgid", "word"), ("recommendation", "word"),
    ("popular-posts", "word"), ("most-popular", "word"), ("most-read", "word"),
    ("trending", "word"), ("further-reading", "word"), ("sponsored", "word"),
    ("partner-content", "word"), ("paid-content", "word"),
)
RELATED_BLOCK_MARKERS = tuple(fragment for fragment, _ in _MARKERS)


def _marker_pattern(kinds: set[str], extra: str = "") -> re.Pattern[str]:
    fragments = [re.escape(fragment).replace(r"\-", "[-_]?")
                 for fragment, kind in _MARKERS if kind in kinds]
    return re.compile("|".join(fragments + ([extra] if extra else [])))


_MARKER = _marker_pattern({"widget", "named", "word"})
# Render's own block is a widget too, where its class comes first.
_WIDGET_MARKER = _marker_pattern({"widget"}, rf"^{re.escape(OWN_BLOCK_CLASS)}\b")
_NAMED_MARKER = _marker_pattern({"named"})
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
                          r"sponsor|comment|count|tag|thumb|image|img|icon|views|score")
_MORE_LINK = re.compile(r"^(see|view|show|load|read|browse|get)\s+(all|more)\b|^more\W*$|"
                        r"^(next|previous|prev)\W*$|^\W*$|^(recommended|powered|ads|sponsored|"
                        r"promoted) by\b|^what'?s this|^ad ?choices|^report this ad", re.I)


@dataclass
class _Stats:
    text: int = 0       # visible characters
    link_text: int = 0  # of which inside links
    links: int = 0
    paragraphs: int = 0  # <p> with a sentence or more of text outside links
    h1: int = 0
    articles: int = 0  # <article>, <main> and itemprop=articleBody elements


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
                own.articles += child.articles
        if node.tag == "a" and node.attrs.get("href"):
            own.links += 1
            own.link_text = own.text
        if node.tag == "p" and own.text - own.link_text >= 120:
            own.paragraphs += 1
        if node.tag == "h1":
            own.h1 += 1
        if _is_article(node):
            own.articles += 1
        stats[id(node)] = own
    return stats


def _is_article(node: _Node) -> bool:
    return node.tag in ("article", "main") or node.attrs.get("itemprop", "").lower() == "articlebody"


class _Spans:
    """Spans of the page, to ask whether one of them holds a given span (in log time)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [start for start, _ in ordered]
        self.reach = list(accumulate((end for _, end in ordered), max))

    def hold(self, start: int, end: int) -> bool:
        """Whether a span starts at or before ``start`` and ends at or after ``end``."""
        index = bisect_right(self.starts, start)
        return index > 0 and self.reach[index - 1] >= end


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
        self.starts = [node.start for node in self.nodes]  # in document order: sorted
        self.paragraph_count = sum(node.tag == "p" for node in self.nodes)
        root_stats = self.stats[id(self.tree.root)]
        self.page_plain = max(1, root_stats.text - root_stats.link_text)
        self.page_paragraphs = root_stats.paragraphs
        # Answers worked out once per element, bottom-up, instead of once per question.
        self._prose: dict[int, bool] = {}
        self._headlines: dict[int, int] | None = None
        self._positions: dict[int, dict[int, int]] = {}
        self._shown: dict[int, tuple[int, int]] = {}  # first and last visible part
        self._norms: dict[int, str] = {}
        self._link_titles: dict[int, str] = {}
        self._title_nodes: dict[int, _Node | None] = {}
        self._teasers: dict[tuple[int, str], str] = {}

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
            if found and found[-1].contains(node):
                continue
            if is_own_block(node):
                if not self.holds_page(node):
                    found.append(node)
                continue
            if node.tag not in _BLOCK_TAGS:
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
            if self.looks_like_tail(node, widget):
                found.append(node)
        return found

    def own_block(self) -> _Node | None:
        """The first block that render.py wrote (see :func:`is_own_block`), unless it
        holds the article."""
        return next((n for n in self.nodes if is_own_block(n) and not self.holds_page(n)), None)

    def holds_page(self, node: _Node) -> bool:
        """Whether ``node`` holds the page's article by its structure: the page's root, an
        ``<h1>``, an ``<article>`` or ``<main>``, the ``articleBody``. (A marker on such an
        element was not written by render.py; its own blocks may hold more text than a
        short article, so :meth:`holds_article`'s measures do not apply to them.)"""
        if node.tag in ("body", "html", "#document", "main") or self.s(node).h1:
            return True
        return self.s(node).articles > _is_article(node)  # one below ``node``

    def looks_like_tail(self, node: _Node, widget: bool) -> bool:
        """Whether a marked element is a related block: a list of links or items, or (for
        a widget network's own name) an empty placeholder that a script fills.

        A marker alone never makes a block: a "related" or "more" box of prose inside the
        article is not cut, nor an element left open (``<div class="more-stories"/>`` is
        no empty element to a browser: it runs to its parent's end) that so holds the
        article's paragraphs. Its descendants are still looked at, so a genuine list
        inside it is found.
        """
        stats = self.s(node)
        if not stats.text:
            return widget  # an empty slot: a widget's placeholder, else nothing to cut
        if self.holds_article(node) or self._holds_prose(node):
            return False
        return widget or (stats.links >= 1 and self.is_link_list(node))

    def _holds_prose(self, node: _Node) -> bool:
        """Whether two paragraphs of prose (a sentence or more, no link in or around them)
        follow each other below ``node``: article text. A card's teaser sits next to its
        link instead. (Worked out once per element, from its children's answers.)"""
        known = self._prose
        stack = [(node, False)]
        while stack:
            inner, ready = stack.pop()
            if id(inner) in known:
                continue
            if inner.tag == "a" or inner.tag in _RAW_TEXT:
                known[id(inner)] = False  # a card that is one link may hold its title and teaser as <p>s
                continue
            children = inner.children
            if not ready:
                stack.append((inner, True))
                stack.extend((child, False) for child in children if id(child) not in known)
                continue
            found = previous = False
            for child in children:
                stats = self.s(child)
                prose = child.tag == "p" and not stats.links and stats.text >= 40 and \
                    bool(_SENTENCE_END.search(self.text(child)))
                if (prose and previous) or known[id(child)]:
                    found = True
                    break
                previous = prose
            known[id(inner)] = found
        return known[id(node)]

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
                    and self.s(head.parent).text == stats.text and self.text(head.parent) == text:
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
        index = self.position(parent, head)
        last = None
        parts = parent.parts
        for position in range(index + 1, len(parts)):  # no copy of the parts that follow
            part = parts[position]
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
            if self._visible_between(parent, parent.open_end, first.start, first, before=True) \
                    or self._visible_between(parent, last.end, parent.end, last, before=False) \
                    or self.holds_article(parent):
                break
            first = last = parent
        return first.start, last.end

    def _visible_between(self, parent: _Node, start: int, end: int, child: _Node,
                         before: bool) -> bool:
        """Whether ``parent`` shows text between ``start`` and ``end``: before (or after)
        its ``child``. A long stretch is judged by the parent's parts (worked out once per
        parent), so that many runs in one parent do not each read the rest of it."""
        if end - start <= _EXACT_VISIBLE:
            return bool(_visible(self.html[start:end]))
        shown = self._shown.get(id(parent))
        if shown is None:
            visible = [index for index, part in enumerate(parent.parts) if (
                bool(_visible(self.html[part[0]:part[1]])) if isinstance(part, tuple)
                else self.s(part).text > 0 or bool(_visible(self.html[part.start:part.end])))]
            shown = self._shown[id(parent)] = (visible[0], visible[-1]) if visible else (-1, -1)
        if shown[0] < 0:
            return False
        index = self.position(parent, child)
        return shown[0] < index if before else shown[1] > index

    def position(self, parent: _Node, child: _Node) -> int:
        """The index of ``child`` in ``parent.parts`` (an index of the parts made once)."""
        positions = self._positions.get(id(parent))
        if positions is None:
            positions = self._positions[id(parent)] = {
                id(p): i for i, p in enumerate(parent.parts) if isinstance(p, _Node)}
        return positions[id(child)]

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
        reach = -1  # the furthest end of a box found: every one starts before this form
        for node in self.nodes:
            if node.tag != "form" or reach >= node.end:
                continue
            box = node
            while box.parent is not None and box.parent.tag not in ("body", "#document") and \
                    self.s(box.parent).text - self.s(box.parent).link_text <= 300 and \
                    not self.s(box.parent).paragraphs and not self.holds_article(box.parent):
                box = box.parent
            found.append(box)
            reach = max(reach, box.end)
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
            if self.headlines(node) >= 2 and self.link_density(node) >= 0.6:
                found.append(node)
        return found

    def headlines(self, node: _Node) -> int:
        """The links of four words or more in ``node`` (counted once for every element)."""
        if self._headlines is None:
            counts: dict[int, int] = {}
            for inner in reversed(self.nodes):
                count = int(inner.tag == "a" and bool(inner.attrs.get("href"))
                            and len(self.text(inner).split()) >= 4)
                counts[id(inner)] = count + sum(counts[id(c)] for c in inner.children)
            self._headlines = counts
        return self._headlines[id(node)]

    def flattened_tags(self) -> list[tuple[int, int]]:
        """The start and end tags of the elements that :data:`MAX_DEPTH` flattened (and of
        the deepest level), to be cut from what trafilatura reads: libxml2 stops reading a
        page at 256 levels, so it would miss the article after a run of unclosed tags."""
        if not self.tree.flattened:
            return []
        tags: list[tuple[int, int]] = []
        stack = [(self.tree.root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth >= MAX_DEPTH and node.tag not in _VOID and node.tag not in _RAW_TEXT:
                tags.append((node.start, node.open_end))
                if node.close >= 0:
                    tags.append((node.close, node.end))
            stack.extend((child, depth + 1) for child in node.children)
        return tags

    def norm_text(self, node: _Node) -> str:
        """:func:`_norm` of the element's text (cached)."""
        norm = self._norms.get(id(node))
        if norm is None:
            norm = self._norms[id(node)] = _norm(self.text(node))
        return norm

    def span_nodes(self, start: int, end: int) -> list[_Node]:
        """The elements inside ``start``..``end``, in document order."""
        first, stop = bisect_left(self.starts, start), bisect_left(self.starts, end)
        return [n for n in self.nodes[first:stop] if n.end <= end]

    # -- items -----------------------------------------------------------------------------

    def items(self, start: int, end: int) -> tuple[TailItem, ...]:
        """The related items (title, URL, teaser) in the span ``start``..``end``."""
        nodes = self.span_nodes(start, end)
        # Elements in (or being) a tail heading: as elements nest, those that start before
        # the furthest end of a heading seen so far.
        in_heading: set[int] = set()
        reach = -1
        for n in nodes:
            if self.s(n).text <= 80 and self.s(n).text and "\n" not in self.text(n) \
                    and is_tail_heading(self.text(n)):
                reach = max(reach, n.end)
                in_heading.add(id(n))
            elif n.start < reach:
                in_heading.add(id(n))
        links = [
            n for n in nodes
            if n.tag == "a" and n.attrs.get("href")
            and id(n) not in in_heading
            and not _MORE_LINK.match(self.text(n) or "")
            and (self.text(n) or n.attrs.get("title") or _img_alt(n))
        ]
        if not links:
            return ()
        groups = _item_groups(links, start, end)
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
        if id(container) not in self._title_nodes:
            self._title_nodes[id(container)] = next(
                (n for n in container.iter()
                 if (n.tag in _HEADINGS or _TITLE_CLASS.search(n.attrs.get("class", "")))
                 and self.text(n) and self.s(n).text <= 300 and not is_tail_heading(self.text(n))
                 and not _NOISE_CLASS.search(n.attrs.get("class", "").replace("title", ""))),
                None,
            )
        title_node = self._title_nodes[id(container)]
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
        title = self._link_titles.get(id(link))
        if title is None:
            title = self._link_titles[id(link)] = self._make_link_title(link)
        return title

    def _make_link_title(self, link: _Node) -> str:
        inner = list(link.iter())
        noisy = {id(n) for n in inner if n is not link
                 and (_NOISE_CLASS.search(n.attrs.get("class", "").replace("title", ""))
                      or re.fullmatch(r"\d{1,2}\.?", self.text(n)))}
        if not noisy:
            return self.text(link).replace("\n", " ")
        pieces: list[str] = []
        reach = -1  # the furthest end of a noisy element: what starts before it is inside one
        for node in inner:
            if id(node) in noisy:
                reach = max(reach, node.end)
                continue
            if node.start < reach:
                continue
            pieces.extend(html_lib.unescape(self.html[a:b]) for a, b in
                          (p for p in node.parts if isinstance(p, tuple)))
        return " ".join(" ".join(pieces).split())

    def _teaser(self, container: _Node, title: str) -> str:
        """An item's teaser: an element classed excerpt / summary, else the item's text
        outside its title, dates, bylines and brand labels (when that is a phrase)."""
        key = (id(container), title)
        if key not in self._teasers:
            self._teasers[key] = self._make_teaser(container, title)
        return self._teasers[key]

    def _make_teaser(self, container: _Node, title: str) -> str:
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


# Up to this many characters, whether a stretch of the page shows text is read from the
# stretch itself; a longer one is judged by the elements in it.
_EXACT_VISIBLE = 10_000


def _visible(fragment: str) -> str:
    """Visible text of an HTML fragment (tags, comments and scripts dropped)."""
    fragment = re.sub(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", "", fragment, flags=re.S | re.I)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]*>", " ", fragment)).split())


def _img_alt(node: _Node) -> str:
    for inner in node.iter():
        if inner.tag == "img" and inner.attrs.get("alt", "").strip():
            return inner.attrs["alt"].strip()
    return ""


def _item_groups(links: list[_Node], start: int, end: int) -> list[tuple[_Node, list[_Node]]]:
    """Links grouped by item: under the deepest element that holds them all, each child
    that holds links is one item (a ``<li>``, a card ``<div>``, or the link itself). A lone
    link's item is the element around it within the block ``start``..``end``."""
    if len(links) == 1:
        container = links[0]
        for ancestor in links[0].ancestors():
            if ancestor.start < start or ancestor.end > end:
                break  # the page around the block: its text is no teaser
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
#: The most markup and text (characters; the bodies of inline scripts and styles and data:
#: URIs, which cost next to nothing, not counted) a page may have: a bigger one raises
#: :class:`PageTooLargeError`. Parsing takes time linear in the page: one to three seconds a
#: MB of markup. ``parse_html(..., max_page=N)`` sets another limit for one page; 0 none.
MAX_PAGE = 10_000_000
#: trafilatura's fallback extractors (readability, jusText) take time quadratic in the
#: number of short blocks in a row (jusText looks for the nearest long block once for each
#: of them): on a page with more elements than this, trafilatura runs without them
#: (``fast=True``). No page of the labelled set comes near.
MAX_FALLBACK_ELEMENTS = 5_000
#: trafilatura's XPath query for paragraph text (libxml2 ``//p//text()``) takes time
#: quadratic in the number of ``<p>`` elements (4 s for 48,000, on every call): a page with
#: more than this is read by :func:`_paragraph_lines` instead, with a warning.
MAX_EXTRACT_PARAGRAPHS = 10_000
# What page_size leaves out: inline scripts and styles (to their end tag) and data: URIs.
_SCRIPT_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_SCRIPT_CLOSE = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style")}
_DATA_URI = re.compile(r"""data:[^\s"'<>]*""", re.IGNORECASE)

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


def page_size(html: str) -> int:
    """The characters of a page that its parse costs time for: its markup and text, less
    the bodies of inline ``<script>`` and ``<style>`` elements and data: URIs (embedded
    images), which are skipped at no cost. What :data:`MAX_PAGE` limits."""
    size = position = 0
    length = len(html)
    while position < length:
        opening = _SCRIPT_OPEN.search(html, position)
        body = html.find(">", opening.end()) + 1 if opening else 0
        if opening is None or not body:
            size += _markup_size(html, position, length)
            break
        size += _markup_size(html, position, opening.start()) + body - opening.start()
        if html[body - 2] == "/":  # <script src="..." />: no body
            position = body
            continue
        closing = _SCRIPT_CLOSE[opening.group(1).lower()].search(html, body)
        if closing is None:
            break  # the rest of the page is the script's
        size += closing.end() - closing.start()
        position = closing.end()
    return size


def _markup_size(html: str, start: int, end: int) -> int:
    """The characters in ``start``..``end`` outside data: URIs."""
    return end - start - sum(len(match.group()) for match in _DATA_URI.finditer(html, start, end))


def _amount(characters: int) -> str:
    return f"{characters / 1e6:.1f} MB" if characters >= 1_000_000 else f"{characters:,} characters"


def parse_html(html: str, *, filename: str | None = None,
               extractor: dict[str, Any] | None = None, max_page: int | None = None) -> Document:
    """Title, article text and related-posts block of an HTML page.

    Related blocks (widgets marked by class or id, headed link lists, link-only
    ``<aside>``/``<section>`` after the article) and in-article "Read more: <link>" promos
    are cut out of the page before trafilatura extracts the article text, so neither ends
    up in the body. The first block after the article's last paragraph is the tail; a
    page without one gets an empty tail span just after its ``<article>`` (or after the
    last paragraph), where a new block goes. ``extractor`` overrides
    :data:`TRAFILATURA_OPTIONS` (the bench uses it). Never raises on malformed HTML.

    Raises:
        PageTooLargeError: for a page with more markup and text than ``max_page``
            characters (default :data:`MAX_PAGE`; see :func:`page_size`; 0: no limit).
    """
    warnings: list[str] = []
    where = _where(filename)
    limit = MAX_PAGE if max_page is None else max_page
    if limit and len(html) > limit and (size := page_size(html)) > limit:
        raise PageTooLargeError(where, (
            f"page too large: {_amount(size)} of markup and text (inline scripts, styles and "
            f"data: URIs not counted), over the limit of {_amount(limit)} (parsing takes up to "
            f"3 s a MB). Raise the limit with --max-page-mb (or max_page= in Python) if the "
            f"page is meant to be read"))
    if len(html) > LARGE_PAGE:
        warnings.append(f"{where}: large page ({len(html) / 1e6:.1f} MB); parsed anyway, "
                        "which takes a few seconds")
    page = _HtmlPage(html)
    blocks: list[_Block] = []
    for node in page.widget_blocks():
        blocks.append(_Block(node.start, node.end, "widget", _first_heading(page, node), ()))
    widgets = _Spans((b.start, b.end) for b in blocks)
    headed: list[_Block] = []
    in_order, reach = True, -1  # while they come in page order: the furthest end of one
    for head, last, heading_node in page.heading_blocks():
        start, end = page.widen(head, last)
        if widgets.hold(start, end):
            continue
        in_order = in_order and (not headed or start >= headed[-1].start)
        if reach >= end if in_order else any(b.start <= start and end <= b.end for b in headed):
            continue
        headed.append(_Block(start, end, "heading", page.text(heading_node), ()))
        reach = max(reach, end)
    blocks = _merge_blocks(html, blocks + headed)
    spans = _Spans((b.start, b.end) for b in blocks)
    promos = [n for n in page.promos() if not spans.hold(n.start, n.end)]
    furniture = [n for n in page.navigation() + page.form_boxes()
                 if not spans.hold(n.start, n.end)]
    cut = [(b.start, b.end) for b in blocks] + [(n.start, n.end) for n in promos + furniture]
    title = _html_title(page)
    lines, extract_warning = _extract_lines(_cut_spans(html, cut + page.flattened_tags()),
                                            extractor, len(page.nodes), page.paragraph_count)
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
    own = page.own_block()
    if own is not None:
        # The block a rewrite wrote is the tail, and only it: rewriting the page again
        # replaces it in place, never a widget next to it or one the theme added later.
        tail = _Block(own.start, own.end, "own", _first_heading(page, own),
                      page.items(own.start, own.end))
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


def is_own_block(node: _Node) -> bool:
    """Whether ``node`` is a block render.py wrote: it carries :data:`OWN_BLOCK_ATTR`, or
    it is the plain ``<section class="related-posts">`` written where a page had no block."""
    return OWN_BLOCK_ATTR in node.attrs or (
        node.tag == "section" and node.attrs.get("class", "").strip() == OWN_BLOCK_CLASS)


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
    parts_of: list[list[tuple[int, int]]] = []  # of each merged block (joined at the end)
    for block in sorted(blocks, key=lambda b: (b.start, -b.end)):
        parts = block.parts or ((block.start, block.end),)
        if merged and block.start < merged[-1].end:
            last = merged[-1]
            if block.end > last.end:  # overlapping, not nested: keep both parts
                merged[-1] = replace(last, end=block.end)
                parts_of[-1].extend(parts)
            continue
        if merged and not _visible(html[merged[-1].end:block.start]):
            last = merged[-1]
            merged[-1] = replace(last, end=block.end, heading=last.heading or block.heading)
            parts_of[-1].extend(parts)
            continue
        merged.append(block)
        parts_of.append(list(parts))
    return [replace(block, parts=tuple(parts)) for block, parts in zip(merged, parts_of)]


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


def _extract_lines(html: str, extractor: dict[str, Any] | None, elements: int = 0,
                   paragraphs: int = 0) -> tuple[list[str], str | None]:
    """The article text as lines (trafilatura), and a warning if it had to fall back.

    ``elements`` and ``paragraphs`` (``<p>``) are counts of the page's: past
    :data:`MAX_FALLBACK_ELEMENTS` trafilatura runs without its fallback extractors, past
    :data:`MAX_EXTRACT_PARAGRAPHS` not at all (both would take time quadratic in the page).
    """
    import trafilatura

    if paragraphs > MAX_EXTRACT_PARAGRAPHS:
        return _paragraph_lines(html), (
            f"{paragraphs:,} paragraphs, more than trafilatura reads in reasonable time "
            f"({MAX_EXTRACT_PARAGRAPHS:,}); used the page's paragraphs")
    fast = {"fast": True} if elements > MAX_FALLBACK_ELEMENTS else {}
    options = dict(TRAFILATURA_OPTIONS, **fast, **(extractor or {}))
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
    spans = _Spans(cut)
    candidates = [
        n for n in page.nodes
        if n.tag in _LINE_HOLDERS and not spans.hold(n.start, n.end)
    ]
    for line in reversed(lines[-5:]):
        probe = _norm(line)[:60]
        if not probe:
            continue
        # Latest-starting first: the first element that holds the line is the innermost
        # one (its ancestors start earlier). Huge ancestors are skipped, not read.
        for node in reversed(candidates):
            if page.s(node).text <= 20 * len(line) + 2000 and probe in page.norm_text(node):
                return node
    return None


_LINE_HOLDERS = frozenset(("p", "li", "blockquote", "pre", "td", "dd", "div", "span", "figcaption",
                           "section", "article", "main", "body", "font", "center") + _HEADINGS)


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
