"""The values that travel through the pipeline: articles, tail items and related links."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TailItem:
    """One link of a related-posts tail, as found on a page or as rendered."""

    title: str
    teaser: str = ""
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Article:
    """An article of a site: what the store keeps and the embedder reads.

    ``tail`` is the related-posts tail the article had when it was ingested (kept so that
    the original can be audited against the computed list). ``labels`` are the site's
    own categories or tags, which lists can exclude (never used as a similarity signal).
    """

    id: str
    title: str
    body: str
    url: str | None = None
    published: str | None = None
    source: str | None = None
    lang: str | None = None
    tail: tuple[TailItem, ...] = field(default_factory=tuple)
    labels: tuple[str, ...] = ()

    @property
    def metadata(self) -> tuple:
        """What ranking filters on besides the text: a change here changes lists but
        needs no new embedding."""
        return (self.url, self.published, self.source, self.lang, tuple(self.labels))

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.body)

    @property
    def text(self) -> str:
        """Title, newline, body as one text: what the lexical signal reads (the vector
        encodes title and body apart, see ``recommend.embed.article_vectors``)."""
        return embedding_text(self.title, self.body)


@dataclass(frozen=True)
class RelatedItem:
    """One entry of an article's related list.

    ``why`` holds the score's components when known (``dense`` and ``lexical`` cosine,
    the ranking ``score``, what re-ranking added as ``expanded``, and ``time``:
    ``background`` or ``follow-up``).
    """

    rank: int
    id: str
    title: str
    url: str | None
    score: float
    teaser: str = ""
    why: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_tail_item(self) -> TailItem:
        return TailItem(title=self.title, teaser=self.teaser, url=self.url)


def embedding_text(title: str, body: str) -> str:
    """Title, newline, body: an article as one text (see :attr:`Article.text`)."""
    return f"{title.strip()}\n{body.strip()}"


def content_hash(title: str, body: str) -> str:
    """SHA-256 of title, newline, body: equal hashes mean exact duplicates, a new hash means re-embed.

    Whitespace runs are collapsed first so that re-wrapping a paragraph is not a change.
    """
    normalised = " ".join(embedding_text(title, body).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
