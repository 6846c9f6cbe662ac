"""Fuzzing every input path: pages, records, feeds and folders, then the CLI on top of them.

Random bytes, encodings, nesting, JSON types, CSV shapes, front matter, XML bombs and
external entities, ids and folders. Whatever comes in: no uncaught exception, nothing
already stored changes, and each error is one line that names its file.

The default run is a fast, derandomised slice (a few examples per property); the same
properties run with many random examples, and the bombs at full size, under ``-m slow``.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from related_posts import Article, Skipped
from related_posts.cli import cli
from related_posts.recommend.parse import FORMATS, SUFFIXES, Document, ParseError, parse_document, parse_file
from related_posts.sources import Site, document_to_article
from related_posts.store import Store

REPO = Path(__file__).resolve().parents[1]
#: The longest error a user should have to read (the brief's "one line, under ~300 characters").
MAX_MESSAGE = 300
#: Examples per property: a fast, derandomised slice by default, many random ones under -m slow.
FAST, FULL = 12, 300
BUDGETS = [pytest.param(FAST, id="fast"), pytest.param(FULL, id="full", marks=pytest.mark.slow)]


def fuzz(examples: int, **strategies):
    """Run the decorated check at once as a hypothesis property with ``examples`` examples."""

    def run(check):
        settings(max_examples=examples, deadline=None, database=None, derandomize=examples <= FAST,
                 suppress_health_check=list(HealthCheck))(given(**strategies)(check))()
        return check

    return run


# -- the contract every result keeps --------------------------------------------------------


#: The list of field names some record errors quote, raw and whole: a known bug (see
#: test_a_missing_field_error_is_short_and_one_line), left out of the generic checks.
_FIELDS_FOUND = re.compile(r"\(fields found: .*(?=; map another|\)$)", re.S)


def assert_one_line(message: str, names: str | None = None) -> None:
    assert isinstance(message, str) and message.strip(), f"empty message {message!r}"
    checked = _FIELDS_FOUND.sub("(fields found: ...", message)
    assert "\n" not in checked and "\r" not in checked, f"not one line: {message!r}"
    assert len(checked) <= MAX_MESSAGE, f"{len(message)} characters: {message[:400]!r}"
    if names is not None:
        assert names in message, f"{message!r} does not name {names!r}"


def check_document(document: Document) -> None:
    assert isinstance(document.title, str) and isinstance(document.body, str)
    assert document.prefix + document.original_tail + document.suffix == document.text
    for item in document.tail:
        assert isinstance(item.title, str) and isinstance(item.teaser, str)
        assert item.url is None or isinstance(item.url, str)
    metadata = document.metadata
    for name in ("id", "url", "slug", "published", "modified", "lang", "image", "description", "source"):
        value = getattr(metadata, name)
        assert value is None or isinstance(value, str), f"metadata {name} is {value!r}"
    assert isinstance(metadata.labels, tuple) and all(isinstance(label, str) for label in metadata.labels)
    for warning in document.warnings:
        assert isinstance(warning, str) and "\n" not in warning, f"warning not one line: {warning!r}"
    # What parse --json prints and the store keeps must be writable as UTF-8 (no lone surrogates).
    json.dumps(document.to_dict(), ensure_ascii=False).encode("utf-8")


def check_pairs(pairs: list, filename: str) -> list:
    """Every result is a ``(location, Document | ParseError)`` pair; errors are one line."""
    for pair in pairs:
        assert type(pair) is tuple and len(pair) == 2, pair
        location, item = pair
        assert isinstance(location, str) and location.startswith(filename), (location, filename)
        if isinstance(item, ParseError):
            assert_one_line(str(item), names=location)
        else:
            assert isinstance(item, Document), f"{location}: {item!r}"
            check_document(item)
    return pairs


def check_parse(data: bytes | str, filename: str, **options) -> list:
    return check_pairs(list(parse_file(data, filename, **options)), filename)


_MEMORY = Store(":memory:")


def check_storable(document: Document, location: str, filename: str) -> None:
    """A parsed record becomes an article (or a skip) and is stored and read back unchanged."""
    found = document_to_article(document, location, Path("/site") / filename, Site(Path("/site")))
    if isinstance(found, Skipped):
        assert_one_line(found.reason)
        return
    assert isinstance(found, Article) and isinstance(found.id, str) and found.id
    _MEMORY.write_articles([found], None, None)
    assert _MEMORY.get(found.id) == found


# -- valid-looking pages of every kind, to mutate --------------------------------------------

RU = "Беспилотники атаковали позиции у Курска, линия фронта снова сдвинулась."
JA = "ドローンがクルスク近郊の陣地を攻撃し、前線は再び動いた。"
BODY = f"Drones hit positions near Kursk as the front line shifts. {RU} {JA} Envoys talk of a truce."

SAMPLES: dict[str, str] = {
    "yaml.md": f"""---
title: "Drones near Kursk: Курск"
date: 2025-03-01T09:30:00+02:00
lastmod: 2025-03-02
tags: [war, drones, "фронт"]
categories: news
url: /war/kursk/
image: {{url: https://news.example/kursk.jpg}}
description: The front line shifts.
draft: false
---
# Drones near Kursk

{BODY}

More text: *emphasis*, `code`, [a link](https://news.example/x).

## Related Posts

- [Sourdough for beginners](https://news.example/bread/1/) — Feed the starter...
- [Guard scores 40 in overtime](https://news.example/hoops/1/) — The point guard...
""",
    "toml.markdown": f"""+++
title = "Ceasefire talks"
date = 2025-03-04T10:00:00Z
tags = ["war", "talks"]
slug = "ceasefire"
+++
{BODY}

**Read More**

1. [Kursk front line moves again](https://news.example/war-2/)
2. [Rye bread with a long rise](https://news.example/bread-2/)
""",
    "page.txt": f"""Kursk front line moves again

{BODY}

You May Also Like

Coach fired after losing season
The basketball team fired its coach...

Sourdough for beginners
Feed the starter with flour and water...
""",
    "page.html": f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Drones near Kursk | News</title>
<link rel="canonical" href="https://www.news.example/war/kursk/">
<meta property="og:title" content="Drones near Kursk">
<meta property="article:published_time" content="2025-03-01T09:30:00Z">
<meta property="article:tag" content="war">
<script type="application/ld+json">{{"@context": "https://schema.org", "@graph": [{{"@type": "NewsArticle",
 "headline": "Drones near Kursk", "datePublished": "2025-03-01", "keywords": ["war", "drones"]}}]}}</script>
</head><body><nav><a href="/">Home</a> <a href="/war/">War</a></nav>
<article><h1>Drones near Kursk</h1><p>{BODY}</p><p>{RU}</p><p>{JA}</p></article>
<div class="yarpp-related"><h3>Related posts:</h3><ol>
<li><a href="https://news.example/bread/1/" rel="bookmark">Sourdough for beginners</a></li>
<li><a href="https://news.example/hoops/1/" rel="bookmark">Guard scores 40</a></li></ol></div>
<footer>&copy; 2025 News</footer></body></html>
""",
    "page.xhtml": f"""<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Truce talks</title></head>
<body><article><h1>Truce talks</h1><p>{BODY}</p></article>
<aside><h2>More stories</h2><ul><li><a href="/a">A story</a></li><li><a href="/b">B story</a></li></ul></aside>
</body></html>
""",
    "record.json": json.dumps({"id": "fz-json", "title": "Drones near Kursk", "body": BODY, "url": "https://fz.example/j",
                               "labels": ["war"], "published": "2025-03-01",
                               "related": [{"title": "Sourdough", "url": "https://fz.example/s", "teaser": "Feed..."},
                                           "Plain title"]}, ensure_ascii=False, indent=2),
    "wp.json": json.dumps([{"id": 101, "link": "https://fz.example/wp/101/", "date_gmt": "2025-03-01T09:30:00",
                            "status": "publish", "title": {"rendered": "Drones &#8211; Kursk"},
                            "content": {"rendered": f"<p>{BODY}</p><!-- wp:paragraph --><p>[caption id=\"x\"]Cap[/caption]</p>"},
                            "excerpt": {"rendered": "<p>The front line [&hellip;]</p>"}}]),
    "records.jsonl": "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"id": "fz-l1", "title": "Kursk", "text": BODY, "tags": "war, drones"},
        {"id": "fz-l2", "headline": "Bread", "content": "Flour, water and a starter. " + RU, "status": "publish"}]),
    "records.ndjson": json.dumps({"id": "fz-nd", "title": "Hoops", "articleBody": "The guard " + JA}) + "\n",
    "records.csv": "id,title,body,published,tags\r\nfz-c1,Kursk,\"" + BODY.replace('"', '""') + "\",2025-03-01,\"war,drones\"\r\n"
                   "fz-c2,Bread,\"Flour, water\nand a starter\",2025-03-02,food\r\n",
    "feed.rss": f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>News</title><link>https://fz.example/</link><language>ru</language>
<item><title>Drones &amp; Kursk</title><link>https://fz.example/rss/1/</link><guid isPermaLink="false">fz-rss-1</guid>
<pubDate>Sat, 01 Mar 2025 09:30:00 GMT</pubDate><category>war</category>
<description>The front line shifts</description><content:encoded><![CDATA[<p>{BODY}</p>]]></content:encoded>
<media:thumbnail url="https://fz.example/k.jpg"/></item>
<item><title>Bread</title><link>https://fz.example/rss/2/</link><description>Flour and water. {RU}</description></item>
</channel></rss>
""",
    "feed.atom": f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ja"><title>News</title><id>urn:fz</id>
<entry><title type="html">Drones &amp;amp; Kursk</title><id>urn:fz:1</id><link href="https://fz.example/atom/1/"/>
<updated>2025-03-01T09:30:00Z</updated><category term="war"/><summary>Short</summary>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>{BODY}</p></div></content></entry>
</feed>
""",
    "export.xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wp="http://wordpress.org/export/1.2/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/">
<channel><title>Site</title><link>https://fz.example</link><language>en-US</language><wp:wxr_version>1.2</wp:wxr_version>
<item><title>Drones near Kursk</title><link>https://fz.example/wxr/1/</link><dc:creator>ed</dc:creator>
<content:encoded><![CDATA[<!-- wp:paragraph --><p>{BODY}</p><!-- /wp:paragraph -->]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded><wp:post_id>7</wp:post_id><wp:post_date_gmt>2025-03-01 09:30:00</wp:post_date_gmt>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<category domain="category" nicename="war"><![CDATA[War]]></category></item>
<item><title>Draft</title><content:encoded><![CDATA[<p>Not yet.</p>]]></content:encoded>
<wp:status>draft</wp:status><wp:post_type>post</wp:post_type></item>
</channel></rss>
""",
    "sitemap.xml": """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://fz.example/a/</loc><lastmod>2025-03-01</lastmod></url>
<url><loc>https://fz.example/b/</loc></url></urlset>
""",
}

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-16", "utf-32", "cp1251", "koi8-r",
             "shift_jis", "euc-jp", "gb18030", "cp1252", "latin-1", "mixed"]

#: Byte strings that break parsers in interesting places.
SNIPPETS = [b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x1b[2J", b"\r", b"\r\n", b"\n\n", b"]]>", b"<!--",
            b"-->", b"&", b"&#0;", b"&#xD800;", b"&nbsp;", b"&undefined;", b"<![CDATA[", b"<?xml ", b"<!DOCTYPE x>",
            b'"', b"'", b"\\", b"{", b"}", b"[", b"]", b",", b"---\n", b"+++\n", b"## Related Posts\n\n",
            b"- [x](javascript:alert(1))\n", b"<script>", b"</article>", b"<div>" * 40, b"[" * 40,
            "\u2028\u202e\ufeff".encode(), "Ж".encode("cp1251"), "日本".encode("shift_jis"), b"\x80\x81\x9f",
            b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]


def encode(text: str, encoding: str) -> bytes:
    if encoding == "mixed":  # a UTF-8 page with a pasted part in another charset
        half = len(text) // 2
        return text[:half].encode("utf-8") + text[half:].encode("cp1251", "replace")
    return text.encode(encoding, "replace")


@st.composite
def mutated_page(draw) -> tuple[str, bytes]:
    """A valid-looking page in some encoding, truncated, flipped, spliced; maybe misnamed."""
    name = draw(st.sampled_from(sorted(SAMPLES)))
    data = bytearray(encode(SAMPLES[name], draw(st.sampled_from(ENCODINGS))))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "repeat"]))
        at = draw(st.integers(0, len(data)))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(SNIPPETS) | st.binary(min_size=1, max_size=12))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 80))]
        elif op == "repeat":
            data[at:at] = bytes(data[at:at + draw(st.integers(1, 60))]) * draw(st.integers(2, 30))
    suffix = "." + name.rsplit(".", 1)[1]
    if draw(st.integers(0, 4)) == 0:  # a page saved under another kind's name
        suffix = draw(st.sampled_from(SUFFIXES))
    return name.rsplit(".", 1)[0] + suffix, bytes(data)


# -- parse_file: arbitrary bytes, mutated pages, every suffix, every format -------------------


@pytest.mark.parametrize("examples", BUDGETS)
def test_arbitrary_bytes_under_every_suffix(examples):
    @fuzz(examples, data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
    def _(data, suffix):
        check_parse(data, "page" + suffix)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_fixed_hostile_bytes_under_every_suffix(suffix):
    for data in [b"", b" \n\t", b"\x00" * 64, b"\xff" * 64, bytes(range(256)), b"PK\x03\x04" + bytes(200),
                 b"\x1f\x8b\x08\x00" + bytes(100), b"%PDF-1.7\n" + bytes(range(256)), b"\xef\xbb\xbf",
                 b"\xff\xfe" + "Заголовок\n\nТекст".encode("utf-16-le"), "# Т\n\nтекст".encode("utf-16-be"),
                 b"{" * 1000, b"<" * 1000, b"\r" * 1000, "\u2028".encode() * 300]:
        check_parse(data, "page" + suffix)


@pytest.mark.parametrize("examples", BUDGETS)
def test_mutated_pages_in_every_encoding(examples):
    @fuzz(examples, page=mutated_page())
    def _(page):
        check_parse(page[1], page[0])


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_sample_in_every_encoding(name, encoding):
    check_parse(encode(SAMPLES[name], encoding), name)


@pytest.mark.parametrize("examples", BUDGETS)
def test_any_text_in_any_format(examples):
    @fuzz(examples, text=st.text(max_size=800), fmt=st.sampled_from(FORMATS),
          filename=st.sampled_from(["page", "page.md", "page.html", "page.json", "page.bin"]))
    def _(text, fmt, filename):
        check_parse(text, filename, format=fmt)
        try:
            document = parse_document(text, format=fmt, filename=filename)
        except ParseError as exc:
            assert_one_line(str(exc), names=filename)
        else:
            check_document(document)


# -- JSON: every type in every field ---------------------------------------------------------

_keys = st.text(max_size=8) | st.sampled_from(["title", "body", "url", "id", "rendered", "@type", "name", "href"])
json_scalars = (st.none() | st.booleans() | st.integers(-2**80, 2**80) | st.integers(-10**1000, 10**1000)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
                | st.sampled_from(["", " ", "\x00", "\u202e", "javascript:alert(1)", "https://fz.example/x",
                                   "../../etc/passwd", "2025-13-45", "'; drop table articles; --"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(_keys, inner, max_size=3), max_leaves=8)
RECORD_FIELDS = ["title", "headline", "body", "text", "content", "articleBody", "id", "url", "link", "labels",
                 "tags", "categories", "related", "published", "date", "modified", "image", "description",
                 "summary", "excerpt", "lang", "source", "status", "draft", "slug"]
records = st.fixed_dictionaries(
    {"title": st.text(min_size=1, max_size=20) | json_values, "body": st.text(min_size=1, max_size=60) | json_values},
    optional={name: json_values for name in RECORD_FIELDS if name not in ("title", "body")})


@st.composite
def record_file(draw) -> tuple[str, bytes]:
    batch = draw(st.lists(records, min_size=1, max_size=3))
    ascii_only = draw(st.booleans())

    def dump(value, **options) -> str:
        return json.dumps(value, ensure_ascii=ascii_only, **options)
    shape = draw(st.sampled_from(["object", "array", "articles", "lines", "wordpress", "csv"]))
    if shape == "object":
        return "record.json", dump(batch[0], indent=draw(st.sampled_from([None, 2]))).encode("utf-8", "surrogatepass")
    if shape == "array":
        return "records.json", dump(batch).encode("utf-8", "surrogatepass")
    if shape == "articles":
        return "records.json", dump({"articles": batch}).encode("utf-8", "surrogatepass")
    if shape == "wordpress":
        posts = [{**r, "title": {"rendered": r.get("title")}, "content": {"rendered": r.get("body")}} for r in batch]
        return "posts.json", dump(posts).encode("utf-8", "surrogatepass")
    if shape == "csv":
        out = io.StringIO()
        columns = sorted({k for r in batch for k in r})
        writer = csv.writer(out)
        writer.writerow(columns)
        for r in batch:
            writer.writerow([r.get(c) if isinstance(r.get(c), str) else dump(r.get(c)) for c in columns])
        return "records.csv", out.getvalue().encode("utf-8", "surrogatepass")
    return "records.jsonl", "".join(dump(r) + "\n" for r in batch).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("examples", BUDGETS)
def test_records_with_any_json_type_in_any_field(examples):
    @fuzz(examples, file=record_file())
    def _(file):
        name, data = file
        for location, item in check_parse(data, name):
            if isinstance(item, Document):
                check_storable(item, location, name)


@pytest.mark.parametrize("value", [None, True, False, 0, -1, 10**400, 1.5, float("inf"), float("nan"), "", " ",
                                   [], ["a", 1], {}, {"rendered": 3}, [[[]]], {"a": {"b": {"c": []}}}])
@pytest.mark.parametrize("field", RECORD_FIELDS)
def test_every_field_holds_every_type(field, value):
    record = {"id": "fz-types", "title": "Title", "body": "Body text.", field: value}
    for name, data in [("r.json", json.dumps(record)), ("r.jsonl", json.dumps(record) + "\n"),
                       ("r.json", json.dumps([record, record]))]:
        for location, item in check_parse(data.encode(), name):
            if isinstance(item, Document):
                check_storable(item, location, name)


def test_numbers_and_escapes_json_cannot_hold():
    for text in ['{"title": "T", "body": "B", "id": 1' + "0" * 5000 + "}", '{"title": "T\\ud800", "body": "B"}',
                 '{"title": "T", "body": "B\\udfff\\ud800"}', '{"title": "T", "body": "B", "id": NaN}',
                 '{"title": "T", "body": "B", "id": -Infinity}', '{"title": "T", "body": "B", "id": 1e999}',
                 '{"title": "T", "body": "B", "title": 3}', '{"title": "T", "body": "B"} trailing',
                 '\ufeff{"title": "T", "body": "B"}', '{"title": "T", "body": "B", "related": "not a list"}']:
        for name in ("r.json", "r.jsonl"):
            check_parse(text.encode(), name)


# -- CSV shapes ------------------------------------------------------------------------------

_cells = st.text(max_size=12) | st.sampled_from(['"', '""', ",", "\n", "\r\n", "\x00", "\ufeff", "id", "title", "body"])


@st.composite
def csv_file(draw) -> bytes:
    header = draw(st.lists(st.sampled_from(["id", "title", "body", "url", "tags", "", "title", "x y"]) | _cells,
                           max_size=6))
    rows = draw(st.lists(st.lists(_cells, max_size=8), max_size=5))  # ragged: any length
    if draw(st.booleans()):
        out = io.StringIO()
        writer = csv.writer(out, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])))
        for row in [header, *rows]:
            writer.writerow(row)
        text = out.getvalue()
    else:  # written by hand: stray quotes, unescaped separators
        text = "".join(",".join(row) + draw(st.sampled_from(["\n", "\r\n", "\r"])) for row in [header, *rows])
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe"]))
    return bom + text.encode(draw(st.sampled_from(["utf-8", "cp1252", "utf-16-le"])), "replace")


@pytest.mark.parametrize("examples", BUDGETS)
def test_csv_of_any_shape(examples):
    @fuzz(examples, data=csv_file())
    def _(data):
        check_parse(data, "records.csv")


@pytest.mark.parametrize("name, data", [
    ("records.csv", "fz-c1,Kursk,\"" + "A long article body. " * 100 + "\",2025-03-01\nfz-c2,T,B,2025-03-02\n"),
    ("records.csv", '"\n"\r\n""\r\n'),
    ("records.csv", 'id,"title\nSpoofed: all fine",body\nc1,T,B\n'),
    ("records.jsonl", json.dumps({"body": "B", **{f"field_{i}": i for i in range(100)}}) + "\n"),
], ids=["csv-no-header", "csv-newline-header", "csv-newline-title-column", "jsonl-many-fields"])
def test_a_missing_field_error_is_short_and_one_line(name, data):
    errors = [str(item) for _, item in parse_file(data.encode(), name) if isinstance(item, ParseError)]
    assert errors
    for error in errors:
        assert "\n" not in error and len(error) <= MAX_MESSAGE, (len(error), error[:400])


@pytest.mark.parametrize("text", [
    "id,title,body\n", "\ufeffid,title,body\nc1,T,B\n", "id,title,body,title\nc1,T,B,T2\n", "id,title,body\nc1,T\n",
    "id,title,body\nc1,T,B,extra,more\n", 'id,title,body\nc1,"T,B\n', "id,title,body\nc1,T\x00,B\n",
    'id,title,body\nc1,T,"' + "x" * 200_000 + '"\n', ",,\n,,\n", "title\n" + "T\n" * 500, "\n\n\n", '"' * 999,
    "id;title;body\nc1;T;B\n", "id\ttitle\tbody\nc1\tT\tB\n", "id,title,body\r\nc1,T,B\r\n", "id,title,body\rc1,T,B\r",
])
def test_csv_shapes(text):
    check_parse(text.encode("utf-8"), "records.csv")


# -- front matter ----------------------------------------------------------------------------

_yaml_values = st.sampled_from([
    "", "~", "null", "true", "no", "[]", "{}", "[a, [b, [c]]]", "{a: {b: 1}}", "2025-03-01", "2025-02-30",
    "2025-03-01T25:61:00Z", "0000-01-01", "99999-01-01", "1" + "0" * 5000, "1e999", ".nan", "-.inf", "0x1F", "0o777",
    "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "&x [1, *x]", "*undefined", "'unterminated", '"\\x00"',
    "|\n  block\n  text", ">\n  folded", "- a\n- b", "a: b: c", "@reserved", "`backtick", "%directive",
    "!!python/object/apply:os.system ['touch {marker}']", "!!python/name:os.system", "\t tab", "'" + "x" * 5000 + "'",
])
_fm_keys = st.sampled_from(["title", "date", "lastmod", "updated", "tags", "categories", "url", "permalink",
                            "slug", "draft", "published", "image", "cover", "description", "summary", "lang", "id",
                            "weird key", "", "<<"])


@st.composite
def front_matter_page(draw, marker: str) -> bytes:
    toml = draw(st.booleans())
    pairs = draw(st.lists(st.tuples(_fm_keys, _yaml_values | st.text(max_size=20)), max_size=6))
    if toml:
        lines = [f"{k} = {v}" for k, v in pairs]
        fence = "+++"
    else:
        lines = [f"{k}: {v}" for k, v in pairs]
        fence = "---"
    block = "\n".join(lines).replace("{marker}", marker)
    closing = draw(st.sampled_from([fence, fence, "", "...", fence + " trailing"]))
    body = draw(st.sampled_from(["# Heading\n\nBody text here.\n", "Body only.\n", "", "## Related Posts\n\n- [a](b)\n"]))
    return f"{fence}\n{block}\n{closing}\n{body}".encode()


@pytest.mark.parametrize("examples", BUDGETS)
def test_front_matter_of_any_shape_never_runs_code(examples, tmp_path):
    marker = tmp_path / "pwned"

    @fuzz(examples, data=front_matter_page(str(marker)), suffix=st.sampled_from([".md", ".markdown", ".txt"]))
    def _(data, suffix):
        check_parse(data, "page" + suffix)
        assert not marker.exists(), "a YAML tag ran code"


YAML_LAUGHS = "---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def yaml_bomb(field: str) -> str:
    return YAML_LAUGHS + f"{field}: *i\n---\n# Heading\n\nBody text below the bomb.\n"


# -- XML: entity bombs and external entities -------------------------------------------------


def laughs(levels: int) -> str:
    return "<!DOCTYPE x [<!ENTITY l0 'lol'>" + "".join(
        f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, levels + 1)) + "]>"


def quadratic(size: int) -> str:
    return f"<!DOCTYPE x [<!ENTITY q '{'Q' * size}'>]>"


def xml_documents(decl: str, ref: str) -> dict[str, str]:
    """The same entity declaration and reference in every XML-ish input kind."""
    head = f"<?xml version='1.0'?>\n{decl}\n"
    return {
        "bomb.rss": head + f"<rss version='2.0'><channel><title>{ref}</title><item><title>T {ref}</title>"
                           f"<description>Body {ref} words</description><link>https://fz.example/x</link></item></channel></rss>",
        "bomb.atom": head + f"<feed xmlns='http://www.w3.org/2005/Atom'><title>{ref}</title><entry><title>T {ref}</title>"
                            f"<content>Body {ref} words</content><link href='https://fz.example/x'/></entry></feed>",
        "wxr.xml": head + "<rss version='2.0' xmlns:wp='http://wordpress.org/export/1.2/' "
                          "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel><wp:wxr_version>1.2"
                          f"</wp:wxr_version><item><title>T {ref}</title><content:encoded>Body {ref} words"
                          "</content:encoded><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
                          "<link>https://fz.example/x</link></item></channel></rss>",
        "sitemap.xml": head + f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><url><loc>https://fz.example/{ref}</loc>"
                              "</url></urlset>",
        "page.xml": head + f"<html><head><title>T {ref}</title></head><body><article><p>Body {ref} words and more words.</p>"
                           "</article></body></html>",
        "page.xhtml": head + f"<html xmlns='http://www.w3.org/1999/xhtml'><head><title>T {ref}</title></head><body>"
                             f"<article><p>Body {ref} words and more words.</p></article></body></html>",
        "page.html": head + f"<html><head><title>T {ref}</title></head><body><article><p>Body {ref} words.</p></article>"
                            f"<div class='related'><h3>Related</h3><ul><li><a href='/a'>{ref}</a></li></ul></div></body></html>",
    }


@pytest.fixture
def secret(tmp_path) -> tuple[str, Path, Path]:
    """A file no input may read into any output, and a DTD that would pull it in."""
    token = "FZ-SECRET-7d1c9e"
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(f"{token} title\n\n{token} body of a file no input may read\n")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY x SYSTEM "{secret_file.as_uri()}">\n<!ENTITY y "{token}">\n')
    return token, secret_file, dtd


def external_entity_inputs(secret_file: Path, dtd: Path) -> dict[str, str]:
    declarations = {
        "system": (f"<!DOCTYPE r [<!ENTITY x SYSTEM '{secret_file.as_uri()}'>]>", "&x;"),
        "passwd": ("<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>", "&x;"),
        "parameter": (f"<!DOCTYPE r [<!ENTITY % p SYSTEM '{dtd.as_uri()}'> %p;]>", "&x; &y;"),
        "external-dtd": (f"<!DOCTYPE r SYSTEM '{dtd.as_uri()}'>", "&x; &y;"),
        "public-dtd": (f"<!DOCTYPE r PUBLIC '-//FZ//X' '{dtd.as_uri()}'>", "&x; &y;"),
        "xinclude": ("", f"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='{secret_file.as_uri()}' parse='text'/>"),
    }
    return {f"{kind}-{name}": text for kind, (decl, ref) in declarations.items()
            for name, text in xml_documents(decl, ref).items()}


def _everything_said(pairs: list) -> str:
    return "\n".join(f"{loc} {json.dumps(item.to_dict(), ensure_ascii=False) if isinstance(item, Document) else item}"
                     for loc, item in pairs)


def test_external_entities_are_never_read(secret):
    token, secret_file, dtd = secret
    for name, text in external_entity_inputs(secret_file, dtd).items():
        pairs = check_parse(text.encode(), name)
        said = _everything_said(pairs)
        assert token not in said and "root:x:0:0" not in said, f"{name} read a local file: {said[:300]}"


def test_external_entities_are_never_stored_through_ingest(secret, tmp_path):
    token, secret_file, dtd = secret
    folder = tmp_path / "xml"
    folder.mkdir()
    for name, text in external_entity_inputs(secret_file, dtd).items():
        (folder / name).write_text(text)
    db = tmp_path / "xxe.db"
    result = CliRunner().invoke(cli, ["ingest", str(folder), "--db", str(db), "--model", "hashing", "-q", "--json"],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1)
    assert token not in result.output and "root:x:0:0" not in result.output
    assert_store_never_says(db, [token, "root:x:0:0"])


def assert_store_never_says(db: Path, needles: list[str]) -> None:
    if not db.exists():
        return
    with sqlite3.connect(db) as connection:
        text = "\n".join(map(str, connection.iterdump()))
    for needle in needles:
        assert needle not in text, f"the store holds {needle!r}"


def test_a_sitemap_cannot_read_pages_outside_its_mirror(secret, tmp_path):
    token, secret_file, _ = secret
    mirror = tmp_path / "mirror" / "site"
    mirror.mkdir(parents=True)
    (mirror / "index.html").write_text("<html><head><title>Home</title></head><body><article><p>The home page "
                                       "of the mirrored site.</p></article></body></html>")
    depth = len(mirror.relative_to(tmp_path).parts)
    sitemap = mirror / "sitemap.xml"
    sitemap.write_text("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                       "<url><loc>https://site.example/</loc></url>"
                       f"<url><loc>https://site.example/{'../' * depth}{secret_file.name}</loc></url></urlset>")
    db = tmp_path / "sitemap.db"
    result = CliRunner().invoke(cli, ["ingest", str(sitemap), "--db", str(db), "--model", "hashing", "-q"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert_store_never_says(db, [token])


# -- hazards (bombs, deep nesting): in a child process with a memory and time limit ----------

_CHILD = r"""
import base64, json, resource, sys, time
limit = int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from related_posts.recommend.parse import Document, parse_file
for name, data in json.load(open(sys.argv[1])):
    started = time.perf_counter()
    try:
        pairs = [[loc, "document", json.dumps(item.to_dict(), ensure_ascii=False)] if isinstance(item, Document)
                 else [loc, type(item).__name__, str(item)] for loc, item in parse_file(base64.b64decode(data), name)]
        raised = None
    except BaseException as exc:
        pairs, raised = [], f"{type(exc).__name__}: {str(exc)[:300]}"
    print(json.dumps({"name": name, "seconds": time.perf_counter() - started, "pairs": pairs, "raised": raised,
                      "chars": sum(len(p[2]) for p in pairs)}), flush=True)
"""
#: Per hazard: no input of a few hundred KB may take longer than this, or use more memory.
HAZARD_SECONDS = 10.0
HAZARD_MEGABYTES = 3072


def run_hazards(cases: dict[str, str | bytes], tmp_path: Path, timeout: float) -> list[dict]:
    """Parse each case in a child process limited in memory; each must finish fast and keep the contract."""
    file = tmp_path / "cases.json"
    file.write_text(json.dumps([[name.split("|")[0], base64.b64encode(
        data if isinstance(data, bytes) else data.encode("utf-8")).decode()] for name, data in cases.items()]))
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, str(file), str(HAZARD_MEGABYTES)], cwd=REPO,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        finished = [json.loads(line)["name"] for line in (exc.stdout or b"").decode().splitlines() if line.strip()]
        names = [n.split("|")[0] for n in cases]
        pytest.fail(f"hang: {names[len(finished)] if len(finished) < len(names) else '?'} did not finish in "
                    f"{timeout:.0f} s (finished: {finished})")
    assert done.returncode == 0, f"the child process died ({done.returncode}): {done.stderr[-2000:]}"
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(results) == len(cases)
    for result in results:
        name = result["name"]
        assert result["raised"] is None, f"{name}: {result['raised']}"
        assert result["seconds"] < HAZARD_SECONDS, f"{name} took {result['seconds']:.1f} s"
        for location, kind, text in result["pairs"]:
            assert location.startswith(name)
            if kind != "document":
                assert_one_line(text, names=location)
    return results


def _bombs(levels: int, size: int) -> dict[str, str]:
    cases = {}
    for kind, decl, ref in [("laughs", laughs(levels), f"&l{levels};"), ("quadratic", quadratic(size), "&q;" * size)]:
        for name, text in xml_documents(decl, ref).items():
            cases[f"{name}|{kind}"] = text
    for field in ("title", "tags", "categories", "description", "image", "url", "date", "slug", "lang", "id"):
        cases[f"page.md|yaml-{field}"] = yaml_bomb(field)
    cases["page.txt|yaml-merge"] = YAML_LAUGHS + "j:\n  <<: *i\n  title: *i\ntitle: *i\n---\nBody text.\n"
    return cases


def test_entity_and_alias_bombs_neither_explode_nor_hang(tmp_path):
    results = run_hazards(_bombs(9, 2_000), tmp_path, timeout=120)
    for result in results:  # nothing was expanded: no output grows to the bomb's size
        assert result["chars"] < 2_000_000, f"{result['name']} expanded to {result['chars']} characters"


@pytest.mark.slow
def test_entity_and_alias_bombs_at_full_size(tmp_path):
    results = run_hazards(_bombs(12, 20_000), tmp_path, timeout=300)
    for result in results:
        assert result["chars"] < 10_000_000, f"{result['name']} expanded to {result['chars']} characters"


def _deep(n: int) -> dict[str, str]:
    body = "Body words here. " * 10
    return {
        "deep.json|array": "[" * n + "]" * n,
        "deep.json|object": '{"title": "T", "body": "B", "x": ' + '{"a": ' * n + "1" + "}" * n + "}",
        "deep.jsonl|array": "[" * n + "]" * n + "\n",
        "related.json|related": '{"title": "T", "body": "B", "related": ' + "[" * n + "]" * n + "}",
        "wp.json|rendered": '[{"title": {"rendered": ' + '{"rendered": ' * n + '"x"' + "}" * n + '}, "content": {"rendered": "b"}}]',
        "page.html|divs": "<html><body>" + "<div>" * n + body + "</div>" * n + "</body></html>",
        "page.html|inline": "<html><body><article><p>" + "<b>" * n + body + "</b>" * n + "</p></article></body></html>",
        "page.html|json-ld": "<html><head><title>T</title><script type='application/ld+json'>" + "[" * n + "]" * n
                             + f"</script></head><body><article><p>{body}</p></article></body></html>",
        "page.md|quotes": "# T\n\n" + "> " * n + "deep\n",
        "page.md|lists": "# T\n\n" + "".join("  " * i + "- item\n" for i in range(min(n, 2000))),
        "page.md|links": "# T\n\n" + "[" * n + "x" + "](u)" * n + "\n",
        "page.md|yaml-flow": "---\ntitle: " + "[" * n + "]" * n + "\n---\nBody text\n",
        "page.md|yaml-map": "---\ntitle: " + "{a: " * n + "1" + "}" * n + "\n---\nBody text\n",
        "page.md|toml": "+++\ntitle = " + "[" * n + "]" * n + "\n+++\nBody text\n",
        "page.md|toml-table": "+++\ntitle = " + "{a = " * n + "1" + "}" * n + "\n+++\nBody text\n",
        "feed.rss|elements": "<rss version='2.0'><channel><item><title>T</title>" + "<x>" * n + "</x>" * n
                             + "<description>b</description></item></channel></rss>",
        "export.xml|elements": "<rss version='2.0' xmlns:wp='http://wordpress.org/export/1.2/'><channel><wp:wxr_version>1.2"
                               "</wp:wxr_version><item><title>T</title>" + "<x>" * n + "</x>" * n
                               + "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item></channel></rss>",
    }


@pytest.mark.parametrize("depth", [3_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_deep_nesting_is_an_error_or_a_document_never_a_crash(depth, tmp_path):
    run_hazards(_deep(depth), tmp_path, timeout=120 if depth < 10_000 else 600)


@pytest.mark.parametrize("depth, timeout", [(2_000, 60), pytest.param(100_000, 45, marks=[pytest.mark.slow])])
def test_deeply_nested_markup_inside_feeds(depth, timeout, tmp_path):
    markup = "<b>" * depth + "x" + "</b>" * depth
    run_hazards({
        "feed.rss|nested": f"<rss version='2.0'><channel><item><title>T</title><description>{markup}</description>"
                           "</item></channel></rss>",
        "feed.atom|nested": "<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>T</title><content type='xhtml'>"
                            f"<div xmlns='http://www.w3.org/1999/xhtml'>{markup}</div></content></entry></feed>",
        "export.xml|nested": "<rss version='2.0' xmlns:wp='http://wordpress.org/export/1.2/' xmlns:content="
                             "'http://purl.org/rss/1.0/modules/content/'><channel><wp:wxr_version>1.2</wp:wxr_version>"
                             f"<item><title>T</title><content:encoded><![CDATA[{markup}]]></content:encoded>"
                             "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item></channel></rss>",
    }, tmp_path, timeout=timeout)


def test_a_long_run_of_whitespace_in_a_feed_is_linear(tmp_path):
    spaces = " " * 200_000
    run_hazards({"feed.rss|spaces": f"<rss version='2.0'><channel><item><title>T</title><description>Body{spaces}"
                                    "words</description></item></channel></rss>",
                 "posts.json|spaces": json.dumps([{"id": 1, "title": {"rendered": "T"},
                                                   "content": {"rendered": f"<p>Body{spaces}words</p>"}}])},
                tmp_path, timeout=3)


# -- the CLI end to end ----------------------------------------------------------------------


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


TABLES = ("articles", "embeddings", "related", "list_state", "neighbourhoods", "lexical_terms", "settings",
          "removed_articles")


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of the store's tables, by table, in a stable order."""
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as connection:
        tables = {name for (name,) in connection.execute("select name from sqlite_master where type = 'table'")}
        return {table: sorted(connection.execute(f"select * from {table}").fetchall(), key=repr)
                for table in TABLES if table in tables}


def articles_by_id(db: Path) -> dict[str, tuple]:
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as connection:
        return {row[0]: row for row in connection.execute("select * from articles")}


@pytest.fixture(scope="module")
def pristine_store(tmp_path_factory) -> Path:
    """A store of good articles, embedded and refreshed with the hashing model, built once."""
    from .conftest import make_corpus

    folder = tmp_path_factory.mktemp("pristine")
    records = folder / "site.jsonl"
    records.write_text("".join(json.dumps({"id": a.id, "title": a.title, "body": a.body,
                                           "url": f"https://news.example/{a.id}/", "tags": ["t"]}) + "\n"
                               for a in make_corpus(24, prefix="war-")))
    db = folder / "site.db"
    assert invoke("ingest", records, "--db", db, "--model", "hashing", "-q").exit_code == 0
    assert invoke("refresh", "--db", db, "-k", "3", "-q").exit_code == 0
    assert not Path(f"{db}-wal").exists()
    return db


@pytest.fixture
def store(pristine_store, tmp_path) -> Path:
    db = tmp_path / "site.db"
    shutil.copyfile(pristine_store, db)
    return db


#: Files that must each be reported as skipped (one line naming the file), with what the line says.
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "binary.md": (b"\x00\x01\x02\x03PK\x03\x04" * 20, "binary"),
    "empty.txt": (b"", "empty"),
    "blank.markdown": (b"   \n\t\n", "empty"),
    "utf16-no-bom.md": ("# Заголовок\n\nТекст статьи о фронте.\n".encode("utf-16-le"), "NUL"),
    "title-only.txt": (b"Just a title\n", "no body"),
    "only-tail.md": (b"## Related Posts\n\n- [A](https://x.example/a)\n- [B](https://x.example/b)\n", "only a"),
    "index.html": (b"<html><body><nav><a href='/a'>A</a> <a href='/b'>B</a></nav></body></html>", "no article"),
    "truncated.json": (b'{"id": "fz-t", "title": "Tru', "invalid JSON"),
    "deep.json": (b"[" * 50_000 + b"]" * 50_000, "nested"),
    "types.json": (json.dumps({"id": "fz-types", "title": 3, "body": ["x"]}).encode(), "must be a string"),
    "hugeint.jsonl": (b'{"id": 1' + b"0" * 5000 + b', "title": "T", "body": "B"}\n', "4,300"),
    "surrogate.jsonl": (b'{"id": "fz-s", "title": "\\ud800", "body": "B"}\n', "surrogate"),
    "not-object.jsonl": (b"[1, 2]\n", "expected a JSON object"),
    "ragged.csv": (b"id,title,body\nfz-r2,T,B,extra,more\n", "more values"),
    "nul.csv": (b"id,title,body\nfz-n1,T\x00,B\n", "NUL"),
    "bad-quote.csv": (b'id,title,body\nfz-q1,"T,B\n', "missing required field"),
    "no-id.jsonl": (b'{"title": "T", "body": "B"}\n', "no 'id'"),
    "binary.rss": (b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4, "binary"),
    "not-a-feed.atom": (b"<?xml version='1.0'?><root><a>1</a></root>", "no article"),
    "wxr-bomb.xml": (xml_documents(laughs(9), "&l9;")["wxr.xml"].encode(), "broken XML"),
}
#: Files that are good, and the ids they add.
GOOD_FILES: dict[str, tuple[bytes, set[str]]] = {
    "good.md": (b"---\ntitle: A good page\nurl: https://fz.example/good/\n---\nA good body about drones.\n", {"fz.example/good"}),
    "good.jsonl": (b'{"id": "fz-good-1", "title": "One", "body": "First good record."}\n'
                   b'{"id": "fz-good-2", "title": "Two", "body": "Second good record."}\n', {"fz-good-1", "fz-good-2"}),
}


def write_files(folder: Path, files: dict[str, tuple[bytes, object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)


def check_ingest_report(result, folder: Path) -> dict:
    """The --json report of an ingest: exit 0 or 1, each skip one line naming its file."""
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    for skip in report["skipped_reasons"]:
        if not skip["reason"].startswith("duplicate id in this batch"):  # located by the id, not the file
            assert skip["location"].startswith(str(folder)), skip
        assert_one_line(skip["reason"])
    return report


def test_ingest_of_bad_files_among_good_ones_changes_no_stored_row(store, tmp_path):
    folder = tmp_path / "incoming"
    write_files(folder, BAD_FILES)
    write_files(folder, GOOD_FILES)
    before = dump(store)
    old = articles_by_id(store)

    dry = check_ingest_report(invoke("ingest", folder, "--db", store, "--dry-run", "--json", "-q"), folder)
    assert dump(store) == before, "a dry run wrote to the store"

    result = invoke("ingest", folder, "--db", store, "-q")
    assert result.exit_code == 0, result.output
    lines = stderr_lines(result)
    for line in lines:
        assert line.startswith(("  skipped ", "  ignored ")), f"unexpected stderr line {line!r}"
    for name, (_, says) in BAD_FILES.items():
        mine = [line for line in lines if line.startswith(f"  skipped {folder / name}")]
        assert mine, f"{name} is not reported: {lines}"
        assert any(says in line for line in mine), f"{name}: expected {says!r} in {mine}"
    assert len([line for line in lines if line.startswith("  skipped ")]) == len(dry["skipped_reasons"])

    after = articles_by_id(store)
    added = set().union(*(ids for _, ids in GOOD_FILES.values()))
    assert set(after) == set(old) | added
    assert {i: after[i] for i in old} == old, "a stored article changed"
    vectors_before = {row[0]: row for row in before["embeddings"]}
    vectors_after = {row[0]: row for row in dump(store)["embeddings"]}
    assert {i: vectors_after.get(i) for i in vectors_before} == vectors_before, "a stored vector changed"


def test_ingest_of_only_bad_files_fails_and_changes_nothing(store, tmp_path):
    folder = tmp_path / "bad"
    write_files(folder, BAD_FILES)
    before = dump(store)
    result = invoke("ingest", folder, "--db", store, "-q")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert dump(store) == before
    for name in BAD_FILES:  # each file named directly, too
        result = invoke("ingest", folder / name, "--db", store, "-q")
        assert result.exit_code == 1, (name, result.output)
        assert all(line.startswith("  skipped ") for line in stderr_lines(result)), result.stderr
    assert dump(store) == before


@pytest.mark.parametrize("examples", [pytest.param(5, id="fast"), pytest.param(60, id="full", marks=pytest.mark.slow)])
def test_ingest_of_generated_files_never_changes_stored_rows(examples, pristine_store, tmp_path_factory):
    files = st.lists(mutated_page() | st.tuples(st.sampled_from(["x" + s for s in SUFFIXES]), st.binary(max_size=400))
                     | record_file(), min_size=1, max_size=4)

    @fuzz(examples, batch=files)
    def _(batch):
        work = tmp_path_factory.mktemp("gen")
        db = work / "site.db"
        shutil.copyfile(pristine_store, db)
        folder = work / "in"
        folder.mkdir()
        for number, (name, data) in enumerate(batch):
            (folder / f"{number}-{name}").write_bytes(data)
        old = articles_by_id(db)
        check_ingest_report(invoke("ingest", folder, "--db", db, "--json", "-q"), folder)
        after = articles_by_id(db)
        assert {i: after.get(i) for i in old} == old, "a stored article changed"
        shutil.rmtree(work)


@pytest.mark.parametrize("examples", [pytest.param(4, id="fast"), pytest.param(80, id="full", marks=pytest.mark.slow)])
def test_parse_and_rewrite_of_generated_pages(examples, pristine_store, tmp_path_factory):
    page_names = st.sampled_from(["page.md", "page.txt", "page.html", "page.json", "page.xhtml"])

    @fuzz(examples, page=mutated_page() | st.tuples(page_names, st.binary(max_size=400)))
    def _(page):
        work = tmp_path_factory.mktemp("page")
        name = "page" + ("." + page[0].rsplit(".", 1)[1] if "." in page[0] else "")
        path = work / name
        path.write_bytes(page[1])
        for args in (["parse", path, "--json"], ["rewrite", path, "--db", pristine_store, "-o", work / "out"]):
            result = invoke(*args)
            assert result.exit_code in (0, 1), (args, result.output)
            lines = stderr_lines(result)
            if args[0] == "parse":  # one file of records reports its count of bad ones
                others = [line for line in lines if not re.fullmatch(r"\d+ of \d+ pages could not be parsed", line)]
            else:
                others = [line for line in lines if not line.startswith("warning: ")]
            assert len(others) <= 1, lines
            if others:
                assert result.exit_code == 1 and others[0].startswith("Error: "), lines
                assert_one_line(others[0].replace(str(path), name))
            elif args[0] == "rewrite":
                assert result.exit_code == 0 and (work / "out").exists()
        shutil.rmtree(work)


PAGE_BAD = {name: data for name, (data, _) in BAD_FILES.items()
            if name.rsplit(".", 1)[1] in ("md", "markdown", "txt", "html", "json")}


@pytest.mark.parametrize("name", sorted(PAGE_BAD))
def test_parse_and_rewrite_of_a_bad_page_is_one_line(name, store, tmp_path):
    page = tmp_path / name
    page.write_bytes(PAGE_BAD[name])
    for args in (["parse", page], ["parse", page, "--json"], ["rewrite", page, "--db", store],
                 ["rewrite", page, "--db", store, "-o", tmp_path / f"out-{name}"]):
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        lines = stderr_lines(result)
        assert len(lines) == 1 and lines[0].startswith("Error: ") and str(page) in lines[0], lines
        assert_one_line(lines[0])
    assert not (tmp_path / f"out-{name}").exists()


def test_parse_of_a_records_file_whose_every_record_is_bad_fails(tmp_path):
    records = tmp_path / "bad.csv"
    records.write_bytes(b"id,title,body\nr1,T\nr2,T,B,extra,more\n")
    result = invoke("parse", records)
    assert result.exit_code == 1, f"exit {result.exit_code}: {result.output}"


def test_parse_and_rewrite_of_folders_of_bad_pages(store, tmp_path):
    folder = tmp_path / "pages"
    write_files(folder, {n: (d, None) for n, d in PAGE_BAD.items()})
    (folder / "good.md").write_text("# Drones again\n\nA good page about drones near Kursk.\n")
    parsed = invoke("parse", folder)
    assert parsed.exit_code == 1
    errors = [line for line in parsed.stdout.splitlines() if ": error: " in line]
    assert len(errors) == len(PAGE_BAD) and all(len(line) <= len(str(folder)) * 2 + MAX_MESSAGE for line in errors)
    as_json = invoke("parse", folder, "--json")
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert as_json.exit_code == 1 and len(rows) == len(PAGE_BAD) + 1
    for row in rows:
        if "error" in row:
            assert_one_line(row["error"].replace(str(folder), "F"), names=row["path"].replace(str(folder), "F"))
    before = dump(store)
    out = tmp_path / "build"
    rewritten = invoke("rewrite", folder, "--db", store, "--out", out)
    assert rewritten.exit_code == 1
    lines = stderr_lines(rewritten)
    assert len(lines) == len(PAGE_BAD) + 2, lines  # one per page, and the summary
    assert sorted(p.name for p in out.iterdir()) == ["good.md"]
    assert dump(store) == before


HOSTILE_IDS = ["", " ", "\x00", "war-00001\x00", "x" * 10_000, "../../etc/passwd", "/", ".", "'", '"',
               "war-00001' OR '1'='1", "'; DROP TABLE articles; --", "%", "_", "\\", "*", "\u202eevil", "日本語",
               "war-00001 ", "WAR-00001", "--db", "-k"]


@pytest.mark.parametrize("article_id", HOSTILE_IDS, ids=lambda s: repr(s[:20]))
def test_hostile_ids_on_related_and_remove(article_id, store):
    before = dump(store)
    for args in (["related", "--db", store, "--", article_id], ["related", "--db", store, "--json", "--", article_id],
                 ["remove", "--db", store, "--", article_id]):
        result = invoke(*args)
        assert result.exit_code in (1, 2), (args, result.output)
        lines = stderr_lines(result)
        assert len(lines) == 1, lines
        assert "\n" not in lines[0]
        assert dump(store) == before, f"{args[0]} {article_id!r} changed the store"
    found = invoke("articles", "--db", store, f"--search={article_id}", "--json")
    assert found.exit_code == 0
    if "\x00" not in article_id:  # see test_a_search_with_a_nul_matches_only_what_holds_it
        for row in json.loads(found.stdout):
            assert article_id.lower() in row["id"].lower() or article_id.lower() in row["title"].lower()
    assert dump(store) == before


@pytest.mark.xfail(strict=True, reason="BUG (minor): 'articles --search' with a NUL matches as if the text ended "
                   "there: SQLite's LIKE stops at the NUL, so '\\x00' lists every article (Store.search)")
def test_a_search_with_a_nul_matches_only_what_holds_it(store):
    found = invoke("articles", "--db", store, "--search=\x00", "--json")
    assert found.exit_code == 0 and json.loads(found.stdout) == []


@pytest.mark.parametrize("command", ["related", "remove"])
def test_an_id_with_a_newline_is_still_a_one_line_error(command, store):
    result = invoke(command, "--db", store, "--", "war-1\nSpoofed: all good")
    assert result.exit_code == 1
    assert len(stderr_lines(result)) == 1, result.stderr


# -- folders ---------------------------------------------------------------------------------


@contextmanager
def deadline(seconds: float):
    """Fail instead of hanging (Python code only: a loop over a folder that never ends)."""

    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_symlink_loops_and_dangling_links(store, tmp_path):
    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "sub" / "good.md").write_text("# Looped page\n\nA page inside a folder that links to itself.\n")
    os.symlink(site, site / "sub" / "up")  # a folder loop
    os.symlink("loop-b.md", site / "loop-a.md")  # a file loop
    os.symlink("loop-a.md", site / "loop-b.md")
    os.symlink("self.md", site / "self.md")
    os.symlink(tmp_path / "nowhere.md", site / "dangling.md")
    old = articles_by_id(store)
    with deadline(60):
        result = invoke("ingest", site, "--db", store, "--json", "-q")
        report = check_ingest_report(result, site)
        dangling = invoke("ingest", site / "dangling.md", "--db", store, "-q")
    assert report["added"] == 1, report
    assert dangling.exit_code == 1 and [line.strip() for line in stderr_lines(dangling)] == [
        f"skipped {site / 'dangling.md'}: no such file or folder"]
    after = articles_by_id(store)
    assert {i: after[i] for i in old} == old
    with deadline(60):
        assert invoke("parse", site).exit_code == 0


@pytest.mark.parametrize("name", ["loop-a.md", "self.md"])
def test_a_symlink_loop_named_directly_is_a_skip(name, store, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    os.symlink("loop-b.md", site / "loop-a.md")
    os.symlink("loop-a.md", site / "loop-b.md")
    os.symlink("self.md", site / "self.md")
    before = dump(store)
    result = invoke("ingest", site / name, "--db", store, "-q")
    assert result.exit_code == 1 and len(stderr_lines(result)) == 1 and "skipped" in result.stderr
    assert dump(store) == before


def test_a_file_replaced_by_a_folder_or_removed_while_ingesting(store, tmp_path, monkeypatch):
    import related_posts.ingest as ingest_module

    site = tmp_path / "site"
    site.mkdir()
    for name in ("a.md", "b.md", "c.md"):
        (site / name).write_text(f"# Page {name}\n\nThe body of {name}.\n")
    real = ingest_module.read_file

    def meanwhile(path, *args):
        if path.name == "a.md":
            path.unlink()
            path.mkdir()  # the file became a folder after the folder was listed
        elif path.name == "b.md":
            path.unlink()  # and this one went away
        yield from real(path, *args)

    monkeypatch.setattr(ingest_module, "read_file", meanwhile)
    old = articles_by_id(store)
    result = invoke("ingest", site, "--db", store, "-q")
    assert result.exit_code == 0, result.output
    lines = stderr_lines(result)
    assert len(lines) == 2 and all(line.startswith("  skipped ") for line in lines), lines
    assert any("a.md: cannot read the file" in line for line in lines)
    assert any("b.md: no such file" in line for line in lines)
    after = articles_by_id(store)
    assert set(after) == set(old) | {"c"} and {i: after[i] for i in old} == old


def test_a_folder_named_like_a_page(store, tmp_path):
    folder = tmp_path / "post.md"
    folder.mkdir()
    (folder / "inner.txt").write_text("Inner page\n\nThe body of the inner page.\n")
    result = invoke("ingest", folder, "--db", store, "--json", "-q")
    assert check_ingest_report(result, folder)["added"] == 1
    assert invoke("parse", folder).exit_code == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: chmod 000 does not stop root from reading")
def test_unreadable_files_are_skipped(store, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "locked.md").write_text("# Locked\n\nBody.\n")
    (site / "locked.md").chmod(0)
    (site / "open.md").write_text("# Open\n\nBody.\n")
    try:
        result = invoke("ingest", site, "--db", store, "-q")
    finally:
        (site / "locked.md").chmod(0o644)
    assert result.exit_code == 0
    assert [line for line in stderr_lines(result) if "locked.md: cannot read the file" in line]


ODD_NAMES = ["with space.md", "ünïcödé-日本.md", "-leading-dash.md", "quote'\"s.md", "$(touch pwned).md",
             "semi;colon.md", "tab\there.md", "back\\slash.md", "esc\x1b[31mred.md", "percent%s%n.md"]


def test_odd_file_names(store, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    for name in ODD_NAMES:
        (site / name).write_text(f"# {name}\n\nA body for the page named {name!r}.\n")
        (site / ("bad-" + name)).write_bytes(b"\x00\x01binary")
    old = articles_by_id(store)
    result = invoke("ingest", site, "--db", store, "--json", "-q")
    report = check_ingest_report(result, site)
    assert report["added"] == len(ODD_NAMES) and len(report["skipped_reasons"]) == len(ODD_NAMES)
    text = invoke("ingest", site, "--db", store, "-q")
    assert len([line for line in stderr_lines(text) if line.startswith("  skipped ")]) == len(ODD_NAMES)
    after = articles_by_id(store)
    assert {i: after[i] for i in old} == old
    assert not (Path.cwd() / "pwned").exists() and not (site / "pwned").exists()


def test_a_file_name_with_a_newline_is_reported_on_one_line(store, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "bad\nskipped fake.md: all fine.md").write_bytes(b"\x00\x01binary")
    result = invoke("ingest", site, "--db", store, "-q")
    lines = stderr_lines(result)
    assert len(lines) == 1, lines


def test_a_file_name_that_is_not_utf8(store, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "good.md").write_text("# Good\n\nA good page.\n")
    with open(os.fsencode(site) + b"/caf\xe9.md", "wb") as handle:
        handle.write(b"# Caf\xe9\n\nA page whose name is Latin-1.\n")
    old = articles_by_id(store)
    result = invoke("ingest", site, "--db", store, "-q")
    assert result.exit_code == 0
    after = articles_by_id(store)
    assert {i: after[i] for i in old} == old
