"""Rewriting a whole site: folders in, pages out (--out DIR or --in-place), one line per page;
reruns give the same bytes in every format; HTML keeps the theme's own markup; the bytes
written are in the charset the page declares.

Stores are built with the hashing model from the Hugo and WordPress fixtures, as in
tests/test_site.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from related_posts import Article, Recommender
from related_posts.cli import cli
from related_posts.ingest import ingest
from related_posts.recommend.parse import PAGE_FORMATS, ParseError, parse_document
from related_posts.recommend.recommender import site_pages, write_page
from related_posts.recommend.render import RenderOptions

HERE = Path(__file__).resolve().parent
SITES = HERE / "fixtures" / "sites"
PAGES = HERE / "pages"


@pytest.fixture
def sites(tmp_path: Path) -> Path:
    """A copy of both fixture sites under one folder, and a refreshed store beside it."""
    root = tmp_path / "sites"
    shutil.copytree(SITES, root)
    with Recommender(tmp_path / "site.db", model="hashing") as rec:
        ingest(rec, [root / "hugo", root / "wordpress"])
        rec.refresh(k=3)
    return root


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Recommender:
    """One store for the property tests: the fixture sites, refreshed (read only)."""
    db = tmp_path_factory.mktemp("store") / "site.db"
    rec = Recommender(db, model="hashing")
    ingest(rec, [SITES / "hugo", SITES / "wordpress"])
    rec.refresh(k=3)
    yield rec
    rec.close()


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- the command ---------------------------------------------------------------------------------


def test_a_site_rewritten_to_out_mirrors_each_folders_tree(sites, tmp_path):
    db, build = tmp_path / "site.db", tmp_path / "build"
    before = tree_bytes(sites)
    result = run("rewrite", sites / "hugo" / "content", sites / "wordpress", "--db", db, "--out", build, "--json")
    assert result.exit_code == 0, result.output
    assert tree_bytes(sites) == before  # the sources are not touched
    written = sorted(str(p.relative_to(build)) for p in build.rglob("*") if p.is_file())
    assert written == ["leaf-mould.html", "posts/adjusting-rear-derailleur.md", "posts/brake-pads.md",
                       "posts/chain-wear.md", "posts/sourdough-starter/index.md", "posts/tubeless-tyres.md",
                       "posts/winter-sky.md", "raised-beds.html", "winter-bike-commute.html"]
    report = json.loads(result.stdout)
    assert (report["written"], report["unchanged"], report["errors"]) == (9, 0, 0)
    lines = result.stderr.splitlines()
    assert sum(line.startswith("written ") for line in lines) == 9
    assert f"written   {sites / 'wordpress' / 'leaf-mould.html'} -> {build / 'leaf-mould.html'}" in lines
    assert lines[-1].startswith("9 pages: 9 written, 0 unchanged, 0 failed")
    leaf = (build / "leaf-mould.html").read_text()
    assert "data-related-posts" in leaf and "yarpp-template-list" in leaf and 'rel="bookmark"' in leaf
    # Once more into the same folder: every page comes out the same, nothing is new.
    first = tree_bytes(build)
    again = run("rewrite", sites / "hugo" / "content", sites / "wordpress", "--db", db, "--out", build)
    assert again.exit_code == 0 and tree_bytes(build) == first
    assert "9 written" in again.stderr
    # A rewritten tree rewritten in place is unchanged: reruns are idempotent.
    in_place = run("rewrite", build, "--db", db, "--in-place", "--json")
    assert json.loads(in_place.stdout)["unchanged"] == 9 and not list(build.rglob("*.bak"))


def test_in_place_keeps_a_backup_and_a_rerun_writes_nothing(sites, tmp_path):
    db, site = tmp_path / "site.db", sites / "wordpress"
    original = (site / "leaf-mould.html").read_bytes()
    result = run("rewrite", site, "--db", db, "--in-place")
    assert result.exit_code == 0 and result.stderr.count("written ") == 3
    assert (site / "leaf-mould.html.bak").read_bytes() == original
    rewritten = (site / "leaf-mould.html").read_bytes()
    assert rewritten != original and b"partner.example" not in rewritten
    stamp = os.stat(site / "leaf-mould.html").st_mtime_ns
    again = run("rewrite", site, "--db", db, "--in-place")
    assert again.exit_code == 0 and again.stderr.count("unchanged ") == 3
    assert os.stat(site / "leaf-mould.html").st_mtime_ns == stamp  # not even rewritten
    assert (site / "leaf-mould.html.bak").read_bytes() == original  # the oldest backup is kept
    assert not (site / "leaf-mould.html.bak.bak").exists()
    assert not [p for p in site.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_in_place_without_backup_and_with_another_suffix(sites, tmp_path):
    db = tmp_path / "site.db"
    posts = sites / "hugo" / "content" / "posts"
    assert run("rewrite", posts, "--db", db, "--in-place", "--backup", "").exit_code == 0
    assert sorted(p.name for p in posts.iterdir() if p.is_file()) == [
        "adjusting-rear-derailleur.md", "brake-pads.md", "chain-wear.md", "tubeless-tyres.md", "winter-sky.md"]
    shutil.copytree(SITES / "wordpress", sites / "wp2")
    assert run("rewrite", sites / "wp2", "--db", db, "--in-place", "--backup", ".orig.html").exit_code == 0
    assert (sites / "wp2" / "leaf-mould.html.orig.html").read_bytes() == (SITES / "wordpress" / "leaf-mould.html").read_bytes()
    # A backup that is itself a page file is never taken for a page on the next run.
    again = run("rewrite", sites / "wp2", "--db", db, "--in-place", "--backup", ".orig.html")
    assert again.stderr.count("unchanged ") == 3 and ".orig.html:" not in again.stderr


def test_a_bad_page_is_reported_and_the_others_go_on(sites, tmp_path):
    db, site = tmp_path / "site.db", sites / "wordpress"
    (site / "empty.html").write_bytes(b"")
    (site / "picture.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (site / "only-tail.md").write_text("# Title\n\n## Related posts\n\n- [A](/a)\n- [B](/b)\n")
    (site / "notes.json").write_text('{"title": "A record", "body": "A record about leaf mould and raised beds."}')
    (site / "style.css").write_text("body { color: red }")  # not a page: left out
    (site / ".hidden.html").write_text("<p>hidden</p>")
    out = tmp_path / "out"
    result = run("rewrite", site, "--db", db, "--out", out, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    status = {Path(row["path"]).name: row["status"] for row in report["pages"]}
    assert status == {"empty.html": "error", "leaf-mould.html": "written", "notes.json": "written",
                      "only-tail.md": "error", "picture.html": "error", "raised-beds.html": "written",
                      "winter-bike-commute.html": "written"}
    errors = [line for line in result.stderr.splitlines() if line.startswith("error ")]
    assert len(errors) == 3 and all(str(site) in line for line in errors)
    assert any("empty.html: empty file" in line for line in errors)
    assert any("picture.html: this is a PNG image" in line for line in errors)
    assert any("only-tail.md: no article text" in line for line in errors)
    assert not (out / "empty.html").exists() and (out / "leaf-mould.html").exists()
    assert json.loads((out / "notes.json").read_text())["related"]
    assert "3 failed" in result.stderr.splitlines()[-1]


def test_several_pages_need_out_or_in_place(sites, tmp_path):
    db = tmp_path / "site.db"
    pages = sorted((sites / "wordpress").glob("*.html"))
    for args in ([pages[0], pages[1]], [sites / "wordpress"]):
        result = CliRunner().invoke(cli, ["rewrite", *map(str, args), "--db", str(db)])
        assert result.exit_code == 2 and "--out DIR" in result.stderr and "--in-place" in result.stderr
    for extra, says in ((["--out", tmp_path / "b", "--in-place"], "not both"),
                        (["--out", tmp_path / "b", "-o", tmp_path / "x.html"], "-o/--output is for one page"),
                        (["--backup", ".old"], "--backup goes with --in-place"),
                        (["--in-place", "--backup", "old/x"], "must not name a folder")):
        result = CliRunner().invoke(cli, ["rewrite", str(pages[0]), "--db", str(db), *map(str, extra)])
        assert result.exit_code == 2 and says in result.stderr, (extra, result.stderr)
    assert not (tmp_path / "b").exists()


def test_one_page_still_goes_to_stdout_or_to_o(sites, tmp_path):
    db, page = tmp_path / "site.db", sites / "wordpress" / "leaf-mould.html"
    shown = run("rewrite", page, "--db", db)
    assert shown.exit_code == 0 and shown.stdout_bytes.startswith(b"<!DOCTYPE html>")
    target = tmp_path / "leaf.html"
    written = run("rewrite", page, "--db", db, "-o", target, "--json")
    assert target.read_bytes() == shown.stdout_bytes
    assert json.loads(written.stdout)["status"] == "written"


def test_out_below_the_folder_given_is_not_read_as_pages(sites, tmp_path):
    db, site = tmp_path / "site.db", sites / "wordpress"
    assert run("rewrite", site, "--db", db, "--out", site / "build").exit_code == 0
    again = run("rewrite", site, "--db", db, "--out", site / "build")
    assert "3 pages" in again.stderr and "build/build" not in again.stderr
    assert not (site / "build" / "build").exists()
    same = CliRunner().invoke(cli, ["rewrite", str(site), "--db", str(db), "--out", str(site)])
    assert same.exit_code == 1 and "use --in-place" in same.stderr


def test_two_pages_for_one_place_in_out_are_an_error(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text("<p>x</p>")
    plan = site_pages([tmp_path / "a", tmp_path / "b", tmp_path / "a" / "index.html"], out=tmp_path / "out")
    assert [(p.parent.name, t, problem is None) for p, t, problem in plan] == [
        ("a", tmp_path / "out" / "index.html", True), ("b", tmp_path / "out" / "index.html", False)]
    assert "already written from" in plan[1][2]


def test_writes_are_atomic(tmp_path, monkeypatch):
    page = tmp_path / "page.html"
    page.write_bytes(b"old page")
    os.chmod(page, 0o644)
    write_page(page, b"new page", 0o644, backup=".bak")
    assert page.read_bytes() == b"new page" and (tmp_path / "page.html.bak").read_bytes() == b"old page"
    assert oct(page.stat().st_mode & 0o777) == "0o644"

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_page(page, b"half a pa", 0o644)
    assert page.read_bytes() == b"new page"  # the page is whole: the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html", "page.html.bak"]  # no temporary file


def test_a_failed_write_is_one_error_line_and_leaves_the_page(sites, tmp_path, monkeypatch):
    db, site = tmp_path / "site.db", sites / "wordpress"
    before = tree_bytes(site)
    real = os.replace

    def fail_on_raised_beds(source, target):
        if str(target).endswith("raised-beds.html"):
            raise OSError(13, "Permission denied")
        real(source, target)

    monkeypatch.setattr(os, "replace", fail_on_raised_beds)
    result = run("rewrite", site, "--db", db, "--in-place", "--backup", "")
    assert result.exit_code == 1
    assert "raised-beds.html (Permission denied); the page there is as it was" in result.stderr
    assert (site / "raised-beds.html").read_bytes() == before["raised-beds.html"]
    assert (site / "leaf-mould.html").read_bytes() != before["leaf-mould.html"]
    assert not [p for p in site.iterdir() if p.name.startswith(".")]


def test_a_template_renders_the_html_blocks_of_a_site(sites, tmp_path):
    db, build = tmp_path / "site.db", tmp_path / "build"
    template = tmp_path / "related.html.j2"
    template.write_text('<nav class="see-also"><h2>{{ heading }}</h2>{% for item in items %}'
                        '<a href="{{ item.url }}">{{ item.rank }}. {{ item.title }}</a>{% endfor %}</nav>\n')
    result = run("rewrite", sites / "wordpress", sites / "hugo" / "content", "--db", db, "--out", build,
                 "--template", template)
    assert result.exit_code == 0, result.stderr
    leaf = (build / "leaf-mould.html").read_text()
    assert '<div data-related-posts><nav class="see-also"><h2>Related posts</h2><a href="https://' in leaf
    assert "yarpp-template-list" not in leaf and "1. " in leaf
    assert "## Related" in (build / "posts" / "brake-pads.md").read_text()  # other formats: their own layout
    again = run("rewrite", build, "--db", db, "--in-place", "--template", template)
    assert again.stderr.count("unchanged ") == 9
    broken = tmp_path / "broken.j2"
    broken.write_text("{% for item in items %}")
    bad = CliRunner().invoke(cli, ["rewrite", str(sites / "wordpress"), "--db", str(db), "--out", str(build),
                                   "--template", str(broken)])
    assert bad.exit_code == 2 and "does not compile" in bad.stderr


def test_the_block_written_is_the_tail_on_a_rerun_not_a_widget_added_since(store):
    page = (SITES / "wordpress" / "leaf-mould.html").read_text()
    once = store.rewrite(page, filename="leaf.html")
    later = ("<div class='crp_related'><h3>You may also like</h3><ul><li><a href='https://ads.example/x'>A widget "
             "the theme added since</a></li></ul></div>")
    widened = once.replace('<div class="taxonomy-category', later + '<div class="taxonomy-category')
    assert store.rewrite(widened, filename="leaf.html") == widened  # ours replaced in place, theirs kept
    inline = once.replace("<p>Fallen leaves rot", "<aside class='related-articles'><a href='https://ads.example/y'>"
                          "An inline related box in the article</a> <a href='https://ads.example/z'>And another "
                          "related link in it</a></aside><p>Fallen leaves rot")
    assert store.rewrite(inline, filename="leaf.html") == inline


# -- idempotency -----------------------------------------------------------------------------------


def _every_page() -> list[Path]:
    folders = [PAGES, PAGES / "holdout", SITES / "wordpress"]
    pages = [p for folder in folders for p in sorted(folder.iterdir())
             if p.suffix in PAGE_FORMATS or (p.suffix == ".json" and not p.name.endswith(".expected.json"))]
    return pages + sorted((SITES / "hugo" / "content").rglob("*.md"))


@pytest.mark.parametrize("page", _every_page(), ids=lambda p: p.name)
def test_rewriting_a_rewritten_page_gives_the_same_bytes(store, page):
    data = page.read_bytes()
    if page.name.startswith("bad-") or "only-tail" in page.name:  # no article: an error, nothing written
        with pytest.raises(ParseError, match="no article"):
            store.rewrite_page(data, filename=page.name)
        return
    once = store.rewrite_page(data, filename=page.name)
    twice = store.rewrite_page(once.data, filename=page.name)
    assert twice.data == once.data and not twice.changed
    document = parse_document(once.data, filename=page.name)
    if document.format == "html":
        assert "data-related-posts" in document.original_tail or \
            document.original_tail.startswith('<section class="related-posts">')
    assert document.tail  # the new tail is found as the tail


_WORDS = ["river", "council", "budget", "storm", "train", "night", "bakery", "rye", "library", "tools",
          "chess", "island", "ferry", "school", "week", "honey", "lanes", "chain", "brake", "leaves", "compost"]
_sentence = st.lists(st.sampled_from(_WORDS), min_size=6, max_size=14).map(lambda w: " ".join(w).capitalize() + ".")
_paragraph = st.lists(_sentence, min_size=2, max_size=4).map(" ".join)
_TEXT_TAILS = ["", "Related Posts\n\nOld story\n\nOld teaser...\n", "## Read next\n\n- [Old](/old)\n",
               "You may also like:\n1. Old one\nhttps://x.example/1\n2. Old two\n", "MORE STORIES\n\n* Old - teaser\n",
               "**Recommended for you**\n\n### [Old](/old)\nTeaser...\n", "Related:\n\n\n- Old one\n- Old two\n\n\n"]
_HTML_TAILS = [
    "",
    "<div class='yarpp yarpp-related yarpp-template-list'>\n<!-- YARPP List -->\n<h3>Related posts:</h3><ol>\n"
    "<li><a href='https://old.example/1' rel='bookmark' title='Old one'>Old one</a> <small>An old excerpt...</small></li>\n"
    "<li><a href='https://old.example/2' rel='bookmark' title='Old two'>Old two</a> <small>Another one...</small></li>\n</ol>\n</div>",
    "<div class='yarpp yarpp-related yarpp-template-thumbnails'>\n<h3>Related posts:</h3>\n"
    "<div class='yarpp-thumbnails-horizontal'>\n<a class='yarpp-thumbnail' rel='norewrite' href='https://old.example/1' "
    "title='Old one'>\n<img width='120' height='120' src='https://old.example/1.jpg' class='yarpp-thumbnail-image' alt='' "
    "srcset='https://old.example/1-2x.jpg 2x'><span class='yarpp-thumbnail-title'>Old one</span></a>\n</div>\n</div>",
    "<div id='jp-relatedposts' class='jp-relatedposts'><h3 class='jp-relatedposts-headline'><em>Related</em></h3>"
    "<div class='jp-relatedposts-items jp-relatedposts-items-visual'><div class='jp-relatedposts-post jp-relatedposts-post0' "
    "data-post-id='9'><a class='jp-relatedposts-post-a' href='https://old.example/1'><img class='jp-relatedposts-post-img' "
    "src='https://old.example/1.jpg' alt='Old one'></a><h4 class='jp-relatedposts-post-title'><a class='jp-relatedposts-post-a' "
    "href='https://old.example/1'>Old one</a></h4><p class='jp-relatedposts-post-excerpt'>Old excerpt...</p>"
    "<p class='jp-relatedposts-post-date'>April 3, 2025</p><p class='jp-relatedposts-post-context'>In \"Local\"</p></div></div></div>",
    "<section class='more'>\n<h2>More stories</h2>\n<ul>\n<li><a href='https://old.example/1'>Old one</a>"
    " <time datetime='2024-01-02'>2 January 2024</time></li>\n</ul>\n</section>",
    "<h3>Read next</h3>\n<ul><li><a href='https://old.example/1'>Old one</a></li><li><a href='https://old.example/2'>Old two</a></li></ul>",
    "<div id='related-posts'><h2>You might also like</h2><a href='https://old.example/1'>Old one</a><br />"
    "<a href='https://old.example/2'>Old two</a><br /></div>",
    "<div class='OUTBRAIN' data-widget-id='AR_1'><a href='https://ads.example/1'>Sponsored thing here</a></div>",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paragraphs=st.lists(_paragraph, min_size=1, max_size=3), tail=st.sampled_from(_TEXT_TAILS),
       markdown=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]), end=st.sampled_from(["", "\n", "\n\n"]),
       scores=st.booleans(), max_items=st.sampled_from([None, 1, 2]))
def test_generated_text_pages_rewrite_idempotently(store, paragraphs, tail, markdown, newline, end, scores, max_items):
    page = ("# Storm closes the ferry\n\n" + "\n\n".join(paragraphs) + "\n\n" + tail).rstrip("\n") + end
    page = page.replace("\n", newline)
    fmt = "markdown" if markdown else "text"
    options = RenderOptions(show_scores=scores, max_items=max_items)
    once = store.rewrite(page, format=fmt, options=options)
    assert store.rewrite(once, format=fmt, options=options) == once
    assert "\n" not in once.replace("\r\n", "") or newline == "\n"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paragraphs=st.lists(_paragraph, min_size=1, max_size=3), related=st.booleans(),
       indent=st.sampled_from([None, 2, 4]), end=st.sampled_from(["", "\n", "\n\n"]), ascii_only=st.booleans())
def test_generated_json_records_rewrite_idempotently(store, paragraphs, related, indent, end, ascii_only):
    record = {"title": "Storm closes the café", "body": "\n\n".join(paragraphs),
              **({"related": [{"title": "Old", "url": "/old"}]} if related else {}), "tags": ["a"]}
    data = (json.dumps(record, indent=indent, ensure_ascii=ascii_only) + end).encode()
    once = store.rewrite_page(data, filename="record.json")
    assert store.rewrite_page(once.data, filename="record.json").data == once.data
    assert json.loads(once.data)["related"] and once.data.endswith(end.encode() or b"}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paragraphs=st.lists(_paragraph, min_size=2, max_size=3), tail=st.sampled_from(_HTML_TAILS),
       after=st.sampled_from(["", "\n", "<footer>(c) Site</footer>", "\n\n<div class='comments'>No comments</div>"]),
       newline=st.sampled_from(["\n", "\r\n"]), charset=st.sampled_from(["utf-8", "iso-8859-1", None]),
       heading=st.sampled_from([None, "Further reading"]), scores=st.booleans())
def test_generated_html_pages_rewrite_idempotently(store, paragraphs, tail, after, newline, charset, heading, scores):
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "".join(f"<p>{p}</p>{newline}" for p in paragraphs)
    page = (f"<!DOCTYPE html>{newline}<html><head>{meta}<title>Café notes</title></head><body>{newline}"
            f"<article><h1>Café notes</h1>{newline}{body}</article>{newline}{tail}{after}</body></html>{newline}")
    data = page.encode("latin-1" if charset == "iso-8859-1" else "utf-8")
    options = RenderOptions(heading=heading, show_scores=scores)
    once = store.rewrite_page(data, filename="page.html", options=options)
    twice = store.rewrite_page(once.data, filename="page.html", options=options)
    assert twice.data == once.data
    assert once.data.startswith(data[: data.index(b"</article>")])  # the article, byte for byte
    document = parse_document(once.data, filename="page.html")
    assert document.tail and all(item.url and item.url.startswith("https://") for item in document.tail)
    assert "old.example" not in document.original_tail and "Sponsored" not in document.original_tail


# -- the theme's own markup, through the store -------------------------------------------------------


def test_a_rewritten_page_keeps_the_yarpp_markup_and_fills_thumbnails(store):
    page = (SITES / "wordpress" / "leaf-mould.html").read_text()
    thumbnails = page.replace("yarpp-template-list", "yarpp-template-thumbnails").replace(
        '<li><a href="https://plotnotes.example/2025/04/raised-beds/" rel="bookmark" title="Building Raised Beds from '
        'Reclaimed Timber">Building Raised Beds from Reclaimed Timber</a></li>',
        '<li><a href="https://plotnotes.example/2025/04/raised-beds/" rel="bookmark" title="Building Raised Beds from '
        'Reclaimed Timber"><img src="/old.jpg" srcset="/old-2x.jpg 2x" alt="Building Raised Beds from Reclaimed Timber">'
        ' Building Raised Beds from Reclaimed Timber</a></li>')
    out = store.rewrite(thumbnails, filename="leaf-mould.html")
    tail = parse_document(out, filename="leaf-mould.html").original_tail
    assert tail.startswith("<div class='yarpp yarpp-related yarpp-related-website yarpp-template-thumbnails' data-related-posts>")
    assert "<h3>Related posts:</h3><ol>" in tail and tail.count(' rel="bookmark"') == 3
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)">', tail)
    with_image = [a for a in store.store.articles() if a.image and a.url in tail]
    assert {src for src, _ in images} == {a.image for a in with_image} and len(images) >= 1
    assert "srcset" not in tail and "/old.jpg" not in tail
    assert store.rewrite(out, filename="leaf-mould.html") == out


def test_the_charset_a_page_declares_is_the_charset_it_is_written_in(tmp_path):
    with Recommender(tmp_path / "s.db", model="hashing") as rec:
        rec.add([Article("a", "Café prices rise by €2 — Жук beetle", "Coffee café prices rise as beans cost more.",
                         url="https://cafe.example/a"),
                 Article("b", "Crème brûlée at the café", "Coffee and café desserts: crème brûlée with beans.",
                         url="https://cafe.example/b")])
        rec.refresh(k=2)
        head = '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
        page = (head + "<title>Café coffee</title></head><body><article><h1>Café coffee</h1><p>"
                + "Coffee at the café costs more this year, owners say, as beans get dearer. " * 4
                + "</p></article><div class='yarpp-related'><h3>Related posts:</h3><ol><li>"
                "<a href='/o' rel='bookmark'>Old</a></li></ol></div></body></html>")
        data = page.encode("latin-1")
        result = rec.rewrite_page(data, filename="cafe.html")
        again = rec.rewrite_page(result.data, filename="cafe.html")
    assert result.encoding == "Windows-1252" and again.data == result.data
    assert result.data.startswith(data[: data.index(b"<div")])  # every byte above the tail
    text = browser_text(result.data)
    assert "Café prices rise by €2 — Жук beetle" in text and "Crème brûlée at the café" in text
    assert "Coffee at the café costs more" in text
    assert b"&#1046;&#1091;&#1082;" in result.data  # Cyrillic does not fit: character references


def test_a_page_that_declares_utf8_or_nothing_is_written_as_utf8(store):
    page = (SITES / "wordpress" / "leaf-mould.html").read_text().replace(
        "<title>Making Leaf Mould in a Bin Bag", "<title>Making Leaf Mould in a Bin Bag — «ça»")
    declared = store.rewrite_page(page.encode("utf-8"), filename="leaf.html")
    assert declared.encoding == "UTF-8" and "Bin Bag — «ça»" in browser_text(declared.data)
    undeclared = store.rewrite_page(page.replace('<meta charset="UTF-8" />', "").encode("utf-8"), filename="leaf.html")
    assert undeclared.encoding == "UTF-8" and "Bin Bag — «ça»" in undeclared.data.decode("utf-8")
    # A page that says Latin-1 but was saved as UTF-8 is written as it says: the browser then reads it right.
    mislabelled = page.replace('<meta charset="UTF-8" />', '<meta charset="iso-8859-1">')
    fixed = store.rewrite_page(mislabelled.encode("utf-8"), filename="leaf.html")
    assert fixed.encoding == "Windows-1252" and "Bin Bag — «ça»" in browser_text(fixed.data)
    assert store.rewrite_page(fixed.data, filename="leaf.html").data == fixed.data
    with_bom = store.rewrite_page(b"\xef\xbb\xbf" + page.encode("utf-8"), filename="leaf.html")
    assert with_bom.data.startswith(b"\xef\xbb\xbf<!DOCTYPE html>")


# -- a browser's reading of the bytes ----------------------------------------------------------------

# The WHATWG Encoding standard's labels for the charsets used here.
_LABELS = {"utf-8": "utf-8", "utf8": "utf-8", "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
           "windows-1252": "cp1252", "iso-8859-15": "iso8859_15"}


def browser_text(data: bytes) -> str:
    """The page's text as a browser shows it: BOM, else the <meta> charset in the first
    1024 bytes (WHATWG labels), else windows-1252; character references decoded."""
    if data.startswith(b"\xef\xbb\xbf"):
        decoded = data[3:].decode("utf-8")
    else:
        match = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", data[:1024], re.I)
        label = match.group(1).decode().lower() if match else "windows-1252"
        decoded = data.decode(_LABELS.get(label, label), errors="replace")

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.pieces: list[str] = []

        def handle_data(self, data):
            self.pieces.append(data)

    reader = Text()
    reader.feed(decoded)
    reader.close()
    return " ".join(" ".join(reader.pieces).split())
