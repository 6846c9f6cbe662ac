"""The ranking step and the ranking space: pure functions, pinned to hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from related_posts.recommend.lexical import (
    SHINGLE_DIMS,
    Terms,
    article_terms,
    label_matrix,
    lexical_matrix,
    shingle_matrix,
    term_hash,
)
from related_posts.recommend.rank import (
    SAME_STORY,
    Features,
    RankingOptions,
    published_days,
    rank,
    time_label,
)
from related_posts.recommend.score import Layout
from related_posts.recommend.space import (
    ArticleMeta,
    build_ranking_table,
    calibrate_floor,
    expanded_rows,
    explain,
    find_neighbourhoods,
    fuse,
    merge_offers,
    neighbour_weights,
)
from related_posts.store import VectorTable

OFF = {"lexical_weight": 0.0, "same_story": None}


def ids_of(links):
    return [i for i, _ in links]


# -- lexical signal ------------------------------------------------------------------------------


def test_terms_are_sublinear_unit_length_and_skip_stop_words():
    terms = article_terms("Apple apple banana. The banana? apple")
    weights = dict(zip(terms.hashes.tolist(), terms.weights.tolist()))
    # apple x3 -> 1 + ln 3 = 2.0986, banana x2 -> 1 + ln 2 = 1.6931; norm 2.6965
    assert weights[term_hash("apple")] == pytest.approx(0.778283, abs=1e-6)
    assert weights[term_hash("banana")] == pytest.approx(0.627914, abs=1e-6)
    assert len(terms) == 2  # "the" is a stop word
    assert terms.shingles.size == 3  # apple apple banana / apple banana banana / banana banana apple


def test_terms_survive_the_blob_round_trip():
    terms = article_terms("rockets launch from the pad at dawn, rockets land at dusk")
    back = Terms.from_blobs(*terms.to_blobs())
    np.testing.assert_array_equal(back.hashes, terms.hashes)
    np.testing.assert_array_equal(back.weights, terms.weights)
    np.testing.assert_array_equal(back.shingles, terms.shingles)
    with pytest.raises(ValueError, match="2 hashes but 1 weights"):
        Terms.from_blobs(terms.hashes[:2].tobytes(), terms.weights[:1].tobytes())


def test_lexical_cosine_of_two_texts():
    left, right = article_terms("apple banana"), article_terms("apple cherry")
    matrix = lexical_matrix([left, right], dims=2**20)  # buckets wide enough not to collide
    # each text: two terms of weight 1/sqrt(2); one shared term -> cosine 1/2
    assert float(matrix[0] @ matrix[1]) == pytest.approx(0.5, abs=1e-6)


def test_ignored_terms_are_no_signal_and_empty_texts_give_zero_rows():
    terms = [article_terms("acme rockets"), article_terms("acme bread"), article_terms("the of")]
    plain = lexical_matrix(terms, dims=2**20)
    ignoring = lexical_matrix(terms, dims=2**20, ignore=["ACME"])
    assert float(plain[0] @ plain[1]) == pytest.approx(0.5, abs=1e-6)
    assert float(ignoring[0] @ ignoring[1]) == pytest.approx(0.0, abs=1e-6)
    assert not ignoring[2].any()
    with pytest.raises(ValueError, match="dims must be at least 1"):
        lexical_matrix(terms, dims=0)


def test_shingles_tell_a_republication_from_the_same_topic():
    story = ("central bank raises interest rates half point fight inflation markets fall "
             "investors sell bonds traders expect further rises next quarter")
    copy = "New headline here\n" + story + " copyright example media"
    same_topic = ("inflation fight central bank markets bonds interest rates traders investors "
                  "quarter rises expect point sell half fall further next")  # same words, shuffled
    vectors = shingle_matrix([article_terms(t) for t in (story, copy, same_topic)])
    assert vectors.shape == (3, SHINGLE_DIMS)
    assert float(vectors[0] @ vectors[1]) >= SAME_STORY
    assert float(vectors[0] @ vectors[2]) < 0.2


# -- fusion and re-ranking -----------------------------------------------------------------------


def test_fused_score_is_the_weighted_mean_of_the_two_cosines():
    dense = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)  # cosine 0.6
    lexical = np.array([[1.0, 0.0], [0.2, np.sqrt(0.96)]], dtype=np.float32)  # cosine 0.2
    none = np.zeros((2, 0), dtype=np.float32)
    for weight, expected in [(0.0, 0.6), (1.0, 0.4), (0.5, (0.6 + 0.5 * 0.2) / 1.5)]:
        layout = Layout(2, 2 if weight else 0, 0, weight, 0.0)
        fused = fuse(dense, lexical if weight else none, none, layout)
        assert float(fused[0] @ fused[1]) == pytest.approx(expected, abs=1e-6)
        np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-6)


def test_labels_join_the_score_only_between_labelled_articles():
    dense = np.array([[1.0, 0.0], [0.6, 0.8], [0.6, 0.8], [1.0, 0.0]], dtype=np.float32)
    lexical = np.array([[1.0, 0.0], [0.2, np.sqrt(0.96)]] * 2, dtype=np.float32)
    labels = label_matrix([["Cycling", "Repairs"], ["cycling"], [], []])
    assert float(labels[0] @ labels[1]) == pytest.approx(1 / np.sqrt(2), abs=1e-6)
    fused = fuse(dense, lexical, labels, Layout(2, 2, labels.shape[1], 1.0, 0.5))
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-6)
    # Two labelled rows: (dense + lexical + 0.5 * label cosine) / 2.5.
    assert float(fused[0] @ fused[1]) == pytest.approx((0.6 + 0.2 + 0.5 / np.sqrt(2)) / 2.5, abs=1e-6)
    # Two unlabelled rows score as they did without labels; a mixed pair in between.
    assert float(fused[3] @ fused[2]) == pytest.approx((0.6 + 0.2) / 2, abs=1e-6)
    assert float(fused[0] @ fused[2]) == pytest.approx((0.6 + 1.0) / np.sqrt(2 * 2.5), abs=1e-6)
    layout = Layout(2, 2, labels.shape[1], 1.0, 0.5)
    assert layout.labelled(fused).tolist() == [True, True, False, False]
    np.testing.assert_allclose(layout.part(fused, layout.labels), labels, atol=1e-6)
    np.testing.assert_allclose(layout.part(fused, layout.lexical), lexical, atol=1e-6)


def test_neighbour_weights_measure_the_lead_over_the_last_neighbour():
    weights = neighbour_weights(np.array([[0.9, 0.7, 0.5], [0.4, 0.4, 0.4], [0.8, 0.6, -np.inf]]))
    np.testing.assert_allclose(weights, [[2 / 3, 1 / 3, 0], [1 / 3, 1 / 3, 1 / 3], [1, 0, 0]])


def test_expansion_pulls_each_row_towards_its_neighbours():
    dense = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    options = RankingOptions(lexical_weight=0.0, expand=1, expand_weight=1.0)
    indices, weights = find_neighbourhoods(dense, 1)
    assert indices.tolist() == [[1], [0], [1]] and weights.tolist() == [[1.0], [1.0], [1.0]]
    out = expanded_rows(dense, indices, weights, dense, 2, options)
    # row 0 + row 1 = (1.8, 0.6) -> (0.9487, 0.3162); row 2 + row 1 = (0.8, 1.6) -> (0.4472, 0.8944)
    np.testing.assert_allclose(out[0], [0.948683, 0.316228], atol=1e-5)
    np.testing.assert_allclose(out[2], [0.447214, 0.894427], atol=1e-5)
    # A row computed alone is the same row computed with the site (incremental == full).
    np.testing.assert_array_equal(expanded_rows(dense[2:], indices[2:], weights[2:], dense, 2,
                                                options), out[2:])
    found, _ = find_neighbourhoods(dense, 1, rows=np.array([2]))
    assert found.tolist() == [[1]]


def test_expansion_normalises_the_dense_and_lexical_parts_apart():
    dense = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    lexical = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    options = RankingOptions(lexical_weight=1.0, expand=1, expand_weight=1.0)
    topic = fuse(dense, lexical, np.zeros((2, 0), dtype=np.float32), Layout(2, 3, 0, 1.0, 0.0))
    indices, weights = find_neighbourhoods(topic, 1)
    out = expanded_rows(topic, indices, weights, topic, 2, options)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    # Each part is (own + neighbour) / sqrt(2), scaled by 1 / sqrt(2) in the fused row.
    np.testing.assert_allclose(out[0], [0.5, 0.5, 0.5, 0.0, 0.5], atol=1e-6)


def test_calibrated_floor_is_a_quantile_of_random_pair_scores():
    matrix = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    assert calibrate_floor(matrix, 0.5) == 1.0
    assert calibrate_floor(matrix[:1], 0.5) is None
    spread = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    # pair scores are 0 (rows 0,1), 0.6 (0,2) and 0.8 (1,2): the top decile is near 0.8
    assert 0.6 < calibrate_floor(spread, 0.9) <= 0.8


# -- rank ----------------------------------------------------------------------------------------


def test_rank_drops_self_and_exact_duplicates_and_cuts_to_k():
    links = rank(["q", "a", "a2", "b", "c"], [1.0, 0.9, 0.9, 0.8, 0.7], ["hq", "ha", "ha", "hb", "hq"],
                 query_id="q", query_hash="hq", options=RankingOptions(k=2, **OFF))
    assert links == [("a", 0.9), ("b", 0.8)]


def test_same_story_links_collapse_to_the_best_scored_one():
    story = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    features = Features(story=story)
    args = (["a", "b", "c"], [0.9, 0.8, 0.7], ["ha", "hb", "hc"])
    collapsed = rank(*args, query_id="q", query_hash="hq", features=features,
                     options=RankingOptions(k=3, lexical_weight=0.0, same_story=0.5))
    assert ids_of(collapsed) == ["a", "c"]  # b is a's story (0.6 >= 0.5); c is b's, not a's
    kept = rank(*args, query_id="q", query_hash="hq", features=features,
                options=RankingOptions(k=3, lexical_weight=0.0, same_story=0.9))
    assert ids_of(kept) == ["a", "b", "c"]


def test_mmr_trades_relevance_for_novelty():
    topic = np.array([[1.0, 0.0], [0.9, np.sqrt(0.19)], [0.1, np.sqrt(0.99)]], dtype=np.float32)
    args = (["a", "b", "c"], [0.9, 0.85, 0.6], ["ha", "hb", "hc"])
    features = Features(topic=topic)
    # after a: b scores 0.5*0.85 - 0.5*0.9 = -0.025, c scores 0.5*0.6 - 0.5*0.1 = 0.25
    assert ids_of(rank(*args, query_id="q", query_hash="hq", features=features,
                       options=RankingOptions(k=3, mmr=0.5, **OFF))) == ["a", "c", "b"]
    assert ids_of(rank(*args, query_id="q", query_hash="hq", features=features,
                       options=RankingOptions(k=3, mmr=1.0, **OFF))) == ["a", "b", "c"]


def test_time_rules_decay_filter_and_label():
    published = [130.0, 100.0, 40.0, None]
    features = Features(published=published, query_published=100.0)
    args = (["newer", "same-day", "older", "undated"], [0.9, 0.8, 0.7, 0.5], ["h1", "h2", "h3", "h4"])
    decayed = rank(*args, query_id="q", query_hash="hq", features=features,
                   options=RankingOptions(k=4, half_life_days=30.0, **OFF))
    # newer: 0.9 * 0.5 = 0.45; older: 0.7 * 0.25 = 0.175; undated keeps 0.5
    assert decayed == [("same-day", 0.8), ("undated", 0.5), ("newer", pytest.approx(0.45)),
                       ("older", pytest.approx(0.175))]
    background = rank(*args, query_id="q", query_hash="hq", features=features,
                      options=RankingOptions(k=4, direction="background", **OFF))
    assert ids_of(background) == ["same-day", "older", "undated"]
    follow_up = rank(*args, query_id="q", query_hash="hq", features=features,
                     options=RankingOptions(k=4, direction="follow-up", **OFF))
    assert ids_of(follow_up) == ["newer", "same-day", "undated"]
    recent = rank(*args, query_id="q", query_hash="hq", features=features,
                  options=RankingOptions(k=4, max_age_days=30.0, **OFF))
    assert ids_of(recent) == ["newer", "same-day", "undated"]
    assert time_label(100.0, 40.0) == "background" and time_label(100.0, 130.0) == "follow-up"
    assert time_label(None, 40.0) is None
    assert published_days("1970-01-11") == 10.0
    assert published_days("1970-01-02T12:00:00Z") == 1.5
    assert published_days("not a date") is None


def test_controls_exclude_pin_and_keep_the_language():
    features = Features(sources=["wire", "blog", "wire", "wire"], langs=["en", "en", "de", None],
                        query_lang="EN")
    args = (["a", "b", "c", "d"], [0.9, 0.8, 0.7, 0.6], ["ha", "hb", "hc", "hd"])
    links = rank(*args, query_id="q", query_hash="hq", features=features,
                 options=RankingOptions(k=4, exclude_ids={"a"}, exclude_sources={"blog"}, **OFF))
    assert ids_of(links) == ["d"]  # a excluded, b from an excluded source, c in German
    mixed = rank(*args, query_id="q", query_hash="hq", features=features,
                 options=RankingOptions(k=4, same_language=False, **OFF))
    assert ids_of(mixed) == ["a", "b", "c", "d"]
    pinned = rank(*args, query_id="q", query_hash="hq", features=features,
                  options=RankingOptions(k=2, pins={"q": ("c", "d")}, min_score=0.95, **OFF))
    assert ids_of(pinned) == ["c", "d"]  # pins come first, whatever the language or floor


def test_labels_exclude_every_link_that_carries_one_of_them():
    features = Features(labels=[("world",), ("sport", "promo"), (), ("Promo",)])
    args = (["a", "b", "c", "d"], [0.9, 0.8, 0.7, 0.6], ["ha", "hb", "hc", "hd"])
    links = rank(*args, query_id="q", query_hash="hq", features=features,
                 options=RankingOptions(k=4, exclude_labels=["promo"], **OFF))
    assert ids_of(links) == ["a", "c", "d"]  # labels match exactly, case included


def test_floor_leaves_fewer_links_rather_than_filler():
    args = (["a", "b", "c"], [0.9, 0.5, 0.4], ["ha", "hb", "hc"])
    assert ids_of(rank(*args, query_id="q", query_hash="hq", floor=0.45,
                       options=RankingOptions(k=3, **OFF))) == ["a", "b"]
    assert ids_of(rank(*args, query_id="q", query_hash="hq", floor=0.45,
                       options=RankingOptions(k=3, min_score=0.6, **OFF))) == ["a"]


@pytest.mark.parametrize("bad, message", [
    ({"k": 0}, "k must be at least 1"),
    ({"lexical_weight": -1}, "lexical_weight must be 0 or more"),
    ({"expand": -2}, "expand must be 0"),
    ({"same_story": 1.5}, "same_story must be in"),
    ({"mmr": 2}, "mmr must be in"),
    ({"floor_quantile": 1.0}, "floor_quantile must be in"),
    ({"half_life_days": 0}, "half_life_days must be positive"),
    ({"direction": "sideways"}, "direction must be one of any, background, follow-up"),
])
def test_bad_options_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        RankingOptions(**bad)


def test_fingerprint_ignores_k_and_tells_options_apart():
    assert RankingOptions(k=3).fingerprint() == RankingOptions(k=10).fingerprint()
    assert RankingOptions().fingerprint() != RankingOptions(lexical_weight=0.5).fingerprint()
    assert (RankingOptions(exclude_ids=["b", "a"]).fingerprint()
            == RankingOptions(exclude_ids={"a", "b"}).fingerprint())
    assert RankingOptions().incremental and RankingOptions(expand=10).incremental
    assert not RankingOptions(mmr=0.8).incremental


# -- the ranking table -----------------------------------------------------------------------------


def _table(texts, dense, meta=None, **options):
    table = VectorTable([f"a{i}" for i in range(len(texts))], [f"h{i}" for i in range(len(texts))],
                        np.asarray(dense, dtype=np.float32))
    meta = meta or [ArticleMeta()] * len(texts)
    return build_ranking_table(table, [article_terms(t) for t in texts], meta,
                               RankingOptions(**options))


def test_explanations_give_the_score_components():
    texts = ["apple banana", "apple cherry", "plum"]
    dense = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]
    meta = [ArticleMeta(published=10.0), ArticleMeta(published=5.0), ArticleMeta()]
    table = _table(texts, dense, meta, lexical_dims=2**20, expand=0)
    score = float(table.matrix[0] @ table.matrix[1])
    assert score == pytest.approx((0.6 + 0.5) / 2, abs=1e-6)
    [why] = explain(table, 0, [("a1", score)])
    assert why == {"dense": 0.6, "lexical": 0.5, "score": 0.55, "time": "background"}
    # With re-ranking the score also holds what the neighbourhoods added.
    table = _table(texts, dense, meta, lexical_dims=2**20, expand=1)
    score = float(table.matrix[0] @ table.matrix[1])
    [why] = explain(table, 0, [("a1", score)])
    assert why["expanded"] == pytest.approx(round(score - 0.55, 4), abs=1e-4) and why["expanded"] > 0


def test_merge_falls_back_to_a_search_when_a_newcomer_is_a_links_story():
    story = "central bank raises rates again to fight inflation as markets fall sharply"
    texts = [story, "weather sunny warm weekend beaches crowded", story + " copyright",
             "bread flour water oven loaf"]
    dense = np.eye(4, dtype=np.float32)
    table = _table(texts, dense, k=2)
    options = RankingOptions(k=2)
    assert merge_offers(table, 1, [("a0", 0.3), ("a3", 0.2)], [("a2", 0.25)], options) is None
    assert merge_offers(table, 1, [("a0", 0.3)], [("a3", 0.25)], options) is None  # short list
    merged = merge_offers(table, 0, [("a1", 0.3), ("a3", 0.2)], [("a2", 0.25)], options)
    assert merged == [("a1", 0.3), ("a2", 0.25)]  # a2 is the query's own story: allowed once
