"""Metric functions: values in, numbers out, no I/O.

Ranking metrics take one query's ranked list as its gains (best-ranked first; a gain above
zero means relevant), computed per query and averaged by the caller, as in trec_eval:

- ``P@k``: share of the top k that is relevant; a list shorter than k counts its empty
  slots as not relevant.
- ``nDCG@k``: sum of gain / log2(rank + 1) over the top k, divided by the same sum over the
  ideal list (the k best gains among all other articles). Gains are linear (Jaccard
  overlap of label sets, or the qrels grade).
- ``AP``: average precision over the evaluated depth, normalised by min(R, depth) where R
  is the number of relevant articles, so that a perfect list scores 1 even when R is
  larger than the list (MAP is its mean).
- ``RR``: 1 / rank of the first relevant item, 0 if none in the list (MRR is its mean).
- ``recall@k``: relevant items in the top k over R.

List-quality metrics describe the lists themselves, whatever the judgements say.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet

import numpy as np

#: Per-item numbers: a list or a numpy vector (the runner passes vectors).
Numbers = Sequence[float] | np.ndarray
#: Item indices: a list or a numpy vector.
Ids = Sequence[int] | np.ndarray

#: Cosine similarity at or above which two items of one list count as near-duplicates.
NEAR_DUPLICATE_COSINE = 0.95


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    """|a & b| / |a | b|; 0 when both are empty."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _relevant(gains: Numbers) -> np.ndarray:
    return np.asarray(gains, dtype=np.float64) > 0


def precision_at_k(gains: Numbers, k: int) -> float:
    """Share of the first ``k`` slots holding a relevant item (missing slots are not relevant)."""
    return float(_relevant(gains)[:k].sum()) / k


def recall_at_k(gains: Numbers, n_relevant: int, k: int) -> float:
    """Relevant items in the first ``k`` over all ``n_relevant`` relevant articles (0 if none)."""
    if n_relevant <= 0:
        return 0.0
    return float(_relevant(gains)[:k].sum()) / n_relevant


def dcg_at_k(gains: Numbers, k: int) -> float:
    """Discounted cumulative gain: sum of gain_i / log2(i + 1), i = 1..k."""
    top = np.asarray(gains, dtype=np.float64)[:k]
    return float((top / np.log2(np.arange(2, top.size + 2))).sum())


def ndcg_at_k(gains: Numbers, ideal_gains: Numbers, k: int) -> float:
    """DCG@k of the list over DCG@k of the ideal gains (0 when the ideal is 0)."""
    best = dcg_at_k(sorted(ideal_gains, reverse=True), k)
    return dcg_at_k(gains, k) / best if best > 0 else 0.0


def average_precision(gains: Numbers, n_relevant: int, depth: int | None = None) -> float:
    """Mean of P@i over the ranks i of relevant items within ``depth``, over min(R, depth)."""
    relevant = _relevant(gains)
    if depth is not None:
        relevant = relevant[:depth]
    else:
        depth = relevant.size
    denominator = min(n_relevant, depth)
    if denominator <= 0:
        return 0.0
    hits = np.cumsum(relevant)
    ranks = np.arange(1, relevant.size + 1)
    return float((hits / ranks)[relevant].sum()) / denominator


def reciprocal_rank(gains: Numbers) -> float:
    """1 / rank of the first relevant item; 0 if the list has none."""
    found = np.flatnonzero(_relevant(gains))
    return 1.0 / (found[0] + 1) if found.size else 0.0


def ranking_metrics(
    gains: Numbers, ideal_gains: Numbers, n_relevant: int, ks: Sequence[int]
) -> dict[str, float]:
    """Every ranking metric of one query, keyed like results.json (``p@5``, ``ndcg@5``, ...).

    MAP and MRR are taken over the deepest cutoff in ``ks``.
    """
    depth = max(ks)
    row: dict[str, float] = {}
    for k in ks:
        row[f"p@{k}"] = precision_at_k(gains, k)
        row[f"ndcg@{k}"] = ndcg_at_k(gains, ideal_gains, k)
        row[f"recall@{k}"] = recall_at_k(gains, n_relevant, k)
    row["map"] = average_precision(gains, n_relevant, depth)
    row["mrr"] = reciprocal_rank(list(gains)[:depth])
    return row


# -- list quality ------------------------------------------------------------------------------


def catalogue_coverage(lists: Iterable[Ids], n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    shown: set[int] = set()
    for items in lists:
        shown.update(int(i) for i in items)
    return len(shown) / n_items if n_items else 0.0


def intra_list_similarity(vectors: np.ndarray) -> float | None:
    """Mean pairwise cosine of a list's items (unit vectors); None for fewer than 2 items."""
    vectors = np.asarray(vectors, dtype=np.float64)
    n = vectors.shape[0]
    if n < 2:
        return None
    sims = vectors @ vectors.T
    upper = np.triu_indices(n, k=1)
    return float(sims[upper].mean())


def near_duplicate_pairs(vectors: np.ndarray, threshold: float = NEAR_DUPLICATE_COSINE) -> tuple[int, int]:
    """(near-duplicate pairs, all pairs) among a list's items: cosine >= ``threshold``."""
    vectors = np.asarray(vectors, dtype=np.float64)
    n = vectors.shape[0]
    if n < 2:
        return 0, 0
    sims = (vectors @ vectors.T)[np.triu_indices(n, k=1)]
    return int((sims >= threshold).sum()), int(sims.size)


def gini(counts: Numbers) -> float:
    """Gini coefficient of exposure counts: 0 = every item shown equally, near 1 = a few items take all.

    Items never shown must be included as zeros.
    """
    values = np.sort(np.asarray(counts, dtype=np.float64))
    n = values.size
    total = values.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * values).sum()) / (n * total) - (n + 1.0) / n)


def correlations(system: Numbers, judged: Numbers) -> dict[str, float | None]:
    """Spearman and Pearson correlation of system similarities with human judgements.

    None where undefined (fewer than 3 pairs, or a constant side).
    """
    x = np.asarray(system, dtype=np.float64)
    y = np.asarray(judged, dtype=np.float64)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"spearman": None, "pearson": None}
    from scipy import stats  # slow to import; only judged pairs need it

    spearman = float(stats.spearmanr(x, y).statistic)
    pearson = float(stats.pearsonr(x, y).statistic)
    return {
        "spearman": None if math.isnan(spearman) else spearman,
        "pearson": None if math.isnan(pearson) else pearson,
    }


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None if there are none."""
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None
