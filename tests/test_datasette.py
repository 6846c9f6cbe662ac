"""The store as sqlite3 and Datasette users see it: the related_lists view, the metadata
document and its canned queries, and the ``datasette-metadata`` command."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from click.testing import CliRunner

from related_posts import Article, HashingEmbedder, Recommender
from related_posts.cli import cli
from related_posts.recommend.rank import RankingOptions
from related_posts.store import Store
from related_posts.store.datasette import datasette_metadata

K = 2
LONER = Article("zz-loner", "Quantum lattice entanglement", "Photon qubits decohere in a "
                "cryogenic lattice under magnetic flux.", url="https://news.example/loner")


def rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


@pytest.fixture
def store_path(tmp_path, site_articles):
    """A refreshed store (k=2) whose lists the relevance floor cuts, except the three war
    articles', plus an article too far from every other to be linked."""
    path = tmp_path / "site.db"
    with Recommender(path, embedder=HashingEmbedder(256),
                     ranking=RankingOptions(min_score=0.3, expand=0)) as rec:
        rec.add([*site_articles, LONER])
        rec.refresh(k=K)
    return path


def test_view_has_titles_urls_and_the_score_parts(store_path, site_articles):
    titles = {a.id: a.title for a in [*site_articles, LONER]}
    urls = {a.id: a.url for a in [*site_articles, LONER]}
    store = Store(store_path)
    stored = {a: store.related(a) for a in store.article_ids()}
    store.close()
    conn = sqlite3.connect(store_path)
    view = rows(conn, "select * from related_lists order by article_id, rank")
    assert len(view) == sum(len(links) for links in stored.values()) > 0
    for row in view:
        link = stored[row["article_id"]][row["rank"] - 1]
        assert row["related_id"] == link.id and row["score"] == link.score
        assert row["related_title"] == link.title == titles[link.id]
        assert row["related_url"] == link.url
        assert row["article_title"] == titles[row["article_id"]]
        assert row["article_url"] == urls[row["article_id"]]
        why = json.loads(row["why"])  # a JSON object, as Datasette shows it
        assert isinstance(why, dict) and row["dense"] == why["dense"]
        assert row["lexical"] == why.get("lexical") and row["expanded"] == why.get("expanded")
    war = [r for r in view if r["article_id"] == "war-2" and r["related_id"] == "war-1"]
    assert war and war[0]["related_url"] == "https://news.example/war-1"


def test_an_old_store_gains_the_view_when_opened(store_path):
    conn = sqlite3.connect(store_path)
    with conn:
        conn.execute("drop view related_lists")
        conn.execute("delete from _migrations where name = '007_related_lists_view'")
    conn.close()
    Store(store_path).close()
    conn = sqlite3.connect(store_path)
    assert conn.execute("select count(*) from related_lists").fetchone()[0] > 0


def test_metadata_describes_every_table_and_view(store_path):
    metadata = datasette_metadata("site")
    conn = sqlite3.connect(store_path)
    names = {r[0] for r in conn.execute(
        "select name from sqlite_master where type in ('table', 'view') "
        "and name not like 'sqlite_%'")}
    described = metadata["databases"]["site"]["tables"]
    assert names == set(described)
    assert all(entry["description"] for entry in described.values())
    assert metadata["title"] and metadata["description"]
    json.dumps(metadata)  # serialisable


def test_canned_queries_answer_from_the_store(store_path):
    queries = datasette_metadata("site")["databases"]["site"]["queries"]
    assert set(queries) == {"article_list", "unlinked_articles", "short_lists"}
    store = Store(store_path)
    ids = store.article_ids()
    lists = {a: store.related(a) for a in ids}
    sizes = store.list_sizes_and_minimums()
    store.close()
    conn = sqlite3.connect(store_path)

    listing = rows(conn, queries["article_list"]["sql"], {"id": "war-1"})
    assert [(r["rank"], r["related_id"], r["related_title"]) for r in listing] == [
        (link.rank, link.id, link.title) for link in lists["war-1"]]

    linked = {link.id for links in lists.values() for link in links}
    unlinked = rows(conn, queries["unlinked_articles"]["sql"])
    assert [r["id"] for r in unlinked] == sorted(set(ids) - linked)
    assert "zz-loner" in [r["id"] for r in unlinked]

    short = rows(conn, queries["short_lists"]["sql"])
    expected = {a for a in ids if len(lists[a]) < K}
    assert {r["article_id"] for r in short} == expected and "zz-loner" in expected
    assert all(r["size"] == sizes[r["article_id"]][0] < r["k"] == K for r in short)
    assert not expected & {"war-1", "war-2", "war-3"}  # the floor cut some lists, not all


def test_command_prints_metadata_naming_the_view(store_path, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["datasette-metadata", "--db", str(store_path)],
                           catch_exceptions=False)
    assert result.exit_code == 0
    metadata = json.loads(result.output)
    assert "related_lists" in metadata["databases"]["site"]["tables"]
    out = tmp_path / "metadata.json"
    result = runner.invoke(cli, ["datasette-metadata", "--db", str(store_path), "-o", str(out)])
    assert result.exit_code == 0 and result.output == ""
    assert json.loads(out.read_text()) == metadata


def test_command_refuses_a_missing_store(tmp_path):
    result = CliRunner().invoke(cli, ["datasette-metadata", "--db", str(tmp_path / "none.db")])
    assert result.exit_code != 0 and "does not exist" in result.output
    assert not (tmp_path / "none.db").exists()


def test_datasette_serves_the_view_and_the_canned_queries(store_path):
    app = pytest.importorskip("datasette.app")
    ds = app.Datasette([str(store_path)], metadata=datasette_metadata("site"))

    async def fetch():
        view = await ds.client.get("/site/related_lists.json?_shape=array&article_id=war-1")
        listing = await ds.client.get("/site/article_list.json?_shape=array&id=war-1")
        unlinked = await ds.client.get("/site/unlinked_articles.json?_shape=array")
        return view, listing, unlinked

    view, listing, unlinked = asyncio.run(fetch())
    assert view.status_code == listing.status_code == unlinked.status_code == 200
    titles = [r["related_title"] for r in view.json()]
    assert titles and "Kursk front line moves again" in titles
    assert [r["related_title"] for r in listing.json()] == titles
    assert isinstance(view.json()[0]["why"], str) and json.loads(view.json()[0]["why"])
    assert "zz-loner" in [r["id"] for r in unlinked.json()]


def test_neighbourhood_members_view_splits_the_stored_ids(tmp_path):
    import sqlite3

    from related_posts import HashingEmbedder, Recommender
    from related_posts.article import Article

    db = tmp_path / "n.db"
    with Recommender(str(db), embedder=HashingEmbedder(64)) as rec:
        rec.add([Article(f"a{i}", f"Title {i}", f"words about topic {i % 3} and more text {i}") for i in range(12)])
        rec.refresh(k=3)
    with sqlite3.connect(db) as connection:
        stored = dict(connection.execute("select article_id, neighbours from neighbourhoods"))
        rows = connection.execute(
            "select article_id, position, neighbour_id, neighbour_title from neighbourhood_members "
            "order by article_id, position").fetchall()
    assert stored, "the default ranking stores neighbourhoods"
    for article_id, neighbours in stored.items():
        mine = [row for row in rows if row[0] == article_id]
        assert [row[2] for row in mine] == neighbours.strip("\x1f").split("\x1f")
        assert [row[1] for row in mine] == list(range(1, len(mine) + 1))
        assert all(row[3].startswith("Title ") for row in mine)
