"""Incremental, resumable, concurrent-safe refresh."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from related_posts import Article, HashingEmbedder, Recommender
from related_posts.errors import StoreBusyError
from related_posts.recommend.rank import RankingOptions
from related_posts.store import Store
from related_posts.store.lock import refresh_lock

from .conftest import make_corpus

K = 5


def all_lists(db) -> dict[str, list[str]]:
    conn = sqlite3.connect(db)
    lists: dict[str, list[str]] = {}
    for article_id, related_id in conn.execute("select article_id, related_id from related order by article_id, rank"):
        lists.setdefault(article_id, []).append(related_id)
    conn.close()
    return lists


def build(db, articles, k=K, ranking=None):
    with Recommender(db, embedder=HashingEmbedder(64), ranking=ranking) as rec:
        rec.add(articles)
        return rec.refresh(k=k)


PLAIN = RankingOptions(expand=0)  # no re-ranking: a list depends on pair scores alone


@pytest.mark.parametrize("ranking", [PLAIN, RankingOptions(expand=5)], ids=["plain", "reranked"])
def test_incremental_refresh_equals_a_full_recompute(tmp_path, ranking):
    old, new = make_corpus(300, seed=1), make_corpus(10, seed=2, prefix="n")
    build(tmp_path / "inc.db", old, ranking=ranking)
    with Recommender(tmp_path / "inc.db", embedder=HashingEmbedder(64), ranking=ranking) as rec:
        rec.add(new)
        rec.add(Article(old[0].id, old[0].title, old[0].body + " rocket orbit moon"))  # changed text
        rec.remove([old[1].id, old[2].id])
        report = rec.refresh(k=K)
    assert report.embedded == 0  # add() embedded them already
    assert report.recomputed < 300 / 2, "an incremental refresh must not recompute the site"
    incremental = all_lists(tmp_path / "inc.db")
    if ranking.expand:
        # Re-ranking neighbourhoods are frozen as found: every list recomputed from the
        # same ones must be the incremental lists.
        conn = sqlite3.connect(tmp_path / "inc.db")
        conn.execute("update list_state set stale = 1")
        conn.commit()
        conn.close()
        assert build(tmp_path / "inc.db", [], ranking=ranking).recomputed == len(incremental)
        assert all_lists(tmp_path / "inc.db") == incremental
        return
    expected = {a.id: a for a in old[3:] + new}
    expected[old[0].id] = Article(old[0].id, old[0].title, old[0].body + " rocket orbit moon")
    build(tmp_path / "full.db", list(expected.values()), ranking=ranking)
    assert incremental == all_lists(tmp_path / "full.db")


def test_a_new_article_enters_the_older_lists_it_beats_and_nothing_else_is_touched(tmp_path):
    db = tmp_path / "s.db"
    build(db, make_corpus(200, seed=3))
    conn = sqlite3.connect(db)
    embedded_before = dict(conn.execute("select article_id, embedded_at from embeddings"))
    target = conn.execute("select id, body from articles where id = 'a00007'").fetchone()
    with Recommender(db, embedder=HashingEmbedder(64)) as rec:
        time.sleep(1.1)  # so a re-embedding would show in embedded_at (second resolution)
        rec.add(Article("twin", "close to a00007", target[1] + " extra"))
        report = rec.refresh(k=K)
        assert report.embedded == 0 and report.recomputed == 1  # add() embedded it
        assert report.propagated >= 1
        assert rec.related("a00007", k=1)[0].id == "twin"
    embedded_after = dict(conn.execute("select article_id, embedded_at from embeddings"))
    assert {i: t for i, t in embedded_after.items() if i != "twin"} == embedded_before


def test_removed_article_leaves_every_list_at_once_and_lists_refill(tmp_path):
    db = tmp_path / "s.db"
    build(db, make_corpus(120, seed=4), ranking=PLAIN)
    lists = all_lists(db)
    victim = lists["a00000"][0]
    holders = [a for a, links in lists.items() if victim in links]
    with Recommender(db, embedder=HashingEmbedder(64)) as rec:
        assert rec.remove(victim) == 1
        assert all(victim not in links for links in all_lists(db).values())
        report = rec.refresh(k=K)
        assert report.recomputed == len(holders)
    assert all(len(all_lists(db)[a]) == K for a in holders)


def test_dry_run_writes_nothing_and_shows_before_and_after(tmp_path):
    db = tmp_path / "s.db"
    build(db, make_corpus(100, seed=5))
    with Recommender(db, embedder=HashingEmbedder(64)) as rec:
        rec.store.write_articles(make_corpus(5, seed=6, prefix="n"), None, None)  # not embedded yet
        def snapshot():
            return (all_lists(db), rec.store.db.execute(
                "select count(*), max(computed_at) from list_state").fetchone(),
                rec.store.db.execute("select count(*) from embeddings").fetchone())
        before = snapshot()
        report = rec.refresh(k=K, dry_run=True)
        assert report.dry_run and report.embedded == 5 and report.recomputed == 5
        assert report.sample and {"id", "before", "after"} <= set(report.sample[0])
        assert snapshot() == before
        real = rec.refresh(k=K)  # the real run still has everything to do
        assert (real.embedded, real.recomputed, real.propagated) == (5, 5, report.propagated)


def test_second_refresh_is_refused_while_one_runs(tmp_path):
    db = tmp_path / "s.db"
    build(db, make_corpus(20))
    with refresh_lock(str(db)):
        with Recommender(db, embedder=HashingEmbedder(64)) as rec:
            with pytest.raises(StoreBusyError, match="is being refreshed by pid"):
                rec.refresh(k=K)


def test_changing_k_recomputes_every_list(tmp_path):
    db = tmp_path / "s.db"
    build(db, make_corpus(50))
    with Recommender(db, embedder=HashingEmbedder(64)) as rec:
        assert rec.refresh(k=3).recomputed == 50
    assert {len(v) for v in all_lists(db).values()} == {3}


REFRESH_SCRIPT = textwrap.dedent(
    """
    import sys
    from related_posts.recommend.embed import HashingEmbedder
    from related_posts.recommend.rank import RankingOptions
    from related_posts.recommend.refresh import refresh_store
    from related_posts.store import Store

    full = len(sys.argv) > 2
    refresh_store(Store(sys.argv[1]), HashingEmbedder(64), RankingOptions(k=5), full=full,
                  batch_size=16, list_block=25)
    """
)


def _start_refresh(db, *extra):
    return subprocess.Popen([sys.executable, "-c", REFRESH_SCRIPT, str(db), *extra])


def _store_without_vectors(db, articles):
    store = Store(db)
    store.write_articles(articles, None, None)
    store.close()


@pytest.mark.slow
def test_refresh_killed_at_random_points_then_rerun_matches_an_uninterrupted_run(tmp_path):
    rng = random.Random(7)
    killed, resumed = tmp_path / "killed.db", tmp_path / "clean.db"
    for db in (killed, resumed):
        _store_without_vectors(db, make_corpus(2500, seed=8))
    # Phase 1 builds everything; phase 2 adds articles on top (incremental refresh).
    for phase in (1, 2):
        if phase == 2:
            for db in (killed, resumed):
                store = Store(db)
                store.write_articles(make_corpus(150, seed=9, prefix="n"), None, None)
                store.close()
        kills = 0
        for _ in range(4):
            process = _start_refresh(killed)
            time.sleep(rng.uniform(1.5, 3.5))  # imports take about 1.5 s
            if process.poll() is not None:
                break
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        assert _start_refresh(killed).wait() == 0
        assert _start_refresh(resumed).wait() == 0
        assert all_lists(killed) == all_lists(resumed), f"phase {phase} after {kills} kills"
    conn = sqlite3.connect(killed)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    sizes = dict(conn.execute("select article_id, count(*) from related group by article_id"))
    assert all(size == K for size in sizes.values()) and len(sizes) == 2650


@pytest.mark.slow
def test_readers_always_get_a_complete_list_during_a_refresh(tmp_path):
    db = tmp_path / "s.db"
    _store_without_vectors(db, make_corpus(2000, seed=10))
    assert _start_refresh(db).wait() == 0
    ids = list(all_lists(db))
    process = _start_refresh(db, "--full")
    reads = 0
    with Recommender(db) as reader:
        while process.poll() is None:
            items = reader.related(random.choice(ids), k=K)
            assert [i.rank for i in items] == list(range(1, K + 1))
            reads += 1
    assert process.returncode == 0 and reads > 10


def test_approximate_neighbours_give_the_exact_lists_on_a_small_site(tmp_path):
    exact, approximate = tmp_path / "exact.db", tmp_path / "approx.db"
    articles = make_corpus(400, seed=11)
    build(exact, articles)
    with Recommender(approximate, embedder=HashingEmbedder(64)) as rec:
        rec.add(articles)
        assert rec.refresh(k=K, neighbours="approximate").neighbours == "approximate"
    approximate_lists = all_lists(approximate)
    mismatched = [a for a, links in all_lists(exact).items() if approximate_lists[a] != links]
    assert len(mismatched) <= 4, f"HNSW recall fell: {len(mismatched)} of 400 lists differ"


def test_adding_through_the_api_with_update_lists_matches_a_refresh(tmp_path):
    articles, extra = make_corpus(250, seed=12), make_corpus(12, seed=13, prefix="n")
    for name in ("api", "refresh"):
        build(tmp_path / f"{name}.db", articles)
    with Recommender(tmp_path / "api.db", embedder=HashingEmbedder(64)) as rec:
        rec.vectors()  # cached, so each add updates the in-memory table
        for article in extra:
            rec.add(article, update_lists=True)
        assert rec.refresh(k=K).lists == 0, "nothing left for refresh to do"
    with Recommender(tmp_path / "refresh.db", embedder=HashingEmbedder(64)) as rec:
        for article in extra:  # in the same order: re-ranking freezes neighbourhoods as found
            rec.add(article)
            rec.refresh(k=K)
    assert all_lists(tmp_path / "api.db") == all_lists(tmp_path / "refresh.db")


def test_the_ranking_space_grown_by_add_equals_a_rebuilt_one(tmp_path):
    """add(update_lists=True) enters new and changed articles into the cached ranking
    space row by row (re-ranked rows from their frozen neighbourhoods); every row must
    equal what building the space afresh from the store gives."""
    from dataclasses import replace

    from related_posts.recommend.refresh import ranking_table_for_store, settled_neighbourhoods
    from related_posts.recommend.score import neighbourhood_fingerprint

    articles = make_corpus(150, seed=21)
    build(tmp_path / "s.db", articles)
    extra = [replace(a, published=f"2026-0{1 + n % 9}-10") for n, a in
             enumerate(make_corpus(7, seed=22, prefix="b"))]
    changed = Article(articles[5].id, articles[5].title, articles[5].body + " rocket orbit moon",
                      source="wire", lang="en")
    options = RankingOptions(k=K)

    def assert_same_as_rebuilt(grown, store):
        space = neighbourhood_fingerprint(options, store.model()[0])
        rebuilt = ranking_table_for_store(store, store.vectors(), options,
                                          settled_neighbourhoods(store, space, write=False))
        assert sorted(grown.ids) == rebuilt.ids
        rows = [grown.row_of[i] for i in rebuilt.ids]
        assert (grown.matrix[rows] == rebuilt.matrix).all()
        assert (grown.topic[rows] == rebuilt.topic).all()
        assert (grown.story[rows] == rebuilt.story).all()
        assert [grown.meta[r] for r in rows] == list(rebuilt.meta)
        assert [grown.content_hashes[r] for r in rows] == rebuilt.content_hashes
        assert [grown.ids[r] for r in np.argsort(grown.order)] == rebuilt.ids

    with Recommender(tmp_path / "s.db", embedder=HashingEmbedder(64)) as rec:
        rec.vectors()
        rec.add(extra[0], update_lists=True)  # builds and caches the space
        built = rec._cache.space(options)
        for article in extra[1:]:
            rec.add(article, update_lists=True)
        grown = rec._cache.space(options)
        # Grown into the spare rows, not rebuilt.
        assert grown is not built and grown.matrix.base is built.matrix.base
        assert len(grown) == 157
        assert_same_as_rebuilt(grown, rec.store)
        # A changed text frees the neighbourhoods that named it: the space is rebuilt.
        rec.add(changed, update_lists=True)
        grown = rec._cache.space(options)
        assert_same_as_rebuilt(grown, rec.store)
        assert grown.meta[grown.row_of[changed.id]].source == "wire"
        assert rec.refresh(k=K).lists == 0, "add(update_lists=True) left lists due"


@pytest.mark.parametrize("through", ["refresh", "add"])
def test_new_labels_on_unchanged_text_change_lists_without_re_embedding(tmp_path, through):
    from dataclasses import replace

    from related_posts.recommend.rank import RankingOptions

    articles = make_corpus(150, seed=31)
    ranking = RankingOptions(exclude_labels={"promo"})
    encoded: list[str] = []

    class Counting(HashingEmbedder):
        def encode(self, texts, **kwargs):
            encoded.extend(texts)
            return super().encode(texts, **kwargs)

    with Recommender(tmp_path / "s.db", embedder=Counting(64), ranking=ranking) as rec:
        rec.add(articles)
        rec.refresh(k=K)
        linked = [i for links in all_lists(tmp_path / "s.db").values() for i in links]
        target = max(set(linked), key=linked.count)  # the most linked article
        original = next(a for a in articles if a.id == target)
        encoded.clear()
        rec.vectors()
        report = rec.add(replace(original, labels=("promo",)), update_lists=through == "add")
        assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
        if through == "add":
            assert rec.refresh(k=K).lists == 0, "add(update_lists=True) left lists due"
        else:
            rec.refresh(k=K)
        assert encoded == [], "a metadata change must not re-embed"
        assert rec.store.get(target).labels == ("promo",)
    lists = all_lists(tmp_path / "s.db")
    assert target not in {i for links in lists.values() for i in links}
    expected = [replace(a, labels=("promo",)) if a.id == target else a for a in articles]
    with Recommender(tmp_path / "full.db", embedder=HashingEmbedder(64), ranking=ranking) as rec:
        rec.add(expected)
        rec.refresh(k=K)
    assert lists == all_lists(tmp_path / "full.db")


def test_a_full_refresh_by_all_pairs_gives_the_lists_of_blocked_searches(tmp_path, monkeypatch):
    """Past one pair block, a refresh of every list takes each pair's product once
    (all_pairs_top_k); shrink the block so a small site takes that path."""
    from related_posts.recommend import neighbours

    articles = make_corpus(300, seed=41)
    build(tmp_path / "blocked.db", articles)
    monkeypatch.setattr(neighbours, "PAIR_BLOCK", 64)
    seen: list[int] = []

    class Bar:
        def __init__(self, total=None, desc="", unit=""):
            self.desc = desc

        def update(self, n=1):
            if self.desc == "neighbours":
                seen.append(n)

        def close(self):
            pass

    with Recommender(tmp_path / "pairs.db", embedder=HashingEmbedder(64)) as rec:
        rec.add(articles)
        rec.refresh(k=K, progress=Bar)
    assert sum(seen) == 300 and len(seen) == 5, "the all-pairs path did not run"
    assert all_lists(tmp_path / "pairs.db") == all_lists(tmp_path / "blocked.db")


@pytest.mark.parametrize("labelled_site", [True, False])
def test_labelled_articles_grown_by_add_equal_a_rebuilt_space(tmp_path, labelled_site):
    """Labelled newcomers grow a labelled space row by row; the first labels on a site
    without any rebuild it with a label part. Either way every row equals a rebuild."""
    from dataclasses import replace

    from related_posts.recommend.refresh import ranking_table_for_store, settled_neighbourhoods
    from related_posts.recommend.score import neighbourhood_fingerprint

    tags = ("Science", "Sport", "Money")
    articles = [replace(a, labels=(tags[n % 3],) if labelled_site and n % 2 else ())
                for n, a in enumerate(make_corpus(150, seed=41))]
    build(tmp_path / "s.db", articles)
    extra = [replace(a, labels=(tags[n % 3], "Extra")) for n, a in
             enumerate(make_corpus(5, seed=42, prefix="b"))]
    options = RankingOptions(k=K)
    with Recommender(tmp_path / "s.db", embedder=HashingEmbedder(64)) as rec:
        rec.vectors()
        before = rec._cache.space(options)
        for article in extra:
            rec.add(article, update_lists=True)
        grown = rec._cache.space(options)
        assert bool(before.layout.label_dims) is labelled_site
        assert grown.layout.label_dims  # the newcomers' labels have their part
        store = rec.store
        space = neighbourhood_fingerprint(options, store.model()[0])
        rebuilt = ranking_table_for_store(store, store.vectors(), options,
                                          settled_neighbourhoods(store, space, write=False))
        rows = [grown.row_of[i] for i in rebuilt.ids]
        assert (grown.matrix[rows] == rebuilt.matrix).all()
        assert (grown.topic[rows] == rebuilt.topic).all()
        assert rec.refresh(k=K).lists == 0, "add(update_lists=True) left lists due"
