"""Every stored related list, exported for static site generators and scripts.

:func:`export_lists` reads the lists out of a store (one consistent snapshot, even while a
refresh runs); :func:`write_export` writes them in one of :data:`FORMATS`;
:func:`export_to` does both, as ``related-posts export`` does:

``json``
    One JSON document: ``{"generated_at", "store", "since", "articles": {id: list}}``.
``csv``
    One row per link: ``article_id, rank, related_id, title, url, teaser, published,
    image, score`` (an article whose list is empty has no row).
``files``
    One JSON file per article under the folder, at the path :func:`id_to_path` gives.
``hugo``
    ``data/related/<md5 of key>.json`` under the site root: a page's list is
    ``index site.Data.related (md5 .RelPermalink)`` (see :data:`HUGO_TEMPLATE`).
``jekyll``
    ``_data/related.json`` under the site root, one object keyed by :func:`lookup_key`:
    ``site.data.related[page.url]`` (see :data:`JEKYLL_TEMPLATE`).

Each list (:meth:`ListExport.to_dict`) carries the article's ``id``, ``key``, ``url``,
``title`` and ``computed_at``, and its ``items``: ``rank, id, title, url, teaser,
published, image, score``. URLs and images go through the one URL policy of the package
(:func:`~related_posts.recommend.render.safe_url`: anything but http(s), mailto or a
relative URL is ``null``); teasers are the ones ``related-posts related`` shows. Titles
and teasers are plain text, never HTML-escaped: the template escapes them (Hugo and
Jekyll templates below do).

Every file is written atomically (a temporary file in the same folder, then a rename), and
a file whose content would not change is left alone, so an export into a site keeps the
modification times of the lists that did not change.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..errors import RelatedPostsError
from ..recommend.recommender import Recommender
from ..recommend.render import make_teaser, safe_url
from ..store import Store

#: The formats :func:`write_export` writes.
FORMATS = ("json", "files", "hugo", "jekyll", "csv")
#: Formats whose ``out`` is one file (stdout when absent); the others write into a folder.
FILE_FORMATS = ("json", "csv")
#: The CSV columns, one row per link.
CSV_COLUMNS = ("article_id", "rank", "related_id", "title", "url", "teaser", "published", "image",
               "score")
#: Where the Hugo and Jekyll data go, under the site root given as ``out``.
HUGO_DATA = PurePosixPath("data/related")
JEKYLL_DATA = PurePosixPath("_data/related.json")

#: A Hugo partial (``layouts/partials/related-posts.html``) that renders a page's list from
#: ``--format hugo`` data; include it with ``{{ partial "related-posts.html" . }}``.
HUGO_TEMPLATE = """\
{{ with index site.Data.related (md5 .RelPermalink) }}
  {{ with .items }}
  <section class="related-posts">
    <h2>Related Posts</h2>
    <ul>
      {{ range . }}
      <li>
        {{ with .image }}<img src="{{ . }}" alt="" loading="lazy">{{ end }}
        {{ if .url }}<a href="{{ .url }}">{{ .title }}</a>{{ else }}{{ .title }}{{ end }}
        {{ with .published }}<time datetime="{{ . }}">{{ substr . 0 10 }}</time>{{ end }}
        {{ with .teaser }}<span class="related-posts__teaser">{{ . }}</span>{{ end }}
      </li>
      {{ end }}
    </ul>
  </section>
  {{ end }}
{{ end }}
"""

#: A Jekyll include (``_includes/related-posts.html``) that renders a page's list from
#: ``--format jekyll`` data; include it with ``{% include related-posts.html %}``.
JEKYLL_TEMPLATE = """\
{% assign related = site.data.related[page.url] %}
{% if related and related.items.size > 0 %}
<section class="related-posts">
  <h2>Related Posts</h2>
  <ul>
    {% for item in related.items %}
    <li>
      {% if item.image %}<img src="{{ item.image | escape }}" alt="" loading="lazy">{% endif %}
      {% if item.url %}<a href="{{ item.url | escape }}">{{ item.title | escape }}</a>{% else %}{{ item.title | escape }}{% endif %}
      {% if item.published %}<time datetime="{{ item.published | escape }}">{{ item.published | date: "%Y-%m-%d" }}</time>{% endif %}
      {% if item.teaser != "" %}<span class="related-posts__teaser">{{ item.teaser | escape }}</span>{% endif %}
    </li>
    {% endfor %}
  </ul>
</section>
{% endif %}
"""


class ExportError(RelatedPostsError):
    """An export that cannot be made: no lists yet, or an ``out`` that cannot be used."""


@dataclass(frozen=True)
class ExportItem:
    """One link of an exported list (URLs already through the URL policy)."""

    rank: int
    id: str
    title: str
    url: str | None
    teaser: str
    published: str | None
    image: str | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        """The link as a JSON object (the keys of the templates)."""
        return asdict(self)


@dataclass(frozen=True)
class ListExport:
    """One article's stored list, as exports write it.

    ``key`` is what a site looks the list up by (:func:`lookup_key`); ``computed_at`` is
    when the list was last written (ISO 8601, UTC), what ``since`` filters on.
    """

    article_id: str
    key: str
    url: str | None
    title: str
    computed_at: str
    items: tuple[ExportItem, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The list as a JSON object: the article's fields and its ``items``."""
        return {"id": self.article_id, "key": self.key, "url": self.url, "title": self.title,
                "computed_at": self.computed_at, "items": [item.to_dict() for item in self.items]}


@dataclass
class ExportReport:
    """What :func:`write_export` wrote: counts, and the files written or left as they were."""

    format: str
    lists: int
    links: int
    since: str | None
    generated_at: str
    out: str | None
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON object (``export --json``)."""
        return asdict(self)


def parse_since(value: str) -> datetime:
    """An ISO 8601 date or timestamp as an aware datetime (no offset, or ``Z``: UTC).

    Raises:
        ValueError: ``value`` is not ISO 8601, with a message naming the expected form.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO 8601 timestamp; expected e.g. 2025-04-01, "
                         "2025-04-01T12:00:00 or 2025-04-01T12:00:00+02:00 (no offset: UTC)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def lookup_key(article_id: str, url: str | None) -> str:
    """What a static site looks an article's list up by: the path of its URL, else its id.

    ``https://site.example/2025/04/post/`` -> ``/2025/04/post/``, exactly as in the URL
    (trailing slash, percent-escapes and ``.html`` kept): that is Hugo's ``.RelPermalink``
    and Jekyll's ``page.url`` of the page whose canonical URL it is. An article with no
    usable URL is keyed by its id.
    """
    if url:
        try:
            path = urlsplit(url).path
        except ValueError:
            path = ""
        if path:
            return path if path.startswith("/") else "/" + path
    return article_id


def hugo_name(key: str) -> str:
    """The data file name (without ``.json``) of the list with ``key``: the hex MD5 of the key,
    as Hugo's ``md5 .RelPermalink`` computes it. A hash rather than the path itself, so that
    any URL (a page that is also a section, characters Windows forbids, names that differ by
    case only) gets its own file and a one-line lookup."""
    return hashlib.md5(key.encode("utf-8")).hexdigest()


# Characters that are not allowed (or not safe) in a file name on Windows, macOS or Linux;
# "%" too, so that the mapping stays one to one.
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\%]')
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.IGNORECASE)
_MAX_SEGMENT = 200  # bytes; file systems allow 255


def _escape(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def _safe_segment(segment: str) -> str:
    safe = _UNSAFE_CHARS.sub(lambda match: _escape(match.group()), segment)
    if safe in (".", ".."):
        safe = safe.replace(".", "%2E")
    if _RESERVED.fullmatch(safe):
        safe = _escape(safe[0]) + safe[1:]
    if safe.endswith((".", " ")):  # Windows drops a trailing dot or space
        safe = safe[:-1] + _escape(safe[-1])
    if len(safe.encode("utf-8")) > _MAX_SEGMENT:
        digest = hashlib.md5(safe.encode("utf-8")).hexdigest()[:16]
        safe = safe.encode("utf-8")[: _MAX_SEGMENT - 17].decode("utf-8", "ignore") + "~" + digest
    return safe


def id_to_path(article_id: str) -> PurePosixPath:
    """The relative file (``--format files``) of an article's list.

    The id is split at ``/``; empty segments are dropped; in each segment, characters that
    some file system forbids (``< > : " | ? * \\``, control characters) and ``%`` are
    percent-escaped (``:`` -> ``%3A``), as are ``.`` and ``..`` segments, a trailing dot
    or space, and the first letter of a Windows device name (``CON`` -> ``%43ON``); a
    segment over 200 bytes is cut and ends in ``~`` and a hash. ``.json`` is added to the
    last segment. So ``site.example/2025/04/post`` is ``site.example/2025/04/post.json``,
    the path is always relative and never leaves the folder, and two ids get two paths
    unless they differ only by empty segments (or, on a case-insensitive file system, by
    case), which :func:`write_export` reports as collisions.
    """
    segments = [_safe_segment(s) for s in article_id.split("/") if s]
    if not segments:
        segments = [_escape("/") if article_id else "%00"]
    segments[-1] += ".json"
    return PurePosixPath(*segments)


def export_lists(source: Store | Recommender, since: str | datetime | None = None
                 ) -> list[ListExport]:
    """Every stored list (in article id order), or those computed at or after ``since``.

    ``since`` is an ISO 8601 timestamp (see :func:`parse_since`) or an aware datetime. A
    list's time has whole seconds, so a list computed in the second given is kept:
    exporting an unchanged list again is harmless, missing a changed one is not. Lists
    change when a refresh writes them; one that links to an article removed since is
    refilled (and dated) by the next refresh, so export after refreshing.

    Reads one snapshot of the store, so a refresh running meanwhile is seen whole or not at
    all. Works on a read-only store. Loads no model.

    Raises:
        ExportError: the store has no lists yet (run refresh first).
        ValueError: ``since`` is not ISO 8601.
    """
    store = source.store if isinstance(source, Recommender) else source
    moment = parse_since(since) if isinstance(since, str) else since
    with _snapshot(store):
        states = store.db.execute(
            "select s.article_id, s.computed_at, a.title, a.url from list_state s "
            "join articles a on a.id = s.article_id order by s.article_id").fetchall()
        if not states:
            raise ExportError(f"{store.path} has no related lists yet; compute them with: "
                              f"related-posts refresh --db {store.path}")
        exported = []
        for article_id, computed_at, title, url in states:
            if moment is not None and _time_of(computed_at) < moment:
                continue
            links = store.related(article_id)
            items = tuple(
                ExportItem(rank, link.id, link.title, safe_url(link.url), make_teaser(link.lead),
                           link.published, safe_url(link.image), link.score)
                for rank, link in enumerate(links, start=1))  # positions: no gap where a link left
            clean_url = safe_url(url)
            exported.append(ListExport(article_id, lookup_key(article_id, clean_url), clean_url,
                                       title, computed_at, items))
    return exported


def _time_of(stamp: str) -> datetime:
    try:
        return parse_since(stamp)
    except ValueError:  # not written by this package: keep the list rather than lose it
        return datetime.max.replace(tzinfo=timezone.utc)


@contextmanager
def _snapshot(store: Store) -> Iterator[None]:
    """One read transaction around the reads (SQLite WAL: a consistent snapshot)."""
    connection = store.db.conn
    if connection.in_transaction:
        yield
        return
    connection.execute("begin")
    try:
        yield
    finally:
        connection.execute("rollback")


def listed_keys(source: Store | Recommender) -> dict[str, str]:
    """The lookup key (:func:`lookup_key`) of every article with a stored list, by id: what
    a full export holds."""
    store = source.store if isinstance(source, Recommender) else source
    return {row[0]: lookup_key(row[0], safe_url(row[1])) for row in store.db.execute(
        "select s.article_id, a.url from list_state s join articles a on a.id = s.article_id")}


def export_to(source: Store | Recommender, fmt: str, out: str | Path | None,
              since: str | None = None) -> tuple[ExportReport, str | None]:
    """Export the store's lists (those changed since ``since``) in format ``fmt``.

    :func:`export_lists`, then :func:`write_export`, told which articles have a list, so
    that an export into a site also takes out what left the store: ``hugo`` deletes the
    data files of articles with no list any more, and ``jekyll`` with ``since`` updates the
    entries of the earlier ``_data/related.json`` (when there is none yet, every list is
    exported, since the one file must hold them all).

    Returns:
        The report, and the text for stdout when ``out`` is ``None`` (``json``, ``csv``).

    Raises:
        ExportError: no lists yet, or an ``out`` that cannot be used.
        ValueError: ``since`` is not ISO 8601.
    """
    store = source.store if isinstance(source, Recommender) else source
    check_out(fmt, out)  # a bad value fails before anything is read
    if since is not None:
        parse_since(since)
    whole = (since is not None and fmt == "jekyll" and out is not None
             and not (Path(out) / JEKYLL_DATA).exists())
    started = _now()  # before reading: as the next --since, it misses no list written meanwhile
    with _snapshot(store):
        lists = export_lists(store, None if whole else since)
        current = listed_keys(store)
    report, text = write_export(fmt, lists, out, store_name=Path(store.path).name, since=since,
                                current=current, generated_at=started)
    if whole:
        report.notes.append(f"{Path(out or '') / JEKYLL_DATA} did not exist yet: wrote every list, "
                            f"not only those changed since {since}")
    return report, text


def check_out(fmt: str, out: str | Path | None) -> None:
    """Refuse an unknown format, or an ``out`` of the wrong kind for it, before any work.

    Raises:
        ExportError: with what ``out`` should be.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format '{fmt}'; expected one of {', '.join(FORMATS)}")
    if fmt in FILE_FORMATS:
        if out is not None and Path(out).is_dir():
            raise ExportError(f"--out {out} is a folder; --format {fmt} writes one file: name it, "
                              f"e.g. {Path(out) / ('related.' + fmt)}")
    elif out is None:
        raise ExportError(f"--format {fmt} writes into a folder: give it with --out DIR")
    elif Path(out).exists() and not Path(out).is_dir():
        raise ExportError(f"--out {out} is a file; --format {fmt} writes into a folder")


def write_export(fmt: str, lists: Sequence[ListExport], out: str | Path | None, *,
                 store_name: str = "", since: str | None = None,
                 current: dict[str, str] | None = None, generated_at: str | None = None
                 ) -> tuple[ExportReport, str | None]:
    """Write ``lists`` in format ``fmt`` (one of :data:`FORMATS`).

    ``out`` is the file for ``json`` and ``csv`` (``None``: the text is returned, for
    stdout) and the folder for the others (the site root for ``hugo`` and ``jekyll``);
    missing folders are created. ``current`` (the key of every article with a list, by
    id: :func:`listed_keys`) lets ``hugo`` delete the data files no article has any more,
    and ``jekyll`` with ``since`` drop the earlier entries of articles that left or
    changed URL; without it, earlier files and entries are all kept. ``generated_at``
    (default: now) is the time the lists were read, ISO 8601.

    Returns:
        The report, and the text for stdout (``None`` when written to ``out``).

    Raises:
        ExportError: ``out`` missing for a folder format, or not usable.
    """
    check_out(fmt, out)
    report = ExportReport(fmt, len(lists), sum(len(x.items) for x in lists), since,
                          generated_at or _now(),
                          None if out is None else str(out))
    if fmt in FILE_FORMATS:
        text = (_json_document(lists, report, store_name) if fmt == "json" else _csv_text(lists))
        if out is None:
            return report, text
        _write(Path(out), text, report)
        return report, None
    root = Path(out or "")
    if fmt == "files":
        _write_files(lists, root, report)
    elif fmt == "hugo":
        _write_hugo(lists, root, report, current)
    else:
        _write_jekyll(lists, root, report, since, current)
    return report, None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def _json_document(lists: Sequence[ListExport], report: ExportReport, store_name: str) -> str:
    return _dumps({"generated_at": report.generated_at, "store": store_name, "since": report.since,
                   "articles": {x.article_id: x.to_dict() for x in lists}})


def _csv_text(lists: Sequence[ListExport]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for listed in lists:
        for item in listed.items:
            writer.writerow([_cell(listed.article_id), item.rank, _cell(item.id), _cell(item.title),
                             item.url or "", _cell(item.teaser), item.published or "", item.image or "",
                             item.score])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR
    first) gets a leading apostrophe, which spreadsheets show as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_files(lists: Sequence[ListExport], root: Path, report: ExportReport) -> None:
    seen: dict[str, str] = {}
    for listed in lists:
        relative = id_to_path(listed.article_id)
        folded = str(relative).casefold()
        if folded in seen:
            report.collisions.append(f"{listed.article_id}: same file as {seen[folded]} "
                                     f"({relative}); not written")
            continue
        seen[folded] = listed.article_id
        _write(_inside(root, relative), _dumps(listed.to_dict()), report)


def _keyed(lists: Sequence[ListExport], report: ExportReport,
           current: dict[str, str] | None) -> dict[str, ListExport]:
    """The lists by lookup key. Two articles with one key (two hosts, one path) cannot both
    be found: the first id of all those with a list (``current``) keeps it, whether or not
    its list is exported now, and the other is reported."""
    owners: dict[str, str] = {}
    for article_id, key in sorted((current or {}).items()):
        owners.setdefault(key, article_id)
    by_key: dict[str, ListExport] = {}
    for listed in lists:
        owner = by_key[listed.key].article_id if listed.key in by_key else owners.get(listed.key)
        if owner is not None and owner != listed.article_id:
            report.collisions.append(f"{listed.article_id}: key {listed.key} is taken by {owner}; "
                                     "not written")
            continue
        by_key[listed.key] = listed
    return by_key


_HUGO_FILE = re.compile(r"[0-9a-f]{32}\.json")


def _write_hugo(lists: Sequence[ListExport], root: Path, report: ExportReport,
                current: dict[str, str] | None) -> None:
    folder = root / HUGO_DATA
    for key, listed in _keyed(lists, report, current).items():
        _write(folder / f"{hugo_name(key)}.json", _dumps(listed.to_dict()), report)
    if current is None or not folder.is_dir():
        return
    # The file of an article with no list any more (removed, unpublished) or of a URL it no
    # longer has would keep showing an old list: delete it. Only names this export makes
    # (32 hex digits) are touched.
    wanted = {f"{hugo_name(key)}.json" for key in current.values()}
    for path in sorted(folder.iterdir()):
        if _HUGO_FILE.fullmatch(path.name) and path.name not in wanted and path.is_file():
            try:
                path.unlink()
            except OSError as exc:
                raise ExportError(f"cannot delete {path}: {exc.strerror or exc}") from None
            report.removed.append(str(path))


def _write_jekyll(lists: Sequence[ListExport], root: Path, report: ExportReport,
                  since: str | None, current: dict[str, str] | None) -> None:
    target = root / JEKYLL_DATA
    entries: dict[str, Any] = {}
    if since is not None and target.exists():
        # One file holds every list: an export of what changed updates the earlier one.
        try:
            earlier = json.loads(target.read_text(encoding="utf-8"))
            if not isinstance(earlier, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise ExportError(f"cannot update {target} ({exc}); export without --since to write it "
                              "afresh") from None
        exported = {listed.article_id for listed in lists}
        entries = {key: value for key, value in earlier.items()
                   if isinstance(value, dict) and value.get("id") not in exported
                   and (current is None or current.get(str(value.get("id"))) == key)}
    for key, listed in _keyed(lists, report, current).items():
        entries[key] = listed.to_dict()
    _write(target, _dumps(dict(sorted(entries.items()))), report)


def _inside(root: Path, relative: PurePosixPath) -> Path:
    """``root / relative``, refusing anything that would land outside ``root``."""
    if relative.is_absolute() or ".." in relative.parts:
        raise ExportError(f"refusing to write {relative} outside {root}")
    return root.joinpath(*relative.parts)


def _write(path: Path, text: str, report: ExportReport) -> None:
    """Write ``text`` to ``path`` atomically, creating its folders; unchanged content is left."""
    data = text.encode("utf-8")
    try:
        if path.is_file() and path.read_bytes() == data:
            report.unchanged.append(str(path))
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp", delete=False)
        try:
            with handle:
                handle.write(data)
            os.replace(handle.name, path)
        except BaseException:
            os.unlink(handle.name)
            raise
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    report.written.append(str(path))
