"""The fields of a record (JSON, JSON Lines, CSV, WordPress REST): which key holds what.

One rule for every record source: a field the user mapped (``--field title=headline``, a
dotted path such as ``title.rendered`` for nested objects) is read from there; an
unmapped one from the first key present among its usual names (:data:`TITLE_KEYS`,
:data:`BODY_KEYS`, and :data:`.meta.FIELD_KEYS` for the metadata). WordPress REST objects
(``{"rendered": "..."}``) are unwrapped, and HTML inside a value is turned into text,
so a teaser never shows escaped markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from typing import Any

from .document import NoArticleError, PageMetadata, ParseError
from .meta import FIELD_KEYS, metadata_from_fields

TITLE_KEYS = ("title", "headline", "name")
BODY_KEYS = ("body", "text", "content", "articleBody", "article_body", "body_text", "post_content")
#: WordPress REST and export spellings, read before the generic names of FIELD_KEYS.
_WORDPRESS_KEYS = {"published": ("date_gmt",), "modified": ("modified_gmt",), "id": ("ID",)}
#: Statuses of a record that is not published (WordPress REST and exports, Ghost).
DRAFT_STATUSES = frozenset({"draft", "pending", "private", "future", "trash", "auto-draft", "scheduled"})
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


@dataclass(frozen=True)
class FieldMap:
    """Where a record keeps each field, for records that name them otherwise.

    Each value is a key, or a dotted path into nested objects (``title.rendered``);
    None means the usual names (``title``/``headline``, ``body``/``text``/``content``,
    ``url``/``link``, ``published``/``date``...).
    """

    id: str | None = None
    title: str | None = None
    body: str | None = None
    url: str | None = None
    published: str | None = None
    modified: str | None = None
    source: str | None = None
    lang: str | None = None
    labels: str | None = None
    image: str | None = None
    description: str | None = None

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> FieldMap:
        """Build from ``name=column`` strings such as ``body=content``.

        Raises:
            ValueError: for a pair that is not ``NAME=COLUMN`` with a known NAME.
        """
        mapping: dict[str, str] = {}
        valid = cls.names()
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or name not in valid or not column:
                raise ValueError(
                    f"bad field mapping '{pair}': expected NAME=COLUMN with NAME one of "
                    f"{', '.join(sorted(valid))}"
                )
            mapping[name] = column
        return cls(**mapping)

    @classmethod
    def names(cls) -> list[str]:
        """The field names a mapping may set."""
        return [f.name for f in dataclass_fields(cls)]

    def to_pairs(self) -> list[str]:
        """The mapped fields as ``name=column`` strings (what ``from_pairs`` reads)."""
        return [f"{name}={column}" for name in self.names() if (column := getattr(self, name))]


def lookup(record: Mapping[str, Any], path: str) -> Any:
    """The value at a key or dotted path of ``record`` (a key holding the dot wins), or None."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def unwrap(value: Any) -> Any:
    """A WordPress REST ``{"rendered": ...}`` object as its rendered value."""
    if isinstance(value, Mapping) and "rendered" in value:
        return value["rendered"]
    return value


def as_text(value: str, *, markup: bool) -> str:
    """A record's string as plain text: HTML made text when it holds tags or entities
    (``markup`` keeps paragraphs, for bodies and teasers; else one line, for titles)."""
    if not _TAG.search(value):
        return value.strip()
    from .feeds import html_to_text

    text = html_to_text(value)
    return text if markup else " ".join(text.split())


def record_fields(record: Mapping[str, Any], where: str, fields: FieldMap | None = None
                  ) -> tuple[str, str, PageMetadata]:
    """The title, body and metadata of one record.

    Raises:
        NoArticleError: when the body is missing.
        ParseError: naming the field, when the title is missing, or a field that
            is read holds a value of the wrong type (a number as a title, an object as a
            body): nothing of such a record may be stored.
    """
    fields = fields or FieldMap()
    found = field_names(record)
    values: dict[str, Any] = {}
    for name in FieldMap.names():
        mapped = getattr(fields, name)
        keys: Sequence[str] = (mapped,) if mapped else _default_keys(name)
        key, value = next(((k, unwrap(lookup(record, k))) for k in keys
                           if unwrap(lookup(record, k)) not in (None, "", [])), (keys[0], None))
        if value is not None:
            _check_type(name, key, value, where)
            values[name] = "\n\n".join(value) if name == "body" and isinstance(value, list) else value
    title = as_text(values["title"], markup=False) if "title" in values else ""
    body = as_text(values["body"], markup=True) if "body" in values else ""
    if not title:
        key = fields.title or "title"
        raise ParseError(where, f"missing required field '{key}' (fields found: {found}; map "
                         "another with --field title=COLUMN)")
    if not body:
        wanted = f"'{fields.body}'" if fields.body else "'body' or 'text'"
        raise NoArticleError(where, f"missing required field {wanted} (fields found: {found}; "
                         "map another with --field body=COLUMN)")
    plain = {FIELD_KEYS[name][0] if name in FIELD_KEYS else name: value
             for name, value in values.items() if name not in ("title", "body", "id", "source")}
    if "description" in values:
        plain["description"] = as_text(values["description"], markup=True)
    _, metadata = metadata_from_fields(plain)
    status = record.get("status")
    draft = isinstance(status, str) and status.strip().lower() in DRAFT_STATUSES
    if _is_wordpress_rest(record):
        metadata = replace(metadata, **_wordpress_embedded(record, fields, metadata))
    if "id" in values and not (fields.id is None and _is_wordpress_rest(record) and "url" in values):
        # Ids are kept exactly, integers as their digits; a WordPress REST post is known
        # by its link instead, as the same post is in the site's feed, export and pages.
        metadata = replace(metadata, id=str(values["id"]).strip() or None)
    if "source" in values:
        metadata = replace(metadata, source=str(values["source"]).strip() or None)
    return title, body, replace(metadata, draft=metadata.draft or draft)


def field_names(record: Mapping[str, Any], most: int = 12) -> str:
    """The record's field names for a message: sorted, each on one line and short, at
    most ``most`` of them (a CSV read without its header has one per cell)."""
    names = sorted(" ".join(str(k).split())[:40] or repr(str(k))[:40] for k in record)
    shown = ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
    return shown or "none"


def _is_wordpress_rest(record: Mapping[str, Any]) -> bool:
    return isinstance(record.get("title"), Mapping) and "rendered" in record["title"]


def _wordpress_embedded(record: Mapping[str, Any], fields: FieldMap, metadata: PageMetadata
                        ) -> dict[str, Any]:
    """Labels and image of a WordPress REST post: its ``categories`` and ``tags`` are term
    ids, so the names come from ``_embedded`` (``?_embed``), and the featured image from
    ``_embedded`` or Jetpack's field; term ids alone are no labels."""
    embedded: Mapping[str, Any] = record["_embedded"] if isinstance(record.get("_embedded"), Mapping) else {}
    found: dict[str, Any] = {}
    if fields.labels is None:
        terms: list[Any] = embedded["wp:term"] if isinstance(embedded.get("wp:term"), list) else []
        found["labels"] = tuple(dict.fromkeys(
            " ".join(term["name"].split()) for group in terms if isinstance(group, list) for term in group
            if isinstance(term, Mapping) and isinstance(term.get("name"), str) and term["name"].strip()))
    if fields.image is None and not metadata.image:
        media = embedded.get("wp:featuredmedia")
        first: Mapping[str, Any] = media[0] if isinstance(media, list) and media and isinstance(
            media[0], Mapping) else {}
        image = first.get("source_url") or record.get("jetpack_featured_media_url")
        if isinstance(image, str) and image.strip():
            found["image"] = image.strip()
    return found


def _default_keys(name: str) -> tuple[str, ...]:
    if name == "title":
        return TITLE_KEYS
    if name == "body":
        return BODY_KEYS
    if name == "source":
        return ("source",)
    if name == "description":
        return ("description", "summary", "excerpt", "teaser")
    return _WORDPRESS_KEYS.get(name, ()) + FIELD_KEYS[name]


def _check_type(name: str, key: str, value: Any, where: str) -> None:
    """Refuse a value that would be stored as a Python repr."""
    if name == "labels":
        if isinstance(value, str) or (isinstance(value, list) and all(
                isinstance(x, (str, int)) and not isinstance(x, bool) for x in value)):
            return
        raise ParseError(where, f"field '{key}' must be a list of strings or a comma-separated "
                         f"string, got {type(value).__name__}")
    if name == "body" and isinstance(value, list) and value and all(isinstance(x, str) for x in value):
        return  # paragraphs, joined by blank lines
    if name == "image" and isinstance(value, (Mapping, list)):
        return  # {url: ...} objects and lists of images are read by metadata_from_fields
    if isinstance(value, str):
        return
    if name == "id" and isinstance(value, int) and not isinstance(value, bool):
        return  # numeric ids (WordPress post IDs) are common and unambiguous
    raise ParseError(where, f"field '{key}' must be a string{' or an integer' if name == 'id' else ''}, "
                     f"got {_json_type(value)}; nothing from this record was stored")


def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)
