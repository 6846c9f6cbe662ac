"""Turn raw nearest neighbours into the list a reader sees.

Pure: candidates and their content hashes in, chosen links out. Later ranking options
(fusion, same-story collapse, diversity, time) belong here, each measured by the
evaluation report before it becomes a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class RankingOptions:
    """``k`` links at most; ``min_score`` drops links below a cosine floor (None: no floor)."""

    k: int = 5
    min_score: float | None = None

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")

    @property
    def candidates(self) -> int:
        """How many neighbours to fetch so that dropping duplicates still leaves ``k``."""
        return self.k * 3 + 10


def rank(
    candidate_ids: Sequence[str],
    candidate_scores: Sequence[float],
    candidate_hashes: Sequence[str],
    *,
    query_id: str | None,
    query_hash: str | None,
    options: RankingOptions,
) -> list[tuple[str, float]]:
    """Best-first ``(id, score)`` links for one article.

    Never the article itself, never an exact duplicate of it (same content hash), and
    never two exact duplicates of each other in one list (the first, best-scored, stays).
    """
    seen_hashes = {query_hash} if query_hash else set()
    links: list[tuple[str, float]] = []
    for article_id, score, content_hash in zip(candidate_ids, candidate_scores, candidate_hashes):
        if article_id == query_id or content_hash in seen_hashes:
            continue
        if options.min_score is not None and score < options.min_score:
            break  # candidates arrive best first: everything after is below the floor too
        seen_hashes.add(content_hash)
        links.append((article_id, float(score)))
        if len(links) == options.k:
            break
    return links
