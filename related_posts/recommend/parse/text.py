"""Plain text and Markdown pages: title, body, and a tail that opens at a heading."""

from __future__ import annotations

import re
from typing import Any

from ...article import TailItem
from .document import Document, TailLayout
from .meta import metadata_from_fields, split_front_matter

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
# An in-article promo line: "Read more: <title>" (a tail item, not article text).
_PROMO = re.compile(
    r"^(?P<head>read more|related|related stories|related articles|related coverage|"
    r"related content|see also|also read|read also|read next|more|recommended|watch|"
    r"listen|also|must read|don't miss|dont miss|recommended reading|further reading|"
    r"read this|related story|related article|more on this story|more on this)\s*"
    r"(?:[:|–—»>-]\s*)(?P<rest>.+)$",
    re.I,
)
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
    fields, body_start, warning = split_front_matter(text)
    front_title, metadata = metadata_from_fields(fields)
    title, body_from, title_is_tail = _find_title(lines, markdown, body_start, front_title)
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
        metadata=metadata,
        warnings=(warning,) if warning else (),
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


def _find_title(lines: list[tuple[int, str]], markdown: bool, body_start: int = 0,
                front_title: str | None = None) -> tuple[str, int, bool]:
    """The title, the index of the first body line, and whether the title line is a
    tail heading (a page of only a tail).

    ``body_start`` is the offset below the front matter (0 without); a ``title`` in the
    front matter is the title, and the page below it is all body.
    """
    index = next((i for i, (offset, _) in enumerate(lines) if offset >= body_start), len(lines))
    if front_title:
        return front_title, index, False
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
