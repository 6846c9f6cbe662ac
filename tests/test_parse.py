"""Parsing text, Markdown and JSON pages, decoding bytes, and bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from related_posts.errors import InputError, RelatedPostsError
from related_posts.recommend.parse import (
    BinaryDataError,
    NoArticleError,
    ParseError,
    UnknownFormatError,
    decode_page,
    detect_format,
    is_tail_heading,
    markdown_to_text,
    parse_document,
    parse_json,
    parse_records,
    parse_text,
)

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
    assert doc.prefix + doc.original_tail + doc.suffix == PAGE
    assert doc.original_tail.startswith("Related Posts\n") and doc.suffix == ""


@pytest.mark.parametrize(
    "heading",
    ["Related Posts", "RELATED ARTICLES:", "You May Also Like", "Read More", "More Stories",
     "## Related posts", "**You might also like**", "Read next »", "More from The Daily Bugle",
     "Recommended for you", "Around the Web", "— Related Stories —", "__Also Read__",
     "### Trending", "Sponsored:", "From Our Partners", "Popular Posts", "Recommended",
     "MORE ON UKRAINE:", "You might also like…"],
)
def test_heading_variants_open_a_tail(heading):
    assert is_tail_heading(heading)
    doc = parse_text(f"Title\n\nBody paragraph here.\n\n{heading}\n\nOther story\n\nTeaser...\n")
    assert doc.has_tail and [i.title for i in doc.tail] == ["Other story"]
    assert doc.body == "Body paragraph here."


@pytest.mark.parametrize(
    "line",
    ["Read more about this in the report.", "Related posts were removed by the editors last year.",
     "", "We recommended it.", "Trending topics on the site changed.", "More",
     "Related Posts " * 10],
)
def test_sentences_with_heading_words_are_not_headings(line):
    assert not is_tail_heading(line)


def test_heading_followed_by_prose_is_body_not_tail():
    long_paragraph = "The council met again on Tuesday. " * 20
    text = f"Title\n\nIntro.\n\nRead More\n\n{long_paragraph}\n"
    doc = parse_text(text)
    assert not doc.has_tail
    assert long_paragraph.strip() in doc.body


def test_weak_heading_over_a_sentence_is_body_but_over_titles_is_a_tail():
    sentence = parse_text("T\n\nIntro.\n\nRead More\n\nThe council met again on Tuesday.\n")
    assert not sentence.has_tail and sentence.body.endswith("met again on Tuesday.")
    titles = parse_text("T\n\nIntro.\n\nRead More\n\nCouncil approves the budget\n")
    assert titles.has_tail and [i.title for i in titles.tail] == ["Council approves the budget"]


def test_strong_heading_over_short_lines_is_a_tail_even_without_links():
    doc = parse_text("T\n\nIntro.\n\nRelated Articles\n\nThe council met again.\n")
    assert doc.has_tail and doc.tail[0].title == "The council met again."


def test_page_without_tail_has_empty_tail_at_the_end():
    doc = parse_text("A title\n\nJust a body.\n")
    assert not doc.has_tail and doc.tail == () and doc.tail_start == doc.tail_end == len(doc.text)


def test_two_blocks_and_furniture_between_body_and_tail():
    text = ("Title\n\nBody text.\n\nShare this:\nFacebook | Twitter | Email\n\nTags: a, b\n\n"
            "Related Stories\n\nOne\n\nFirst teaser...\n\nSponsored\n\nTwo\n\nSecond teaser...\n")
    doc = parse_text(text)
    assert doc.body == "Body text."
    assert doc.tail_heading == "Related Stories"
    assert [i.title for i in doc.tail] == ["One", "Two"]
    assert "Tags: a, b" in doc.prefix  # kept in the page, dropped from the body


def test_copyright_line_after_the_tail_stays_in_the_suffix():
    text = "T\n\nBody.\n\nRead next\n\nA story\nhttps://a.example/1\n\n© 2025 The Courier\n"
    doc = parse_text(text)
    assert [(i.title, i.url) for i in doc.tail] == [("A story", "https://a.example/1")]
    assert doc.suffix == "\n© 2025 The Courier\n"  # the blank line above it too
    assert doc.prefix + doc.original_tail + doc.suffix == text


def test_crlf_page_keeps_its_line_ends():
    text = "Title\r\n\r\nBody.\r\n\r\nRelated Posts\r\n\r\nOne\r\n\r\nTeaser...\r\n"
    doc = parse_text(text)
    assert doc.layout.newline == "\r\n" and [i.title for i in doc.tail] == ["One"]
    assert doc.prefix == "Title\r\n\r\nBody.\r\n\r\n"


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
    assert doc.layout.heading_lines == ("You may also like", "-----------------")
    assert [(i.title, i.url, i.teaser) for i in doc.tail] == [
        ("Moon lander tests engines", "https://site.example/moon", "Engineers fired..."),
        ("Mars sample plan changes", "/mars", ""),
    ]


def test_markdown_cards_and_code_fences():
    text = ("# T\n\nIntro.\n\n```\nRelated Posts\n\nnot a tail\n```\n\nMore text.\n\n"
            "## More stories\n\n### [One](/one)\nFirst teaser...\n\n### [Two](/two)\nSecond...\n")
    doc = parse_document(text, format="markdown")
    assert [(i.title, i.url, i.teaser) for i in doc.tail] == [
        ("One", "/one", "First teaser..."), ("Two", "/two", "Second..."),
    ]
    assert "not a tail" in doc.body and doc.body.endswith("More text.")


def test_markdown_body_is_plain_text():
    assert markdown_to_text("## Sub\n\nSee **bold** and [a link](https://x.example) and ![img](a.png).") == (
        "Sub\n\nSee bold and a link and img."
    )


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
    assert "Related Posts" not in doc.body and "Share This Post" not in doc.body


def test_arrow_items_with_urls_in_parentheses():
    doc = parse_text("T\n\nBody.\n\nRelated reading\n\n→ One (https://a.example/1)\n→ Two <https://a.example/2>\n")
    assert [(i.title, i.url) for i in doc.tail] == [("One", "https://a.example/1"), ("Two", "https://a.example/2")]


def test_one_item_a_line_with_a_separated_teaser():
    doc = parse_text("T\n\nBody.\n\nRecommended Stories\n\nOne | First teaser...\nTwo | Second teaser...\n")
    assert [(i.title, i.teaser) for i in doc.tail] == [("One", "First teaser..."), ("Two", "Second teaser...")]
    assert doc.tail_style == "lines" and doc.layout.teaser_separator == " | "


def test_inline_promo_lines_are_not_body():
    doc = parse_text("T\n\nFirst paragraph.\n\nALSO READ: Ferry timetable cut for winter\n\n"
                     "Read more: this sentence is part of the article.\n")
    assert doc.body == "First paragraph.\n\nRead more: this sentence is part of the article."


def test_toml_front_matter_title():
    doc = parse_document('+++\ntitle = "Field notes"\ndate = 2025-01-01\n+++\n\nBody text.\n')
    assert (doc.format, doc.title, doc.body) == ("markdown", "Field notes", "Body text.")


# -- JSON ------------------------------------------------------------------------------------


def test_json_record():
    doc = parse_document(json.dumps({"title": "T", "text": "B", "related": [{"title": "x", "url": "/x"}]}))
    assert (doc.format, doc.title, doc.body, doc.tail[0].title) == ("json", "T", "B", "x")


def test_json_aliases_and_the_tail_span_is_the_related_value():
    text = json.dumps({"headline": "H", "articleBody": "B", "relatedPosts": [
        {"headline": "One", "link": "/1", "excerpt": "first..."}, "Two"]}, indent=4)
    doc = parse_json(text)
    assert (doc.title, doc.body) == ("H", "B")
    assert [(i.title, i.url, i.teaser) for i in doc.tail] == [("One", "/1", "first..."), ("Two", None, "")]
    assert json.loads(doc.original_tail)[1] == "Two"
    assert doc.prefix + doc.original_tail + doc.suffix == text


@pytest.mark.parametrize(
    "text, message",
    [('{"title": "T", "body": ', "invalid JSON"), ("[1, 2]", "a list of 2 records"),
     ('"just a string"', "holds a JSON str")],
)
def test_bad_json_is_a_parse_error_naming_the_file(text, message):
    with pytest.raises(ParseError, match=message) as info:
        parse_document(text, format="json", filename="post.json")
    assert str(info.value).startswith("post.json: ")


def test_json_record_without_body_is_no_article():
    with pytest.raises(NoArticleError, match="'body'"):
        parse_document('{"title": "T", "related": []}', format="json")


def test_records_of_a_jsonl_file_go_on_past_a_bad_line():
    text = (json.dumps({"title": "A", "body": "a"}) + "\nnot json\n\n"
            + json.dumps({"title": "C", "body": "c", "related": ["x"]}) + "\n")
    results = list(parse_records(text, "site.jsonl"))
    assert [where for where, _ in results] == ["site.jsonl:1", "site.jsonl:2", "site.jsonl:4"]
    assert isinstance(results[1][1], ParseError)
    assert results[2][1].tail[0].title == "x"


def test_records_of_a_json_array():
    results = list(parse_records(json.dumps([{"title": "A", "body": "a"}, {"title": "B"}]), "a.json"))
    assert [where for where, _ in results] == ["a.json[0]", "a.json[1]"]
    assert isinstance(results[1][1], NoArticleError)


# -- formats, bytes and bad input ------------------------------------------------------------


@pytest.mark.parametrize(
    "name, text, expected",
    [("a.md", "x", "markdown"), ("a.HTM", "x", "html"), (None, "<!DOCTYPE html><p>", "html"),
     (None, '{"title": 1}', "json"), (None, "# Title", "markdown"), ("notes", "plain", "text"),
     (None, "  <html><body>", "html"), (None, "<?xml version='1.0'?><html>", "html")],
)
def test_detect_format(name, text, expected):
    assert detect_format(text, name) == expected


def test_unknown_format_names_the_valid_ones():
    with pytest.raises(UnknownFormatError, match="valid: text, markdown, html, json"):
        parse_document("x", format="pdf")


def test_parse_errors_are_library_errors_and_value_errors():
    assert issubclass(ParseError, RelatedPostsError) and issubclass(ParseError, ValueError)
    assert issubclass(ParseError, InputError)


@pytest.mark.parametrize(
    "text, filename",
    [("", "empty.txt"), ("Just a title\n", "t.txt"), ("Related Posts\n\nA\n\nteaser...\n", "t.txt"),
     ("# Related posts\n\n- [a](/a)\n- [b](/b)\n", "t.md")],
)
def test_pages_without_article_text_are_errors_not_empty_bodies(text, filename):
    with pytest.raises(NoArticleError) as info:
        parse_document(text, filename=filename)
    assert str(info.value).startswith(f"{filename}: no ")
    assert "article" in str(info.value)


def test_only_a_tail_says_so():
    with pytest.raises(NoArticleError, match="only a related-posts tail \\(2 items\\)"):
        parse_document("Related Posts\n\nOne\n\nfirst...\n\nTwo\n\nsecond...\n", filename="t.txt")


@pytest.mark.parametrize(
    "data, what",
    [(b"\x89PNG\r\n\x1a\n" + bytes(100), "a PNG image"), (b"%PDF-1.7\n", "a PDF document"),
     (b"\x1f\x8b\x08\x00" + bytes(50), "a gzip archive"), (b"text\x00with nul", "NUL bytes"),
     (bytes(range(1, 32)) * 40, "control characters")],
)
def test_binary_data_is_rejected_with_a_reason(data, what):
    with pytest.raises(BinaryDataError, match=what):
        parse_document(data, filename="page.html")


def test_binary_text_passed_as_str_is_rejected_too():
    with pytest.raises(BinaryDataError):
        parse_document("".join(chr(i) for i in range(1, 32)) * 50, filename="x.txt")


def test_utf8_with_bom_and_utf16_with_bom():
    assert decode_page("\ufeffTitle\n\nBody ü.".encode("utf-8")) == ("Title\n\nBody ü.", [])
    assert decode_page("Title\n\nBody ü.".encode("utf-16"))[0] == "Title\n\nBody ü."


def test_declared_charset_is_used_when_the_page_is_not_utf8():
    data = '<html><head><meta charset="iso-8859-1"></head><body><p>Café</p></body></html>'.encode("latin-1")
    text, warnings = decode_page(data, "p.html")
    assert "Café" in text and warnings == []


def test_wrong_declared_charset_is_a_warning_not_mojibake():
    data = '<html><head><meta charset="iso-8859-1"></head><body><p>Café – ok</p></body></html>'.encode()
    text, warnings = decode_page(data, "p.html")
    assert "Café – ok" in text
    assert warnings and "declares charset 'iso-8859-1' but is valid UTF-8" in warnings[0]


def test_page_declaring_utf8_that_is_windows_1252():
    data = '<meta charset="utf-8"><p>Caf\u00e9 \u201cquoted\u201d</p>'.encode("cp1252")
    text, warnings = decode_page(data, "p.html")
    assert "Café “quoted”" in text and "read as Windows-1252" in warnings[0]


def test_mixed_encodings_keep_the_utf8_and_repair_the_stray_bytes():
    data = "naïve café ".encode() * 5 + "r\u00e9sum\u00e9".encode("latin-1")
    text, warnings = decode_page(data, "p.txt")
    assert text.endswith("résumé") and text.startswith("naïve café")
    assert "mixed encodings: 2 byte sequence(s)" in warnings[0]


def test_warnings_reach_the_document():
    data = "Title\n\nBody caf\u00e9 text.\n".encode("utf-8") + b"\xe9"
    doc = parse_document(data, filename="t.txt")
    assert doc.warnings and doc.to_dict()["warnings"] == list(doc.warnings)


# -- the round-trip invariant ----------------------------------------------------------------

# Any characters, line separators such as U+2028 and form feeds included.
_line = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(
    title=_line,
    body=st.lists(_line, max_size=8),
    heading=st.sampled_from(["Related Posts", "## Read More", "You May Also Like:", "MORE STORIES",
                             "**Recommended for you**", "Read next\n---------", None]),
    items=st.lists(_line, max_size=6),
    footer=st.sampled_from(["", "© 2025 Site", "Share this:"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    markdown=st.booleans(),
)
def test_prefix_tail_and_suffix_give_back_the_document_byte_for_byte(
        title, body, heading, items, footer, newline, markdown):
    lines = [title, "", *body] + ([heading, "", *items] if heading else []) + [footer]
    text = newline.join(lines)
    doc = parse_text(text, markdown=markdown)
    assert doc.prefix + doc.original_tail + doc.suffix == text
    assert 0 <= doc.tail_start <= doc.tail_end <= len(text)
