"""Exact nearest neighbours by cosine similarity on unit vectors (a dot product).

Queries are processed in blocks, so memory stays bounded at about ``MAX_BLOCK_BYTES``
whatever the size of the site, while each block is one multithreaded float32 matrix
product and one partial sort (torch's ``topk``: on rows of 100k scores it measured 25x
faster than numpy's ``argpartition`` on this project's 2-core machines).

The float32 product only nominates candidates: a few more than asked for
(``EXTRA_CANDIDATES``), which are then scored exactly (see :func:`exact_scores`) and
ranked by exact score, then row order. A row whose last nominee comes so close to its
k-th exact score that rounding in the product could have hidden a better one (near
ties, duplicate rows) has every column that close scored exactly. Lists are therefore
those of the exact scores, whatever the blocking, and :func:`all_pairs_top_k` (every
row against every row, each block pair's product computed once) returns exactly what
``top_k(matrix, matrix, k)`` does in about two thirds of its time (40 s against 61 s at
100k x 384 on 2 cores).

:func:`all_pairs_top_k` can nominate from a bfloat16 product instead
(``$RELATED_POSTS_PRODUCTS=bfloat16``): on processors with AMX tiles about 7x the float32
throughput (1.6 against 0.23 TFLOP/s on 2 cores). Its larger rounding (three bfloat16
roundings per pair, at most 1.2% of the norms' product) only widens the margin the proof
needs, so it fetches more candidates (``BFLOAT16_EXTRA``) and the lists stay those of the
exact scores; see :func:`product_precision` for why it is not the default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence

import numpy as np

MAX_BLOCK_BYTES = 64 * 2**20
# exact_scores gathers rows into a buffer this large (cache-sized: 16 rows of 105
# candidates took 21 ms per 113 rows against 40 ms with all 113 at once).
EXACT_BUFFER_BYTES = 8 * 2**20
# Scores are reported to this many decimals. The blocked product only selects the
# candidates; their scores are then recomputed pair by pair (see exact_scores) and
# rounded, so a list does not depend on which other queries shared its block (BLAS
# kernels round differently by block shape) and equal scores fall back to row order.
# Incremental updates, full recomputes, all-pairs runs and resumed runs therefore agree
# exactly.
SCORE_DECIMALS = 6
# Candidates taken from the float32 product beyond the k returned. The product's value
# for a pair depends on the block shape in its last bits, so the k-th place could go to
# either of two near-tied rows; with a margin the exact scores decide instead, and rows
# where even the margin is too thin are settled column by column (see _select).
EXTRA_CANDIDATES = 8
# Rows per block of all_pairs_top_k, capped so that a block pair's scores fit in
# MAX_BLOCK_BYTES (64 MiB: 4096 rows). all_pairs_top_k at 100k x 384 on 2 cores measured
# 42 s with 2048-row blocks, 39 s with 4096 and 37 s with 8192; 4096 keeps a 100k site
# under 1.5 GiB.
PAIR_BLOCK = 8192
# all_pairs_top_k finds each column's best rows of a block pair through the maxima of
# groups of this many rows (see _top_per_column); 8, 16 and 32 measured alike.
COLUMN_GROUP = 16
# Candidate lists a block of rows gathers before they are merged (see all_pairs_top_k).
PENDING_LISTS = 2
# all_pairs_top_k gathers a block pair's entries above each row's bar unless more than
# this many times `fetch` per row pass; then a top-k per row is cheaper.
PASSING_SHARE = 4
# Candidates beyond k when they are nominated by a bfloat16 product: its error bound is
# about 0.012 for unit rows, against 1e-4 in float32, so a row's k-th exact score must
# stand that far above the last nominee. On the fused rows of Reuters and 20 Newsgroups,
# 24 extra left 5-30% of rows to settle column by column, 56 left 0.2% at most.
BFLOAT16_EXTRA = 64
# $RELATED_POSTS_PRODUCTS: "float32" or "bfloat16" forces the precision all_pairs_top_k
# nominates candidates in (lists are the same either way; only the time differs).
PRECISION_VARIABLE = "RELATED_POSTS_PRODUCTS"
PRECISIONS = ("float32", "bfloat16")
# A bound on the norms of rows normalised to unit length, with room for float32 rounding
# (pass it as top_k's max_norm for such rows).
UNIT_NORM = 1.0 + 1e-6
# float32 and bfloat16 unit roundoff.
_UNIT_ROUNDOFF = 2.0**-24
_BFLOAT16_ROUNDOFF = 2.0**-8


def product_precision() -> str:
    """The precision :func:`all_pairs_top_k` nominates candidates in by default:
    ``$RELATED_POSTS_PRODUCTS`` when set, else float32.

    bfloat16 is not the default although its products run 7x as fast on processors with
    AMX tiles: where scores are close together its wider error bound leaves more rows
    to settle column by column. On bench/run.py's synthetic 100k store (flat scores) a
    full refresh took 243 s with it against 197 s in float32; on the fused rows of
    20 Newsgroups (11k) the two took the same time.
    """
    chosen = os.environ.get(PRECISION_VARIABLE, "").strip().lower()
    if chosen and chosen not in PRECISIONS:
        raise ValueError(f"${PRECISION_VARIABLE}={chosen!r}: use one of "
                         f"{', '.join(PRECISIONS)}, or leave it unset")
    return chosen or "float32"


def relative_error(precision: str, d: int) -> float:
    """A bound on |computed - exact| / (|q| |y|) of a length-``d`` dot product computed
    in ``precision`` with float32 accumulation: for bfloat16 both inputs and the result
    are rounded to 8 significant bits (each product of two bfloat16 values is exact in
    float32), then the float32 sum adds its own error."""
    if precision == "float32":
        return _gamma(d)
    if precision == "bfloat16":
        return (1 + _BFLOAT16_ROUNDOFF) ** 3 * (1 + _gamma(d)) - 1
    raise ValueError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")


def block_rows(n: int) -> int:
    """Query rows per block so that one block of float32 scores takes about MAX_BLOCK_BYTES."""
    return int(max(16, min(4096, MAX_BLOCK_BYTES // max(1, n * 4))))


def pair_block_rows(n: int) -> int:
    """Rows per block of :func:`all_pairs_top_k`: ``PAIR_BLOCK``, less when a square block
    of float32 scores would pass ``MAX_BLOCK_BYTES``."""
    return int(max(16, min(PAIR_BLOCK, math.isqrt(MAX_BLOCK_BYTES // 4), n)))


def top_k(
    queries: np.ndarray,
    matrix: np.ndarray,
    k: int,
    *,
    exclude: Sequence[Sequence[int]] | None = None,
    block: int | None = None,
    order: np.ndarray | None = None,
    products: np.ndarray | None = None,
    max_norm: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``matrix`` most similar to each query, best first.

    ``exclude[i]`` lists row indices never returned for query ``i``. ``products`` is
    ``queries @ matrix.T`` when the caller has it already (float32; it is not modified),
    which saves the pass over ``matrix``; ``max_norm`` bounds the norms of ``matrix``'s
    rows (``UNIT_NORM`` for unit rows), which saves another. Returns
    ``(indices, scores)`` of shape (m, min(k, n)); a slot with nothing left to offer has
    index -1 and score -inf. Rows are chosen and ranked by their exact scores (see
    :func:`exact_scores`), rounded to ``SCORE_DECIMALS``; equal scores come in row order,
    or in the order ``order[row]`` gives when the rows are not sorted.
    """
    import torch

    # torch shares the memory and wants it writable; vectors read from SQLite are not.
    queries = np.require(queries, np.float32, ["C", "W"])
    matrix = np.require(matrix, np.float32, ["C", "W"])
    m, n = queries.shape[0], matrix.shape[0]
    width = min(k, n)
    indices = np.full((m, width), -1, dtype=np.int64)
    scores = np.full((m, width), -np.inf, dtype=np.float32)
    if width == 0 or m == 0:
        return indices, scores
    fetch = min(width + EXTRA_CANDIDATES, n)
    block = block or block_rows(n)
    base = torch.from_numpy(matrix)
    largest = _largest_norm(matrix) if max_norm is None else max_norm
    for start in range(0, m, block):
        stop = min(start + block, m)
        if products is None:
            sims = torch.from_numpy(queries[start:stop]) @ base.T
        else:
            sims = torch.from_numpy(np.require(products[start:stop], np.float32, ["C", "W"]))
            if exclude is not None:
                sims = sims.clone()
        if exclude is not None:
            for row in range(start, stop):
                banned = np.asarray(exclude[row], dtype=np.int64)
                if len(banned):
                    sims[row - start, torch.from_numpy(banned)] = -float("inf")
        values, positions = torch.topk(sims, fetch, dim=1, sorted=False)
        best, best_scores, unsure, floors = _select(
            queries[start:stop], matrix, values.numpy(), positions.numpy(), width, order,
            largest, complete=fetch == n)
        for row, floor in zip(unsure, floors):
            # Excluded columns hold -inf, below any finite floor, so they stay out.
            columns = torch.nonzero(sims[row] >= floor).flatten().numpy()
            best[row], best_scores[row] = _settle(queries[start + row], matrix, columns,
                                                  width, order)
        best[~np.isfinite(best_scores)] = -1
        indices[start:stop] = best
        scores[start:stop] = best_scores
    return indices, scores


def all_pairs_top_k(
    matrix: np.ndarray,
    k: int,
    *,
    order: np.ndarray | None = None,
    block: int | None = None,
    progress: Callable[[int], object] | None = None,
    precision: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``top_k(matrix, matrix, k, order=order)``, each block pair's product computed once.

    ``progress(rows)`` is called as each block of rows has met every other block.
    ``precision`` ("float32" or "bfloat16"; default :func:`product_precision`) is that of
    the products that nominate candidates; the result does not depend on it.

    The rows are cut into blocks of ``block`` rows (default :func:`pair_block_rows`); for
    blocks ``i <= j`` the scores ``S = M_i @ M_j.T`` give block ``i``'s rows candidates
    among block ``j`` (row-wise top) and block ``j``'s rows candidates among block ``i``
    (column-wise top), so the product, the dominant cost, is about halved. A row's
    candidates from successive block pairs are merged as they come (memory stays about
    ``MAX_BLOCK_BYTES`` plus a few candidate lists per row), then chosen and ranked
    exactly as :func:`top_k` does, so results are identical, a row's own index among its
    neighbours included. Returns ``(indices, scores)`` of shape (n, min(k, n)).
    """
    import torch

    matrix = np.require(matrix, np.float32, ["C", "W"])
    n = matrix.shape[0]
    width = min(k, n)
    indices = np.full((n, width), -1, dtype=np.int64)
    scores = np.full((n, width), -np.inf, dtype=np.float32)
    if width == 0:
        return indices, scores
    precision = precision or product_precision()
    reduced = precision == "bfloat16"
    fetch = min(width + (BFLOAT16_EXTRA if reduced else EXTRA_CANDIDATES), n)
    block = block or pair_block_rows(n)
    base = torch.from_numpy(matrix)

    def rounded(lo: int, hi: int):
        # Converted a block at a time: a bfloat16 copy of the whole matrix adds half its
        # size to the peak, which only settling doubtful rows at the end pays.
        return base[lo:hi].to(torch.bfloat16) if reduced else base[lo:hi]

    starts = range(0, n, block)
    # Per block: candidate lists (values, columns) not yet merged. Merging after every
    # block pair costs a top-k each time; batching them is cheaper and still bounds
    # memory to about PENDING_LISTS * n * fetch values.
    pending: list[list] = [[] for _ in starts]
    # Per row, a product its final candidates will all reach: the smallest of `fetch`
    # candidates it already has (-inf until it has as many). A later block's column
    # below it cannot enter, so it is never gathered: past the first blocks, a block
    # pair yields a few candidates per row instead of a top-k over all its columns.
    entry = torch.full((n,), -float("inf"), dtype=torch.bfloat16 if reduced else torch.float32)

    def add(number: int, found, columns) -> None:
        pending[number].append((found, columns))
        if len(pending[number]) > PENDING_LISTS:
            merge(number)

    def merge(number: int) -> None:
        merged = _merge(pending[number], fetch)
        pending[number] = [merged]
        if merged[0].shape[1] == fetch:
            entry[starts[number]:starts[number] + len(merged[0])] = merged[0].amin(1)

    bounds = [(lo, min(lo + block, n)) for lo in starts]
    # Each block against itself first, so that every row has an entry bar before it
    # meets other blocks.
    for number, (lo, hi) in enumerate(bounds):
        rows = rounded(lo, hi)
        found, columns = torch.topk(rows @ rows.T, min(fetch, hi - lo), dim=1, sorted=False)
        add(number, found, (columns + lo).to(torch.int32))
        merge(number)
    for number, (lo, hi) in enumerate(bounds):
        rows = rounded(lo, hi)
        for other, (lo2, hi2) in enumerate(bounds[number + 1:], start=number + 1):
            sims = rows @ rounded(lo2, hi2).T
            # Block i's rows take candidates among block j's columns, and block j's rows
            # (the columns of S) among block i's.
            row_side, column_side = _above(sims, entry[lo:hi], entry[lo2:hi2], lo, lo2, fetch)
            add(number, *row_side)
            add(other, *column_side)
            del sims
        # Every block pair holding block i's rows has been seen: its lists are final.
        merge(number)
        if progress is not None:
            progress(hi - lo)
    values = torch.cat([lists[0][0] for lists in pending])
    positions = torch.cat([lists[0][1] for lists in pending])
    pending.clear()

    largest = _largest_norm(matrix)
    unsure: list[np.ndarray] = []
    floors: list[np.ndarray] = []
    step = block_rows(n)
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        best, best_scores, doubtful, floor = _select(
            matrix[lo:hi], matrix, values[lo:hi].float().numpy(), positions[lo:hi].numpy(),
            width, order, largest, complete=fetch == n, precision=precision)
        indices[lo:hi], scores[lo:hi] = best, best_scores
        unsure.append(doubtful + lo)
        floors.append(floor)
    # Rows too close to call from their buffer: their products against every row again,
    # in the same precision (any blocking will do: the floor allows for its rounding),
    # then exact scores.
    doubtful_rows, doubtful_floors = np.concatenate(unsure), np.concatenate(floors)
    everything = rounded(0, n) if len(doubtful_rows) else base
    for lo in range(0, len(doubtful_rows), step):
        chunk = doubtful_rows[lo:lo + step]
        sims = (base[chunk].to(everything.dtype) @ everything.T).float()
        for offset, (row, floor) in enumerate(zip(chunk, doubtful_floors[lo:lo + step])):
            above = torch.nonzero(sims[offset] >= floor).flatten().numpy()
            indices[row], scores[row] = _settle(matrix[row], matrix, above, width, order)
    indices[~np.isfinite(scores)] = -1
    return indices, scores


def _above(sims, row_bar, column_bar, row_offset: int, column_offset: int, fetch: int):
    """Candidates from one block pair's products ``sims``: for each row, the entries at or
    above its ``row_bar``, and for each column, those at or above its ``column_bar``.

    Returns ``((values, columns), (values, rows))``, each padded with -inf to its largest
    count, indices shifted by ``column_offset`` and ``row_offset``. Where bars are still
    low and too many entries pass, a side takes its ``fetch`` best per row (or column)
    instead (a top-k), which is then cheaper. One pass finds the entries of both sides.
    """
    import torch

    passed = sims >= row_bar[:, None]
    passed |= sims >= column_bar[None, :]
    rows, columns = torch.nonzero(passed, as_tuple=True)
    del passed
    values = sims[rows, columns]
    for_rows = values >= row_bar[rows]
    for_columns = values >= column_bar[columns]
    if int(for_rows.sum()) > PASSING_SHARE * sims.shape[0] * fetch:
        found, where = torch.topk(sims, min(fetch, sims.shape[1]), dim=1, sorted=False)
        row_side = found, (where + column_offset).to(torch.int32)
    else:
        # nonzero lists entries row by row, so they come grouped by row already.
        row_side = _padded(rows[for_rows], columns[for_rows] + column_offset,
                           values[for_rows], sims.shape[0])
    if int(for_columns.sum()) > PASSING_SHARE * sims.shape[1] * fetch:
        found, where = _top_per_column(sims, fetch)
        column_side = found, (where + row_offset).to(torch.int32)
    else:
        owners = columns[for_columns]
        regroup = torch.argsort(owners, stable=True)
        column_side = _padded(owners[regroup], rows[for_columns][regroup] + row_offset,
                              values[for_columns][regroup], sims.shape[1])
    return row_side, column_side


def _padded(owners, others, values, size: int):
    """Entries ``(owner, other, value)`` grouped by owner as (size, most) tensors of
    values and int32 others, padded with -inf and 0."""
    import torch

    counts = torch.bincount(owners, minlength=size)
    places = torch.arange(len(owners)) - (torch.cumsum(counts, 0) - counts)[owners]
    width = int(counts.max()) if len(owners) else 0
    found = torch.full((size, width), -float("inf"), dtype=values.dtype)
    where = torch.zeros((size, width), dtype=torch.int32)
    found[owners, places] = values
    where[owners, places] = others.to(torch.int32)
    return found, where


def _top_per_column(sims, fetch: int):
    """The ``fetch`` largest values of each column of ``sims`` (a contiguous torch matrix)
    and their rows, as (columns, fetch) tensors.

    Copying ``sims.T`` to contiguous memory is a cache-hostile transpose that costs more
    than the top-k after it (at 100k x 384 the whole search took 54-56 s with it, or with
    ``topk(dim=0)``, against 41-42 s this way). Instead each column is cut into
    groups of ``g`` rows: the maxima of groups (a streaming reduction) are small enough
    to transpose, and a column's best ``fetch`` values lie in its ``fetch`` groups with the
    largest maxima (a group outside them has a smaller maximum than ``fetch`` other groups,
    hence than ``fetch`` values), so only those groups are gathered and searched.
    """
    import torch

    size, columns = sims.shape
    fetch = min(fetch, size)
    group = next((g for g in (COLUMN_GROUP, 8, 4, 2) if size % g == 0 and size // g >= 2 * fetch),
                 None)
    if group is None:
        return torch.topk(sims.T.contiguous(), fetch, dim=1, sorted=False)
    maxima = sims.view(size // group, group, columns).amax(1).T.contiguous()
    _, groups = torch.topk(maxima, fetch, dim=1, sorted=False)
    rows = (groups.unsqueeze(-1) * group + torch.arange(group)).view(columns, fetch * group)
    gathered = torch.take(sims, rows * columns + torch.arange(columns).unsqueeze(1))
    found, where = torch.topk(gathered, fetch, dim=1, sorted=False)
    return found, torch.gather(rows, 1, where)


def _merge(lists: list, fetch: int) -> tuple:
    """The best ``fetch`` of candidate lists ``[(values, columns), ...]`` for the same rows."""
    import torch

    values = torch.cat([found for found, _ in lists], 1)
    kept, where = torch.topk(values, min(fetch, values.shape[1]), dim=1, sorted=False)
    return kept, torch.gather(torch.cat([columns for _, columns in lists], 1), 1, where)


def _select(queries: np.ndarray, matrix: np.ndarray, values: np.ndarray, positions: np.ndarray,
            width: int, order: np.ndarray | None, largest: float, *, complete: bool,
            precision: str = "float32"
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The best ``width`` of each query's candidates by exact score, then the queries whose
    candidates cannot prove it.

    ``values`` are the products (computed in ``precision``, as float32) of the candidates
    ``positions``, the largest of each query's row (-inf for an excluded column);
    ``complete`` says they hold every column. Returns ``(best, scores, unsure, floors)``:
    for the queries ``unsure``, a column outside the candidates might beat (or tie) the
    k-th exact score, and any column that could has a product (in ``precision``) of at
    least ``floors``.
    """
    d = max(1, matrix.shape[1])
    # A computed product is within `slack` of its column's exact score: the product is
    # within relative_error * |q| * |y| of the true dot product, whatever the summation
    # order or blocking, so is the float32 pairwise sum of exact_scores, and rounding to
    # SCORE_DECIMALS moves a score by at most 5e-7 (the rest of the 1e-6 absorbs float32
    # error in the rounding and in the floor).
    norms = _norms(queries) * largest
    slack = ((relative_error(precision, d) + _gamma(d) + 4 * _UNIT_ROUNDOFF) * norms + 1e-6)
    # Only candidates that may reach the top `width` are scored exactly: `width` of them
    # have products of at least the width-th largest, so exact scores at least that less
    # `slack`, which a candidate more than 2 * slack below it cannot reach.
    ranked = np.argsort(-values, axis=1, kind="stable")
    values = np.take_along_axis(values, ranked, 1)
    positions = np.take_along_axis(positions, ranked, 1)
    wanted = (values >= (values[:, width - 1] - 2 * slack)[:, None]).sum(axis=1)
    scores = np.full(positions.shape, -np.inf, dtype=np.float32)
    # Rows are scored as far as the most wanted in their slice (scoring more than
    # wanted changes nothing: those candidates rank by exact score like the rest).
    step = 256
    for lo in range(0, len(positions), step):
        upto = int(wanted[lo:lo + step].max(initial=0))
        scores[lo:lo + step, :upto] = exact_scores(queries[lo:lo + step], matrix,
                                                   np.maximum(positions[lo:lo + step, :upto], 0))
    scores[~np.isfinite(values)] = -np.inf
    best, scores = _stable(positions, scores, order)
    best, scores = best[:, :width], scores[:, :width]
    if complete:
        return best, scores, np.zeros(0, np.int64), np.zeros(0)
    # A column left out has a product no larger than the smallest candidate's, so an
    # exact score at most `slack` above it. A smallest candidate of -inf means every
    # column not excluded is a candidate.
    kth = scores[:, -1].astype(np.float64)
    smallest = values.min(axis=1).astype(np.float64)
    unsure = np.flatnonzero(np.isfinite(smallest) & (smallest + slack >= kth))
    return best, scores, unsure, (kth - slack)[unsure]


def _settle(query: np.ndarray, matrix: np.ndarray, columns: np.ndarray, width: int,
            order: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The best ``width`` of ``columns`` for one query by exact score, then row order;
    padded with -1 / -inf when there are fewer."""
    scores = exact_scores(query[None, :], matrix, columns[None, :])[0]
    best, scores = _stable(columns[None, :], scores[None, :], order)
    best = np.concatenate((best[0, :width], np.full(max(0, width - len(columns)), -1)))
    scores = np.concatenate((scores[0, :width],
                             np.full(max(0, width - len(columns)), -np.inf, np.float32)))
    return best, scores


def _gamma(d: int) -> float:
    """Relative error bound of a float32 dot product of length ``d``, in any summation order."""
    return d * _UNIT_ROUNDOFF / (1 - d * _UNIT_ROUNDOFF)


def _norms(rows: np.ndarray) -> np.ndarray:
    """Upper bounds of the row norms of ``rows``, in float64.

    Summed in float32 (a float64 sum took 5x as long, a cost a one-query search pays
    in full), then raised by the float32 sum's own error bound.
    """
    squares = np.einsum("ij,ij->i", rows, rows).astype(np.float64)
    return np.sqrt(squares * (1 + 2 * _gamma(rows.shape[1])))


def _largest_norm(matrix: np.ndarray) -> float:
    """An upper bound of the largest row norm of ``matrix`` (1 for unit vectors)."""
    return float(_norms(matrix).max()) if matrix.size else 0.0


def exact_scores(queries: np.ndarray, matrix: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``queries[i] . matrix[columns[i, j]]``, rounded to SCORE_DECIMALS.

    Elementwise products, then numpy's pairwise sum over each pair's own contiguous row:
    the result for a pair depends on its two vectors only, never on how many pairs were
    computed together (a BLAS product does not promise that), and it is cheaper than
    recomputing in float64. Rows go through one reused buffer of about
    ``EXACT_BUFFER_BYTES``: gathering into fresh memory cost twice as much, in page
    faults, as the arithmetic.
    """
    queries = np.asarray(queries, dtype=np.float32)
    out = np.empty(columns.shape, dtype=np.float32)
    if out.size == 0:
        return out
    d = max(1, matrix.shape[1])
    wide = min(columns.shape[1], max(1, EXACT_BUFFER_BYTES // (4 * d)))
    step = max(1, EXACT_BUFFER_BYTES // (4 * wide * d))
    buffer = np.empty((min(step, len(columns)), wide, matrix.shape[1]), dtype=np.float32)
    for lo in range(0, len(columns), step):
        hi = min(lo + step, len(columns))
        for left in range(0, columns.shape[1], wide):
            right = min(left + wide, columns.shape[1])
            part = buffer[:hi - lo, :right - left]
            np.take(matrix, columns[lo:hi, left:right], axis=0, out=part)
            np.multiply(part, queries[lo:hi, None, :], out=part)
            out[lo:hi, left:right] = part.sum(axis=-1, dtype=np.float32)
    return np.round(out, SCORE_DECIMALS)


def _stable(best: np.ndarray, values: np.ndarray, order: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Order each row by score, then by row (or ``order[row]``), so equal scores come out
    reproducibly."""
    ties = best if order is None else order[np.where(best < 0, 0, best)]
    ranked = np.lexsort((ties, -values))
    return np.take_along_axis(best, ranked, 1), np.take_along_axis(values, ranked, 1)


# Above this many vectors a full recompute uses an approximate index: measured on this
# project's 2-core machines, exact blocked products take about n^2 * 1e-8 s (95 s at
# 100k, hours at 1M) while building and querying an HNSW graph grows about linearly.
APPROXIMATE_FROM = 200_000
HNSW_LINKS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


class ApproximateIndex:
    """An HNSW graph over unit vectors (faiss, inner product), for sites past
    ``APPROXIMATE_FROM`` articles. Search nominates candidates; their scores are then
    computed exactly, so only recall (not the order or the scores) is approximate.
    """

    def __init__(self, matrix: np.ndarray, *, links: int = HNSW_LINKS,
                 ef_construction: int = HNSW_EF_CONSTRUCTION, ef_search: int = HNSW_EF_SEARCH):
        import faiss

        self.matrix = np.require(matrix, np.float32, ["C"])
        self.index = faiss.IndexHNSWFlat(self.matrix.shape[1], links, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_construction
        self.index.add(self.matrix)
        self.index.hnsw.efSearch = ef_search

    def top_k(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Same contract as :func:`top_k` (minus exclusions), approximately."""
        queries = np.require(queries, np.float32, ["C"])
        width = min(k, self.matrix.shape[0])
        _, found = self.index.search(queries, width)
        missing = found < 0
        scores = exact_scores(queries, self.matrix, np.where(missing, 0, found))
        scores[missing] = -np.inf
        best, best_scores = _stable(found, scores)
        best[~np.isfinite(best_scores)] = -1
        return best, best_scores
