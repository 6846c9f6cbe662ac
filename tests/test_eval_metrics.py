"""Metric functions pinned to values computed by hand (the arithmetic is in each comment)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from related_posts.eval.judgements import LabelJudgements, QrelsJudgements
from related_posts.eval.metrics import (
    average_precision,
    catalogue_coverage,
    correlations,
    dcg_at_k,
    gini,
    intra_list_similarity,
    jaccard,
    mean,
    ndcg_at_k,
    near_duplicate_pairs,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    reciprocal_rank,
)


@pytest.mark.parametrize(
    "a,b,expected",
    [
        ({"x"}, {"x"}, 1.0),
        ({"x", "y"}, {"y", "z"}, 1 / 3),  # {y} over {x, y, z}
        ({"x"}, {"y"}, 0.0),
        ({"earn", "acq"}, {"acq"}, 0.5),
        (set(), set(), 0.0),
    ],
)
def test_jaccard(a, b, expected):
    assert jaccard(a, b) == pytest.approx(expected)


@pytest.mark.parametrize(
    "gains,k,expected",
    [
        ([1, 0, 0.5, 0, 0], 5, 2 / 5),
        ([1, 0, 0.5, 0, 0], 1, 1.0),
        ([1, 0, 0.5, 0, 0], 3, 2 / 3),
        ([0.2], 5, 1 / 5),  # a short list: the empty slots count as misses
        ([], 5, 0.0),
    ],
)
def test_precision_at_k(gains, k, expected):
    assert precision_at_k(gains, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    "gains,n_relevant,k,expected",
    [
        ([1, 0, 1], 4, 2, 1 / 4),
        ([1, 0, 1], 4, 3, 2 / 4),
        ([0, 0], 3, 2, 0.0),
        ([1], 0, 1, 0.0),  # nothing relevant exists: defined as 0, never a division by zero
    ],
)
def test_recall_at_k(gains, n_relevant, k, expected):
    assert recall_at_k(gains, n_relevant, k) == pytest.approx(expected)


def test_dcg_by_hand():
    # 1/log2(2) + 0/log2(3) + 0.5/log2(4) = 1 + 0 + 0.25
    assert dcg_at_k([1, 0, 0.5], 3) == pytest.approx(1.25)
    assert dcg_at_k([1, 0, 0.5], 1) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "gains,ideal,k,expected",
    [
        # DCG 1.25 over ideal 1 + 1/log2(3) + 0.5/2
        ([1, 0, 0.5], [1, 1, 0.5], 3, 1.25 / (1 + 1 / math.log2(3) + 0.25)),
        ([1, 1, 0.5], [1, 1, 0.5], 3, 1.0),
        ([0.5, 1, 1], [1, 1, 0.5], 3, (0.5 + 1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3) + 0.25)),
        ([0, 0, 0], [1, 0.5], 3, 0.0),
        ([0, 0], [], 2, 0.0),  # no relevant article: 0, not NaN
        # Jaccard gains: list {a}->{a,b} (0.5), miss; ideal holds one exact match (1.0)
        ([0.5, 0.0], [1.0, 0.5], 2, 0.5 / (1 + 0.5 / math.log2(3))),
    ],
)
def test_ndcg_at_k(gains, ideal, k, expected):
    assert ndcg_at_k(gains, ideal, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    "gains,n_relevant,depth,expected",
    [
        ([0, 1, 0, 1], 2, 4, (1 / 2 + 2 / 4) / 2),
        ([0, 1, 0, 1], 10, 4, (1 / 2 + 2 / 4) / 4),  # R above depth: normalised by the depth
        ([1, 1, 1], 3, 3, 1.0),
        ([0, 0, 0], 2, 3, 0.0),
        ([1, 0, 1, 1], 3, 2, 1 / 2),  # only the first 2 count: P@1 = 1 over min(3, 2)
    ],
)
def test_average_precision(gains, n_relevant, depth, expected):
    assert average_precision(gains, n_relevant, depth) == pytest.approx(expected)


@pytest.mark.parametrize(
    "gains,expected", [([0, 0, 1], 1 / 3), ([1, 1], 1.0), ([0, 0], 0.0), ([], 0.0), ([0, 0.2], 0.5)]
)
def test_reciprocal_rank(gains, expected):
    assert reciprocal_rank(gains) == pytest.approx(expected)


def test_ranking_metrics_row_has_every_key_and_depth_limits_map_and_mrr():
    row = ranking_metrics([0, 0, 1, 1], [1, 1, 1, 1], n_relevant=4, ks=[1, 2])
    assert set(row) == {"p@1", "p@2", "ndcg@1", "ndcg@2", "recall@1", "recall@2", "map", "mrr"}
    # Depth is 2 and the first relevant item sits at rank 3: nothing counts.
    assert row["mrr"] == 0.0
    assert row["map"] == 0.0
    full = ranking_metrics([0, 0, 1, 1], [1, 1, 1, 1], n_relevant=4, ks=[4])
    assert full["mrr"] == pytest.approx(1 / 3)
    assert full["map"] == pytest.approx((1 / 3 + 2 / 4) / 4)


@pytest.mark.parametrize(
    "counts,expected",
    [
        ([1, 1, 1, 1], 0.0),
        # sorted [0,0,0,4]: 2*(4*4)/(4*4) - 5/4
        ([0, 0, 4, 0], 0.75),
        # sorted [1,3]: 2*(1*1 + 2*3)/(2*4) - 3/2 = 14/8 - 1.5
        ([3, 1], 0.25),
        ([0, 0, 0], 0.0),
        ([], 0.0),
    ],
)
def test_gini(counts, expected):
    assert gini(counts) == pytest.approx(expected)


def test_catalogue_coverage():
    assert catalogue_coverage([[0, 1], [1, 2], []], 5) == pytest.approx(3 / 5)
    assert catalogue_coverage([], 0) == 0.0


def test_intra_list_similarity_and_near_duplicates():
    e1, e2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    vectors = np.stack([e1, e1, e2])
    # pairs: (e1, e1) = 1, (e1, e2) = 0 twice
    assert intra_list_similarity(vectors) == pytest.approx(1 / 3)
    assert near_duplicate_pairs(vectors) == (1, 3)
    assert intra_list_similarity(vectors[:1]) is None
    assert near_duplicate_pairs(vectors[:1]) == (0, 0)
    close = np.array([[1.0, 0.0], [0.96, math.sqrt(1 - 0.96**2)]])
    assert near_duplicate_pairs(close, threshold=0.95) == (1, 1)
    assert near_duplicate_pairs(close, threshold=0.97) == (0, 1)


def test_correlations_by_hand():
    result = correlations([1, 2, 3, 4], [1, 2, 3, 5])
    assert result["spearman"] == pytest.approx(1.0)
    # sum dx*dy = 6.5, sum dx^2 = 5, sum dy^2 = 8.75
    assert result["pearson"] == pytest.approx(6.5 / math.sqrt(5 * 8.75))
    assert correlations([1, 2, 3], [3, 2, 1])["spearman"] == pytest.approx(-1.0)


@pytest.mark.parametrize("system,judged", [([1, 1, 1], [1, 2, 3]), ([1, 2], [1, 2])])
def test_correlations_undefined_are_none(system, judged):
    assert correlations(system, judged) == {"spearman": None, "pearson": None}


def test_mean_skips_none():
    assert mean([None, 1.0, 3.0]) == 2.0
    assert mean([None]) is None


def test_label_judgements_by_hand():
    judged = LabelJudgements([["a"], ["a", "b"], ["b"], ["c"]], depth=3)
    # article 3 ("c") shares nothing with anyone: it cannot be evaluated as a query
    assert judged.queries().tolist() == [0, 1, 2]
    assert judged.gains(0, [1, 2, 3]).tolist() == [0.5, 0.0, 0.0]
    assert judged.ideal(0, 3).tolist() == [0.5, 0.0, 0.0]
    assert judged.ideal(1, 2).tolist() == [0.5, 0.5]
    assert [judged.n_relevant(q) for q in range(4)] == [1, 2, 1, 0]
    assert judged.groups(1) == ("a", "b")


def test_label_judgements_never_count_the_query_itself():
    judged = LabelJudgements([["a"], ["a"]], depth=5, block=1)
    assert judged.n_relevant(0) == 1
    assert judged.ideal(0, 5).tolist() == [1.0]  # only one other article exists


def test_qrels_judgements():
    judged = QrelsJudgements(["q", "d1", "d2", "x"], {"q": {"d1": 2, "d2": 0, "gone": 1}, "x": {"q": 0}})
    assert judged.queries().tolist() == [0]  # x has no positive judgement
    assert judged.gains(0, [2, 1, 3]).tolist() == [0.0, 2.0, 0.0]
    assert judged.ideal(0, 5).tolist() == [2.0]
    assert judged.n_relevant(0) == 1


@given(st.lists(st.sets(st.sampled_from("abcd"), min_size=1, max_size=3), min_size=2, max_size=12))
def test_ideal_ordering_scores_ndcg_one_and_any_list_at_most_one(labels):
    judged = LabelJudgements(labels, depth=5)
    for query in judged.queries():
        others = [i for i in range(len(labels)) if i != query]
        gains = judged.gains(query, others)
        best = sorted(gains, reverse=True)
        assert ndcg_at_k(best, judged.ideal(query, 5), 5) == pytest.approx(1.0)
        assert 0.0 <= ndcg_at_k(gains, judged.ideal(query, 5), 5) <= 1.0 + 1e-12
