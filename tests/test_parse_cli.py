"""The ``parse`` command: one page, several pages or a folder, bad files in the middle."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from related_posts.cli import cli

PAGES = Path(__file__).resolve().parent / "pages"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("name", ["text-blocks-related-posts.txt", "md-links-list.md", "wp-yarpp-list.html",
                                  "json-related.json"])
def test_one_page_as_json(name):
    code, out = run("parse", str(PAGES / name), "--json")
    assert code == 0
    page = json.loads(out)
    assert {"path", "title", "body", "tail", "format"} <= set(page)
    assert page["tail"] and {"title", "url", "teaser"} <= set(page["tail"][0])


def test_one_page_for_people():
    code, out = run("parse", str(PAGES / "wp-jetpack.html"))
    assert code == 0 and "tail:   'Related' with 3 items" in out and "<https://news.example/" in out


def test_a_folder_gives_json_lines_and_goes_on_past_bad_files(tmp_path: Path):
    (tmp_path / "good.txt").write_text("Title\n\nBody text.\n\nRelated Posts\n\nOther\n\nteaser...\n")
    (tmp_path / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp_path / "tail-only.md").write_text("## Related posts\n\n- [a](/a)\n- [b](/b)\n")
    (tmp_path / "notes.odt").write_text("a,b\n")
    (tmp_path / "site.jsonl").write_text('{"title": "A", "body": "a"}\n{broken\n')
    result = CliRunner().invoke(cli, ["parse", str(tmp_path), "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "skipped 1 files that are not pages" in result.stderr
    assert "2 of 5 pages" not in result.stdout and "3 of 5 pages could not be parsed" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    by_path = {Path(r["path"]).name: r for r in rows}
    assert set(by_path) == {"good.txt", "image.html", "tail-only.md", "site.jsonl:1", "site.jsonl:2"}
    assert by_path["good.txt"]["tail"][0]["title"] == "Other" and "error" not in by_path["good.txt"]
    assert "PNG image" in by_path["image.html"]["error"]
    assert "only a related-posts tail" in by_path["tail-only.md"]["error"]
    assert "invalid JSON" in by_path["site.jsonl:2"]["error"]


def test_several_files_for_people(tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_text("")
    code, out = run("parse", str(PAGES / "md-cards.md"), str(bad))
    assert code == 1
    assert "md-cards.md: markdown, 'Coastal town braces for king tides'" in out
    assert "bad.txt: error:" in out and "3 items" in out


def test_a_bad_single_page_is_a_one_line_error(tmp_path: Path):
    page = tmp_path / "p.html"
    page.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    result = CliRunner().invoke(cli, ["parse", str(page)])
    assert result.exit_code == 1 and "no article text found in the HTML" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", ["parse", "audit"])
def test_commands_and_options_have_help(name):
    command = cli.commands[name]
    assert command.help
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.name} has no help text"
