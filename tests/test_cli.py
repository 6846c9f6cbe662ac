from __future__ import annotations

import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from related_posts.cli import cli

from .conftest import CONTENT_FARM_EXAMPLE


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def site(tmp_path, site_articles):
    """A folder of JSONL records and the path of a store built from it with the fake model."""
    records = tmp_path / "records.jsonl"
    records.write_text("".join(
        json.dumps({"id": a.id, "title": a.title, "body": a.body, "url": a.url}) + "\n" for a in site_articles))
    return records, str(tmp_path / "site.db")


def invoke(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_every_command_and_option_has_help():
    def walk(command):
        assert command.help, f"{command.name} lacks help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{command.name} {param.opts} lacks help text"
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(cli)


def test_ingest_refresh_related_rewrite(runner, site, tmp_path):
    records, db = site
    result = invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    assert result.exit_code == 0 and "added 8, updated 0, unchanged 0, skipped 0" in result.output
    again = invoke(runner, "ingest", records, "--db", db, "--json", "-q")
    assert json.loads(again.output)["unchanged"] == 8
    result = invoke(runner, "refresh", "--db", db, "--k", "3", "--json", "-q")
    assert json.loads(result.output)["lists"] == 8
    shown = invoke(runner, "related", "war-1", "--db", db, "--json")
    listing = json.loads(shown.stdout)
    assert [set(row) >= {"id", "title", "score", "url", "rank"} for row in listing] == [True] * 3
    assert "3 of 5 items for war-1" in shown.stderr  # asked for 5, the lists were refreshed with --k 3
    assert {row["id"] for row in listing[:2]} == {"war-2", "war-3"}
    page = tmp_path / "page.txt"
    page.write_text("Kursk drones\n\nDrones hit the front line near Kursk.\n\nRead More\n\nUnrelated\n\nTeaser...\n")
    out = tmp_path / "out.txt"
    invoke(runner, "rewrite", page, "--db", db, "-o", out, "--k", "2")
    text = out.read_text()
    assert text.startswith("Kursk drones\n\nDrones hit the front line near Kursk.\n\nRead More\n\n")
    assert "Unrelated" not in text


def test_env_var_names_the_store(runner, site, monkeypatch):
    records, db = site
    monkeypatch.setenv("RELATED_POSTS_DB", db)
    invoke(runner, "ingest", records, "--model", "hashing", "-q")
    assert "war-1\tDrones strike near Kursk" in invoke(runner, "articles").output


def test_bad_records_are_reported_and_the_batch_goes_on(runner, tmp_path):
    records = tmp_path / "r.jsonl"
    records.write_text('{"id": "a", "title": "T", "body": "B"}\nnot json\n{"id": "b", "title": "T2"}\n')
    result = runner.invoke(cli, ["ingest", str(records), "--db", str(tmp_path / "s.db"), "--model", "hashing", "-q"])
    assert result.exit_code == 0
    assert "added 1, updated 0, unchanged 0, skipped 2" in result.output
    assert f"skipped {records}:2: invalid JSON" in result.output
    assert f"skipped {records}:3: missing required field 'body' or 'text'" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["related", "nope", "--db", "{db}"], "no article with id 'nope'"),
        (["related", "x", "--db", "{missing}"], "does not exist; create it with: related-posts ingest"),
        (["ingest", "{records}", "--db", "{notdb}"], "is not a SQLite database"),
        (["ingest", "{records}", "--db", "{db}", "--model", "no-such-model-xyz"], "hashing-bow-256"),
        (["ingest", "{records}", "--field", "summary=x", "--db", "{db}"], "NAME one of"),
    ],
)
def test_user_errors_are_one_line_without_traceback(runner, site, tmp_path, args, message):
    records, db = site
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    notdb = tmp_path / "notes.txt"
    notdb.write_text("plain text")
    values = {"db": db, "missing": tmp_path / "missing.db", "records": records, "notdb": notdb}
    result = runner.invoke(cli, [a.format(**values) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_model_not_installed_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(cli, ["refresh", "--db", str(tmp_path / "s.db"), "--model", "no-such-model-xyz", "-q"])
    assert result.exit_code == 1
    assert "model 'no-such-model-xyz' is not available locally" in result.output


def test_parse_json(runner, tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Title\n\nBody.\n\n## Related Posts\n\n- [Other](https://x.example/o) — Teaser...\n")
    data = json.loads(invoke(runner, "parse", page, "--json").output)
    assert data["title"] == "Title" and data["body"] == "Body." and data["format"] == "markdown"
    assert data["tail"] == [{"title": "Other", "teaser": "Teaser...", "url": "https://x.example/o"}]


@pytest.mark.skipif(not CONTENT_FARM_EXAMPLE.exists(), reason="shared example not available")
def test_parse_content_farm_example(runner):
    data = json.loads(invoke(runner, "parse", CONTENT_FARM_EXAMPLE, "--json").output)
    assert {"title", "body", "tail", "format"} <= set(data)
    assert len(data["tail"]) == 5 and all(set(item) >= {"title", "teaser", "url"} for item in data["tail"])


def test_refresh_exclusions_are_saved_and_kept_by_later_refreshes(runner, tmp_path, site_articles):
    records = tmp_path / "records.jsonl"
    labels = {"war-2": ["sponsored"], "war-3": "analysis, sponsored"}
    records.write_text("".join(json.dumps({"id": a.id, "title": a.title, "body": a.body,
                                           "tags": labels.get(a.id, [])}) + "\n"
                               for a in site_articles))
    db = tmp_path / "s.db"
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "--field", "labels=tags", "-q")

    def related_ids(article_id):
        out = invoke(runner, "related", article_id, "--db", db, "--k", "3", "--json").output
        return {row["id"] for row in json.loads(out)}

    invoke(runner, "refresh", "--db", db, "--k", "3", "-q", "--exclude-label", "sponsored")
    assert {"war-2", "war-3"}.isdisjoint(related_ids("war-1"))
    again = json.loads(invoke(runner, "refresh", "--db", db, "--k", "3", "-q", "--json").output)
    assert again["lists"] == 0, "a plain refresh keeps the saved exclusions: nothing is due"
    reset = json.loads(invoke(runner, "refresh", "--db", db, "--k", "3", "-q", "--json",
                              "--reset-ranking").output)
    assert reset["recomputed"] == 8
    assert {"war-2", "war-3"} <= related_ids("war-1")


def test_progress_bars_only_on_a_terminal_or_when_asked(runner, site, tmp_path):
    records, _ = site
    for name in ("piped.db", "forced.db"):
        invoke(runner, "ingest", records, "--db", tmp_path / name, "--model", "hashing", "-q")
    piped = runner.invoke(cli, ["refresh", "--db", str(tmp_path / "piped.db")], catch_exceptions=False)
    assert piped.exit_code == 0 and "\r" not in piped.stderr  # stderr is a pipe, as in cron: no frames
    forced = runner.invoke(cli, ["--progress", "refresh", "--db", str(tmp_path / "forced.db")],
                           catch_exceptions=False)
    assert forced.exit_code == 0 and "\r" in forced.stderr


def test_progress_rule():
    from related_posts.terminal import progress_wanted

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_wanted(False, stream=Terminal()) is True
    assert progress_wanted(True, stream=Terminal()) is False
    assert progress_wanted(False, stream=io.StringIO()) is False
    assert progress_wanted(False, forced=True, stream=io.StringIO()) is True


def test_remove_closes_ranks_reports_json_and_fails_on_unknown_ids(runner, site):
    records, db = site
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    invoke(runner, "refresh", "--db", db, "--k", "3", "-q")
    before = json.loads(invoke(runner, "related", "war-1", "--db", db, "--json", "-k", "3").stdout)
    gone = before[0]["id"]
    done = runner.invoke(cli, ["remove", gone, "--db", db, "--json"])
    assert done.exit_code == 0 and json.loads(done.stdout) == {"removed": 1, "asked": 1, "not_stored": [], "db": db}
    after = json.loads(invoke(runner, "related", "war-1", "--db", db, "--json", "-k", "3").stdout)
    assert [row["id"] for row in after] == [row["id"] for row in before[1:]]
    assert [row["rank"] for row in after] == [1, 2]  # no gap where the removed link was
    missing = runner.invoke(cli, ["remove", "no-such-post", "--db", db])
    assert missing.exit_code == 1 and "not stored: no-such-post" in missing.stderr


def test_articles_search_limit_and_json(runner, site):
    records, db = site
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    found = json.loads(invoke(runner, "articles", "--db", db, "--search", "WAR", "--limit", "2", "--json").stdout)
    assert len(found) == 2 and all("war" in row["id"] for row in found)
    assert set(found[0]) == {"id", "title", "url", "published", "modified", "labels", "image", "description", "lang"}
    assert found[0]["url"]


def test_db_help_is_true_per_command():
    assert "created if missing" in runner_help("ingest") and "must exist" in runner_help("related")
    assert "labels" in runner_help("ingest")


def runner_help(command: str) -> str:
    return " ".join(CliRunner().invoke(cli, [command, "--help"]).output.split())


def test_demo_json(runner):
    shown = runner.invoke(cli, ["demo", "--model", "hashing", "--json", "-q"], catch_exceptions=False)
    assert shown.exit_code == 0
    document = json.loads(shown.stdout)
    assert document["lists"] == document["articles"] > 0 and len(document["after"]) == 5
    assert document["before"] and document["rewritten"].startswith(document["page_title"])


def test_the_readme_shows_every_command():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"related-posts {name}" not in readme]
    assert missing == []


def test_an_ingest_where_every_input_was_skipped_fails(runner, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": 3, "body": "B"}\nnot json\n')
    result = runner.invoke(cli, ["ingest", str(bad), "--db", str(tmp_path / "s.db"), "--model", "hashing", "-q"])
    assert result.exit_code == 1 and "skipped 2" in result.stdout
    assert "field 'title' must be a string" in result.stderr


def test_rewrite_into_a_missing_folder_is_a_one_line_error(runner, site, tmp_path):
    records, db = site
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    page = tmp_path / "page.txt"
    page.write_text("Title\n\nA body about the war and the talks.\n")
    result = runner.invoke(cli, ["rewrite", str(page), "--db", db, "-o", str(tmp_path / "nope" / "out.txt")])
    assert result.exit_code == 1 and "folder" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.output


def test_unreadable_files_and_unknown_charsets_are_skips(tmp_path):
    from related_posts.sources import read_sources

    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "odd.html").write_bytes(b'<meta charset="undefined"><h1>Caf\xe9</h1><p>' + b"Body text here. " * 5 + b"</p>")
    (folder / "locked.md").write_text("# Locked\n\nBody.\n")
    (folder / "locked.md").chmod(0)
    found = list(read_sources([folder]))
    (folder / "locked.md").chmod(0o644)
    titles = {getattr(item, "title", None) for item in found}
    assert "Café" in titles  # decoded by the fallback, not a UnicodeError
    locked = [item for item in found if getattr(item, "location", "").endswith("locked.md")]
    import os
    if os.geteuid() != 0:  # root reads any file
        assert locked and "cannot read the file" in locked[0].reason


def test_a_lock_path_that_is_a_folder_is_a_one_line_error(runner, site):
    records, db = site
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    Path(f"{db}.lock").mkdir()
    result = runner.invoke(cli, ["refresh", "--db", db, "-q"])
    assert result.exit_code == 1 and "cannot open the refresh lock" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_ranking_options_are_refresh_flags_saved_in_the_store(runner, site):
    records, db = site
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    invoke(runner, "refresh", "--db", db, "-k", "3", "-q", "--pin", "war-1=bread-1,war-3", "--mmr", "0.7")
    listing = json.loads(invoke(runner, "related", "war-1", "--db", db, "--json", "-k", "3").stdout)
    assert [row["id"] for row in listing[:2]] == ["bread-1", "war-3"]
    from related_posts import Recommender

    with Recommender(db) as rec:
        assert rec.ranking.mmr == 0.7 and rec.ranking.pins == (("war-1", ("bread-1", "war-3")),)
    invoke(runner, "refresh", "--db", db, "-k", "3", "-q", "--min-score", "0.999")
    assert json.loads(invoke(runner, "related", "war-2", "--db", db, "--json").stdout) == []  # not pinned
    bad = runner.invoke(cli, ["refresh", "--db", db, "--mmr", "3"])
    assert bad.exit_code == 2 and "mmr must be in [0, 1], got 3" in bad.output


def test_every_ranking_option_is_a_refresh_flag_or_declared_python_only():
    import dataclasses

    from related_posts.cli import RANKING_FLAGS
    from related_posts.recommend.rank import RankingOptions

    flags = {name for name, _, _ in RANKING_FLAGS} | {"k", "expand", "exclude_ids", "exclude_sources",
                                                      "exclude_labels", "pins"}
    python_only = {"lexical_dims", "ignore_terms", "expand_weight", "same_language"}
    assert {field.name for field in dataclasses.fields(RankingOptions)} == flags | python_only


def test_a_read_only_store_answers_readers_and_refuses_writes_cleanly(runner, site, monkeypatch):
    import os

    import related_posts.store.store as store_module

    records, db = site
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    invoke(runner, "refresh", "--db", db, "-k", "3", "-q")
    before = invoke(runner, "related", "war-1", "--db", db, "--json").stdout
    # As on a read-only mount or folder (tests may run as root, for whom chmod changes nothing).
    monkeypatch.setattr(store_module.os, "access", lambda path, mode: mode != os.W_OK)
    assert invoke(runner, "related", "war-1", "--db", db, "--json").stdout == before
    assert "war-1" in invoke(runner, "articles", "--db", db).stdout
    refused = runner.invoke(cli, ["remove", "war-2", "--db", db])
    assert refused.exit_code == 1 and "cannot write the store" in refused.stderr and "read-only" in refused.stderr
    monkeypatch.undo()
    assert invoke(runner, "related", "war-1", "--db", db, "--json").stdout == before  # nothing changed


def test_sigterm_stops_cleanly_and_the_next_run_finishes(runner, site, tmp_path, monkeypatch):
    import signal

    import related_posts.cli as cli_module
    import related_posts.ingest as ingest_module

    records, db = site
    second = tmp_path / "more.jsonl"
    second.write_text(json.dumps({"id": "extra", "title": "Extra", "body": "More text about drones."}) + "\n")
    real_read_file = ingest_module.read_file

    def read_then_terminate(path, *args):
        yield from real_read_file(path, *args)
        if path.name == "records.jsonl":
            signal.raise_signal(signal.SIGTERM)  # a real signal, as from a service manager

    monkeypatch.setattr(ingest_module, "read_file", read_then_terminate)
    stopped = runner.invoke(cli, ["ingest", str(records), str(second), "--db", db, "--model", "hashing", "-q"])
    assert stopped.exit_code == 143 and "stopped by SIGTERM" in stopped.stderr and "Traceback" not in stopped.output
    assert signal.getsignal(signal.SIGTERM) is not cli_module._on_sigterm  # restored after the command
    monkeypatch.undo()
    finished = runner.invoke(cli, ["ingest", str(records), str(second), "--db", db, "--json", "-q"])
    report = json.loads(finished.stdout)
    assert finished.exit_code == 0 and report["added"] + report["unchanged"] == 9


def test_a_damaged_store_is_a_one_line_error_that_says_what_to_do(runner, tmp_path):
    records = tmp_path / "many.jsonl"
    records.write_text("".join(json.dumps({"id": f"a{i}", "title": f"Title {i}", "body": "words " * 50 + str(i)}) + "\n"
                               for i in range(300)))
    db = tmp_path / "damaged.db"
    invoke(runner, "ingest", records, "--db", db, "--model", "hashing", "-q")
    invoke(runner, "refresh", "--db", db, "-q")
    size = db.stat().st_size
    with db.open("r+b") as handle:  # garbage over pages in the middle of the file
        handle.seek(size // 2 // 4096 * 4096)
        handle.write(b"\xff" * 20000)
    result = runner.invoke(cli, ["refresh", "--db", str(db), "--full", "-q"])
    assert result.exit_code == 1 and "the store is damaged" in result.stderr and "quick_check" in result.stderr
    assert "Traceback" not in result.output
