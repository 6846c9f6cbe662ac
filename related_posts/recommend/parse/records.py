"""JSON records: the article fields and the ``related`` list, with exact offsets."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ...article import TailItem
from .document import Document, InvalidJsonError, ParseError, _where
from .text import _newline_of

# -- JSON ------------------------------------------------------------------------------------

_TITLE_KEYS = ("title", "headline", "name")
_BODY_KEYS = ("body", "text", "content", "articleBody", "article_body", "body_text")
_RELATED_KEYS = ("related", "related_posts", "relatedPosts", "related_articles",
                 "relatedArticles", "tail")
_ITEM_TITLE_KEYS = ("title", "headline", "name")
_ITEM_URL_KEYS = ("url", "link", "href", "permalink")
_ITEM_TEASER_KEYS = ("teaser", "excerpt", "summary", "description", "snippet")
_JSON_WS = re.compile(r"[ \t\n\r]*")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def load_json(text: str, where: str, expected: str) -> Any:
    """``json.loads`` with every way it can fail as one :class:`ParseError` naming ``where``.

    Besides syntax errors: nesting deeper than Python's recursion limit, numbers over
    Python's 4,300-digit limit, and lone UTF-16 surrogates (``"\\ud800"``), which parse
    but cannot be stored or printed as UTF-8. ``expected`` says what would be valid.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidJsonError(where, f"invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                               f"{expected}") from None
    except RecursionError:
        raise ParseError(where, f"JSON nested too deeply to read; {expected}") from None
    except ValueError:  # int digits limit
        raise ParseError(where, f"a number in the JSON is over 4,300 digits long; {expected}") from None
    if "\\u" in text and _has_surrogate(value):
        raise ParseError(where, "a string holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), "
                         "which is not Unicode text; write the character itself or a valid pair")
    return value


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json(text: str, *, filename: str | None = None) -> Document:
    """One JSON record: ``title`` (or ``headline``), ``body`` (or ``text``, ``content``,
    ``articleBody``) and an optional ``related`` list of ``{"title", "url", "teaser"}``
    objects (or plain titles).

    The tail span is the ``related`` value in the text, so a rewrite replaces only it and
    keeps every other byte; a record without one gets an empty span after its last value,
    where a ``"related"`` key is inserted.
    """
    where = _where(filename)
    record = load_json(text, where, "expected one object with 'title' and 'body'")
    if isinstance(record, list):
        raise ParseError(where, f"holds a list of {len(record)} records; a page is one object "
                         "(use parse on the file to read every record, or ingest it)")
    if not isinstance(record, dict):
        raise ParseError(where, f"holds a JSON {type(record).__name__}; expected one object "
                         "with 'title' and 'body' (or 'text')")
    spans, closing = _top_level_spans(text)
    related_key = next((k for k in _RELATED_KEYS if k in record), None)
    related = record.get(related_key) if related_key else None
    items = tuple(_json_item(r) for r in related if _json_item(r) is not None) \
        if isinstance(related, list) else ()
    layout = _json_layout(text, spans, related_key)
    if related_key and related_key in spans:
        tail_start, tail_end = spans[related_key]
    else:
        tail_start = tail_end = max((end for _, end in spans.values()), default=closing)
    return Document(
        text=text,
        format="json",
        title=_json_text(_first(record, _TITLE_KEYS)),
        body=_json_text(_first(record, _BODY_KEYS)),
        tail=items,  # type: ignore[arg-type]
        tail_start=tail_start,
        tail_end=tail_end,
        tail_style="json",
        meta={"record": record, "related_key": related_key if related_key in spans else None,
              "has_keys": bool(spans), **layout},
    )


def _first(record: dict[str, Any], keys: Sequence[str]) -> Any:
    return next((record[k] for k in keys if record.get(k) not in (None, "")), "")


def _json_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n\n".join(_json_text(v) for v in value if v not in (None, ""))
    return "" if value is None else str(value).strip()


def _json_item(value: Any) -> TailItem | None:
    if isinstance(value, str) and value.strip():
        return TailItem(title=value.strip())
    if not isinstance(value, dict):
        return None
    title = _json_text(_first(value, _ITEM_TITLE_KEYS))
    url = _first(value, _ITEM_URL_KEYS) or None
    if not title and not url:
        return None
    return TailItem(title=title or str(url), teaser=_json_text(_first(value, _ITEM_TEASER_KEYS)),
                    url=str(url) if url else None)


def _top_level_spans(text: str) -> tuple[dict[str, tuple[int, int]], int]:
    """``{key: (value_start, value_end)}`` of the top-level object, and the offset of its
    closing brace. ``text`` is already known to be one valid JSON object."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    i = _past_whitespace(text, 0) + 1  # past "{"
    i = _past_whitespace(text, i)
    while text[i] != "}":
        key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        i = _past_whitespace(text, i) + 1  # past ":"
        i = _past_whitespace(text, i)
        _, end = decoder.raw_decode(text, i)
        spans[key] = (i, end)
        i = _past_whitespace(text, end)
        if text[i] == ",":
            i = _past_whitespace(text, i + 1)
    return spans, i


def _past_whitespace(text: str, i: int) -> int:
    """The offset of the first character at or after ``i`` that is not JSON whitespace."""
    found = _JSON_WS.match(text, i)
    return found.end() if found else i


def _json_layout(text: str, spans: dict[str, tuple[int, int]], key: str | None
                 ) -> dict[str, Any]:
    """Indentation and escaping of the record, so a new ``related`` value matches it."""
    newline = _newline_of(text)
    anchor = spans[key][0] if key in spans else (min(s for s, _ in spans.values())
                                                 if spans else 0)
    line_start = text.rfind("\n", 0, anchor) + 1
    indented = "\n" in text.strip()
    leading = re.match(r"[ \t]*", text[line_start:])
    key_indent = leading.group() if indented and leading else ""
    unit = key_indent or ("  " if indented else "")
    ascii_only = text.isascii() and "\\u" in text
    return {"newline": newline, "key_indent": key_indent, "indent": unit,
            "ensure_ascii": ascii_only, "indented": indented}
