from __future__ import annotations

import numpy as np
import pytest

from related_posts.recommend.embed import normalise
from related_posts.recommend.neighbours import top_k
from related_posts.recommend.rank import RankingOptions, rank


@pytest.mark.parametrize("n, k, block", [(50, 5, 7), (10, 10, 3), (5, 8, 1024), (300, 1, 64)])
def test_top_k_matches_brute_force(n, k, block):
    rng = np.random.default_rng(0)
    matrix = normalise(rng.normal(size=(n, 16)))
    queries = matrix[: min(n, 20)]
    indices, scores = top_k(queries, matrix, k, block=block)
    sims = queries @ matrix.T
    for row in range(len(queries)):
        expected = np.argsort(-sims[row], kind="stable")[: min(k, n)]
        assert indices[row].tolist() == expected.tolist()
        assert np.allclose(scores[row], sims[row, expected], atol=1e-6)


def test_top_k_exclusions_leave_empty_slots():
    matrix = normalise(np.eye(3))
    indices, scores = top_k(matrix[:1], matrix, 3, exclude=[[0, 1]])
    assert indices[0].tolist() == [2, -1, -1]
    assert scores[0, 0] == 0 and np.isneginf(scores[0, 1:]).all()


def test_top_k_on_empty_matrix():
    indices, scores = top_k(np.zeros((2, 4), np.float32), np.zeros((0, 4), np.float32), 5)
    assert indices.shape == (2, 0) and scores.shape == (2, 0)


def test_rank_drops_self_duplicates_and_cuts_to_k():
    links = rank(
        ["q", "a", "a-copy", "q-copy", "b", "c"],
        [1.0, 0.9, 0.9, 0.85, 0.5, 0.4],
        ["hq", "ha", "ha", "hq", "hb", "hc"],
        query_id="q", query_hash="hq", options=RankingOptions(k=2),
    )
    assert links == [("a", 0.9), ("b", 0.5)]


def test_rank_relevance_floor_gives_fewer_links_not_filler():
    links = rank(["a", "b", "c"], [0.7, 0.3, 0.2], ["1", "2", "3"], query_id=None, query_hash=None,
                 options=RankingOptions(k=3, min_score=0.25))
    assert links == [("a", 0.7), ("b", 0.3)]


def test_ranking_options_reject_k_below_one():
    with pytest.raises(ValueError, match="k must be at least 1"):
        RankingOptions(k=0)
