"""Exact nearest neighbours by cosine similarity on unit vectors (a dot product).

Queries are processed in blocks so memory stays bounded at (block, n) floats whatever the
size of the site, while each block is one BLAS matrix product.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

DEFAULT_BLOCK = 1024


def top_k(
    queries: np.ndarray,
    matrix: np.ndarray,
    k: int,
    *,
    exclude: Sequence[Sequence[int]] | None = None,
    block: int = DEFAULT_BLOCK,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``matrix`` most similar to each query, best first.

    ``exclude[i]`` lists row indices never returned for query ``i`` (the article itself,
    its exact duplicates). Returns ``(indices, scores)``, both of shape (m, k'), where
    k' = min(k, n); a slot with nothing left to offer has index -1 and score -inf.
    """
    queries = np.asarray(queries, dtype=np.float32)
    m, n = queries.shape[0], matrix.shape[0]
    width = min(k, n)
    indices = np.full((m, width), -1, dtype=np.int64)
    scores = np.full((m, width), -np.inf, dtype=np.float32)
    if width == 0 or m == 0:
        return indices, scores
    for start in range(0, m, block):
        stop = min(start + block, m)
        sims = queries[start:stop] @ matrix.T
        if exclude is not None:
            for row in range(start, stop):
                banned = exclude[row]
                if len(banned):
                    sims[row - start, np.asarray(banned, dtype=np.int64)] = -np.inf
        if width < n:
            part = np.argpartition(-sims, width - 1, axis=1)[:, :width]
        else:
            part = np.tile(np.arange(n), (stop - start, 1))
        part_scores = np.take_along_axis(sims, part, axis=1)
        # Best score first; equal scores in row order, so results are reproducible.
        order = np.lexsort((part, -part_scores))
        best = np.take_along_axis(part, order, axis=1)
        best_scores = np.take_along_axis(part_scores, order, axis=1)
        best[~np.isfinite(best_scores)] = -1
        indices[start:stop] = best
        scores[start:stop] = best_scores
    return indices, scores
