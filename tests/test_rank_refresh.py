"""Ranking options through the store: planted republications, incremental == full, due lists."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter

import pytest

from related_posts import Article, HashingEmbedder, Recommender
from related_posts.recommend.rank import RankingOptions

K = 5
TOPICS = {
    "rates": "bank rates inflation bonds yields markets investors traders currency policy "
             "economy growth prices lending debt treasury",
    "crops": "wheat harvest farmers grain export tonnes rain drought corn soybean barley "
             "prices silo fields fertiliser yield",
    "space": "rocket launch orbit satellite crew capsule booster moon lander mission engine "
             "pad countdown payload station docking",
}


def story_corpus(stories: int = 60, seed: int = 0) -> tuple[list[Article], dict[str, str]]:
    """Distinct stories (random word order within a topic) and planted republications.

    Every fourth story is republished: with a new headline, with boilerplate around it,
    truncated to 70%, and with one word run replaced. Returns the articles and each
    article's story id.
    """
    rng = random.Random(seed)
    articles, story_of = [], {}
    names = sorted(TOPICS)
    for number in range(stories):
        words = TOPICS[names[number % len(names)]].split()
        body = " ".join(rng.choice(words) for _ in range(60))
        story = f"s{number:03d}"
        versions = [Article(f"{story}-0", f"{names[number % 3]} report {number}", body)]
        if number % 4 == 0:
            cut = body.split()
            versions += [
                Article(f"{story}-1", f"Breaking: {names[number % 3]} news {number}", body),
                Article(f"{story}-2", f"{names[number % 3]} report {number}",
                        "From our wire desk. " + body + " All rights reserved, share this."),
                Article(f"{story}-3", f"{names[number % 3]} report {number}",
                        " ".join(cut[: int(len(cut) * 0.7)])),
                Article(f"{story}-4", f"{names[number % 3]} report {number}",
                        " ".join(cut[:30] + ["officials", "declined", "to", "comment"] + cut[34:])),
            ]
        for article in versions:
            articles.append(article)
            story_of[article.id] = story
    return articles, story_of


def lists_of(db) -> dict[str, list[str]]:
    conn = sqlite3.connect(db)
    found: dict[str, list[str]] = {}
    for article_id, related_id in conn.execute(
            "select article_id, related_id from related order by article_id, rank"):
        found.setdefault(article_id, []).append(related_id)
    conn.close()
    return found


def build(db, articles, ranking=None, k=K):
    with Recommender(db, embedder=HashingEmbedder(64), ranking=ranking) as rec:
        rec.add(articles)
        return rec.refresh(k=k)


def repeated_stories(lists, story_of) -> int:
    return sum(1 for links in lists.values()
               for count in Counter(story_of[i] for i in links).values() if count > 1)


def test_a_list_never_shows_the_same_story_twice(tmp_path):
    articles, story_of = story_corpus()
    build(tmp_path / "plain.db", articles, RankingOptions(same_story=None))
    # Without collapse the republications crowd the lists: the test corpus is not vacuous.
    assert repeated_stories(lists_of(tmp_path / "plain.db"), story_of) > 20
    build(tmp_path / "default.db", articles)
    lists = lists_of(tmp_path / "default.db")
    assert repeated_stories(lists, story_of) == 0
    assert all(len(links) == K for links in lists.values())  # collapse refills, never filler
    assert all(article_id not in links for article_id, links in lists.items())


def test_incremental_refresh_with_republications_equals_a_full_rebuild(tmp_path):
    articles, story_of = story_corpus(seed=1)
    republished = [a for a in articles if not a.id.endswith("-0")]
    originals = [a for a in articles if a.id.endswith("-0")]
    build(tmp_path / "inc.db", originals[:-5])
    changed = Article(originals[3].id, originals[3].title, originals[3].body + " rocket moon")
    with Recommender(tmp_path / "inc.db", embedder=HashingEmbedder(64)) as rec:
        rec.add(originals[-5:] + republished + [changed])
        rec.remove([originals[7].id])
        rec.refresh(k=K)
    expected = {a.id: a for a in originals + republished}
    expected[changed.id] = changed
    del expected[originals[7].id]
    build(tmp_path / "full.db", list(expected.values()))
    assert lists_of(tmp_path / "inc.db") == lists_of(tmp_path / "full.db")
    assert repeated_stories(lists_of(tmp_path / "inc.db"), story_of) == 0


def test_changed_ranking_options_make_every_list_due(tmp_path):
    articles, _ = story_corpus(30)
    db = tmp_path / "s.db"
    build(db, articles)
    assert build(db, [], RankingOptions()).recomputed == 0
    assert build(db, [], RankingOptions(lexical_weight=0.5)).recomputed == len(articles)
    assert build(db, [], RankingOptions(lexical_weight=0.5), k=3).recomputed == len(articles)
    # Lists made before ranking options were recorded (migration 003) are due once.
    conn = sqlite3.connect(db)
    conn.execute("update list_state set options = null")
    conn.commit()
    conn.close()
    assert build(db, [], RankingOptions(lexical_weight=0.5), k=3).recomputed == len(articles)


def recompute_every_list(db, ranking):
    """Refresh with every list due but the stored neighbourhoods kept: the lists a full
    recompute gives from the same frozen neighbourhoods."""
    conn = sqlite3.connect(db)
    conn.execute("update list_state set stale = 1")
    conn.commit()
    conn.close()
    return build(db, [], ranking)


def _fresh(tmp_path, articles, ranking):
    db = tmp_path / "fresh.db"
    build(db, articles, ranking)
    return db


def stored_neighbourhoods(db) -> dict[str, list[str]]:
    conn = sqlite3.connect(db)
    found = {r[0]: r[1].split("\x1f")[1:-1]
             for r in conn.execute("select article_id, neighbours from neighbourhoods")}
    conn.close()
    return found


def test_reranked_refresh_stays_incremental_with_frozen_neighbourhoods(tmp_path):
    articles, story_of = story_corpus(30)
    db = tmp_path / "s.db"
    rerank = RankingOptions(expand=5)
    build(db, articles[:-2], rerank)
    before = stored_neighbourhoods(db)
    assert len(before) == len(articles) - 2 and all(len(n) == 5 for n in before.values())
    report = build(db, articles[-2:], rerank)
    # Two newcomers (3% of the site): their lists, and the older lists they enter.
    assert report.recomputed == 2 and report.recomputed + report.propagated < len(articles) / 2
    after = stored_neighbourhoods(db)
    assert {i: after[i] for i in before} == before  # the older ones stay frozen
    incremental = lists_of(db)
    recompute_every_list(db, rerank)
    assert lists_of(db) == incremental
    assert repeated_stories(incremental, story_of) == 0


def test_changed_and_removed_articles_leave_no_neighbourhood_naming_them(tmp_path):
    articles, _ = story_corpus(30)
    db = tmp_path / "s.db"
    rerank = RankingOptions(expand=5)
    build(db, articles, rerank)
    naming = lambda i: {a for a, near in stored_neighbourhoods(db).items() if i in near}  # noqa: E731
    changed, removed = articles[0], articles[5]
    assert naming(changed.id) and naming(removed.id)
    with Recommender(db, embedder=HashingEmbedder(64), ranking=rerank) as rec:
        rec.add(Article(changed.id, changed.title, changed.body + " drought silo barley"))
        rec.remove(removed.id)
        assert not naming(changed.id) and not naming(removed.id)
        report = rec.refresh(k=K)
    assert report.recomputed < len(articles)
    assert removed.id not in stored_neighbourhoods(db)
    assert all(len(near) == 5 for near in stored_neighbourhoods(db).values())
    incremental = lists_of(db)
    recompute_every_list(db, rerank)
    assert lists_of(db) == incremental


def test_neighbourhoods_are_all_found_again_past_a_tenth_of_new_articles(tmp_path):
    articles, _ = story_corpus(30)
    db = tmp_path / "s.db"
    rerank = RankingOptions(expand=5)
    cut = len(articles) - 8  # 8 newcomers: more than a tenth of the site
    build(db, articles[:cut], rerank)
    report = build(db, articles[cut:], rerank)
    assert report.recomputed == len(articles)
    assert lists_of(db) == lists_of(_fresh(tmp_path, articles, rerank))
    # A full refresh finds them all again too, and a refresh under other options.
    with Recommender(db, embedder=HashingEmbedder(64), ranking=rerank) as rec:
        assert rec.refresh(k=K, full=True).recomputed == len(articles)
    assert build(db, [], RankingOptions(expand=4)).recomputed == len(articles)
    assert all(len(near) == 4 for near in stored_neighbourhoods(db).values())
    assert build(db, [], RankingOptions(expand=4)).recomputed == 0


def test_each_link_says_why_it_is_there(tmp_path):
    articles, _ = story_corpus(12)
    db = tmp_path / "s.db"
    build(db, articles)
    with Recommender(db, embedder=HashingEmbedder(64)) as rec:
        items = rec.related("s001-0", k=K)
        why = rec.store.why("s001-0")
    assert len(why) == len(items) == K
    assert [item.why for item in items] == why  # what `related --json` prints
    for item, parts in zip(items, why):
        assert set(parts) == {"dense", "lexical", "score", "expanded"}
        assert parts["score"] == pytest.approx(item.score, abs=1e-4)
        fused = (parts["dense"] + parts["lexical"]) / 2
        assert parts["score"] == pytest.approx(fused + parts["expanded"], abs=2e-4)


def test_a_new_text_is_ranked_in_the_same_space_as_stored_lists(tmp_path):
    articles, _ = story_corpus(12)
    db = tmp_path / "s.db"
    build(db, articles)
    with Recommender(db, embedder=HashingEmbedder(64)) as rec:
        target = rec.store.get("s002-0")
        fresh = rec.related_to_text(target.title + " update", target.body)
        stored = rec.related("s002-0", k=K)
    assert fresh[0].id == "s002-0"  # the text is that article's story
    assert fresh[0].why["lexical"] > 0.9
    assert set(fresh[0].why) == {"dense", "lexical", "score", "expanded"}
    # Its neighbourhood is the story's: the rest of its list is the story's list.
    assert [i.id for i in fresh[1:]] == [i.id for i in stored[: K - 1]]


def test_refresh_command_takes_the_rerank_option(tmp_path):
    from click.testing import CliRunner

    from related_posts.cli import cli

    articles, _ = story_corpus(12)
    db = tmp_path / "s.db"
    build(db, articles)
    args = ["refresh", "--db", str(db), "--model", "hashing-64", "--quiet", "--json"]
    result = CliRunner().invoke(cli, [*args, "--rerank", "3"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    assert {r[0] for r in conn.execute("select options from list_state")} == {
        RankingOptions(expand=3).fingerprint()}
    conn.close()


def test_lexical_terms_are_cached_per_content_and_dropped_with_the_article(tmp_path):
    articles, _ = story_corpus(12)
    db = tmp_path / "s.db"
    build(db, articles)
    changed = Article(articles[0].id, articles[0].title, articles[0].body + " barley silo")
    with Recommender(db, embedder=HashingEmbedder(64)) as rec:
        assert set(rec.store.lexical_terms()) == {a.id for a in articles}
        rec.add(changed)
        rec.remove(articles[1].id)
        rec.refresh(k=K)
        cached = rec.store.lexical_terms()
    assert articles[1].id not in cached and len(cached) == len(articles) - 1
    assert cached[changed.id][0] == changed.content_hash


def _tagged(articles, every: int = 1):
    """The articles with their topic as a tag (every ``every``-th one), by title word."""
    from dataclasses import replace

    return [replace(a, labels=(a.title.split()[-3].capitalize(),)) if n % every == 0 else a
            for n, a in enumerate(articles)]


def scores_of(db) -> dict[str, list[tuple[str, float]]]:
    conn = sqlite3.connect(db)
    found: dict[str, list[tuple[str, float]]] = {}
    for article_id, related_id, score in conn.execute(
            "select article_id, related_id, score from related order by article_id, rank"):
        found.setdefault(article_id, []).append((related_id, score))
    conn.close()
    return found


def test_a_site_without_labels_keeps_its_scores_whatever_the_label_weight(tmp_path):
    articles, _ = story_corpus(20)
    build(tmp_path / "a.db", articles, RankingOptions())
    build(tmp_path / "b.db", articles, RankingOptions(label_weight=0.0))
    assert scores_of(tmp_path / "a.db") == scores_of(tmp_path / "b.db")


def test_shared_tags_raise_a_pair_and_say_so(tmp_path):
    articles, _ = story_corpus(24)
    # One rates story and one space story share a tag no other article has.
    odd = {"s000-0": ("Special",), "s002-0": ("Special",)}
    from dataclasses import replace

    tagged = [replace(a, labels=odd.get(a.id, ())) for a in articles]
    build(tmp_path / "off.db", tagged, RankingOptions(label_weight=0.0))
    build(tmp_path / "on.db", tagged, RankingOptions(label_weight=3.0))
    assert "s002-0" not in lists_of(tmp_path / "off.db")["s000-0"]
    assert lists_of(tmp_path / "on.db")["s000-0"][0] == "s002-0"
    with Recommender(tmp_path / "on.db", embedder=HashingEmbedder(64),
                     ranking=RankingOptions(label_weight=3.0)) as rec:
        [first, *others] = rec.related("s000-0", k=K)
    assert first.why["labels"] == pytest.approx(1.0) and others[0].why["labels"] == 0.0
    # Its score is the labelled pair's formula before re-ranking plus what re-ranking added.
    fused = (first.why["dense"] + first.why["lexical"] + 3.0 * first.why["labels"]) / 5.0
    assert first.score == pytest.approx(fused + first.why["expanded"], abs=2e-4)


def test_labelled_refresh_stays_incremental_through_new_and_relabelled_articles(tmp_path):
    articles, _ = story_corpus(30)
    tagged = _tagged(articles, every=2)
    db = tmp_path / "s.db"
    ranking = RankingOptions(expand=5)
    build(db, tagged[:-2], ranking)
    build(db, tagged[-2:], ranking)
    incremental = scores_of(db)
    recompute_every_list(db, ranking)
    assert scores_of(db) == incremental
    # New labels on an unchanged text: the neighbourhoods holding it are found again,
    # and the lists are those a recompute from the same neighbourhoods gives.
    from dataclasses import replace

    target = tagged[1]
    assert any(target.id in near for near in stored_neighbourhoods(db).values())
    with Recommender(db, embedder=HashingEmbedder(64), ranking=ranking) as rec:
        rec.add(replace(target, labels=("Crops", "Harvest")))
        assert not any(target.id in near for near in stored_neighbourhoods(db).values())
        rec.refresh(k=K)
    relabelled = scores_of(db)
    recompute_every_list(db, ranking)
    assert scores_of(db) == relabelled
    assert relabelled != incremental
