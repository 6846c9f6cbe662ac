"""Who is relevant to whom: graded gains from label overlap or from qrels.

A :class:`Judgements` object answers, for a query article (by row index in the corpus):
the gain of any candidate, the ideal gains (the best gains among all other articles, for
nDCG's normaliser) and the number of relevant candidates (for recall and MAP). The
article itself is never a candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .metrics import jaccard


class Judgements(Protocol):
    """Relevance of candidates to queries, by row index in the corpus."""

    #: "labels" or "qrels": what the gains come from.
    kind: str

    def queries(self) -> np.ndarray:
        """Row indices of the articles that can be evaluated as queries (at least one relevant candidate)."""
        ...

    def gains(self, query: int, candidates: Sequence[int]) -> np.ndarray:
        """Graded gain of each candidate for ``query`` (0 = not relevant)."""
        ...

    def ideal(self, query: int, depth: int) -> np.ndarray:
        """The ``depth`` best gains among all other articles, best first."""
        ...

    def n_relevant(self, query: int) -> int:
        """How many other articles have a positive gain for ``query``."""
        ...

    def groups(self, query: int) -> tuple[str, ...]:
        """The labels the query belongs to (for per-label breakdowns); may be empty."""
        ...

    def grades(self, query: int) -> dict[int, int]:
        """Integer TREC grades of every relevant article, each proportional to its gain.

        nDCG is unchanged by scaling one query's gains, and P and AP only ask whether a
        grade is positive, so TREC tools reproduce the metrics from these grades exactly.
        """
        ...


class LabelJudgements:
    """Gain = Jaccard overlap of label sets; relevant = at least one label in common.

    Ideal gains and relevant counts are computed once for every article, by sparse label
    incidence products in blocks, so memory stays at (block, n) whatever the corpus size.
    """

    kind = "labels"

    def __init__(self, labels: Sequence[Sequence[str]], *, depth: int, block: int | None = None) -> None:
        self.labels = [frozenset(item) for item in labels]
        self.depth = depth
        n = len(self.labels)
        vocabulary = {label: i for i, label in enumerate(sorted(set().union(*self.labels)))}
        rows = [i for i, item in enumerate(self.labels) for _ in item]
        cols = [vocabulary[label] for item in self.labels for label in item]
        from scipy import sparse  # imported here: commands that read the store never need it

        incidence = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n, max(len(vocabulary), 1))
        )
        sizes = np.asarray(incidence.sum(axis=1)).ravel()
        self._incidence, self._sizes = incidence, sizes
        width = min(depth, max(n - 1, 0))
        self._ideal = np.zeros((n, width))
        self._n_relevant = np.zeros(n, dtype=np.int64)
        # About 4 million gains (32 MB of float64) per block, whatever the corpus size.
        block = block or max(1, 4_000_000 // max(n, 1))
        for start in range(0, n, block):
            stop = min(start + block, n)
            inter = (incidence[start:stop] @ incidence.T).toarray()
            union = sizes[start:stop, None] + sizes[None, :] - inter
            with np.errstate(invalid="ignore", divide="ignore"):
                gains = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
            gains[np.arange(stop - start), np.arange(start, stop)] = 0.0  # never its own neighbour
            self._n_relevant[start:stop] = (gains > 0).sum(axis=1)
            if width:
                top = -np.partition(-gains, width - 1, axis=1)[:, :width]
                self._ideal[start:stop] = -np.sort(-top, axis=1)

    def queries(self) -> np.ndarray:
        return np.flatnonzero(self._n_relevant > 0)

    def gains(self, query: int, candidates: Sequence[int]) -> np.ndarray:
        mine = self.labels[query]
        return np.array([jaccard(mine, self.labels[c]) for c in candidates], dtype=np.float64)

    def ideal(self, query: int, depth: int) -> np.ndarray:
        # Kept to the depth given at construction, which is the deepest cutoff evaluated.
        return self._ideal[query, :depth]

    def n_relevant(self, query: int) -> int:
        return int(self._n_relevant[query])

    def groups(self, query: int) -> tuple[str, ...]:
        return tuple(sorted(self.labels[query]))

    def grades(self, query: int) -> dict[int, int]:
        # Gain = shared / union, so shared * (lcm of the unions / union) is an exact integer grade.
        shared = np.asarray((self._incidence[query] @ self._incidence.T).todense()).ravel().astype(np.int64)
        shared[query] = 0
        rows = np.flatnonzero(shared)
        unions = (self._sizes[query] + self._sizes[rows] - shared[rows]).astype(np.int64)
        scale = math.lcm(*(int(u) for u in set(unions.tolist()))) if rows.size else 1
        return {int(r): int(s) * (scale // int(u)) for r, s, u in zip(rows, shared[rows], unions)}


class QrelsJudgements:
    """Gains from TREC qrels (``{query_id: {doc_id: relevance}}``), by corpus row index.

    Only queries with at least one positive judgement are evaluated; unjudged candidates
    have gain 0, as in trec_eval.
    """

    kind = "qrels"

    def __init__(self, ids: Sequence[str], qrels: dict[str, dict[str, float]],
                 labels: Sequence[Sequence[str]] | None = None) -> None:
        index = {article_id: i for i, article_id in enumerate(ids)}
        self._gains: dict[int, dict[int, float]] = {}
        for query, docs in qrels.items():
            if query not in index:
                continue
            row = {index[d]: float(r) for d, r in docs.items() if d in index and d != query and r > 0}
            if row:
                self._gains[index[query]] = row
        self._labels = [tuple(sorted(set(x))) for x in labels] if labels is not None else None

    def queries(self) -> np.ndarray:
        return np.array(sorted(self._gains), dtype=np.int64)

    def gains(self, query: int, candidates: Sequence[int]) -> np.ndarray:
        row = self._gains.get(query, {})
        return np.array([row.get(int(c), 0.0) for c in candidates], dtype=np.float64)

    def ideal(self, query: int, depth: int) -> np.ndarray:
        return np.array(sorted(self._gains.get(query, {}).values(), reverse=True)[:depth])

    def n_relevant(self, query: int) -> int:
        return len(self._gains.get(query, {}))

    def groups(self, query: int) -> tuple[str, ...]:
        return self._labels[query] if self._labels is not None else ()

    def grades(self, query: int) -> dict[int, int]:
        # TREC grades are integers and are kept as given; fractional ones (our qrels reader
        # accepts them) are scaled by a million, which keeps them positive and proportional.
        row = self._gains.get(query, {})
        scale = 1 if all(gain.is_integer() for gain in row.values()) else 1_000_000
        return {item: max(1, round(gain * scale)) for item, gain in row.items()}
