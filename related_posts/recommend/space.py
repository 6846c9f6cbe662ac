"""The ranking space lists are searched in: the model's vectors fused with the lexical
signal and, as an option, re-ranked by each article's neighbourhood (the formulas are in
:mod:`.score`).

A :class:`RankingTable` is a :class:`~related_posts.store.VectorTable` whose ``matrix``
rows are unit vectors in which a dot product *is* the ranking score, so the exact and
approximate searches, the incremental refresh and its exactness rules work unchanged on
it. Re-ranking pulls the query and every candidate towards the topic they sit in, which
is what label-level relevance rewards (database-side augmentation, as in image retrieval).
An article's neighbourhood is frozen when found (the store keeps it), so a new article
changes no other row and refreshes stay incremental; a refresh finds every one again
once ``REFIND_SHARE`` of the site was found one by one since the last time.

Pure: the store is read by the caller (``refresh.ranking_table_for_store``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..article import Article, Terms
from ..store import VectorTable, grow_rows, with_spare_rows
from .lexical import ROW_CHUNK, SHINGLE_DIMS, label_matrix, lexical_matrix, shingle_matrix
from .neighbours import SCORE_DECIMALS, UNIT_NORM, all_pairs_top_k, exact_scores, top_k
from .rank import Features, RankingOptions, published_days, rank, time_label
from .score import Layout, expanded_rows, fuse, fused_rows, neighbour_weights, score_parts

#: Shingle vectors are kept in half precision: only compared against a threshold (0.5),
#: they need three digits, and at 100k articles this saves 51 MB.
STORY_DTYPE = np.float16
#: Re-ranking neighbourhoods found one by one (new and changed articles, and those whose
#: neighbours changed) since every one was last found afresh may reach this share of the
#: site; past it a refresh finds them all again. Frozen neighbourhoods miss the articles
#: published after them: with a tenth of the site arrived since, lists measured at most
#: 0.0007 nDCG@5 below a full pass (bench/growth_quality.py, README); a simulation gave
#: 0.003 with half of it arrived since.
REFIND_SHARE = 0.1
#: How a refresh gets each row's re-ranking neighbourhood, given the table before re-ranking.
Neighbourhoods = Callable[["RankingTable"], tuple[np.ndarray, np.ndarray]]
#: Random pairs drawn to calibrate a relevance floor (``floor_quantile``).
FLOOR_PAIRS = 20_000


@dataclass(frozen=True)
class ArticleMeta:
    """What ranking knows of an article besides its text."""

    published: float | None = None  # days since 1970-01-01 UTC
    source: str | None = None
    lang: str | None = None
    labels: tuple[str, ...] = ()

    @classmethod
    def of(cls, article: Article) -> ArticleMeta:
        return cls(published_days(article.published), article.source, article.lang,
                   tuple(article.labels))


@dataclass(frozen=True, kw_only=True)
class RankingTable(VectorTable):
    """A vector table in the ranking space, with what :func:`rank` needs per row.

    ``dense`` holds the model's vectors (shared with the plain table, not copied);
    ``topic`` the fused vectors before re-ranking (the same array as ``matrix`` without
    re-ranking), compared for diversity and holding the lexical and label vectors too
    (read back through :attr:`layout`, not kept twice: a 100k site saves 400 MB); ``story`` the shingle vectors compared for same-story
    collapse; ``floor`` the calibrated relevance floor (None without ``floor_quantile``).
    """

    dense: np.ndarray
    story: np.ndarray
    topic: np.ndarray
    meta: tuple[ArticleMeta, ...]
    options: RankingOptions
    floor: float | None = None

    @property
    def fingerprint(self) -> str:
        """The options fingerprint, plus the calibrated floor when there is one."""
        base = self.options.fingerprint()
        return base if self.floor is None else f"{base}:{self.floor:.6f}"

    @property
    def layout(self) -> Layout:
        """Where the parts of the fused rows sit (:class:`~.score.Layout`)."""
        return Layout.of(self.options, self.dense.shape[1], width=self.topic.shape[1])

    def can_grow_by(self, meta: Sequence[ArticleMeta]) -> bool:
        """Whether articles with ``meta`` fit these rows: not when they bring the first
        labels to a space built without a label part (then it is rebuilt), nor into a
        space with a calibrated floor (which depends on every article)."""
        labels_missing = (self.options.label_weight > 0 and not self.layout.label_dims
                          and any(m.labels for m in meta))
        return self.floor is None and not labels_missing

    def with_articles(self, plain: VectorTable, ids: Sequence[str], terms: Sequence[Terms],
                      meta: Sequence[ArticleMeta],
                      neighbourhoods: Callable[[np.ndarray, np.ndarray],
                                               tuple[np.ndarray, np.ndarray]] | None = None
                      ) -> RankingTable:
        """This space after its plain table grew into ``plain`` (``VectorTable.with_rows``)
        by the new or changed articles ``ids``, with their ``terms`` and ``meta``.

        Only their rows are computed; the others are kept, and new rows go into spare
        capacity (see :func:`~related_posts.store.grow_rows`), so one article costs
        milliseconds at any site size. With re-ranking, ``neighbourhoods(topic, rows)``
        gives the new rows' neighbourhoods among the grown fused rows ``topic``; the other
        rows keep theirs (the caller makes sure no other row's neighbourhood named a
        changed article). Not for a space with a calibrated floor, which depends on every
        article (``ValueError``: rebuild it with :func:`build_ranking_table`). This table
        must not be used afterwards.
        """
        if not self.can_grow_by(meta) or (self.options.expand and neighbourhoods is None):
            raise ValueError("a space with a calibrated floor or without a label part for "
                             "new labels, or a re-ranked one without the new rows' "
                             "neighbourhoods, cannot grow: rebuild it instead")
        spares = self.__dict__
        rows = np.array([plain.row_of[i] for i in ids], dtype=np.int64)
        total = len(plain)
        fused = fused_rows(plain.matrix[rows], terms, [m.labels for m in meta], self.layout,
                           self.options)
        if not self.layout.fused:
            topic, topic_spare = plain.matrix, None  # the fused space is the plain one
        else:
            topic, topic_spare = grow_rows(self.topic, spares.get("_topic_spare"), total,
                                           rows, fused)
        story, story_spare = grow_rows(self.story, spares.get("_story_spare"), total,
                                       rows, _story_rows(terms, self.options))
        all_meta = list(self.meta) + [ArticleMeta()] * (total - len(self.meta))
        for row, item in zip(rows.tolist(), meta):
            all_meta[row] = item
        matrix, matrix_spare = topic, topic_spare
        if self.options.expand and neighbourhoods is not None:
            indices, weights = neighbourhoods(topic, rows)
            expanded = expanded_rows(topic[rows], indices, weights, topic,
                                     plain.matrix.shape[1], self.options)
            matrix, matrix_spare = grow_rows(self.matrix, spares.get("_spare"), total, rows,
                                             expanded)
        grown = RankingTable(ids=plain.ids, content_hashes=plain.content_hashes, matrix=matrix,
                             order=plain.order, dense=plain.matrix, story=story, topic=topic,
                             meta=tuple(all_meta), options=self.options)
        plain.hand_over(grown, None)
        grown.__dict__.update(_spare=matrix_spare, _topic_spare=topic_spare,
                              _story_spare=story_spare)
        return grown


def _story_rows(terms: Sequence[Terms], options: RankingOptions) -> np.ndarray:
    if options.same_story is None:
        return np.zeros((len(terms), 0), dtype=STORY_DTYPE)
    return shingle_matrix(terms).astype(STORY_DTYPE)


def nearest_others(matrix: np.ndarray, m: int, order: np.ndarray | None = None,
                   progress: Callable[[int], object] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``m`` nearest other rows (indices, exact scores), best first; equal
    scores in row order, or in ``order`` (each row's place in id order) when given."""
    indices, scores = all_pairs_top_k(matrix, min(m + 1, len(matrix)), order=order,
                                      progress=progress)
    # Drop the row itself; an exact duplicate may tie with it, so look for it by index.
    own = indices == np.arange(len(matrix))[:, None]
    keep = ~own
    keep[~own.any(axis=1), -1] = False  # the row was not returned: drop the last instead
    width = indices.shape[1] - 1
    return (indices[keep].reshape(len(matrix), width),
            scores[keep].reshape(len(matrix), width))


def find_neighbourhoods(topic: np.ndarray, m: int, order: np.ndarray | None = None,
                        rows: np.ndarray | None = None,
                        progress: Callable[[int], object] | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The re-ranking neighbourhood of each of ``rows`` (default: every row) of the
    fused rows ``topic``: its ``m`` nearest other rows, best first (-1 where the site
    has fewer), and their float32 :func:`neighbour_weights`."""
    if rows is None:
        indices, scores = nearest_others(topic, m, order, progress)
    else:
        rows = np.asarray(rows, dtype=np.int64)
        indices, scores = top_k(topic[rows], topic, m, exclude=rows[:, None].tolist(),
                                order=order, max_norm=UNIT_NORM)
    found = np.full((len(indices), m), -1, dtype=np.int64)
    weights = np.zeros((len(indices), m), dtype=np.float32)
    width = min(m, indices.shape[1])
    found[:, :width] = np.where(np.isfinite(scores[:, :width]), indices[:, :width], -1)
    if width:
        weights[:, :width] = neighbour_weights(scores[:, :width])
    return found, weights


def calibrate_floor(matrix: np.ndarray, quantile: float, seed: int = 0,
                    pairs: int = FLOOR_PAIRS) -> float | None:
    """The ``quantile`` of the scores of random pairs of distinct rows (None below 2 rows)."""
    n = len(matrix)
    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n, size=pairs)
    right = (left + rng.integers(1, n, size=pairs)) % n  # never the row itself
    scores = np.einsum("ij,ij->i", matrix[left].astype(np.float64), matrix[right].astype(np.float64))
    return round(float(np.quantile(scores, quantile)), SCORE_DECIMALS)


def build_ranking_table(table: VectorTable, terms: Sequence[Terms],
                        meta: Sequence[ArticleMeta], options: RankingOptions,
                        neighbourhoods: Neighbourhoods | None = None) -> RankingTable:
    """The ranking space over ``table`` (row-aligned ``terms`` and ``meta``).

    Built a slice of rows at a time, so that no whole-site temporary is made besides the
    result: ``terms`` may be a lazy sequence that reads each slice from the store. With
    re-ranking, ``neighbourhoods`` gives each row's neighbourhood from the table before
    re-ranking (``(indices, weights)``, as :func:`find_neighbourhoods` returns them; a
    refresh reads the frozen ones from the store); by default every one is found afresh.
    """
    if not (len(terms) == len(meta) == len(table)):
        raise ValueError(f"{len(table)} vectors but {len(terms)} term lists and {len(meta)} "
                         "metadata rows: they must be row-aligned")
    dense = np.asarray(table.matrix, dtype=np.float32)
    n = len(table)
    layout = Layout.of(options, dense.shape[1], labels=any(m.labels for m in meta))
    # Both get spare rows, like the store's vectors, for add(update_lists=True) to grow into.
    topic, spare = ((dense, None) if not layout.fused else with_spare_rows(n, layout.width))
    story, story_spare = with_spare_rows(n, 0 if options.same_story is None else SHINGLE_DIMS,
                                         STORY_DTYPE)
    for start in range(0, n, ROW_CHUNK):
        stop = min(start + ROW_CHUNK, n)
        chunk = terms[start:stop]
        if layout.fused:
            topic[start:stop] = fused_rows(dense[start:stop], chunk,
                                           [m.labels for m in meta[start:stop]], layout, options)
        story[start:stop] = _story_rows(chunk, options)

    def with_matrix(matrix: np.ndarray, floor: float | None = None) -> RankingTable:
        return RankingTable(ids=list(table.ids), content_hashes=list(table.content_hashes),
                            matrix=matrix, order=table.order, dense=dense, story=story,
                            topic=topic, meta=tuple(meta), options=options, floor=floor)

    matrix, matrix_spare = topic, spare
    if options.expand and n:
        indices, weights = (neighbourhoods or _found_afresh)(with_matrix(topic))
        matrix, matrix_spare = with_spare_rows(n, topic.shape[1])
        expanded_rows(topic, indices, weights, topic, dense.shape[1], options, out=matrix)
    floor = (calibrate_floor(matrix, options.floor_quantile)
             if options.floor_quantile is not None else None)
    built = with_matrix(matrix, floor)
    # Spare rows for add(update_lists=True) to grow into: the searched rows' own (None
    # when they are the plain vectors, whose table has them), the fused rows', the
    # shingle rows'.
    built.__dict__.update(_spare=matrix_spare, _topic_spare=spare, _story_spare=story_spare)
    return built


def _found_afresh(table: RankingTable) -> tuple[np.ndarray, np.ndarray]:
    return find_neighbourhoods(table.topic, table.options.expand, table.order)


def query_row(table: RankingTable, dense: np.ndarray, terms: Terms,
              labels: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """An article that is not in ``table`` (a new text, with its ``labels`` if any) in the
    table's ranking space: its searched row, and its fused row before re-ranking (what
    :func:`explain` reads its parts from)."""
    options = table.options
    layout = table.layout
    dense = np.asarray(dense, dtype=np.float32)[None, :]
    lexical = (lexical_matrix([terms], options.lexical_dims, options.ignore_terms)
               if layout.lexical_dims else np.zeros((1, 0), dtype=np.float32))
    label_part = (label_matrix([labels]) if layout.label_dims
                  else np.zeros((1, 0), dtype=np.float32))
    base = fuse(dense, lexical, label_part, layout)
    if options.expand == 0 or len(table) == 0:
        return base[0], base[0]
    # Its neighbourhood is found among the stored articles, as a new article's is.
    indices, scores = top_k(base, table.topic, options.expand, order=table.order,
                            max_norm=UNIT_NORM)
    indices = np.where(np.isfinite(scores), indices, -1)
    weights = neighbour_weights(scores).astype(np.float32)
    return (expanded_rows(base, indices, weights, table.topic, table.dense.shape[1], options)[0],
            base[0])


def features(table: RankingTable, rows: Sequence[int], options: RankingOptions,
             query: int | None = None, query_meta: ArticleMeta | None = None) -> Features:
    """:class:`Features` of candidate ``rows`` for the article at row ``query`` (or for an
    article outside the table described by ``query_meta``), as ``options`` rank them."""
    picked = np.asarray(rows, dtype=np.int64)
    meta = [table.meta[r] for r in picked.tolist()]
    own = table.meta[query] if query is not None else (query_meta or ArticleMeta())
    return Features(
        story=table.story[picked].astype(np.float32) if table.story.shape[1] else None,
        # Only diversity compares topics: the rows are not copied for nothing.
        topic=table.topic[picked] if options.mmr is not None else None,
        published=[m.published for m in meta],
        sources=[m.source for m in meta],
        langs=[m.lang for m in meta],
        labels=[m.labels for m in meta],
        query_published=own.published,
        query_lang=own.lang,
    )


def rank_row(table: RankingTable, indices: np.ndarray, scores: np.ndarray,
             query: int | None, query_id: str | None, query_hash: str | None,
             options: RankingOptions, query_vector: np.ndarray | None = None,
             query_meta: ArticleMeta | None = None) -> list[tuple[str, float]]:
    """:func:`rank` one row of search output (``top_k`` over ``table.matrix``).

    Pinned ids that the search did not return are added with their exact scores, so a
    pin shows whatever its score. ``query_vector`` is the query's searched vector when
    it is not a row of the table.
    """
    valid = indices >= 0
    picked = indices[valid].tolist()
    values = scores[valid].tolist()
    vector = table.matrix[query] if query is not None else query_vector
    missing = [table.row_of[p] for p in options.pinned(query_id)
               if p in table.row_of and table.row_of[p] not in set(picked)]
    if missing and vector is not None:
        exact = exact_scores(np.asarray(vector, dtype=np.float32)[None, :], table.matrix,
                             np.asarray([missing]))[0]
        picked += missing
        values += [round(float(s), SCORE_DECIMALS) for s in exact]
    return rank(
        [table.ids[i] for i in picked],
        values,
        [table.content_hashes[i] for i in picked],
        query_id=query_id,
        query_hash=query_hash,
        options=options,
        features=features(table, picked, options, query, query_meta),
        floor=table.floor,
    )


def merge_offers(table: RankingTable, target: int, links: Sequence[tuple[str, float]],
                 offered: Sequence[tuple[str, float]], options: RankingOptions
                 ) -> list[tuple[str, float]] | None:
    """The list of row ``target`` after new articles that beat its weakest link enter it,
    or None when only a new search can tell (the list was short, a newcomer is the same
    story as a link, or the merge left the list shorter): then candidates beyond the
    stored links may matter.
    """
    linked = {i for i, _ in links}
    offered = [(i, s) for i, s in offered if i not in linked]  # already in: nothing to enter
    if not offered:
        return list(links)
    if len(links) < options.k:
        return None
    if options.same_story is not None and table.story.shape[1]:
        link_rows = [table.row_of[i] for i, _ in links]
        new_rows = [table.row_of[i] for i, _ in offered]
        if link_rows and new_rows:
            similar = (table.story[new_rows].astype(np.float32)
                       @ table.story[link_rows].astype(np.float32).T)
            if (similar >= options.same_story).any():
                return None
    candidates = sorted(list(links) + list(offered), key=lambda pair: (-pair[1], pair[0]))
    rows = [table.row_of[i] for i, _ in candidates]
    merged = rank(
        [i for i, _ in candidates],
        [s for _, s in candidates],
        [table.content_hashes[r] for r in rows],
        query_id=table.ids[target],
        query_hash=table.content_hashes[target],
        options=options,
        features=features(table, rows, options, target),
        floor=table.floor,
    )
    if len(merged) < len(links):
        return None
    return merged


def explain(table: RankingTable, query: int | None, links: Sequence[tuple[str, float]],
            query_fused: np.ndarray | None = None, query_meta: ArticleMeta | None = None
            ) -> list[dict[str, Any]]:
    """Why each link is there: its score components (:func:`~.score.score_parts`), and
    ``time``, ``background`` or ``follow-up``, when both articles are dated. For an
    article outside the table, ``query_fused`` is its fused row before re-ranking (as
    :func:`query_row` gives it)."""
    options = table.options
    layout = table.layout
    fused_q = table.topic[query] if query is not None else query_fused
    if fused_q is None:
        raise ValueError("explain needs a row of the table or the query's fused row")
    fused_q = np.asarray(fused_q, dtype=np.float32)[None, :]
    own = table.meta[query] if query is not None else (query_meta or ArticleMeta())
    rows = [table.row_of[article_id] for article_id, _ in links]
    topic = table.topic[rows]
    dense_q = table.dense[query] if query is not None else layout.part(fused_q, layout.dense)[0]
    dense_all = (table.dense[rows] @ dense_q).tolist()
    fused_all = (topic @ fused_q[0]).tolist()

    def cosines(columns: slice) -> list[float] | None:
        if columns.stop == columns.start:
            return None
        return (layout.part(topic, columns) @ layout.part(fused_q, columns)[0]).tolist()

    lexical_all, label_all = cosines(layout.lexical), cosines(layout.labels)
    out = []
    for position, ((_, score), row) in enumerate(zip(links, rows)):
        why = score_parts(options, dense_all[position],
                          None if lexical_all is None else lexical_all[position],
                          None if label_all is None else label_all[position],
                          fused_all[position], score)
        label = time_label(own.published, table.meta[row].published)
        if label is not None:
            why["time"] = label
        out.append(why)
    return out


def explanations(table: RankingTable, lists: Mapping[str, Sequence[tuple[str, float]]]
                 ) -> dict[str, list[dict[str, Any]]]:
    """:func:`explain` for every list of ``lists`` (keyed by article id in ``table``)."""
    return {article_id: explain(table, table.row_of[article_id], links)
            for article_id, links in lists.items()}
