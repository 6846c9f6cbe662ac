"""The bundled demo: a small corpus written for this project and a content-farm page.

``corpus.jsonl`` uses the evaluation harness's generic format (id, title, text, labels,
published, url, lang), so the same file is also a tiny labelled corpus.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from ..article import Article, Skipped
from ..sources import read_file, site_of

CORPUS = "corpus.jsonl"
CONTENT_FARM_PAGE = "content-farm-page.txt"


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def corpus_path() -> str:
    """Filesystem path of the demo corpus (JSON Lines)."""
    return str(resources.files(__package__).joinpath(CORPUS))


def corpus_articles() -> Iterator[Article | Skipped]:
    """The demo corpus as articles."""
    path = Path(corpus_path())
    return read_file(path, site_of(path.parent))


def content_farm_page() -> str:
    """A page about the war in Ukraine served with an unrelated related-posts tail."""
    return _read(CONTENT_FARM_PAGE)
