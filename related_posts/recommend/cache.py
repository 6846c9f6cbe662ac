"""What a :class:`~.recommender.Recommender` keeps in memory between calls: the store's
vectors, their ranking space and the entry scores of the stored lists, with one rule for when
they are valid, and the incremental list update that ``add(update_lists=True)`` makes
from them.

The rule: everything here was read or computed from the store as it was at one
``PRAGMA data_version``; a commit by another connection changes that number and drops it
all. This process's own writes leave the number as it was, so each of them either
grows what is kept (:meth:`SiteCache.grow`) or drops it (:meth:`SiteCache.forget`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..article import Article
from ..store import Store, VectorTable
from .lexical import article_terms
from .neighbours import MAX_BLOCK_BYTES, UNIT_NORM, top_k
from .rank import RankingOptions
from .refresh import (
    entry_scores,
    neighbourhood_records,
    ranking_table_for_store,
    settled_neighbourhoods,
    update_lists,
)
from .score import neighbourhood_fingerprint
from .space import REFIND_SHARE, ArticleMeta, RankingTable, find_neighbourhoods


class SiteCache:
    """The vectors, ranking space and list entry scores of one store, kept in memory."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._vectors: VectorTable | None = None
        self._version = -1
        self._entry_scores: np.ndarray | None = None
        self._entry_k: int | None = None
        # The ranking space of the kept vectors, for the options it was built with.
        self._space: tuple[VectorTable, RankingOptions, RankingTable] | None = None
        # Whether the space was rebuilt (and neighbourhoods maybe found again) since the
        # last incremental list update.
        self._space_rebuilt = False

    @property
    def current(self) -> bool:
        """Whether vectors are kept and no other connection has committed since."""
        return self._vectors is not None and self._version == self.store.data_version()

    def vectors(self) -> VectorTable:
        """Every current vector in the store (read again after another connection's commit)."""
        version = self.store.data_version()
        if self._vectors is None or version != self._version:
            self._vectors, self._version, self._entry_scores = self.store.vectors(), version, None
        return self._vectors

    def forget(self) -> None:
        """Drop what is kept: the next call reads the store again."""
        self._vectors, self._entry_scores = None, None

    def refreshed(self, table: VectorTable | None) -> None:
        """Keep ``table``, the vectors a refresh just committed (None: read them again)."""
        self._vectors, self._version, self._entry_scores = table, self.store.data_version(), None

    def grow(self, fresh: Sequence[Article], vectors: np.ndarray) -> None:
        """Enter ``fresh`` articles (just written, with their ``vectors``) into the kept
        vectors, entry scores and ranking space without reading or rebuilding the rest."""
        old = self._vectors
        assert old is not None, "grow() needs kept vectors: check .current first"
        before = len(old)
        ids = [a.id for a in fresh]
        all_new = not any(i in old.row_of for i in ids)
        self._vectors = old.with_rows(ids, [a.content_hash for a in fresh], vectors)
        if self._entry_scores is not None:
            grown = len(self._vectors) - before
            self._entry_scores = np.concatenate([self._entry_scores, np.full(grown, -np.inf, np.float32)])
        space = self._space
        if space is None or space[0] is not old:
            return
        options, table = space[1], space[2]
        meta = [ArticleMeta.of(a) for a in fresh]
        if not table.can_grow_by(meta) or (options.expand and not (
                all_new and self._can_grow_neighbourhoods(options, len(ids), before))):
            self._space = None  # depends on every article: rebuilt when next needed
            return
        terms = {a.id: (a.content_hash, article_terms(a.text)) for a in fresh}
        self.store.write_lexical_terms(terms)
        self._space = (self._vectors, options, table.with_articles(
            self._vectors, ids, [terms[i][1] for i in ids], meta,
            self._neighbourhood_finder(options) if options.expand else None))

    def relabel(self, articles: Sequence[Article]) -> None:
        """Enter new metadata of ``articles`` whose text (so vector) is unchanged."""
        if not self.current:
            return
        kept = self._vectors
        assert kept is not None
        embedded = [a for a in articles if a.id in kept.row_of]
        if embedded:
            self.grow(embedded, kept.matrix[[kept.row_of[a.id] for a in embedded]].copy())

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

    def _neighbourhood_finder(self, options: RankingOptions
                              ) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """Finds the neighbourhoods of new rows of the kept space and stores them."""
        def find(topic: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            vectors = self._vectors
            assert vectors is not None
            indices, weights = find_neighbourhoods(topic, options.expand, vectors.order, rows)
            state = self.store.neighbourhood_state() or {}
            self.store.write_neighbourhoods(
                neighbourhood_records(vectors, rows, indices, weights),
                {**state, "since": state.get("since", 0) + len(rows), "size": len(vectors)},
                everything=False)
            return indices, weights
        return find

    def space(self, options: RankingOptions, writing: bool = True) -> RankingTable:
        """The kept vectors in the ranking space of ``options`` (see :mod:`.space`),
        rebuilt only when the vectors or the options change. Re-ranking neighbourhoods
        that must be found are stored (and the lists they change made due) unless
        ``writing`` is false (a read)."""
        vectors = self.vectors()
        cached = self._space
        # k is not part of the space: the fingerprint leaves it out.
        if (cached is None or cached[0] is not vectors
                or cached[1].fingerprint() != options.fingerprint()):
            settle = None
            model = self.store.model()
            if options.expand and len(vectors) and model is not None:
                fingerprint = neighbourhood_fingerprint(options, model[0])
                settle = settled_neighbourhoods(self.store, fingerprint, write=writing)
            cached = (vectors, options, ranking_table_for_store(self.store, vectors, options,
                                                                settle))
            self._space = cached
            self._space_rebuilt = writing
        return cached[2]

    def update_lists(self, ids: list[str], ranking: RankingOptions) -> None:
        """The lists of the just written articles ``ids``, and their entry into the older
        lists they beat: the incremental part of a refresh, from what is kept."""
        ids_set = set(ids)
        k = self._entry_k if self._entry_scores is not None else self.store.list_k()
        if k is None:
            return  # no lists yet: the first refresh computes them all
        options = replace(ranking, k=k)
        if not options.incremental:
            return  # lists depend on other lists' articles: the next refresh recomputes all
        if len(self.vectors()) < self.store.count():
            return  # articles lack a current vector (another model): refresh embeds them all
        table = self.space(options)
        if self._entry_scores is None or self._entry_k != k:
            self._entry_scores, self._entry_k = entry_scores(self.store, table, k), k
        model = self.store.model()
        assert model is not None  # vectors are stored, so a model is bound
        if options.expand and self._space_rebuilt:
            # The rebuild may have found neighbourhoods again: their articles' lists are
            # due too, and so are the lists that link to them (see .refresh).
            self._space_rebuilt = False
            due, changed = self.store.due_lists(model[0], k, options.fingerprint())
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
        update_lists(self.store, table, rows, neighbours, new_rows, is_due, self._entry_scores,
                     options, model[0],
                     new_products=None if products is None else products[:len(new_rows)])
