"""Paired significance tests: exact small cases and reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from related_posts.eval.significance import (
    best_of,
    bootstrap_interval,
    compare_with_reference,
    randomisation_test,
)


def test_identical_methods_are_never_significant():
    scores = [0.2, 0.5, 0.9, 0.1]
    assert randomisation_test(scores, scores, n_resamples=500) == 1.0
    assert bootstrap_interval(scores, scores, n_resamples=500) == (0.0, 0.0)


def test_three_equal_differences_match_the_exact_sign_flip_distribution():
    # Differences [1, 1, 1]: |mean| of flipped signs is 1 only when all three signs agree,
    # 2 of the 8 assignments, so p is 1/4 (up to resampling noise).
    p = randomisation_test([1, 1, 1], [0, 0, 0], n_resamples=40_000, seed=3)
    assert p == pytest.approx(0.25, abs=0.01)


def test_a_consistent_large_difference_reaches_the_smallest_p():
    a, b = np.ones(60), np.zeros(60)
    assert randomisation_test(a, b, n_resamples=999) == pytest.approx(1 / 1000)
    assert bootstrap_interval(a, b, n_resamples=200) == (1.0, 1.0)


def test_same_seed_same_p_value():
    rng = np.random.default_rng(1)
    a, b = rng.random(40), rng.random(40)
    assert randomisation_test(a, b, seed=7, n_resamples=2000) == randomisation_test(a, b, seed=7, n_resamples=2000)


def test_bootstrap_interval_brackets_the_mean_difference():
    rng = np.random.default_rng(2)
    a = rng.random(200) + 0.1
    b = rng.random(200)
    low, high = bootstrap_interval(a, b, n_resamples=2000)
    assert low < (a - b).mean() < high


@pytest.mark.parametrize(
    "summaries,candidates,expected",
    [
        ({"a": {"m": 0.1}, "b": {"m": 0.3}}, ["a", "b"], "b"),
        ({"a": {"m": 0.3}, "b": {"m": 0.3}}, ["a", "b"], "a"),  # ties: first in order
        ({"a": {"m": 0.1}, "b": {"m": 0.9}}, ["a"], "a"),  # only candidates count
        ({"a": {"m": None}}, ["a"], None),
        ({}, [], None),
    ],
)
def test_best_of(summaries, candidates, expected):
    assert best_of(summaries, candidates, "m") == expected


def test_compare_with_reference_reports_every_other_method():
    per_query = {"ref": [0.5, 0.5, 0.5, 0.5], "better": [1.0, 1.0, 1.0, 1.0], "same": [0.5, 0.5, 0.5, 0.5]}
    tests = compare_with_reference(per_query, "ref", "ndcg@5", n_resamples=300)
    assert set(tests) == {"better", "same"}
    assert tests["better"].mean_difference == pytest.approx(0.5)
    assert tests["better"].reference == "ref"
    assert tests["same"].p_value == 1.0
    assert tests["better"].to_dict()["metric"] == "ndcg@5"


def test_compare_refuses_unpaired_scores():
    with pytest.raises(ValueError, match="same queries"):
        compare_with_reference({"ref": [1, 2], "other": [1]}, "ref", "m", n_resamples=10)


def test_holm_adjusts_in_order_and_stays_monotone():
    from related_posts.eval.significance import holm

    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.5})
    assert adjusted == pytest.approx({"a": 0.04, "c": 0.09, "b": 0.09, "d": 0.5})
    assert holm({"only": 0.2}) == {"only": 0.2}
    assert holm({"x": 0.6, "y": 0.7}) == {"x": 1.0, "y": 1.0}
