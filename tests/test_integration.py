"""End to end with the real packaged model, the bundled demo corpus and the shared example page."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from related_posts import Recommender
from related_posts.cli import cli
from related_posts.demo import content_farm_page, corpus_articles, corpus_path

from .conftest import CONTENT_FARM_EXAMPLE

pytestmark = pytest.mark.model

WAR_LABELS = {"ukraine-war", "ceasefire-diplomacy"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, real_embedder):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with Recommender(path, embedder=real_embedder) as rec:
        report = rec.add(corpus_articles())
        assert report.skipped == [] and report.added >= 40
        rec.refresh(k=5)
    return str(path)


@pytest.fixture(scope="module")
def labels():
    with open(corpus_path(), encoding="utf-8") as handle:
        return {row["id"]: set(row["labels"]) for row in map(json.loads, handle)}


def test_demo_corpus_lists_stay_on_topic(demo_db, labels, real_embedder):
    with Recommender(demo_db, embedder=real_embedder) as rec:
        hits = [bool(labels[a] & labels[item.id]) for a in labels for item in rec.related(a, k=3)]
    precision = sum(hits) / len(hits)
    assert precision >= 0.9, f"P@3 on the demo corpus fell to {precision:.2f}"


@pytest.mark.skipif(not CONTENT_FARM_EXAMPLE.exists(), reason="shared example not available")
def test_content_farm_example_gets_a_war_and_ceasefire_tail(demo_db, labels):
    runner = CliRunner()
    page = CONTENT_FARM_EXAMPLE.read_text(encoding="utf-8")
    result = runner.invoke(cli, ["rewrite", str(CONTENT_FARM_EXAMPLE), "--db", demo_db], catch_exceptions=False)
    out = result.output
    prefix = page[: page.index("\nRelated Posts\n") + 1]
    assert out.startswith(prefix), "text above the tail changed"
    tail = out[len(prefix):]
    for unrelated in ("Mahmoud Khalil", "FTC asks judge", "FEMA", "Purpose-Driven", "Oliver Miller"):
        assert unrelated not in tail
    listing = json.loads(runner.invoke(cli, ["parse", "-", "--format", "text", "--json"], input=out).output)
    titles = {item["title"] for item in listing["tail"]}
    with Recommender(demo_db) as rec:
        by_title = {a.title: a.id for a in rec.store.articles()}
    assert len(titles) == 5
    assert all(labels[by_title[t]] & WAR_LABELS for t in titles), titles


def test_related_json_for_a_demo_article(demo_db):
    result = CliRunner().invoke(cli, ["related", "kursk-salient-withdrawal", "--db", demo_db, "--json", "--k", "3"],
                                catch_exceptions=False)
    rows = json.loads(result.output)
    assert len(rows) == 3 and all({"id", "title", "score"} <= set(r) for r in rows)
    assert all(0 < r["score"] <= 1 for r in rows)


def test_demo_command_shows_before_and_after(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--db", str(tmp_path / "d.db"), "-q"], catch_exceptions=False)
    assert result.exit_code == 0
    before, after = result.output.split("AFTER:", 1)
    page = content_farm_page()
    assert page[: page.index("Related Posts")] in after
    before_scores = [float(line.split()[0]) for line in before.splitlines() if line.startswith("  ")]
    after_scores = [float(line.split()[0]) for line in after.split("=" * 78)[0].splitlines() if line.startswith("  ")]
    assert len(before_scores) == 5 and len(after_scores) == 5
    assert max(before_scores) < min(after_scores), "the served tail should score below the computed one"


def test_real_model_vectors_are_unit_float32(real_embedder):
    vectors = real_embedder.encode(["Ceasefire talks in Istanbul", "Sourdough starter"])
    assert vectors.dtype.name == "float32" and vectors.shape == (2, 384)
    assert abs(float((vectors ** 2).sum(axis=1).max()) - 1.0) < 1e-5


def test_stored_vectors_are_body_plus_half_the_title_of_the_real_model(demo_db, real_embedder):
    import numpy as np

    from related_posts.recommend.embed import normalise

    with Recommender(demo_db) as rec:
        assert rec.store.model() == ("sentence-transformers/all-MiniLM-L6-v2 body+0.5*title", 384)
        article = rec.store.get("kursk-salient-withdrawal")
        stored = rec.store.vector(article.id)
    body, title = real_embedder.encode([article.body, article.title])
    assert np.allclose(stored, normalise((body + 0.5 * title)[None, :])[0], atol=1e-5)
    joint = real_embedder.encode([article.text])[0]
    assert float(stored @ joint) < 0.999  # not the joint text's vector
