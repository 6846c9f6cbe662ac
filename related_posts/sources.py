"""Read articles from files and folders: text, Markdown, HTML, JSON, JSON Lines, CSV.

Each source yields :class:`Article` values, or :class:`Skipped` values that say which
file (and line) could not be used and why, so a batch goes on past bad records. This
module reads input files; it writes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .article import Article, Skipped, TailItem
from .errors import InputError
from .recommend.parse import ParseError, decode_page, load_json, parse_document

PAGE_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm"}
RECORD_SUFFIXES = {".json", ".jsonl", ".ndjson", ".csv"}
SUFFIXES = PAGE_SUFFIXES | RECORD_SUFFIXES


@dataclass(frozen=True)
class FieldMap:
    """Which record fields hold what. ``body`` falls back to ``text`` when absent."""

    id: str = "id"
    title: str = "title"
    body: str = "body"
    url: str = "url"
    published: str = "published"
    source: str = "source"
    lang: str = "lang"
    labels: str = "labels"

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> FieldMap:
        """Build from ``name=column`` strings such as ``body=content``."""
        mapping: dict[str, str] = {}
        valid = set(cls.__dataclass_fields__)
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or name not in valid or not column:
                raise ValueError(
                    f"bad field mapping '{pair}': expected NAME=COLUMN with NAME one of "
                    f"{', '.join(sorted(valid))}"
                )
            mapping[name] = column
        return cls(**mapping)


def expand_paths(paths: Iterable[str | Path]) -> list[tuple[Path, Path]]:
    """Every file to read as ``(file, root)``; folders recurse, hidden entries are skipped.

    ``root`` is the folder given on the command line (or the file's own folder), so that
    ids derived from paths are the same whichever folder the command runs in.
    """
    files: list[tuple[Path, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if child.is_file() and not any(p.startswith(".") for p in relative.parts):
                    files.append((child, path))
        else:
            files.append((path, path.parent))
    return files


def read_sources(
    paths: Iterable[str | Path], fields: FieldMap | None = None
) -> Iterator[Article | Skipped]:
    """Articles from files and folders, with a :class:`Skipped` for each bad file or record."""
    fields = fields or FieldMap()
    for path, root in expand_paths(paths):
        yield from read_file(path, root, fields)


def read_file(path: Path, root: Path, fields: FieldMap) -> Iterator[Article | Skipped]:
    location = str(path)
    suffix = path.suffix.lower()
    if not path.exists():
        yield Skipped(location, "no such file or folder")
        return
    if suffix not in SUFFIXES:
        yield Skipped(location, f"unsupported file type '{suffix or '(none)'}'; valid: "
                      + ", ".join(sorted(SUFFIXES)))
        return
    try:
        data = path.read_bytes()
    except OSError as exc:  # unreadable (permissions), a folder named like a file, gone meanwhile
        yield Skipped(location, f"cannot read the file ({exc.strerror or exc})")
        return
    try:
        text, _ = decode_page(data, location)  # the parse package's one decoder, as parse reads files
    except ParseError as exc:  # binary data
        yield Skipped(location, exc.reason)
        return
    if not text.strip():
        yield Skipped(location, "empty file")
        return
    if suffix in PAGE_SUFFIXES:
        yield page_to_article(text, path, root)
    elif suffix in (".jsonl", ".ndjson"):
        yield from jsonl_records(text, location, fields)
    elif suffix == ".json":
        yield from _json_records(text, location, fields)
    else:
        yield from _csv_records(text, location, fields)


def page_to_article(text: str, path: Path, root: Path) -> Article | Skipped:
    """One page file as an article; its id is its path under ``root`` without extension."""
    try:
        document = parse_document(text, filename=path.name)
    except InputError as exc:
        return Skipped(str(path), exc.reason)
    except ValueError as exc:
        return Skipped(str(path), str(exc))
    if not document.title:
        return Skipped(str(path), "no title: the first line (or '# heading') must hold one")
    if not document.body:
        return Skipped(str(path), "no body text below the title")
    return Article(
        id=path_to_id(path, root),
        title=document.title,
        body=document.body,
        source=str(path),
        tail=document.tail,
    )


def path_to_id(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def url_to_id(url: str) -> str:
    """A stable id from a URL: host and path, without scheme, ``www.``, query or slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # an unbalanced "[" in the host: the URL itself is the id
        return url.strip()
    host = parts.netloc.lower().removeprefix("www.")
    return (host + parts.path).rstrip("/") or url.strip()


def record_to_article(record: Mapping[str, Any], location: str, fields: FieldMap
                      ) -> Article | Skipped:
    """One JSON / CSV record as an article, or the reason it cannot be one."""
    wrong = _wrong_type(record, fields)
    if wrong:
        return Skipped(location, wrong)

    def field(name: str) -> str | None:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return str(value).strip()  # a string, or an integer id (checked above)

    found = ", ".join(sorted(record)) or "none"
    title = field(fields.title)
    body = field(fields.body) or (field("text") if fields.body == "body" else None)
    if title is None:
        return Skipped(location, f"missing required field '{fields.title}' (fields found: "
                       f"{found}; map another with --field title=COLUMN)")
    if body is None:
        wanted = "'body' or 'text'" if fields.body == "body" else f"'{fields.body}'"
        return Skipped(location, f"missing required field {wanted} (fields found: {found}; "
                       "map another with --field body=COLUMN)")
    url = field(fields.url)
    article_id = field(fields.id) or (url_to_id(url) if url else None)
    if article_id is None:
        return Skipped(location, f"no '{fields.id}' or '{fields.url}' field to take an id from "
                       f"(fields found: {found})")
    labels = record.get(fields.labels)
    if isinstance(labels, str):  # CSV cells and plain strings: "world, politics"
        labels = labels.replace(";", ",").split(",")
    if labels is not None and not (isinstance(labels, list)
                                   and all(isinstance(x, (str, int)) for x in labels)):
        return Skipped(location, f"field '{fields.labels}' must be a list of strings or a "
                       f"comma-separated string, got {type(labels).__name__}")
    tail = record.get("related")
    return Article(
        id=article_id,
        title=title,
        body=body,
        url=url,
        published=field(fields.published),
        source=field(fields.source) or location.rsplit(":", 1)[0],
        lang=field(fields.lang),
        tail=tuple(
            TailItem(_text(t.get("title")), _text(t.get("teaser")), _text(t.get("url")) or None)
            for t in tail if isinstance(t, dict)
        ) if isinstance(tail, list) else (),
        labels=tuple(dict.fromkeys(str(x).strip() for x in labels or () if str(x).strip())),
    )


def _text(value: object) -> str:
    """A tail item's field as text: strings as they are, anything else dropped."""
    return value if isinstance(value, str) else ""


def _wrong_type(record: Mapping[str, Any], fields: FieldMap) -> str | None:
    """Why a field this record is read from is not text (an id may be an integer), or None."""
    names = [fields.id, fields.title, fields.body, fields.url, fields.published, fields.source, fields.lang]
    body = record.get(fields.body)
    if fields.body == "body" and (body is None or (isinstance(body, str) and not body.strip())):
        names.append("text")  # read in place of an absent body
    for name in names:
        value = record.get(name)
        if value is None or isinstance(value, str):
            continue
        if name == fields.id and isinstance(value, int) and not isinstance(value, bool):
            continue  # numeric ids (WordPress post IDs) are common and unambiguous
        return (f"field '{name}' must be a string{' or an integer' if name == fields.id else ''}, "
                f"got {_json_type(value)}; nothing from this record was stored")
    return None


def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def jsonl_records(text: str, location: str, fields: FieldMap) -> Iterator[Article | Skipped]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        here = f"{location}:{number}"
        try:
            record = load_json(line, here, "each line must be one JSON object")
        except ParseError as exc:
            yield Skipped(here, exc.reason)
            continue
        if not isinstance(record, dict):
            yield Skipped(here, f"expected a JSON object, got {type(record).__name__}")
            continue
        yield record_to_article(record, here, fields)


def _json_records(text: str, location: str, fields: FieldMap) -> Iterator[Article | Skipped]:
    try:
        data = load_json(text, location, "expected an object, a list of objects, or {\"articles\": [...]}")
    except ParseError as exc:
        yield Skipped(location, exc.reason)
        return
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    for index, record in enumerate(records):
        here = f"{location}[{index}]" if isinstance(data, list) else location
        if not isinstance(record, dict):
            yield Skipped(here, f"expected a JSON object, got {type(record).__name__}")
            continue
        yield record_to_article(record, here, fields)


def _csv_records(text: str, location: str, fields: FieldMap) -> Iterator[Article | Skipped]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        for record in reader:
            extra = record.pop(None, None)
            here = f"{location}:{reader.line_num}"
            if extra:
                yield Skipped(here, f"row has {len(extra)} more values than the header's "
                              f"{len(reader.fieldnames or [])} columns")
                continue
            yield record_to_article({k: v for k, v in record.items() if k}, here, fields)
    except csv.Error as exc:
        yield Skipped(f"{location}:{reader.line_num}", f"malformed CSV ({exc})")
