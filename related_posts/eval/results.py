"""What an evaluation measured: the result types :mod:`runner` fills and :mod:`report` writes out.

Kept apart from both so that the report depends on the results, not on the code that makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .methods import Ranking
from .metrics import MEASURES


@dataclass
class MethodResult:
    """Everything measured for one method.

    ``per_query`` holds one value per evaluated query (aligned with
    ``EvaluationResult.queries``) for every ranking metric; ``lists`` holds every article's
    list (the catalogue, not only queries) to ``depth``; ``latency_ms`` the time of each
    article's ``rank`` call.
    """

    name: str
    description: str
    baseline: bool
    summary: dict[str, float | None]
    per_query: dict[str, np.ndarray]
    lists: list[Ranking]
    latency_ms: np.ndarray
    fit_s: float
    rank_s: float
    curves: dict[str, list[float]] = field(default_factory=dict)
    per_label: dict[str, float] = field(default_factory=dict)
    score_samples: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class EvaluationResult:
    """The outcome of :func:`run_evaluation`, written out by :mod:`related_posts.eval.report`."""

    dataset: str
    source: str
    judged_by: str
    ids: list[str]
    titles: list[str]
    labels: list[tuple[str, ...]]
    queries: np.ndarray
    ks: tuple[int, ...]
    k: int
    model_id: str
    store_path: str
    methods: dict[str, MethodResult]
    significance: dict[str, Any]
    default_method: str | None
    dropped: dict[str, int]
    timings: dict[str, float]
    n_pairs: int = 0
    seed: int = 0
    #: The best recall@c any list of length c can reach, averaged over queries: mean of min(R, c) / R.
    recall_ceiling: dict[int, float] = field(default_factory=dict)

    @property
    def n_articles(self) -> int:
        return len(self.ids)

    @property
    def n_queries(self) -> int:
        return int(self.queries.size)

    @property
    def headline(self) -> str:
        """The metric the methods are ranked and tested on: nDCG at the list length."""
        return f"ndcg@{self.k}"

    def to_json(self) -> dict[str, Any]:
        """The results.json document (schema of issue 4, lowercase metric keys)."""
        return {
            "dataset": self.dataset,
            "source": self.source,
            "n_articles": self.n_articles,
            "n_queries": self.n_queries,
            "judged_by": self.judged_by,
            "k": self.k,
            "cutoffs": list(self.ks),
            "model": self.model_id,
            "seed": self.seed,
            "n_pairs": self.n_pairs,
            "recall_ceiling": {f"recall@{c}": round(v, 6) for c, v in self.recall_ceiling.items()},
            "methods": {name: _rounded(m.summary) for name, m in self.methods.items()},
            "default_method": self.default_method,
            "significance": self.significance,
            "dropped": self.dropped,
            "timings_s": {key: round(value, 3) for key, value in self.timings.items()},
            "store": self.store_path,
            "notes": {
                **{measure.name: measure.definition.format(depth=max(self.ks))
                   for measure in MEASURES if not measure.at_cutoff},
                "list_quality": f"coverage, intra_list_similarity, near_duplicate_share, abstention_rate and "
                f"exposure_gini are measured on every article's list of length k={self.k}",
            },
        }


def _rounded(summary: dict[str, float | None]) -> dict[str, float | None]:
    return {key: (None if value is None else round(float(value), 6)) for key, value in summary.items()}
