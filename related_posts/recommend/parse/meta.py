"""What a page says about itself: front matter, HTML ``<head>`` metadata and JSON-LD.

Pure functions: page text in, :class:`PageMetadata` out. Front matter is read by
python-frontmatter (YAML between ``---`` fences; TOML between ``+++`` fences through the
standard library's ``tomllib``); the HTML head by lxml. One table (:data:`FIELD_KEYS`) says
which keys of a front matter block, a record or a JSON-LD object fill which field, so the
rule for "tags and categories are labels" lives in one place.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any

from frontmatter.default_handlers import BaseHandler, YAMLHandler

from .document import PageMetadata

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Which keys fill which :class:`PageMetadata` field, first found wins (Hugo, Jekyll,
#: Eleventy, Astro and WordPress spellings; JSON-LD names for structured data).
FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "url": ("url", "permalink", "canonical", "canonicalURL", "canonical_url", "link"),
    "slug": ("slug",),
    "published": ("date", "published", "publishDate", "publish_date", "pubDate", "datePublished",
                  "created"),
    "modified": ("lastmod", "updated", "modified", "last_modified_at", "lastModified", "dateModified"),
    "labels": ("tags", "categories", "category", "keywords", "labels", "articleSection", "section"),
    "lang": ("lang", "language", "locale", "inLanguage"),
    "image": ("image", "images", "cover", "featured_image", "featuredImage", "thumbnail",
              "thumbnailUrl", "banner", "hero"),
    "description": ("description", "summary", "excerpt", "abstract"),
}
#: Front matter keys that mark a page as not published (``draft: true``; Jekyll's
#: ``published: false``).
_DRAFT_KEYS = ("draft",)
_TITLE_KEYS = ("title", "headline", "name")


class _TOMLHandler(BaseHandler):
    """TOML front matter between ``+++`` fences (Hugo), read with ``tomllib``."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


_HANDLERS: tuple[BaseHandler, ...] = (YAMLHandler(), _TOMLHandler())


def split_front_matter(text: str) -> tuple[dict[str, Any], int, str | None]:
    """The front matter of a text or Markdown page.

    Returns:
        ``(fields, body_start, warning)``: the front matter as a mapping (empty when the
        page has none), the offset where the page below it starts (0 without front
        matter), and a one-line warning when the block is there but does not parse (its
        ``key: value`` lines are then read as plain strings).
    """
    first_line = text.split("\n", 1)[0].strip()
    handler = next((h for h in _HANDLERS if first_line and h.FM_BOUNDARY is not None
                    and h.FM_BOUNDARY.fullmatch(first_line)), None)
    if handler is None:
        return {}, 0, None
    try:
        raw, content = handler.split(text)
    except ValueError:  # no closing fence: not front matter
        return {}, 0, None
    body_start = len(text) - len(content)
    try:
        fields = handler.load(raw)
        if isinstance(fields, dict):
            return fields, body_start, None
        problem = "it is not a list of keys"
    except Exception as exc:  # yaml.YAMLError, tomllib.TOMLDecodeError and their relatives
        problem = " ".join(str(exc).split())[:160]
    lines = [line for line in raw.splitlines() if line.strip()]
    if not lines or not _KEY_LINE.match(lines[0]):
        return {}, 0, None  # a rule line (---) above the page, not front matter
    # Hand-written front matter often breaks YAML (``title: Why: a story``): read its
    # ``key: value`` lines as plain strings rather than lose the title.
    lenient = {m.group(1): _plain_value(m.group(2)) for m in map(_KEY_LINE.match, lines) if m}
    return lenient, body_start, (f"front matter does not parse ({problem}); read as plain "
                                 "'key: value' lines")


def _plain_value(value: str) -> str | list[str]:
    """A front matter value read without YAML: ``[a, b]`` is a list, quotes are dropped."""
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        return [v.strip().strip("\"'") for v in value[1:-1].split(",") if v.strip()]
    return value.strip("\"'")


_KEY_LINE = re.compile(r"^([A-Za-z_][\w.-]*)\s*[:=]\s*(.*)$")


def load_mapping(text: str, suffix: str) -> dict[str, Any]:
    """A TOML, YAML or JSON configuration file (by ``suffix``) as a mapping; empty when it
    does not parse or is not a mapping."""
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception:  # any parser's error: a configuration we cannot read says nothing
        return {}
    return data if isinstance(data, dict) else {}


def metadata_from_fields(fields: Mapping[str, Any]) -> tuple[str | None, PageMetadata]:
    """The title and :class:`PageMetadata` of a front matter block (or any mapping that
    uses the keys of :data:`FIELD_KEYS`)."""
    found: dict[str, Any] = {}
    for name, keys in FIELD_KEYS.items():
        values = [fields[k] for k in keys if k in fields and fields[k] not in (None, "", [])]
        if name == "labels":
            found[name] = tuple(dict.fromkeys(label for v in values for label in _labels(v)))
        elif values:
            value = _image(values[0]) if name == "image" else _scalar(values[0])
            if value:
                found[name] = value
    # Jekyll writes `published: false` for a draft; a date there is a date.
    draft = any(fields.get(k) is True for k in _DRAFT_KEYS) or fields.get("published") is False
    if fields.get("published") is False:
        found.pop("published", None)
    title = next((_scalar(fields[k]) for k in _TITLE_KEYS if fields.get(k)), None)
    return title, PageMetadata(draft=draft, **found)


def _scalar(value: Any) -> str | None:
    """A front matter value as text: dates as ISO 8601, lists by their first item."""
    if isinstance(value, list):
        return _scalar(value[0]) if value else None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
            return value.isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, bool)) or value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _image(value: Any) -> str | None:
    """An image field: a URL, a list of them, or an object (``{url: ...}``, Hugo's
    ``cover: {image: ...}``, JSON-LD's ``ImageObject``)."""
    if isinstance(value, list):
        return next((found for v in value if (found := _image(v))), None)
    if isinstance(value, dict):
        return next((found for k in ("url", "image", "src", "contentUrl", "@id")
                     if (found := _image(value.get(k)))), None)
    return _scalar(value)


def _labels(value: Any) -> Iterable[str]:
    """Tags and categories: a list, or one comma-separated string."""
    items = value if isinstance(value, list) else re.split(r"[,;]", value) if isinstance(value, str) else []
    for item in items:
        if isinstance(item, dict):  # JSON-LD: {"@type": "Thing", "name": ...}
            item = item.get("name")
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            text = " ".join(str(item).split())
            if text:
                yield text


# -- HTML ------------------------------------------------------------------------------------

_ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
                  "opinionnewsarticle", "reviewnewsarticle", "techarticle", "scholarlyarticle",
                  "report", "webpage", "posting", "socialmediaposting", "liveblogposting"}
#: ``<meta property|name>`` names (lower case) and the field each fills, in order of preference.
_META_NAMES: dict[str, tuple[str, ...]] = {
    "url": ("og:url",),
    "published": ("article:published_time", "og:published_time", "datepublished", "date",
                  "dc.date", "dcterms.created"),
    "modified": ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified"),
    "image": ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"),
    "description": ("og:description", "description", "twitter:description", "dc.description"),
    "lang": ("og:locale",),
}
_LABEL_NAMES = ("article:tag", "article:section", "keywords", "news_keywords")
_TITLE_NAMES = ("og:title", "twitter:title")


def html_metadata(text: str) -> tuple[str | None, PageMetadata]:
    """The title hint and :class:`PageMetadata` in an HTML page's markup.

    Read, in order of preference: ``<link rel="canonical">``, Open Graph and
    ``article:*`` meta, JSON-LD (``NewsArticle``, ``BlogPosting`` and their relatives,
    inside ``@graph`` too), plain ``<meta name>`` and ``<html lang>``. A page that lxml
    cannot read at all has no metadata.
    """
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (lxml.etree.ParserError, ValueError, UnicodeError):
        return None, PageMetadata()
    meta: dict[str, list[str]] = {}
    for element in root.iter("meta"):
        name = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip()
        content = " ".join((element.get("content") or "").split())
        if name and content:
            meta.setdefault(name.lower(), []).append(content)
    linked = _ld_article(root)
    _, from_ld = metadata_from_fields(linked) if linked else (None, PageMetadata())
    found: dict[str, Any] = {}
    canonical = next((link.get("href", "").strip() for link in root.iter("link")
                      if "canonical" in (link.get("rel") or "").lower().split() and link.get("href")), None)
    for name, keys in _META_NAMES.items():
        found[name] = next((meta[k][0] for k in keys if k in meta), None)
    found["url"] = canonical or found["url"] or from_ld.url
    for name in ("published", "modified", "image", "description"):
        found[name] = found[name] or getattr(from_ld, name)
    lang = root.get("lang") or root.get("xml:lang") or from_ld.lang or found["lang"]
    found["lang"] = lang.strip().replace("_", "-") if lang and lang.strip() else None
    labels = [label for name in _LABEL_NAMES for value in meta.get(name, []) for label in _labels(value)]
    found["labels"] = tuple(dict.fromkeys(labels + list(from_ld.labels)))
    title = next((meta[n][0] for n in _TITLE_NAMES if n in meta), None) or (
        _scalar(linked.get("headline")) if linked else None)
    return title, PageMetadata(**{k: v for k, v in found.items() if v})


def _ld_article(root: Any) -> dict[str, Any] | None:
    """The first JSON-LD object of an article type in the page (None if there is none)."""
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds) and (
                        item.get("headline") or item.get("datePublished") or item.get("url")):
                    return item
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity", "mainEntityOfPage"))
    return None


def merge(first: PageMetadata, second: PageMetadata) -> PageMetadata:
    """``first`` with its empty fields filled from ``second``."""
    values = {name: getattr(first, name) or getattr(second, name) for name in first.__dict__}
    return PageMetadata(**values)


__all__ = ["FIELD_KEYS", "html_metadata", "load_mapping", "merge", "metadata_from_fields", "split_front_matter"]
