"""Labelled corpora for the evaluation harness.

Three kinds of input, all turned into one :class:`Dataset`:

- the built-in corpora in ``../shared/data`` (Reuters-21578 ModApte test split, BBC News),
  read straight from their raw files as their PROVENANCE.md describes;
- any corpus in the generic JSON Lines format, one article a line::

      {"id": str, "title": str, "text": str, "labels": [str],
       "published": "ISO-8601", "lang": str, "url": str}      (the last three optional)

- optional TREC qrels (``query_id 0 doc_id relevance``) that override label overlap, and an
  optional judged-pairs CSV with the header ``id1,id2,score`` (higher = more similar).

Nothing here copies corpus text anywhere: loaders read the files where they are.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from ..article import Article
from . import files
from .errors import (
    DatasetNotFoundError,
    EvaluationError,
    MalformedCorpusError,
    MalformedInputError,
    MalformedPairsError,
    MalformedQrelsError,
    TagsFieldError,
    UnknownDatasetError,
)

DATA_ENV = "RELATED_POSTS_DATA"
REUTERS = "reuters"
BBC = "bbc"
#: Built-in dataset names, with the aliases people are likely to type.
#: The ModApte training split: a held-out corpus, never used to choose an option.
REUTERS_TRAIN = "reuters-train"
BUILTIN_NAMES = {REUTERS: REUTERS, "reuters21578": REUTERS, REUTERS_TRAIN: REUTERS_TRAIN,
                 BBC: BBC, "bbc-news": BBC}


@dataclass(frozen=True)
class LabelledArticle:
    """An article of an evaluation corpus and its labels (two articles sharing a label are related)."""

    id: str
    title: str
    body: str
    labels: tuple[str, ...] = ()
    published: str | None = None
    lang: str | None = None
    url: str | None = None
    #: The site's own categories or tags, which the recommender sees as ``Article.labels``
    #: (``--field labels=KEY``); the relevance ``labels`` never reach it.
    tags: tuple[str, ...] = ()

    def to_article(self, source: str | None = None) -> Article:
        """The article as the recommender stores it: relevance labels are the harness's
        business only, the site's tags are its labels."""
        return Article(
            id=self.id,
            title=self.title,
            body=self.body,
            url=self.url,
            published=self.published,
            source=source,
            lang=self.lang,
            labels=self.tags,
        )

    @property
    def text(self) -> str:
        """What every method reads: title, newline, body (the text the recommender embeds)."""
        return self.to_article().text


@dataclass(frozen=True)
class JudgedPair:
    """A human similarity judgement of two articles (higher score = more similar)."""

    id1: str
    id2: str
    score: float


@dataclass
class Dataset:
    """A labelled corpus ready for evaluation.

    ``qrels`` (``{query_id: {doc_id: relevance}}``), when given, replaces label overlap as
    the relevance of every query it names. ``dropped`` counts what the loader left out and
    why, so that nothing is skipped silently.
    """

    name: str
    articles: list[LabelledArticle]
    source: str
    qrels: dict[str, dict[str, float]] | None = None
    pairs: list[JudgedPair] | None = None
    dropped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.articles)

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.articles]


# -- locating the built-in corpora ---------------------------------------------------------


def default_data_dir() -> Path | None:
    """The folder holding the built-in corpora.

    ``$RELATED_POSTS_DATA`` first; otherwise the first ``shared/data`` folder found beside
    this checkout or the working directory (the project keeps its corpora in ``../shared``,
    outside the repository, because their text may not be redistributed).
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    starts = [Path(__file__).resolve(), Path.cwd().resolve()]
    for start in starts:
        for parent in [start, *start.parents]:
            candidate = parent / "shared" / "data"
            if files.is_folder(candidate):
                return candidate
    return None


def _builtin_folder(data_dir: Path | None, sub: str, label: str) -> Path:
    base = data_dir if data_dir is not None else default_data_dir()
    if base is None:
        raise DatasetNotFoundError(
            f"{label} needs the shared data folder, and none was found: pass --data-dir DIR "
            f"(the folder holding reuters21578/ and bbc-news/) or set {DATA_ENV}"
        )
    folder = Path(base) / sub
    if not files.is_folder(folder):
        raise DatasetNotFoundError(
            f"{label} not found: {folder} does not exist. Pass --data-dir DIR (the folder "
            f"holding reuters21578/ and bbc-news/) or set {DATA_ENV}"
        )
    return folder


# -- Reuters-21578 -------------------------------------------------------------------------

_REUTERS_DOC = re.compile(r"<REUTERS([^>]*)>(.*?)</REUTERS>", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # keeps \t and \n


def _element(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
    return match.group(1) if match else None


def _clean_sgml(text: str) -> str:
    """Entities unescaped (``&lt;``, ``&#3;``), control characters dropped, ends stripped."""
    return _CONTROL.sub("", html.unescape(text)).strip()


def _reuters_date(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        # e.g. "19-OCT-1987 15:37:23.43"; a few dates in the distribution are malformed.
        return datetime.strptime(raw.strip().split(".")[0], "%d-%b-%Y %H:%M:%S").isoformat()
    except ValueError:
        return None


def load_reuters(data_dir: Path | None = None, split: str = "TEST") -> Dataset:
    """Reuters-21578, ModApte test split: 2,728 articles once exact duplicates are removed
    (``split="TRAIN"``: the training split, 6,971 articles, named ``reuters-train``).

    Kept: ``LEWISSPLIT`` equal to ``split`` and ``TOPICS="YES"``, at least one topic, a ``<BODY>``.
    Labels are the topics. Duplicates are bodies with the same MD5 once stripped (the
    first, in file order, is kept). Files are read as Latin-1, which every byte decodes in.
    """
    folder = _builtin_folder(data_dir, "reuters21578", "Reuters-21578") / "raw"
    sgml_files = files.list_files(folder, "reut2-*.sgm")
    if not sgml_files:
        raise DatasetNotFoundError(f"Reuters-21578: no reut2-*.sgm files in {folder}")
    other_split = f"not ModApte {split.lower()}"
    dropped = {other_split: 0, "no topic": 0, "no body": 0, "duplicate body": 0}
    seen: set[str] = set()
    articles: list[LabelledArticle] = []
    for path in sgml_files:
        for attrs, inner in _REUTERS_DOC.findall(files.read_bytes(path).decode("latin-1")):
            attr = dict(_ATTR.findall(attrs))
            if attr.get("LEWISSPLIT") != split or attr.get("TOPICS") != "YES":
                dropped[other_split] += 1
                continue
            topics = re.findall(r"<D>(.*?)</D>", _element(inner, "TOPICS") or "")
            if not topics:
                dropped["no topic"] += 1
                continue
            raw_body = _element(inner, "BODY")
            if raw_body is None:
                dropped["no body"] += 1
                continue
            body = _clean_sgml(raw_body)
            digest = hashlib.md5(body.encode("utf-8")).hexdigest()
            if digest in seen:
                dropped["duplicate body"] += 1
                continue
            seen.add(digest)
            articles.append(
                LabelledArticle(
                    id=attr["NEWID"],
                    title=_clean_sgml(_element(inner, "TITLE") or ""),
                    body=body,
                    labels=tuple(dict.fromkeys(_clean_sgml(t) for t in topics)),
                    published=_reuters_date(_element(inner, "DATE")),
                    lang="en",
                )
            )
    return Dataset(name=REUTERS if split == "TEST" else REUTERS_TRAIN, articles=articles,
                   source=str(folder), dropped=dropped)


# -- BBC News --------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    data = files.read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # sport/199.txt carries one Latin-1 byte (0xA3, a pound sign) in an otherwise
        # UTF-8 corpus; Latin-1 reads it as the author meant.
        return data.decode("latin-1")


def load_bbc(data_dir: Path | None = None) -> Dataset:
    """BBC News (Greene & Cunningham): 2,092 articles once exact duplicates are removed.

    First line is the title, the rest the body; the label is the folder (business,
    entertainment, politics, sport, tech). Duplicates are bodies with the same MD5 once
    stripped (first kept, in folder and file-name order). Ids are ``folder/NNN``.
    """
    folder = _builtin_folder(data_dir, "bbc-news", "BBC News") / "raw" / "bbc"
    text_files = files.list_files(folder, "*/*.txt")
    if not text_files:
        raise DatasetNotFoundError(f"BBC News: no */NNN.txt files in {folder}")
    dropped = {"duplicate body": 0}
    seen: set[str] = set()
    articles: list[LabelledArticle] = []
    for path in text_files:
        title, _, rest = _read_text(path).partition("\n")
        body = rest.strip()
        digest = hashlib.md5(body.encode("utf-8")).hexdigest()
        if digest in seen:
            dropped["duplicate body"] += 1
            continue
        seen.add(digest)
        label = path.parent.name
        articles.append(
            LabelledArticle(
                id=f"{label}/{path.stem}",
                title=title.strip(),
                body=body,
                labels=(label,),
                lang="en",
            )
        )
    return Dataset(name=BBC, articles=articles, source=str(folder), dropped=dropped)


# -- the generic formats ---------------------------------------------------------------------

_CORPUS_HINT = (
    'each line must be a JSON object {"id": str, "title": str, "text": str, "labels": [str]} '
    'with optional "published", "lang", "url" strings'
)


def _existing(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not files.is_file(path):
        raise DatasetNotFoundError(f"{what} file not found: {path}")
    return path


def _lines(path: Path, error: type[MalformedInputError]) -> Iterator[tuple[int, str]]:
    with files.open_text(path) as handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):
                yield number, line
        except UnicodeDecodeError as exc:
            raise error(str(path), number + 1, f"not UTF-8 text ({exc.reason}) at or after this line") from None


def _optional_str(record: dict, key: str, path: Path, number: int) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedCorpusError(
            str(path), number, f'"{key}" must be a string, got {type(value).__name__}'
        )
    return value


def _label_list(record: dict, key: str, path: Path, number: int, one_allowed: bool = False
                ) -> tuple[str, ...]:
    """The list of strings under ``key`` (absent: none), duplicates dropped; with
    ``one_allowed`` a single plain value counts as a list of one."""
    value = record.get(key) or []
    if one_allowed and isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(x, (str, int)) and not isinstance(x, bool) for x in value
    ):
        raise MalformedCorpusError(
            str(path), number, f'"{key}" must be a list of strings, e.g. ["sport"], got {value!r}'
        )
    return tuple(dict.fromkeys(str(x) for x in value))


def parse_corpus_record(record: object, path: Path, number: int,
                        tags_field: str | None = None) -> LabelledArticle:
    """One JSON Lines record as an article; ``path`` and ``number`` only name it in errors.
    ``tags_field`` names the field (a string or a list of strings) that gives the site's
    own tags (``LabelledArticle.tags``)."""
    if not isinstance(record, dict):
        raise MalformedCorpusError(str(path), number, f"got a JSON {type(record).__name__}; {_CORPUS_HINT}")
    missing = [key for key in ("id", "text") if key not in record]
    if missing:
        raise MalformedCorpusError(
            str(path), number, f"missing {', '.join(repr(m) for m in missing)}; {_CORPUS_HINT}"
        )
    raw_id = record["id"]
    # Integer ids are common in exported corpora and unambiguous as strings.
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or str(raw_id).strip() == "":
        raise MalformedCorpusError(str(path), number, f'"id" must be a non-empty string, got {raw_id!r}')
    text = record["text"]
    if not isinstance(text, str):
        raise MalformedCorpusError(str(path), number, f'"text" must be a string, got {type(text).__name__}')
    title = record.get("title") or ""  # null or absent: an untitled article
    if not isinstance(title, str):
        raise MalformedCorpusError(str(path), number, f'"title" must be a string, got {type(title).__name__}')
    labels = _label_list(record, "labels", path, number)
    tags = _label_list(record, tags_field, path, number, one_allowed=True) if tags_field else ()
    return LabelledArticle(
        id=str(raw_id),
        title=title.strip(),
        body=text.strip(),
        labels=labels,
        published=_optional_str(record, "published", path, number),
        lang=_optional_str(record, "lang", path, number),
        url=_optional_str(record, "url", path, number),
        tags=tags,
    )


def load_jsonl(path: str | Path, name: str | None = None, tags_field: str | None = None
               ) -> Dataset:
    """A corpus in the generic JSON Lines format. Blank lines are allowed; ids must be unique.
    ``tags_field``: the record field holding the site's own tags (see
    :func:`parse_corpus_record`)."""
    path = _existing(path, "corpus")
    if tags_field == "labels":
        raise MalformedCorpusError(str(path), None, 'the site\'s tags cannot be the relevance "labels" '
                                   "(the ranking would see the answers); name another field")
    articles: list[LabelledArticle] = []
    first_line: dict[str, int] = {}
    for number, line in _lines(path, MalformedCorpusError):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MalformedCorpusError(
                str(path), number, f"not valid JSON ({exc.msg} at column {exc.colno}); {_CORPUS_HINT}"
            ) from None
        article = parse_corpus_record(record, path, number, tags_field)
        if article.id in first_line:
            raise MalformedCorpusError(
                str(path), number,
                f"duplicate id '{article.id}' (first on line {first_line[article.id]}); ids must be unique",
            )
        first_line[article.id] = number
        articles.append(article)
    if not articles:
        raise MalformedCorpusError(str(path), None, f"no articles; {_CORPUS_HINT}")
    return Dataset(name=name or path.stem, articles=articles, source=str(path))


def load_qrels(path: str | Path) -> dict[str, dict[str, float]]:
    """TREC qrels, ``query_id iteration doc_id relevance`` a line, as ``{query: {doc: rel}}``.

    Relevance may be graded (0, 1, 2, ...); 0 or below means judged not relevant.
    """
    path = _existing(path, "qrels")
    qrels: dict[str, dict[str, float]] = {}
    for number, line in _lines(path, MalformedQrelsError):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 4:
            raise MalformedQrelsError(
                str(path), number,
                f"expected 4 fields 'query_id iteration doc_id relevance' (e.g. 'q1 0 d7 2'), got {len(fields)}",
            )
        query, _, doc, grade = fields
        try:
            relevance = float(grade)
        except ValueError:
            raise MalformedQrelsError(
                str(path), number, f"relevance must be a number (e.g. 0, 1, 2), got '{grade}'"
            ) from None
        qrels.setdefault(query, {})[doc] = relevance
    if not qrels:
        raise MalformedQrelsError(str(path), None, "no judgements; expected lines 'query_id 0 doc_id relevance'")
    return qrels


PAIRS_HEADER = ("id1", "id2", "score")


def load_pairs(path: str | Path) -> list[JudgedPair]:
    """Judged pairs from a CSV whose header names ``id1``, ``id2`` and ``score`` (other columns are ignored)."""
    path = _existing(path, "pairs")
    with files.open_text(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        columns = [c.strip().lower() for c in header] if header else []
        if not set(PAIRS_HEADER) <= set(columns):
            raise MalformedPairsError(
                str(path), 1,
                f"the header must name the columns id1,id2,score, got {','.join(header or []) or 'an empty file'}",
            )
        where = [columns.index(c) for c in PAIRS_HEADER]
        pairs: list[JudgedPair] = []
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(columns):
                raise MalformedPairsError(
                    str(path), number, f"expected {len(columns)} columns like the header, got {len(row)}"
                )
            id1, id2, raw = (row[i].strip() for i in where)
            try:
                score = float(raw)
            except ValueError:
                raise MalformedPairsError(
                    str(path), number, f"score must be a number (higher = more similar), got '{raw}'"
                ) from None
            pairs.append(JudgedPair(id1, id2, score))
    if not pairs:
        raise MalformedPairsError(str(path), None, "no pairs after the header id1,id2,score")
    return pairs


# -- one entry point -------------------------------------------------------------------------


def load_dataset(
    name_or_path: str | Path,
    *,
    data_dir: str | Path | None = None,
    qrels: str | Path | None = None,
    pairs: str | Path | None = None,
    tags_field: str | None = None,
) -> Dataset:
    """A built-in corpus by name (``reuters``, ``reuters-train``, ``bbc``) or a JSON Lines file, with optional
    qrels and judged pairs attached; ``tags_field`` names the JSON Lines field that plays
    the site's tags (built-in corpora have none).

    Qrels and pairs naming ids that are not in the corpus are dropped and counted in
    ``Dataset.dropped``.
    """
    value = str(name_or_path)
    builtin = BUILTIN_NAMES.get(value.lower())
    directory = Path(data_dir) if data_dir is not None else None
    if tags_field is not None and not files.is_file(Path(value)):
        raise TagsFieldError(f"--field labels={tags_field} reads a field of a JSON Lines corpus; "
                             f"'{value}' is not a file (built-in corpora have no tags)")
    if builtin in (REUTERS, REUTERS_TRAIN) and not files.is_file(Path(value)):
        dataset = load_reuters(directory, "TEST" if builtin == REUTERS else "TRAIN")
    elif builtin == BBC and not files.is_file(Path(value)):
        dataset = load_bbc(directory)
    elif files.is_file(Path(value)):
        dataset = load_jsonl(value, tags_field=tags_field)
    elif Path(value).suffix or os.sep in value or "/" in value:
        raise DatasetNotFoundError(f"corpus file not found: {value}")
    else:
        raise UnknownDatasetError(value, sorted(set(BUILTIN_NAMES.values())))
    if qrels is not None:
        attach_qrels(dataset, load_qrels(qrels))
    if pairs is not None:
        attach_pairs(dataset, load_pairs(pairs))
    return dataset


def attach_qrels(dataset: Dataset, qrels: dict[str, dict[str, float]]) -> None:
    """Keep the judgements whose query and document are both in the corpus; count the rest."""
    known = set(dataset.ids)
    kept: dict[str, dict[str, float]] = {}
    unknown = 0
    for query, docs in qrels.items():
        for doc, relevance in docs.items():
            if query in known and doc in known and doc != query:
                kept.setdefault(query, {})[doc] = relevance
            else:
                unknown += 1
    dataset.qrels = kept
    if unknown:
        dataset.dropped["qrels naming articles not in the corpus"] = unknown


def attach_pairs(dataset: Dataset, pairs: Iterable[JudgedPair]) -> None:
    """Keep the pairs whose two articles are in the corpus; count the rest."""
    known = set(dataset.ids)
    pairs = list(pairs)
    kept = [p for p in pairs if p.id1 in known and p.id2 in known and p.id1 != p.id2]
    dataset.pairs = kept
    if len(kept) < len(pairs):
        dataset.dropped["pairs naming articles not in the corpus"] = len(pairs) - len(kept)


def sample(dataset: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """A reproducible sample of ``limit`` articles (the same ``seed`` gives the same sample).

    The corpus order is kept; qrels and pairs are cut down to the sampled articles.
    """
    if limit is None or limit >= len(dataset.articles):
        return dataset
    if limit < 2:
        raise EvaluationError(f"--limit must be at least 2 (a related list needs another article), got {limit}")
    chosen = sorted(random.Random(seed).sample(range(len(dataset.articles)), limit))
    articles = [dataset.articles[i] for i in chosen]
    smaller = replace(
        dataset,
        name=f"{dataset.name} (sample of {limit}, seed {seed})",
        articles=articles,
        qrels=None,
        pairs=None,
        dropped={**dataset.dropped, "left out of the sample": len(dataset.articles) - limit},
    )
    if dataset.qrels is not None:
        attach_qrels(smaller, dataset.qrels)
    if dataset.pairs is not None:
        attach_pairs(smaller, dataset.pairs)
    return smaller
