from __future__ import annotations

import json

import pytest

from related_posts.article import TailItem
from related_posts.recommend.parse import parse_document, parse_text
from related_posts.recommend.render import RenderOptions, make_teaser, render_html_block, rewrite, safe_url

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


def test_markdown_tail_is_a_list_of_links():
    doc = parse_document("# T\n\nBody.\n", format="markdown")
    out = rewrite(doc, ITEMS, RenderOptions(show_scores=True), scores=[0.8123, 0.5])
    assert out.endswith(
        "## Related Posts\n\n"
        "- [Ceasefire talks resume](https://site.example/ceasefire) (0.81) — Envoys met in Geneva...\n"
        "- Drones over Kursk (0.50) — Air defences were busy...\n"
    )


def test_numbered_tail_stays_numbered():
    doc = parse_text("T\n\nBody.\n\nRead next:\n1. One\n2. Two\n")
    out = rewrite(doc, ITEMS)
    assert out.endswith(
        "Read next:\n\n"
        "1. Ceasefire talks resume https://site.example/ceasefire — Envoys met in Geneva...\n"
        "2. Drones over Kursk — Air defences were busy...\n"
    )


def test_html_block_escapes_everything_and_drops_script_urls():
    evil = [TailItem("<script>alert(1)</script>", 'a "quoted" <b>teaser</b>', "javascript:alert(1)"),
            TailItem("Fine", "", "https://ok.example/?a=1&b=2")]
    block = render_html_block(evil)
    assert "<script>" not in block and "&lt;script&gt;" in block
    assert "javascript:" not in block
    assert 'href="https://ok.example/?a=1&amp;b=2"' in block
    assert 'class="related-posts"' in block


def test_html_rewrite_replaces_the_block_in_place():
    html = "<html><body><article><p>Text</p></article><div class=\"jp-relatedposts\"><a href='/x'>X</a></div><footer>f</footer></body></html>"
    doc = parse_document(html, format="html")
    out = rewrite(doc, ITEMS)
    assert out.startswith("<html><body><article><p>Text</p></article><section class=\"related-posts\">")
    assert out.endswith("</section>\n<footer>f</footer></body></html>")
    assert "jp-relatedposts" not in out


def test_json_rewrite_sets_related_field():
    doc = parse_document(json.dumps({"id": "a", "title": "T", "body": "B", "related": []}))
    record = json.loads(rewrite(doc, ITEMS))
    assert record["id"] == "a" and [r["title"] for r in record["related"]] == [i.title for i in ITEMS]


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
     ("JavaScript:alert(1)", None), ("data:text/html,x", None), ("", None)],
)
def test_safe_url(url, expected):
    assert safe_url(url) == expected
