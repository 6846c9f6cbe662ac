"""What is embedded: body plus a weighted title vector, and the vector id that names it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from related_posts import Article, HashingEmbedder, Recommender
from related_posts.recommend.embed import (
    TITLE_WEIGHT,
    article_vectors,
    load_embedder,
    model_id_for,
    model_id_of,
    normalise,
    split_precision,
    vector_model_id,
)
from related_posts.store import Store

from .conftest import make_corpus

TITLES = ["Drones strike near Kursk", "", "Sourdough for beginners", "", "  "]
BODIES = ["Ukrainian drones hit Russian positions.", "Rye flour and a ripe starter.", "", "", "\n"]


def test_article_vectors_are_body_plus_half_the_title_renormalised():
    embedder = HashingEmbedder(64)
    body, title = embedder.encode([BODIES[0]]), embedder.encode([TITLES[0]])
    expected = normalise(body + 0.5 * title)
    got = article_vectors(embedder, TITLES[:1], BODIES[:1])
    assert TITLE_WEIGHT == 0.5
    assert got.dtype == np.float32 and got.shape == (1, 64)
    assert np.allclose(got, expected, atol=1e-6)
    assert not np.allclose(got, embedder.encode([Article("a", TITLES[0], BODIES[0]).text]))


def test_an_empty_part_leaves_the_other_alone_and_rows_are_unit():
    embedder = HashingEmbedder(64)
    got = article_vectors(embedder, TITLES, BODIES)
    assert np.allclose(np.linalg.norm(got[:3], axis=1), 1.0, atol=1e-6)
    assert np.allclose(got[1], embedder.encode([BODIES[1]])[0], atol=1e-6)  # no title
    assert np.allclose(got[2], embedder.encode([TITLES[2]])[0], atol=1e-6)  # no body
    # Neither (whitespace is empty): the empty text's vector, zero for the hashing embedder.
    assert np.array_equal(got[3:], embedder.encode(["", ""]))


def test_titles_and_bodies_go_through_one_encode_call():
    calls: list[list[str]] = []

    class Counting(HashingEmbedder):
        def encode(self, texts, **options):
            calls.append(list(texts))
            return super().encode(texts, **options)

    article_vectors(Counting(32), TITLES, BODIES)
    assert calls == [[TITLES[0], TITLES[2], BODIES[0], BODIES[1], "", ""]]
    assert article_vectors(Counting(32), [], []).shape == (0, 32) and len(calls) == 1
    with pytest.raises(ValueError, match="2 titles but 1 bodies"):
        article_vectors(Counting(32), ["a", "b"], ["c"])


def test_vector_ids_name_model_and_recipe():
    vector_id = vector_model_id("sentence-transformers/all-MiniLM-L6-v2")
    assert vector_id == "sentence-transformers/all-MiniLM-L6-v2 body+0.5*title"
    assert model_id_of(vector_id) == "sentence-transformers/all-MiniLM-L6-v2"
    assert model_id_of("hashing-bow-64") == "hashing-bow-64"  # an id of the old recipe


def test_added_and_refreshed_articles_store_the_recipe(tmp_path: Path, site_articles):
    embedder = HashingEmbedder(64)
    with Recommender(tmp_path / "s.db", embedder=embedder) as rec:
        rec.add(site_articles[:4])  # embedded by add()
        rec.store.write_articles(site_articles[4:], None, None)  # embedded by refresh
        assert rec.refresh(k=3).embedded == len(site_articles) - 4
        assert rec.store.model() == ("hashing-bow-64 body+0.5*title", 64)
        for article in site_articles:
            expected = article_vectors(embedder, [article.title], [article.body])[0]
            assert np.allclose(rec.store.vector(article.id), expected, atol=1e-6)
    with Recommender(tmp_path / "s.db") as rec:  # the store's own model, from its vector id
        assert rec.embedder.model_id == "hashing-bow-64"


def _lists(path: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    rows = conn.execute("select article_id, related_id from related order by article_id, rank")
    lists: dict[str, list[str]] = {}
    for article_id, related_id in rows:
        lists.setdefault(article_id, []).append(related_id)
    conn.close()
    return lists


def _make_pre_recipe_store(path: Path, articles: list[Article], embedder: HashingEmbedder) -> None:
    """A store as the release before migration 005 left it: every vector made from the
    joint text, and every model id (settings, vectors, lists) the bare model id."""
    with Recommender(path, embedder=embedder) as rec:
        rec.add(articles)
        rec.refresh(k=5)
    old = embedder.encode([a.text for a in articles])
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany("update embeddings set vector = ?, model_id = ? where article_id = ?",
                         [(old[i].astype("<f4").tobytes(), embedder.model_id, a.id)
                          for i, a in enumerate(articles)])
        for table in ("related", "list_state"):
            conn.execute(f"update {table} set model_id = ?", [embedder.model_id])
        conn.execute("update settings set value = ? where key = 'model_id'", [embedder.model_id])
        conn.execute("delete from _migrations where name = '005_vector_recipe'")
    conn.close()


def test_an_older_store_re_embeds_everything_on_its_next_refresh(tmp_path: Path):
    articles = make_corpus(60, seed=5)
    embedder = HashingEmbedder(64)
    path = tmp_path / "old.db"
    _make_pre_recipe_store(path, articles, embedder)
    served = _lists(path)

    with Recommender(path, embedder=embedder) as rec:  # opening it migrates it
        assert rec.store.model() == (vector_model_id(embedder.model_id), 64)
        # Until the refresh: the old lists are served, no old vector counts as current.
        assert [i.id for i in rec.related(articles[0].id, k=5)] == served[articles[0].id]
        assert len(rec.store.unembedded(rec.store.model()[0])) == len(articles)
        assert rec.store.vector(articles[0].id) is None and len(rec.vectors()) == 0
        report = rec.refresh(k=5)
        assert (report.embedded, report.recomputed) == (len(articles), len(articles))
        expected = article_vectors(embedder, [a.title for a in articles], [a.body for a in articles])
        assert np.allclose(rec.vectors().matrix, expected, atol=1e-6)
        assert rec.refresh(k=5).lists == 0  # nothing left due
    conn = sqlite3.connect(path)
    ids = {table: {r[0] for r in conn.execute(f"select distinct model_id from {table}")}
           for table in ("embeddings", "related", "list_state")}
    conn.close()
    assert ids == dict.fromkeys(ids, {vector_model_id(embedder.model_id)})

    fresh = tmp_path / "fresh.db"
    with Recommender(fresh, embedder=embedder) as rec:
        rec.add(articles)
        rec.refresh(k=5)
    assert _lists(path) == _lists(fresh)


def test_the_recipe_migration_leaves_new_and_empty_stores_alone(tmp_path: Path):
    from related_posts.store.migrations import migrate

    store = Store(tmp_path / "s.db")
    store.bind_model(vector_model_id("m"), 3)
    store.db.execute("delete from _migrations where name = '005_vector_recipe'")
    assert migrate(store.db) == ["005_vector_recipe"]
    assert store.model() == ("m body+0.5*title", 3)  # already suffixed: not twice
    store.close()
    empty = Store(tmp_path / "empty.db")
    empty.db.execute("delete from _migrations where name = '005_vector_recipe'")
    assert migrate(empty.db) == ["005_vector_recipe"] and empty.model() is None
    empty.close()


def test_a_bfloat16_model_is_named_apart_from_its_float32_one():
    assert split_precision("all-MiniLM-L6-v2@bfloat16") == ("all-MiniLM-L6-v2", "bfloat16")
    assert split_precision("/models/mine") == ("/models/mine", "float32")
    assert model_id_for("all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"
    assert (model_id_for("all-MiniLM-L6-v2@bfloat16")
            == "sentence-transformers/all-MiniLM-L6-v2@bfloat16")
    # The store's id names the model again, so a later run loads the same precision.
    assert model_id_for(model_id_for("all-MiniLM-L6-v2@bfloat16")) == (
        "sentence-transformers/all-MiniLM-L6-v2@bfloat16")
    assert model_id_for("/models/mine@bfloat16") == "/models/mine@bfloat16"


@pytest.mark.slow
def test_the_bfloat16_model_gives_nearly_the_float32_vectors(real_embedder, tmp_path: Path):
    reduced = load_embedder("all-MiniLM-L6-v2@bfloat16")
    texts = ["Ukrainian drones hit Russian positions near Kursk.",
             "Feed the starter with flour and water, then bake the sourdough.",
             "The point guard hit five threes as the team won in overtime."]
    full, half = real_embedder.encode(texts), reduced.encode(texts)
    assert half.dtype == np.float32 and half.shape == full.shape
    cosines = (full * half).sum(axis=1)
    assert cosines.min() > 0.999 and not np.array_equal(full, half)
    # A store made with it keeps its id, and a refresh that names no model reloads it.
    with Recommender(tmp_path / "half.db", embedder=reduced) as rec:
        rec.add([Article("a", "Drones near Kursk", texts[0])])
    with Recommender(tmp_path / "half.db") as rec:
        assert rec.store.model()[0].startswith("sentence-transformers/all-MiniLM-L6-v2@bfloat16 ")
        rec.add([Article("b", "Sourdough", texts[1])])
        rec.refresh(k=1)
        assert [item.id for item in rec.related("a", k=1)] == ["b"]
