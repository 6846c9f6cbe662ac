"""Split a page into title, body and the related-posts tail it already has.

Pure functions: text in, :class:`Document` out. The document keeps the exact offset where
its tail starts, so ``document.prefix + document.original_tail == document.text`` and a
rewrite keeps everything above the tail byte for byte.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..article import TailItem

FORMATS = ("text", "markdown", "html", "json")

# Headings that open a related-posts tail, compared after `normalise_heading`.
TAIL_HEADINGS = frozenset(
    {
        "related posts", "related post", "related articles", "related stories",
        "related reading", "related content", "related", "you may also like",
        "you might also like", "you may like", "read more", "read next", "more stories",
        "more articles", "more news", "recommended", "recommended for you",
        "recommended reading", "also read", "see also", "trending", "trending now",
        "popular posts", "most popular", "sponsored", "sponsored content",
        "around the web", "from our partners", "further reading",
    }
)
_MORE_FROM = re.compile(r"more (from|on|in|about) \S.*")

# Social and share lines that are page furniture, not article text.
_SHARE_LINE = re.compile(
    r"^(share( this( post| article| story)?)?|share this:?|share on \w+|"
    r"follow us( on .*)?|tweet|print|email)$",
    re.IGNORECASE,
)

_MD_LINK_ITEM = re.compile(
    r"^\s*(?:[-*+•]|\d+[.)])?\s*\[(?P<title>[^\]]+)\]\((?P<url>[^)\s]+)[^)]*\)"
    r"(?:\s*(?:[-–—:|]\s*)?(?P<teaser>.*))?$"
)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+(?P<rest>.+)$")
_BARE_URL = re.compile(r"^\s*<?(?P<url>https?://\S+?)>?\s*$")
_UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")
_ATX = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*?)\s*#*\s*$")
_ELLIPSIS = ("...", "…")
# A tail is a list of short items; a line longer than this that is not a teaser is
# article prose, so a heading above it does not open the tail.
MAX_TAIL_LINE = 300


@dataclass(frozen=True)
class Document:
    """A parsed page.

    ``text[tail_start:tail_end]`` is the related-posts tail (from its heading line); a page
    without one has ``tail_start == tail_end`` at the place a new tail goes. ``tail_style`` records how the
    items were laid out (``blocks``: title and teaser paragraphs; ``bullets``;
    ``numbered``; ``links``: Markdown links) so a new tail can take the same shape.
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
        return self.text[self.tail_start : self.tail_end]

    @property
    def suffix(self) -> str:
        """Everything below the tail (closing HTML tags; empty for text)."""
        return self.text[self.tail_end :]

    @property
    def has_tail(self) -> bool:
        return self.tail_start < self.tail_end

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "body": self.body,
            "tail": [item.to_dict() for item in self.tail],
            "format": self.format,
            "tail_heading": self.tail_heading,
            "tail_style": self.tail_style if self.has_tail else None,
            "body_chars": len(self.body),
            "tail_start": self.tail_start,
        }


def detect_format(text: str, filename: str | None = None) -> str:
    """The format of a page from its file extension, else from its first characters."""
    if filename:
        suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
        by_suffix = {
            "md": "markdown", "markdown": "markdown", "mdown": "markdown",
            "html": "html", "htm": "html", "xhtml": "html",
            "json": "json", "txt": "text", "text": "text",
        }
        if suffix in by_suffix:
            return by_suffix[suffix]
    head = text.lstrip()[:500].lower()
    if head.startswith(("<!doctype html", "<html")) or "<body" in head:
        return "html"
    if head.startswith("{"):
        return "json"
    if head.startswith(("# ", "---\n")):
        return "markdown"
    return "text"


def parse_document(text: str, format: str | None = None, filename: str | None = None) -> Document:
    """Parse a page in any supported format (``text``, ``markdown``, ``html``, ``json``)."""
    fmt = format or detect_format(text, filename)
    if fmt in ("text", "markdown"):
        return parse_text(text, markdown=fmt == "markdown")
    if fmt == "html":
        return parse_html(text)
    if fmt == "json":
        return parse_json(text)
    raise ValueError(f"unknown format '{fmt}'; valid: {', '.join(FORMATS)}")


def normalise_heading(line: str) -> str:
    """Lower-case heading text without Markdown marks, emphasis and trailing punctuation."""
    match = _ATX.match(line)
    text = match.group("text") if match else line
    text = re.sub(r"[*_`]+", "", text).strip()
    text = re.sub(r"[\s:.!?»›>|–—-]+$", "", text)
    return " ".join(text.lower().split())


def is_tail_heading(line: str) -> bool:
    if not line.strip() or len(line) > 80:
        return False
    heading = normalise_heading(line)
    return heading in TAIL_HEADINGS or bool(_MORE_FROM.fullmatch(heading))


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    offsets, position = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append((position, line.rstrip("\r\n")))
        position += len(line)
    return offsets


def parse_text(text: str, *, markdown: bool = False) -> Document:
    """Parse plain text or Markdown: first line (or ``# heading``) is the title."""
    lines = _lines_with_offsets(text)
    title, body_from = _find_title(lines, markdown)
    tail_line = _find_tail(lines, body_from)
    if tail_line is None:
        tail_start, items, heading, style = len(text), (), None, "blocks"
    else:
        tail_start = lines[tail_line][0]
        heading = lines[tail_line][1].strip()
        items, style = parse_tail_items([line for _, line in lines[tail_line + 1 :]])
    body_lines = [line for _, line in lines[body_from:tail_line]]
    body = "\n".join(line for line in body_lines if not _SHARE_LINE.match(line.strip()))
    ellipsis = "…" if any(i.teaser.endswith("…") for i in items) else "..."
    return Document(
        text=text,
        format="markdown" if markdown else "text",
        title=title,
        body=_tidy(body),
        tail=tuple(items),
        tail_heading=heading,
        tail_start=tail_start,
        tail_style=style,
        ellipsis=ellipsis,
    )


def _find_title(lines: list[tuple[int, str]], markdown: bool) -> tuple[str, int]:
    """The title and the index of the first body line."""
    index = 0
    if markdown and lines and lines[0][1].strip() == "---":
        # YAML front matter: take its title and skip it.
        for end in range(1, len(lines)):
            if lines[end][1].strip() == "---":
                for _, line in lines[1:end]:
                    if line.lower().startswith("title:"):
                        return line.split(":", 1)[1].strip().strip("\"'"), end + 1
                index = end + 1
                break
    while index < len(lines) and not lines[index][1].strip():
        index += 1
    if index >= len(lines):
        return "", len(lines)
    line = lines[index][1]
    match = _ATX.match(line)
    title = match.group("text") if match else re.sub(r"[*_]+", "", line).strip()
    following = index + 1
    if following < len(lines) and _UNDERLINE.match(lines[following][1]):
        following += 1
    return title.strip(), following


def _find_tail(lines: list[tuple[int, str]], body_from: int) -> int | None:
    """Index of the heading line that opens the tail, or None.

    The earliest heading below the body whose remaining lines all look like list items
    wins, so a page with two trailing blocks ("Related Posts", then "Sponsored") loses
    both, while a "Read more" line inside the article (followed by prose) is kept.
    """
    for index in range(max(body_from, 1), len(lines)):
        if not is_tail_heading(lines[index][1]):
            continue
        rest = [line for _, line in lines[index + 1 :] if line.strip()]
        if rest and _UNDERLINE.match(rest[0]):
            rest = rest[1:]
        if rest and all(_looks_like_item_line(line) for line in rest):
            return index
    return None


def _looks_like_item_line(line: str) -> bool:
    stripped = line.strip()
    return (
        len(stripped) <= MAX_TAIL_LINE
        or stripped.endswith(_ELLIPSIS)
        or bool(_MD_LINK_ITEM.match(stripped))
    )


def parse_tail_items(lines: list[str]) -> tuple[list[TailItem], str]:
    """Items of a tail from its lines (below the heading), and the layout they use."""
    items: list[dict[str, Any]] = []
    styles: set[str] = set()
    for raw in lines:
        line = raw.strip()
        if not line or _UNDERLINE.match(line):
            continue
        link = _MD_LINK_ITEM.match(line)
        bullet = _BULLET.match(line)
        url = _BARE_URL.match(line)
        if link:
            styles.add("links")
            items.append(
                {"title": link["title"].strip(), "url": link["url"],
                 "teaser": (link["teaser"] or "").strip()}
            )
        elif url and items and not items[-1]["url"]:
            items[-1]["url"] = url["url"]
        elif url:
            items.append({"title": url["url"], "url": url["url"], "teaser": ""})
        elif bullet:
            styles.add("numbered" if line[0].isdigit() else "bullets")
            title, teaser = (re.split(r"\s[-–—|]\s", bullet["rest"], maxsplit=1) + [""])[:2]
            items.append({"title": title.strip(), "url": None, "teaser": teaser.strip()})
        elif line.endswith(_ELLIPSIS) and items and not items[-1]["teaser"]:
            items[-1]["teaser"] = line
        else:
            styles.add("blocks")
            items.append({"title": line, "url": None, "teaser": ""})
    for style in ("links", "numbered", "bullets", "blocks"):
        if style in styles:
            break
    else:
        style = "blocks"
    return [TailItem(**item) for item in items], style


def _tidy(text: str) -> str:
    """Strip outer blank lines and collapse runs of blank lines to one."""
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text).strip()


# -- HTML ------------------------------------------------------------------------------------

# Class / id fragments of related-posts blocks (WordPress plugins, widget networks).
RELATED_BLOCK_MARKERS = (
    "yarpp-related", "jp-relatedposts", "crp_related", "related-posts", "relatedposts",
    "related_posts", "related-articles", "outbrain", "trc_related_container", "taboola",
)


def parse_html(html: str) -> Document:
    """Title and main text of an HTML page (trafilatura), and its related block if marked.

    The tail is found by class or id markers of common related-posts widgets; the page
    text above the block is the prefix a rewrite keeps.
    """
    import trafilatura

    extracted = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    title = ""
    body = ""
    if extracted is not None:
        title = (getattr(extracted, "title", None) or "").strip()
        body = (getattr(extracted, "text", None) or "").strip()
    if not title:
        match = re.search(r"<title[^>]*>(.*?)</title>", html, re.IGNORECASE | re.DOTALL)
        title = _html_text(match.group(1)) if match else ""
    tail_start, tail_end, items = _find_html_tail(html)
    return Document(
        text=html,
        format="html",
        title=title,
        body=_tidy(body),
        tail=tuple(items),
        tail_heading=None,
        tail_start=tail_start,
        tail_end=tail_end,
        tail_style="html",
    )


def _find_html_tail(html: str) -> tuple[int, int, list[TailItem]]:
    """Span and links of the marked related block; without one, an empty span where a new
    block goes (before the end of ``<article>``, else of ``<body>``, else the end)."""
    pattern = re.compile(
        r"<(div|section|aside|ul)\b[^>]*(?:class|id)\s*=\s*[\"'][^\"']*(?:"
        + "|".join(re.escape(m) for m in RELATED_BLOCK_MARKERS)
        + r")[^\"']*[\"'][^>]*>",
        re.IGNORECASE,
    )
    match = pattern.search(html)
    if not match:
        for closing in ("</article>", "</main>", "</body>"):
            position = html.lower().rfind(closing)
            if position >= 0:
                return position, position, []
        return len(html), len(html), []
    start = match.start()
    end = _matching_close(html, start, match.group(1).lower())
    block = html[start:end]
    items = [
        TailItem(title=_html_text(text), url=url)
        for url, text in re.findall(
            r"<a\b[^>]*href\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", block, re.I | re.S
        )
        if _html_text(text)
    ]
    return start, end, items


def _matching_close(html: str, start: int, tag: str) -> int:
    """Offset just past the element that opens at ``start`` (balanced on ``tag``)."""
    depth = 0
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", html[start:], re.IGNORECASE):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return start + match.end()
    return len(html)


def _html_text(fragment: str) -> str:
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# -- JSON ------------------------------------------------------------------------------------


def parse_json(text: str) -> Document:
    """One JSON record with ``title`` and ``body`` (or ``text``), and optional ``related``."""
    record = json.loads(text)
    if not isinstance(record, dict):
        raise ValueError("a JSON page must be one object with 'title' and 'body' or 'text'")
    related = record.get("related") or []
    items = tuple(
        TailItem(title=str(r.get("title", "")), teaser=str(r.get("teaser", "")), url=r.get("url"))
        for r in related
        if isinstance(r, dict)
    )
    return Document(
        text=text,
        format="json",
        title=str(record.get("title", "")),
        body=str(record.get("body") or record.get("text") or ""),
        tail=items,
        tail_style="json",
        meta={"record": record},
    )
