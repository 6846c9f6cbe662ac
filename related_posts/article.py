"""The values that travel through the pipeline: articles, their terms, tail items,
related links, skipped inputs, and the id of the vectors a store keeps.

This is the bottom layer: it imports nothing from the package, and every other layer
(store, recommend, sources, eval, cli) may import it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: How much of an article's separately encoded title is added to its body's vector. Measured
#: against encoding "title, newline, body" as one text (README, "What to embed"): +0.009
#: nDCG@5 alone on Reuters and +0.001 on BBC, +0.005 and +0.001 inside the default
#: ranking; 0.5 was chosen among 0.3-1 on half of the queries. Encoded as one text, the title is
#: a few tokens averaged in with a few hundred of body; encoded alone it counts as a summary
#: of its own, at half the body's weight. A new value changes every stored vector, so it is
#: part of the vector id (stores re-embed).
TITLE_WEIGHT = 0.5
#: The recipe of ``recommend.embed.article_vectors``, as stored after the model id (see
#: :func:`vector_model_id`); stores record it so that vectors of two recipes never mix.
VECTOR_RECIPE = f"body+{TITLE_WEIGHT:g}*title"


def vector_model_id(model_id: str) -> str:
    """The id the store keeps for vectors of ``model_id`` made by
    ``recommend.embed.article_vectors``: the model id, a space, and the recipe
    (:data:`VECTOR_RECIPE`)."""
    return f"{model_id} {VECTOR_RECIPE}"


def model_id_of(vector_id: str) -> str:
    """The model id inside a vector id (an id without this recipe's suffix is returned as is)."""
    return vector_id.removesuffix(f" {VECTOR_RECIPE}")


@dataclass(frozen=True)
class Skipped:
    """A source or record that was not stored, and why. ``draft`` marks a post that is
    not published (not an error: ingest counts drafts apart)."""

    location: str
    reason: str
    draft: bool = False

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(frozen=True)
class Terms:
    """One article's hashed terms and their unit-length weights (same order)."""

    hashes: np.ndarray  # int32, MurmurHash3 of each distinct term
    weights: np.ndarray  # float32, 1 + ln(count), scaled to unit length
    # int32 hashes of each run of three terms, one entry per occurrence
    shingles: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def __len__(self) -> int:
        return int(self.hashes.size)

    def to_blobs(self) -> tuple[bytes, bytes, bytes]:
        return (np.asarray(self.hashes, dtype="<i4").tobytes(),
                np.asarray(self.weights, dtype="<f4").tobytes(),
                np.asarray(self.shingles, dtype="<i4").tobytes())

    @classmethod
    def from_blobs(cls, hashes: bytes, weights: bytes, shingles: bytes = b"") -> Terms:
        h = np.frombuffer(hashes, dtype="<i4")
        w = np.frombuffer(weights, dtype="<f4")
        if h.size != w.size:
            raise ValueError(f"lexical terms blob holds {h.size} hashes but {w.size} weights")
        return cls(h, w, np.frombuffer(shingles, dtype="<i4"))


@dataclass(frozen=True)
class TailItem:
    """One link of a related-posts tail, as found on a page or as rendered."""

    title: str
    teaser: str = ""
    url: str | None = None
    image: str | None = None
    published: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Title, teaser and url, and image and published when known."""
        found = asdict(self)
        return {k: v for k, v in found.items() if v is not None or k not in ("image", "published")}


@dataclass(frozen=True)
class Article:
    """An article of a site: what the store keeps and the embedder reads.

    ``tail`` is the related-posts tail the article had when it was ingested (kept so that
    the original can be audited against the computed list). ``labels`` are the site's
    own categories or tags, which lists can exclude (never used as a similarity signal).
    ``image`` and ``description`` (the page's own summary, shown as the teaser when
    given) are for display; ``modified`` is when the page says it last changed.
    ``origin`` is the absolute path of the file it was read from: what ``ingest --sync``
    compares with the files that are there now.
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
    image: str | None = None
    description: str | None = None
    modified: str | None = None
    origin: str | None = None

    @property
    def metadata(self) -> tuple:
        """Everything stored besides the text: a change here needs no new embedding."""
        return (self.url, self.published, self.source, self.lang, tuple(self.labels), self.image,
                self.description, self.modified, self.origin)

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
    image: str | None = None
    published: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_tail_item(self) -> TailItem:
        return TailItem(title=self.title, teaser=self.teaser, url=self.url, image=self.image,
                        published=self.published)


def embedding_text(title: str, body: str) -> str:
    """Title, newline, body: an article as one text (see :attr:`Article.text`)."""
    return f"{title.strip()}\n{body.strip()}"


def content_hash(title: str, body: str) -> str:
    """SHA-256 of title, newline, body: equal hashes mean exact duplicates, a new hash means re-embed.

    Whitespace runs are collapsed first so that re-wrapping a paragraph is not a change.
    """
    normalised = " ".join(embedding_text(title, body).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
