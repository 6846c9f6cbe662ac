"""Auditing the tails pages already have: pure verdicts, the Recommender glue, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from related_posts import Article, HashingEmbedder, Recommender, TailItem
from related_posts.cli import cli
from related_posts.errors import NotEmbeddedError
from related_posts.recommend.audit import (
    ArticleIndex,
    AuditError,
    AuditOptions,
    Floor,
    audit_article,
    calibrate_floor,
    sample_rows,
    title_key,
    url_key,
    verdict,
)
from related_posts.recommend.parse import ParseError, parse_document

from .conftest import CONTENT_FARM_EXAMPLE


@pytest.mark.parametrize(
    "below, total, expected",
    [(0, 5, "related"), (1, 5, "related"), (2, 5, "mixed"), (3, 5, "mixed"), (4, 5, "unrelated"),
     (5, 5, "unrelated"), (1, 3, "mixed"), (2, 3, "mixed"), (3, 3, "unrelated"), (0, 1, "related"),
     (1, 1, "unrelated")],
)
def test_verdict_from_the_share_below_the_floor(below, total, expected):
    assert verdict(below, total) == expected


def test_verdict_needs_items_and_sane_options():
    with pytest.raises(AuditError, match="at least one tail item"):
        verdict(0, 0)
    with pytest.raises(AuditError, match="quantile"):
        AuditOptions(quantile=1.0)
    with pytest.raises(AuditError, match="related_below"):
        AuditOptions(related_below=0.8, unrelated_below=0.5)


A = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
T = np.array([[0.0, 1.0], [1.0, 0.0], [0.8, 0.6]])


def test_floor_is_a_quantile_of_pair_similarities():
    # Off-diagonal similarities of A: 0, 0.6, 0.8, each twice; sorted [0, 0, .6, .6, .8, .8].
    assert calibrate_floor(A, quantile=0.5).stored == pytest.approx(0.6)
    assert calibrate_floor(A, quantile=0.9).stored == pytest.approx(0.8)
    # A against T: off-diagonal [1, .8, 1, .6, .8, .6] -> sorted [.6, .6, .8, .8, 1, 1].
    floor = calibrate_floor(A, T, quantile=0.5)
    assert (floor.stored, floor.teaser, floor.articles) == (pytest.approx(0.6), pytest.approx(0.8), 3)


def test_floor_needs_two_articles_and_matching_shapes():
    with pytest.raises(AuditError, match="at least 2 embedded articles, got 1"):
        calibrate_floor(A[:1])
    with pytest.raises(AuditError, match="do not match"):
        calibrate_floor(A, T[:2])


def test_sample_rows():
    assert sample_rows(3, 10).tolist() == [0, 1, 2]
    rows = sample_rows(100, 10, seed=1)
    assert len(set(rows.tolist())) == 10 and rows.tolist() == sorted(rows.tolist())


@pytest.mark.parametrize(
    "url, key",
    [("https://www.Site.example/a/b/?utm=1#x", "site.example/a/b"), ("/a/b/", "/a/b"),
     ("http://site.example", "site.example"), ("", None), (None, None)],
)
def test_url_key(url, key):
    assert url_key(url) == key


def test_title_key():
    assert title_key("  Drones  strike: near Kursk! ") == "drones strike near kursk"
    assert title_key("...") is None


def test_items_match_stored_articles_by_url_path_or_title():
    index = ArticleIndex.build([
        ("a", "Drones strike near Kursk", "https://news.example/war/a"),
        ("b", "Same title", None), ("c", "Same title", None),
    ])
    assert index.match(TailItem("x", url="http://www.news.example/war/a/")) == "a"
    assert index.match(TailItem("x", url="/war/a")) == "a"
    assert index.match(TailItem("DRONES strike near Kursk.")) == "a"
    assert index.match(TailItem("Same title")) is None  # ambiguous: matches neither
    assert index.match(TailItem("Unknown", url="https://other.example/z")) is None


def test_article_audit_counts_items_below_their_floor():
    floor = Floor(stored=0.5, teaser=0.3)
    items = [(TailItem("a"), 0.6, "stored", "x"), (TailItem("b"), 0.4, "stored", "y"),
             (TailItem("c"), 0.35, "teaser", None)]
    audit = audit_article("page", "Page", items, floor)
    assert [i.below_floor for i in audit.items] == [False, True, False]
    assert (audit.below, audit.verdict) == (1, "mixed")
    assert audit.mean == pytest.approx(0.45)
    row = audit.to_dict()
    assert row["items"] == 3 and row["below_floor"] == 1 and row["tail"][2]["basis"] == "teaser"


# -- the Recommender glue, with the fake embedder --------------------------------------------

WAR_BODY = "Ukrainian drones hit Russian positions near Kursk as the front line shifts; artillery and drones."


@pytest.fixture
def audited(rec: Recommender) -> Recommender:
    rec.add([
        Article("war-page", "Drones and artillery near Kursk", WAR_BODY, tail=(
            TailItem("anything", url="https://news.example/war-1"),  # by URL
            TailItem("Kursk front line moves again"),  # by title
            TailItem("Ceasefire talks on the Ukraine war", "Envoys discuss a truce near Kursk"),
        )),
        Article("farm-page", "Kursk front under drone fire", WAR_BODY, tail=(
            TailItem("Sourdough for beginners", "Feed the starter with flour and water..."),
            TailItem("Guard scores 40 in overtime win", "The point guard hit five threes..."),
            TailItem("Ten gadgets for your kitchen", "From blenders to scales..."),
        )),
    ])
    return rec


def test_stored_tails_get_verdicts(audited: Recommender):
    report = audited.audit(options=AuditOptions(floor=0.25))
    by_id = {a.id: a for a in report.articles}
    assert set(by_id) == {"war-page", "farm-page"}
    assert by_id["war-page"].verdict == "related"
    assert [i.matched_id for i in by_id["war-page"].items][:2] == ["war-1", "war-2"]
    assert [i.basis for i in by_id["war-page"].items][:2] == ["stored", "stored"]
    assert by_id["farm-page"].verdict == "unrelated"
    summary = report.summary()
    assert summary["articles_without_tail"] == 8 and summary["verdicts"]["unrelated"] == 1


def test_calibrated_floor_flags_the_farm_tail(audited: Recommender):
    report = audited.audit()
    assert report.floor.quantile == 0.9 and report.floor.articles == 10
    farm = next(a for a in report.articles if a.id == "farm-page")
    assert farm.verdict == "unrelated"


def test_pages_can_be_audited_against_the_store(audited: Recommender):
    page = parse_document("Drones near Kursk\n\n" + WAR_BODY + "\n\nRelated Posts\n\n"
                          "Sourdough for beginners\n\nFeed the starter...\n", filename="p.txt")
    report = audited.audit([("p.txt", page), ("bad.html", ParseError("bad.html", "no article"))],
                           options=AuditOptions(floor=0.25))
    assert [a.id for a in report.articles] == ["p.txt"]
    assert report.articles[0].items[0].matched_id == "bread-1"  # matched by title
    assert report.skipped == ("bad.html: no article",)
    assert "skipped bad.html: no article" in report.to_text()


def test_audit_needs_embedded_articles(tmp_path: Path):
    with Recommender(tmp_path / "empty.db", embedder=HashingEmbedder(64)) as empty:
        with pytest.raises(NotEmbeddedError, match="run related-posts ingest"):
            empty.audit()


# -- the command -----------------------------------------------------------------------------


def test_audit_command_text_and_json(audited: Recommender, tmp_path: Path):
    db = audited.store.path
    audited.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "--db", db, "--floor", "0.25"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "unrelated" in result.output and "farm-page" in result.output
    assert "relevance floor: 0.250" in result.output
    result = runner.invoke(cli, ["audit", "--db", db, "--json"], catch_exceptions=False)
    report = json.loads(result.output)
    assert report["summary"]["articles_audited"] == 2 and report["floor"]["quantile"] == 0.9
    page = tmp_path / "p.txt"
    page.write_text("Drones near Kursk\n\n" + WAR_BODY + "\n\nRead next\n\n- Sourdough for beginners\n")
    result = runner.invoke(cli, ["audit", str(page), "--db", db, "--json"], catch_exceptions=False)
    assert json.loads(result.output)["articles"][0]["id"] == str(page)


def test_audit_command_refuses_a_missing_store(tmp_path: Path):
    result = CliRunner().invoke(cli, ["audit", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "does not exist" in result.output


@pytest.mark.model
@pytest.mark.skipif(not CONTENT_FARM_EXAMPLE.exists(), reason="shared example not available")
def test_content_farm_tail_is_unrelated_with_the_real_model(tmp_path: Path, real_embedder):
    from related_posts.demo import corpus_articles
    from related_posts.sources import read_sources

    with Recommender(tmp_path / "demo.db", embedder=real_embedder) as rec:
        rec.add(corpus_articles())
        rec.add(read_sources([CONTENT_FARM_EXAMPLE]))
        report = rec.audit()
    farm = next(a for a in report.articles if a.title.startswith("Putin Visits Kursk"))
    assert len(farm.items) == 5 and farm.verdict == "unrelated"


@pytest.mark.parametrize("url", ["http://[unbalanced/path", "https://exa\uff0fmple.com/x", 42])
def test_a_url_that_does_not_parse_matches_nothing_and_breaks_nothing(url):
    from related_posts.recommend.audit import ArticleIndex, url_key

    assert url_key(url) is None
    index = ArticleIndex.build([("a", "A title", url), ("b", "B title", "https://site.example/b")])
    assert index.by_url == {"site.example/b": "b"}
