"""The :class:`Recommender` facade: one object over the store, the embedder and the ranking."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from ..article import (Article, RelatedItem, Skipped, TailItem, content_hash, embedding_text,
                       model_id_of, vector_model_id)
from ..errors import ModelMismatchError, NotEmbeddedError, UnknownArticleError
from ..store import Store, VectorTable
from .embed import Embedder, article_vectors, load_embedder, model_id_for
from .neighbours import MAX_BLOCK_BYTES, UNIT_NORM, top_k
from .parse import Document, parse_document
from .rank import RankingOptions
from .refresh import (
    ProgressFactory,
    RefreshReport,
    list_floors,
    neighbourhood_records,
    ranking_table_for_store,
    refresh_store,
    settled_neighbourhoods,
    update_lists,
)
from .render import RenderOptions, make_teaser, rewrite
from .score import neighbourhood_fingerprint
from .space import (REFIND_SHARE, ArticleMeta, RankingTable, explain, find_neighbourhoods,
                    query_row, rank_row)

if TYPE_CHECKING:
    from .audit import AuditOptions, AuditReport

DEFAULT_DB = "related-posts.db"
DB_ENV = "RELATED_POSTS_DB"


def default_db_path() -> str:
    """``$RELATED_POSTS_DB`` if set, else ``./related-posts.db``."""
    return os.environ.get(DB_ENV) or DEFAULT_DB


@dataclass
class AddReport:
    """What :meth:`Recommender.add` did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "skipped_reasons": [{"location": s.location, "reason": s.reason} for s in self.skipped],
        }


class Recommender:
    """Related posts for the articles of one site, kept in one SQLite file.

    ``Recommender("site.db")`` opens the store (creating it if needed). The model is the
    one the store was built with, else ``model``, else all-MiniLM-L6-v2; asking for a
    different model than the store's is a :class:`ModelMismatchError`. Pass ``embedder``
    to use any object with the :class:`Embedder` protocol (tests use a fake), and
    ``ranking`` for ranking options (``k`` comes from each call); without it, the options
    of the store's last refresh are used, else the defaults. Each refresh records its
    options in the store, so that later commands rank new texts the same way.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        model: str | None = None,
        embedder: Embedder | None = None,
        ranking: RankingOptions | None = None,
        batch_size: int = 256,
    ) -> None:
        self.store = Store(db if db is not None else default_db_path())
        self.batch_size = batch_size
        saved = self.store.ranking()
        self.ranking = ranking or (RankingOptions.from_dict(saved) if saved else RankingOptions())
        bound = self.store.model()
        wanted = embedder.model_id if embedder is not None else (model and model_id_for(model))
        if bound and wanted and vector_model_id(wanted) != bound[0]:
            dimension = embedder.dimension if embedder is not None else -1
            raise ModelMismatchError(self.store.path, bound[0], bound[1],
                                     vector_model_id(wanted), dimension)
        self._model_name = model or (model_id_of(bound[0]) if bound else None)
        self._embedder = embedder
        # Vectors and list floors kept in memory between calls; valid while no other
        # connection has committed (PRAGMA data_version unchanged).
        self._vectors: VectorTable | None = None
        self._version = -1
        self._floors: np.ndarray | None = None
        self._floors_k: int | None = None
        # The ranking space of the cached vectors, for the options it was built with.
        self._ranking_space: tuple[VectorTable, RankingOptions, RankingTable] | None = None
        self._space_rebuilt = False

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (reading stored lists never loads it)."""
        if self._embedder is None:
            self._embedder = load_embedder(self._model_name)
        return self._embedder

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Recommender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------

    def add(self, articles: Article | Iterable[Article | Skipped], *,
            update_lists: bool = False) -> AddReport:
        """Store articles and embed the new or changed ones, batch by batch.

        Unchanged content (same id, same content hash) is neither rewritten nor
        re-embedded. A second article with an id already seen in this call is skipped and
        reported, as is any :class:`Skipped` passed in by a source reader. Each batch is
        one transaction.

        With ``update_lists``, each batch also computes the lists of its new and changed
        articles and enters them into the older lists they beat (the incremental part of
        :meth:`refresh`, from vectors kept in memory: milliseconds per article). Without
        it, lists are brought up to date by :meth:`refresh`.
        """
        if isinstance(articles, Article):
            articles = [articles]
        report = AddReport()
        seen: set[str] = set()
        batch: list[Article] = []
        for item in articles:
            if isinstance(item, Skipped):
                report.skipped.append(item)
                continue
            if item.id in seen:
                report.skipped.append(Skipped(item.id, "duplicate id in this batch; first kept"))
                continue
            seen.add(item.id)
            batch.append(item)
            if len(batch) >= self.batch_size:
                self._write_batch(batch, report, update_lists)
                batch = []
        if batch:
            self._write_batch(batch, report, update_lists)
        return report

    def _write_batch(self, batch: list[Article], report: AddReport, update_lists: bool) -> None:
        stored = self.store.content_hashes([a.id for a in batch])
        fresh = [a for a in batch if stored.get(a.id) != a.content_hash]
        relabelled = self.store.with_new_metadata([a for a in batch if a.id in stored
                                                   and stored[a.id] == a.content_hash])
        report.unchanged += len(batch) - len(fresh) - len(relabelled)
        report.updated += len(relabelled)
        cached = self._vectors is not None and self._version == self.store.data_version()
        if relabelled:
            # Same text, new metadata (labels, date, source...): no new embedding, but the
            # lists that filter on it change.
            self.store.write_metadata(relabelled)
            embedded = [a for a in relabelled if cached and a.id in self._vectors.row_of]
            if embedded:
                rows = [self._vectors.row_of[a.id] for a in embedded]
                self._grow_caches(embedded, self._vectors.matrix[rows].copy())
            if update_lists:
                self._update_lists([a.id for a in relabelled])
        if not fresh:
            return
        vectors = self._encode([(a.title, a.body) for a in fresh])
        vector_id = vector_model_id(self.embedder.model_id)
        self.store.bind_model(vector_id, self.embedder.dimension)
        self.store.write_articles(fresh, vectors, vector_id)
        report.updated += sum(1 for a in fresh if a.id in stored)
        report.added += sum(1 for a in fresh if a.id not in stored)
        if cached:
            # Our own commits leave data_version as it was: keep the caches in step.
            self._grow_caches(fresh, vectors)
        else:
            self._vectors = None
        if update_lists:
            self._update_lists([a.id for a in fresh])

    def _grow_caches(self, fresh: list[Article], vectors: np.ndarray) -> None:
        """Enter ``fresh`` articles (just written) into the cached vectors, list floors and
        ranking space without reading or rebuilding the rest."""
        old, before = self._vectors, len(self._vectors)
        ids = [a.id for a in fresh]
        all_new = not any(i in old.row_of for i in ids)
        self._vectors = old.with_rows(ids, [a.content_hash for a in fresh], vectors)
        if self._floors is not None:
            grown = len(self._vectors) - before
            self._floors = np.concatenate([self._floors, np.full(grown, -np.inf, np.float32)])
        space = self._ranking_space
        if space is None or space[0] is not old:
            return
        options, table = space[1], space[2]
        if table.floor is not None or (options.expand and not (
                all_new and self._can_grow_neighbourhoods(options, len(ids), before))):
            self._ranking_space = None  # depends on every article: rebuilt when next needed
            return
        from .lexical import article_terms

        terms = {a.id: (a.content_hash, article_terms(a.text)) for a in fresh}
        self.store.write_lexical_terms(terms)
        meta = [ArticleMeta.of(a) for a in fresh]
        self._ranking_space = (self._vectors, options, table.with_articles(
            self._vectors, ids, [terms[i][1] for i in ids], meta,
            self._found_neighbourhoods(options) if options.expand else None))

    def _can_grow_neighbourhoods(self, options: RankingOptions, added: int, before: int
                                 ) -> bool:
        """Whether ``added`` new articles on a site of ``before`` stay within the share of
        re-ranking neighbourhoods that may be found one by one (else the space is
        rebuilt, and a refresh finds them all again). Only new articles: a changed one
        frees the neighbourhoods that named it, which must be found again too."""
        state = self.store.neighbourhood_state()
        model = self.store.model()
        return (model is not None and state is not None
                and state.get("space") == neighbourhood_fingerprint(options, model[0])
                and state.get("since", 0) + added <= REFIND_SHARE * (before + added))

    def _found_neighbourhoods(self, options: RankingOptions):
        """Finds the neighbourhoods of new rows of the cached space and stores them."""
        def find(topic: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            vectors = self._vectors
            indices, weights = find_neighbourhoods(topic, options.expand, vectors.order, rows)
            state = self.store.neighbourhood_state()
            self.store.write_neighbourhoods(
                neighbourhood_records(vectors, rows, indices, weights),
                {**state, "since": state["since"] + len(rows), "size": len(vectors)},
                everything=False)
            return indices, weights
        return find

    def _update_lists(self, ids: list[str]) -> None:
        ids_set = set(ids)
        k = self._floors_k if self._floors is not None else self.store.list_k()
        if k is None:
            return  # no lists yet: the first refresh computes them all
        options = replace(self.ranking, k=k)
        if not options.incremental:
            return  # lists depend on other lists' articles: the next refresh recomputes all
        if len(self.vectors()) < self.store.count():
            return  # articles lack a current vector (another model): refresh embeds them all
        table = self._space(options)
        if self._floors is None or self._floors_k != k:
            self._floors, self._floors_k = list_floors(self.store, table, k), k
        model_id = self.store.model()[0]
        if options.expand and self._space_rebuilt:
            # The rebuild may have found neighbourhoods again: their articles' lists are
            # due too, and so are the lists that link to them (see .refresh).
            self._space_rebuilt = False
            due, changed = self.store.due_lists(model_id, k, options.fingerprint())
            new_rows = [table.row_of[i] for i in due if i in changed and i in table.row_of]
            stale = [table.row_of[i] for i in due if i not in changed and i in table.row_of]
        else:
            new_rows = [table.row_of[i] for i in ids]
            # Lists that linked to a changed article hold a stale score: recompute them too.
            stale = [table.row_of[i] for i in self.store.stale_lists()
                     if i in table.row_of and i not in ids_set]
        rows = np.array(new_rows + stale, dtype=np.int64)
        # One pass over the site gives both the new articles' searches and their offers to
        # other lists (a pair's score is the same both ways).
        products = (table.matrix[rows] @ table.matrix.T
                    if len(rows) * len(table) * 4 <= MAX_BLOCK_BYTES else None)
        neighbours = top_k(table.matrix[rows], table.matrix, options.candidates,
                           order=table.order, products=products, max_norm=UNIT_NORM)
        is_due = np.zeros(len(table), dtype=bool)
        is_due[rows] = True
        update_lists(self.store, table, rows, neighbours, new_rows, is_due, self._floors,
                     options, model_id,
                     new_products=None if products is None else products[:len(new_rows)])

    def _space(self, options: RankingOptions, writing: bool = True) -> RankingTable:
        """The stored vectors in the ranking space of ``options`` (see :mod:`.space`),
        rebuilt only when the vectors or the options change. Re-ranking neighbourhoods
        that must be found are stored (and the lists they change made due) unless
        ``writing`` is false (a read)."""
        vectors = self.vectors()
        cached = self._ranking_space
        # k is not part of the space: the fingerprint leaves it out.
        if (cached is None or cached[0] is not vectors
                or cached[1].fingerprint() != options.fingerprint()):
            settle = None
            if options.expand and len(vectors):
                space = neighbourhood_fingerprint(options, self.store.model()[0])
                settle = settled_neighbourhoods(self.store, space, write=writing)
            cached = (vectors, options, ranking_table_for_store(self.store, vectors, options,
                                                                settle))
            self._ranking_space = cached
            self._space_rebuilt = writing
        return cached[2]

    def _encode(self, articles: Sequence[tuple[str, str]]) -> np.ndarray:
        """Vectors of ``(title, body)`` pairs, made as the store's are (a tail item's
        teaser stands in for its body)."""
        return article_vectors(self.embedder, [title for title, _ in articles],
                               [body for _, body in articles])

    def refresh(self, k: int = 5, *, full: bool = False, dry_run: bool = False,
                neighbours: str = "auto", progress: ProgressFactory | None = None
                ) -> RefreshReport:
        """Embed what is new, recompute the lists that are due, and enter new articles
        into the older lists they now belong to (see :mod:`.refresh`).

        ``full`` recomputes every list; ``dry_run`` computes everything, reports it with
        a before/after sample, and writes nothing. ``neighbours`` picks exact search or
        an approximate index (``auto``: approximate only for very large recomputes).
        ``progress`` makes progress bars: it is called like
        ``tqdm(total=..., desc=..., unit=...)``.
        """
        report, table = refresh_store(
            self.store, lambda: self.embedder, replace(self.ranking, k=k), full=full,
            dry_run=dry_run,
            neighbours=neighbours, progress=progress, batch_size=self.batch_size,
        )
        if not dry_run:
            self.store.save_ranking(self.ranking.to_dict())
        self._vectors = None if dry_run else table
        self._version = self.store.data_version()
        self._floors = None
        return report

    def remove(self, ids: str | Iterable[str]) -> int:
        """Delete articles; they leave every list at once, and the lists that held them
        are refilled by the next refresh. Returns how many were removed."""
        removed = self.store.delete_articles([ids] if isinstance(ids, str) else list(ids))
        self._vectors, self._floors = None, None
        return removed

    # -- reading -------------------------------------------------------------------------

    def vectors(self) -> VectorTable:
        """Every current vector in the store (cached until the next write)."""
        version = self.store.data_version()
        if self._vectors is None or version != self._version:
            self._vectors, self._version, self._floors = self.store.vectors(), version, None
        return self._vectors

    def related(self, article_id: str, k: int = 5) -> list[RelatedItem]:
        """The related list of a stored article, best first.

        Answers from the stored list when one was computed (no model is loaded); for an
        article added since the last refresh, computes it from the stored vectors.
        """
        links = self.store.related(article_id, limit=k)
        if links:
            return [
                RelatedItem(l.rank, l.id, l.title, l.url, l.score, make_teaser(l.lead),
                            json.loads(l.why) if l.why else None)
                for l in links
            ]
        article = self.store.get(article_id)
        if article is None:
            raise UnknownArticleError(article_id, self.store.path,
                                      self.store.similar_ids(article_id))
        vector = self.store.vector(article_id)
        if vector is None:
            raise NotEmbeddedError(
                f"article '{article_id}' has no vector yet: run related-posts refresh "
                f"--db {self.store.path}"
            )
        return self._related_to_vector(vector, article_id, article.content_hash, k, article.text)

    def related_to_text(self, title: str, body: str, k: int = 5) -> list[RelatedItem]:
        """The related list for an article that is not stored (one encode, one search)."""
        vector = self._encode([(title, body)])[0]
        return self._related_to_vector(vector, None, content_hash(title, body), k,
                                       embedding_text(title, body))

    def _related_to_vector(self, vector: np.ndarray, query_id: str | None,
                           query_hash: str, k: int, text: str) -> list[RelatedItem]:
        if len(self.vectors()) == 0:
            raise NotEmbeddedError(
                f"{self.store.path} has no embedded articles: run related-posts ingest first"
            )
        options = replace(self.ranking, k=k)
        table = self._space(options, writing=False)
        row = table.row_of.get(query_id) if query_id is not None else None
        if row is not None:
            searched = table.matrix[row]
        else:
            from .lexical import article_terms

            searched, lexical = query_row(table, vector, article_terms(text))
        indices, scores = top_k(searched[None, :], table.matrix, options.candidates,
                                order=table.order, max_norm=UNIT_NORM)
        links = rank_row(table, indices[0], scores[0], row, query_id, query_hash, options,
                         query_vector=searched)
        why = (explain(table, row, links) if row is not None
               else explain(table, None, links, query_dense=vector, query_lexical=lexical))
        items = []
        for rank_, ((article_id, score), reasons) in enumerate(zip(links, why), start=1):
            article = self.store.get(article_id)
            assert article is not None  # ids come from the store's own vector table
            items.append(RelatedItem(rank_, article.id, article.title, article.url, score,
                                     make_teaser(article.body), reasons))
        return items

    def related_for_document(self, document: Document, k: int = 5) -> list[RelatedItem]:
        """Related items for a parsed page: its stored list if the page is a stored
        article (same content), else a list computed from its text."""
        stored_id = self.store.find_by_hash(content_hash(document.title, document.body))
        if stored_id is not None:
            return self.related(stored_id, k)
        return self.related_to_text(document.title, document.body, k)

    def score_tail(self, document: Document) -> list[tuple[TailItem, float]]:
        """Each item of the page's existing tail with its cosine similarity to the page.

        Items are embedded from their title and teaser, the page from its title and body.
        """
        if not document.tail:
            return []
        vectors = self._encode([(document.title, document.body)]
                               + [(item.title, item.teaser) for item in document.tail])
        return list(zip(document.tail, (vectors[1:] @ vectors[0]).tolist()))

    def rewrite(self, text: str, *, format: str | None = None, filename: str | None = None,
                k: int = 5, options: RenderOptions | None = None) -> str:
        """The page ``text`` with its related-posts tail replaced by this site's list."""
        document = parse_document(text, format=format, filename=filename)
        items = self.related_for_document(document, k)
        options = options or RenderOptions()
        tail_items = []
        for item in items:
            article = self.store.get(item.id)
            body = article.body if article is not None else item.teaser
            teaser = make_teaser(body, options.teaser_chars, document.ellipsis)
            tail_items.append(TailItem(title=item.title, teaser=teaser, url=item.url))
        return rewrite(document, tail_items, options, [i.score for i in items])

    def audit(self, pages: Iterable[tuple[str, Document | Exception]] | None = None, *,
              options: "AuditOptions | None" = None) -> "AuditReport":
        """Score each article's original tail against the article, with a verdict.

        Audits every stored article that kept a tail when it was ingested or, with
        ``pages``, the given ``(location, parsed page)`` pairs (an exception in place of a
        page is reported as skipped). Tail items that link to a stored article (same URL
        or title) are scored with that article's stored vector, the others are embedded
        from their title and teaser. The relevance floor is calibrated on this store's
        articles; see :mod:`related_posts.recommend.audit` for the rules.
        """
        from .audit import (STORED, TEASER, ArticleIndex, AuditOptions, AuditReport, Floor,
                            audit_article, calibrate_floor, sample_rows)

        options = options or AuditOptions()
        table = self.vectors()
        if len(table) < 2:
            raise NotEmbeddedError(
                f"{self.store.path} has {len(table)} embedded article(s); an audit compares "
                "tails with the site's articles: run related-posts ingest first"
            )
        articles = {a.id: a for a in self.store.articles()}
        row_of = {article_id: row for row, article_id in enumerate(table.ids)}
        index = ArticleIndex.build((a.id, a.title, a.url) for a in articles.values())
        if options.floor is not None:
            floor = Floor(options.floor, options.floor)
        else:
            rows = [r for r in sample_rows(len(table), options.sample, options.seed)
                    if table.ids[r] in articles]
            teasers = self._encode([(articles[table.ids[r]].title,
                                     make_teaser(articles[table.ids[r]].body)) for r in rows])
            floor = calibrate_floor(table.matrix[rows], teasers, quantile=options.quantile)

        # (name, title, body, tail, stored vector or None)
        subjects: list[tuple[str, str, str, tuple[TailItem, ...], np.ndarray | None]] = []
        skipped: list[str] = []
        without_tail = 0
        if pages is None:
            for article in articles.values():
                if not article.tail:
                    without_tail += 1
                    continue
                row = row_of.get(article.id)
                subjects.append((article.id, article.title, article.body, article.tail,
                                 table.matrix[row] if row is not None else None))
        else:
            for location, page in pages:
                if isinstance(page, Exception):
                    skipped.append(str(page) if str(page).startswith(location)
                                   else f"{location}: {page}")
                    continue
                if not page.tail:
                    without_tail += 1
                    continue
                stored = self.store.find_by_hash(content_hash(page.title, page.body))
                row = row_of.get(stored) if stored else None
                subjects.append((location, page.title, page.body, page.tail,
                                 table.matrix[row] if row is not None else None))

        # Embed, in one batch, the pages without a stored vector and the unmatched items.
        texts: dict[tuple[str, str], int] = {}
        for _, title, body, tail, vector in subjects:
            if vector is None:
                texts.setdefault((title, body), len(texts))
            for item in tail:
                if row_of.get(index.match(item) or "") is None:
                    texts.setdefault((item.title, item.teaser), len(texts))
        encoded = self._encode(list(texts)) if texts else None

        audits = []
        for name, title, body, tail, vector in subjects:
            if vector is None:
                vector = encoded[texts[title, body]]
            scored = []
            for item in tail:
                matched = index.match(item)
                if matched is not None and matched in row_of:
                    scored.append((item, float(table.matrix[row_of[matched]] @ vector),
                                   STORED, matched))
                else:
                    other = encoded[texts[item.title, item.teaser]]
                    scored.append((item, float(other @ vector), TEASER, None))
            audits.append(audit_article(name, title, scored, floor, options))
        return AuditReport(floor, tuple(audits), without_tail, tuple(skipped))
