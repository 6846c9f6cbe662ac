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
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

#: Per-item numbers: a list or a numpy vector (the runner passes vectors).
Numbers = Sequence[float] | np.ndarray
#: Item indices: a list or a numpy vector.
Ids = Sequence[int] | np.ndarray

#: Ranking cutoffs always reported (the list length ``k`` is added to them).
CUTOFFS = (1, 5, 10)

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


@dataclass(frozen=True)
class Measure:
    """One ranking measure: its key, how it is shown, what it means and how it is computed.

    ``MEASURES`` is the one list of them: results.json keys, per_query.csv columns, report
    columns and definitions, the CLI summary and help all derive from it, so a new measure
    is one entry here.
    """

    name: str  #: key prefix in results.json (``p`` gives ``p@5``)
    heading: str  #: column title in the report (``P`` gives ``P@5``)
    definition: str  #: one line for the report and ``--help``; ``{depth}`` is the deepest cutoff
    compute: Callable[[Numbers, Numbers, int, int], float]  #: (gains, ideal gains, R, cutoff) -> value
    at_cutoff: bool = True  #: reported at every cutoff (``p@1, p@5``) or once at the deepest (``map``)
    at_depth_in_summary: bool = False  #: the summary shows it at the deepest cutoff, not at k

    def key(self, cutoff: int) -> str:
        """The results.json key of this measure at ``cutoff`` (ignored for depth-wide measures)."""
        return f"{self.name}@{cutoff}" if self.at_cutoff else self.name

    def keys(self, cutoffs: Sequence[int]) -> list[str]:
        """Every key this measure has for ``cutoffs``."""
        return [self.key(c) for c in cutoffs] if self.at_cutoff else [self.name]


MEASURES: tuple[Measure, ...] = (
    Measure("p", "P", "share of the top k that shares at least one label with the article (or has a "
            "positive qrels grade); empty slots count as not relevant",
            lambda gains, ideal, n_relevant, k: precision_at_k(gains, k)),
    Measure("ndcg", "nDCG", "gains are the Jaccard overlap of label sets (or the qrels grade), log2 "
            "discount; the ideal is the k best gains among all other articles",
            lambda gains, ideal, n_relevant, k: ndcg_at_k(gains, ideal, k)),
    Measure("map", "MAP", "mean average precision within the top {depth}, normalised by min(R, {depth})",
            lambda gains, ideal, n_relevant, k: average_precision(gains, n_relevant, k), at_cutoff=False),
    Measure("mrr", "MRR", "mean reciprocal rank of the first relevant item within the top {depth}",
            lambda gains, ideal, n_relevant, k: reciprocal_rank(np.asarray(gains)[:k]), at_cutoff=False),
    Measure("recall", "recall", "relevant items in the top k over all R relevant articles",
            lambda gains, ideal, n_relevant, k: recall_at_k(gains, n_relevant, k), at_depth_in_summary=True),
)
_BY_NAME = {measure.name: measure for measure in MEASURES}


def measure_of(key: str) -> Measure:
    """The measure a results.json key belongs to (``ndcg@5`` -> nDCG); KeyError if none."""
    return _BY_NAME[key.split("@", 1)[0]]


def heading_of(key: str) -> str:
    """The report's title for a key: ``ndcg@5`` -> ``nDCG@5``, ``map`` -> ``MAP``."""
    name, at, cutoff = key.partition("@")
    return _BY_NAME[name].heading + at + cutoff


def measure_keys(cutoffs: Sequence[int]) -> list[str]:
    """Every ranking key for ``cutoffs``, measure by measure (the per_query.csv column order)."""
    return [key for measure in MEASURES for key in measure.keys(cutoffs)]


def summary_keys(k: int, cutoffs: Sequence[int]) -> list[str]:
    """One key per measure: at the list length ``k``, or the deepest cutoff where a measure says so."""
    depth = max(cutoffs)
    return [measure.key(depth if measure.at_depth_in_summary else k) for measure in MEASURES]


def definitions(depth: int) -> dict[str, str]:
    """Each measure's heading and its definition for an evaluation whose deepest cutoff is ``depth``."""
    return {measure.heading: measure.definition.format(depth=depth) for measure in MEASURES}


def ranking_metrics(gains: Numbers, ideal_gains: Numbers, n_relevant: int, ks: Sequence[int]) -> dict[str, float]:
    """Every ranking measure of one query, keyed like results.json (``p@5``, ``ndcg@5``, ``map``, ...).

    Args:
        gains: the gain of each listed item, best-ranked first.
        ideal_gains: the gains of the best possible list (any order).
        n_relevant: R, the number of relevant articles for this query.
        ks: the cutoffs; depth-wide measures (MAP, MRR) are taken over the deepest.

    Returns:
        One value per key of :func:`measure_keys`.
    """
    depth = max(ks)
    return {
        measure.key(cutoff): measure.compute(gains, ideal_gains, n_relevant, cutoff)
        for measure in MEASURES
        for cutoff in (ks if measure.at_cutoff else [depth])
    }


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
