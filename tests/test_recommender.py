from __future__ import annotations

import pytest

from related_posts import Article, NotEmbeddedError, Recommender, UnknownArticleError
from related_posts.recommend.parse import parse_text
from related_posts.recommend.recommender import Skipped


def test_lists_never_hold_the_article_itself_or_an_exact_duplicate(rec, site_articles):
    for article in site_articles:
        items = rec.related(article.id, k=3)
        ids = [i.id for i in items]
        assert article.id not in ids
        assert not {"bread-2", "bread-2-copy"} <= set(ids), "two copies of one text in a list"
        assert [i.rank for i in items] == list(range(1, len(items) + 1))
        assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
    assert "bread-2-copy" not in [i.id for i in rec.related("bread-2")]


def test_related_finds_the_same_topic(rec):
    assert {i.id for i in rec.related("war-1", k=2)} == {"war-2", "war-3"}
    assert rec.related("hoops-1", k=1)[0].id == "hoops-2"


def test_related_to_text_for_an_unstored_article(rec):
    items = rec.related_to_text("Bread tips", "A starter, flour and water make good sourdough bread.", k=2)
    assert {i.id for i in items} <= {"bread-1", "bread-2", "bread-2-copy"}
    assert items[0].teaser


def test_adding_unchanged_content_does_nothing_and_changed_content_is_reembedded(rec, site_articles):
    before = rec.store.vector("war-1").copy()
    report = rec.add(site_articles)
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(site_articles))
    changed = Article("war-1", "Drones strike near Kursk", "Sourdough bread, flour and a starter.")
    report = rec.add(changed)
    assert (report.added, report.updated) == (0, 1)
    assert not (rec.store.vector("war-1") == before).all()
    assert rec.store.get("war-1").body == changed.body


def test_duplicate_ids_in_one_batch_keep_the_first(tmp_path, embedder):
    with Recommender(tmp_path / "s.db", embedder=embedder) as rec:
        report = rec.add([Article("a", "First", "one"), Article("a", "Second", "two"),
                          Skipped("x.csv:3", "missing required field 'title'")])
        assert report.added == 1 and rec.store.get("a").title == "First"
        assert [str(s) for s in report.skipped] == [
            "a: duplicate id in this batch; first kept", "x.csv:3: missing required field 'title'"]


def test_new_article_is_answered_before_a_refresh(rec):
    rec.add(Article("hoops-3", "Basketball team signs a guard", "The basketball team signed a point guard after the overtime win."))
    items = rec.related("hoops-3", k=2)
    assert {i.id for i in items} <= {"hoops-1", "hoops-2"} and len(items) == 2


def test_refresh_with_nothing_new_does_nothing_and_full_recomputes_the_same(rec):
    first = {a: [(i.id, i.score) for i in rec.related(a)] for a in rec.store.article_ids()}
    report = rec.refresh(k=3)
    assert (report.embedded, report.recomputed, report.propagated) == (0, 0, 0)
    report = rec.refresh(k=3, full=True)
    assert report.recomputed == rec.store.count() and report.embedded == 0
    assert {a: [(i.id, i.score) for i in rec.related(a)] for a in first} == first


def test_unknown_id_suggests_close_ones(rec):
    with pytest.raises(UnknownArticleError, match="no article with id 'war-9'.*Did you mean: war-"):
        rec.related("war-9")


def test_empty_store_says_what_to_do(tmp_path, embedder):
    with Recommender(tmp_path / "s.db", embedder=embedder) as rec:
        with pytest.raises(NotEmbeddedError, match="run related-posts ingest first"):
            rec.related_to_text("T", "B")


def test_rewrite_replaces_tail_and_keeps_the_body(rec):
    page = ("Kursk front line news\n\nShare This Post\n\nDrones and artillery pound Ukrainian positions near Kursk.\n\n"
            "Related Posts\n\nCoach fired after losing season\n\nThe basketball team...\n")
    out = rec.rewrite(page, k=2)
    prefix = page[: page.index("Related Posts")]
    assert out.startswith(prefix)
    tail = out[len(prefix):]
    assert tail.startswith("Related Posts\n\n") and "Coach fired" not in tail
    assert "Drones strike near Kursk\nhttps://news.example/war-1\n" in tail


def test_rewrite_of_a_stored_article_uses_its_stored_list(rec, site_articles):
    war = site_articles[0]
    out = rec.rewrite(f"{war.title}\n\n{war.body}\n", k=2)
    assert war.title not in out.split("Related Posts", 1)[1]


def test_score_tail_ranks_on_topic_items_higher(rec):
    doc = parse_text("Sourdough\n\nFlour, water and starter make bread.\n\nRelated Posts\n\n"
                     "Rye bread and sourdough starter\n\nFlour...\n\nGuard scores in overtime\n\nBasketball...\n")
    (bread, bread_score), (hoops, hoops_score) = rec.score_tail(doc)
    assert bread.title.startswith("Rye") and bread_score > hoops_score
