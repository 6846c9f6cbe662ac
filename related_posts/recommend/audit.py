"""Audit the related-posts tail a page already has: is it about the article?

Pure functions over values: similarity scores in, verdicts out; :func:`audit_site` gathers
the scores of a whole site, given what the store read and a function that embeds.

How a tail is judged:

1. Each tail item gets a score: the cosine similarity of the article to the stored
   article the item links to (matched by URL or title), or, when no stored article
   matches, to the item's own title and teaser, embedded.
2. The site's **relevance floor** says what "no better than chance" means on this site:
   the ``quantile`` (default 0.9) of similarities between random pairs of its articles.
   An item below the floor is no closer to the article than nine in ten random articles
   of the same site. Short title-and-teaser texts score lower than whole articles, so
   they get their own floor, calibrated the same way on title-and-teaser texts of
   stored articles.
3. The verdict: **related** when fewer than a third of the items fall below the floor,
   **unrelated** when more than two thirds do, **mixed** in between.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

import numpy as np

from ..article import Article, TailItem, content_hash
from ..errors import RelatedPostsError
from .render import make_teaser

if TYPE_CHECKING:
    from ..store import VectorTable
    from .parse import Document

VERDICTS = ("related", "mixed", "unrelated")
STORED, TEASER = "stored", "teaser"


class AuditError(RelatedPostsError):
    """An audit that cannot be computed (too few embedded articles, a bad option)."""


@dataclass(frozen=True)
class AuditOptions:
    """How tails are judged. See the module docstring.

    ``quantile``: of random-pair similarities, the relevance floor; ``related_below`` /
    ``unrelated_below``: shares of items below the floor that bound the verdicts;
    ``sample``: articles used to calibrate the floor (pairs among them); ``seed``: for
    the sample; ``floor``: a fixed floor for every item instead of a calibrated one.
    """

    quantile: float = 0.9
    related_below: float = 1 / 3
    unrelated_below: float = 2 / 3
    sample: int = 400
    seed: int = 0
    floor: float | None = None

    def __post_init__(self) -> None:
        if not 0.5 <= self.quantile < 1:
            raise AuditError(f"quantile must be in [0.5, 1), got {self.quantile}")
        if not 0 <= self.related_below <= self.unrelated_below <= 1:
            raise AuditError(
                f"need 0 <= related_below ({self.related_below}) <= unrelated_below "
                f"({self.unrelated_below}) <= 1"
            )
        if self.sample < 2:
            raise AuditError(f"sample must be at least 2 articles, got {self.sample}")


@dataclass(frozen=True)
class Floor:
    """The relevance floor: for items scored against a stored article (``stored``) and
    for items embedded from their title and teaser (``teaser``)."""

    stored: float
    teaser: float
    quantile: float | None = None  # None: a fixed floor, not calibrated
    articles: int = 0  # how many articles calibrated it

    def for_basis(self, basis: str) -> float:
        return self.stored if basis == STORED else self.teaser

    def to_dict(self) -> dict[str, Any]:
        return {"stored": round(self.stored, 4), "teaser": round(self.teaser, 4),
                "quantile": self.quantile, "articles": self.articles}


@dataclass(frozen=True)
class ItemAudit:
    """One tail item, its score against the article and whether it is below the floor."""

    title: str
    url: str | None
    score: float
    basis: str  # "stored" (matched to a stored article) or "teaser" (embedded title + teaser)
    floor: float
    matched_id: str | None = None

    @property
    def below_floor(self) -> bool:
        return self.score < self.floor

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "url": self.url, "score": round(self.score, 4),
                "basis": self.basis, "matched_id": self.matched_id,
                "below_floor": self.below_floor}


@dataclass(frozen=True)
class ArticleAudit:
    """The audit of one article's tail."""

    id: str
    title: str
    items: tuple[ItemAudit, ...]
    verdict: str

    @property
    def mean(self) -> float:
        """Mean relevance (cosine) of the tail's items."""
        return float(np.mean([i.score for i in self.items])) if self.items else 0.0

    @property
    def below(self) -> int:
        """How many items fall below the relevance floor."""
        return sum(i.below_floor for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "items": len(self.items),
                "mean_relevance": round(self.mean, 4), "below_floor": self.below,
                "verdict": self.verdict, "tail": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class AuditReport:
    """Every audited article, the floor used and a summary over the site."""

    floor: Floor
    articles: tuple[ArticleAudit, ...]
    without_tail: int = 0
    skipped: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        items = [i for a in self.articles for i in a.items]
        counts = {v: sum(a.verdict == v for a in self.articles) for v in VERDICTS}
        return {
            "articles_audited": len(self.articles),
            "articles_without_tail": self.without_tail,
            "skipped": len(self.skipped),
            "items": len(items),
            "items_below_floor": sum(i.below_floor for i in items),
            "mean_relevance": round(float(np.mean([i.score for i in items])), 4) if items else None,
            "verdicts": counts,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"floor": self.floor.to_dict(), "summary": self.summary(),
                "articles": [a.to_dict() for a in self.articles],
                "skipped": list(self.skipped)}

    def to_text(self) -> str:
        """The report for people: one line per article, then the summary."""
        lines = []
        width = max((len(a.id) for a in self.articles), default=2)
        for article in self.articles:
            lines.append(
                f"{article.verdict:9}  {article.below}/{len(article.items)} below floor  "
                f"mean {article.mean:5.2f}  {article.id:{width}}  {article.title}"
            )
        s = self.summary()
        floor = self.floor
        how = (f"the {floor.quantile:.2f} quantile of similarities between {floor.articles} "
               "of the site's articles") if floor.quantile is not None else "fixed"
        lines += [
            "",
            f"relevance floor: {floor.stored:.3f} for items matched to stored articles, "
            f"{floor.teaser:.3f} for items embedded from title and teaser ({how})",
            f"{s['articles_audited']} articles with a tail audited ({s['articles_without_tail']} "
            f"without a tail, {s['skipped']} skipped): {s['verdicts']['related']} related, "
            f"{s['verdicts']['mixed']} mixed, {s['verdicts']['unrelated']} unrelated",
            f"{s['items']} tail items, {s['items_below_floor']} below the floor"
            + (f", mean relevance {s['mean_relevance']:.3f}" if s["mean_relevance"] is not None
               else ""),
        ]
        lines += [f"skipped {reason}" for reason in self.skipped]
        return "\n".join(lines)


# -- the floor -------------------------------------------------------------------------------


def _off_diagonal_quantile(similarities: np.ndarray, quantile: float) -> float:
    mask = ~np.eye(similarities.shape[0], similarities.shape[1], dtype=bool)
    return float(np.quantile(similarities[mask], quantile))


def calibrate_floor(articles: np.ndarray, teasers: np.ndarray | None = None, *,
                    quantile: float = 0.9) -> Floor:
    """The site's relevance floor from its vectors.

    ``articles``: (n, d) unit vectors of a sample of the site's articles (title and body);
    ``teasers``: (n, d) vectors of the same articles' titles and teasers, row for row (or
    None: the teaser floor is the stored one). The floor is the ``quantile`` of
    similarities between different articles of the sample.
    """
    n = articles.shape[0]
    if n < 2:
        raise AuditError(f"the relevance floor needs at least 2 embedded articles, got {n}; "
                         "ingest more articles, or pass a fixed floor")
    if teasers is not None and teasers.shape != articles.shape:
        raise AuditError(f"teaser vectors {teasers.shape} do not match article vectors "
                         f"{articles.shape}")
    stored = _off_diagonal_quantile(articles @ articles.T, quantile)
    teaser = _off_diagonal_quantile(articles @ teasers.T, quantile) if teasers is not None \
        else stored
    return Floor(stored=stored, teaser=teaser, quantile=quantile, articles=n)


def sample_rows(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Up to ``size`` row indices of ``n``, drawn without replacement, sorted."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


# -- matching tail items to stored articles --------------------------------------------------


def url_key(url: str | None) -> str | None:
    """A URL without scheme, ``www.``, query, fragment and trailing slash; a relative URL
    keeps only its path, so ``/a/b`` matches ``https://site.example/a/b/``."""
    parts = _split(url)
    return _key_of(parts) if parts is not None else None


def _key_of(parts: SplitResult) -> str | None:
    path = parts.path.rstrip("/")
    if not parts.netloc:
        return path.lower() or None
    return parts.netloc.lower().removeprefix("www.") + path.lower()


def _split(url: object) -> SplitResult | None:
    """``url`` split into its parts; None when empty or when it does not parse (an unbalanced
    "[", a host that fails NFKC), so that such a URL matches nothing."""
    if not isinstance(url, str) or not url.strip():
        return None
    try:
        return urlsplit(url.strip())
    except ValueError:
        return None


def title_key(title: str | None) -> str | None:
    """A title in lower case, without punctuation and extra spaces."""
    key = " ".join(re.sub(r"[^\w\s]", " ", (title or "").lower()).split())
    return key or None


@dataclass(frozen=True)
class ArticleIndex:
    """Stored articles by URL, by URL path and by title, for matching tail items."""

    by_url: Mapping[str, str]
    by_path: Mapping[str, str]
    by_title: Mapping[str, str]

    @classmethod
    def build(cls, articles: Iterable[tuple[str, str, str | None]]) -> ArticleIndex:
        """From ``(id, title, url)`` triples. A title shared by two articles matches neither."""
        by_url: dict[str, str] = {}
        by_path: dict[str, str] = {}
        titles: dict[str, str | None] = {}
        for article_id, title, url in articles:
            parts = _split(url)  # once per article: the key and the path come from it
            key = _key_of(parts) if parts is not None else None
            if parts is not None and key:
                by_url.setdefault(key, article_id)
                path = parts.path.rstrip("/").lower()
                if path:
                    by_path.setdefault(path, article_id)
            tkey = title_key(title)
            if tkey:
                titles[tkey] = None if tkey in titles and titles[tkey] != article_id else article_id
        return cls(by_url, by_path, {k: v for k, v in titles.items() if v is not None})

    def match(self, item: TailItem) -> str | None:
        """The id of the stored article ``item`` links to, or None."""
        key = url_key(item.url)
        if key:
            if key in self.by_url:
                return self.by_url[key]
            if key.startswith("/") and key in self.by_path:
                return self.by_path[key]
        tkey = title_key(item.title)
        return self.by_title.get(tkey) if tkey else None


# -- verdicts --------------------------------------------------------------------------------


def verdict(below: int, total: int, options: AuditOptions | None = None) -> str:
    """``related``, ``mixed`` or ``unrelated`` from how many of ``total`` items are below
    the floor."""
    options = options or AuditOptions()
    if total <= 0:
        raise AuditError("a verdict needs at least one tail item")
    share = below / total
    if share > options.unrelated_below:
        return "unrelated"
    if share < options.related_below:
        return "related"
    return "mixed"


def audit_article(article_id: str, title: str,
                  scored: Sequence[tuple[TailItem, float, str, str | None]], floor: Floor,
                  options: AuditOptions | None = None) -> ArticleAudit:
    """One article's audit from ``(item, score, basis, matched id)`` tuples."""
    items = tuple(
        ItemAudit(title=item.title, url=item.url, score=float(score), basis=basis,
                  floor=floor.for_basis(basis), matched_id=matched)
        for item, score, basis, matched in scored
    )
    return ArticleAudit(article_id, title, items,
                        verdict(sum(i.below_floor for i in items), len(items), options))


def audit_site(articles: Mapping[str, Article], table: VectorTable,
               encode: Callable[[Sequence[tuple[str, str]]], np.ndarray],
               find_by_hash: Callable[[str], str | None],
               pages: Iterable[tuple[str, Document | Exception]] | None,
               options: AuditOptions) -> AuditReport:
    """Audit the tails of a site's ``articles`` (by id, with their vectors in ``table``)
    or, with ``pages``, of the given ``(location, parsed page)`` pairs (an exception in
    place of a page is reported as skipped); see :meth:`Recommender.audit`.

    ``encode`` embeds ``(title, body)`` pairs as the store's vectors are made;
    ``find_by_hash`` gives the stored id of a content hash, if any.
    """
    row_of = {article_id: row for row, article_id in enumerate(table.ids)}
    index = ArticleIndex.build((a.id, a.title, a.url) for a in articles.values())
    if options.floor is not None:
        floor = Floor(options.floor, options.floor)
    else:
        rows = [r for r in sample_rows(len(table), options.sample, options.seed)
                if table.ids[r] in articles]
        teasers = encode([(articles[table.ids[r]].title,
                           make_teaser(articles[table.ids[r]].body)) for r in rows])
        floor = calibrate_floor(table.matrix[rows], teasers, quantile=options.quantile)

    # (name, title, body, tail, stored vector or None)
    subjects: list[tuple[str, str, str, tuple[TailItem, ...], np.ndarray | None]] = []
    skipped: list[str] = []
    without_tail = 0
    if pages is None:
        for article in articles.values():
            if not article.tail:
                without_tail += 1
                continue
            row = row_of.get(article.id)
            subjects.append((article.id, article.title, article.body, article.tail,
                             table.matrix[row] if row is not None else None))
    else:
        for location, page in pages:
            if isinstance(page, Exception):
                skipped.append(str(page) if str(page).startswith(location)
                               else f"{location}: {page}")
                continue
            if not page.tail:
                without_tail += 1
                continue
            stored = find_by_hash(content_hash(page.title, page.body))
            row = row_of.get(stored) if stored else None
            subjects.append((location, page.title, page.body, page.tail,
                             table.matrix[row] if row is not None else None))

    # Embed, in one batch, the pages without a stored vector and the unmatched items.
    texts: dict[tuple[str, str], int] = {}
    for _, title, body, tail, vector in subjects:
        if vector is None:
            texts.setdefault((title, body), len(texts))
        for item in tail:
            if row_of.get(index.match(item) or "") is None:
                texts.setdefault((item.title, item.teaser), len(texts))
    encoded = encode(list(texts)) if texts else np.zeros((0, table.matrix.shape[1]), np.float32)

    audits = []
    for name, title, body, tail, vector in subjects:
        if vector is None:
            vector = encoded[texts[title, body]]
        scored: list[tuple[TailItem, float, str, str | None]] = []
        for item in tail:
            matched = index.match(item)
            if matched is not None and matched in row_of:
                scored.append((item, float(table.matrix[row_of[matched]] @ vector),
                               STORED, matched))
            else:
                other = encoded[texts[item.title, item.teaser]]
                scored.append((item, float(other @ vector), TEASER, None))
        audits.append(audit_article(name, title, scored, floor, options))
    return AuditReport(floor, tuple(audits), without_tail, tuple(skipped))
