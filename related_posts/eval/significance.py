"""Paired significance tests over per-query scores.

Two methods evaluated on the same queries give paired scores. Under the null hypothesis
that they are interchangeable, each query's difference is as likely to have either sign,
so the randomisation test flips signs at random and asks how often the mean difference is
at least as far from zero as the one observed (two-sided). A bootstrap over queries gives
a confidence interval of the mean difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .metrics import Numbers

N_RESAMPLES = 10_000


@dataclass(frozen=True)
class PairedTest:
    """One method against a reference on the same queries."""

    method: str
    reference: str
    metric: str
    n: int
    mean: float
    reference_mean: float
    mean_difference: float
    p_value: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict:
        return asdict(self)


def randomisation_test(
    a: Numbers, b: Numbers, *, n_resamples: int = N_RESAMPLES, seed: int = 0
) -> float:
    """Two-sided p-value of the paired sign-flip randomisation test of mean(a - b) = 0.

    The observed assignment counts as one of the resamples, so p is never 0:
    p = (1 + #{|mean of flipped| >= |observed|}) / (1 + n_resamples).
    """
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if diff.size == 0:
        return 1.0
    observed = abs(diff.mean())
    rng = np.random.default_rng(seed)
    extreme = 0
    chunk = max(1, 2_000_000 // diff.size)  # bounded memory: chunk x n signs at a time
    done = 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        signs = rng.integers(0, 2, size=(size, diff.size), dtype=np.int8) * 2 - 1
        means = np.abs(signs @ diff) / diff.size
        # A small tolerance so that ties with the observed value count as extreme.
        extreme += int((means >= observed - 1e-12).sum())
        done += size
    return (1 + extreme) / (1 + n_resamples)


def bootstrap_interval(
    a: Numbers, b: Numbers, *, n_resamples: int = N_RESAMPLES,
    confidence: float = 0.95, seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(a - b), resampling queries with replacement."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if diff.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    chunk = max(1, 2_000_000 // diff.size)
    for start in range(0, n_resamples, chunk):
        stop = min(start + chunk, n_resamples)
        picks = rng.integers(0, diff.size, size=(stop - start, diff.size))
        means[start:stop] = diff[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm-Bonferroni adjusted p-values: with m comparisons, the i-th smallest p is
    multiplied by (m - i + 1), made monotone and capped at 1. Controls the chance of any
    false "significant" among all the comparisons at the level they are read at."""
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    adjusted: dict[str, float] = {}
    running = 0.0
    for i, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - i) * p))
        adjusted[name] = running
    return adjusted


def best_of(summaries: Mapping[str, Mapping[str, float | None]], candidates: Sequence[str], metric: str) -> str | None:
    """The candidate with the highest mean ``metric`` (first in order on ties)."""
    scored = [
        (value, name)
        for name in candidates
        if name in summaries and (value := summaries[name].get(metric)) is not None
    ]
    if not scored:
        return None
    best = max(value for value, _ in scored)
    return next(name for value, name in scored if value == best)


def compare_with_reference(
    per_query: Mapping[str, Numbers], reference: str, metric: str, *,
    n_resamples: int = N_RESAMPLES, seed: int = 0,
) -> dict[str, PairedTest]:
    """A paired test of every other method against ``reference`` on one per-query metric."""
    base = np.asarray(per_query[reference], dtype=np.float64)
    tests: dict[str, PairedTest] = {}
    for name, values in per_query.items():
        if name == reference:
            continue
        scores = np.asarray(values, dtype=np.float64)
        if scores.shape != base.shape:
            raise ValueError(f"{name} and {reference} were not evaluated on the same queries")
        low, high = bootstrap_interval(scores, base, n_resamples=n_resamples, seed=seed)
        tests[name] = PairedTest(
            method=name,
            reference=reference,
            metric=metric,
            n=int(scores.size),
            mean=float(scores.mean()) if scores.size else 0.0,
            reference_mean=float(base.mean()) if base.size else 0.0,
            mean_difference=float((scores - base).mean()) if scores.size else 0.0,
            p_value=randomisation_test(scores, base, n_resamples=n_resamples, seed=seed),
            ci_low=low,
            ci_high=high,
        )
    return tests
