from __future__ import annotations

import json
from pathlib import Path

import pytest

from related_posts import Article, Skipped
from related_posts.sources import FieldMap, read_sources, url_to_id


def _read(*paths, fields=None):
    items = list(read_sources(paths, fields))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Skipped)]


def test_folder_of_pages_recurses_with_stable_path_ids(tmp_path):
    (tmp_path / "2025").mkdir()
    (tmp_path / "2025" / "rain.md").write_text("# Rain returns\n\nThe valley got rain.\n")
    (tmp_path / "notes.txt").write_text("Notes title\n\nSome notes.\n")
    (tmp_path / ".hidden.txt").write_text("x\n\ny\n")
    articles, skipped = _read(tmp_path)
    assert sorted(a.id for a in articles) == ["2025/rain", "notes"]
    assert skipped == []
    rain = next(a for a in articles if a.id == "2025/rain")
    assert (rain.title, rain.body) == ("Rain returns", "The valley got rain.")


def test_records_in_jsonl_json_and_csv(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "j1", "title": "T", "text": "B", "url": "https://x.example/j1"}) + "\n")
    (tmp_path / "b.json").write_text(json.dumps({"articles": [{"url": "https://www.x.example/post/2/?utm=1", "title": "T2", "body": "B2"}]}))
    (tmp_path / "c.csv").write_text("id,title,body,published\nc1,T3,B3,2025-01-02\n")
    articles, skipped = _read(tmp_path)
    assert {a.id for a in articles} == {"j1", "x.example/post/2", "c1"}
    assert next(a for a in articles if a.id == "c1").published == "2025-01-02"
    assert skipped == []


def test_field_mapping(tmp_path):
    (tmp_path / "r.jsonl").write_text(json.dumps({"guid": "g", "headline": "H", "content": "C"}) + "\n")
    articles, _ = _read(tmp_path, fields=FieldMap.from_pairs(["id=guid", "title=headline", "body=content"]))
    assert [(a.id, a.title, a.body) for a in articles] == [("g", "H", "C")]


def test_bad_field_mapping_names_the_valid_names():
    with pytest.raises(ValueError, match="NAME one of body, description, id, image, labels, lang"):
        FieldMap.from_pairs(["summary=x"])


@pytest.mark.parametrize(
    "name, content, location, reason",
    [
        ("empty.txt", b"   \n", "empty.txt", "empty file"),
        ("bin.txt", b"\x00\x01\x02abc", "bin.txt", "binary data"),
        ("bad.jsonl", b'{"id": "ok", "title": "T", "body": "B"}\n{"id": broken\n', "bad.jsonl:2", "invalid JSON"),
        ("rows.csv", b"id,title,body\nr1,,B\n", "rows.csv:2", "missing required field 'title'"),
        ("noid.jsonl", b'{"title": "T", "body": "B"}\n', "noid.jsonl:1", "no 'id' or 'url' field"),
        ("nobody.csv", b"id,title\nr1,T\n", "nobody.csv:2", "missing required field 'body' or 'text'"),
        ("only-title.txt", b"Just a title\n", "only-title.txt", "no body text below the title"),
        ("image.png", b"\x89PNG", "image.png", "unsupported file type '.png'"),
        ("list.jsonl", b"[1, 2]\n", "list.jsonl:1", "expected a JSON object, got list"),
    ],
)
def test_bad_input_is_skipped_with_location_and_reason(tmp_path, name, content, location, reason):
    (tmp_path / name).write_bytes(content)
    _, skipped = _read(tmp_path / name)
    assert len(skipped) == 1
    assert skipped[0].location == str(tmp_path / location)
    assert reason in skipped[0].reason


def test_files_in_a_folder_that_are_not_articles_are_ignored_not_errors(tmp_path):
    (tmp_path / "hugo.toml").write_text('baseURL = "https://x.example/"\n')
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "post.md").write_text("# Post\n\nA body.\n")
    articles, skipped = _read(tmp_path)
    assert [a.id for a in articles] == ["post"] and skipped == []


def test_html_with_declared_charset_is_decoded(tmp_path):
    page = ("<html><head><meta charset='iso-8859-1'><title>Caf\u00e9 guide</title></head><body><article>"
            + "<p>The caf\u00e9 on the corner serves strong coffee and fresh bread every morning of the week.</p>" * 3
            + "</article></body></html>")
    (tmp_path / "p.html").write_bytes(page.encode("latin-1"))
    articles, skipped = _read(tmp_path)
    assert skipped == [] and articles[0].title == "Caf\u00e9 guide"
    assert "strong coffee" in articles[0].body


def test_missing_path_is_reported(tmp_path):
    _, skipped = _read(tmp_path / "nope.txt")
    assert skipped[0].reason == "no such file or folder"


@pytest.mark.parametrize(
    "url, expected",
    [("https://www.Site.example/a/b/", "site.example/a/b"), ("http://site.example/a?x=1#f", "site.example/a")],
)
def test_url_to_id(url, expected):
    assert url_to_id(url) == expected


def test_labels_come_from_a_list_or_a_comma_separated_field(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"id": "x", "title": "T", "body": "B", "labels": ["world", "Politics", "world"]})
        + "\n" + json.dumps({"id": "y", "title": "T", "body": "B", "labels": 7}) + "\n")
    (tmp_path / "b.csv").write_text('id,title,body,tags\nz,T,B,"sport; promo, "\n')
    items = list(read_sources([tmp_path / "a.jsonl"]))
    assert items[0].labels == ("world", "Politics")
    assert isinstance(items[1], Skipped)
    assert str(items[1]) == (f"{tmp_path / 'a.jsonl'}:2: field 'labels' must be a list of strings "
                             "or a comma-separated string, got int")
    [mapped] = read_sources([tmp_path / "b.csv"], fields=FieldMap.from_pairs(["labels=tags"]))
    assert mapped.labels == ("sport", "promo")


HOSTILE_JSON = {
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "huge-int.json": '{"id": "n", "title": "T", "body": "B", "views": ' + "9" * 5000 + "}",
    "surrogate.json": '{"id": "s", "title": "Bad \\ud800 title", "body": "Body text"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_unreadable_json_is_one_skip_and_the_batch_goes_on(tmp_path, name):
    bad = tmp_path / name
    bad.write_text(HOSTILE_JSON[name], encoding="utf-8")
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "ok", "title": "Fine", "body": "A body of text."}\n', encoding="utf-8")
    found = list(read_sources([bad, good]))
    skipped = [item for item in found if isinstance(item, Skipped)]
    assert [item.location for item in skipped] == [str(bad)]
    assert "\n" not in skipped[0].reason and len(skipped[0].reason) < 200
    assert [item.id for item in found if not isinstance(item, Skipped)] == ["ok"]


@pytest.mark.parametrize("record, field, kind", [
    ({"id": "a", "title": "T", "body": {"x": 1}}, "body", "an object"),
    ({"id": "a", "title": 12, "body": "B"}, "title", "a number"),
    ({"id": "a", "title": ["T"], "body": "B"}, "title", "a list"),
    ({"id": True, "title": "T", "body": "B"}, "id", "a boolean"),
    ({"id": "a", "title": "T", "body": "B", "url": 5}, "url", "a number"),
])
def test_fields_of_the_wrong_type_are_refused_by_name(tmp_path, record, field, kind):
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (skip,) = list(read_sources([path]))
    assert isinstance(skip, Skipped)
    assert f"field '{field}' must be a string" in skip.reason and f"got {kind}" in skip.reason


def test_numeric_ids_are_kept_and_odd_tail_fields_dropped(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"id": 7, "title": "T", "body": "B", "related": [{"title": "x", "url": 3}]}) + "\n")
    (article,) = list(read_sources([path]))
    assert article.id == "7" and article.tail[0].url is None


def test_ingest_reads_a_latin_1_page_as_parse_does(tmp_path):
    from related_posts.recommend.parse import parse_document

    data = "Caf\u00e9 prices\n\nThe caf\u00e9 raised its prices again this week.".encode("latin-1")
    (tmp_path / "latin.txt").write_bytes(data)
    (article,), skipped = _read(tmp_path)
    parsed = parse_document(data, filename="latin.txt")
    assert skipped == [] and (article.title, article.body) == (parsed.title, parsed.body) == (
        "Caf\u00e9 prices", "The caf\u00e9 raised its prices again this week.")


PAGES = Path(__file__).parent / "pages"


def _bad_encoding_pages(folder: Path) -> list[Path]:
    """Pages in the encodings publishers' files come in, declared wrongly or not at all."""
    russian = "Погода в горах\n\nВ горах снова идёт снег, и дороги к перевалу закрыты до утра."
    written = {
        "cp1251.txt": russian.encode("cp1251"),
        "koi8.md": ("# " + russian).encode("koi8_r"),
        "latin1-declared-utf8.html": ("<html><head><meta charset='utf-8'><title>Café</title></head><body><article><p>"
                                      + "Le café du coin sert un très bon thé à la menthe chaque matin. " * 4
                                      + "</p></article></body></html>").encode("latin-1"),
        "mixed.md": "# Crème brûlée\n\nA custard with a burnt top, ".encode() + "served cold in a ramekin, très bon.".encode("cp1252"),
    }
    for name, data in written.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in written]


def test_parse_and_ingest_agree_on_every_test_page(tmp_path):
    from related_posts.recommend.parse import SUFFIXES, Document, parse_file
    from related_posts.sources import read_file, site_of

    pages = [p for p in sorted(PAGES.rglob("*"))
             if p.suffix in SUFFIXES and not p.name.endswith(".expected.json")] + _bad_encoding_pages(tmp_path)
    assert len(pages) > 50
    for page in pages:
        parsed = list(parse_file(page.read_bytes(), str(page)))
        read = list(read_file(page, site_of(page.parent)))
        assert len(parsed) == len(read), page
        for (where, document), item in zip(parsed, read):
            if not isinstance(document, Document):
                assert isinstance(item, Skipped) and (item.location, item.reason) == (where, document.reason)
            elif not document.title or document.metadata.draft:
                assert isinstance(item, Skipped), page
            else:
                assert isinstance(item, Article), (page, item)
                assert (item.title, item.body, item.tail) == (document.title, document.body, document.tail)
                meta = document.metadata
                assert (item.published, item.labels, item.lang, item.description, item.modified) == (
                    meta.published, meta.labels, meta.lang, meta.description, meta.modified), page
