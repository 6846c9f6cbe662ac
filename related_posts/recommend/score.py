"""The ranking score, in one place: how the model's and the lexical signal are fused, how
neighbourhood re-ranking moves a row, how a stored score is explained, and which ranking
options a stored neighbourhood or list depends on.

Pure: arrays and :class:`~.rank.RankingOptions` in, arrays and values out.

- **Fusion** (``lexical_weight`` w, ``label_weight`` v): a row is ``[dense / sqrt(t),
  lexical * sqrt(w/t), labels * sqrt(v/t)]`` with t = 1 + w + v for an article with
  labels and t = 1 + w (no label part) for one without (:class:`Layout`), so the dot
  product of two labelled rows is (dense + w * lexical + v * label cosine) / (1 + w + v)
  and of two unlabelled rows (dense + w * lexical) / (1 + w).
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
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..article import Terms
from .lexical import LABEL_DIMS, ROW_CHUNK, label_matrix, lexical_matrix
from .rank import RankingOptions

#: Options that shape the fused rows, in which re-ranking neighbourhoods are found.
NEIGHBOURHOOD_OPTIONS = ("lexical_weight", "lexical_dims", "ignore_terms", "label_weight",
                         "expand")
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


@dataclass(frozen=True)
class Layout:
    """Where each part of a fused row sits and how it is weighted: the dense part, the
    lexical part (absent when ``lexical_weight`` is 0) and the label part (absent when
    ``label_weight`` is 0).

    A row with labels has total weight t = 1 + w + v, one without labels t = 1 + w (its
    label part is zero); each part is scaled by the square root of its weight over t. So
    two labelled rows score (dense + w * lexical + v * labels) / (1 + w + v), two
    unlabelled rows exactly what they scored without labels, and every row stays unit
    length, which the exact search's bounds rely on.
    """

    dense_dims: int
    lexical_dims: int
    label_dims: int
    lexical_weight: float
    label_weight: float

    @classmethod
    def of(cls, options: RankingOptions, dense_dims: int, labels: bool = True,
           width: int | None = None) -> Layout:
        """The layout of ``options``. The label part is left out when no article has
        labels (``labels`` false), which changes no score, since an unlabelled row's
        label part is zero, and saves its columns; given the ``width`` of existing rows,
        whether they hold it is read from that."""
        lexical_dims = options.lexical_dims if options.lexical_weight > 0 else 0
        if width is not None:
            labels = width == dense_dims + lexical_dims + LABEL_DIMS
        return cls(dense_dims, lexical_dims,
                   LABEL_DIMS if labels and options.label_weight > 0 else 0,
                   options.lexical_weight, options.label_weight)

    @property
    def width(self) -> int:
        return self.dense_dims + self.lexical_dims + self.label_dims

    @property
    def fused(self) -> bool:
        """Whether rows hold more than the dense part."""
        return self.width > self.dense_dims

    @property
    def dense(self) -> slice:
        return slice(0, self.dense_dims)

    @property
    def lexical(self) -> slice:
        return slice(self.dense_dims, self.dense_dims + self.lexical_dims)

    @property
    def labels(self) -> slice:
        return slice(self.dense_dims + self.lexical_dims, self.width)

    def labelled(self, rows: np.ndarray) -> np.ndarray:
        """Which of these fused rows carry labels (a nonzero label part)."""
        return _nonzero_rows(rows[:, self.labels])

    def scales(self, labelled: np.ndarray) -> list[tuple[slice, np.ndarray]]:
        """Each present part's columns and its float32 factor per row."""
        total = 1.0 + self.lexical_weight + np.where(labelled, self.label_weight, 0.0)
        parts = [(self.dense, 1.0 / np.sqrt(total))]
        if self.lexical_dims:
            parts.append((self.lexical, np.sqrt(self.lexical_weight / total)))
        if self.label_dims:
            parts.append((self.labels, np.where(labelled, np.sqrt(self.label_weight / total), 0.0)))
        return [(columns, factor.astype(np.float32)) for columns, factor in parts]

    def part(self, fused: np.ndarray, columns: slice) -> np.ndarray:
        """One part of fused rows, unscaled (its unit vectors; zero where absent)."""
        for where, factor in self.scales(self.labelled(fused)):
            if where == columns:
                safe = np.where(factor > 0, factor, np.float32(1.0))
                return (fused[:, columns] / safe[:, None]).astype(np.float32)
        return np.zeros((len(fused), 0), dtype=np.float32)


def _nonzero_rows(block: np.ndarray) -> np.ndarray:
    """Which rows of ``block`` hold anything but zeros (none when it has no columns)."""
    if block.shape[1] == 0:
        return np.zeros(len(block), dtype=bool)
    return np.asarray(np.abs(block).max(axis=1) > 0)


def fuse(dense: np.ndarray, lexical: np.ndarray, labels: np.ndarray, layout: Layout
         ) -> np.ndarray:
    """Fused rows (see :class:`Layout`) from unit ``dense``, ``lexical`` and ``labels``
    rows (zero-width arrays for absent parts; zero label rows for unlabelled articles)."""
    dense = np.asarray(dense, dtype=np.float32)
    if not layout.fused:
        return dense
    out = np.empty((len(dense), layout.width), dtype=np.float32)
    # The present parts, in the order Layout.scales gives their columns.
    blocks = [dense] + [lexical] * bool(layout.lexical_dims) + [labels] * bool(layout.label_dims)
    labelled = _nonzero_rows(labels) if layout.label_dims else np.zeros(len(dense), dtype=bool)
    for (columns, factor), block in zip(layout.scales(labelled), blocks):
        # float32 factors keep the arithmetic (and its temporaries) in float32.
        np.multiply(np.asarray(block, dtype=np.float32), factor[:, None], out=out[:, columns])
    return out


def fused_rows(dense: np.ndarray, terms: Sequence[Terms], labels: Sequence[Sequence[str]],
               layout: Layout, options: RankingOptions) -> np.ndarray:
    """:func:`fuse` of ``dense`` rows with the lexical vectors of their ``terms`` and the
    label vectors of their ``labels``, in ``layout``."""
    if not layout.fused:
        return np.asarray(dense, dtype=np.float32)
    lexical = (lexical_matrix(terms, options.lexical_dims, options.ignore_terms)
               if layout.lexical_dims else np.zeros((len(dense), 0), dtype=np.float32))
    label_rows = (label_matrix(labels) if layout.label_dims
                  else np.zeros((len(dense), 0), dtype=np.float32))
    return fuse(dense, lexical, label_rows, layout)


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
    layout = Layout.of(options, dense_dims, width=topic.shape[1])
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
        # A row keeps its own layout: an unlabelled one gets no label part from its
        # neighbours' labels.
        for columns, scale in layout.scales(layout.labelled(base[start:stop])):
            part = block[:, columns]
            norms = np.linalg.norm(part, axis=1, keepdims=True)
            part *= scale[:, None] / np.where(norms > 0, norms, np.float32(1.0))
        out[start:stop] = block
    return out


def score_parts(options: RankingOptions, dense: float, lexical: float | None,
                labels: float | None, fused: float, score: float) -> dict[str, Any]:
    """Why a link has its ``score``: the ``dense``, ``lexical`` and ``labels`` cosines
    before fusion (None for a part that is off), the ranking ``score``, and with
    re-ranking on, ``expanded``, how much re-ranking added over the ``fused`` score.
    Rounded for storage."""
    why: dict[str, Any] = {"dense": round(dense, 4)}
    if lexical is not None:
        why["lexical"] = round(lexical, 4)
    if labels is not None:
        why["labels"] = round(labels, 4)
    why["score"] = round(float(score), 4)
    if options.expand:
        why["expanded"] = round(float(score) - fused, 4)
    return why
