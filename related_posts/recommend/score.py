"""The ranking score, in one place: how the model's and the lexical signal are fused, how
neighbourhood re-ranking moves a row, how a stored score is explained, and which ranking
options a stored neighbourhood or list depends on.

Pure: arrays and :class:`~.rank.RankingOptions` in, arrays and values out.

- **Fusion** (``lexical_weight`` w): a row is ``[dense / sqrt(1+w), lexical * sqrt(w/(1+w))]``,
  so the dot product of two rows is (dense cosine + w * lexical cosine) / (1 + w).
- **Re-ranking** (``expand`` m, ``expand_weight`` s): each part of a row plus s times the
  weighted mean of that part over the row's m nearest neighbours (weights: how far each
  neighbour's score lies above the m-th one), made unit length, fused again.
- **Dependencies**: every field of ``RankingOptions`` is declared below as shaping the rows
  a neighbourhood is found in (:data:`NEIGHBOURHOOD_OPTIONS`), the re-ranked rows
  (:data:`RERANK_OPTIONS`) or only the list made from the scores (:data:`LIST_OPTIONS`);
  importing this module fails if one is missing, so a new option cannot leave stored
  neighbourhoods silently stale.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from ..article import Terms
from .lexical import ROW_CHUNK, lexical_matrix
from .rank import RankingOptions

#: Options that shape the fused rows, in which re-ranking neighbourhoods are found.
NEIGHBOURHOOD_OPTIONS = ("lexical_weight", "lexical_dims", "ignore_terms", "expand")
#: Options that shape the re-ranked rows but not the neighbourhoods they are made from.
RERANK_OPTIONS = ("expand_weight",)
#: Options applied to the scores afterwards (:func:`~.rank.rank`); ``k`` is left out of
#: every fingerprint, since a list of another length is due anyway.
LIST_OPTIONS = ("k", "min_score", "same_story", "mmr", "floor_quantile", "half_life_days",
                "max_age_days", "direction", "exclude_ids", "exclude_sources",
                "exclude_labels", "pins", "same_language")


def _check_every_option_is_declared() -> None:
    declared = NEIGHBOURHOOD_OPTIONS + RERANK_OPTIONS + LIST_OPTIONS
    names = tuple(f.name for f in fields(RankingOptions))
    if sorted(declared) != sorted(names):
        raise ImportError(f"score.py must declare every RankingOptions field once; "
                          f"fields {sorted(set(names) - set(declared))} undeclared, "
                          f"{sorted(set(declared) - set(names))} unknown")


_check_every_option_is_declared()


def neighbourhood_fingerprint(options: RankingOptions, model_id: str) -> str:
    """What a stored re-ranking neighbourhood depends on besides the articles: the model
    (a vector id) and :data:`NEIGHBOURHOOD_OPTIONS`. Another value finds them all again."""
    values = [sorted(v) if isinstance(v, frozenset) else v
              for v in (getattr(options, name) for name in NEIGHBOURHOOD_OPTIONS)]
    return json.dumps([model_id, *values])


def fuse(dense: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """Rows whose dot products are (dense cosine + weight * lexical cosine) / (1 + weight)."""
    dense = np.asarray(dense, dtype=np.float32)
    if weight == 0:
        return dense
    out = np.empty((len(dense), dense.shape[1] + lexical.shape[1]), dtype=np.float32)
    # float32 scale factors keep the arithmetic (and its temporaries) in float32.
    dense_scale, lexical_scale = _part_scales(weight)
    np.multiply(dense, np.float32(dense_scale), out=out[:, :dense.shape[1]])
    np.multiply(np.asarray(lexical, dtype=np.float32), np.float32(lexical_scale),
                out=out[:, dense.shape[1]:])
    return out


def _part_scales(weight: float) -> tuple[float, float]:
    """The factors of the dense and the lexical part of a fused row."""
    return 1.0 / np.sqrt(1.0 + weight), np.sqrt(weight / (1.0 + weight))


def fused_score(dense: float, lexical: float, weight: float) -> float:
    """The fused score of two cosines: the dot product of two :func:`fuse` rows."""
    return (dense + weight * lexical) / (1.0 + weight)


def lexical_part(fused: np.ndarray, dense_dims: int, weight: float) -> np.ndarray:
    """The lexical vectors inside fused rows, unscaled (inverse of :func:`fuse`)."""
    return (fused[:, dense_dims:] / _part_scales(weight)[1]).astype(np.float32)


def fused_rows(dense: np.ndarray, terms: Sequence[Terms], options: RankingOptions
               ) -> np.ndarray:
    """:func:`fuse` of ``dense`` rows with the lexical vectors of their ``terms``."""
    if options.lexical_weight == 0:
        return np.asarray(dense, dtype=np.float32)
    return fuse(dense, lexical_matrix(terms, options.lexical_dims, options.ignore_terms),
                options.lexical_weight)


def neighbour_weights(scores: np.ndarray) -> np.ndarray:
    """Weights of each row's neighbours (best first): how far each score lies above the
    last one, normalised to sum 1 (equal weights when all scores are equal)."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    last = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
    weights = np.where(finite, np.maximum(scores - last, 0.0), 0.0)
    sums = weights.sum(axis=1, keepdims=True)
    uniform = finite / np.maximum(finite.sum(axis=1, keepdims=True), 1)
    return np.where(sums > 0, weights / np.where(sums > 0, sums, 1.0), uniform)


def expanded_rows(base: np.ndarray, indices: np.ndarray, weights: np.ndarray,
                  topic: np.ndarray, dense_dims: int, options: RankingOptions,
                  out: np.ndarray | None = None) -> np.ndarray:
    """Fused rows ``base`` re-ranked by their neighbourhoods (``indices`` into ``topic``,
    -1 for none, and ``weights``): the dense and the lexical part each plus
    ``expand_weight`` times the weighted mean of the neighbours' parts, made unit
    length, and fused again (into ``out`` when given).

    A row's result depends on its own row and neighbourhood only (each output row is one
    sparse row times ``topic``, summed in neighbour order), so a row computed alone equals
    the same row computed with the whole site, bit for bit, which is what keeps
    incremental and full refreshes in step. torch's sparse product gives scipy's results
    on both cores: at 100k rows, 1.8 s against 4.5 s.
    """
    import torch  # only re-ranking needs it: reading stored lists never imports torch

    indices = np.asarray(indices, dtype=np.int64)
    valid = indices >= 0
    pointer = np.concatenate([[0], np.cumsum(valid.sum(axis=1))])
    named = torch.from_numpy(np.ascontiguousarray(indices[valid]))
    values = torch.from_numpy(np.ascontiguousarray(np.asarray(weights, np.float32)[valid]))
    neighbours = torch.from_numpy(np.require(topic, np.float32, ["C", "W"]))
    weight = options.lexical_weight
    dense_scale, lexical_scale = _part_scales(weight)
    parts = [(slice(0, dense_dims), dense_scale)]
    if weight > 0:
        parts.append((slice(dense_dims, None), lexical_scale))
    if out is None:
        out = np.empty((len(base), topic.shape[1]), dtype=np.float32)
    strength = np.float32(options.expand_weight)
    for start in range(0, len(base), ROW_CHUNK):
        stop = min(start + ROW_CHUNK, len(base))
        first, last = int(pointer[start]), int(pointer[stop])
        with warnings.catch_warnings():  # torch calls its sparse CSR support beta
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support")
            mix = torch.sparse_csr_tensor(torch.from_numpy(pointer[start:stop + 1] - first),
                                          named[first:last], values[first:last],
                                          size=(stop - start, len(topic)),
                                          check_invariants=False)
        block = base[start:stop] + strength * (mix @ neighbours).numpy()
        for columns, scale in parts:
            part = block[:, columns]
            norms = np.linalg.norm(part, axis=1, keepdims=True)
            part *= np.float32(scale) / np.where(norms > 0, norms, np.float32(1.0))
        out[start:stop] = block
    return out


def score_parts(options: RankingOptions, dense: float, lexical: float | None,
                score: float) -> dict[str, Any]:
    """Why a link has its ``score``: the ``dense`` and ``lexical`` cosines before fusion
    (``lexical`` None when fusion is off), the ranking ``score``, and with re-ranking on,
    ``expanded``, how much re-ranking added over the fused score. Rounded for storage."""
    why: dict[str, Any] = {"dense": round(dense, 4)}
    fused = dense
    if lexical is not None:
        why["lexical"] = round(lexical, 4)
        fused = fused_score(dense, lexical, options.lexical_weight)
    why["score"] = round(float(score), 4)
    if options.expand:
        why["expanded"] = round(float(score) - fused, 4)
    return why
