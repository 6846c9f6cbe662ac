"""The SQLite store: articles, their vectors and their related lists, in one file.

The library's state is read and written here alone (see the package docstring for the
other files the package touches). Every batch is written in one transaction, so a crash
leaves either the whole batch or none of it.
"""

from __future__ import annotations

import bisect
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np
import sqlite_utils

from ..article import Article, TailItem, Terms
from ..errors import ModelMismatchError, StoreError
from .migrations import migrate, pending

SQLITE_HEADER = b"SQLite format 3\x00"
#: Vectors decoded per slice when the store's vectors are read.
VECTOR_READ_ROWS = 8192
# Separates (and brackets) the neighbour ids of a stored neighbourhood, so that one id can
# be found with instr(); no article id contains it.
NEIGHBOUR_SEP = "\x1f"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def vector_to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes, dimension: int) -> np.ndarray:
    vector = np.frombuffer(blob, dtype="<f4")
    if vector.shape[0] != dimension:
        raise StoreError(f"stored vector has {vector.shape[0]} values, expected {dimension}")
    return vector


@dataclass(frozen=True)
class VectorTable:
    """Every embedded article of the store's model, row-aligned.

    Tables read from the store are in id order. A table grown by :meth:`with_rows` has
    its new rows at the end, and ``order`` gives each row's place in id order, so equal
    scores can still be broken by id (see ``neighbours.top_k``).
    """

    ids: list[str]
    content_hashes: list[str]
    matrix: np.ndarray  # (n, d) float32, unit rows
    order: np.ndarray | None = None  # None: rows are in id order

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Row index of each article id."""
        return {article_id: row for row, article_id in enumerate(self.ids)}

    @cached_property
    def _sorted_ids(self) -> list[str]:
        return sorted(self.ids)

    def with_rows(self, ids: Sequence[str], hashes: Sequence[str], vectors: np.ndarray
                  ) -> VectorTable:
        """This table with these rows replaced, or appended after the last row (into
        spare capacity, see :func:`grow_rows`): one new article costs a few vectorised
        passes over small arrays, not a copy of every vector. The result shares memory and
        indexes with this table, which must not be used afterwards.
        """
        matrix, content_hashes = self.matrix, self.content_hashes
        table_ids, row_of = self.ids, self.row_of
        spare = self.__dict__.get("_spare")
        sorted_ids = self._sorted_ids
        order = np.arange(len(self), dtype=np.int64) if self.order is None else self.order
        fresh = []
        for article_id, content, vector in zip(ids, hashes, vectors):
            row = row_of.get(article_id)
            if row is None:
                fresh.append((article_id, content, vector))
            else:
                matrix[row] = vector
                content_hashes[row] = content
        if fresh:
            n, total = len(table_ids), len(table_ids) + len(fresh)
            matrix, spare = grow_rows(matrix, spare, total,
                                      np.arange(n, total), np.stack([f[2] for f in fresh]))
            order = np.concatenate([order, np.zeros(len(fresh), dtype=np.int64)])
            for offset, (article_id, content, _) in enumerate(fresh):
                place = bisect.bisect_left(sorted_ids, article_id)
                sorted_ids.insert(place, article_id)
                order[: n + offset][order[: n + offset] >= place] += 1
                order[n + offset] = place
                row_of[article_id] = n + offset
                table_ids.append(article_id)
                content_hashes.append(content)
        grown = VectorTable(table_ids, content_hashes, matrix, order)
        self.hand_over(grown, spare)
        return grown

    def hand_over(self, grown: VectorTable, spare: np.ndarray | None) -> None:
        """Give ``grown`` (this table with rows replaced or appended) this table's id
        indexes, kept in step, rather than rebuilding them (a million entries each)."""
        grown.__dict__["row_of"], grown.__dict__["_sorted_ids"] = self.row_of, self._sorted_ids
        if spare is not None:
            grown.__dict__["_spare"] = spare


def spare_rows(n: int) -> int:
    """Rows kept free after a table of ``n`` rows, so that adding articles one by one does
    not copy the table each time (1%: the copy, which briefly holds the table twice, comes
    once per 1% of growth at the first, then once per 10%)."""
    return n // 100 + 16


def with_spare_rows(n: int, width: int, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """An (n, width) array with :func:`spare_rows` free rows after it, and its buffer."""
    buffer = np.empty((n + spare_rows(n), width), dtype=dtype)
    return buffer[:n], buffer


def grow_rows(matrix: np.ndarray, spare: np.ndarray | None, total: int, rows: np.ndarray,
              values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``matrix`` extended to ``total`` rows, with ``values`` written at ``rows``, and
    the buffer it now lives in.

    Appending writes into spare capacity kept after the last row (``spare``, grown by
    half when full), so adding one row does not copy the others. Rows are written in
    place: the old matrix must not be used afterwards.
    """
    n = matrix.shape[0]
    if total > n:
        # Only a buffer allocated here is written past the last row.
        if spare is None or matrix.base is not spare or spare.shape[0] < total:
            spare = np.empty((max(total, n + spare_rows(n) * 10), matrix.shape[1]), matrix.dtype)
            spare[:n] = matrix
        matrix = spare[:total]
    matrix[rows] = values
    return matrix, spare


@dataclass(frozen=True)
class StoredLink:
    """A row of the related table joined with the linked article."""

    rank: int
    id: str
    title: str
    url: str | None
    score: float
    lead: str  # the page's own description, else the start of its body: for teasers
    why: str | None = None  # JSON score components, when the ranking stored them
    image: str | None = None
    published: str | None = None


class Store:
    """A related-posts SQLite file (created on first open, migrated on every open).

    Tables: ``articles``, ``embeddings`` (one float32 vector per article, with model id and
    dimension), ``related`` (article id, rank, related id, score, model id, time),
    ``settings`` (the store's model) and ``_migrations``; the ``related_lists`` view joins
    each link with both articles' titles and urls, for sqlite3 and Datasette users (see
    ``datasette.py``).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        #: Opened read-only (a read-only file or folder): writes are not tried.
        self.read_only = False
        if self.path != ":memory:":
            _check_is_sqlite(Path(self.path))
            if _read_only(Path(self.path)):
                self._open_read_only()
                return
        try:
            self.db = sqlite_utils.Database(self.path)
            tables = set(self.db.table_names())
            if tables and "_migrations" not in tables:  # another application's database
                self.db.close()
                raise StoreError(f"{self.path}: cannot be opened as a SQLite store: it is another "
                                 f"application's database (tables: {', '.join(sorted(tables)[:5])}), left "
                                 "unchanged; pass --db a new path or a related-posts store")
            if self.path != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            # Wait for a concurrent writer instead of failing at once.
            self.db.execute("PRAGMA busy_timeout = 30000")
            migrate(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot be opened as a SQLite store ({exc})") from None

    def _open_read_only(self) -> None:
        # A store on a read-only file or in a read-only folder (a mounted backup, a deploy
        # artefact) is still readable: opened immutable, since SQLite cannot create the WAL's
        # shared-memory file there and nothing can write to it meanwhile. Writes fail with
        # SQLite's "readonly database" error, which the callers report.
        # A WAL that holds commits not yet checkpointed (a writer killed, a snapshot of a live
        # store) is read too when SQLite can use it read-only (its -shm file is there).
        self.read_only = True
        base = Path(self.path).resolve().as_uri()
        attempts = [f"{base}?mode=ro"] if Path(self.path + "-wal").exists() else []
        for uri in attempts + [f"{base}?mode=ro&immutable=1"]:
            try:
                self.db = sqlite_utils.Database(sqlite3.connect(uri, uri=True, check_same_thread=False))
                missing = pending(self.db)
                break
            except sqlite3.DatabaseError as exc:
                if attempts and uri == attempts[0]:
                    continue  # the WAL cannot be read here: the checkpointed state, immutable
                raise StoreError(f"{self.path}: cannot be opened as a SQLite store ({exc})") from None
        if missing:
            raise StoreError(f"{self.path} is read-only and needs upgrading ({', '.join(missing)}); "
                             "open it once where it can be written (any related-posts command does it)")

    def close(self) -> None:
        self.db.close()

    # -- model binding -------------------------------------------------------------------

    def model(self) -> tuple[str, int] | None:
        """The (vector id, dimension) whose vectors this store holds, or None if none yet.

        A vector id names the model and how articles were embedded with it
        (``recommend.embed.vector_model_id``); every model id the store takes is one."""
        rows = {r["key"]: r["value"] for r in self.db.table("settings").rows}
        if "model_id" not in rows:
            return None
        dimension = str(rows.get("dimension", ""))
        if not (dimension.isascii() and dimension.isdigit()):
            raise StoreError(f"{self.path} is damaged: its 'dimension' setting is {dimension[:40]!r}, not a "
                             "number; rebuild it: ingest the site into a new --db and refresh")
        return rows["model_id"], int(dimension)

    def bind_model(self, model_id: str, dimension: int) -> None:
        """Record the store's vector id, or refuse one that differs from the recorded one."""
        current = self.model()
        if current is None:
            with self.db.atomic():
                self.db.table("settings").upsert_all(
                    [
                        {"key": "model_id", "value": model_id},
                        {"key": "dimension", "value": str(dimension)},
                    ],
                    pk="key",
                )
        elif current != (model_id, dimension):
            raise ModelMismatchError(self.path, current[0], current[1], model_id, dimension)

    def ranking(self) -> dict | None:
        """The ranking options the last refresh used (``RankingOptions.to_dict``), if any."""
        row = self.db.execute("select value from settings where key = 'ranking'").fetchone()
        found = json.loads(row[0]) if row else None
        if found is not None and not isinstance(found, dict):
            raise StoreError(f"{self.path} is damaged: its saved ranking options are not an object; "
                             f"forget them with: sqlite3 {self.path} \"delete from settings where key = "
                             "'ranking'\" (the next refresh saves the defaults)")
        return found

    def save_ranking(self, options: dict) -> None:
        """Remember the ranking options lists are computed with, for later commands."""
        with self.db.atomic():
            self.db.table("settings").upsert({"key": "ranking", "value": json.dumps(options)}, pk="key")

    def field_maps(self) -> dict[str, list[str]]:
        """The ``--field`` mappings saved per source (absolute path -> ``name=column`` pairs)."""
        row = self.db.execute("select value from settings where key = 'field_maps'").fetchone()
        try:
            found = json.loads(row[0]) if row else {}
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    def save_field_maps(self, maps: dict[str, list[str]]) -> None:
        """Remember the field mappings of each source, for later ingests of it."""
        with self.db.atomic():
            self.db.table("settings").upsert({"key": "field_maps", "value": json.dumps(maps)}, pk="key")

    # -- articles ------------------------------------------------------------------------

    def count(self) -> int:
        return self.db.table("articles").count

    def article_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("select id from articles order by id").fetchall()]

    def get(self, article_id: str) -> Article | None:
        rows = list(self.db.table("articles").rows_where("id = ?", [article_id]))
        return _row_to_article(rows[0]) if rows else None

    def articles(self) -> Iterator[Article]:
        for row in self.db.table("articles").rows_where(order_by="id"):
            yield _row_to_article(row)

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """Stored content hash of each of ``ids`` that exists."""
        found: dict[str, str] = {}
        for chunk, marks in _chunks(list(ids)):
            for row in self.db.execute(
                f"select id, content_hash from articles where id in ({marks})", chunk
            ):
                found[row[0]] = row[1]
        return found

    def with_new_metadata(self, articles: Sequence[Article]) -> list[Article]:
        """Those of ``articles`` stored with the same text but other metadata (url,
        published, source, lang, labels, image, description, modified or origin)."""
        by_id = {a.id: a for a in articles}
        changed = []
        for chunk, marks in _chunks(list(by_id)):
            # The metadata columns only: re-ingesting a whole unchanged site comes here.
            for row in self.db.execute(
                    "select id, content_hash, url, published, source, lang, labels, image, description, "
                    f"modified, origin from articles where id in ({marks})", chunk):
                article = by_id[row[0]]
                stored = (*row[2:6], tuple(json.loads(row[6] or "[]")), *row[7:])
                if row[1] == article.content_hash and stored != article.metadata:
                    changed.append(article)
        return changed

    def write_metadata(self, articles: Sequence[Article]) -> None:
        """Store new metadata of articles whose text is unchanged, in one transaction.

        Their vectors stay. Ranking filters on metadata in both directions, so each
        article is handled as a changed one by the next refresh: its list is due (and it
        is offered to the other lists), and the lists that link to it are stale. New
        labels also drop the re-ranking neighbourhoods that hold the article.
        """
        stamp = now()
        ids = [a.id for a in articles]
        by_id = {a.id: a for a in articles}
        relabelled = [row[0] for chunk, marks in _chunks(ids) for row in self.db.execute(
            f"select id, labels from articles where id in ({marks})", chunk)
            if tuple(json.loads(row[1] or "[]")) != tuple(by_id[row[0]].labels)]
        with self.db.atomic():
            self._handle_as_changed(ids)
            # Labels are part of the score: re-ranking neighbourhoods that named these
            # articles were found with their old rows, and are found again.
            self._drop_neighbourhoods_of(relabelled)
            for article in articles:
                row = _article_to_row(article)
                self.db.table("articles").update(article.id, {
                    **{k: row[k] for k in _METADATA_COLUMNS}, "updated_at": stamp})

    def search(self, query: str = "", limit: int | None = None, offset: int = 0) -> tuple[list[Article], int]:
        """Articles whose id or title holds ``query`` (any case), in id order: one page of
        them, and how many there are in all."""
        where, params = "", []
        if query:
            pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where, params = "where id like ? escape '\\' or title like ? escape '\\'", [pattern, pattern]
        total = self.db.execute(f"select count(*) from articles {where}", params).fetchone()[0]
        rows = self.db.execute(f"select * from articles {where} order by id limit ? offset ?",
                               [*params, -1 if limit is None else limit, offset])
        columns = [c[0] for c in rows.description]
        return [_row_to_article(dict(zip(columns, row))) for row in rows.fetchall()], total

    def ids_by_origin(self) -> dict[str, list[tuple[str, str | None]]]:
        """The ``(id, url)`` of the articles stored from each file (absolute path), in id order.

        Articles stored before origins were recorded are placed by their ``source`` (the
        path as it was given), when that names a file from here.
        """
        found: dict[str, list[tuple[str, str | None]]] = {}
        for article_id, origin, source, url in self.db.execute(
                "select id, origin, source, url from articles order by id"):
            if origin is None and source:
                try:
                    candidate = Path(source)
                    origin = str(candidate.resolve()) if candidate.is_file() else None
                except (OSError, ValueError):
                    origin = None
            if origin is not None:
                found.setdefault(origin, []).append((article_id, url))
        return found

    def find_by_hash(self, content_hash: str) -> str | None:
        row = self.db.execute(
            "select id from articles where content_hash = ? order by id limit 1", [content_hash]
        ).fetchone()
        return row[0] if row else None

    def similar_ids(self, article_id: str, limit: int = 3) -> list[str]:
        """Stored ids that look like ``article_id`` (for 'did you mean' hints)."""
        import difflib

        return difflib.get_close_matches(article_id, self.article_ids(), n=limit, cutoff=0.5)

    def write_articles(
        self, articles: Sequence[Article], vectors: np.ndarray | None, model_id: str | None
    ) -> None:
        """Upsert ``articles`` and, row-aligned, their vectors, in one transaction."""
        stamp = now()
        existing = self.content_hashes([a.id for a in articles])
        changed = [a.id for a in articles if a.id in existing and existing[a.id] != a.content_hash]
        with self.db.atomic():
            # Lists that link to an article whose text changed hold a stale score for it.
            self._mark_linking_lists_stale(changed)
            self._drop_neighbourhoods_of(changed)
            rows = [{**_article_to_row(a), "updated_at": stamp} for a in articles]
            self.db.table("articles").insert_all(
                ({**row, "created_at": stamp} for row in rows if row["id"] not in existing),
                batch_size=500,
            )
            for row in rows:
                if row["id"] in existing:
                    self.db.table("articles").update(row["id"], row)  # keeps created_at
            if vectors is not None:
                self.write_vectors([a.id for a in articles], [a.content_hash for a in articles],
                                   vectors, model_id)

    def delete_articles(self, ids: Sequence[str]) -> int:
        """Remove articles with their vectors and lists, and drop them from every list.

        Lists that linked to them are marked stale so the next refresh refills them.
        Returns how many articles were removed.
        """
        ids = list(ids)
        removed = 0
        with self.db.atomic():
            self._mark_linking_lists_stale(ids)
            self._drop_neighbourhoods_of(ids)
            for chunk, marks in _chunks(ids):
                self.db.execute(f"delete from related where related_id in ({marks})", chunk)
                self.db.execute(f"delete from related where article_id in ({marks})", chunk)
                self.db.execute(f"delete from list_state where article_id in ({marks})", chunk)
                self.db.execute(f"delete from embeddings where article_id in ({marks})", chunk)
                self.db.execute(f"delete from lexical_terms where article_id in ({marks})", chunk)
                removed += self.db.execute(
                    f"delete from articles where id in ({marks})", chunk
                ).rowcount
        return removed

    def keep_out(self, ids: Sequence[str]) -> None:
        """Remember ``ids`` as removed by hand, so that ingest leaves them out."""
        stamp = now()
        with self.db.atomic():
            self.db.table("removed_articles").upsert_all(
                ({"id": article_id, "removed_at": stamp} for article_id in ids), pk="id")

    def kept_out(self) -> set[str]:
        """The ids removed by hand (see :meth:`keep_out`)."""
        return {row[0] for row in self.db.execute("select id from removed_articles")}

    def let_in(self, ids: Sequence[str]) -> None:
        """Forget that ``ids`` were removed by hand."""
        with self.db.atomic():
            for chunk, marks in _chunks(list(ids)):
                self.db.execute(f"delete from removed_articles where id in ({marks})", chunk)

    def _handle_as_changed(self, ids: Sequence[str]) -> None:
        """Have the next refresh treat ``ids`` as changed articles, although their vectors
        are as they were: their lists are due (and they are offered to the other lists),
        and the lists that link to them are stale."""
        self._mark_linking_lists_stale(ids)
        for chunk, marks in _chunks(list(ids)):
            self.db.execute(f"delete from list_state where article_id in ({marks})", chunk)

    def _mark_linking_lists_stale(self, ids: Sequence[str]) -> None:
        for chunk, marks in _chunks(list(ids)):
            self.db.execute(
                f"""update list_state set stale = 1 where article_id in
                (select article_id from related where related_id in ({marks}))""",
                chunk,
            )

    # -- embeddings ----------------------------------------------------------------------

    def unembedded(self, model_id: str) -> list[Article]:
        """Articles with no vector of ``model_id`` for their current content."""
        rows = self.db.execute(
            """
            select a.* from articles a left join embeddings e on e.article_id = a.id
            where e.article_id is null or e.content_hash != a.content_hash or e.model_id != ?
            order by a.id
            """,
            [model_id],
        )
        columns = [d[0] for d in rows.description]
        return [_row_to_article(dict(zip(columns, r))) for r in rows.fetchall()]

    def write_vectors(self, ids: Sequence[str], hashes: Sequence[str], vectors: np.ndarray,
                      model_id: str | None) -> None:
        """Upsert the vectors of ``ids`` (row-aligned), in one transaction."""
        stamp = now()
        with self.db.atomic():
            self.db.table("embeddings").upsert_all(
                (
                    {
                        "article_id": article_id,
                        "model_id": model_id,
                        "dimension": int(vectors.shape[1]),
                        "vector": vector_to_blob(vectors[i]),
                        "content_hash": hashes[i],
                        "embedded_at": stamp,
                    }
                    for i, article_id in enumerate(ids)
                ),
                pk="article_id",
            )

    def vectors(self) -> VectorTable:
        """All vectors of the store's model whose content is current, ordered by article id."""
        bound = self.model()
        if bound is None:
            return VectorTable([], [], np.zeros((0, 0), dtype=np.float32))
        model_id, dimension = bound
        count = self.db.execute(
            "select count(*) from embeddings e join articles a on a.id = e.article_id "
            "and a.content_hash = e.content_hash where e.model_id = ?", [model_id]).fetchone()[0]
        cursor = self.db.execute(
            """
            select e.article_id, e.content_hash, e.vector from embeddings e
            join articles a on a.id = e.article_id and a.content_hash = e.content_hash
            where e.model_id = ? order by e.article_id
            """,
            [model_id],
        )
        # Read in slices, each joined into one buffer and decoded with one frombuffer (a
        # Python call per row costs seconds at 100k rows), straight into the result: the
        # blobs of the whole store are never held at once.
        matrix, spare = with_spare_rows(count, dimension)
        ids: list[str] = []
        hashes: list[str] = []
        while rows := cursor.fetchmany(VECTOR_READ_ROWS):
            packed = b"".join(r[2] for r in rows)
            if len(packed) != len(rows) * dimension * 4 or len(ids) + len(rows) > count:
                raise StoreError(f"{self.path}: stored vectors do not all have dimension "
                                 f"{dimension}, or the store changed while being read")
            matrix[len(ids):len(ids) + len(rows)] = np.frombuffer(packed, "<f4").reshape(-1, dimension)
            ids += [r[0] for r in rows]
            hashes += [r[1] for r in rows]
        table = VectorTable(ids, hashes, matrix[:len(ids)])
        table.__dict__["_spare"] = spare
        return table

    def vector(self, article_id: str) -> np.ndarray | None:
        row = self.db.execute(
            "select e.vector, e.dimension from embeddings e join articles a "
            "on a.id = e.article_id and a.content_hash = e.content_hash where e.article_id = ? "
            # a vector of another model or recipe is no vector of this store's
            "and e.model_id = (select value from settings where key = 'model_id')",
            [article_id],
        ).fetchone()
        return None if row is None else blob_to_vector(row[0], row[1])

    # -- related lists -------------------------------------------------------------------

    def write_lists(
        self,
        lists: dict[str, list[tuple[str, float]]],
        content_hashes: dict[str, str],
        model_id: str,
        k: int,
        options: str | None = None,
        why: dict[str, list[dict]] | None = None,
    ) -> None:
        """Replace the related lists of the given articles, in one transaction.

        ``content_hashes`` are the hashes of the articles the lists were computed for; a
        later change of an article's content makes its list due again, as does a change
        of the ranking ``options`` fingerprint. ``why`` holds, per list, one dict of score
        components per link (stored as JSON for ``related --json``).
        """
        stamp = now()
        ids = list(lists)
        with self.db.atomic():
            for chunk, marks in _chunks(ids):
                self.db.execute(f"delete from related where article_id in ({marks})", chunk)
            # Plain executemany: sqlite-utils' insert_all builds each row's SQL in Python,
            # which took most of a full refresh's time at 10k articles.
            self.db.conn.executemany(
                "insert into related (article_id, rank, related_id, score, model_id, computed_at,"
                " why) values (?, ?, ?, ?, ?, ?, ?)",
                (
                    (article_id, rank, related_id, round(float(score), 6), model_id, stamp,
                     _why_json(why, article_id, rank))
                    for article_id, links in lists.items()
                    for rank, (related_id, score) in enumerate(links, start=1)
                ),
            )
            self.db.conn.executemany(
                "insert or replace into list_state (article_id, content_hash, model_id, k, size,"
                " min_score, stale, computed_at, options) values (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    (article_id, content_hashes[article_id], model_id, k, len(links),
                     round(float(links[-1][1]), 6) if links else None, stamp, options)
                    for article_id, links in lists.items()
                ),
            )

    def due_lists(self, model_id: str, k: int, options: str | None = None
                  ) -> tuple[list[str], set[str]]:
        """Articles whose list must be computed afresh, and those of them whose content
        (so whose vector) is new since their list was made.

        Due: no list yet, content changed, a linked article changed or vanished (stale),
        or the list was made with another ``k``, model or (when given) ranking
        ``options`` fingerprint. Only embedded articles count.
        """
        rows = self.db.execute(
            """
            select a.id, s.article_id is null or s.content_hash != a.content_hash
            from articles a
            join embeddings e on e.article_id = a.id and e.content_hash = a.content_hash
                and e.model_id = :model
            left join list_state s on s.article_id = a.id
            where s.article_id is null or s.content_hash != a.content_hash or s.stale = 1
                or s.k != :k or s.model_id != :model
                or (:options is not null and s.options is not :options)
            order by a.id
            """,
            {"model": model_id, "k": k, "options": options},
        ).fetchall()
        return [r[0] for r in rows], {r[0] for r in rows if r[1]}

    def stale_lists(self) -> list[str]:
        """Articles whose list links to an article that changed or vanished."""
        return [r[0] for r in self.db.execute(
            "select article_id from list_state where stale = 1 order by article_id")]

    def why(self, article_id: str) -> list[dict | None]:
        """The stored score components of each link of ``article_id``'s list, by rank."""
        return [json.loads(r[0]) if r[0] else None for r in self.db.execute(
            "select why from related where article_id = ? order by rank", [article_id])]

    # -- ranking inputs ------------------------------------------------------------------

    def lexical_terms(self, ids: Sequence[str] | None = None) -> dict[str, tuple[str, Terms]]:
        """Cached lexical terms (of ``ids``, else of every article that has them):
        id -> (content hash, terms)."""
        sql = "select article_id, content_hash, hashes, weights, shingles from lexical_terms"
        if ids is None:
            rows: Iterator = self.db.execute(sql)
        else:
            rows = (row for chunk, marks in _chunks(list(ids))
                    for row in self.db.execute(f"{sql} where article_id in ({marks})", chunk))
        return {r[0]: (r[1], Terms.from_blobs(r[2], r[3], r[4])) for r in rows}

    def lexical_term_hashes(self) -> dict[str, str]:
        """id -> content hash of every article whose lexical terms are cached."""
        return dict(self.db.execute("select article_id, content_hash from lexical_terms"))

    def write_lexical_terms(self, terms: dict[str, tuple[str, Terms]]) -> None:
        """Cache ``id -> (content hash, terms)``, in one transaction."""
        with self.db.atomic():
            self.db.conn.executemany(
                "insert or replace into lexical_terms (article_id, content_hash, hashes, weights,"
                " shingles) values (?, ?, ?, ?, ?)",
                ((i, h, *t.to_blobs()) for i, (h, t) in terms.items()),
            )

    # -- frozen neighbourhoods (neighbourhood re-ranking) ---------------------------------

    def neighbourhoods(self) -> dict[str, tuple[str, list[str], np.ndarray]]:
        """Each article's stored re-ranking neighbourhood: id -> (its content hash then,
        neighbour ids best first, their float32 weights)."""
        return {r[0]: (r[1], r[2].split(NEIGHBOUR_SEP)[1:-1], np.frombuffer(r[3], "<f4"))
                for r in self.db.execute(
                    "select article_id, content_hash, neighbours, weights from neighbourhoods")}

    def neighbourhood_state(self) -> dict | None:
        """The fingerprint of what the stored neighbourhoods were found in (key ``space``)
        and how many were found since every one was last found afresh (``since``, of
        ``size`` articles)."""
        row = self.db.execute("select value from settings where key = 'neighbourhoods'").fetchone()
        return json.loads(row[0]) if row else None

    def lacks_neighbourhoods(self, model_id: str, fingerprint: str) -> bool:
        """Whether an embedded article has no current neighbourhood, or they were found
        under another ``fingerprint`` (so a refresh has re-ranking work even with no list
        due)."""
        state = self.neighbourhood_state()
        if state is None or state.get("space") != fingerprint:
            return self.db.execute("select 1 from embeddings where model_id = ? limit 1",
                                   [model_id]).fetchone() is not None
        return self.db.execute(
            """select 1 from articles a
               join embeddings e on e.article_id = a.id and e.content_hash = a.content_hash
                   and e.model_id = ?
               left join neighbourhoods n on n.article_id = a.id and n.content_hash = a.content_hash
               where n.article_id is null limit 1""", [model_id]).fetchone() is not None

    def write_neighbourhoods(self, found: dict[str, tuple[str, list[str], np.ndarray]],
                             state: dict, everything: bool) -> None:
        """Store newly found neighbourhoods (as :meth:`neighbourhoods` returns them) and
        ``state``, in one transaction, and make the lists they change due: each
        re-expanded article's own list (it is re-entered into the others, like a changed
        article) and the lists that link to it. ``everything``: these replace all stored
        neighbourhoods, and every list is due."""
        ids = list(found)
        with self.db.atomic():
            if everything:
                self.db.execute("delete from neighbourhoods")
                self.db.execute("delete from list_state")
            else:
                self._handle_as_changed(ids)
            self.db.conn.executemany(
                "insert or replace into neighbourhoods (article_id, content_hash, neighbours,"
                " weights) values (?, ?, ?, ?)",
                ((i, h, NEIGHBOUR_SEP + "".join(n + NEIGHBOUR_SEP for n in near),
                  np.asarray(w, dtype="<f4").tobytes()) for i, (h, near, w) in found.items()))
            self.db.table("settings").upsert({"key": "neighbourhoods", "value": json.dumps(state)},
                                       pk="key")

    def _drop_neighbourhoods_of(self, ids: Sequence[str]) -> None:
        """Forget the neighbourhoods of ``ids`` and every one that contains them: a
        neighbourhood only ever names articles whose vectors are as they were."""
        ids = list(ids)
        for chunk, marks in _chunks(ids):
            self.db.execute(f"delete from neighbourhoods where article_id in ({marks})", chunk)
        if len(ids) <= 16:  # a scan in SQLite per id
            for article_id in ids:
                self.db.execute("delete from neighbourhoods where instr(neighbours, ?) > 0",
                                [NEIGHBOUR_SEP + article_id + NEIGHBOUR_SEP])
            return
        gone = set(ids)  # one scan in Python for many ids
        holding = [r[0] for r in self.db.execute("select article_id, neighbours from neighbourhoods")
                   if not gone.isdisjoint(r[1].split(NEIGHBOUR_SEP))]
        for chunk, marks in _chunks(holding):
            self.db.execute(f"delete from neighbourhoods where article_id in ({marks})", chunk)

    def articles_by_id(self, ids: Sequence[str]) -> list[Article]:
        """The stored articles among ``ids``, in id order."""
        found: list[Article] = []
        for chunk, marks in _chunks(sorted(ids)):
            found += [_row_to_article(row) for row in
                      self.db.table("articles").rows_where(f"id in ({marks})", chunk, order_by="id")]
        return found

    def article_meta(self) -> dict[str, tuple[str | None, str | None, str | None, tuple[str, ...]]]:
        """``id -> (published, source, lang, labels)`` of every article (what ranking
        filters on)."""
        return {r[0]: (r[1], r[2], r[3], tuple(json.loads(r[4])) if r[4] else ()) for r in self.db.execute(
            "select id, published, source, lang, labels from articles")}

    def list_sizes_and_minimums(self) -> dict[str, tuple[int, float | None]]:
        """``(size, weakest score)`` of every stored list."""
        return {
            r[0]: (r[1], r[2])
            for r in self.db.execute("select article_id, size, min_score from list_state")
        }

    def stored_lists(self, ids: Sequence[str]) -> dict[str, list[tuple[str, float]]]:
        """Current ``(related id, score)`` links of each of ``ids``, best first."""
        found: dict[str, list[tuple[str, float]]] = {i: [] for i in ids}
        for chunk, marks in _chunks(list(ids)):
            for article_id, related_id, score in self.db.execute(
                f"select article_id, related_id, score from related "
                f"where article_id in ({marks}) order by article_id, rank",
                chunk,
            ):
                found[article_id].append((related_id, score))
        return found

    def related(self, article_id: str, limit: int | None = None, lead_chars: int = 400
                ) -> list[StoredLink]:
        sql = """
            select r.rank, r.related_id, a.title, a.url, r.score,
                   coalesce(nullif(a.description, ''), substr(a.body, 1, ?)), r.why, a.image, a.published
            from related r join articles a on a.id = r.related_id
            where r.article_id = ? order by r.rank
        """
        params: list = [lead_chars, article_id]
        if limit is not None:
            sql += " limit ?"
            params.append(limit)
        return [StoredLink(*row) for row in self.db.execute(sql, params).fetchall()]

    def has_related(self, article_id: str) -> bool:
        return (
            self.db.execute("select 1 from related where article_id = ? limit 1", [article_id])
            .fetchone()
            is not None
        )

    def list_k(self) -> int | None:
        """The ``k`` most lists were computed with (None before the first refresh)."""
        row = self.db.execute(
            "select k from list_state group by k order by count(*) desc limit 1"
        ).fetchone()
        return row[0] if row else None

    def data_version(self) -> int:
        """Changes whenever another connection commits (SQLite ``PRAGMA data_version``)."""
        return self.db.execute("pragma data_version").fetchone()[0]


def _why_json(why: dict[str, list[dict]] | None, article_id: str, rank: int) -> str | None:
    if not why or article_id not in why or rank > len(why[article_id]):
        return None
    return json.dumps(why[article_id][rank - 1], sort_keys=True)


def _chunks(ids: list[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    """Slices of ``ids`` small enough for one SQL ``IN (...)``, with their placeholders."""
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield chunk, ",".join("?" * len(chunk))


def _read_only(path: Path) -> bool:
    """Whether an existing store file cannot be written (the file, or its folder for the WAL)."""
    return path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _check_is_sqlite(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a folder; --db needs a SQLite file path")
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as handle:
            header = handle.read(16)
        if header != SQLITE_HEADER:
            raise StoreError(
                f"{path} is not a SQLite database (its first bytes are {header[:16]!r}); "
                "pass --db a new path or an existing related-posts store"
            )


#: The columns of ``articles`` besides id and text (what ``write_metadata`` updates).
_METADATA_COLUMNS = ("url", "published", "source", "lang", "labels", "image", "description", "modified",
                     "origin")


def _article_to_row(article: Article) -> dict:
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "url": article.url,
        "published": article.published,
        "source": article.source,
        "lang": article.lang,
        "tail": json.dumps([item.to_dict() for item in article.tail], ensure_ascii=False),
        "content_hash": article.content_hash,
        "labels": json.dumps(list(article.labels), ensure_ascii=False) if article.labels else None,
        "image": article.image,
        "description": article.description,
        "modified": article.modified,
        "origin": article.origin,
    }


def _row_to_article(row: dict) -> Article:
    tail = tuple(TailItem(**item) for item in json.loads(row.get("tail") or "[]"))
    return Article(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        url=row["url"],
        published=row["published"],
        source=row["source"],
        lang=row["lang"],
        tail=tail,
        labels=tuple(json.loads(row.get("labels") or "[]")),
        image=row.get("image"),
        description=row.get("description"),
        modified=row.get("modified"),
        origin=row.get("origin"),
    )

