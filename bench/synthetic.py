"""Synthetic stores for the refresh benchmarks: clustered unit vectors, no model needed.

Real article embeddings cluster by topic, so the vectors are topic centres plus noise
(about 50 articles a topic), normalised. The embedder is a stand-in that only names the
model and refuses to encode, so every figure measures the store and the neighbour step.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from related_posts.article import Article, vector_model_id
from related_posts.store import Store

DIMENSION = 384
MODEL_ID = "synthetic-384"
VECTOR_ID = vector_model_id(MODEL_ID)  # what the store is bound to, as for a real model


class StoredVectorsOnly:
    """An embedder for stores whose vectors are all written already."""

    model_id = MODEL_ID
    dimension = DIMENSION

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False):
        raise RuntimeError("synthetic stores hold every vector already; nothing to encode")


def clustered_vectors(n: int, seed: int = 0, start: int = 0) -> np.ndarray:
    """``n`` unit vectors; rows from ``start`` on, so extra rows extend the same corpus."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(20, (start + n) // 50), DIMENSION)).astype(np.float32)
    rows = np.random.default_rng(seed + 1 + start).integers(0, len(centres), n)
    noise = np.random.default_rng(seed + 2 + start).standard_normal((n, DIMENSION))
    vectors = centres[rows] + 0.8 * noise.astype(np.float32)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def synthetic_articles(start: int, n: int) -> list[Article]:
    return [Article(f"p{i:07d}", f"Post {i}", f"Body of post {i}.") for i in range(start, start + n)]


def build_store(path: Path, n: int, seed: int = 0, batch: int = 5000) -> Store:
    """A store of ``n`` articles with vectors and no lists yet."""
    store = Store(path)
    store.bind_model(VECTOR_ID, DIMENSION)
    add_articles(store, 0, n, seed, batch)
    return store


def add_articles(store: Store, start: int, n: int, seed: int = 0, batch: int = 5000) -> None:
    for offset in range(start, start + n, batch):
        count = min(batch, start + n - offset)
        store.write_articles(synthetic_articles(offset, count),
                             clustered_vectors(count, seed, offset), VECTOR_ID)


class SyntheticEmbedder(StoredVectorsOnly):
    """Encodes a text as a unit vector near one of the corpus's topic centres, picked by
    the text's hash, so new articles join existing topics without a model."""

    def __init__(self, seed: int = 0, topics: int = 200) -> None:
        self.centres = clustered_vectors(topics * 50, seed)[::50]

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False):
        import hashlib

        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            rng = np.random.default_rng(digest)
            vector = self.centres[digest % len(self.centres)] + 0.05 * rng.standard_normal(DIMENSION)
            out[row] = vector / np.linalg.norm(vector)
        return out
