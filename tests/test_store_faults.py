"""Store faults: a full disk mid-ingest and mid-refresh, damaged and foreign store files, a
read-only store. Nothing stored may be lost, the store must stay consistent, errors must be
one line, and the next run must finish as if nothing had failed.

A full disk is simulated with SQLite's ``PRAGMA max_page_count`` on the very connection the
library writes through (``rec.store.db``, or every store the CLI opens, by wrapping
``Store.__init__``), set just above the store's current size.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import related_posts.store.store as store_module
from related_posts import Article, Recommender
from related_posts.cli import cli
from related_posts.errors import RelatedPostsError
from related_posts.ingest import ingest
from related_posts.store import Store

from .conftest import make_corpus

REPO = Path(__file__).resolve().parents[1]
MAX_MESSAGE = 300


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_one_line(message: str, db: Path | None = None) -> None:
    assert message.strip() and "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    extra = 2 * len(str(db)) if db else 0  # the store's path may be named twice (error, then the fix)
    assert len(message) <= MAX_MESSAGE + extra, f"{len(message)} characters: {message!r}"


def articles(db: Path) -> dict[str, tuple]:
    with sqlite3.connect(db) as connection:
        return {row[0]: row for row in connection.execute("select * from articles")}


def vectors(db: Path) -> dict[str, tuple]:
    with sqlite3.connect(db) as connection:
        return {row[0]: row for row in connection.execute("select * from embeddings")}


def lists(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute("select article_id, rank, related_id, round(score, 6) from related "
                                  "order by article_id, rank").fetchall()


def quick_check(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("pragma quick_check").fetchone()[0]


def unembedded(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("select count(*) from articles where id not in "
                                  "(select article_id from embeddings)").fetchone()[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def limit_pages(store: Store, headroom: int) -> None:
    """As a disk with room for ``headroom`` more pages: SQLite answers SQLITE_FULL past it."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    assert store.db.execute(f"PRAGMA max_page_count = {pages + headroom}").fetchone()[0] == pages + headroom


# -- the stores: built once, copied per test -------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """A refreshed store of 40 articles, the records of 300 more, and the control: the same
    store after ingesting and refreshing them without any fault."""
    folder = tmp_path_factory.mktemp("faults")
    base = folder / "base.db"
    with Recommender(base, model="hashing") as rec:
        rec.add(make_corpus(40, seed=1, prefix="old-"))
        rec.refresh(k=3)
    records = folder / "new.jsonl"
    records.write_text("".join(json.dumps({"id": a.id, "title": a.title, "body": (a.body + " ") * 6,
                                           "tags": ["fresh"]}) + "\n" for a in make_corpus(300, seed=2, prefix="new-")))
    control = folder / "control.db"
    shutil.copyfile(base, control)
    with Recommender(control, model="hashing") as rec:
        ingest(rec, [records])
        rec.refresh(k=3)
    ingested = folder / "ingested.db"  # the new articles stored, not yet refreshed
    shutil.copyfile(base, ingested)
    with Recommender(ingested, model="hashing") as rec:
        ingest(rec, [records])
    for db in (base, control, ingested):
        assert not Path(f"{db}-wal").exists()
    return {"base": base, "records": records, "control": control, "ingested": ingested}


def copy_of(built, name: str, tmp_path: Path) -> Path:
    db = tmp_path / f"{name}.db"
    shutil.copyfile(built[name], db)
    return db


# -- a full disk -----------------------------------------------------------------------------


def check_after_a_full_disk(error: BaseException, db: Path, before: dict[str, tuple]) -> None:
    # What is raised: sqlite3.OperationalError('database or disk is full'), not a RelatedPostsError.
    assert isinstance(error, (RelatedPostsError, sqlite3.Error)), repr(error)
    assert_one_line(str(error))
    assert quick_check(db) == "ok"
    with Recommender(db) as rec:  # the store still opens
        assert rec.store.count() >= len(before)
    after = articles(db)
    assert {i: after.get(i) for i in before} == before, "an article stored before the fault changed"
    assert unembedded(db) == 0, "an article was stored without its vector"


@pytest.mark.parametrize("headroom", [2, 40, pytest.param(1, marks=pytest.mark.slow),
                                      pytest.param(10, marks=pytest.mark.slow), pytest.param(80, marks=pytest.mark.slow),
                                      pytest.param(150, marks=pytest.mark.slow)])
def test_a_full_disk_during_ingest_loses_nothing_and_the_next_run_finishes(headroom, built, tmp_path):
    db = copy_of(built, "base", tmp_path)
    before = articles(db)
    rec = Recommender(db, model="hashing", batch_size=64)
    limit_pages(rec.store, headroom)
    with pytest.raises(Exception) as caught:
        ingest(rec, [built["records"]])
    rec.close()
    check_after_a_full_disk(caught.value, db, before)
    with Recommender(db, model="hashing") as rec:  # room again
        report = ingest(rec, [built["records"]])
        assert report.skipped == [] and report.read == 300
        rec.refresh(k=3)
    assert lists(db) == lists(built["control"])
    assert set(articles(db)) == set(articles(built["control"]))


@pytest.mark.parametrize("headroom", [2, 30, pytest.param(1, marks=pytest.mark.slow),
                                      pytest.param(10, marks=pytest.mark.slow), pytest.param(60, marks=pytest.mark.slow)])
def test_a_full_disk_during_refresh_loses_nothing_and_the_next_run_finishes(headroom, built, tmp_path):
    db = copy_of(built, "ingested", tmp_path)
    before, vectors_before = articles(db), vectors(db)
    rec = Recommender(db, model="hashing", batch_size=64)
    limit_pages(rec.store, headroom)
    with pytest.raises(Exception) as caught:
        rec.refresh(k=3)
    rec.close()
    check_after_a_full_disk(caught.value, db, before)
    assert articles(db) == before and vectors(db) == vectors_before
    with Recommender(db, model="hashing") as rec:  # room again; the refresh lock was let go
        rec.refresh(k=3)
    assert lists(db) == lists(built["control"])


class _FullDisk:
    """Every store the CLI opens gets ``headroom`` pages of room."""

    def __init__(self, monkeypatch, headroom: int) -> None:
        original = Store.__init__

        def opened(store: Store, path) -> None:
            original(store, path)
            limit_pages(store, headroom)

        monkeypatch.setattr(Store, "__init__", opened)


@pytest.mark.parametrize("command", ["ingest", "refresh"])
def test_a_full_disk_through_the_cli_is_a_one_line_error(command, built, tmp_path, monkeypatch):
    db = copy_of(built, "base" if command == "ingest" else "ingested", tmp_path)
    before = articles(db)
    _FullDisk(monkeypatch, 2)
    args = ["ingest", built["records"], "--db", db, "-q"] if command == "ingest" else ["refresh", "--db", db, "-q"]
    result = invoke(*args)
    monkeypatch.undo()
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert_one_line(lines[0], db)
    assert quick_check(db) == "ok" and articles(db) == before


# -- damaged stores through the CLI ----------------------------------------------------------


def _overwrite(offset_fraction: float, size: int):
    def damage(db: Path) -> None:
        with db.open("r+b") as handle:
            handle.seek(int(db.stat().st_size * offset_fraction) // 4096 * 4096)
            handle.write(b"\xff" * size)
    return damage


def _header(db: Path) -> None:
    with db.open("r+b") as handle:
        handle.write(b"\x00garbage header")


def _truncate(db: Path) -> None:
    with db.open("r+b") as handle:
        handle.truncate(db.stat().st_size // 3)


def _sql(*statements: str):
    def damage(db: Path) -> None:
        with sqlite3.connect(db) as connection:
            connection.execute("PRAGMA foreign_keys = OFF")
            for statement in statements:
                connection.execute(statement)
    return damage


def _wal_garbage(db: Path) -> None:  # a -wal file of junk beside a clean store: SQLite ignores it
    Path(f"{db}-wal").write_bytes(os.urandom(3 * 4096 + 24))


_DROP_VIEWS = ("DROP VIEW IF EXISTS related_lists", "DROP VIEW IF EXISTS neighbourhood_members")
DAMAGES = {
    "overwritten-start": (_overwrite(0.0, 100), None),
    "overwritten-page-2": (_overwrite(0.0001, 8192), None),
    "overwritten-middle": (_overwrite(0.5, 20_000), None),
    "header": (_header, None),
    "truncated": (_truncate, None),
    "wal-garbage": (_wal_garbage, None),
    "migrations-dropped": (_sql("DROP TABLE _migrations"), None),
    "field-maps-not-json": (_sql("INSERT OR REPLACE INTO settings VALUES ('field_maps', '{{')"), None),
    "related-dropped": (_sql(*_DROP_VIEWS, "DROP TABLE related"), None),
    "articles-dropped": (_sql(*_DROP_VIEWS, "DROP TABLE articles"), None),
    "settings-dropped": (_sql("DROP TABLE settings"), None),
    "embeddings-dropped": (_sql("DROP TABLE embeddings"), None),
    "ranking-not-json": (_sql("UPDATE settings SET value = '{not json' WHERE key = 'ranking'"), None),
    "ranking-a-list": (_sql("UPDATE settings SET value = '[1, 2]' WHERE key = 'ranking'"), None),
    "dimension-not-a-number": (_sql("UPDATE settings SET value = 'abc' WHERE key = 'dimension'"), None),
    "neighbourhoods-not-json": (_sql("UPDATE settings SET value = '{{' WHERE key = 'neighbourhoods'"), None),
    "labels-not-json": (_sql("UPDATE articles SET labels = '{x' WHERE id = 'old-00003'"), None),
    "why-not-json": (_sql("UPDATE related SET why = '{x'"), None),
}


DAMAGE_PARAMS = [pytest.param(name, id=name, marks=[pytest.mark.xfail(
    strict=True, reason=f"BUG: a damaged store is a traceback ({bug}), not a one-line error")] if bug else [])
    for name, (_, bug) in DAMAGES.items()]


@pytest.mark.parametrize("damage", DAMAGE_PARAMS)
def test_a_damaged_store_is_a_one_line_error_for_every_command(damage, built, tmp_path):
    db = copy_of(built, "control", tmp_path)
    DAMAGES[damage][0](db)
    commands = [["related", "old-00001"], ["related", "old-00001", "--json"], ["articles"], ["refresh", "-q"],
                ["ingest", built["records"], "-q"], ["remove", "old-00002"], ["audit"], ["export"]]
    failed = 0
    for command in commands:
        result = invoke(*command, "--db", db)  # an exception escaping here is the bug
        assert result.exit_code in (0, 1), (command, result.output)
        if result.exit_code == 1 and command[0] != "remove":
            failed += 1
            lines = stderr_lines(result)
            assert len(lines) == 1 and lines[0].startswith("Error: "), (command, lines)
            assert_one_line(lines[0], db)
    if damage in ("wal-garbage", "field-maps-not-json"):
        assert failed == 0, "a harmless fault stopped a command"


NOT_STORES = {
    "text": b"plain text, not a database\n",
    "random": bytes(range(256)) * 64,
    "gzip": gzip.compress(b"SQLite format 3\x00" + bytes(8192)),
    "json": b'{"articles": []}',
    "html": b"<!doctype html><html><body>not a store</body></html>",
    "sqlite-header-then-junk": b"SQLite format 3\x00" + os.urandom(8192),
    "sqlite-header-only": b"SQLite format 3\x00",
}


@pytest.mark.parametrize("kind", sorted(NOT_STORES))
def test_a_store_file_that_is_not_sqlite_is_refused_and_left_alone(kind, built, tmp_path):
    db = tmp_path / "store.db"
    db.write_bytes(NOT_STORES[kind])
    before = digest(db)
    for command in (["related", "x"], ["articles"], ["refresh", "-q"], ["ingest", built["records"], "-q"],
                    ["remove", "x"], ["export"]):
        result = invoke(*command, "--db", db)
        assert result.exit_code == 1, (command, result.output)
        lines = stderr_lines(result)
        assert len(lines) == 1 and lines[0].startswith("Error: ") and str(db) in lines[0], (command, lines)
        assert_one_line(lines[0], db)
        assert digest(db) == before, f"{command[0]} wrote to a file that is not a store"


def test_a_folder_as_the_store_is_a_usage_error(built, tmp_path):
    for command in (["related", "x"], ["articles"], ["ingest", built["records"]]):
        result = invoke(*command, "--db", tmp_path)
        assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_reader_leaves_another_applications_database_alone(tmp_path):
    other = tmp_path / "notes.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("create table notes (text)")
        connection.execute("insert into notes values ('mine')")
    before = digest(other)
    result = invoke("related", "x", "--db", other)
    assert result.exit_code == 1 and len(stderr_lines(result)) == 1
    assert digest(other) == before


def test_a_database_whose_tables_clash_is_refused(tmp_path):
    other = tmp_path / "clash.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("create table articles (x)")
        connection.execute("insert into articles values ('mine')")
    for command in (["related", "x"], ["articles"], ["refresh", "-q"]):
        result = invoke(*command, "--db", other)
        assert result.exit_code == 1 and "cannot be opened as a SQLite store" in result.stderr
        assert_one_line(stderr_lines(result)[0], other)
    with sqlite3.connect(other) as connection:
        assert connection.execute("select * from articles").fetchall() == [("mine",)]


# -- a read-only store -----------------------------------------------------------------------


@pytest.fixture
def read_only(monkeypatch):
    """Make stores read-only the way the store sees it; as root chmod denies nothing, so the
    check the store makes (os.access) answers as on a read-only mount."""

    def apply(folder: Path) -> None:
        if os.geteuid() == 0:
            monkeypatch.setattr(store_module.os, "access", lambda path, mode: mode != os.W_OK)
        else:
            folder.chmod(0o555)
            for child in folder.iterdir():
                child.chmod(0o444)

    yield apply


def test_readers_of_a_store_in_a_read_only_folder(built, tmp_path, read_only):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = copy_of(built, "control", folder)
    wanted = {args: invoke(*args.split(), "--db", db).stdout for args in (
        "related old-00001 --json", "related new-00007", "articles --json", "articles -s story -n 3")}
    before = digest(db)
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"id": "late", "title": "Late", "body": "A new article."}) + "\n")
    read_only(folder)
    try:
        for args, output in wanted.items():
            result = invoke(*args.split(), "--db", db)
            assert result.exit_code == 0 and result.stdout == output, (args, result.output)
        for command in (["remove", "old-00002"], ["ingest", more, "-q"], ["refresh", "-q", "--full"]):
            result = invoke(*command, "--db", db)
            assert result.exit_code == 1, (command, result.output)
            lines = stderr_lines(result)
            assert len(lines) == 1 and lines[0].startswith("Error: "), (command, lines)
            assert_one_line(lines[0], db)
    finally:
        folder.chmod(0o755)
    assert digest(db) == before


def test_readers_of_a_read_only_store_see_what_its_wal_holds(built, tmp_path, read_only):
    live = copy_of(built, "base", tmp_path)
    writer = ("import os, sys\nfrom related_posts import Article, Recommender\n"
              "rec = Recommender(sys.argv[1], model='hashing')\nrec.store.db.execute('PRAGMA wal_autocheckpoint = 0')\n"
              "rec.add([Article('late', 'Late article', 'Committed after the last checkpoint.')])\nos._exit(0)\n")
    subprocess.run([sys.executable, "-c", writer, str(live)], cwd=REPO, check=True, timeout=120)
    assert Path(f"{live}-wal").stat().st_size > 0
    folder = tmp_path / "snapshot"
    folder.mkdir()
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{live}{suffix}", folder / f"store.db{suffix}")
    read_only(folder)
    try:
        result = invoke("articles", "--db", folder / "store.db")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 0 and "late\tLate article" in result.stdout


def test_readers_of_a_read_only_store_answer_for_an_article_not_yet_refreshed(built, tmp_path, read_only):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = copy_of(built, "control", folder)
    with Recommender(db, model="hashing") as rec:
        rec.add(Article("late", "Late story about the space rocket launch", "The rocket launch put a crew capsule "
                        "in orbit; the booster landed on the moon lander pad."))
    read_only(folder)
    try:
        result = invoke("related", "late", "--db", db)
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 0, result.output
