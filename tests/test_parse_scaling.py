"""Parsing time grows linearly with the page, whatever its markup: pathological pages
(unclosed nested tags, deep nesting, flat markup by the megabyte, headed sections by the
thousand) at two sizes, N and 4N. Linear work takes about 4 times as long on the larger
page, quadratic 16 times; the bound is a ratio of times (never seconds), with room for
noise, and each time is the best of three runs. Also the page size limit."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from related_posts.recommend.parse import (
    PageTooLargeError,
    ParseError,
    build_tree,
    page_size,
    parse_document,
    parse_file,
)
from related_posts.recommend.parse import html as html_module

_ARTICLE = "".join(
    f"<p>Paragraph {n} of the report: the river rose two metres overnight and volunteers "
    f"filled sandbags outside the town hall until the early hours of the morning.</p>"
    for n in range(4))


def _page(body: str, article_first: bool = True) -> str:
    article = "<article><h1>Flood</h1>" + _ARTICLE + "</article>"
    return ("<html><head><title>Flood</title></head><body>"
            + (article + body if article_first else body + article) + "</body></html>")


# name -> (page of size n, n): n such that the page takes 0.05-0.15 s. Where trafilatura's
# fallbacks could matter (runs of short blocks), the small page already has more elements
# than MAX_FALLBACK_ELEMENTS, so that both sizes take the same path.
PATHOLOGICAL: dict[str, tuple[Callable[[int], str], int]] = {
    "unclosed nested <a>": (lambda n: _page("".join(f"<a href='/p{i}'>link {i} " for i in range(n))), 3000),
    "<div> nested deep": (lambda n: _page("<div>" * n + "x" + "</div>" * n), 6000),
    "unclosed <div> and <b>": (lambda n: _page("<div><b>x " * n), 3000),
    "flat <div><span>": (lambda n: _page("<div><span>x</span></div>" * n), 3000),
    "<li> without </li>": (lambda n: _page("<ul>" + "".join(f"<li><a href='/p{i}'>item {i}</a>"
                                                              for i in range(n)) + "</ul>"), 3000),
    "one huge text node": (lambda n: _page("<p>" + "word and more words. " * n + "</p>"), 25000),
    "headed <section>s": (lambda n: _page("".join(
        f"<section><h2>Related Posts</h2><ul><li><a href='/p{i}'>Story number {i} here</a></li>"
        f"</ul></section>" for i in range(n))), 1000),
}


def _best_time(html: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        try:
            parse_document(html, filename="p.html")
        except ParseError:
            pass  # a page without an article is fine: the time is what counts
        best = min(best, time.perf_counter() - started)
    return best


def _ratio(make: Callable[[int], str], n: int) -> float:
    small, large = make(n), make(4 * n)
    return _best_time(large) / _best_time(small)  # the first runs warm up (imports, caches)


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_parse_time_is_linear_in_the_page(name):
    make, n = PATHOLOGICAL[name]
    ratio = _ratio(make, n)
    # 4x the page: about 4x the time when linear, 16x when quadratic.
    assert ratio < 12, f"{name}: 4x the page took {ratio:.1f}x the time"


@pytest.mark.slow
@pytest.mark.parametrize("name, make, n", [
    # More <p> than trafilatura's XPath reads in linear time (MAX_EXTRACT_PARAGRAPHS).
    ("many paragraphs", lambda n: _page("<p>x</p>" * n), 12000),
    ("flat <div><span>, large", lambda n: _page("<div><span>x</span></div>" * n), 20000),
    ("unclosed nested <a>, large", lambda n: _page("".join(f"<a href='/p{i}'>link {i} " for i in range(n))), 16000),
    ("headed lists in one parent", lambda n: _page("".join(
        f"<h3>More stories</h3><ul><li><a href='/p{i}'>Story {i} in a list</a></li></ul>"
        f"<p>Some words here.</p>" for i in range(n))), 1000),
])
def test_parse_time_is_linear_on_large_pages(name, make, n):
    ratio = _ratio(make, n)
    assert ratio < 12, f"{name}: 4x the page took {ratio:.1f}x the time"


# -- what the pathological pages parse to ----------------------------------------------------


def test_an_a_inside_an_open_a_closes_it():
    tree = build_tree("<p><a href='/1'>one <b><a href='/2'>two</a> after</b></p>")
    links = [n for n in tree.root.iter() if n.tag == "a"]
    assert [tree.text(a) for a in links] == ["one", "two"]
    assert not links[0].contains(links[1])


def test_an_a_inside_a_block_in_an_open_a_still_nests():
    # A card link around a block, with a link inside: left as written.
    tree = build_tree("<a href='/card'><div><h3>Title</h3><a href='/author'>Author</a></div></a>")
    outer, inner = [n for n in tree.root.iter() if n.tag == "a"]
    assert outer.contains(inner)


def test_nesting_deeper_than_the_limit_is_flattened():
    depth = html_module.MAX_DEPTH + 300
    html = "<div>" * depth + "x" + "</div>" * depth
    tree = build_tree(html)

    def deepest(node, level=0):
        return max([deepest(c, level + 1) for c in node.children], default=level)

    assert deepest(tree.root) == html_module.MAX_DEPTH and tree.flattened
    assert tree.text(tree.root) == "x" and tree.root.end == len(html)


def test_the_article_after_a_run_of_unclosed_tags_is_found_by_trafilatura():
    # libxml2 (under trafilatura) stops reading at 256 levels; the flattened page it gets
    # instead still holds the article.
    doc = parse_document(_page("<b>menu " * 1000, article_first=False), filename="p.html")
    assert "Paragraph 3 of the report" in doc.body
    assert not any("trafilatura" in w for w in doc.warnings)


# -- the page size limit ---------------------------------------------------------------------


def test_a_page_over_the_limit_raises_naming_file_size_and_limit():
    html = _page("<div><span>x</span></div>" * 2000)
    with pytest.raises(PageTooLargeError) as caught:
        parse_document(html, filename="huge.html", max_page=20_000)
    message = str(caught.value)
    assert message.startswith("huge.html: page too large: ")
    assert f"{page_size(html):,} characters of markup" in message
    assert "over the limit of 20,000 characters" in message
    assert "--max-page-mb" in message and "max_page=" in message
    assert isinstance(caught.value, ParseError)


def test_the_default_limit_is_the_module_constant(monkeypatch):
    html = _page("<div>x</div>" * 100)
    monkeypatch.setattr(html_module, "MAX_PAGE", 1000)
    with pytest.raises(PageTooLargeError, match="over the limit of 1,000 characters"):
        parse_document(html, filename="p.html")
    assert "Paragraph 3" in parse_document(html, filename="p.html", max_page=0).body  # 0: none


def test_scripts_styles_and_data_uris_do_not_count_towards_the_limit():
    script = "<script>var state = '" + "a" * 50_000 + "';</script>"
    style = "<style>" + "p { color: red }" * 2_000 + "</style>"
    image = '<img src="data:image/png;base64,' + "QUJD" * 20_000 + '">'
    html = ("<html><head>" + script + style + "</head><body>" + image
            + "<article><h1>Flood</h1>" + _ARTICLE + "</article></body></html>")
    assert page_size(html) < 2_000 < len(html) - 100_000
    assert "Paragraph 3" in parse_document(html, filename="p.html", max_page=5_000).body
    unclosed = "<p>text</p><script>" + "x" * 10_000
    assert page_size(unclosed) == len("<p>text</p><script>")


def test_parse_file_yields_the_size_error_for_the_file():
    html = _page("<div>x</div>" * 2000)
    [(location, found)] = list(parse_file(html.encode(), "big.html", max_page=10_000))
    assert location == "big.html" and isinstance(found, PageTooLargeError)
