"""Read the sources publishers already have: RSS and Atom feeds, WordPress exports, sitemaps.

Pure functions: text in, documents out, no file or network I/O. Like
:func:`~related_posts.recommend.parse.parse_records`, the readers of many articles yield
``(location, Document | ParseError)`` pairs, so one bad entry does not stop the others;
locations are ``file#N`` with N the 1-based entry (or ``<item>``) number in the file.

- :func:`parse_feed`: RSS 2.0, RSS 1.0 (RDF) and Atom through feedparser.
- :func:`parse_wxr`: a WordPress export (WXR 1.0-1.2, "Tools > Export"), with drafts
  flagged and attachments, menu items and revisions left out.
- :func:`sitemap_urls`: the page URLs of a sitemap, or the child sitemaps of an index.
- :func:`html_to_text`: the HTML these sources carry (post_content, ``content:encoded``,
  REST ``content.rendered``) as plain text for embedding and teasers.
- :func:`is_feed`, :func:`is_wxr`, :func:`is_sitemap`: format detection from the first KB.
"""

from __future__ import annotations

import html as html_lib
import io
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from .decode import _check_not_binary
from .document import BinaryDataError, Document, NoArticleError, PageMetadata, ParseError, _where

__all__ = [
    "Sitemap", "html_to_text", "is_feed", "is_sitemap", "is_wxr", "parse_feed", "parse_wxr",
    "sitemap_urls",
]

#: How far into a file the ``is_*`` detectors look.
HEAD_CHARS = 8192

# Characters XML 1.0 forbids (C0 controls but tab/newline/CR, lone surrogates, U+FFFE/F).
# WordPress exports often carry a few pasted from word processors; libxml2 stops at them.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f]")


# -- HTML to text -----------------------------------------------------------------------------

# Elements whose content is not text a reader sees.
_DROP = frozenset({"script", "style", "noscript", "iframe", "template", "head", "svg", "math",
                   "object", "embed", "canvas", "select", "button", "textarea", "audio", "video",
                   "map"})
# Elements that start and end a paragraph.
_BLOCK = frozenset({
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "caption", "figure",
    "figcaption", "section", "article", "aside", "header", "footer", "nav", "main", "address",
    "details", "summary", "fieldset", "form", "hr", "center", "listing", "legend", "dialog",
    "hgroup", "menu",
})
_CELLS = frozenset({"td", "th"})
_PRE = frozenset({"pre", "listing", "plaintext", "xmp"})
# Sentinels in the text being assembled: a paragraph break and a line break. They cannot
# occur in the text itself, which has had every C0 control removed.
_PARA, _LINE = "\x01", "\x02"
# The look-behind starts a match only at the start of a run of spaces, so a long run with
# no newline is scanned once, not once from every position in it (quadratic).
_BLANK_LINE = re.compile(r"(?<![^\S\n])[^\S\n]*\n(?:[^\S\n]*\n)+[^\S\n]*")
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")
# WordPress shortcodes: [name attr="v"], [/name], [name/], and [[name]] (an escaped one,
# shown literally).
_SHORTCODE = re.compile(r"\[(\[?)(/?)([A-Za-z][\w-]*)((?:\s[^\[\]]*)?)/?\](\]?)")
_CLOSING_SHORTCODE = re.compile(r"\[/([A-Za-z][\w-]*)\]")
# Shortcodes of WordPress core and common plugins, removed even without attributes or a
# closing tag; any other ``[word]`` stays unless it has ``=`` attributes or is closed
# later, so ``[sic]`` and ``[citation needed]`` are kept.
_KNOWN_SHORTCODES = frozenset({"caption", "wp_caption", "gallery", "audio", "video", "playlist",
                               "embed", "toc", "contact-form", "contact-form-7", "more"})
# Shortcodes that hold a block of their own (their text becomes its own paragraph).
_BLOCK_SHORTCODES = frozenset({"caption", "wp_caption", "gallery", "audio", "video", "playlist",
                               "embed"})


def html_to_text(fragment: str) -> str:
    """An HTML fragment (WordPress ``post_content``, a feed's ``content:encoded``, a REST
    ``content.rendered``) as plain text for embedding and teasers.

    Paragraphs and block elements (``p``, ``div``, ``li``, ``h1``-``h6``, ``blockquote``,
    ``tr``...) are separated by a blank line and ``br`` by a newline; entities are decoded;
    ``script``, ``style``, ``noscript``, ``iframe`` and ``template`` content is dropped, as
    are comments (WordPress block delimiters such as ``<!-- wp:paragraph -->``); shortcode
    tags (``[caption id="x"]...[/caption]``, ``[gallery ids="1,2"]``) are dropped and the
    text between them kept. Whitespace runs inside a paragraph become one space, except
    that in text outside any block element (classic-editor content, which WordPress turns
    into paragraphs with ``wpautop`` only when it renders a page) a blank line starts a
    paragraph and a newline is kept. Plain text without tags comes back unchanged apart
    from that whitespace normalisation.

    Never raises: any string (empty, binary junk, broken markup) gives a string.
    """
    if not isinstance(fragment, str) or not fragment:
        return ""
    text = _CONTROL.sub(" ", fragment.replace("\r\n", "\n").replace("\r", "\n"))
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)
    closing = {name.lower() for name in _CLOSING_SHORTCODE.findall(text)}
    if "<" not in text:
        if "&" in text and _ENTITY.search(text):
            text = html_lib.unescape(text)
        return _assemble(_flow_text(text, "top", closing))
    try:
        root, gave_up = _parse_fragment(text)
    except (etree.LxmlError, ValueError):
        root, gave_up = None, True
    if root is None or gave_up:
        return _crude_text(text, closing)
    pieces: list[str] = []
    _walk(root, pieces, closing)
    return _assemble("".join(pieces))


def _crude_text(text: str, closing: set[str]) -> str:
    """The fallback for what libxml2 gives up on (nesting over 2,048 deep, no element at
    all): delete dropped elements and then anything between angle brackets."""
    text = re.sub(r"<(script|style|noscript|iframe|template)\b.*?</\1\s*>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<!--.*?(?:-->|$)|<[^>]*>?", " ", text, flags=re.S)
    return _assemble(_flow_text(html_lib.unescape(text), "top", closing))


def _parse_fragment(text: str) -> tuple[Any, bool]:
    """The fragment as an lxml HTML tree (``html``/``body`` around it) or None, and whether
    libxml2 stopped early at one of its resource limits (the rest of the text is lost)."""
    parser = etree.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True,
                              remove_pis=True, huge_tree=True, default_doctype=False)
    root = etree.fromstring(text.encode("utf-8", "replace"), parser)
    gave_up = any(entry.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for entry in parser.error_log)
    return root, gave_up


def _walk(root: Any, pieces: list[str], closing: set[str]) -> None:
    """Append the text of ``root`` to ``pieces``, with paragraph and line sentinels.

    Iterative, so a deeply nested page cannot hit Python's recursion limit. Each stack
    entry is (element, closed?, the text mode of its parent).
    """
    stack: list[tuple[Any, bool, str]] = [(root, False, "top")]
    while stack:
        element, closed, outer = stack.pop()
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if closed:
            if tag in _BLOCK:
                pieces.append(_PARA)
            elif tag in _CELLS:
                pieces.append(" ")
            if element.tail:
                pieces.append(_flow_text(element.tail, outer, closing))
            continue
        stack.append((element, True, outer))
        if not tag or tag in _DROP:  # a comment, PI or entity; or content nobody reads
            continue
        if tag == "br":
            pieces.append(_LINE)
            continue
        if tag in _BLOCK:
            pieces.append(_PARA)
        elif tag in _CELLS:
            pieces.append(" ")
        inner = "pre" if outer == "pre" or tag in _PRE else "flow" if tag in _BLOCK or tag in _CELLS \
            else outer
        if element.text:
            pieces.append(_flow_text(element.text, inner, closing))
        for child in reversed(element):
            stack.append((child, False, inner))


def _flow_text(text: str, mode: str, closing: set[str]) -> str:
    """A text node with shortcodes removed and its newlines made sentinels.

    ``mode``: ``pre`` keeps every line; ``top`` (outside any block element) makes a blank
    line a paragraph break and a newline a line break; ``flow`` makes a blank line a
    paragraph break and a newline a space.
    """
    if "[" in text:
        text = _SHORTCODE.sub(lambda m: _shortcode(m, closing), text)
    if mode == "pre":
        return _BLANK_LINE.sub(_PARA, text).replace("\n", _LINE)
    text = _BLANK_LINE.sub(_PARA, text)
    return text.replace("\n", _LINE if mode == "top" else " ")


def _shortcode(match: re.Match[str], closing: set[str]) -> str:
    escaped_open, slash, name, attrs, escaped_close = match.groups()
    if escaped_open and escaped_close:  # [[name]] shows as [name]
        return match.group(0)[1:-1]
    lower = name.lower()
    if not (slash or lower in _KNOWN_SHORTCODES or "=" in attrs or lower in closing):
        return match.group(0)
    tag = _PARA if lower in _BLOCK_SHORTCODES else " "
    return escaped_open + tag + escaped_close


def _assemble(text: str) -> str:
    """Sentinel-marked text as paragraphs separated by blank lines, whitespace collapsed."""
    paragraphs = []
    for paragraph in text.split(_PARA):
        lines = (" ".join(line.split()) for line in paragraph.split(_LINE))
        kept = "\n".join(line for line in lines if line)
        if kept:
            paragraphs.append(kept)
    return "\n\n".join(paragraphs)


def _one_line(fragment: str) -> str:
    """A title or label that may hold markup or entities, as one line of text."""
    return " ".join(html_to_text(fragment).split())


# -- format detection -------------------------------------------------------------------------

_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S | re.I)
_START_TAG = re.compile(r"\s*<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)((?:\s[^<>]*)?)/?>?", re.S)
_WXR_NS = re.compile(r"^https?://wordpress\.org/export/1\.\d+/$")
_WXR_NS_IN_HEAD = re.compile(r"""xmlns:[\w.-]+\s*=\s*["']https?://wordpress\.org/export/1\.\d+/["']""")
_ATOM_NS = "http://www.w3.org/2005/Atom"
_SITEMAP_ROOTS = ("urlset", "sitemapindex")


def _root(text: str) -> tuple[str, str, str] | None:
    """(prefix, local name, attributes) of the first start tag in the head of ``text``,
    after a BOM, the XML declaration, processing instructions, comments and a doctype."""
    head = text[:HEAD_CHARS].lstrip("\ufeff")
    at = 0
    while True:
        prolog = _PROLOG.match(head, at)
        if not prolog or prolog.end() == at:
            break
        at = prolog.end()
    tag = _START_TAG.match(head, at)
    if not tag:
        return None
    return (tag.group(1) or "")[:-1], tag.group(2), tag.group(3) or ""


def is_wxr(text: str) -> bool:
    """Whether ``text`` is a WordPress export: the ``wordpress.org/export/1.x/`` namespace
    declared in its first few KB."""
    return bool(_WXR_NS_IN_HEAD.search(text[:HEAD_CHARS]))


def is_feed(text: str) -> bool:
    """Whether ``text`` is an RSS or Atom feed: an ``<rss>`` root (not a WordPress export),
    a ``<feed>`` root in the Atom namespace, or an RSS 1.0 ``<rdf:RDF>`` root."""
    root = _root(text)
    if root is None:
        return False
    prefix, name, attrs = root
    if name == "rss":
        return not is_wxr(text)
    if name == "feed":
        return _ATOM_NS in attrs
    return name == "RDF" and prefix == "rdf"


def is_sitemap(text: str) -> bool:
    """Whether ``text`` is an XML sitemap (``<urlset>``) or sitemap index (``<sitemapindex>``)."""
    root = _root(text)
    return root is not None and root[1] in _SITEMAP_ROOTS


# -- shared helpers ---------------------------------------------------------------------------


def _binary_error(text: str, where: str) -> ParseError | None:
    """The parse package's one binary-data check (:func:`.decode._check_not_binary`), as a value."""
    try:
        _check_not_binary(text, where, "the text of a feed, WordPress export or sitemap")
    except BinaryDataError as exc:
        return exc
    return None


def _xml_parser() -> Any:
    # recover: exports and feeds are often slightly broken (a stray "&", a bad character),
    # and one broken post should not hide the others; the errors are read back from the
    # error log and reported against the items they fall in. resolve_entities=False and
    # no_network: no entity expansion (billion laughs) and no external DTD or entity is
    # ever fetched (XXE), since the file is untrusted. huge_tree lifts libxml2's 10 MB
    # text-node limit, which big exports (inline base64 images) pass; it is safe because
    # entities are not expanded.
    return etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=True, remove_comments=True, remove_pis=True, encoding="utf-8")


def _parse_xml(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """The root element (None when there is none) and the (line, message) of each error."""
    parser = _xml_parser()
    try:
        root = etree.fromstring(_INVALID_XML.sub("", text).encode("utf-8"), parser)
    except (etree.LxmlError, ValueError):
        root = None
    errors = [(entry.line, " ".join(entry.message.split()))
              for entry in parser.error_log
              if entry.level >= etree.ErrorLevels.ERROR]
    return root, errors


def _local(element: Any) -> str:
    """An element's name without its namespace ("" for a comment or PI). Not
    ``etree.QName``, which rejects the odd names a recovering parser lets through."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(element: Any) -> str:
    tag = element.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _iso_utc(fields: Any) -> str | None:
    """A ``time.struct_time`` (feedparser's ``*_parsed``, always UTC) as ISO 8601 UTC."""
    try:
        year, month, day, hour, minute, second = (int(v) for v in tuple(fields)[:6])
        moment = datetime(year, month, day, hour, minute, min(second, 59))
    except (TypeError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if year >= 1000 else None


def _dedupe(values: Collection[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    kept = []
    for value in values:
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            kept.append(value)
    return tuple(kept)


def _is_url(value: str) -> bool:
    return bool(re.match(r"^https?://\S+$", value.strip(), re.I))


_READ_MORE = re.compile(r"\s*\[(?:…|\.\.\.|&hellip;)\]\s*$")


def _teaser(fragment: str) -> str | None:
    """An excerpt or summary as teaser text; WordPress's trailing ``[…]`` becomes ``…``."""
    text = html_to_text(fragment)
    more = _READ_MORE.search(text)
    if more:
        text = text[: more.start()] + ("" if text[: more.start()].endswith((".", "!", "?", "…")) else "…")
    return text or None


# -- RSS and Atom -----------------------------------------------------------------------------

_NOT_A_FEED = "expected an RSS 2.0, RSS 1.0 or Atom feed (an <rss>, <rdf:RDF> or Atom <feed> root)"


def parse_feed(text: str, filename: str | None = None
               ) -> Iterator[tuple[str, Document | ParseError]]:
    """Each entry of an RSS or Atom feed, read with feedparser (nothing is fetched).

    Per entry: the title (entities and markup decoded), the body from ``content:encoded``
    or Atom ``content``, else the summary (through :func:`html_to_text`), and metadata:
    ``url`` the entry link, ``id`` the guid / Atom id when it is not a URL, ``published``
    and ``modified`` as ISO 8601 UTC (``2026-03-01T09:30:00Z``), ``labels`` the categories,
    ``description`` the summary when there is full content too, ``image`` from
    ``media:content`` / ``media:thumbnail`` / an image enclosure, ``lang`` from
    ``xml:lang`` or the channel ``language``. Documents have ``format="feed"`` and the whole
    file as ``text``.

    A WordPress export (an RSS file with the ``wp:`` namespace) is read by
    :func:`parse_wxr` instead, so its drafts are not taken for published posts.

    Yields:
        ``(location, document or error)``; locations are ``file#N`` with N the 1-based
        entry number. A file that is not a feed gives one error for the file (location
        ``file``); an entry without a title or body gives an error for that entry. A feed
        that is not well-formed but still readable gives its entries with a warning.
    """
    where = _where(filename)
    if not isinstance(text, str) or not text.strip():
        yield where, ParseError(where, f"empty file; {_NOT_A_FEED}")
        return
    binary = _binary_error(text, where)
    if binary:
        yield where, binary
        return
    if is_wxr(text):
        yield from parse_wxr(text, filename)
        return
    import feedparser  # ships no type information; imported here, as only feeds need it

    try:
        # A file object, never the string: feedparser.parse("https://...") fetches the URL
        # and parse("/some/path") opens the file. The header says the bytes are UTF-8 (they
        # are: we encoded them), whatever the XML declaration claims.
        result = feedparser.parse(io.BytesIO(_INVALID_XML.sub("", text).encode("utf-8")),
                                  response_headers={"content-type": "application/xml; charset=utf-8"},
                                  sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser is lenient; a crash in it is still bad input
        yield where, ParseError(where, f"feedparser could not read it ({type(exc).__name__}); {_NOT_A_FEED}")
        return
    entries = result.get("entries") or []
    version = result.get("version")
    problem = result.get("bozo_exception") if result.get("bozo") else None
    if not entries:
        if problem is not None or not version:
            detail = f" ({_exception_text(problem)})" if problem is not None else ""
            yield where, ParseError(where, f"not a feed{detail}; {_NOT_A_FEED}")
        return  # a valid feed with no entries: nothing to read, nothing wrong
    feed = result.get("feed") or {}
    warnings: tuple[str, ...] = ()
    if problem is not None:
        warnings = (f"the feed is not well-formed XML ({_exception_text(problem)}); its entries were "
                    "read by feedparser's lenient parser and the last may be incomplete",)
    for number, entry in enumerate(entries, start=1):
        here = f"{where}#{number}"
        yield here, _feed_entry(text, entry, feed, here, warnings)


def _exception_text(exc: Any) -> str:
    """feedparser's exception as one line (SAX messages already say ``<unknown>:line:col``)."""
    return " ".join(str(exc).split()).replace("<unknown>:", "line ") or type(exc).__name__


def _feed_entry(text: str, entry: Mapping[str, Any], feed: Mapping[str, Any], here: str,
                warnings: tuple[str, ...]) -> Document | ParseError:
    title = _detail_text(entry.get("title"), entry.get("title_detail"), one_line=True)
    content = _best_content(entry.get("content") or [])
    # feedparser answers entry["summary"] with the content when there is no summary; only
    # summary_detail says whether the feed really had one.
    summary_detail = entry.get("summary_detail")
    summary = _detail_text(entry.get("summary"), summary_detail) if summary_detail else ""
    body = _detail_text(content.get("value"), content) if content else summary
    if not title or not body:
        missing = "title" if not title else "text (no content:encoded, content or description)"
        return NoArticleError(here, f"the entry has no {missing}; expected an <item> or <entry> "
                              "with a title and content")
    link = str(entry.get("link") or "").strip() or None
    guid = str(entry.get("id") or "").strip()
    description = None
    if content and summary_detail:
        description = _teaser(summary) if summary else None
        if description is not None and description == body:
            description = None
    metadata = PageMetadata(
        id=guid if guid and guid != link and not _is_url(guid) else None,
        url=link,
        published=_iso_utc(entry["published_parsed"]) if entry.get("published_parsed") else None,
        # "in": feedparser 6 answers entry.get("updated_parsed") with the published date
        # (with a DeprecationWarning) when the entry has no <updated>.
        modified=_iso_utc(entry["updated_parsed"])
        if "updated_parsed" in entry and entry["updated_parsed"] else None,
        labels=_dedupe([_one_line(str(tag.get("term") or tag.get("label") or ""))
                        for tag in entry.get("tags") or [] if isinstance(tag, Mapping)]),
        lang=_feed_lang(entry, content, feed),
        image=_feed_image(entry),
        description=description,
    )
    return Document(text=text, format="feed", title=title, body=body, warnings=warnings,
                    metadata=metadata)


def _best_content(contents: list[Any]) -> Mapping[str, Any] | None:
    """The richest of an entry's contents (HTML before plain text), if any has text."""
    usable = [c for c in contents if isinstance(c, Mapping) and str(c.get("value") or "").strip()]
    usable.sort(key=lambda c: "html" not in str(c.get("type") or ""))
    return usable[0] if usable else None


def _detail_text(value: Any, detail: Any, one_line: bool = False) -> str:
    """A feedparser value as text: HTML (``text/html``, ``application/xhtml+xml``) through
    :func:`html_to_text`; plain text with its whitespace normalised."""
    raw = str(value or "")
    kind = str(detail.get("type") or "") if isinstance(detail, Mapping) else ""
    if "html" in kind:
        text = html_to_text(raw)
    else:
        text = _assemble(_flow_text(_CONTROL.sub(" ", raw), "top", set()))
    return " ".join(text.split()) if one_line else text


def _feed_lang(entry: Mapping[str, Any], content: Mapping[str, Any] | None,
               feed: Mapping[str, Any]) -> str | None:
    title_detail = entry.get("title_detail")
    for value in (entry.get("language"), content.get("language") if content else None,
                  title_detail.get("language") if isinstance(title_detail, Mapping) else None,
                  feed.get("language")):
        if value and str(value).strip():
            return str(value).strip()
    return None


_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg)(?:[?#]|$)", re.I)


def _feed_image(entry: Mapping[str, Any]) -> str | None:
    for media in entry.get("media_content") or []:
        if not isinstance(media, Mapping) or not media.get("url"):
            continue
        medium, kind = str(media.get("medium") or ""), str(media.get("type") or "")
        if medium == "image" or kind.startswith("image/") or (
                not medium and not kind and _IMAGE_FILE.search(str(media["url"]))):
            return str(media["url"]).strip()
    for thumbnail in entry.get("media_thumbnail") or []:
        if isinstance(thumbnail, Mapping) and thumbnail.get("url"):
            return str(thumbnail["url"]).strip()
    for enclosure in entry.get("enclosures") or []:
        if isinstance(enclosure, Mapping) and enclosure.get("href") \
                and str(enclosure.get("type") or "").startswith("image/"):
            return str(enclosure["href"]).strip()
    return None


# -- WordPress export (WXR) -------------------------------------------------------------------

_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_EXCERPT_NS = re.compile(r"^https?://wordpress\.org/export/1\.\d+/excerpt/$")
#: Statuses of posts that are not (yet) public: yielded with ``draft=True``. Every other
#: status but ``publish`` (``trash``, ``auto-draft``, ``inherit``) yields nothing.
WXR_DRAFT_STATUSES = frozenset({"draft", "pending", "private", "future"})
_WXR_NO_DATE = "0000-00-00 00:00:00"
_NOT_WXR = ("expected a WordPress export (WXR 1.0-1.2: Tools > Export in WordPress, an <rss> "
            "file declaring the http://wordpress.org/export/1.2/ namespace)")


def parse_wxr(text: str, filename: str | None = None, *,
              post_types: Collection[str] = ("post", "page"),
              ) -> Iterator[tuple[str, Document | ParseError]]:
    """Each post and page of a WordPress export (WXR 1.0-1.2).

    Published items (``wp:status`` ``publish``) become documents; drafts, pending,
    private and scheduled (``future``) ones become documents with ``metadata.draft=True``
    so a caller can count them or take them out of a store; attachments, menu items,
    revisions, trashed posts, auto-drafts and other post types give nothing. Fields:
    ``title``; ``body`` = :func:`html_to_text` of ``content:encoded``; ``description`` =
    the ``excerpt:encoded`` as text; ``url`` = ``link`` (the permalink); ``id`` =
    ``wp:post_id``; ``published`` / ``modified`` = ``wp:post_date_gmt`` /
    ``wp:post_modified_gmt`` as ISO 8601 UTC (``0000-00-00 00:00:00`` is no date; a
    published post with only a local ``wp:post_date`` gets that, without ``Z``);
    ``labels`` = its categories and tags; ``slug`` = ``wp:post_name``; ``image`` = the
    featured image's URL; ``lang`` = the channel ``language``. Documents have
    ``format="wxr"``, the item's XML as ``text`` and ``meta`` ``{"post_type", "status"}``.

    Args:
        text: the export file.
        filename: names the items in locations and errors.
        post_types: the ``wp:post_type`` values to read (add a custom type such as
            ``"recipe"`` to read those too).

    Yields:
        ``(location, document or error)``; locations are ``file#N`` with N the 1-based
        ``<item>`` number in the file (attachments and menu items count). A file that is
        not a WordPress export gives one error for the file; an item in which the XML is
        broken (a truncated file) or a published post without a title or text gives an
        error for that item.
    """
    where = _where(filename)
    if not isinstance(text, str) or not text.strip():
        yield where, ParseError(where, f"empty file; {_NOT_WXR}")
        return
    binary = _binary_error(text, where)
    if binary:
        yield where, binary
        return
    root, errors = _parse_xml(text)
    if root is None or _local(root) != "rss":
        found = f"a <{_local(root)}> root" if root is not None and _local(root) else "no XML element"
        detail = f" ({errors[0][1]} at line {errors[0][0]})" if errors and root is None else ""
        yield where, ParseError(where, f"not a WordPress export: {found}{detail}; {_NOT_WXR}")
        return
    if not any(_WXR_NS.match(ns or "") for ns in root.nsmap.values()):
        yield where, ParseError(where, "an RSS file without the WordPress export namespace (read it "
                                f"as a feed); {_NOT_WXR}")
        return
    channel = next((child for child in root if _local(child) == "channel"), root)
    lang = next((" ".join(child.itertext()).strip() for child in channel
                 if _local(child) == "language" and not _namespace(child)), "") or None
    items = [element for element in root.iter("item")]
    fields = [_wxr_fields(item) for item in items]
    attachments = {f["wp:post_id"]: f["wp:attachment_url"] for f in fields
                   if f.get("wp:post_type") == "attachment" and f.get("wp:attachment_url")}
    starts = [item.sourceline or 0 for item in items]
    for number, (item, values) in enumerate(zip(items, fields), start=1):
        here = f"{where}#{number}"
        end = starts[number] if number < len(items) else None
        broken = [(line, message) for line, message in errors
                  if line >= starts[number - 1] and (end is None or line < end)]
        if broken:
            line, message = broken[0]
            yield here, ParseError(here, f"broken XML in this item at line {line} ({message}); "
                                   "expected a complete <item>...</item> (a truncated export? export again)")
            continue
        result = _wxr_item(item, values, here, lang, attachments, post_types)
        if result is not None:
            yield here, result
    outside = [(line, message) for line, message in errors
               if not items or line < starts[0]]
    if outside:
        line, message = outside[0]
        yield where, ParseError(where, f"broken XML at line {line} ({message}), outside any <item>; "
                                "the items that could be read are above")


def _wxr_fields(item: Any) -> dict[str, Any]:
    """An item's child elements as ``{"wp:post_id": text, "content": text, ...}`` (the
    first of each), with its categories under ``"categories"`` and post meta under
    ``"postmeta"``."""
    values: dict[str, Any] = {"categories": [], "postmeta": {}}
    for child in item:
        name = _local(child)
        if not name:
            continue
        namespace = _namespace(child)
        if _WXR_NS.match(namespace):
            key = f"wp:{name}"
        elif _EXCERPT_NS.match(namespace):
            key = f"excerpt:{name}"
        elif namespace == _CONTENT_NS:
            key = f"content:{name}"
        elif not namespace:
            key = name
        else:
            continue
        if key == "category":
            values["categories"].append((child.get("domain") or "", child.get("nicename") or "",
                                         "".join(child.itertext())))
        elif key == "wp:postmeta":
            meta = {_local(c): "".join(c.itertext()).strip() for c in child}
            if meta.get("meta_key"):
                values["postmeta"].setdefault(meta["meta_key"], meta.get("meta_value", ""))
        elif key not in values:
            values[key] = "".join(child.itertext()) if key.startswith("content:") or \
                key.startswith("excerpt:") else "".join(child.itertext()).strip()
    return values


def _wxr_item(item: Any, values: dict[str, Any], here: str, lang: str | None,
              attachments: Mapping[str, str], post_types: Collection[str]) -> Document | ParseError | None:
    post_type = values.get("wp:post_type", "").strip().lower()
    status = values.get("wp:status", "").strip().lower()
    if post_type not in post_types:
        return None
    draft = status in WXR_DRAFT_STATUSES
    if status != "publish" and not draft:
        return None
    title = _one_line(values.get("title", ""))
    body = html_to_text(values.get("content:encoded", ""))
    if not draft and (not title or not body):
        missing = "title" if not title else "text in content:encoded"
        return NoArticleError(here, f"the published {post_type} has no {missing}; expected a "
                              "<title> and <content:encoded> with the post's HTML")
    published = _wxr_date(values.get("wp:post_date_gmt"))
    if published is None and not draft:
        published = _wxr_date(values.get("wp:post_date"), utc=False)
    labels = [_one_line(name) for domain, nicename, name in values["categories"]
              if domain in ("category", "post_tag")
              and not (domain == "category" and nicename == "uncategorized")]
    metadata = PageMetadata(
        id=values.get("wp:post_id") or None,
        url=values.get("link") or None,
        slug=values.get("wp:post_name") or None,
        published=published,
        modified=_wxr_date(values.get("wp:post_modified_gmt")),
        labels=_dedupe(labels),
        lang=lang,
        image=attachments.get(values["postmeta"].get("_thumbnail_id", "")),
        description=_teaser(values.get("excerpt:encoded", "")),
        draft=draft,
    )
    return Document(text=etree.tostring(item, encoding="unicode"), format="wxr", title=title,
                    body=body, meta={"post_type": post_type, "status": status}, metadata=metadata)


def _wxr_date(value: str | None, utc: bool = True) -> str | None:
    """``2026-03-01 09:30:00`` as ``2026-03-01T09:30:00Z`` (``utc=False``: no ``Z``, a
    local time); None for an empty, zero or unreadable date."""
    value = (value or "").strip()
    if not value or value == _WXR_NO_DATE:
        return None
    try:
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if utc else "")


# -- sitemaps ---------------------------------------------------------------------------------


@dataclass
class Sitemap:
    """What a sitemap lists.

    ``pages`` are the page URLs of a ``<urlset>`` (or of a plain-text sitemap, one URL a
    line); ``sitemaps`` the child sitemap URLs of a ``<sitemapindex>``, which the caller
    fetches and reads in turn. A file is one or the other, so one list is empty. ``errors``
    says why a file gave nothing (not a sitemap) or which ``<loc>`` values were skipped
    (not an absolute http(s) URL), with locations ``file#N`` (the Nth entry).
    """

    pages: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)

    @property
    def is_index(self) -> bool:
        """Whether this was a sitemap index (its URLs are sitemaps, not pages)."""
        return bool(self.sitemaps)


_NOT_SITEMAP = ("expected an XML sitemap (<urlset> of <url><loc>) or a sitemap index "
                "(<sitemapindex> of <sitemap><loc>), or a text file of one URL a line")


def sitemap_urls(text: str, filename: str | None = None) -> Sitemap:
    """The ``<loc>`` URLs of a sitemap.

    A ``<urlset>`` gives :attr:`Sitemap.pages` (image and video ``loc`` elements are not
    pages and are left out); a ``<sitemapindex>`` gives :attr:`Sitemap.sitemaps`. URLs are
    stripped of surrounding whitespace, entity-decoded by the XML parser and kept once, in
    file order. A text sitemap (one absolute URL a line) is read too.

    Never raises: what cannot be read is in :attr:`Sitemap.errors`.
    """
    where = _where(filename)
    sitemap = Sitemap()
    if not isinstance(text, str) or not text.strip():
        sitemap.errors.append(ParseError(where, f"empty file; {_NOT_SITEMAP}"))
        return sitemap
    binary = _binary_error(text, where)
    if binary:
        sitemap.errors.append(binary)
        return sitemap
    root = _root(text)
    if root is None:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines and all(_is_url(line) for line in lines):
            sitemap.pages.extend(_dedupe(lines))
        else:
            sitemap.errors.append(ParseError(where, f"not a sitemap: no XML root element; {_NOT_SITEMAP}"))
        return sitemap
    element, errors = _parse_xml(text)
    name = _local(element) if element is not None else ""
    if name not in _SITEMAP_ROOTS:
        found = f"a <{name}> root" if name else "no readable XML element"
        sitemap.errors.append(ParseError(where, f"not a sitemap: {found}; {_NOT_SITEMAP}"))
        return sitemap
    entry_name, target = ("url", sitemap.pages) if name == "urlset" else ("sitemap", sitemap.sitemaps)
    seen: set[str] = set()
    for number, entry in enumerate((c for c in element if _local(c) == entry_name), start=1):
        loc = next((" ".join("".join(c.itertext()).split()) for c in entry if _local(c) == "loc"), "")
        if not _is_url(loc):
            reason = "no <loc>" if not loc else f"<loc> {loc[:80]!r} is not an absolute http(s) URL"
            sitemap.errors.append(ParseError(f"{where}#{number}", f"{reason}; expected "
                                             f"<{entry_name}><loc>https://...</loc></{entry_name}>"))
        elif loc not in seen:
            seen.add(loc)
            target.append(loc)
    if errors:
        line, message = errors[0]
        sitemap.errors.append(ParseError(where, f"broken XML at line {line} ({message}); the URLs "
                                         "before it were read"))
    return sitemap
