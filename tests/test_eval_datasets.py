"""Dataset loaders: the built-in corpora's rules on small made-up files, the generic formats, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from related_posts.errors import RelatedPostsError
from related_posts.eval.datasets import (
    Dataset,
    LabelledArticle,
    load_bbc,
    load_dataset,
    load_jsonl,
    load_pairs,
    load_qrels,
    load_reuters,
    sample,
)
from related_posts.eval.errors import (
    DatasetNotFoundError,
    EvaluationError,
    MalformedCorpusError,
    MalformedPairsError,
    MalformedQrelsError,
    UnknownDatasetError,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _reuters_doc(newid: int, split: str = "TEST", topics_flag: str = "YES", topics: str = "<D>grain</D>",
                 body: str | None = "Wheat prices rose.\n Reuter\n&#3;", title: str = "WHEAT UP") -> str:
    body_xml = f"<BODY>{body}</BODY>" if body is not None else ""
    return (
        f'<REUTERS TOPICS="{topics_flag}" LEWISSPLIT="{split}" CGISPLIT="TRAINING-SET" OLDID="1" NEWID="{newid}">\n'
        f"<DATE>19-OCT-1987 15:37:23.43</DATE>\n<TOPICS>{topics}</TOPICS>\n"
        f"<TEXT>&#2;\n<TITLE>{title}</TITLE>\n{body_xml}</TEXT>\n</REUTERS>\n"
    )


@pytest.fixture
def reuters_dir(tmp_path: Path) -> Path:
    raw = tmp_path / "reuters21578" / "raw"
    raw.mkdir(parents=True)
    docs = [
        _reuters_doc(1, body="Corn &amp; wheat &lt;up&gt;.\x07\n Reuter\n&#3;", topics="<D>grain</D><D>corn</D>"),
        _reuters_doc(2, split="TRAIN"),  # not in the test split
        _reuters_doc(3, topics_flag="NO"),  # not ModApte
        _reuters_doc(4, topics=""),  # no topic
        _reuters_doc(5, body=None),  # no body
        _reuters_doc(6, body="Oil output fell.\n Reuter\n&#3;", topics="<D>crude</D>", title="OIL &amp; GAS"),
        _reuters_doc(7, body="  Oil output fell.\n Reuter\n&#3;  ", topics="<D>crude</D>"),  # same stripped body
    ]
    (raw / "reut2-000.sgm").write_text("<!DOCTYPE lewis SYSTEM \"lewis.dtd\">\n" + "".join(docs[:4]), encoding="latin-1")
    (raw / "reut2-001.sgm").write_text("".join(docs[4:]), encoding="latin-1")
    return tmp_path


def test_reuters_rules_on_made_up_files(reuters_dir: Path):
    dataset = load_reuters(reuters_dir)
    assert [a.id for a in dataset.articles] == ["1", "6"]
    first, second = dataset.articles
    assert first.labels == ("grain", "corn")
    assert first.body == "Corn & wheat <up>.\n Reuter"  # entities unescaped, \x07 and &#3; dropped
    assert second.title == "OIL & GAS"
    assert first.published == "1987-10-19T15:37:23"
    assert dataset.dropped == {"not ModApte test": 2, "no topic": 1, "no body": 1, "duplicate body": 1}


def test_the_reuters_training_split_is_a_built_in_held_out_corpus(reuters_dir: Path):
    train = load_dataset("reuters-train", data_dir=reuters_dir)
    assert (train.name, [a.id for a in train.articles]) == ("reuters-train", ["2"])
    assert train.dropped["not ModApte train"] == 6
    assert load_dataset("reuters", data_dir=reuters_dir).name == "reuters"


@pytest.fixture
def bbc_dir(tmp_path: Path) -> Path:
    root = tmp_path / "bbc-news" / "raw" / "bbc"
    (root / "business").mkdir(parents=True)
    (root / "sport").mkdir(parents=True)
    (root / "business" / "001.txt").write_text("Shares rise\n\nMarkets rallied today.\n", encoding="utf-8")
    (root / "business" / "002.txt").write_text("Another headline\n\nMarkets rallied today.", encoding="utf-8")
    (root / "sport" / "001.txt").write_bytes(b"Cup final\n\nTickets cost \xa340.\n")  # Latin-1 pound sign
    return tmp_path


def test_bbc_rules_on_made_up_files(bbc_dir: Path):
    dataset = load_bbc(bbc_dir)
    assert [(a.id, a.title, a.labels) for a in dataset.articles] == [
        ("business/001", "Shares rise", ("business",)),
        ("sport/001", "Cup final", ("sport",)),
    ]
    assert dataset.articles[1].body == "Tickets cost £40."
    assert dataset.dropped == {"duplicate body": 1}  # same body, other title: still a duplicate
    assert dataset.articles[0].text == "Shares rise\nMarkets rallied today."


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not beside this checkout")
@pytest.mark.parametrize("name,expected", [("reuters", 2728), ("bbc", 2092)])
def test_builtin_corpora_sizes(name, expected):
    dataset = load_dataset(name, data_dir=SHARED_DATA)
    assert len(dataset) == expected
    assert len(set(dataset.ids)) == expected
    assert all(a.labels and a.body for a in dataset.articles)


@pytest.mark.parametrize("loader,folder", [(load_reuters, "reuters21578"), (load_bbc, "bbc-news")])
def test_builtin_corpus_missing_names_the_folder_and_the_fix(tmp_path, loader, folder):
    with pytest.raises(DatasetNotFoundError) as info:
        loader(tmp_path)
    assert folder in str(info.value)
    assert "--data-dir" in str(info.value)


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_corpus(tmp_path):
    path = _write_lines(
        tmp_path / "corpus.jsonl",
        [
            json.dumps({"id": "a", "title": " Hello ", "text": "Body one.", "labels": ["x", "y", "x"]}),
            "",
            json.dumps({"id": 7, "title": "Seven", "text": "Body two.", "labels": ["x"], "published": "2024-01-02",
                        "lang": "en", "url": "https://example.org/7"}),
            json.dumps({"id": "c", "text": "No title, no labels."}),
        ],
    )
    dataset = load_jsonl(path)
    assert dataset.name == "corpus"
    assert dataset.ids == ["a", "7", "c"]
    assert dataset.articles[0] == LabelledArticle("a", "Hello", "Body one.", ("x", "y"))
    assert dataset.articles[1].url == "https://example.org/7"
    assert dataset.articles[2].labels == ()
    article = dataset.articles[1].to_article("corpus")
    assert (article.id, article.published, article.source, article.lang) == ("7", "2024-01-02", "corpus", "en")


@pytest.mark.parametrize(
    "line,message",
    [
        ("{not json", "not valid JSON"),
        ('["a", "list"]', "got a JSON list"),
        ('{"id": "a", "title": "t"}', "missing 'text'"),
        ('{"text": "t"}', "missing 'id'"),
        ('{"id": "", "text": "t"}', '"id" must be a non-empty string'),
        ('{"id": "a", "text": 3}', '"text" must be a string'),
        ('{"id": "a", "title": 5, "text": "t"}', '"title" must be a string'),
        ('{"id": "a", "text": "t", "labels": "sport"}', '"labels" must be a list of strings'),
        ('{"id": "a", "text": "t", "labels": [["nested"]]}', '"labels" must be a list of strings'),
        ('{"id": "a", "text": "t", "url": 1}', '"url" must be a string'),
    ],
)
def test_malformed_jsonl_line_names_file_line_and_format(tmp_path, line, message):
    path = _write_lines(tmp_path / "bad.jsonl", [json.dumps({"id": "ok", "text": "fine"}), line])
    with pytest.raises(MalformedCorpusError) as info:
        load_jsonl(path)
    text = str(info.value)
    assert text.startswith(f"{path}:2: ")
    assert message in text
    assert isinstance(info.value, RelatedPostsError)


def test_duplicate_ids_are_an_error_naming_both_lines(tmp_path):
    path = _write_lines(tmp_path / "dup.jsonl", [json.dumps({"id": "a", "text": "x"})] * 2)
    with pytest.raises(MalformedCorpusError, match=r"dup.jsonl:2: duplicate id 'a' \(first on line 1\)"):
        load_jsonl(path)


def test_empty_corpus_is_an_error(tmp_path):
    with pytest.raises(MalformedCorpusError, match="no articles"):
        load_jsonl(_write_lines(tmp_path / "empty.jsonl", [""]))


def test_qrels(tmp_path):
    path = _write_lines(tmp_path / "q.txt", ["# comment", "q1 0 d1 2", "q1 0 d2 0", "q2 Q0 d1 1.5", ""])
    assert load_qrels(path) == {"q1": {"d1": 2.0, "d2": 0.0}, "q2": {"d1": 1.5}}


@pytest.mark.parametrize(
    "line,message",
    [("q1 0 d1", "expected 4 fields"), ("q1 0 d1 2 extra", "expected 4 fields"), ("q1 0 d1 high", "must be a number")],
)
def test_malformed_qrels_line(tmp_path, line, message):
    path = _write_lines(tmp_path / "q.txt", ["q1 0 d0 1", line])
    with pytest.raises(MalformedQrelsError) as info:
        load_qrels(path)
    assert str(info.value).startswith(f"{path}:2: ")
    assert message in str(info.value)


def test_pairs(tmp_path):
    path = _write_lines(tmp_path / "p.csv", ["ID1, id2 ,score,note", "a,b,4.5,x", "", "b,c,0,y"])
    pairs = load_pairs(path)
    assert [(p.id1, p.id2, p.score) for p in pairs] == [("a", "b", 4.5), ("b", "c", 0.0)]


@pytest.mark.parametrize(
    "lines,line_no,message",
    [
        (["a,b,1"], 1, "header must name the columns id1,id2,score"),
        (["first,second,score", "a,b,1"], 1, "got first,second,score"),
        (["id1,id2,score", "a,b,lots"], 2, "score must be a number"),
        (["id1,id2,score", "a,b"], 2, "expected 3 columns"),
    ],
)
def test_malformed_pairs(tmp_path, lines, line_no, message):
    path = _write_lines(tmp_path / "p.csv", lines)
    with pytest.raises(MalformedPairsError) as info:
        load_pairs(path)
    assert str(info.value).startswith(f"{path}:{line_no}: ")
    assert message in str(info.value)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(UnknownDatasetError) as info:
        load_dataset("wikipedia")
    assert "'wikipedia'" in str(info.value)
    assert "bbc, reuters" in str(info.value)


@pytest.mark.parametrize("value", ["missing.jsonl", "some/folder/corpus"])
def test_missing_corpus_file(tmp_path, value):
    with pytest.raises(DatasetNotFoundError, match="corpus file not found"):
        load_dataset(str(tmp_path / value))


@pytest.mark.parametrize("option", ["qrels", "pairs"])
def test_missing_qrels_or_pairs_file(tmp_path, option):
    corpus = _write_lines(tmp_path / "c.jsonl", [json.dumps({"id": "a", "text": "x", "labels": ["l"]})])
    with pytest.raises(DatasetNotFoundError, match=f"{option} file not found"):
        load_dataset(corpus, **{option: tmp_path / "nope.txt"})


def test_qrels_and_pairs_outside_the_corpus_are_counted(tmp_path):
    corpus = _write_lines(tmp_path / "c.jsonl", [json.dumps({"id": i, "text": "x"}) for i in ("a", "b")])
    qrels = _write_lines(tmp_path / "q.txt", ["a 0 b 1", "a 0 zz 1", "zz 0 a 1"])
    pairs = _write_lines(tmp_path / "p.csv", ["id1,id2,score", "a,b,1", "a,zz,2"])
    dataset = load_dataset(corpus, qrels=qrels, pairs=pairs)
    assert dataset.qrels == {"a": {"b": 1.0}}
    assert [(p.id1, p.id2) for p in dataset.pairs] == [("a", "b")]
    assert dataset.dropped == {"qrels naming articles not in the corpus": 2, "pairs naming articles not in the corpus": 1}


def _dataset(n: int) -> Dataset:
    return Dataset("toy", [LabelledArticle(str(i), f"t{i}", "b", ("x",)) for i in range(n)], source="mem")


def test_sample_is_reproducible_and_keeps_order():
    one = sample(_dataset(50), 10, seed=4)
    assert one.ids == sample(_dataset(50), 10, seed=4).ids
    assert one.ids != sample(_dataset(50), 10, seed=5).ids
    assert [int(i) for i in one.ids] == sorted(int(i) for i in one.ids)
    assert one.dropped["left out of the sample"] == 40
    assert sample(_dataset(5), 10).ids == _dataset(5).ids
    assert sample(_dataset(5), None).ids == _dataset(5).ids


def test_sample_cuts_qrels_to_the_sample():
    dataset = _dataset(20)
    dataset.qrels = {str(i): {str(j): 1.0 for j in range(20) if j != i} for i in range(20)}
    small = sample(dataset, 4, seed=0)
    assert set(small.qrels) == set(small.ids)
    assert all(set(docs) <= set(small.ids) for docs in small.qrels.values())


def test_sample_needs_two_articles():
    with pytest.raises(EvaluationError, match="at least 2"):
        sample(_dataset(5), 1)
