"""Baseline methods and the recommender method, on tiny corpora written here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from related_posts import Article, HashingEmbedder, Recommender
from related_posts.eval.errors import UnknownMethodError
from related_posts.eval.methods import (
    DEFAULT_METHODS,
    METHODS,
    Bm25Method,
    Corpus,
    DenseMethod,
    HybridMethod,
    RandomMethod,
    RecommenderMethod,
    TfidfMethod,
    make_method,
    register_method,
    top_indices,
    zscore_excluding,
)
from related_posts.recommend.rank import RankingOptions

TEXTS = [
    "Wheat harvest\nWheat and corn prices rose as the harvest fell short.",
    "Corn exports\nCorn exports rose; wheat stocks fell after a short harvest.",
    "Oil output\nOil output fell and crude prices rose at the refinery.",
    "Crude stocks\nCrude oil stocks fell; refinery output of oil slowed.",
    "Cup final\nThe team won the cup final after extra time.",
    "Coach leaves\nThe coach left the team after the cup defeat.",
]


def _corpus(texts=TEXTS, recommender=None) -> Corpus:
    vectors = HashingEmbedder(64).encode(texts)
    return Corpus(ids=[f"d{i}" for i in range(len(texts))], texts=list(texts), vectors=vectors,
                  recommender=recommender, depth=3)


@pytest.mark.parametrize("name", ["random", "tfidf", "bm25", "dense", "hybrid"])
def test_row_methods_never_return_the_query_and_rank_best_first(name):
    corpus = _corpus()
    method = make_method(name).fit(corpus)
    for query in range(len(corpus)):
        ranking = method.rank(query, depth=10)
        assert query not in ranking.indices.tolist()
        assert len(ranking) == len(corpus) - 1  # depth beyond the corpus: every other article
        assert list(ranking.scores) == sorted(ranking.scores, reverse=True)
        row = method.score_row(query)
        assert ranking.scores[0] == pytest.approx(np.delete(row, query).max())


@pytest.mark.parametrize("name", ["tfidf", "bm25", "dense", "hybrid"])
def test_lexical_and_dense_methods_find_the_same_topic_first(name):
    method = make_method(name).fit(_corpus())
    firsts = [int(method.rank(q, 1).indices[0]) for q in range(6)]
    assert firsts == [1, 0, 3, 2, 5, 4]


def test_tfidf_scores_are_sklearn_cosines():
    corpus = _corpus()
    matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2).fit_transform(TEXTS)
    expected = (matrix @ matrix.T).toarray()
    method = TfidfMethod().fit(corpus)
    for query in range(len(TEXTS)):
        np.testing.assert_allclose(method.score_row(query), expected[query], atol=1e-12)


def test_bm25_by_hand():
    # Tokens kept (in at least 2 documents): apple (df 2), banana (df 3), cherry (df 2).
    # N = 4, lengths 3, 2, 2, 1, so avgdl = 2. idf(apple) = ln(1 + 2.5/2.5) = ln 2,
    # idf(banana) = ln(1 + 1.5/3.5) = ln(10/7).
    texts = ["apple apple banana", "apple banana", "banana cherry", "cherry"]
    method = Bm25Method(k1=1.2, b=0.75).fit(_corpus(texts))
    row = method.score_row(1)  # query "apple banana"
    # d0: apple tf 2, |d| 3 -> K = 1.2 * (0.25 + 0.75 * 3/2) = 1.65
    d0 = math.log(2) * 2 * 2.2 / (2 + 1.65) + math.log(10 / 7) * 1 * 2.2 / (1 + 1.65)
    # d2: banana tf 1, |d| 2 -> K = 1.2
    d2 = math.log(10 / 7) * 2.2 / (1 + 1.2)
    assert row[0] == pytest.approx(d0)
    assert row[2] == pytest.approx(d2)
    assert row[3] == 0.0
    # A repeated query term counts as often as it occurs: query d0 has apple twice.
    row0 = method.score_row(0)
    d1_from_0 = 2 * math.log(2) * 2.2 / (1 + 1.2) + math.log(10 / 7) * 2.2 / (1 + 1.2)
    assert row0[1] == pytest.approx(d1_from_0)


def test_zscore_excluding_ignores_the_query_entry():
    row = np.array([1.0, 2.0, 3.0, 100.0])
    z = zscore_excluding(row, 3)
    spread = math.sqrt(2 / 3)  # population std of 1, 2, 3
    np.testing.assert_allclose(z[:3], [-1 / spread, 0.0, 1 / spread])
    assert zscore_excluding(np.array([5.0, 5.0, 1.0]), 2).tolist() == [0.0, 0.0, -0.0]


def test_hybrid_is_the_sum_of_both_z_scores():
    corpus = _corpus()
    hybrid = HybridMethod().fit(corpus)
    lexical, dense = TfidfMethod().fit(corpus), DenseMethod().fit(corpus)
    expected = zscore_excluding(lexical.score_row(2), 2) + zscore_excluding(dense.score_row(2), 2)
    np.testing.assert_allclose(hybrid.score_row(2), expected)


def test_random_is_seeded_and_order_independent():
    one = RandomMethod().fit(_corpus())
    two = RandomMethod().fit(_corpus())
    assert one.rank(3, 5).indices.tolist() == two.rank(3, 5).indices.tolist()
    two.rank(0, 5)
    np.testing.assert_array_equal(one.score_row(4), two.score_row(4))


def test_top_indices_breaks_ties_by_row_index():
    ranking = top_indices(np.array([0.5, 0.9, 0.5, 0.5, 0.1]), query=1, depth=3)
    assert ranking.indices.tolist() == [0, 2, 3]
    assert len(top_indices(np.array([1.0]), 0, 5)) == 0


def test_pair_scores_are_row_entries():
    corpus = _corpus()
    method = DenseMethod().fit(corpus)
    scores = method.pair_scores([0, 2], [1, 5])
    assert scores.tolist() == pytest.approx([corpus.vectors[0] @ corpus.vectors[1], corpus.vectors[2] @ corpus.vectors[5]])


def test_recommender_method_returns_exactly_the_refreshed_lists(tmp_path: Path):
    embedder = HashingEmbedder(64)
    articles = [Article(f"d{i}", *text.split("\n", 1)) for i, text in enumerate(TEXTS)]
    rec = Recommender(tmp_path / "eval.db", embedder=embedder)
    rec.add(articles)
    corpus = _corpus([a.text for a in articles], recommender=rec)
    method = RecommenderMethod().fit(corpus)

    reference = Recommender(tmp_path / "refresh.db", embedder=embedder)
    reference.add(articles)
    reference.refresh(k=3)
    for query, article in enumerate(articles):
        ranking = method.rank(query, 3)
        assert [corpus.ids[i] for i in ranking.indices] == [item.id for item in reference.related(article.id, k=3)]
        assert query not in ranking.indices.tolist()
    assert method.foreign_ == 0
    # Pair scores are the scores the lists are ranked by: a link's score is its pair's.
    for query, article in enumerate(articles):
        items = reference.related(article.id, k=3)
        scores = method.pair_scores([query] * len(items), [corpus.index[i.id] for i in items])
        assert scores == pytest.approx([item.score for item in items], abs=1e-4)
    # ... not the cosine of the store's vectors the ranking starts from.
    stored = rec.vectors().matrix
    cosine = float(stored[0] @ stored[1])
    assert method.pair_scores([0], [1])[0] != pytest.approx(cosine, abs=1e-4)
    off = RecommenderMethod(ranking=RankingOptions(lexical_weight=0, expand=0)).fit(corpus)
    assert off.pair_scores([0], [1])[0] == pytest.approx(cosine)
    rec.close()
    reference.close()


def test_registry():
    assert list(DEFAULT_METHODS) == list(METHODS)[: len(DEFAULT_METHODS)]
    assert make_method("tfidf").name == "tfidf"
    assert make_method("default").baseline is False
    assert make_method("embed-lead").baseline is False and "embed-body+title" not in METHODS
    with pytest.raises(UnknownMethodError, match="unknown method 'nope'. Valid: random, tfidf"):
        make_method("nope")
    register_method("test-bm25-b0", lambda: Bm25Method(b=0.0))
    try:
        method = make_method("test-bm25-b0")
        assert (method.name, method.b) == ("test-bm25-b0", 0.0)
        with pytest.raises(ValueError, match="already registered"):
            register_method("test-bm25-b0", Bm25Method)
    finally:
        del METHODS["test-bm25-b0"]


def test_embedding_variants_build_on_the_joint_text(tmp_path: Path):
    with Recommender(tmp_path / "variants.db", embedder=HashingEmbedder(64)) as rec:
        corpus = _corpus(recommender=rec)
        dense = DenseMethod().fit(corpus)
        # Texts shorter than a lead or a chunk: every variant is the joint text's vector.
        for name in ("embed-lead", "embed-chunks"):
            method = make_method(name).fit(corpus)
            assert method.score_row(0) == pytest.approx(dense.score_row(0), abs=1e-6), name
        long = _corpus([TEXTS[0] + " harvest" * 400] + TEXTS[1:], recommender=rec)
        chunked = make_method("embed-chunks").fit(long)
        assert chunked.score_row(0) != pytest.approx(DenseMethod().fit(long).score_row(0), abs=1e-3)
