from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from related_posts import Article, ModelMismatchError, Recommender, StoreError
from related_posts.recommend.embed import HashingEmbedder
from related_posts.store import Store
from related_posts.store.migrations import MIGRATIONS, migrate


def test_new_store_has_readable_tables_and_wal(tmp_path):
    path = tmp_path / "site.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"articles", "embeddings", "related", "settings", "_migrations"} <= tables
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert [r[0] for r in conn.execute("select name from _migrations")] == [n for n, _ in MIGRATIONS]


def test_migrations_run_once(tmp_path):
    store = Store(tmp_path / "site.db")
    assert migrate(store.db) == []


@pytest.mark.parametrize("content", [b"hello, not a database", b"\x89PNG\r\n\x1a\n" + b"\0" * 100])
def test_non_sqlite_file_is_refused_and_left_alone(tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="is not a SQLite database"):
        Store(path)
    assert path.read_bytes() == content


def test_folder_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_vectors_round_trip_as_float32(tmp_path):
    store = Store(tmp_path / "s.db")
    article = Article("a", "T", "B")
    vector = np.array([[0.6, 0.8, 0.0]], dtype=np.float32)
    store.bind_model("m", 3)
    store.write_articles([article], vector, "m")
    table = store.vectors()
    assert table.ids == ["a"] and table.matrix.dtype == np.float32
    assert np.array_equal(table.matrix, vector)
    blob = store.db.execute("select vector from embeddings").fetchone()[0]
    assert len(blob) == 12


def test_store_built_with_one_model_refuses_another(tmp_path, site_articles):
    path = tmp_path / "site.db"
    with Recommender(path, embedder=HashingEmbedder(64)) as rec:
        rec.add(site_articles)
    with pytest.raises(ModelMismatchError, match=r"'hashing-bow-64 body\+0.5\*title' \(dimension 64\); "
                       r"refusing vectors of 'hashing-bow-32 body\+0.5\*title'"):
        Recommender(path, embedder=HashingEmbedder(32))
    with pytest.raises(ModelMismatchError, match="Use --model hashing-bow-64"):
        Recommender(path, model="all-MiniLM-L6-v2")
    with Recommender(path) as rec:  # no model given: the store's own is used
        assert rec.embedder.model_id == "hashing-bow-64"


def test_failed_batch_leaves_nothing_behind(tmp_path):
    store = Store(tmp_path / "s.db")
    good = Article("good", "T", "B")
    store.bind_model("m", 2)
    store.write_articles([good], np.ones((1, 2), np.float32), "m")
    before = store.db.execute("select * from articles").fetchall()
    with pytest.raises(IndexError):
        # The second article has no vector row: the whole batch must roll back.
        store.write_articles([Article("new", "T2", "B2"), Article("good", "changed", "B")],
                             np.ones((1, 2), np.float32), "m")
    assert store.db.execute("select * from articles").fetchall() == before
    assert store.count() == 1


def test_write_lists_replaces_lists(tmp_path, site_articles):
    store = Store(tmp_path / "s.db")
    store.write_articles(site_articles[:3], None, None)
    hashes = {"war-1": site_articles[0].content_hash}
    store.write_lists({"war-1": [("war-2", 0.9), ("war-3", 0.5)]}, hashes, "m", 2)
    store.write_lists({"war-1": [("war-3", 0.7)]}, hashes, "m", 2)
    assert [(link.rank, link.id, link.score) for link in store.related("war-1")] == [(1, "war-3", 0.7)]


def test_vector_table_grows_in_place_and_keeps_id_order_for_ties():
    from related_posts.store import VectorTable

    table = VectorTable(["b", "d"], ["hb", "hd"], np.eye(2, 3, dtype=np.float32))
    grown = table.with_rows(["c", "d", "a"], ["hc", "hd2", "ha"],
                            np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=np.float32))
    assert grown.ids == ["b", "d", "c", "a"] and grown.content_hashes == ["hb", "hd2", "hc", "ha"]
    assert grown.order.tolist() == [1, 3, 2, 0]  # places in id order: a, b, c, d
    assert grown.row_of == {"b": 0, "d": 1, "c": 2, "a": 3}
    assert np.array_equal(grown.matrix[1], [0, 1, 0])
    again = grown.with_rows(["e"], ["he"], np.ones((1, 3), np.float32))
    assert again.order.tolist() == [1, 3, 2, 0, 4]
    assert np.shares_memory(again.matrix, grown.matrix), "appending must not copy every vector"


def test_vector_table_never_writes_into_a_caller_array():
    from related_posts.store import VectorTable

    outer = np.zeros((4, 2), np.float32)
    table = VectorTable(["a"], ["ha"], outer[:1])
    table.with_rows(["b"], ["hb"], np.ones((1, 2), np.float32))
    assert not outer[1:].any()


def test_a_store_from_a_newer_version_is_refused_with_its_migration(tmp_path):
    import sqlite3

    from related_posts.errors import StoreError
    from related_posts.store import Store

    path = tmp_path / "newer.db"
    Store(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("insert into _migrations (name, applied_at) values ('999_future', 'later')")
    with pytest.raises(StoreError, match=r"newer related-posts \(migration 999_future\).*upgrade related-posts"):
        Store(path)
