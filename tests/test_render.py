"""Rendering a new tail in the page's own format and shape, and the parse/render round trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from related_posts.article import TailItem
from related_posts.recommend.parse import parse_document, parse_html, parse_json, parse_text
from related_posts.recommend.render import (
    RenderOptions,
    make_teaser,
    render_html_block,
    render_tail,
    rewrite,
    safe_url,
)

ITEMS = [
    TailItem("Ceasefire talks resume", "Envoys met in Geneva...", "https://site.example/ceasefire"),
    TailItem("Drones over Kursk", "Air defences were busy...", None),
]


def test_text_tail_keeps_prefix_and_heading_and_block_shape():
    text = "Title\n\nBody.\n\nYou May Also Like\n\nOld item\n\nOld teaser...\n"
    doc = parse_text(text)
    out = rewrite(doc, ITEMS)
    assert out.startswith(doc.prefix)
    assert out[len(doc.prefix):] == (
        "You May Also Like\n\n"
        "Ceasefire talks resume\nhttps://site.example/ceasefire\n\nEnvoys met in Geneva...\n\n"
        "Drones over Kursk\n\nAir defences were busy...\n"
    )


def test_page_without_tail_gets_one_after_a_blank_line():
    doc = parse_text("Title\n\nBody.")
    out = rewrite(doc, ITEMS[1:])
    assert out == "Title\n\nBody.\n\nRelated Posts\n\nDrones over Kursk\n\nAir defences were busy...\n"


def test_rewriting_twice_is_stable():
    doc = parse_text("Title\n\nBody.\n")
    once = rewrite(doc, ITEMS)
    twice = rewrite(parse_text(once), ITEMS)
    assert once == twice


def test_rewriting_with_the_same_tail_leaves_the_page_untouched():
    text = "Title\n\nBody.\n\nRELATED:\n* One - first\n\n* Two - second\n"
    doc = parse_text(text)
    assert rewrite(doc, doc.tail) == text


def test_markdown_tail_is_a_list_of_links():
    doc = parse_document("# T\n\nBody.\n", format="markdown")
    out = rewrite(doc, ITEMS, RenderOptions(show_scores=True), scores=[0.8123, 0.5])
    assert out.endswith(
        "## Related Posts\n\n"
        "- [Ceasefire talks resume](https://site.example/ceasefire) (0.81) — Envoys met in Geneva...\n"
        "- Drones over Kursk (0.50) — Air defences were busy...\n"
    )


def test_numbered_tail_stays_numbered_and_keeps_its_spacing():
    doc = parse_text("T\n\nBody.\n\nRead next:\n1. One\n2. Two\n")
    out = rewrite(doc, ITEMS)
    assert out.endswith(
        "Read next:\n"
        "1. Ceasefire talks resume https://site.example/ceasefire — Envoys met in Geneva...\n"
        "2. Drones over Kursk — Air defences were busy...\n"
    )


def test_urls_on_their_own_line_stay_there():
    doc = parse_text("T\n\nBody.\n\nRead next:\n1. One\nhttps://a.example/1\n2. Two\nhttps://a.example/2\n")
    out = rewrite(doc, ITEMS[:1], RenderOptions(teaser_chars=0))
    assert out.endswith("Read next:\n1. Ceasefire talks resume\nhttps://site.example/ceasefire\n")


def test_bullets_keep_their_marker_and_separator():
    doc = parse_text("T\n\nBody.\n\nMORE STORIES\n\n* Old one | its teaser\n* Old two | more\n")
    out = rewrite(doc, ITEMS)
    assert out.endswith("MORE STORIES\n\n* Ceasefire talks resume https://site.example/ceasefire | "
                        "Envoys met in Geneva...\n* Drones over Kursk | Air defences were busy...\n")


@pytest.mark.parametrize(
    "heading, new",
    [("## Related posts", "## Further reading"), ("**You might also like**", "**Further reading**"),
     ("RELATED:", "Further reading:"), ("Read next\n---------", "Further reading\n===============")],
)
def test_a_new_heading_is_dressed_like_the_old_one(heading, new):
    heading = heading.replace("===============", "")
    doc = parse_text(f"T\n\nBody.\n\n{heading}\n\n- [Old](/old)\n", markdown=True)
    out = rewrite(doc, ITEMS[:1], RenderOptions(heading="Further reading", teaser_chars=0))
    expected = new if "\n" not in new else "Further reading\n" + "-" * len("Further reading")
    assert out[len(doc.prefix):].startswith(expected + "\n")


def test_crlf_page_gets_a_crlf_tail():
    doc = parse_text("T\r\n\r\nBody.\r\n\r\nRelated Posts\r\n\r\nOld\r\n\r\nTeaser...\r\n")
    out = rewrite(doc, ITEMS)
    assert "\n" not in out.replace("\r\n", "")


def test_options_cut_the_list_and_the_teasers():
    doc = parse_text("T\n\nBody.\n")
    long = TailItem("Long one", "word " * 40, "/long")
    out = rewrite(doc, [long, *ITEMS], RenderOptions(max_items=1, teaser_chars=20))
    assert "Ceasefire" not in out
    assert out.endswith("Long one\n/long\n\nword word word word...\n")
    no_teasers = rewrite(doc, ITEMS, RenderOptions(teaser_chars=0))
    assert "Envoys" not in no_teasers


def test_text_and_markdown_tails_drop_script_urls():
    doc = parse_document("# T\n\nBody.\n", format="markdown")
    out = rewrite(doc, [TailItem("x](javascript:alert(1)", "", "javascript:alert(1)")])
    assert "](javascript" not in out.replace("\\]", "") and "(javascript:alert(1))" not in out


def test_html_block_escapes_everything_and_drops_script_urls():
    evil = [TailItem("<script>alert(1)</script>", 'a "quoted" <b>teaser</b>', "javascript:alert(1)"),
            TailItem("Fine", "", "https://ok.example/?a=1&b=2"),
            TailItem("Sneaky", "", " java\tscript:alert(1)"),
            TailItem("Data", "", "data:text/html,<script>alert(1)</script>")]
    block = render_html_block(evil)
    assert "<script>" not in block and "&lt;script&gt;" in block
    assert "javascript:" not in block and "java\tscript" not in block and "data:" not in block
    assert 'href="https://ok.example/?a=1&amp;b=2"' in block
    assert 'class="related-posts"' in block


def test_html_rewrite_replaces_the_block_in_place():
    html = ("<html><body><article><p>Text of the article that is long enough to be the body of "
            "the page.</p></article><div class=\"jp-relatedposts\"><a href='/x'>X</a></div>"
            "<footer>f</footer></body></html>")
    doc = parse_document(html, format="html")
    out = rewrite(doc, ITEMS)
    assert out.startswith(html[:html.index('<div class="jp')] + '<section class="related-posts">')
    assert out.endswith("</section>\n<footer>f</footer></body></html>")
    assert "jp-relatedposts" not in out


def test_html_block_reuses_the_page_heading_and_goes_after_the_article():
    with_block = parse_html("<html><body><article><p>" + "Article text here. " * 20 + "</p></article>"
                            "<div class='yarpp-related'><h3>You might also like:</h3><ul><li><a href='/a'>A"
                            "</a></li></ul></div></body></html>")
    assert "<h2>You might also like</h2>" in rewrite(with_block, ITEMS)
    without = parse_html("<html><body><article><p>" + "Article text here. " * 20 + "</p></article>"
                         "<aside>ads</aside></body></html>")
    out = rewrite(without, ITEMS)
    assert "</article><section class=\"related-posts\">" in out and out.endswith("<aside>ads</aside></body></html>")


def test_json_rewrite_sets_related_field():
    doc = parse_document(json.dumps({"id": "a", "title": "T", "body": "B", "related": []}))
    record = json.loads(rewrite(doc, ITEMS))
    assert record["id"] == "a" and [r["title"] for r in record["related"]] == [i.title for i in ITEMS]


def test_json_rewrite_keeps_every_other_byte_and_the_indent():
    text = '{\n    "title": "T",\n    "related": [],\n    "body": "B \\u00e9",   "n": 1\n}\n'
    doc = parse_json(text)
    out = rewrite(doc, ITEMS[:1], RenderOptions(show_scores=True), scores=[0.5])
    assert out.startswith('{\n    "title": "T",\n    "related": [\n        {\n            "title": ')
    assert out.endswith(',\n    "body": "B \\u00e9",   "n": 1\n}\n')
    assert json.loads(out)["related"][0]["score"] == 0.5


@pytest.mark.parametrize("text", ['{"title": "T", "body": "B"}', '{\n  "title": "T",\n  "body": "B"\n}\n'])
def test_json_without_related_gets_the_key_added(text):
    out = rewrite(parse_json(text), ITEMS)
    assert json.loads(out)["related"][1]["title"] == "Drones over Kursk"
    assert out.startswith(text[: text.index('"B"') + 3])


@pytest.mark.parametrize(
    "body, chars, expected",
    [("Short body.", 80, "Short body."),
     ("The quick brown fox jumps over the lazy dog", 20, "The quick brown fox..."),
     ("Alpha,   beta\n\ngamma delta", 12, "Alpha, beta...")],
)
def test_make_teaser(body, chars, expected):
    assert make_teaser(body, chars) == expected


@pytest.mark.parametrize(
    "url, expected",
    [("https://a.example/x", "https://a.example/x"), ("/relative", "/relative"),
     ("JavaScript:alert(1)", None), ("data:text/html,x", None), ("", None),
     ("java\nscript:alert(1)", None), ("vbscript:x", None)],
)
def test_safe_url(url, expected):
    assert safe_url(url) == expected


def test_render_options_are_checked():
    with pytest.raises(ValueError, match="teaser_chars"):
        RenderOptions(teaser_chars=-1)


# -- round trip: parse(rewrite(page, items)) gives the items and the same body back --------------

_WORDS = ["river", "council", "budget", "storm", "train", "night", "bakery", "rye", "library",
          "tools", "chess", "island", "ferry", "school", "week", "honey", "lanes", "Crypto", "tips"]
_title = st.lists(st.sampled_from(_WORDS), min_size=2, max_size=7).map(lambda w: " ".join(w).capitalize())
_teaser = st.one_of(st.just(""), st.lists(st.sampled_from(_WORDS), min_size=3, max_size=9)
                    .map(lambda w: " ".join(w).capitalize() + "..."))
_url = st.one_of(st.none(), st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3)
                 .map(lambda w: "https://site.example/" + "-".join(w).lower()))
_items = st.lists(st.builds(TailItem, title=_title, teaser=_teaser, url=_url), min_size=1, max_size=5,
                  unique_by=(lambda i: i.title.lower(), lambda i: i.url or i.title))
_TAILS = [
    "", "Related Posts\n\nOld story\n\nOld teaser...\n", "## Read next\n\n- [Old](/old)\n",
    "You may also like:\n1. Old one\nhttps://x.example/1\n2. Old two\n", "MORE STORIES\n\n* Old - teaser\n",
    "**Recommended for you**\n\n### [Old](/old)\nTeaser...\n",
]
_BODY = ("The council met on Tuesday and agreed the budget.\n\nThe ferry will run again in spring, "
         "officials said, and you can read more about it in the report.\n\n")


@settings(max_examples=120, deadline=None)
@given(items=_items, tail=st.sampled_from(_TAILS), markdown=st.booleans(),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_text_round_trip(items, tail, markdown, newline):
    text = ("# Storm closes the ferry\n\n" + _BODY + tail).replace("\n", newline)
    doc = parse_text(text, markdown=markdown)
    out = rewrite(doc, items, RenderOptions(teaser_chars=1000))
    assert out.startswith(doc.prefix) and out.endswith(doc.suffix)
    again = parse_text(out, markdown=markdown)
    assert again.body == doc.body and again.title == doc.title
    style = "links" if markdown and not tail else doc.tail_style
    expected = [(i.title, i.url, i.teaser) for i in items]
    if style == "links":  # an item without URL is a plain bullet: title and teaser
        assert [(i.title, i.teaser) for i in again.tail] == [(t, s) for t, _, s in expected]
    else:
        assert [(i.title, i.url, i.teaser) for i in again.tail] == expected
    assert rewrite(again, items, RenderOptions(teaser_chars=1000)) == out


@settings(max_examples=60, deadline=None)
@given(items=_items, block=st.booleans())
def test_html_round_trip(items, block):
    old = ("<div class='yarpp-related'><h3>Related posts</h3><ol><li><a href='/o'>Old one</a></li></ol></div>"
           if block else "")
    html = ("<html><head><title>Storm closes the ferry</title></head><body><article><h1>Storm closes the "
            "ferry</h1><p>" + _BODY.replace("\n\n", "</p><p>") + "</p></article>" + old + "<footer>(c) Site"
            "</footer></body></html>")
    doc = parse_html(html)
    out = rewrite(doc, items)
    assert out.startswith(doc.prefix) and out.endswith(doc.suffix)
    again = parse_html(out)
    assert again.body == doc.body
    linked = [i for i in items if i.url]
    assert [(i.title, i.url, i.teaser) for i in again.tail] == [(i.title, i.url, i.teaser) for i in linked]


@settings(max_examples=60, deadline=None)
@given(items=_items, related=st.booleans(), indent=st.sampled_from([None, 2, 4]))
def test_json_round_trip(items, related, indent):
    record = {"title": "T", "body": "B", **({"related": [{"title": "old"}]} if related else {}), "n": [1, 2]}
    text = json.dumps(record, indent=indent)
    doc = parse_json(text)
    out = rewrite(doc, items, RenderOptions(teaser_chars=1000))
    assert json.loads(out) == dict(record, related=[i.to_dict() for i in items])
    assert out.startswith(doc.prefix) and out.endswith(doc.suffix)


def test_render_tail_alone_is_what_goes_between_prefix_and_suffix():
    doc = parse_text("T\n\nBody.\n\nRelated Posts\n\nOld\n\nTeaser...\n")
    assert doc.prefix + render_tail(doc, ITEMS) + doc.suffix == rewrite(doc, ITEMS)


HOSTILE = [
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "**bold** _it_ `code` ~~gone~~",
    "a | b | c",
    "![x](https://evil.example/p.png)",
    "Tom & Jerry <3",
    "back\\slash [unclosed",
]


@pytest.mark.parametrize("renderer", ["markdown-it", "python-markdown"])
def test_hostile_titles_and_teasers_stay_text_in_a_markdown_tail(renderer):
    markdown_it = pytest.importorskip("markdown_it")
    if renderer == "markdown-it":
        to_html = markdown_it.MarkdownIt("commonmark").enable("table").enable("strikethrough").render
    else:
        to_html = pytest.importorskip("markdown").markdown
    from html.parser import HTMLParser

    document = parse_text("# Post\n\nBody text of the post, long enough to be an article.\n", markdown=True)
    items = [TailItem(text, f"teaser {text}", f"https://site.example/{i}") for i, text in enumerate(HOSTILE)]
    page = to_html(render_tail(document, items))

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags: list[tuple[str, dict]] = []
            self.text = ""

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

        def handle_data(self, data):
            self.text += data

    seen = Collect()
    seen.feed(page)
    assert {tag for tag, _ in seen.tags} <= {"h2", "ul", "li", "a", "p"}
    assert [attrs["href"] for tag, attrs in seen.tags if tag == "a"] == [f"https://site.example/{i}" for i in range(len(HOSTILE))]
    for text in HOSTILE:  # every title and teaser shows as written
        assert text in seen.text and f"teaser {text}" in seen.text


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "&#106;avascript:alert(1)", "javascript&#58;alert(1)",
    "\u00a0javascript:alert(1)", "\u3000javascript:alert(1)", "java\tscript:alert(1)", "\u200bjavascript:x",
    "data:text/html;base64,PHNjcmlwdD4=", "vbscript:msgbox(1)", "http://[unbalanced", 42,
])
def test_one_url_policy_drops_dangerous_urls_in_every_format(url):
    assert safe_url(url) is None
    item = TailItem("Title", "Teaser", url)  # type: ignore[arg-type]
    markdown = parse_text("# Post\n\nBody text of the post, long enough to be an article.\n", markdown=True)
    assert "](" not in render_tail(markdown, [item])
    record = parse_json(json.dumps({"title": "Post", "body": "Body text of the post, long enough."}))
    assert json.loads(rewrite(record, [item]))["related"][0]["url"] is None
    assert "href" not in render_html_block([item])


def test_kept_urls_are_written_so_that_they_read_back_the_same():
    assert safe_url(" https://site.example/a b\n") == "https://site.example/a%20b"  # one line, one URL
    document = parse_text("# Post\n\nBody text of the post, long enough to be an article.\n", markdown=True)
    tail = render_tail(document, [TailItem("T", "", "/search?a=1&copy=2")])
    markdown_it = pytest.importorskip("markdown_it")
    assert 'href="/search?a=1&amp;copy=2"' in markdown_it.MarkdownIt("commonmark").render(tail)


def test_a_heading_with_line_breaks_cannot_add_lines_to_a_text_tail():
    document = parse_text("Post\n\nBody text of the post, long enough to be an article.\n")
    options = RenderOptions(heading="Related\nhttps://evil.example\r\nInjected")
    assert options.heading == "Related https://evil.example Injected"
    tail = render_tail(document, [TailItem("One", "", "https://site.example/1")], options)
    assert "Related https://evil.example Injected" in tail.splitlines()
