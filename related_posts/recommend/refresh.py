"""Keep every related list of a store current, incrementally and resumably.

A refresh (1) embeds articles that are new or changed, batch by batch, (2) recomputes the
lists that are due (new or changed articles, lists whose links changed or vanished, lists
made with another k or model), and (3) offers each new or changed article to the lists of
all other articles: it enters a list only where it beats that list's weakest link, so the
site is never recomputed for a few new posts. With neighbourhood re-ranking, the articles
that need a neighbourhood (new, changed, or naming a changed or removed article) get one
first, which makes their lists due like a changed article's (see
:func:`settled_neighbourhoods`).

Every block of work is one transaction (its lists, and the older lists it changed), so a
refresh killed at any moment leaves the last committed lists in place and the next run
picks up the blocks that did not commit. Readers keep answering from committed lists
(SQLite WAL); a second refresh of the same store waits for nobody: it is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol, cast

import numpy as np

from ..article import Terms, vector_model_id
from ..store import Store, VectorTable
from ..store.lock import refresh_lock
from .embed import Embedder, article_vectors
from .lexical import ROW_CHUNK, article_terms
from .neighbours import (
    APPROXIMATE_FROM,
    SCORE_DECIMALS,
    UNIT_NORM,
    ApproximateIndex,
    all_pairs_top_k,
    exact_scores,
    pair_block_rows,
    top_k,
)
from .rank import RankingOptions, published_days, rank
from .score import neighbourhood_fingerprint
from .space import (
    REFIND_SHARE,
    ArticleMeta,
    Neighbourhoods,
    RankingTable,
    build_ranking_table,
    explanations,
    find_neighbourhoods,
    merge_offers,
    rank_row,
)

SAMPLE_SIZE = 5
LIST_BLOCK = 1000  # lists per transaction: small enough to lose little when killed
NEIGHBOUR_MODES = ("auto", "exact", "approximate")


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> Any: ...

    def close(self) -> Any: ...


ProgressFactory = Callable[..., ProgressBar]


class _NoProgress:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class RefreshReport:
    """What a refresh did (or, with ``dry_run``, would do)."""

    embedded: int = 0
    recomputed: int = 0
    propagated: int = 0
    articles: int = 0
    seconds: float = 0.0
    full: bool = False
    dry_run: bool = False
    neighbours: str = "exact"
    #: Re-ranking neighbourhoods found (new, changed, or all of them again).
    neighbourhoods: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lists(self) -> int:
        """Lists written: recomputed ones plus older ones a new article entered."""
        return self.recomputed + self.propagated

    def to_dict(self) -> dict[str, Any]:
        return {
            "embedded": self.embedded,
            "recomputed": self.recomputed,
            "propagated": self.propagated,
            "lists": self.lists,
            "articles": self.articles,
            "seconds": round(self.seconds, 3),
            "full": self.full,
            "dry_run": self.dry_run,
            "neighbours": self.neighbours,
            "neighbourhoods": self.neighbourhoods,
            "sample": self.sample,
        }


def _return_freed_blocks_to_the_system() -> None:
    """Have glibc serve allocations of 1 MiB or more with mmap, so that the blocks a
    search frees go back to the system. Left to itself, glibc raises that threshold as
    large blocks are freed and then keeps them in its heap: a full refresh of 100k
    articles peaked at 1,675 MiB that way, against 1,442 MiB with the threshold fixed.
    Only glibc has ``mallopt``; elsewhere nothing changes."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)  # -3: M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


class _DryRun(Exception):
    """Raised to roll back everything a dry run wrote."""


def refresh_store(
    store: Store,
    embedder: Embedder | Callable[[], Embedder],
    options: RankingOptions,
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: ProgressFactory | None = None,
    batch_size: int = 64,
    list_block: int = LIST_BLOCK,
    neighbours: str = "auto",
) -> tuple[RefreshReport, VectorTable]:
    """Bring every list of ``store`` up to date; see the module docstring.

    ``neighbours`` is ``exact`` (blocked products over every vector), ``approximate`` (an
    HNSW index, for very large sites) or ``auto``: approximate only when at least 10% of
    a site of ``APPROXIMATE_FROM`` articles or more is due. Returns the report and the
    vector table the lists were computed from.
    """
    if neighbours not in NEIGHBOUR_MODES:
        raise ValueError(f"neighbours must be one of {', '.join(NEIGHBOUR_MODES)}, "
                         f"got {neighbours!r}")
    _return_freed_blocks_to_the_system()
    started = time.perf_counter()
    report = RefreshReport(full=full, dry_run=dry_run)
    bar_factory = progress or _NoProgress
    with refresh_lock(store.path):
        try:
            if dry_run:
                # Everything below runs in one transaction that is rolled back at the end;
                # the inner batches become savepoints.
                with store.db.atomic():
                    table = _run(store, embedder, options, full, report, bar_factory,
                                 batch_size, list_block, neighbours)
                    raise _DryRun
            table = _run(store, embedder, options, full, report, bar_factory, batch_size,
                         list_block, neighbours)
        except _DryRun:
            pass
    report.seconds = time.perf_counter() - started
    return report, table


def _run(store: Store, embedder: Embedder | Callable[[], Embedder], options: RankingOptions,
         full: bool,
         report: RefreshReport, bar_factory: ProgressFactory, batch_size: int,
         list_block: int, neighbours: str) -> VectorTable:
    bound = store.model()
    model_id = bound[0] if bound else vector_model_id(_resolve(embedder).model_id)
    pending = store.unembedded(model_id)
    if pending:
        embedder = _resolve(embedder)
        store.bind_model(vector_model_id(embedder.model_id), embedder.dimension)
        bar = bar_factory(total=len(pending), desc="embedding", unit="article")
        for start in range(0, len(pending), batch_size):
            batch = pending[start : start + batch_size]
            vectors = article_vectors(embedder, [a.title for a in batch], [a.body for a in batch])
            store.write_vectors([a.id for a in batch], [a.content_hash for a in batch],
                                vectors, model_id)
            report.embedded += len(batch)
            bar.update(len(batch))
        bar.close()

    table = store.vectors()
    report.articles = len(table)

    def lists_due() -> tuple[list[str], set[str]]:
        if full:
            return list(table.ids), set()
        due_ids, changed = store.due_lists(model_id, options.k, options.fingerprint())
        if due_ids and not options.incremental:
            # Diversity, decay or a calibrated floor make a list depend on other lists'
            # articles: one change can move any list.
            return list(table.ids), set()
        return due_ids, changed

    due_ids, changed = lists_due()
    fingerprint = neighbourhood_fingerprint(options, model_id)
    reranking = options.expand > 0 and (bool(due_ids)
                                        or store.lacks_neighbourhoods(model_id, fingerprint))
    if not due_ids and not reranking:
        return table
    # Lists are searched in the ranking space (fused, maybe re-ranked); the plain model
    # vectors are what the caller gets back.
    plain, table = table, ranking_table_for_store(
        store, table, options,
        settled_neighbourhoods(store, fingerprint, full, bar_factory, report=report) if reranking
        else None)
    if reranking:
        # Articles whose neighbourhood was found again are due now, as are the lists
        # that link to them.
        due_ids, changed = lists_due()
        if not due_ids:
            return plain
    rows = np.array([table.row_of[i] for i in due_ids], dtype=np.int64)
    is_due = np.zeros(len(table), dtype=bool)
    is_due[rows] = True
    entry = entry_scores(store, table, options.k)
    approximate = neighbours == "approximate" or (
        neighbours == "auto" and len(table) >= APPROXIMATE_FROM and len(rows) * 10 >= len(table)
    )
    report.neighbours = "approximate" if approximate else "exact"
    if approximate:
        bar = bar_factory(total=1, desc="building the approximate index", unit="index")
        index = ApproximateIndex(table.matrix)
        bar.update(1)
        bar.close()
        search = lambda block: index.top_k(table.matrix[block], options.candidates)  # noqa: E731
    elif len(rows) == len(table) and len(table) > pair_block_rows(len(table)):
        # Every list is due: each pair's product once (about 60% of the time of blocked
        # searches), then lists are ranked and committed block by block as below.
        bar = bar_factory(total=len(table), desc="neighbours", unit="article")
        found = all_pairs_top_k(table.matrix, options.candidates, order=table.order,
                                progress=bar.update)
        bar.close()
        search = lambda block: (found[0][block], found[1][block])  # noqa: E731
    else:
        search = lambda block: top_k(table.matrix[block], table.matrix,  # noqa: E731
                                     options.candidates, order=table.order, max_norm=UNIT_NORM)

    bar = bar_factory(total=len(rows), desc="related lists", unit="article")
    for start in range(0, len(rows), list_block):
        block = rows[start : start + list_block]
        new_rows = [r for r in block if table.ids[r] in changed]
        recomputed, propagated = update_lists(
            store, table, block, search(block), new_rows, is_due, entry, options, model_id,
            report.sample if len(report.sample) < SAMPLE_SIZE else None,
        )
        report.recomputed += recomputed
        report.propagated += propagated
        bar.update(len(block))
    bar.close()
    return plain


class _StoredTerms(Sequence[Terms]):
    """The cached terms of ``ids``, read from the store a slice at a time."""

    def __init__(self, store: Store, ids: Sequence[str], computed: dict[str, Terms] | None = None) -> None:
        self.store, self.ids, self.computed = store, ids, computed or {}

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        wanted = self.ids[index]
        found = self.store.lexical_terms([i for i in wanted if i not in self.computed])
        return [self.computed[i] if i in self.computed else found[i][1] for i in wanted]


def ranking_table_for_store(store: Store, table: VectorTable, options: RankingOptions,
                            neighbourhoods: Neighbourhoods | None = None) -> RankingTable:
    """:func:`build_ranking_table` for the articles of ``store``; the terms of articles
    that lack them (new or changed text) are computed and cached in the store first."""
    cached = store.lexical_term_hashes()
    missing = [i for i, h in zip(table.ids, table.content_hashes) if cached.get(i) != h]
    computed: dict[str, Terms] = {}  # a read-only store's new terms, kept in memory instead
    for start in range(0, len(missing), ROW_CHUNK):
        found = {article.id: (article.content_hash, article_terms(article.text))
                 for article in store.articles_by_id(missing[start:start + ROW_CHUNK])}
        if store.read_only:
            computed.update({i: terms for i, (_, terms) in found.items()})
        else:
            store.write_lexical_terms(found)
    meta_rows = store.article_meta()
    meta = [ArticleMeta(published_days(m[0]), m[1], m[2], m[3])
            for m in (meta_rows.get(i, (None, None, None, ())) for i in table.ids)]
    return build_ranking_table(table, _StoredTerms(store, table.ids, computed), meta, options,
                               neighbourhoods)


def settled_neighbourhoods(store: Store, fingerprint: str, full: bool = False,
                           bar_factory: ProgressFactory = _NoProgress, write: bool = True,
                           report: RefreshReport | None = None) -> Neighbourhoods:
    """How a refresh gets each article's re-ranking neighbourhood (see
    :func:`~.space.build_ranking_table`): the frozen ones from the store where they are
    still valid, new ones found and stored for the others.

    A stored neighbourhood is valid while its article's text is unchanged and it names
    only articles whose text is unchanged too (the store deletes the others when an
    article changes or goes). Neighbourhoods found since every one was last found
    afresh may reach ``REFIND_SHARE`` of the site (articles published since then are
    missing from the older ones); past that, on a ``full`` refresh, and for another
    ``fingerprint`` (:func:`~.score.neighbourhood_fingerprint`), every one is found
    again. Found ones are stored in one transaction with what they make due: the article's own list and the lists that link to it (with
    ``write`` false, for a read, they are only used). ``report`` counts them.
    """
    def settle(table: RankingTable) -> tuple[np.ndarray, np.ndarray]:
        m, n = table.options.expand, len(table)
        indices = np.full((n, m), -1, dtype=np.int64)
        weights = np.zeros((n, m), dtype=np.float32)
        lacking = np.ones(n, dtype=bool)
        state = store.neighbourhood_state()
        # The stored state keeps the fingerprint under its historical key, "space".
        afresh = state is None or full or state.get("space") != fingerprint
        if not afresh:
            wanted = min(m, n - 1)  # a neighbourhood found on a smaller site is short
            stored = store.neighbourhoods()
            # Every stored neighbour id to its row (-1: gone) in one pass: at 100k articles
            # that is 4M lookups, a second as one map() against several in a loop.
            sizes = np.fromiter((len(near) for _, near, _ in stored.values()), np.int64,
                                len(stored))
            flat = np.fromiter(map(table.row_of.get, (i for _, near, _ in stored.values()
                                                      for i in near), repeat(-1)),
                               np.int64, int(sizes.sum()))
            starts = np.concatenate([[0], np.cumsum(sizes)])
            for position, (article_id, (content, _, near_weights)) in enumerate(stored.items()):
                row = table.row_of.get(article_id)
                found = flat[starts[position]:starts[position + 1]]
                if (row is None or content != table.content_hashes[row]
                        or not wanted <= len(found) <= m or (found < 0).any()):
                    continue
                indices[row, :len(found)] = found
                weights[row, :len(found)] = near_weights
                lacking[row] = False
        since = (0 if afresh or state is None else int(state.get("since", 0))) + int(lacking.sum())
        if afresh or since > REFIND_SHARE * n:
            lacking[:], since, afresh = True, 0, True
        rows = np.flatnonzero(lacking)
        if len(rows) == 0:
            return indices, weights
        bar = bar_factory(total=len(rows), desc="neighbourhoods", unit="article")
        found, found_weights = find_neighbourhoods(table.topic, m, table.order,
                                                   rows=None if afresh else rows,
                                                   progress=bar.update if afresh else None)
        bar.update(0 if afresh else len(rows))
        bar.close()
        indices[rows], weights[rows] = found, found_weights
        if report is not None:
            report.neighbourhoods = len(rows)
        if not write:
            return indices, weights
        store.write_neighbourhoods(
            neighbourhood_records(table, rows, indices[rows], weights[rows]),
            {"space": fingerprint, "since": since, "size": n}, everything=afresh)
        return indices, weights
    return settle


def neighbourhood_records(table: VectorTable, rows: np.ndarray, indices: np.ndarray,
                          weights: np.ndarray) -> dict[str, tuple[str, list[str], np.ndarray]]:
    """The neighbourhoods of ``rows`` (row-aligned ``indices`` and ``weights``, as
    :func:`~.space.find_neighbourhoods` gives them) in the form the store keeps them."""
    return {table.ids[r]: (table.content_hashes[r], [table.ids[i] for i in near[near >= 0]],
                           near_weights[near >= 0])
            for r, near, near_weights in zip(rows.tolist(), indices, weights)}


def update_lists(store: Store, table: VectorTable, block: np.ndarray,
                 neighbours: tuple[np.ndarray, np.ndarray], new_rows: Sequence[int],
                 is_due: np.ndarray, entry: np.ndarray, options: RankingOptions, model_id: str,
                 sample: list[dict[str, Any]] | None = None,
                 new_products: np.ndarray | None = None) -> tuple[int, int]:
    """Compute the lists of ``block`` (rows of ``table``) from their ``neighbours``, enter
    the ``new_rows`` among them into other up-to-date lists they beat, and commit both in
    one transaction. ``is_due`` and ``entry`` (each list's entry score) are updated in place; ``new_products``
    (``matrix[new_rows] @ matrix.T``) saves a pass when the caller has it. Returns how
    many lists were recomputed and how many older lists were updated.
    """
    lists = _compute_lists(table, block, neighbours, options)
    updates = _offer_to_other_lists(store, table, new_rows, is_due, entry, options, new_products)
    written = {**lists, **updates}
    if sample is not None:
        _add_to_sample(sample, store, written)
    hashes = {i: table.content_hashes[table.row_of[i]] for i in written}
    why = explanations(table, written) if isinstance(table, RankingTable) else None
    store.write_lists(written, hashes, model_id, options.k, options.fingerprint(), why)
    for article_id, links in written.items():
        entry[table.row_of[article_id]] = _entry_score(links, options.k)
    is_due[block] = False
    return len(lists), len(updates)


def _resolve(embedder: Embedder | Callable[[], Embedder]) -> Embedder:
    # hasattr, not isinstance: a protocol check would read (so load) a lazy model's fields.
    if hasattr(embedder, "encode"):
        return cast(Embedder, embedder)
    return embedder()


def _entry_score(links: Sequence[tuple[str, float]], k: int) -> float:
    """The score a newcomer must beat to enter a list (anything enters a short list)."""
    return float(links[-1][1]) if len(links) >= k else -np.inf


def entry_scores(store: Store, table: VectorTable, k: int) -> np.ndarray:
    """The score a newcomer must beat to enter each article's list, row-aligned."""
    scores = np.full(len(table), -np.inf, dtype=np.float32)
    for article_id, (size, min_score) in store.list_sizes_and_minimums().items():
        row = table.row_of.get(article_id)
        if row is not None and size >= k and min_score is not None:
            scores[row] = min_score
    return scores


def _compute_lists(table: VectorTable, rows: np.ndarray,
                   neighbours: tuple[np.ndarray, np.ndarray], options: RankingOptions,
                   keyed_by_row: bool = False) -> dict[Any, list[tuple[str, float]]]:
    """The list of each of ``rows`` from its search output, keyed by id (or by row)."""
    indices, scores = neighbours
    return {
        (row if keyed_by_row else table.ids[row]): rank_neighbours(
            table, indices[i], scores[i], table.ids[row], table.content_hashes[row], options)
        for i, row in enumerate(rows.tolist())
    }


def rank_neighbours(table: VectorTable, indices: np.ndarray, scores: np.ndarray,
                    query_id: str | None, query_hash: str | None, options: RankingOptions
                    ) -> list[tuple[str, float]]:
    """Apply the ranking to one row of :func:`top_k` output over ``table``."""
    if isinstance(table, RankingTable):
        return rank_row(table, indices, scores, table.row_of.get(query_id) if query_id else None,
                        query_id, query_hash, options)
    valid = indices >= 0
    picked = indices[valid]
    return rank(
        [table.ids[i] for i in picked],
        scores[valid].tolist(),
        [table.content_hashes[i] for i in picked],
        query_id=query_id,
        query_hash=query_hash,
        options=options,
    )


def _offer_to_other_lists(store: Store, table: VectorTable, new_rows: Sequence[int],
                          is_due: np.ndarray, entry: np.ndarray, options: RankingOptions,
                          products: np.ndarray | None = None
                          ) -> dict[str, list[tuple[str, float]]]:
    """Updated lists of up-to-date articles that a new or changed article now enters.

    A list computed from all other articles, merged with a newcomer that beats its
    weakest link, is the list a full recompute would give, without the recompute.
    """
    if not new_rows:
        return {}
    newcomers = np.asarray(new_rows)
    rough = table.matrix[newcomers] @ table.matrix.T if products is None else products
    # The float32 product only gates; the score that decides is the exact one below, so
    # the gate is loosened by more than float32 error.
    beats = (rough > entry[None, :] - 1e-5) & ~is_due[None, :]
    beats[np.arange(len(newcomers)), newcomers] = False
    # A newcomer pinned to a list enters it whatever its score.
    for position, row in enumerate(newcomers.tolist()):
        for target, pinned in options.pins:
            if table.ids[row] in pinned and target in table.row_of:
                beats[position, table.row_of[target]] = not is_due[table.row_of[target]]
    pairs = np.argwhere(beats)
    if len(pairs) == 0:
        return {}
    scores = exact_scores(table.matrix[newcomers[pairs[:, 0]]], table.matrix,
                          pairs[:, 1:2])[:, 0]
    offers: dict[int, list[tuple[str, float]]] = {}
    for (i, j), score in zip(pairs.tolist(), scores.tolist()):
        offers.setdefault(j, []).append((table.ids[newcomers[i]], round(score, SCORE_DECIMALS)))
    targets = [table.ids[j] for j in offers]
    current = store.stored_lists(targets)
    merged: dict[int, list[tuple[str, float]]] = {}
    for j, offered in offers.items():
        links = [(i, round(s, SCORE_DECIMALS)) for i, s in current[table.ids[j]] if i in table.row_of]
        result = _merge(table, j, links, offered, options)
        if result is not None:
            merged[j] = result
    # Where the stored links are not enough to tell (a newcomer is the same story as a
    # link, or the list was short), search those lists again, all in one pass.
    again = np.array([j for j in offers if j not in merged], dtype=np.int64)
    if len(again):
        merged.update(_compute_lists(table, again, top_k(table.matrix[again], table.matrix,
                                                         options.candidates, order=table.order,
                                                         max_norm=UNIT_NORM),
                                     options, keyed_by_row=True))
    updates: dict[str, list[tuple[str, float]]] = {}
    for j, links in merged.items():
        target = table.ids[j]
        if [i for i, _ in links] != [i for i, _ in current[target]]:
            updates[target] = links
    return updates


def _merge(table: VectorTable, j: int, links: list[tuple[str, float]],
           offered: list[tuple[str, float]], options: RankingOptions
           ) -> list[tuple[str, float]] | None:
    """Row ``j``'s list once ``offered`` newcomers (which beat its weakest link) enter
    it, or None when only a new search can tell (see :func:`merge_offers`)."""
    if isinstance(table, RankingTable):
        return merge_offers(table, j, links, offered, options)
    # Best score first, then id: the order a full recompute gives (rows are in id order).
    candidates = sorted(links + offered, key=lambda pair: (-pair[1], pair[0]))
    return rank(
        [i for i, _ in candidates],
        [s for _, s in candidates],
        [table.content_hashes[table.row_of[i]] for i, _ in candidates],
        query_id=table.ids[j],
        query_hash=table.content_hashes[j],
        options=options,
    )


def _add_to_sample(sample: list[dict[str, Any]], store: Store,
                   lists: dict[str, list[tuple[str, float]]]) -> None:
    wanted = list(lists)[: SAMPLE_SIZE * 4]
    before = store.stored_lists(wanted)
    for article_id in wanted:
        after = [i for i, _ in lists[article_id]]
        previous = [i for i, _ in before[article_id]]
        if after != previous and len(sample) < SAMPLE_SIZE:
            sample.append({"id": article_id, "before": previous, "after": after})
