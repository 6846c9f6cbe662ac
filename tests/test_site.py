"""A publisher's real site in: a Hugo content folder and saved WordPress pages.

The fixtures under tests/fixtures/sites/ are written in the shapes Hugo (hugo.toml,
YAML and TOML front matter, a page bundle, a draft) and a WordPress theme with Yoast and
YARPP (canonical link, Open Graph, article:* meta, a JSON-LD @graph) produce.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from related_posts import Recommender
from related_posts.cli import cli
from related_posts.ingest import ingest
from related_posts.recommend.parse import parse_document

SITES = Path(__file__).parent / "fixtures" / "sites"


@pytest.fixture
def hugo(tmp_path: Path) -> Path:
    site = tmp_path / "hugo"
    shutil.copytree(SITES / "hugo", site)
    return site


@pytest.fixture
def wordpress(tmp_path: Path) -> Path:
    site = tmp_path / "wordpress"
    shutil.copytree(SITES / "wordpress", site)
    return site


def _stored(db: Path) -> dict:
    with Recommender(db, model="hashing") as rec:
        return {a.id: a for a in rec.store.articles()}


def test_a_hugo_folder_comes_in_with_its_metadata_and_urls(hugo, tmp_path):
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        report = ingest(rec, [hugo])
    assert (report.added, report.drafts) == (5, [str(hugo / "content/posts/tubeless-tyres.md")])
    stored = _stored(db)
    # Ids are Hugo's URLs: default permalinks under baseURL, a slug, a front matter url.
    assert sorted(stored) == ["ridelog.example/astro/winter-sky", "ridelog.example/posts/adjusting-rear-derailleur",
                              "ridelog.example/posts/brake-pads", "ridelog.example/posts/checking-chain-wear",
                              "ridelog.example/posts/sourdough-starter"]
    gears = stored["ridelog.example/posts/adjusting-rear-derailleur"]
    assert gears.url == "https://ridelog.example/posts/adjusting-rear-derailleur/"
    assert gears.published == "2026-03-02T07:30:00Z" and gears.modified == "2026-03-09T17:00:00Z"
    assert gears.labels == ("cycling", "maintenance", "how-to")
    assert gears.image == "https://ridelog.example/images/derailleur.jpg"
    assert gears.description.startswith("Barrel adjuster, limit screws")
    assert [item.title for item in gears.tail] == ["Ten Celebrity Kitchens You Have To See",
                                                   "This One Trick Lowers Your Energy Bill"]
    bread = stored["ridelog.example/posts/sourdough-starter"]  # a page bundle with TOML front matter
    assert bread.title.startswith("Keeping a Sourdough Starter") and bread.labels == ("baking", "sourdough", "kitchen")
    assert stored["ridelog.example/astro/winter-sky"].url == "https://ridelog.example/astro/winter-sky/"


def test_saved_wordpress_pages_come_in_with_canonical_urls_and_meta(wordpress, tmp_path):
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        ingest(rec, [wordpress])
    stored = _stored(db)
    assert sorted(stored) == ["plotnotes.example/2025/04/raised-beds", "plotnotes.example/2025/11/leaf-mould",
                              "plotnotes.example/2025/12/winter-bike-commute"]
    leaves = stored["plotnotes.example/2025/11/leaf-mould"]
    assert leaves.url == "https://plotnotes.example/2025/11/leaf-mould/"
    assert leaves.published == "2025-11-03T16:40:00+00:00" and leaves.lang == "en-GB"
    assert leaves.labels == ("compost", "autumn", "Garden")
    assert leaves.image.endswith("/2025/11/leaf-mould.jpg")
    assert leaves.description.startswith("Autumn leaves turn into")
    assert "Plot Notes" not in leaves.title and "Proudly powered" not in leaves.body
    assert len(leaves.tail) == 2  # the YARPP list, kept for audit


@pytest.mark.parametrize("site_name", ["hugo", "wordpress"])
def test_rewrite_links_every_item_to_the_related_articles_url(site_name, request, tmp_path):
    site = request.getfixturevalue(site_name)
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        ingest(rec, [site])
        rec.refresh(k=3)
        urls = {a.url for a in rec.store.articles()}
        pages = sorted(p for p in site.rglob("*") if p.suffix in (".md", ".html") and "tubeless" not in p.name)
        for page in pages:
            text = page.read_text(encoding="utf-8")
            rewritten = rec.rewrite(text, filename=page.name)
            document = parse_document(rewritten, filename=page.name)
            assert document.tail, page
            assert all(item.url in urls for item in document.tail), (page, document.tail)
            assert "partner.example" not in rewritten  # the old tail is gone


def test_two_folder_arguments_and_a_sync_keep_one_article_per_page(tmp_path):
    site = tmp_path / "blog"  # a plain folder: no site configuration, no URLs
    (site / "posts").mkdir(parents=True)
    for name, title in [("gears", "Indexing gears"), ("chain", "Chain wear"), ("bread", "Rye bread")]:
        (site / "posts" / f"{name}.md").write_text(f"# {title}\n\n{title} explained in a few words here.\n")
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        ingest(rec, [site])
        again = ingest(rec, [site / "posts"])  # the same files through another folder
        assert (again.added, again.unchanged) == (0, 3)
        (site / "posts" / "chain.md").write_text("# Chain wear\n\nMeasure twelve links with a steel rule.\n")
        (site / "posts" / "bread.md").unlink()
        rec.refresh(k=2)
        synced = ingest(rec, [site / "posts"], sync=True)
        assert (synced.updated, synced.removed) == (1, ["posts/bread"])
        rec.refresh(k=2)
        assert sorted(rec.store.article_ids()) == ["posts/chain", "posts/gears"]
        assert all("posts/bread" not in [i.id for i in rec.related(a, k=2)] for a in rec.store.article_ids())


def test_a_page_that_gains_a_canonical_url_replaces_its_old_id(tmp_path):
    page = tmp_path / "site" / "garden.html"
    page.parent.mkdir()
    body = "<p>" + "Leaf mould takes two years in a bin bag behind the shed. " * 5 + "</p>"
    page.write_text(f"<html><head><title>Leaf mould</title></head><body><article>{body}</article></body></html>")
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        ingest(rec, [page.parent])
        page.write_text("<html><head><title>Leaf mould</title><link rel='canonical' href='https://plot.example/leaf/'>"
                        f"</head><body><article>{body}</article></body></html>")
        report = ingest(rec, [page.parent])
        assert report.renamed == [("garden", "plot.example/leaf")]
        assert rec.store.article_ids() == ["plot.example/leaf"]


def test_sync_dry_run_lists_and_writes_nothing(hugo, tmp_path):
    db = tmp_path / "site.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(hugo), "--db", str(db), "--model", "hashing", "-q"]).exit_code == 0
    (hugo / "content/posts/brake-pads.md").unlink()
    draft = hugo / "content/posts/winter-sky.md"
    draft.write_text(draft.read_text().replace("tags: [astrophotography", "draft: true\ntags: [astrophotography"))
    result = runner.invoke(cli, ["ingest", str(hugo), "--sync", "--dry-run", "--db", str(db), "--json", "-q"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["dry_run"] is True
    assert sorted(report["removed"]) == ["ridelog.example/astro/winter-sky", "ridelog.example/posts/brake-pads"]
    assert len(_stored(db)) == 5  # nothing written
    result = runner.invoke(cli, ["ingest", str(hugo), "--sync", "--db", str(db), "-q"])
    assert result.exit_code == 0 and "removed 2" in result.stdout
    assert "ridelog.example/posts/brake-pads" not in _stored(db)


def test_field_mappings_are_remembered_per_source(tmp_path):
    records = tmp_path / "export.jsonl"
    records.write_text(json.dumps({"guid": "g1", "headline": "Gears", "copy": "Indexing gears in short."}) + "\n")
    db = tmp_path / "site.db"
    runner = CliRunner()
    first = runner.invoke(cli, ["ingest", str(records), "--db", str(db), "--model", "hashing", "-q",
                                "--field", "id=guid", "--field", "body=copy"])
    assert first.exit_code == 0, first.output
    records.write_text(json.dumps({"guid": "g1", "headline": "Gears", "copy": "Indexing gears, now longer."}) + "\n")
    second = runner.invoke(cli, ["ingest", str(records), "--db", str(db), "--json", "-q"])
    assert json.loads(second.stdout)["updated"] == 1
    assert _stored(db)["g1"].body == "Indexing gears, now longer."


def test_wordpress_rest_json_comes_in_without_field_flags(tmp_path):
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        report = ingest(rec, [SITES.parent / "sources" / "wp-json-posts.json"])
        assert (report.added, report.skipped) == (2, [])
        blight = rec.store.get("plotnotes.example/2025/05/tomato-blight")
        potatoes = rec.store.get("plotnotes.example/2025/04/seed-potatoes")
    assert blight.title == "Tomato Blight: Spotting It Early & Saving the Crop"
    assert blight.published == "2025-05-18T09:20:00" and blight.modified == "2025-05-19T07:00:00"
    assert blight.labels == ("Garden", "Tomatoes", "Disease")  # names from _embedded, not term ids
    assert blight.image == "https://plotnotes.example/wp-content/uploads/2025/05/blight.jpg"
    assert blight.description == "Brown patches on the lower leaves after a muggy week: act the same day."
    assert "<p>" not in blight.body and "&#8216;" not in blight.body and "\u2018blight free\u2019" in blight.body
    assert blight.body.startswith("Blight arrives in warm, wet spells")
    assert potatoes.labels == () and potatoes.description is None and "Second earlies" in potatoes.body


def _mirror_page(title: str, canonical: str | None = None) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    prose = f"<p>{title} is written up here in a few sentences of its own, long enough to be an article. " * 4
    return f"<!DOCTYPE html><html><head><title>{title}</title>{link}</head><body><article>{prose}</p></article></body></html>"


def test_a_sitemap_reads_the_pages_of_a_local_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "2026/03/overnight-sourdough").mkdir(parents=True)
    (mirror / "pedalandpantry.example/2026/03").mkdir(parents=True)
    shutil.copy(SITES.parent / "sources" / "sitemap.xml", mirror / "sitemap.xml")
    (mirror / "2026/03/overnight-sourdough/index.html").write_text(_mirror_page("Overnight sourdough"))
    (mirror / "pedalandpantry.example/2026/03/gravel-loop-reservoir.html").write_text(
        _mirror_page("Gravel loop", "https://pedalandpantry.example/2026/03/gravel-loop-reservoir/"))
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        report = ingest(rec, [mirror / "sitemap.xml"])
        bread = rec.store.get("pedalandpantry.example/2026/03/overnight-sourdough")
        assert bread is not None and bread.url == "https://pedalandpantry.example/2026/03/overnight-sourdough/"
        assert rec.store.get("pedalandpantry.example/2026/03/gravel-loop-reservoir") is not None
        assert report.added == 2
        missing = [s for s in report.skipped if "slow-puncture" in s.location]
        assert missing and "no local copy of this page at" in missing[0].reason
        # The mirror's folder holds the sitemap too: read as a folder, the pages come once.
        again = ingest(rec, [mirror])
        assert (again.unchanged, again.skipped) == (2, [])


def test_feeds_and_a_wordpress_export_come_in_without_field_flags(tmp_path):
    sources = SITES.parent / "sources"
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        exported = ingest(rec, [sources / "wordpress-export.xml"])
        assert exported.skipped == [] and exported.added >= 4 and exported.drafts
        puncture = rec.store.get("pedalandpantry.example/2026/02/slow-puncture")
        assert puncture is not None and puncture.url == "https://pedalandpantry.example/2026/02/slow-puncture/"
        assert puncture.published == "2026-02-10T12:00:00Z" and "Cycling" in puncture.labels
        # The same site's feed names the same posts by the same links: no second article
        # (only its French post is not in the export).
        fed = ingest(rec, [sources / "feed-atom.xml"])
        assert (fed.added, fed.updated + fed.unchanged) == (1, 4)
        assert rec.store.get("pedalandpantry.example/fr/2026/02/tarte-aux-pommes").lang == "fr-FR"
        rss = ingest(rec, [sources / "feed-rss.xml"])
        assert (rss.added, rss.skipped) == (0, []) and rss.updated == 5  # its RSS feed, likewise
        for article in rec.store.articles():
            assert "<p" not in article.body and "&lt;" not in article.body and "&amp;" not in article.title


def test_an_article_removed_by_hand_stays_out_until_restored(hugo, tmp_path):
    db = tmp_path / "site.db"
    runner = CliRunner()
    args = ["--db", str(db), "--model", "hashing", "-q"]
    assert runner.invoke(cli, ["ingest", str(hugo), *args]).exit_code == 0
    gone = "ridelog.example/posts/brake-pads"
    assert runner.invoke(cli, ["remove", gone, "--db", str(db)]).exit_code == 0
    again = runner.invoke(cli, ["ingest", str(hugo), *args, "--json"])
    assert json.loads(again.stdout)["kept_out"] == [gone] and gone not in _stored(db)
    # Sync does not remove what was kept out, nor bring it back.
    synced = json.loads(runner.invoke(cli, ["ingest", str(hugo), "--sync", *args, "--json"]).stdout)
    assert synced["removed"] == [] and gone not in _stored(db)
    restored = json.loads(runner.invoke(cli, ["ingest", str(hugo), "--restore", *args, "--json"]).stdout)
    assert restored["added"] == 1 and gone in _stored(db)
    later = json.loads(runner.invoke(cli, ["ingest", str(hugo), *args, "--json"]).stdout)
    assert later["kept_out"] == [] and later["unchanged"] == 5


def test_a_store_from_before_origins_keeps_its_path_ids(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blog" / "posts").mkdir(parents=True)
    for name in ("gears", "chain"):
        (tmp_path / "blog" / "posts" / f"{name}.md").write_text(f"# {name}\n\nAbout {name} in a sentence.\n")
    db = tmp_path / "site.db"
    with Recommender(db, model="hashing") as rec:
        ingest(rec, ["blog"])
        # As migration 009 leaves a store ingested before it: no origins, relative sources.
        rec.store.db.execute("update articles set origin = null")
        rec.store.db.conn.commit()
        report = ingest(rec, [tmp_path / "blog" / "posts"])  # another folder argument
        assert report.added == 0 and report.renamed == []
        assert rec.store.article_ids() == ["posts/chain", "posts/gears"]
        assert {a.origin for a in rec.store.articles()} == {
            str((tmp_path / "blog/posts" / f"{n}.md").resolve()) for n in ("gears", "chain")}
