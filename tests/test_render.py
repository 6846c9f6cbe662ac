"""Rendering a new tail in the page's own format and shape, and the parse/render round trip."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from related_posts.article import TailItem
from related_posts.recommend.parse import parse_document, parse_html, parse_json, parse_text
from related_posts.recommend.render import (
    RenderOptions,
    TemplateRenderError,
    check_template,
    encode_page,
    make_teaser,
    render_html_block,
    render_tail,
    render_template_block,
    rewrite,
    safe_url,
    themed_block,
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


_YARPP_NO_EXCERPT = "<div class='yarpp-related'><h3>Related posts</h3><ol><li><a href='/o'>Old one</a></li></ol></div>"
_YARPP_EXCERPT = ("<div class='yarpp-related'><h3>Related posts</h3><ol><li><a href='/o' rel='bookmark'>Old one</a> "
                  "<small>Its excerpt, long enough to be one...</small></li></ol></div>")


@settings(max_examples=60, deadline=None)
@given(items=_items, old=st.sampled_from(["", _YARPP_NO_EXCERPT, _YARPP_EXCERPT]))
def test_html_round_trip(items, old):
    html = ("<html><head><title>Storm closes the ferry</title></head><body><article><h1>Storm closes the "
            "ferry</h1><p>" + _BODY.replace("\n\n", "</p><p>") + "</p></article>" + old + "<footer>(c) Site"
            "</footer></body></html>")
    doc = parse_html(html)
    out = rewrite(doc, items)
    assert out.startswith(doc.prefix) and out.endswith(doc.suffix)
    again = parse_html(out)
    assert again.body == doc.body
    linked = [i for i in items if i.url]
    # The theme's own markup is reused when every item has a link; a theme without an
    # excerpt slot shows no teasers.
    themed = bool(old) and all(i.url for i in items)
    no_teasers = themed and old == _YARPP_NO_EXCERPT
    assert [(i.title, i.url, i.teaser) for i in again.tail] == [
        (i.title, i.url, "" if no_teasers else i.teaser) for i in linked]
    assert ('rel="bookmark"' in again.original_tail) == (themed and old == _YARPP_EXCERPT)
    assert rewrite(again, items) == out  # a rewritten page rewritten again: the same bytes


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
    document = parse_text("# Post\n\nBody text of the post, long enough to be an article.\n", markdown=True)
    items = [TailItem(text, f"teaser {text}", f"https://site.example/{i}") for i, text in enumerate(HOSTILE)]
    seen = _read(to_html(render_tail(document, items)))
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


# -- the theme's own markup ------------------------------------------------------------------------

NEW = [
    TailItem("Leaf mould in two years", "Autumn leaves turn into compost...", "https://site.example/leaf",
             image="https://site.example/leaf.jpg", published="2025-02-03T10:00:00Z"),
    TailItem("Raised beds from scaffold boards", "", "https://site.example/beds"),
    TailItem("Winter bike commute", "Mudguards and a wet lube...", "https://site.example/bike",
             published="2024-12-01"),
    TailItem("Seed potatoes", "Chit them in February...", "https://site.example/potatoes",
             image="https://site.example/potatoes.jpg"),
]
YARPP_LIST = ("<div class='yarpp yarpp-related yarpp-related-website yarpp-template-list'>\n<!-- YARPP List -->\n"
              "<h3>Related posts:</h3><ol><li><a href=\"https://old.example/1\" rel=\"bookmark\" title=\"Old one\">Old one</a>"
              " <small>Old excerpt...</small></li><li><a href=\"https://old.example/2\" rel=\"bookmark\" title=\"Old two\">"
              "Old two</a> <small>Another...</small></li></ol>\n</div>")
YARPP_THUMBNAILS = (
    "<div class='yarpp yarpp-related yarpp-related-website yarpp-template-thumbnails'>\n<!-- YARPP Thumbnails -->\n"
    "<h3>Related posts:</h3>\n<div class=\"yarpp-thumbnails-horizontal\">\n"
    "<a class='yarpp-thumbnail' rel='norewrite' href='https://old.example/1' title='Old one'>\n"
    "<img width=\"120\" height=\"120\" src=\"https://old.example/1-120x120.jpg\" class=\"attachment-yarpp-thumbnail "
    "wp-post-image\" alt=\"\" loading=\"lazy\" data-pin-nopin=\"true\" srcset=\"https://old.example/1-150.jpg 150w\" "
    "sizes=\"(max-width: 120px) 100vw, 120px\" /><span class=\"yarpp-thumbnail-title\">Old one</span></a>\n"
    "<a class='yarpp-thumbnail' rel='norewrite' href='https://old.example/2' title='Old two'>\n"
    "<img width=\"120\" height=\"120\" src=\"https://old.example/2-120x120.jpg\" class=\"attachment-yarpp-thumbnail "
    "wp-post-image\" alt=\"\" loading=\"lazy\" /><span class=\"yarpp-thumbnail-title\">Old two</span></a>\n"
    "</div>\n</div>")
JETPACK = (
    '<div id="jp-relatedposts" class="jp-relatedposts" style="display: block;"><h3 class="jp-relatedposts-headline">'
    '<em>Related</em></h3><div class="jp-relatedposts-items jp-relatedposts-items-visual">'
    + "".join(
        f'<div class="jp-relatedposts-post jp-relatedposts-post{i} jp-relatedposts-post-thumbs" data-post-id="90{i}" '
        f'data-post-format="false"><a class="jp-relatedposts-post-a" href="https://old.example/{i}" title="Old {i}" '
        f'rel="nofollow" data-origin="1" data-position="{i}"><img class="jp-relatedposts-post-img" loading="lazy" '
        f'src="https://old.example/{i}.jpg" width="350" alt="Old {i}" srcset="https://old.example/{i}-2x.jpg 2x"></a>'
        f'<h4 class="jp-relatedposts-post-title"><a class="jp-relatedposts-post-a" href="https://old.example/{i}" '
        f'title="Old {i}" rel="nofollow">Old {i}</a></h4><p class="jp-relatedposts-post-excerpt">Excerpt {i}...</p>'
        f'<p class="jp-relatedposts-post-date">April {i + 3}, 2025</p><p class="jp-relatedposts-post-context">'
        f'In &quot;Local&quot;</p></div>' for i in range(3))
    + "</div></div>")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text += data


def _read(block: str) -> _Collect:
    seen = _Collect()
    seen.feed(block)
    seen.close()
    return seen


def test_a_yarpp_list_comes_back_in_its_own_markup():
    block = themed_block(YARPP_LIST, NEW[:3])
    assert block == (
        "<div class='yarpp yarpp-related yarpp-related-website yarpp-template-list' data-related-posts>\n"
        "<!-- YARPP List -->\n<h3>Related posts:</h3><ol>"
        '<li><a href="https://site.example/leaf" rel="bookmark" title="Leaf mould in two years">Leaf mould in two years</a>'
        " <small>Autumn leaves turn into compost...</small></li>"
        '<li><a href="https://site.example/beds" rel="bookmark" title="Raised beds from scaffold boards">'
        "Raised beds from scaffold boards</a> </li>"
        '<li><a href="https://site.example/bike" rel="bookmark" title="Winter bike commute">Winter bike commute</a>'
        " <small>Mudguards and a wet lube...</small></li></ol>\n</div>")
    assert themed_block(block, NEW[:3]) == block  # a fixed point


def test_a_yarpp_thumbnail_grid_gets_the_new_thumbnails():
    block = themed_block(YARPP_THUMBNAILS, NEW)
    assert block is not None and block.startswith(
        "<div class='yarpp yarpp-related yarpp-related-website yarpp-template-thumbnails' data-related-posts>\n")
    links = [attrs for tag, attrs in _read(block).tags if tag == "a"]
    assert [a["href"] for a in links] == [i.url for i in NEW]
    assert all(a["class"] == "yarpp-thumbnail" and a["rel"] == "norewrite" for a in links)
    assert [a["title"] for a in links] == [i.title for i in NEW]
    images = [attrs for tag, attrs in _read(block).tags if tag == "img"]
    assert [i["src"] for i in images] == ["https://site.example/leaf.jpg", "https://site.example/potatoes.jpg"]
    assert all(i["width"] == "120" and "srcset" not in i and "sizes" not in i and "data-pin-nopin" not in i
               for i in images)
    assert block.count('<span class="yarpp-thumbnail-title">') == 4 and "Old" not in block


def test_a_jetpack_block_keeps_its_markup_with_thumbnails_and_dates():
    block = themed_block(JETPACK, NEW)
    assert block is not None
    seen = _read(block)
    posts = [attrs["class"] for tag, attrs in seen.tags if tag == "div" and "jp-relatedposts-post" in attrs.get("class", "")
             and "items" not in attrs["class"]]
    assert posts == [f"jp-relatedposts-post jp-relatedposts-post{i} jp-relatedposts-post-thumbs" for i in range(4)]
    assert '<h3 class="jp-relatedposts-headline"><em>Related</em></h3>' in block
    assert '<p class="jp-relatedposts-post-date">February 3, 2025</p>' in block  # the old date's style
    assert '<p class="jp-relatedposts-post-date">December 1, 2024</p>' in block
    assert block.count("jp-relatedposts-post-date") == 2  # no date, no date slot
    assert "In &quot;Local&quot;" not in block and "data-post-id" not in block and "data-position" not in block
    assert [a["src"] for t, a in seen.tags if t == "img"] == ["https://site.example/leaf.jpg", "https://site.example/potatoes.jpg"]
    assert [a["alt"] for t, a in seen.tags if t == "img"] == ["Leaf mould in two years", "Seed potatoes"]
    assert '<p class="jp-relatedposts-post-excerpt">Chit them in February...</p>' in block
    assert themed_block(block, NEW) == block


def test_numbered_classes_ranks_and_time_slots_follow_the_new_items():
    crp = ("<div class=\"crp_related\"><h3>You may also like</h3><ul>"
           + "".join(f'<li><a href="https://old.example/{i}" class="crp_link post-{i}"><figure><img src="/{i}.jpg" '
                     f'class="crp_thumb"></figure><span class="crp_title">Old {i}</span></a></li>' for i in range(2))
           + "</ul></div>")
    block = themed_block(crp, NEW)
    assert [f"crp_link post-{i}" in block for i in range(4)] == [True] * 4
    assert block.count("<figure>") == 2  # the items without an image lose the figure
    ranked = ("<section class=\"most-read\"><h2 class=\"t\">Most read</h2><ol><li><span class=\"rank\">1.</span> "
              "<a href=\"/o1\">Old one</a> <time datetime=\"2024-01-02\">2 January 2024</time></li>"
              "<li><span class=\"rank\">2.</span> <a href=\"/o2\">Old two</a></li></ol></section>")
    block = themed_block(ranked, NEW[:3])
    assert [s for s in re.findall(r'<span class="rank">([^<]*)</span>', block)] == ["1.", "2.", "3."]
    assert '<time datetime="2025-02-03">3 February 2025</time>' in block
    assert '<time datetime="2024-12-01">1 December 2024</time>' in block and block.count("<time") == 2


def test_a_new_heading_keeps_the_themes_heading_element():
    block = themed_block(JETPACK, NEW[:2], heading="Further <reading>")
    assert '<h3 class="jp-relatedposts-headline"><em>Further &lt;reading&gt;</em></h3>' in block
    assert themed_block(block, NEW[:2], heading="Further <reading>") == block
    bare = themed_block("<div class='related'><ul><li><a href='/o'>Old one</a></li></ul></div>", NEW[:1], heading="More")
    assert bare.startswith("<div class='related' data-related-posts><h2>More</h2><ul>")


def test_a_heading_and_list_without_container_are_wrapped_with_the_marker():
    old = "<h3 class=\"widget-title\">Read next</h3>\n<ul class=\"links\"><li><a href=\"/o\">Old one</a></li></ul>"
    block = themed_block(old, NEW[:2])
    assert block.startswith('<div data-related-posts><h3 class="widget-title">Read next</h3>\n<ul class="links"><li>')
    assert block.endswith("</li></ul></div>") and themed_block(block, NEW[:2]) == block


@pytest.mark.parametrize("old", [
    "<div class='OUTBRAIN' data-widget-id='AR_1'><ul><li><a href='https://ads.example/1'>Promoted one</a></li></ul></div>",
    "<div id='taboola-below' class='trc_related_container'><a href='https://ads.example/1'>Promoted one</a></div>",
    "<section class=\"related-posts\">\n<h2>Related Posts</h2>\n<ul>\n  <li class=\"related-posts__item\">"
    "<a href=\"/o\">Old one</a></li>\n</ul>\n</section>",
    "", "<div class='related'>no links at all</div>",
])
def test_no_theme_markup_to_reuse_gives_the_plain_section(old):
    assert themed_block(old, NEW) is None
    html = ("<html><body><article><p>" + "Article text here, long enough to be the body. " * 10 + "</p></article>"
            + old + "<footer>f</footer></body></html>")
    out = rewrite(parse_html(html), NEW)
    assert '<section class="related-posts">' in out and "ads.example" not in out
    assert "</section>\n" in out and out.endswith("<footer>f</footer></body></html>")


def test_items_a_theme_cannot_hold_give_the_plain_section():
    assert themed_block(YARPP_LIST, [*NEW[:1], TailItem("No link", "", None)]) is None
    assert themed_block(YARPP_LIST, [NEW[0], replace(NEW[1], url=NEW[0].url)]) is None
    assert themed_block(YARPP_LIST, [TailItem("Related Posts", "", "/x")]) is None


HOSTILE_ITEMS = [
    TailItem('"><script>alert(1)</script>', '<img src=x onerror=alert(1)> & "quotes"', "https://site.example/a?x=1&y=2",
             image="javascript:alert(1)", published="2025-01-01<script>"),
    TailItem("Tom & Jerry <3 \" onmouseover=\"alert(1)", "x", "https://site.example/b",
             image='https://site.example/i.jpg" onerror="alert(1)'),
    TailItem("Data", "", "/c", image="data:image/svg+xml,<svg onload=alert(1)>"),
]


@pytest.mark.parametrize("old", [YARPP_LIST, YARPP_THUMBNAILS, JETPACK], ids=["list", "thumbnails", "jetpack"])
def test_hostile_titles_and_urls_stay_inert_in_the_themes_markup(old):
    block = themed_block(old, HOSTILE_ITEMS)
    assert block is not None
    seen = _read(block)
    assert {tag for tag, _ in seen.tags} <= {"div", "h3", "h4", "em", "ol", "li", "a", "small", "img", "span", "p"}
    assert not [name for _, attrs in seen.tags for name in attrs if name.startswith("on")]
    for _tag, attrs in seen.tags:
        for name in ("href", "src"):
            if name in attrs:
                assert safe_url(attrs[name]) == attrs[name] and not attrs[name].startswith(("javascript", "data"))
    assert "<script" not in block and "alert(1)</script>" in seen.text
    assert '"><script>alert(1)</script>' in seen.text and "Tom & Jerry <3" in seen.text
    titles = [attrs["title"] for tag, attrs in seen.tags if tag == "a" and "title" in attrs]
    assert titles[0] == '"><script>alert(1)</script>'
    images = [attrs["src"] for tag, attrs in seen.tags if tag == "img"]
    # One attribute value, escaped (and the list's theme has no thumbnail slot).
    assert images == (['https://site.example/i.jpg"%20onerror="alert(1)'] if "<img" in old else [])
    assert themed_block(block, HOSTILE_ITEMS) == block


_THEMES = [YARPP_LIST, YARPP_THUMBNAILS, JETPACK,
           "<div class='crp_related'><h3>You may also like</h3><ul><li><a href='/o' class='crp_link post-0'><figure>"
           "<img src='/0.jpg'></figure><span class='crp_title'>Old</span></a><span class='crp_excerpt'> Ex...</span>"
           "</li></ul><div class='crp_clear'></div></div>",
           "<h3>Read next</h3>\n<ul>\n<li><a href='/o'>Old</a></li>\n</ul>",
           "<div id='related-posts'><h2>You might also like</h2><a href='/o1'>Old one</a><br /><a href='/o2'>Old two</a><br /></div>"]
_day = st.one_of(st.none(), st.dates().map(lambda d: d.isoformat() + "T08:00:00Z"))
_rich_items = st.lists(st.builds(TailItem, title=_title, teaser=_teaser, url=_url,
                                 image=st.one_of(st.none(), _url), published=_day),
                       min_size=1, max_size=6, unique_by=(lambda i: i.title.lower(), lambda i: i.url or i.title))


@settings(max_examples=80, deadline=None)
@given(items=_rich_items, old=st.sampled_from(_THEMES), heading=st.sampled_from([None, "Further reading"]),
       scores=st.booleans())
def test_a_page_rewritten_in_its_themes_markup_rewrites_to_the_same_bytes(items, old, heading, scores):
    html = ("<html><head><title>Storm closes the ferry</title></head><body><article><h1>Storm closes the ferry</h1><p>"
            + _BODY.replace("\n\n", "</p><p>") + "</p></article>\n" + old + "\n<footer>(c) Site</footer></body></html>")
    options = RenderOptions(heading=heading, show_scores=scores)
    values = [0.5 + i / 100 for i in range(len(items))]
    doc = parse_html(html)
    out = rewrite(doc, items, options, values)
    again = parse_html(out)
    assert again.body == doc.body and "data-related-posts" in again.original_tail or \
        again.original_tail.startswith('<section class="related-posts">')
    assert rewrite(again, items, options, values) == out
    linked = [(i.title, i.url) for i in items if i.url]
    assert [(i.title, i.url) for i in again.tail] == linked


def test_a_user_template_is_sandboxed_escaped_and_marked():
    template = ('<ul class="mine">{% for item in items %}<li><a href="{{ item.url }}">{{ item.title }}</a>'
                '{% if item.image %}<img src="{{ item.image }}">{% endif %}{{ item.day or "" }}</li>{% endfor %}</ul>')
    block = render_template_block(template, HOSTILE_ITEMS, "Heading")
    assert block.startswith('<div data-related-posts><ul class="mine"><li><a href="https://site.example/a?x=1&amp;y=2">')
    assert "<script" not in block and "&lt;script&gt;" in block and "onerror=" not in block.replace("%20onerror=", "")
    assert "2025-01-01" not in block  # "2025-01-01<script>" is no date
    assert "javascript" not in block and "data:image" not in block
    marked = '<aside data-related-posts class="x">{{ heading }}: {{ items|length }}</aside>'
    assert render_template_block(marked, NEW, "<H>") == '<aside data-related-posts class="x">&lt;H&gt;: 4</aside>'
    for unsafe in ("{{ heading.__class__.__mro__ }}", "{{ items.append(1) }}", "{{ items[0].update({}) }}"):
        with pytest.raises(TemplateRenderError, match="unsafe"):
            render_template_block(unsafe, NEW, "H")
    with pytest.raises(TemplateRenderError, match="does not compile"):
        check_template("{% for item in items %}")
    html = ("<html><body><article><p>" + "Article text here, long enough to be the body. " * 10 + "</p></article>"
            + YARPP_LIST + "<footer>f</footer></body></html>")
    options = RenderOptions(template=template)
    out = rewrite(parse_html(html), NEW, options)
    assert '<div data-related-posts><ul class="mine">' in out and "yarpp" not in out
    assert rewrite(parse_html(out), NEW, options) == out


@pytest.mark.parametrize("declared, codec, expected", [
    ('<meta charset="iso-8859-1">', "Windows-1252", "Café — €2 &#1046;".encode("cp1252")),
    ("<meta http-equiv='Content-Type' content='text/html; charset=windows-1251'>", "Windows-1251",
     "Caf&#233; — €2 Ж".encode("cp1251")),
    ('<meta charset="utf-8">', "UTF-8", "Café — €2 Ж".encode()),
    ('<meta charset="no-such-charset">', "UTF-8", "Café — €2 Ж".encode()),
    ("", "UTF-8", "Café — €2 Ж".encode()),
])
def test_encode_page_writes_the_declared_charset(declared, codec, expected):
    text = f"<html><head>{declared}</head><body>Café — €2 Ж</body></html>"
    data, name = encode_page(text, "html")
    assert name == codec and expected in data
    assert data.startswith(f"<html><head>{declared}</head>".encode("ascii"))


def test_encode_page_keeps_a_byte_order_mark_and_writes_other_formats_as_utf8():
    assert encode_page("<p>é</p>", "html", b"\xef\xbb\xbf<p>x</p>") == (b"\xef\xbb\xbf<p>\xc3\xa9</p>", "UTF-8")
    data, name = encode_page("<p>é</p>", "html", "<p>x</p>".encode("utf-16"))
    assert data.decode("utf-16") == "<p>é</p>" and name.startswith("UTF-16")
    assert encode_page("charset=iso-8859-1\n\nBody é Ж", "text") == ("charset=iso-8859-1\n\nBody é Ж".encode(), "UTF-8")
