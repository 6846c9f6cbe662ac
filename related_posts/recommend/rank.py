"""Turn scored candidates into the list a reader sees.

Pure: candidates (best first, with their scores, content hashes and optional
:class:`Features`) in, chosen links out. Every option is measured alone by the evaluation
report (``related-posts eval``, one method per option); the defaults are the options that
helped on both evaluation corpora, with the numbers in the README ("How lists are
computed").

What the score is (dense and lexical fusion, neighbourhood re-ranking) is decided before
this step, in :mod:`.space`; this step decides which candidates may be shown, in which
order, and how many.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone

import numpy as np

DIRECTIONS = ("any", "background", "follow-up")

#: Two links are the same story when the cosine of their shingle vectors (runs of three
#: terms, see :mod:`.lexical`) reaches this. Calibrated, not guessed (README, "Same-story
#: collapse"): 99% of planted republications (new headline, added boilerplate, 60%
#: truncation, a sentence swapped) score above it on Reuters and BBC News, while 98.2%
#: (Reuters) and 99.2% (BBC) of each article's five nearest neighbours score below it.
SAME_STORY = 0.5
#: Default weight of the lexical signal against the dense one (1 = equal weight).
LEXICAL_WEIGHT = 1.0
#: Default weight of the site's own categories and tags (``labels``) in the score: chosen
#: on 20 Newsgroups with its coarse groups as tags (README "How lists are computed"); a
#: site without labels gets exactly the scores it had without this signal.
LABEL_WEIGHT = 0.5
#: Default neighbourhood re-ranking: each article's 40 nearest neighbours, weight 2
#: (chosen on half of the queries of Reuters and BBC News, README "How lists are computed").
EXPAND = 40
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class RankingOptions:
    """How lists are ranked. Every field is an option measured alone in the report.

    - ``k``: links at most; ``min_score``: a fixed floor on the link score (None: none).
    - Fusion: ``lexical_weight`` ``w`` gives score = (dense cosine + w * lexical cosine)
      / (1 + w); 0 is the dense model alone. ``lexical_dims``: hashed lexical buckets.
      ``ignore_terms``: words not used as a signal (articles that contain them can still
      be linked, unlike ``exclude_*``).
    - Labels: ``label_weight`` ``v`` adds the cosine of two articles' categories and tags
      (their ``labels``), so that between two labelled articles score = (dense + w *
      lexical + v * labels) / (1 + w + v); a pair with an unlabelled article keeps the
      dense and lexical parts only (scaled as its labelled side's row is). 0 turns it off.
    - Neighbourhood re-ranking: ``expand`` > 0 averages each article's ``expand`` nearest
      neighbours into it (weight ``expand_weight``), on the query side and the candidate
      side alike, before the search. A list then depends on its neighbours' neighbours, so
      any change to the site recomputes every list (see ``incremental``).
    - ``same_story``: collapse threshold (None: off); a list never shows two links whose
      shingle vectors are at least this similar; the better-scored one stays.
    - ``mmr``: diversity, maximal marginal relevance with this lambda (1 = relevance only),
      redundancy measured by the fused similarity of two links.
    - ``floor_quantile``: a relevance floor calibrated per site, the given quantile of the
      scores of random pairs of its articles (0.999: a link must beat 99.9% of random
      pairs); an article with nothing above it gets fewer links, never filler.
    - Time (needs ``published``): ``half_life_days`` decays a score by the time between
      the two articles; ``max_age_days`` drops links published longer than that before
      the article; ``direction`` keeps only older (``background``) or newer
      (``follow-up``) links.
    - Controls: ``exclude_ids``, ``exclude_sources`` and articles carrying any of
      ``exclude_labels`` (the site's categories or tags) are never shown; ``pins`` maps an
      article id to ids shown first, in order; ``same_language`` keeps links in the
      article's language when both languages are known.
    """

    k: int = 5
    min_score: float | None = None
    lexical_weight: float = LEXICAL_WEIGHT
    lexical_dims: int = 1024
    label_weight: float = LABEL_WEIGHT
    ignore_terms: AbstractSet[str] = frozenset()
    expand: int = EXPAND
    expand_weight: float = 2.0
    same_story: float | None = SAME_STORY
    mmr: float | None = None
    floor_quantile: float | None = None
    half_life_days: float | None = None
    max_age_days: float | None = None
    direction: str = "any"
    exclude_ids: AbstractSet[str] = frozenset()
    exclude_sources: AbstractSet[str] = frozenset()
    exclude_labels: AbstractSet[str] = frozenset()
    pins: tuple[tuple[str, tuple[str, ...]], ...] = ()
    same_language: bool = True

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.lexical_weight < 0:
            raise ValueError(f"lexical_weight must be 0 or more, got {self.lexical_weight}")
        if self.label_weight < 0:
            raise ValueError(f"label_weight must be 0 or more, got {self.label_weight}")
        if self.lexical_dims < 1:
            raise ValueError(f"lexical_dims must be at least 1, got {self.lexical_dims}")
        if self.expand < 0:
            raise ValueError(f"expand must be 0 (off) or a number of neighbours, got {self.expand}")
        if self.same_story is not None and not 0 < self.same_story <= 1:
            raise ValueError(f"same_story must be in (0, 1], got {self.same_story}")
        if self.mmr is not None and not 0 <= self.mmr <= 1:
            raise ValueError(f"mmr must be in [0, 1], got {self.mmr}")
        if self.floor_quantile is not None and not 0 < self.floor_quantile < 1:
            raise ValueError(f"floor_quantile must be in (0, 1), got {self.floor_quantile}")
        for name in ("half_life_days", "max_age_days"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, "
                             f"got {self.direction!r}")
        # Accept any iterable for the set-like options, and a mapping for pins.
        for name in ("ignore_terms", "exclude_ids", "exclude_sources", "exclude_labels"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        pins = self.pins.items() if isinstance(self.pins, Mapping) else self.pins
        object.__setattr__(self, "pins", tuple(sorted((str(a), tuple(b)) for a, b in pins)))

    @property
    def candidates(self) -> int:
        """How many neighbours to fetch so that dropping duplicates, collapsed stories and
        filtered links still leaves ``k``."""
        extra = 10 if self.same_story is None and self.mmr is None else 30
        return self.k * 3 + extra

    @property
    def incremental(self) -> bool:
        """Whether a list depends only on its own article and its candidates' scores, so
        that a refresh can enter a new article into older lists instead of recomputing
        them. Diversity, decay and a calibrated floor make a list depend on other
        articles too: with them, any change recomputes every list. (Re-ranking keeps
        refreshes incremental: each article's neighbourhood is frozen when found.)"""
        return self.mmr is None and self.half_life_days is None and self.floor_quantile is None

    def pinned(self, article_id: str | None) -> tuple[str, ...]:
        """Ids pinned to the top of ``article_id``'s list."""
        return dict(self.pins).get(article_id, ()) if article_id is not None else ()

    def to_dict(self) -> dict:
        """Every option but ``k``, JSON-ready (sets as sorted lists, pins as a mapping)."""
        values = {}
        for f in fields(self):
            if f.name == "k":
                continue
            value = getattr(self, f.name)
            values[f.name] = sorted(value) if isinstance(value, frozenset) else value
        values["pins"] = {article: list(ids) for article, ids in self.pins}
        return values

    @classmethod
    def from_dict(cls, values: Mapping, k: int = 5) -> RankingOptions:
        """Options from :meth:`to_dict`'s output; names this version does not know are
        ignored (a store written by a newer version still opens)."""
        known = {f.name for f in fields(cls)}
        return cls(k=k, **{name: value for name, value in values.items() if name in known})

    def fingerprint(self) -> str:
        """A short stable digest of everything but ``k`` that shapes a list: a stored
        list made under another fingerprint is due again."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Features:
    """What :func:`rank` may know beyond scores, for the query and each candidate.

    ``story`` rows are unit vectors compared for same-story collapse, ``topic`` rows
    unit vectors compared for diversity; ``published`` is in days (any epoch, None when
    unknown); ``sources`` and ``langs`` are free strings, ``labels`` each candidate's
    categories or tags. Empty sequences mean unknown for every candidate.
    """

    story: np.ndarray | None = None
    topic: np.ndarray | None = None
    published: Sequence[float | None] = ()
    sources: Sequence[str | None] = ()
    langs: Sequence[str | None] = ()
    labels: Sequence[tuple[str, ...]] = ()
    query_published: float | None = None
    query_lang: str | None = None


@dataclass(frozen=True)
class _Candidate:
    position: int
    id: str
    score: float
    content_hash: str
    pinned: bool = field(default=False)


def published_days(value: str | None) -> float | None:
    """An ISO-8601 date or time as days since 1970-01-01 UTC (None if absent or unreadable)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp() / DAY_SECONDS


def time_label(query_published: float | None, published: float | None) -> str | None:
    """``background`` for an older link, ``follow-up`` for a newer one, None if undated."""
    if query_published is None or published is None:
        return None
    return "follow-up" if published > query_published else "background"


def rank(
    candidate_ids: Sequence[str],
    candidate_scores: Sequence[float],
    candidate_hashes: Sequence[str],
    *,
    query_id: str | None,
    query_hash: str | None,
    options: RankingOptions,
    features: Features | None = None,
    floor: float | None = None,
) -> list[tuple[str, float]]:
    """Best-first ``(id, score)`` links for one article.

    Never the article itself, never an exact duplicate of it (same content hash), never
    two exact duplicates or (with ``same_story``) two links to the same story in one list:
    the best-scored one stays. ``floor`` is a relevance floor computed by the caller
    (``floor_quantile``); ``options.min_score`` applies as well. Candidates come best
    first; ties keep their given order.
    """
    features = features or Features()
    exclude_ids = options.exclude_ids
    pins = options.pinned(query_id)
    floors = [f for f in (options.min_score, floor) if f is not None]
    threshold = max(floors) if floors else None

    eligible: list[_Candidate] = []
    for position, (article_id, score, content_hash) in enumerate(
            zip(candidate_ids, candidate_scores, candidate_hashes)):
        if article_id == query_id or (query_hash and content_hash == query_hash):
            continue
        if article_id in exclude_ids:
            continue
        pinned = article_id in pins
        if not pinned and not _allowed(position, features, options):
            continue
        score = float(score)
        if options.half_life_days is not None and not pinned:
            score *= _decay(position, features, options.half_life_days)
        if not pinned and threshold is not None and score < threshold:
            continue
        eligible.append(_Candidate(position, article_id, score, content_hash, pinned))
    if options.half_life_days is not None:
        eligible.sort(key=lambda c: -c.score)  # stable: equal scores keep search order

    chosen: list[_Candidate] = sorted((c for c in eligible if c.pinned),
                                      key=lambda c: pins.index(c.id))
    seen_hashes = {c.content_hash for c in chosen}
    rest = [c for c in eligible if not c.pinned]
    while rest and len(chosen) < options.k:
        pick = _next(rest, chosen, features, options)
        candidate = rest.pop(pick)
        if candidate.content_hash in seen_hashes or _same_story(candidate, chosen, features, options):
            continue
        seen_hashes.add(candidate.content_hash)
        chosen.append(candidate)
    return [(c.id, c.score) for c in chosen[: options.k]]


def _allowed(position: int, features: Features, options: RankingOptions) -> bool:
    """Pair-level filters: language, source, labels, age and time direction."""
    if features.sources and options.exclude_sources:
        if features.sources[position] in options.exclude_sources:
            return False
    if features.labels and options.exclude_labels:
        if not options.exclude_labels.isdisjoint(features.labels[position]):
            return False
    if options.same_language and features.langs and features.query_lang:
        lang = features.langs[position]
        if lang and lang.lower() != features.query_lang.lower():
            return False
    if options.max_age_days is None and options.direction == "any":
        return True
    published = features.published[position] if features.published else None
    if features.query_published is None or published is None:
        return True  # undated: no time rule can be applied, so none is
    age = features.query_published - published
    if options.max_age_days is not None and age > options.max_age_days:
        return False
    if options.direction == "background" and age < 0:
        return False
    if options.direction == "follow-up" and age > 0:
        return False
    return True


def _decay(position: int, features: Features, half_life_days: float) -> float:
    published = features.published[position] if features.published else None
    if features.query_published is None or published is None:
        return 1.0
    return 0.5 ** (abs(features.query_published - published) / half_life_days)


def _similarity(a: _Candidate, b: _Candidate, vectors: np.ndarray) -> float:
    return float(np.dot(vectors[a.position], vectors[b.position]))


def _same_story(candidate: _Candidate, chosen: Sequence[_Candidate], features: Features,
                options: RankingOptions) -> bool:
    if options.same_story is None or features.story is None:
        return False
    return any(_similarity(candidate, c, features.story) >= options.same_story for c in chosen)


def _next(rest: Sequence[_Candidate], chosen: Sequence[_Candidate], features: Features,
          options: RankingOptions) -> int:
    """Index in ``rest`` of the next candidate: the best-scored one, or with ``mmr`` the
    one with the best trade-off between score and similarity to the links chosen so far."""
    if options.mmr is None or features.topic is None or not chosen:
        return 0
    lam = options.mmr
    best, best_value = 0, -math.inf
    for i, candidate in enumerate(rest):
        redundancy = max((_similarity(candidate, c, features.topic) for c in chosen), default=0.0)
        value = lam * candidate.score - (1.0 - lam) * redundancy
        if value > best_value:
            best, best_value = i, value
    return best
