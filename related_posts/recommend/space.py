"""The space lists are searched in: the model's vectors fused with the lexical signal,
and, as an option, re-ranked by each article's neighbourhood.

A :class:`RankingTable` is a :class:`~related_posts.store.VectorTable` whose ``matrix``
rows are unit vectors in which a dot product *is* the ranking score, so the exact and
approximate searches, the incremental refresh and its exactness rules work unchanged on
it. With ``lexical_weight`` w, a row is ``[dense / sqrt(1+w), lexical * sqrt(w/(1+w))]``
and the dot product of two rows is (dense cosine + w * lexical cosine) / (1 + w).

Neighbourhood re-ranking (``expand`` = m) replaces each article's dense and lexical parts
by themselves plus ``expand_weight`` times the weighted mean of its m nearest neighbours
(weights: how far each neighbour's score lies above the m-th one), then renormalises:
the query and every candidate are pulled towards the topic they sit in, which is what
label-level relevance rewards (database-side augmentation, as in image retrieval).

Everything here is pure except :func:`ranking_table_for_store`, which reads (and caches)
what the table needs through the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..article import Article
from ..store import Store, VectorTable, grow_rows, with_spare_rows
from .lexical import (ROW_CHUNK, SHINGLE_DIMS, Terms, article_terms, lexical_matrix,
                      shingle_matrix)
from .neighbours import (SCORE_DECIMALS, UNIT_NORM, all_pairs_top_k, exact_scores,
                         top_k)
from .rank import Features, RankingOptions, published_days, rank, time_label

#: Shingle vectors are kept in half precision: only compared against a threshold (0.5),
#: they need three digits, and at 100k articles this saves 51 MB.
STORY_DTYPE = np.float16
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
    def of(cls, article: Article) -> "ArticleMeta":
        return cls(published_days(article.published), article.source, article.lang,
                   tuple(article.labels))


@dataclass(frozen=True, kw_only=True)
class RankingTable(VectorTable):
    """A vector table in the ranking space, with what :func:`rank` needs per row.

    ``dense`` holds the model's vectors (shared with the plain table, not copied);
    ``topic`` the fused vectors before re-ranking (the same array as ``matrix`` without
    re-ranking), compared for diversity and holding the lexical vectors too (see
    :meth:`lexical_rows`); ``story`` the shingle vectors compared for same-story
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
    def has_lexical(self) -> bool:
        """Whether the rows hold a lexical part (fusion on)."""
        return self.options.lexical_weight > 0

    def lexical_rows(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """The hashed lexical vectors of ``rows`` (before fusion and re-ranking), read
        back from the fused rows rather than kept twice (a 100k site saves 400 MB)."""
        if not self.has_lexical:
            return np.zeros((len(rows), 0), dtype=np.float32)
        return _lexical_part(self.topic[rows], self.dense.shape[1], self.options.lexical_weight)

    def with_articles(self, plain: VectorTable, ids: Sequence[str], terms: Sequence[Terms],
                      meta: Sequence[ArticleMeta]) -> "RankingTable":
        """This space after its plain table grew into ``plain`` (``VectorTable.with_rows``)
        by the new or changed articles ``ids``, with their ``terms`` and ``meta``.

        Only their rows are computed; the others are kept, and new rows go into spare
        capacity (see :func:`~related_posts.store.grow_rows`), so one article costs
        milliseconds at any site size. Only for spaces in which a row depends on its own
        article alone: no re-ranking, no calibrated floor (``ValueError`` otherwise;
        rebuild with :func:`build_ranking_table`). This table must not be used afterwards.
        """
        if self.options.expand or self.floor is not None:
            raise ValueError("a re-ranked space or one with a calibrated floor depends on "
                             "every article: rebuild it instead of growing it")
        rows = np.array([plain.row_of[i] for i in ids], dtype=np.int64)
        total = len(plain)
        fused = _fused_rows(plain.matrix[rows], terms, self.options)
        if self.options.lexical_weight == 0:
            matrix, spare = plain.matrix, None  # the fused space is the plain one
        else:
            matrix, spare = grow_rows(self.matrix, self.__dict__.get("_spare"), total, rows, fused)
        story, story_spare = grow_rows(self.story, self.__dict__.get("_story_spare"), total,
                                       rows, _story_rows(terms, self.options))
        all_meta = list(self.meta) + [ArticleMeta()] * (total - len(self.meta))
        for row, item in zip(rows.tolist(), meta):
            all_meta[row] = item
        grown = RankingTable(ids=plain.ids, content_hashes=plain.content_hashes, matrix=matrix,
                             order=plain.order, dense=plain.matrix, story=story, topic=matrix,
                             meta=tuple(all_meta), options=self.options)
        plain.hand_over(grown, spare)
        if story_spare is not None:
            grown.__dict__["_story_spare"] = story_spare
        return grown


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def fuse(dense: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """Rows whose dot products are (dense cosine + weight * lexical cosine) / (1 + weight)."""
    dense = np.asarray(dense, dtype=np.float32)
    if weight == 0:
        return dense
    out = np.empty((len(dense), dense.shape[1] + lexical.shape[1]), dtype=np.float32)
    # float32 scale factors keep the arithmetic (and its temporaries) in float32.
    np.multiply(dense, np.float32(1.0 / np.sqrt(1.0 + weight)), out=out[:, :dense.shape[1]])
    np.multiply(np.asarray(lexical, dtype=np.float32), np.float32(np.sqrt(weight / (1.0 + weight))),
                out=out[:, dense.shape[1]:])
    return out


def _lexical_part(fused: np.ndarray, dense_dims: int, weight: float) -> np.ndarray:
    """The lexical vectors inside fused rows, unscaled (inverse of :func:`fuse`)."""
    return (fused[:, dense_dims:] / np.sqrt(weight / (1.0 + weight))).astype(np.float32)


def _fused_rows(dense: np.ndarray, terms: Sequence[Terms], options: RankingOptions
                ) -> np.ndarray:
    """:func:`fuse` of ``dense`` rows with the lexical vectors of their ``terms``."""
    if options.lexical_weight == 0:
        return np.asarray(dense, dtype=np.float32)
    return fuse(dense, lexical_matrix(terms, options.lexical_dims, options.ignore_terms),
                options.lexical_weight)


def _story_rows(terms: Sequence[Terms], options: RankingOptions) -> np.ndarray:
    if options.same_story is None:
        return np.zeros((len(terms), 0), dtype=STORY_DTYPE)
    return shingle_matrix(terms).astype(STORY_DTYPE)


def neighbour_weights(scores: np.ndarray) -> np.ndarray:
    """Weights of each row's neighbours (best first): how far each score lies above the
    last one, normalised to sum 1 (equal weights when all scores are equal)."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    last = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
    weights = np.where(finite, np.maximum(scores - last, 0.0), 0.0)
    sums = weights.sum(axis=1, keepdims=True)
    uniform = finite / np.maximum(finite.sum(axis=1, keepdims=True), 1)
    return np.where(sums > 0, weights / np.where(sums > 0, sums, 1.0), uniform)


def expand(part: np.ndarray, indices: np.ndarray, weights: np.ndarray,
           strength: float) -> np.ndarray:
    """Each row plus ``strength`` times the weighted mean of its neighbours' rows, unit length."""
    part = np.asarray(part, dtype=np.float64)
    safe = np.where(indices >= 0, indices, 0)
    mean = np.einsum("ij,ijd->id", weights, part[safe])
    return _unit(part + strength * mean).astype(np.float32)


def nearest_others(matrix: np.ndarray, m: int, order: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``m`` nearest other rows (indices, exact scores), best first; equal
    scores in row order, or in ``order`` (each row's place in id order) when given."""
    indices, scores = all_pairs_top_k(matrix, min(m + 1, len(matrix)), order=order)
    # Drop the row itself; an exact duplicate may tie with it, so look for it by index.
    own = indices == np.arange(len(matrix))[:, None]
    keep = ~own
    keep[~own.any(axis=1), -1] = False  # the row was not returned: drop the last instead
    width = indices.shape[1] - 1
    return (indices[keep].reshape(len(matrix), width),
            scores[keep].reshape(len(matrix), width))


def ranking_matrix(dense: np.ndarray, lexical: np.ndarray, options: RankingOptions,
                   neighbours: tuple[np.ndarray, np.ndarray] | None = None,
                   order: np.ndarray | None = None) -> np.ndarray:
    """The rows searched for lists: fused and, with ``options.expand``, expanded.

    ``neighbours`` (indices, scores of each row's ``expand`` nearest rows in the fused
    space) are found here when not given.
    """
    base = fuse(dense, lexical, options.lexical_weight)
    if options.expand == 0 or len(base) < 2:
        return base
    if neighbours is None:
        neighbours = nearest_others(base, options.expand, order)
    indices, scores = neighbours
    weights = neighbour_weights(scores)
    dense_x = expand(dense, indices, weights, options.expand_weight)
    if options.lexical_weight == 0:
        return dense_x
    lexical_x = expand(lexical, indices, weights, options.expand_weight)
    return fuse(dense_x, lexical_x, options.lexical_weight)


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
                        meta: Sequence[ArticleMeta], options: RankingOptions) -> RankingTable:
    """The ranking space over ``table`` (row-aligned ``terms`` and ``meta``).

    Built a slice of rows at a time, so that no whole-site temporary is made besides the
    result: ``terms`` may be a lazy sequence that reads each slice from the store.
    """
    if not (len(terms) == len(meta) == len(table)):
        raise ValueError(f"{len(table)} vectors but {len(terms)} term lists and {len(meta)} "
                         "metadata rows: they must be row-aligned")
    dense = np.asarray(table.matrix, dtype=np.float32)
    n = len(table)
    lexical_dims = options.lexical_dims if options.lexical_weight > 0 else 0
    # Both get spare rows, like the store's vectors, for add(update_lists=True) to grow into.
    topic, spare = ((dense, None) if lexical_dims == 0
                    else with_spare_rows(n, dense.shape[1] + lexical_dims))
    story, story_spare = with_spare_rows(n, 0 if options.same_story is None else SHINGLE_DIMS,
                                         STORY_DTYPE)
    for start in range(0, n, ROW_CHUNK):
        stop = min(start + ROW_CHUNK, n)
        chunk = terms[start:stop]
        if lexical_dims:
            topic[start:stop] = _fused_rows(dense[start:stop], chunk, options)
        story[start:stop] = _story_rows(chunk, options)
    matrix = topic
    if options.expand:
        lexical = (_lexical_part(topic, dense.shape[1], options.lexical_weight)
                   if lexical_dims else np.zeros((n, 0), dtype=np.float32))
        matrix = ranking_matrix(dense, lexical, options, order=table.order)
    floor = (calibrate_floor(matrix, options.floor_quantile)
             if options.floor_quantile is not None else None)
    built = RankingTable(ids=list(table.ids), content_hashes=list(table.content_hashes),
                         matrix=matrix, order=table.order, dense=dense, story=story,
                         topic=topic, meta=tuple(meta), options=options, floor=floor)
    if spare is not None and matrix is topic:
        built.__dict__["_spare"] = spare
    built.__dict__["_story_spare"] = story_spare
    return built


class _StoredTerms(Sequence[Terms]):
    """The cached terms of ``ids``, read from the store a slice at a time."""

    def __init__(self, store: Store, ids: Sequence[str]) -> None:
        self.store, self.ids = store, ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):  # type: ignore[override]
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        wanted = self.ids[index]
        found = self.store.lexical_terms(wanted)
        return [found[i][1] for i in wanted]


def ranking_table_for_store(store: Store, table: VectorTable, options: RankingOptions
                            ) -> RankingTable:
    """:func:`build_ranking_table` for the articles of ``store``; the terms of articles
    that lack them (new or changed text) are computed and cached in the store first."""
    cached = store.lexical_term_hashes()
    missing = [i for i, h in zip(table.ids, table.content_hashes) if cached.get(i) != h]
    for start in range(0, len(missing), ROW_CHUNK):
        store.write_lexical_terms({article.id: (article.content_hash, article_terms(article.text))
                                   for article in store.articles_by_id(missing[start:start + ROW_CHUNK])})
    meta_rows = store.article_meta()
    meta = [ArticleMeta(published_days(m[0]), m[1], m[2], m[3])
            for m in (meta_rows.get(i, (None, None, None, ())) for i in table.ids)]
    return build_ranking_table(table, _StoredTerms(store, table.ids), meta, options)


def query_row(table: RankingTable, dense: np.ndarray, terms: Terms
              ) -> tuple[np.ndarray, np.ndarray]:
    """An article that is not in ``table`` (a new text) in the table's ranking space:
    its searched vector and its lexical vector."""
    options = table.options
    dense = np.asarray(dense, dtype=np.float32)[None, :]
    lexical = (lexical_matrix([terms], options.lexical_dims, options.ignore_terms)
               if table.has_lexical else np.zeros((1, 0), dtype=np.float32))
    if options.expand == 0 or len(table) == 0:
        return fuse(dense, lexical, options.lexical_weight)[0], lexical[0]
    found, scores = top_k(fuse(dense, lexical, options.lexical_weight), table.topic, options.expand,
                          order=table.order, max_norm=UNIT_NORM)
    weights = neighbour_weights(scores)
    safe = np.where(found >= 0, found, 0)
    dense_x = _unit(dense + options.expand_weight * np.einsum("ij,ijd->id", weights, table.dense[safe]))
    if options.lexical_weight == 0:
        return dense_x[0].astype(np.float32), lexical[0]
    neighbours = table.lexical_rows(safe.ravel()).reshape(*safe.shape, -1)
    lexical_x = _unit(lexical + options.expand_weight
                      * np.einsum("ij,ijd->id", weights, neighbours))
    return fuse(dense_x, lexical_x, options.lexical_weight)[0], lexical[0]


def features(table: RankingTable, rows: Sequence[int], query: int | None = None,
             query_meta: ArticleMeta | None = None) -> Features:
    """:class:`Features` of candidate ``rows`` for the article at row ``query`` (or for an
    article outside the table described by ``query_meta``)."""
    rows = np.asarray(rows, dtype=np.int64)
    meta = [table.meta[r] for r in rows.tolist()]
    own = table.meta[query] if query is not None else (query_meta or ArticleMeta())
    return Features(
        story=table.story[rows].astype(np.float32) if table.story.shape[1] else None,
        topic=table.topic[rows],
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
    picked = [int(i) for i in indices[valid]]
    values = [float(s) for s in scores[valid]]
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
        features=features(table, picked, query, query_meta),
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
        features=features(table, rows, target),
        floor=table.floor,
    )
    if len(merged) < len(links):
        return None
    return merged


def explain(table: RankingTable, query: int | None, links: Sequence[tuple[str, float]],
            query_dense: np.ndarray | None = None, query_lexical: np.ndarray | None = None,
            query_meta: ArticleMeta | None = None) -> list[dict[str, Any]]:
    """Why each link is there: its score components, rounded for storage.

    ``dense`` and ``lexical`` are the two cosines before fusion, ``score`` the ranking
    score (after re-ranking, decay and fusion); with neighbourhood re-ranking on,
    ``expanded`` is how much re-ranking added over the fused score; ``time`` is
    ``background`` or ``follow-up`` when both articles are dated.
    """
    options = table.options
    dense_q = table.dense[query] if query is not None else query_dense
    lexical_q = table.lexical_rows([query])[0] if query is not None else query_lexical
    own = table.meta[query] if query is not None else (query_meta or ArticleMeta())
    rows = [table.row_of[article_id] for article_id, _ in links]
    lexical_on = table.has_lexical and lexical_q is not None
    dense_all = (table.dense[rows] @ dense_q).tolist()
    lexical_all = (table.lexical_rows(rows) @ lexical_q).tolist() if lexical_on else []
    out = []
    for position, ((article_id, score), row) in enumerate(zip(links, rows)):
        dense = dense_all[position]
        why: dict[str, Any] = {"dense": round(dense, 4)}
        if lexical_on:
            lexical = lexical_all[position]
            why["lexical"] = round(lexical, 4)
            fused = (dense + options.lexical_weight * lexical) / (1.0 + options.lexical_weight)
        else:
            fused = dense
        why["score"] = round(float(score), 4)
        if options.expand:
            why["expanded"] = round(float(score) - fused, 4)
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
