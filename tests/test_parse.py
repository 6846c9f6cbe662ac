from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from related_posts.recommend.parse import detect_format, is_tail_heading, parse_document, parse_text

from .conftest import CONTENT_FARM_EXAMPLE

PAGE = (
    "Rain returns to the valley\n\n"
    "Farmers welcomed the first storm of the season on Monday.\n\n"
    "Reservoirs are still low, officials said, and you can read more about it in our archive.\n\n"
    "Related Posts\n\n"
    "Stock markets slide on rate fears\n\n"
    "Investors sold shares after the central bank signalled...\n\n"
    "Ten gadgets for your kitchen\n\n"
    "From blenders to scales, these picks...\n"
)


def test_text_page_splits_into_title_body_and_tail():
    doc = parse_text(PAGE)
    assert doc.title == "Rain returns to the valley"
    assert doc.body.startswith("Farmers welcomed") and doc.body.endswith("in our archive.")
    assert doc.tail_heading == "Related Posts"
    assert [(i.title, i.teaser) for i in doc.tail] == [
        ("Stock markets slide on rate fears", "Investors sold shares after the central bank signalled..."),
        ("Ten gadgets for your kitchen", "From blenders to scales, these picks..."),
    ]
    assert doc.prefix + doc.original_tail == PAGE
    assert doc.original_tail.startswith("Related Posts\n")


@pytest.mark.parametrize(
    "heading",
    ["Related Posts", "RELATED ARTICLES:", "You May Also Like", "Read More", "More Stories",
     "## Related posts", "**You might also like**", "Read next »", "More from The Daily Bugle",
     "Recommended for you", "Around the Web"],
)
def test_heading_variants_open_a_tail(heading):
    assert is_tail_heading(heading)
    doc = parse_text(f"Title\n\nBody paragraph here.\n\n{heading}\n\nOther story\n\nTeaser...\n")
    assert doc.has_tail and [i.title for i in doc.tail] == ["Other story"]


@pytest.mark.parametrize(
    "line",
    ["Read more about this in the report.", "Related posts were removed by the editors last year.",
     "", "We recommended it."],
)
def test_sentences_with_heading_words_are_not_headings(line):
    assert not is_tail_heading(line)


def test_heading_followed_by_prose_is_body_not_tail():
    long_paragraph = "The council met again on Tuesday. " * 20
    text = f"Title\n\nIntro.\n\nRead More\n\n{long_paragraph}\n"
    doc = parse_text(text)
    assert not doc.has_tail
    assert long_paragraph.strip() in doc.body


def test_page_without_tail_has_empty_tail_at_the_end():
    doc = parse_text("A title\n\nJust a body.\n")
    assert not doc.has_tail and doc.tail == () and doc.tail_start == doc.tail_end == len(doc.text)


def test_markdown_title_links_and_underlined_heading():
    text = (
        "# Launch delayed again\n\nThe rocket stays on the pad.\n\n"
        "You may also like\n-----------------\n\n"
        "- [Moon lander tests engines](https://site.example/moon) — Engineers fired...\n"
        "- [Mars sample plan changes](/mars)\n"
    )
    doc = parse_document(text, filename="post.md")
    assert doc.format == "markdown" and doc.title == "Launch delayed again"
    assert doc.body == "The rocket stays on the pad."
    assert doc.tail_style == "links"
    assert [(i.title, i.url, i.teaser) for i in doc.tail] == [
        ("Moon lander tests engines", "https://site.example/moon", "Engineers fired..."),
        ("Mars sample plan changes", "/mars", ""),
    ]


def test_markdown_front_matter_title():
    doc = parse_document('---\ntitle: "Field notes"\ndate: 2025-01-01\n---\n\nBody text.\n', format="markdown")
    assert doc.title == "Field notes" and doc.body == "Body text."


def test_numbered_list_and_bare_urls():
    text = "T\n\nBody.\n\nRead next:\n1. First story\nhttps://a.example/1\n2. Second story — short teaser\n"
    doc = parse_text(text)
    assert doc.tail_style == "numbered"
    assert [(i.title, i.url, i.teaser) for i in doc.tail] == [
        ("First story", "https://a.example/1", ""),
        ("Second story", None, "short teaser"),
    ]


def test_share_lines_are_dropped_from_the_body_not_the_prefix():
    doc = parse_text("Title\n\nShare This Post\n\nBody text.\n")
    assert doc.body == "Body text." and "Share This Post" in doc.prefix


@pytest.mark.skipif(not CONTENT_FARM_EXAMPLE.exists(), reason="shared example not available")
def test_content_farm_example_tail_is_found():
    text = CONTENT_FARM_EXAMPLE.read_text(encoding="utf-8")
    doc = parse_document(text, filename=CONTENT_FARM_EXAMPLE.name)
    assert doc.title.startswith("Putin Visits Kursk")
    assert len(doc.tail) == 5
    assert doc.tail[0].title.startswith("Attorney for Mahmoud Khalil")
    assert all(item.teaser.endswith("...") for item in doc.tail)
    assert doc.body.endswith("in this enduring crisis.")
    assert "Related Posts" not in doc.body


def test_html_page_title_body_and_marked_related_block():
    html = (
        "<html><head><title>Flood waters recede</title></head><body><article>"
        "<h1>Flood waters recede</h1>"
        + "<p>Residents of the river town returned home on Sunday as the flood waters receded "
        "and volunteers began clearing mud from the streets and houses.</p>" * 4
        + "</article><div class='yarpp-related'><h3>Related</h3><ul>"
        "<li><a href='/a'>Celebrity wedding photos</a></li><li><a href='/b'>Crypto tips</a></li>"
        "</ul></div></body></html>"
    )
    doc = parse_document(html, filename="page.html")
    assert doc.format == "html" and doc.title == "Flood waters recede"
    assert "volunteers began clearing mud" in doc.body
    assert [(i.title, i.url) for i in doc.tail] == [("Celebrity wedding photos", "/a"), ("Crypto tips", "/b")]
    assert doc.original_tail.startswith("<div class='yarpp-related'>") and doc.original_tail.endswith("</div>")
    assert doc.suffix == "</body></html>"


def test_json_record():
    doc = parse_document(json.dumps({"title": "T", "text": "B", "related": [{"title": "x", "url": "/x"}]}))
    assert (doc.format, doc.title, doc.body, doc.tail[0].title) == ("json", "T", "B", "x")


@pytest.mark.parametrize(
    "name, text, expected",
    [("a.md", "x", "markdown"), ("a.HTM", "x", "html"), (None, "<!DOCTYPE html><p>", "html"),
     (None, '{"title": 1}', "json"), (None, "# Title", "markdown"), ("notes", "plain", "text")],
)
def test_detect_format(name, text, expected):
    assert detect_format(text, name) == expected


# Any characters, line separators such as U+2028 and form feeds included.
_line = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(
    title=_line,
    body=st.lists(_line, max_size=8),
    heading=st.sampled_from(["Related Posts", "## Read More", "You May Also Like:", "MORE STORIES", None]),
    items=st.lists(_line, max_size=6),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_prefix_and_tail_give_back_the_document_byte_for_byte(title, body, heading, items, newline):
    lines = [title, "", *body] + ([heading, "", *items] if heading else [])
    text = newline.join(lines)
    doc = parse_text(text)
    assert doc.prefix + doc.original_tail + doc.suffix == text
    assert text.startswith(doc.prefix)
