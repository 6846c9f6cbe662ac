"""``related-posts export``: every format through the real command line, on a hashing-model store."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

import related_posts.store.store as store_module
from related_posts import Article, Recommender
from related_posts.cli import cli
from related_posts.site.export import (
    FORMATS,
    HUGO_TEMPLATE,
    JEKYLL_TEMPLATE,
    hugo_name,
    id_to_path,
    lookup_key,
    parse_since,
)

README = Path(__file__).parent.parent / "README.md"
HOSTILE_TITLE = "Bread </script><script>alert(1)</script> & rye"


def url_of(article_id: str) -> str | None:
    """The site's URLs: one article has none (keyed by id), one a hostile one."""
    if article_id == "hoops-2":
        return None
    if article_id == "bread-2-copy":
        return "javascript:alert(document.cookie)"
    return f"https://site.example/2025/04/{article_id}/"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def site(tmp_path, site_articles):
    """Records with slash ids (``site.example/2025/04/...``), ingested with the hashing model."""
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({
        "id": f"site.example/2025/04/{a.id}", "title": a.title, "body": a.body, "url": url_of(a.id),
        "published": f"2025-04-0{i + 1}T08:00:00Z", "image": f"https://site.example/img/{a.id}.jpg",
    }) + "\n" for i, a in enumerate(site_articles)))
    db = str(tmp_path / "site.db")
    invoke(runner_of(), "ingest", records, "--db", db, "--model", "hashing", "-q")
    return records, db


@pytest.fixture
def refreshed(site, monkeypatch):
    """The site's store with every list computed, dated 2025-04-10 (``store.now`` fixed)."""
    records, db = site
    monkeypatch.setattr(store_module, "now", lambda: "2025-04-10T12:00:00+00:00")
    # Without re-ranking, one changed article changes only the lists that hold it (with it,
    # an eight-article site finds every neighbourhood again and recomputes every list).
    invoke(runner_of(), "refresh", "--db", db, "--k", "3", "--rerank", "0", "-q")
    monkeypatch.undo()
    return records, db


def runner_of() -> CliRunner:
    return CliRunner()


def invoke(runner, *args, code: int = 0):
    result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def ids_of(db: str) -> list[str]:
    with Recommender(db) as rec:
        return rec.store.article_ids()


def test_json_has_every_list_with_urls_ranks_and_the_teasers_related_shows(runner, refreshed, tmp_path):
    _, db = refreshed
    out = tmp_path / "nested" / "folders" / "related.json"  # missing parents are created
    result = invoke(runner, "export", "--db", db, "-o", out)
    assert "exported 8 lists (24 links) as json" in result.stderr and result.stdout == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    assert set(document) == {"generated_at", "store", "since", "articles"}
    assert document["store"] == "site.db" and document["since"] is None
    parse_since(document["generated_at"])
    assert sorted(document["articles"]) == ids_of(db)
    war = document["articles"]["site.example/2025/04/war-1"]
    assert set(war) == {"id", "key", "url", "title", "computed_at", "items"}
    assert war["key"] == "/2025/04/war-1/" and war["url"] == "https://site.example/2025/04/war-1/"
    assert war["computed_at"] == "2025-04-10T12:00:00+00:00"
    for listed in document["articles"].values():
        assert [item["rank"] for item in listed["items"]] == [1, 2, 3]
        for item in listed["items"]:
            assert set(item) == {"rank", "id", "title", "url", "teaser", "published", "image", "score"}
            assert item["url"] == (None if item["id"].endswith(("hoops-2", "bread-2-copy"))
                                   else f"https://{item['id']}/")
            assert item["image"] == f"https://{item['id'].replace('2025/04', 'img')}.jpg"
            assert item["published"].startswith("2025-04-0")
    shown = json.loads(invoke(runner, "related", "site.example/2025/04/war-1", "--db", db, "-k", "3",
                              "--json").stdout)
    assert [(i["id"], i["teaser"], i["score"]) for i in shown] == \
        [(i["id"], i["teaser"], i["score"]) for i in war["items"]]
    printed = invoke(runner, "export", "--db", db)  # no --out: stdout
    assert json.loads(printed.stdout)["articles"] == document["articles"]


def test_hostile_values_stay_inert_and_plain(runner, refreshed, tmp_path):
    _, db = refreshed
    with Recommender(db, model="hashing") as rec:  # a title no ingest would clean up
        rec.add(Article("evil", HOSTILE_TITLE, "Sourdough rye bread with flour, water and a starter.",
                        url="java\tscript:alert(1)", image="data:text/html,<script>alert(1)</script>"))
    invoke(runner, "refresh", "--db", db, "--k", "3", "-q")
    out = tmp_path / "related.json"
    invoke(runner, "export", "--db", db, "-o", out)
    raw = out.read_text(encoding="utf-8")
    assert "</script>" in raw and "&lt;" not in raw  # plain text: the template escapes it
    articles = json.loads(raw)["articles"]
    evil = articles["evil"]
    assert evil["title"] == HOSTILE_TITLE and evil["url"] is None and evil["key"] == "evil"
    linked = [item for listed in articles.values() for item in listed["items"] if item["id"] == "evil"]
    assert linked and all(i["url"] is None and i["image"] is None and i["title"] == HOSTILE_TITLE
                          for i in linked)
    copy = articles["site.example/2025/04/bread-2-copy"]  # javascript: URL from ingest
    assert copy["url"] is None and copy["key"] == "site.example/2025/04/bread-2-copy"
    assert "javascript" not in raw.replace(HOSTILE_TITLE, "")


def test_files_one_json_per_article_at_the_id_path(runner, refreshed, tmp_path):
    _, db = refreshed
    out = tmp_path / "lists"
    summary = json.loads(invoke(runner, "export", "--db", db, "--format", "files", "--out", out,
                                "--json").stdout)
    assert summary["lists"] == 8 and len(summary["written"]) == 8 and summary["collisions"] == []
    found = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert found == sorted(f"{i}.json" for i in ids_of(db))
    post = json.loads((out / "site.example" / "2025" / "04" / "war-1.json").read_text())
    assert post["id"] == "site.example/2025/04/war-1" and [i["rank"] for i in post["items"]] == [1, 2, 3]
    again = json.loads(invoke(runner, "export", "--db", db, "--format", "files", "--out", out,
                              "--json").stdout)
    assert again["written"] == [] and len(again["unchanged"]) == 8  # same content: left alone


@pytest.mark.parametrize("article_id, path", [
    ("site.example/2025/04/post", "site.example/2025/04/post.json"),
    ("/etc/passwd", "etc/passwd.json"),
    ("../../outside", "%2E%2E/%2E%2E/outside.json"),
    ("a/./b", "a/%2E/b.json"),
    ('q?x=1&y=<2>:"|*\\', "q%3Fx=1&y=%3C2%3E%3A%22%7C%2A%5C.json"),
    ("100%", "100%25.json"),
    ("con", "%63on.json"),
    ("site/NUL.txt", "site/%4EUL.txt.json"),
    ("trailing./dot ", "trailing%2E/dot%20.json"),
    ("tab\there", "tab%09here.json"),
    ("", "%00.json"),
])
def test_id_to_path_is_safe_everywhere(article_id, path, tmp_path):
    relative = id_to_path(article_id)
    assert relative.as_posix() == path
    assert not relative.is_absolute() and ".." not in relative.parts
    assert (tmp_path / relative).resolve().is_relative_to(tmp_path.resolve())


def test_id_to_path_cuts_long_segments_and_keeps_them_apart():
    first, second = id_to_path("x" * 300 + "a"), id_to_path("x" * 300 + "b")
    assert first != second and all(len(p.name.encode()) <= 205 for p in (first, second))


def hugo_data(root: Path) -> dict:
    """``site.Data.related`` as Hugo builds it: data/related/NAME.json is the key NAME."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (root / "data" / "related").iterdir()}


def test_hugo_data_is_found_by_the_documented_template(runner, refreshed, tmp_path):
    _, db = refreshed
    site_root = tmp_path / "hugo-site"
    invoke(runner, "export", "--db", db, "--format", "hugo", "--out", site_root)
    data = hugo_data(site_root)
    assert len(data) == 8
    # The partial looks up: index site.Data.related (md5 .RelPermalink)
    assert "{{ with index site.Data.related (md5 .RelPermalink) }}" in HUGO_TEMPLATE
    for article_id in ids_of(db):
        url = url_of(article_id.rsplit("/", 1)[-1])
        if url is None or url.startswith("javascript"):
            continue
        rel_permalink = urlsplit(url).path  # what Hugo gives the page whose canonical URL this is
        listed = data[hashlib.md5(rel_permalink.encode()).hexdigest()]
        assert listed["id"] == article_id and listed["key"] == rel_permalink
        assert [i["rank"] for i in listed["items"]] == [1, 2, 3]  # the template's `.items`
        assert {"title", "url", "teaser", "published", "image"} <= set(listed["items"][0])
    no_url = data[hugo_name("site.example/2025/04/hoops-2")]
    assert no_url["id"] == no_url["key"] == "site.example/2025/04/hoops-2"


def test_hugo_export_takes_out_removed_articles_and_leaves_other_files(runner, refreshed, tmp_path):
    _, db = refreshed
    site_root = tmp_path / "hugo-site"
    invoke(runner, "export", "--db", db, "--format", "hugo", "--out", site_root)
    mine = site_root / "data" / "related" / "notes.json"
    mine.write_text("{}")  # the site's own data file, not an export's
    invoke(runner, "remove", "site.example/2025/04/hoops-1", "--db", db)
    invoke(runner, "refresh", "--db", db, "--k", "3", "-q")
    summary = json.loads(invoke(runner, "export", "--db", db, "--format", "hugo", "--out", site_root,
                                "--json").stdout)
    gone = site_root / "data" / "related" / f"{hugo_name('/2025/04/hoops-1/')}.json"
    assert summary["removed"] == [str(gone)] and not gone.exists() and mine.exists()
    assert len(hugo_data(site_root)) == 8  # 7 lists and notes.json


def test_jekyll_data_is_keyed_by_page_url(runner, refreshed, tmp_path):
    _, db = refreshed
    site_root = tmp_path / "jekyll-site"
    invoke(runner, "export", "--db", db, "--format", "jekyll", "--out", site_root)
    data = json.loads((site_root / "_data" / "related.json").read_text(encoding="utf-8"))
    assert "{% assign related = site.data.related[page.url] %}" in JEKYLL_TEMPLATE
    page_url = "/2025/04/war-1/"  # Jekyll's page.url for https://site.example/2025/04/war-1/
    assert data[page_url]["id"] == "site.example/2025/04/war-1"
    assert [i["rank"] for i in data[page_url]["items"]] == [1, 2, 3]
    safe = {i: None if i.endswith("bread-2-copy") else url_of(i.rsplit("/", 1)[-1]) for i in ids_of(db)}
    assert sorted(data) == sorted(lookup_key(i, url) for i, url in safe.items())


def test_csv_one_row_per_link(runner, refreshed, tmp_path):
    _, db = refreshed
    printed = invoke(runner, "export", "--db", db, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(printed)))
    assert list(rows[0]) == ["article_id", "rank", "related_id", "title", "url", "teaser", "published",
                             "image", "score"]
    assert len(rows) == 24 and {r["article_id"] for r in rows} == set(ids_of(db))
    war = [r for r in rows if r["article_id"] == "site.example/2025/04/war-1"]
    assert [r["rank"] for r in war] == ["1", "2", "3"]
    assert all(r["url"] in ("", f"https://{r['related_id']}/") for r in rows)
    assert not any(r["url"].startswith("javascript") for r in rows)
    assert all(0 < float(r["score"]) <= 1.0001 for r in rows)
    out = tmp_path / "related.csv"
    invoke(runner, "export", "--db", db, "--format", "csv", "-o", out)
    assert out.read_text(encoding="utf-8") == printed


def test_since_keeps_only_the_lists_a_later_refresh_wrote(runner, refreshed, tmp_path, monkeypatch):
    records, db = refreshed
    site_root = tmp_path / "jekyll-site"
    invoke(runner, "export", "--db", db, "--format", "jekyll", "--out", site_root)
    lines = records.read_text().splitlines()
    changed = [json.loads(line) for line in lines]
    for record in changed:
        if record["id"].endswith("hoops-1"):
            record["body"] += " The guard also grabbed twelve rebounds."
    records.write_text("".join(json.dumps(r) + "\n" for r in changed))
    invoke(runner, "ingest", records, "--db", db, "-q")
    monkeypatch.setattr(store_module, "now", lambda: "2025-05-01T09:30:00+00:00")
    invoke(runner, "refresh", "--db", db, "--k", "3", "-q")
    monkeypatch.undo()
    with Recommender(db) as rec:
        rewritten = {r[0] for r in rec.store.db.execute(
            "select article_id from list_state where computed_at = '2025-05-01T09:30:00+00:00'")}
    assert "site.example/2025/04/hoops-1" in rewritten and 0 < len(rewritten) < 8

    result = invoke(runner, "export", "--db", db, "--since", "2025-05-01T11:00:00+02:00")
    assert set(json.loads(result.stdout)["articles"]) == rewritten  # 09:00Z: the second refresh only
    assert f"exported {len(rewritten)} lists" in result.stderr and "since 2025-05-01T11:00:00+02:00" in result.stderr
    on_the_second = invoke(runner, "export", "--db", db, "--format", "csv", "--since", "2025-05-01T09:30:00Z")
    assert {r["article_id"] for r in csv.DictReader(io.StringIO(on_the_second.stdout))} == rewritten
    nothing = invoke(runner, "export", "--db", db, "--since", "2025-05-02")
    assert json.loads(nothing.stdout)["articles"] == {} and "exported 0 lists" in nothing.stderr
    everything = invoke(runner, "export", "--db", db, "--since", "2025-04-10")  # a day: midnight UTC
    assert len(json.loads(everything.stdout)["articles"]) == 8

    # Jekyll's one file is updated: the changed lists replaced, the others kept.
    before = json.loads((site_root / "_data" / "related.json").read_text())
    summary = json.loads(invoke(runner, "export", "--db", db, "--format", "jekyll", "--out", site_root,
                                "--since", "2025-05-01T09:00:00Z", "--json").stdout)
    assert summary["lists"] == len(rewritten)
    after = json.loads((site_root / "_data" / "related.json").read_text())
    assert sorted(after) == sorted(before)
    assert {v["id"] for v in after.values() if v["computed_at"].startswith("2025-05-01")} == rewritten
    assert all(after[k] == before[k] for k in after if after[k]["id"] not in rewritten)


def test_since_into_a_new_jekyll_site_writes_every_list(runner, refreshed, tmp_path):
    _, db = refreshed
    result = invoke(runner, "export", "--db", db, "--format", "jekyll", "--out", tmp_path / "new",
                    "--since", "2030-01-01")
    data = json.loads((tmp_path / "new" / "_data" / "related.json").read_text())
    assert len(data) == 8 and "wrote every list" in result.stderr


def test_user_errors_are_one_line(runner, site, tmp_path):
    _, db = site
    empty = runner.invoke(cli, ["export", "--db", db])  # ingested, never refreshed
    assert empty.exit_code == 1 and "no related lists yet" in empty.stderr
    assert f"related-posts refresh --db {db}" in empty.stderr and "Traceback" not in empty.output
    missing = runner.invoke(cli, ["export", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    bad = runner.invoke(cli, ["export", "--db", db, "--since", "last tuesday"])
    assert bad.exit_code == 2 and "--since" in bad.output and "ISO 8601" in bad.output
    assert "2025-04-01T12:00:00" in bad.output
    no_out = runner.invoke(cli, ["export", "--db", db, "--format", "hugo"])
    assert no_out.exit_code == 1 and "--out DIR" in no_out.stderr
    summary_on_stdout = runner.invoke(cli, ["export", "--db", db, "--json"])
    assert summary_on_stdout.exit_code == 2 and "--out FILE" in summary_on_stdout.output


def test_out_of_the_wrong_kind_is_a_one_line_error(runner, refreshed, tmp_path):
    _, db = refreshed
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    result = runner.invoke(cli, ["export", "--db", db, "--format", "files", "--out", str(a_file)])
    assert result.exit_code == 1 and "is a file" in result.stderr
    result = runner.invoke(cli, ["export", "--db", db, "--format", "json", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "is a folder" in result.stderr


def test_a_read_only_store_exports(runner, refreshed, tmp_path, monkeypatch):
    _, db = refreshed
    monkeypatch.setattr(store_module.os, "access", lambda path, mode: mode != os.W_OK)
    result = invoke(runner, "export", "--db", db, "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 24


def test_the_readme_documents_the_templates_that_are_tested():
    readme = README.read_text(encoding="utf-8")
    assert HUGO_TEMPLATE in readme and JEKYLL_TEMPLATE in readme
    assert "related-posts export" in readme


def test_the_command_offers_every_format():
    option = next(p for p in cli.commands["export"].params if p.name == "fmt")
    assert tuple(getattr(option.type, "choices", ())) == FORMATS


def test_lookup_key_and_since_parsing():
    assert lookup_key("a/b", "https://site.example/2025/04/post/") == "/2025/04/post/"
    assert lookup_key("a/b", "https://site.example/p.html?x=1#top") == "/p.html"
    assert lookup_key("a/b", "https://site.example") == "a/b"
    assert lookup_key("a/b", None) == "a/b"
    assert parse_since("2025-04-01").isoformat() == "2025-04-01T00:00:00+00:00"
    assert parse_since("2025-04-01T12:00:00Z") == parse_since("2025-04-01T14:00:00+02:00")
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_since("04/01/2025")
    assert PurePosixPath(hugo_name("/x/")).suffix == ""


def test_csv_cells_never_start_a_formula():
    from related_posts.site.export import _cell

    assert [_cell(t) for t in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "Plain", "")] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "Plain", ""]
