"""Feeds, WordPress exports and sitemaps: related_posts.recommend.parse.feeds."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from related_posts.recommend.parse.document import Document, NoArticleError, ParseError
from related_posts.recommend.parse.feeds import (
    Sitemap,
    html_to_text,
    is_feed,
    is_sitemap,
    is_wxr,
    parse_feed,
    parse_wxr,
    sitemap_urls,
)

SOURCES = Path(__file__).parent / "fixtures" / "sources"
SITE = "https://pedalandpantry.example"


def read(name: str) -> str:
    return (SOURCES / name).read_text(encoding="utf-8")


def documents(pairs: Iterable[tuple[str, Document | ParseError]]) -> dict[str, Document]:
    found = dict(pairs)
    errors = {loc: value for loc, value in found.items() if not isinstance(value, Document)}
    assert not errors, errors
    return {loc: value for loc, value in found.items() if isinstance(value, Document)}


def assert_plain(text: str) -> None:
    assert "<" not in text and "&lt;" not in text and "&amp;" not in text and "&nbsp;" not in text
    assert "wp:" not in text and "[caption" not in text and "[/caption]" not in text


# -- html_to_text ---------------------------------------------------------------------------------


def test_html_entities_are_decoded() -> None:
    text = html_to_text("<p>Fish &amp; chips &mdash; &#8220;proper&#8221; ones,&nbsp;1&#x2F;2 price</p>")
    assert text == "Fish & chips — “proper” ones, 1/2 price"


def test_plain_text_keeps_its_words_and_lines() -> None:
    assert html_to_text("Line one\nline two\n\n\n   Second   paragraph  ") == \
        "Line one\nline two\n\nSecond paragraph"
    assert html_to_text("3 < 5 and AT&T & co") == "3 < 5 and AT&T & co"


def test_blocks_become_paragraphs_and_br_a_newline() -> None:
    text = html_to_text("<h2>Method</h2><p>Mix   the\n  dough.</p><blockquote>Rest it.</blockquote>"
                        "<div>Bake<br>it<br/>hot</div>")
    assert text == "Method\n\nMix the dough.\n\nRest it.\n\nBake\nit\nhot"


def test_nested_lists_give_one_paragraph_per_item() -> None:
    text = html_to_text("<ol><li>Find the hole.<ul><li>Check the rim tape.</li><li>Check the tyre.</li>"
                        "</ul></li><li>Patch the tube.</li></ol>")
    assert text.split("\n\n") == ["Find the hole.", "Check the rim tape.", "Check the tyre.",
                                  "Patch the tube."]


def test_script_style_and_friends_are_dropped() -> None:
    text = html_to_text("<p>Before</p><script>alert('x')</script><style>p{color:red}</style>"
                        "<noscript>NOSCRIPT</noscript><iframe src='v'>IFRAME</iframe>"
                        "<template><p>TEMPLATE</p></template><p>After</p>")
    assert text == "Before\n\nAfter"


def test_wordpress_block_comments_are_dropped() -> None:
    text = html_to_text('<!-- wp:paragraph -->\n<p>Block one</p>\n<!-- /wp:paragraph -->\n\n'
                        '<!-- wp:image {"id":12,"sizeSlug":"large"} -->\n<figure><img src="a.jpg" alt="">'
                        '<figcaption>A caption</figcaption></figure>\n<!-- /wp:image -->')
    assert text == "Block one\n\nA caption"


def test_shortcode_tags_are_dropped_and_their_text_kept() -> None:
    text = html_to_text('[caption id="attachment_5" align="alignnone" width="300"]<img src="a.jpg"> '
                        'The dam wall.[/caption]\n\nWe stopped [gallery ids="1,2,3"] for tea.')
    assert text == "The dam wall.\n\nWe stopped\n\nfor tea."


def test_brackets_that_are_not_shortcodes_stay() -> None:
    assert html_to_text("He said [sic] it was [citation needed] fine.") == \
        "He said [sic] it was [citation needed] fine."
    assert html_to_text("Write [[caption]] to show a shortcode.") == "Write [caption] to show a shortcode."


def test_classic_editor_content_keeps_its_paragraphs() -> None:
    text = html_to_text("First paragraph with <strong>bold</strong>.\nSecond line.\n\nNext paragraph.")
    assert text == "First paragraph with bold.\nSecond line.\n\nNext paragraph."


def test_table_cells_are_separated() -> None:
    assert html_to_text("<table><tr><td>Flour</td><td>450 g</td></tr><tr><th>Water</th><td>350 g</td>"
                        "</tr></table>") == "Flour 450 g\n\nWater 350 g"


@pytest.mark.parametrize("fragment, expected", [
    ("", ""),
    ("   \n\t ", ""),
    ("<", "<"),
    ("<!-- only a comment -->", ""),
    ("<p>unclosed <b>bold <i>italic", "unclosed bold italic"),
    ("<?xml version='1.0' encoding='latin-1'?><p>x</p>", "x"),
    ("\x00\x01junk<b>x</b>", "junkx"),
    ("<html><head><title>T</title></head><body><p>Body</p></body></html>", "Body"),
])
def test_odd_fragments(fragment: str, expected: str) -> None:
    assert html_to_text(fragment) == expected


def test_deep_nesting_does_not_recurse() -> None:
    assert html_to_text("<div>" * 5000 + "deep" + "</div>" * 5000) == "deep"


# -- WordPress export -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wxr() -> dict[str, Document]:
    return documents(parse_wxr(read("wordpress-export.xml"), "wordpress-export.xml"))


def test_wxr_yields_posts_pages_and_flagged_drafts_only(wxr: dict[str, Document]) -> None:
    titles = {loc: doc.title for loc, doc in wxr.items()}
    assert titles == {
        "wordpress-export.xml#1": "Overnight sourdough with a lazy starter",
        "wordpress-export.xml#3": "Gravel loop to the reservoir",
        "wordpress-export.xml#4": "Planting garlic before the first frost",
        "wordpress-export.xml#5": "Tomatoes & a glut of passata",
        "wordpress-export.xml#6": "Fixing a slow puncture at the roadside",
        "wordpress-export.xml#7": "Winter turbo training plan",
        "wordpress-export.xml#8": "Spring seed swap",
        "wordpress-export.xml#9": "About",
    }  # 2: the attachment, 10: the nav_menu_item
    assert {loc for loc, doc in wxr.items() if doc.metadata.draft} == \
        {"wordpress-export.xml#7", "wordpress-export.xml#8"}
    assert all(doc.format == "wxr" and doc.tail == () for doc in wxr.values())
    assert wxr["wordpress-export.xml#9"].meta == {"post_type": "page", "status": "publish"}
    assert wxr["wordpress-export.xml#8"].meta["status"] == "future"


def test_wxr_metadata(wxr: dict[str, Document]) -> None:
    sourdough = wxr["wordpress-export.xml#1"].metadata
    assert sourdough.id == "101"
    assert sourdough.url == f"{SITE}/2026/03/overnight-sourdough/"
    assert sourdough.slug == "overnight-sourdough"
    assert sourdough.published == "2026-03-01T09:30:00Z"
    assert sourdough.modified == "2026-03-02T18:05:11Z"
    assert sourdough.labels == ("Cooking", "sourdough")
    assert sourdough.lang == "en-GB"
    assert sourdough.image == f"{SITE}/wp-content/uploads/2026/03/crumb.jpg"  # _thumbnail_id 120
    assert sourdough.description is None  # empty excerpt

    garlic = wxr["wordpress-export.xml#4"].metadata
    assert garlic.published == "2025-10-12T07:15:00Z"  # post_date_gmt, not the BST post_date
    assert garlic.modified == "2025-10-13T20:02:45Z"
    assert garlic.description == "Why October is the month for garlic, and how to keep the birds off it."

    gravel = wxr["wordpress-export.xml#3"].metadata
    assert gravel.labels == ("Cycling", "gravel")  # not the post_format "Image"
    assert wxr["wordpress-export.xml#6"].metadata.labels == ("Cycling", "bike maintenance")  # no Uncategorized
    assert wxr["wordpress-export.xml#5"].metadata.labels == ("Cooking", "Gardening", "tomatoes")


def test_wxr_draft_without_gmt_date(wxr: dict[str, Document]) -> None:
    draft = wxr["wordpress-export.xml#7"].metadata
    assert draft.draft and draft.published is None  # 0000-00-00 00:00:00
    assert draft.modified == "2026-03-19T07:44:02Z"
    assert draft.slug is None and draft.url == f"{SITE}/?p=140"


def test_wxr_bodies_are_plain_text(wxr: dict[str, Document]) -> None:
    for doc in wxr.values():
        assert_plain(doc.body)
        assert_plain(doc.title)
    sourdough = wxr["wordpress-export.xml#1"].body
    assert sourdough.startswith("This loaf fits around a working day: mix the dough after dinner")
    assert "450 g strong white flour & 50 g wholemeal\n\n350 g water at about 25°C" in sourdough
    assert "The crumb after a cold overnight proof." in sourdough
    gravel = wxr["wordpress-export.xml#3"].body  # classic editor: no <p>, a [caption] shortcode
    assert gravel.split("\n\n")[1] == "The dam wall at the halfway point."
    assert "Where to stop: the tea hut at the north end opens at ten and does a very good bacon roll.\n" \
           "Bring cash" in gravel
    passata = wxr["wordpress-export.xml#5"].body
    assert "recipeCard" not in passata and "border" not in passata and "gallery" not in passata
    assert "Skins and seeds stay behind; the sweet red pulp goes into bags for the freezer." in passata
    assert "“Plant on the shortest day, harvest on the longest” — my grandfather" in \
        wxr["wordpress-export.xml#4"].body
    assert "SPAM-FREE COMMENT TEXT" not in sourdough  # comments are not the post
    assert "Pedal & Pantry is written by Maggie and Dev" in wxr["wordpress-export.xml#9"].body


def test_wxr_document_text_is_the_item(wxr: dict[str, Document]) -> None:
    text = wxr["wordpress-export.xml#1"].text
    assert text.startswith("<item") and "<wp:post_id>101</wp:post_id>" in text
    assert "<wp:post_id>108</wp:post_id>" not in text


def test_wxr_custom_post_types_on_request() -> None:
    text = read("wordpress-export.xml").replace(
        "<wp:post_type><![CDATA[page]]></wp:post_type>", "<wp:post_type><![CDATA[recipe]]></wp:post_type>")
    assert "wordpress-export.xml#9" not in dict(parse_wxr(text, "wordpress-export.xml"))
    pairs = dict(parse_wxr(text, "wordpress-export.xml", post_types=("post", "recipe")))
    assert isinstance(pairs["wordpress-export.xml#9"], Document)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_wxr_older_versions(version: str) -> None:
    text = read("wordpress-export.xml").replace("export/1.2/", f"export/{version}/")
    assert is_wxr(text)
    assert len(documents(parse_wxr(text, "old.xml"))) == 8


def test_wxr_trashed_and_auto_drafts_give_nothing() -> None:
    text = read("wordpress-export.xml").replace("<wp:status><![CDATA[draft]]>", "<wp:status><![CDATA[trash]]>")
    text = text.replace("<wp:status><![CDATA[future]]>", "<wp:status><![CDATA[auto-draft]]>")
    pairs = dict(parse_wxr(text, "w.xml"))
    assert "w.xml#7" not in pairs and "w.xml#8" not in pairs and len(pairs) == 6


def test_wxr_published_post_without_text_is_an_error() -> None:
    text = read("wordpress-export.xml").replace("<title><![CDATA[About]]></title>", "<title></title>")
    error = dict(parse_wxr(text, "w.xml"))["w.xml#9"]
    assert isinstance(error, NoArticleError) and error.location == "w.xml#9"
    assert "no title" in error.reason and "\n" not in error.reason


def test_truncated_wxr_keeps_the_complete_items() -> None:
    text = read("wordpress-export.xml")
    cut = text[: text.index("<title><![CDATA[Winter turbo") + 60]
    pairs = list(parse_wxr(cut, "w.xml"))
    assert [loc for loc, value in pairs if isinstance(value, Document)] == \
        ["w.xml#1", "w.xml#3", "w.xml#4", "w.xml#5", "w.xml#6"]
    location, error = pairs[-1]
    assert location == "w.xml#7" and isinstance(error, ParseError)
    assert "broken XML" in error.reason and "truncated" in error.reason


def test_wxr_entities_are_not_expanded_or_fetched() -> None:
    text = read("wordpress-export.xml").replace(
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
    text = text.replace("<title><![CDATA[About]]></title>", "<title>About &xxe;</title>")
    about = dict(parse_wxr(text, "w.xml"))["w.xml#9"]
    assert isinstance(about, Document) and "root:" not in about.title


@pytest.mark.parametrize("text", [
    "",
    "hello, world",
    '{"title": "x"}',
    "<html><body><p>Hi</p></body></html>",
    '<rss version="2.0"><channel><item><title>x</title></item></channel></rss>',  # plain RSS
    "\x00\x01\x02PK\x03\x04" * 20,
])
def test_wxr_not_an_export_is_one_error(text: str) -> None:
    pairs = list(parse_wxr(text, "w.xml"))
    assert len(pairs) == 1
    location, error = pairs[0]
    assert location == "w.xml" and isinstance(error, ParseError) and "\n" not in error.reason


# -- RSS and Atom --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rss() -> dict[str, Document]:
    return documents(parse_feed(read("feed-rss.xml"), "feed-rss.xml"))


@pytest.fixture(scope="module")
def atom() -> dict[str, Document]:
    return documents(parse_feed(read("feed-atom.xml"), "feed-atom.xml"))


def test_rss_entries(rss: dict[str, Document]) -> None:
    assert [doc.title for doc in rss.values()] == [
        "Overnight sourdough with a lazy starter", "Gravel loop to the reservoir",
        "Planting garlic before the first frost", "Tomatoes & a glut of passata",
        "Fixing a slow puncture at the roadside"]
    assert list(rss) == [f"feed-rss.xml#{n}" for n in range(1, 6)]
    assert all(doc.format == "feed" and doc.text == read("feed-rss.xml") for doc in rss.values())


def test_rss_metadata(rss: dict[str, Document]) -> None:
    sourdough = rss["feed-rss.xml#1"].metadata
    assert sourdough.url == f"{SITE}/2026/03/overnight-sourdough/"
    assert sourdough.id is None  # the guid is a URL
    assert sourdough.published == "2026-03-01T09:30:00Z" and sourdough.modified is None
    assert sourdough.labels == ("Cooking", "sourdough")
    assert sourdough.lang == "en-GB"
    assert sourdough.image == f"{SITE}/wp-content/uploads/2026/03/crumb-300x200.jpg"  # media:thumbnail
    assert sourdough.description is not None and sourdough.description.endswith("50 g wholemeal…")
    assert rss["feed-rss.xml#2"].metadata.published == "2026-03-14T16:40:00Z"  # +0100 made UTC
    assert rss["feed-rss.xml#2"].metadata.image == f"{SITE}/wp-content/uploads/2026/03/reservoir-dam.jpg"
    assert rss["feed-rss.xml#3"].metadata.image == f"{SITE}/wp-content/uploads/2025/10/garlic-bed.jpg"
    assert rss["feed-rss.xml#4"].metadata.id == "pp-2025-passata"
    assert rss["feed-rss.xml#4"].metadata.description == \
        "Every September the greenhouse produces more tomatoes than two people can eat."
    assert rss["feed-rss.xml#5"].metadata.image is None


def test_rss_bodies(rss: dict[str, Document]) -> None:
    for doc in rss.values():
        assert_plain(doc.body)
    gravel = rss["feed-rss.xml#2"].body
    assert gravel.startswith("Forty-two kilometres, most of it on old quarry tracks")
    assert "very good bacon roll.\nBring cash" in gravel
    assert "window.recipeCard" not in rss["feed-rss.xml#4"].body
    # no content:encoded: the description is the body, and not also the description
    garlic = rss["feed-rss.xml#3"]
    assert "Birds love pulling them out in the first week" in garlic.body
    assert garlic.metadata.description is None


def test_atom_entries(atom: dict[str, Document]) -> None:
    assert [doc.title for doc in atom.values()] == [
        "Overnight sourdough with a lazy starter", "Gravel loop to the reservoir",
        "Tarte aux pommes du dimanche", "Planting garlic before the first frost",
        "Tomatoes & a glut of passata"]  # title type="html" with &amp;amp;
    sourdough = atom["feed-atom.xml#1"].metadata
    assert sourdough.id == "tag:pedalandpantry.example,2026-03-01:/2026/03/01/overnight-sourdough"
    assert sourdough.url == f"{SITE}/2026/03/overnight-sourdough/"  # rel=alternate
    assert sourdough.published == "2026-03-01T09:30:00Z"
    assert sourdough.modified == "2026-03-02T18:05:11Z"
    assert sourdough.labels == ("cooking", "sourdough")  # category term
    assert sourdough.lang == "en-GB"  # the feed's xml:lang
    assert sourdough.image == f"{SITE}/assets/img/crumb.jpg"
    assert sourdough.description == ("A loaf that fits around a working day: mix after dinner, "
                                     "shape before bed, bake before breakfast.")
    garlic = atom["feed-atom.xml#4"].metadata
    assert garlic.id is None  # the Atom id is a URL
    assert garlic.published == "2025-10-12T07:15:00Z" and garlic.modified == "2025-10-13T20:02:45Z"
    assert garlic.description == "Why October is the month for garlic, and how to keep the birds off it."
    tarte = atom["feed-atom.xml#3"]
    assert tarte.metadata.lang == "fr-FR"  # the entry's own xml:lang
    assert tarte.metadata.description is None  # no <summary>: feedparser's fallback is not one
    assert "c’est tout" in tarte.body


def test_atom_bodies(atom: dict[str, Document]) -> None:
    for doc in atom.values():
        assert_plain(doc.body)
    body = atom["feed-atom.xml#1"].body
    assert body.split("\n\n")[1:3] == ["What you need", "450 g strong white flour & 50 g wholemeal"]
    assert body.endswith("for twenty minutes with the lid on, then another twenty without.")


def test_feed_reads_a_wxr_as_a_wordpress_export() -> None:
    pairs = documents(parse_feed(read("wordpress-export.xml"), "w.xml"))
    assert all(doc.format == "wxr" for doc in pairs.values()) and "w.xml#2" not in pairs


def test_rss_1_0_feed() -> None:
    text = ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<channel rdf:about="https://x.example/"><title>X</title><link>https://x.example/</link>'
            '<description>d</description></channel><item rdf:about="https://x.example/a">'
            '<title>Seed potatoes</title><link>https://x.example/a</link>'
            '<description>Chit them on a windowsill in February.</description>'
            '<dc:date>2026-02-01T08:00:00+00:00</dc:date></item></rdf:RDF>')
    assert is_feed(text)
    [(location, doc)] = list(parse_feed(text, "rdf.xml"))
    assert location == "rdf.xml#1" and isinstance(doc, Document)
    assert doc.title == "Seed potatoes" and doc.body == "Chit them on a windowsill in February."


def test_feed_entry_without_title_or_text_is_an_error() -> None:
    text = ('<rss version="2.0"><channel><title>c</title><item><description>Only text</description></item>'
            '<item><title>Only a title</title></item><item><title>Fine</title><description>Body</description>'
            '</item></channel></rss>')
    pairs = list(parse_feed(text, "f.xml"))
    assert [loc for loc, _ in pairs] == ["f.xml#1", "f.xml#2", "f.xml#3"]
    assert isinstance(pairs[0][1], NoArticleError) and "no title" in pairs[0][1].reason
    assert isinstance(pairs[1][1], NoArticleError) and "no text" in pairs[1][1].reason
    assert isinstance(pairs[2][1], Document)


def test_truncated_feed_keeps_its_entries_with_a_warning() -> None:
    text = read("feed-rss.xml")
    pairs = list(parse_feed(text[: text.index("<title>Planting garlic")], "f.xml"))
    docs = [value for _, value in pairs if isinstance(value, Document)]
    assert [d.title for d in docs] == ["Overnight sourdough with a lazy starter", "Gravel loop to the reservoir"]
    assert all("not well-formed" in d.warnings[0] for d in docs)


def test_empty_but_valid_feed_gives_nothing() -> None:
    assert list(parse_feed('<rss version="2.0"><channel><title>c</title></channel></rss>', "f.xml")) == []


@pytest.mark.parametrize("text", [
    "",
    "hello, world",
    "https://pedalandpantry.example/feed/",  # a URL is not fetched
    str(SOURCES / "feed-rss.xml"),  # nor a path opened
    '{"title": "x"}',
    "<html><body><p>Hi</p></body></html>",
    read("sitemap.xml"),
    "<rss",
    "\x00\x01\x02PK\x03\x04" * 20,
])
def test_not_a_feed_is_one_error(text: str) -> None:
    pairs = list(parse_feed(text, "f.xml"))
    assert len(pairs) == 1
    location, error = pairs[0]
    assert location == "f.xml" and isinstance(error, ParseError)
    assert "\n" not in error.reason and "expected" in error.reason


def test_feed_declared_encoding_does_not_garble_text() -> None:
    text = ('<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><item>'
            '<title>Crème brûlée “tonight”</title><description>Caramel on top.</description></item>'
            '</channel></rss>')
    [(_, doc)] = list(parse_feed(text, "f.xml"))
    assert isinstance(doc, Document) and doc.title == "Crème brûlée “tonight”" and not doc.warnings


# -- sitemaps -------------------------------------------------------------------------------------


def test_sitemap_pages() -> None:
    sitemap = sitemap_urls(read("sitemap.xml"), "sitemap.xml")
    assert isinstance(sitemap, Sitemap) and not sitemap.is_index and sitemap.errors == []
    assert sitemap.sitemaps == []
    assert sitemap.pages == [
        f"{SITE}/2026/03/overnight-sourdough/",
        f"{SITE}/2026/03/gravel-loop-reservoir/",
        f"{SITE}/2026/02/slow-puncture/",  # whitespace around the <loc> stripped
        f"{SITE}/2025/10/planting-garlic/",
        f"{SITE}/2025/09/tomato-passata/?utm_source=sitemap&ref=seo",  # &amp; decoded
        f"{SITE}/about/",
    ]  # and no image:loc


def test_sitemap_index() -> None:
    sitemap = sitemap_urls(read("sitemap-index.xml"), "sitemap-index.xml")
    assert sitemap.is_index and sitemap.pages == [] and sitemap.errors == []
    assert sitemap.sitemaps[0] == f"{SITE}/wp-sitemap-posts-post-1.xml"
    assert len(sitemap.sitemaps) == 5


def test_sitemap_bad_locs_and_text_sitemaps() -> None:
    sitemap = sitemap_urls('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                           '<url><loc>/relative/</loc></url><url><loc>https://a.example/x</loc></url>'
                           '<url><loc>https://a.example/x</loc></url><url></url></urlset>', "s.xml")
    assert sitemap.pages == ["https://a.example/x"]
    assert [e.location for e in sitemap.errors] == ["s.xml#1", "s.xml#4"]
    assert sitemap_urls("https://a.example/1\nhttps://a.example/2\n", "s.txt").pages == \
        ["https://a.example/1", "https://a.example/2"]


@pytest.mark.parametrize("text", ["", "hello", read("feed-rss.xml"), "<urlset><url><loc>https://a.example/",
                                  "\x00\x01\x02" * 20])
def test_not_a_sitemap_says_why(text: str) -> None:
    sitemap = sitemap_urls(text, "s.xml")
    assert sitemap.errors and all(isinstance(e, ParseError) for e in sitemap.errors)
    assert sitemap.sitemaps == []


# -- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, wxr, feed, sitemap", [
    ("wordpress-export.xml", True, False, False),
    ("feed-rss.xml", False, True, False),
    ("feed-atom.xml", False, True, False),
    ("sitemap.xml", False, False, True),
    ("sitemap-index.xml", False, False, True),
])
def test_detection(name: str, wxr: bool, feed: bool, sitemap: bool) -> None:
    text = read(name)
    assert (is_wxr(text), is_feed(text), is_sitemap(text)) == (wxr, feed, sitemap)


@pytest.mark.parametrize("text", ["", "<html><body></body></html>", '<feed xmlns="urn:other"/>',
                                  "# Markdown", '{"feed": 1}', "<rss"])
def test_detection_negatives(text: str) -> None:
    assert not is_wxr(text) and not is_sitemap(text)
    assert is_feed(text) == (text == "<rss")


# -- never raises ---------------------------------------------------------------------------------

_MARKUP = st.sampled_from(["<", ">", "&", ";", "<p>", "</p>", "<br>", "<script>", "]]>", "<![CDATA[",
                           "<item>", "</item>", "<rss version='2.0'>", "<channel>", "<title>", "&amp;",
                           "<!--", "-->", "[caption]", "[/caption]", "\x00", "\ud800", "\n\n", "<?xml ",
                           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', "<loc>",
                           'xmlns:wp="http://wordpress.org/export/1.2/"', "<wp:status>", "publish"])
_TEXT = st.lists(st.one_of(st.text(max_size=20), _MARKUP), max_size=40).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_nothing_raises_on_arbitrary_text(text: str) -> None:
    assert isinstance(html_to_text(text), str)
    for parse in (parse_feed, parse_wxr):
        for location, value in parse(text, "x.xml"):
            assert location.startswith("x.xml")
            assert isinstance(value, (Document, ParseError))
    assert isinstance(sitemap_urls(text, "x.xml"), Sitemap)
    assert isinstance(is_feed(text) or is_wxr(text) or is_sitemap(text), bool)
