"""JSON records: the article fields and the ``related`` list, with exact offsets."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ...article import TailItem
from .document import Document, InvalidJsonError, ParseError, _where
from .fields import FieldMap, record_fields
from .text import _newline_of

#: Files of records, one article each, by suffix.
RECORD_FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}

# -- JSON ------------------------------------------------------------------------------------

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


def parse_json(text: str, *, filename: str | None = None, fields: FieldMap | None = None) -> Document:
    """One JSON record: ``title`` (or ``headline``), ``body`` (or ``text``, ``content``,
    ``articleBody``), metadata fields (see :mod:`.fields`) and an optional ``related``
    list of ``{"title", "url", "teaser"}`` objects (or plain titles).

    The tail span is the ``related`` value in the text, so a rewrite replaces only it and
    keeps every other byte; a record without one gets an empty span after its last value,
    where a ``"related"`` key is inserted.

    Raises:
        ParseError: for text that is not one JSON object, and (from
            :func:`.fields.record_fields`) a record without title or body, or with a
            field of the wrong type.
    """
    where = _where(filename)
    record = load_json(text, where, "expected one object with 'title' and 'body'")
    if isinstance(record, list):
        raise ParseError(where, f"holds a list of {len(record)} records; a page is one object "
                         "(use parse on the file to read every record, or ingest it)")
    if not isinstance(record, dict):
        raise ParseError(where, f"holds a JSON {type(record).__name__}; expected one object "
                         "with 'title' and 'body' (or 'text')")
    title, body, metadata = record_fields(record, where, fields)
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
        title=title,
        body=body,
        tail=items,  # type: ignore[arg-type]
        tail_start=tail_start,
        tail_end=tail_end,
        tail_style="json",
        meta={"record": record, "related_key": related_key if related_key in spans else None,
              "has_keys": bool(spans), **layout},
        metadata=metadata,
    )


def parse_records(text: str, filename: str | None = None, fields: FieldMap | None = None
                  ) -> Iterator[tuple[str, Document | ParseError]]:
    """Each record of a JSON Lines, JSON (an array, one object, or ``{"articles": [...]}``)
    or CSV file, as ``(location, document or error)``.

    Locations name the line (``file:3``) or array index (``file[2]``), so one bad record
    does not stop the others. The format comes from the file's suffix, else its first
    character.
    """
    where = _where(filename)
    suffix = "." + where.lower().rsplit(".", 1)[-1] if "." in where else ""
    kind = RECORD_FORMATS.get(suffix) or ("json" if text.lstrip().startswith(("[", "{")) else "jsonl")
    if kind == "csv":
        yield from _csv_records(text, where, fields)
        return
    if kind == "json":
        try:
            data = load_json(text, where, "expected JSON Lines, a JSON array or {\"articles\": [...]}")
        except InvalidJsonError as exc:
            if suffix == ".json":
                yield where, exc
                return
            data = None  # not one JSON value: read it as JSON Lines below
        except ParseError as exc:  # one JSON value that cannot be read at all
            yield where, exc
            return
        if isinstance(data, dict) and isinstance(data.get("articles"), list):
            data = data["articles"]
        if isinstance(data, list):
            for index, record in enumerate(data):
                here = f"{where}[{index}]"
                yield here, _record_document(record, here, fields)
            return
        if data is not None:
            yield where, _record_document(data, where, fields, text)
            return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            here = f"{where}:{number}"
            try:
                record = load_json(line, here, "each line must be one JSON object")
            except ParseError as exc:
                yield here, exc
                continue
            yield here, _record_document(record, here, fields, line)


def _record_document(record: Any, where: str, fields: FieldMap | None, text: str | None = None
                     ) -> Document | ParseError:
    if not isinstance(record, dict):
        return ParseError(where, f"expected a JSON object, got {type(record).__name__}")
    try:
        return parse_json(text if text is not None else json.dumps(record, ensure_ascii=False),
                          filename=where, fields=fields)
    except ParseError as exc:
        return exc


def _csv_records(text: str, where: str, fields: FieldMap | None
                 ) -> Iterator[tuple[str, Document | ParseError]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        for row in reader:
            extra = row.pop(None, None)
            here = f"{where}:{reader.line_num}"
            if extra:
                yield here, ParseError(here, f"row has {len(extra)} more values than the header's "
                                       f"{len(reader.fieldnames or [])} columns")
                continue
            record: Mapping[str, Any] = {k: v for k, v in row.items() if k}
            yield here, _record_document(dict(record), here, fields)
    except csv.Error as exc:
        here = f"{where}:{reader.line_num}"
        yield here, ParseError(here, f"malformed CSV ({exc})")


def _first(record: dict[str, Any], keys: Sequence[str]) -> Any:
    return next((record[k] for k in keys if record.get(k) not in (None, "")), "")


def _json_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _json_item(value: Any) -> TailItem | None:
    """A ``related`` entry as a tail item: a plain title, or an object whose fields are
    read when they are strings (a number as a URL is dropped, never stored as text)."""
    if isinstance(value, str) and value.strip():
        return TailItem(title=value.strip())
    if not isinstance(value, dict):
        return None
    title = _json_text(_first(value, _ITEM_TITLE_KEYS))
    url = _first(value, _ITEM_URL_KEYS)
    url = url.strip() if isinstance(url, str) and url.strip() else None
    if not title and not url:
        return None
    return TailItem(title=title or str(url), teaser=_json_text(_first(value, _ITEM_TEASER_KEYS)),
                    url=url)


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
