"""The lexical signal: which words two articles share, with no corpus statistics.

An article's terms are the words scikit-learn's default analyser finds (lower case, two
characters or more, English stop words removed), each weighted ``1 + ln(count)`` and the
vector scaled to unit length. There is deliberately no IDF: measured on Reuters-21578 and
BBC News, fused with the dense model (per-query z-scores, exact cosines), sublinear term
frequencies alone scored higher than TF-IDF (nDCG@5 0.821 vs 0.801 on Reuters, 0.950 vs
0.946 on BBC; see the README), because the model already covers rare names and the
words add the vocabulary a topic is written in. It also keeps the score of a pair a function of those two articles only: a new
article changes no other pair's score, which is what lets a refresh stay incremental.

Terms are hashed (32-bit MurmurHash3, seed 0) so that no vocabulary is stored or grows;
:func:`lexical_matrix` folds the hashes into ``dims`` signed buckets (the hashing trick),
which turns the sparse vectors into dense rows that fuse with the model's vectors.

Shingles (runs of three consecutive terms, hashed with seed 1) tell republications from
articles on the same topic: two articles about the same subject share words, but only
copies of one story share long runs of them in order (Broder's near-duplicate test).
:func:`shingle_matrix` gives the vectors whose cosine the same-story threshold is
calibrated on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import numpy as np

from ..article import Terms as Terms  # the value type lives below the store

#: Buckets of the hashed lexical vectors. Measured (README): 1024 buckets lose 0.002-0.005
#: nDCG@5 against exact sparse cosine; 2048 halve that at twice the memory.
DEFAULT_DIMS = 1024
#: Terms per shingle, and buckets of the hashed shingle vectors (their cosine between
#: unrelated articles stays below 0.25 for 95% of nearest neighbours at 256 buckets).
SHINGLE_SIZE = 3
SHINGLE_DIMS = 256
#: Buckets of the hashed label vectors (a site's categories and tags, hashed with seed 2):
#: signed, so that two tags sharing a bucket cancel on average; a site's few hundred tags
#: rarely share one at 128.
LABEL_DIMS = 128


@lru_cache(maxsize=1)
def _analyser() -> Callable[[str], list[str]]:
    from sklearn.feature_extraction.text import CountVectorizer  # heavy: only when used

    return CountVectorizer(stop_words="english").build_analyzer()


def term_hash(term: str) -> int:
    """The signed 32-bit MurmurHash3 (seed 0) of a term, as used for every article."""
    from sklearn.utils import murmurhash3_32

    return int(murmurhash3_32(term, seed=0))


def article_terms(text: str) -> Terms:
    """The hashed, sublinear, unit-length term weights of one text."""
    tokens = _analyser()(text)
    counts = Counter(tokens)
    if not counts:
        return Terms(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
    from sklearn.utils import murmurhash3_32

    shingles = np.array(sorted(int(murmurhash3_32(" ".join(tokens[i:i + SHINGLE_SIZE]), seed=1))
                               for i in range(len(tokens) - SHINGLE_SIZE + 1)), dtype=np.int32)

    # Distinct terms that collide on the 32-bit hash (vanishingly rare) add their weights.
    merged: dict[int, float] = {}
    for term, count in counts.items():
        key = int(murmurhash3_32(term, seed=0))
        merged[key] = merged.get(key, 0.0) + 1.0 + math.log(count)
    hashes = np.fromiter(merged.keys(), dtype=np.int64, count=len(merged)).astype(np.int32)
    weights = np.fromiter(merged.values(), dtype=np.float64, count=len(merged))
    weights /= np.sqrt((weights ** 2).sum())
    order = np.argsort(hashes, kind="stable")  # canonical order: same text, same blobs
    return Terms(hashes[order], weights[order].astype(np.float32), shingles)


#: Rows folded at a time: bounds the float64 scratch of a fold at ROW_CHUNK * dims * 8 bytes.
ROW_CHUNK = 4096


def _fold_rows(hash_lists: Sequence[np.ndarray], weight_lists: Sequence[np.ndarray] | None,
               dims: int) -> np.ndarray:
    """Unit float32 rows: each row's weights (all 1 when ``weight_lists`` is None) summed
    into signed buckets (bucket ``|hash| mod dims``, sign of the hash), one ``bincount``
    for the whole chunk."""
    sizes = np.fromiter((h.size for h in hash_lists), dtype=np.int64, count=len(hash_lists))
    if sizes.sum():
        hashes = np.concatenate(hash_lists).astype(np.int64)
        weights = (np.ones(hashes.size) if weight_lists is None
                   else np.concatenate(weight_lists).astype(np.float64))
        owners = np.repeat(np.arange(len(hash_lists), dtype=np.int64), sizes)
        flat = np.bincount(owners * dims + np.abs(hashes) % dims,
                           weights=np.where(hashes >= 0, weights, -weights),
                           minlength=len(hash_lists) * dims)
        out = flat.reshape(len(hash_lists), dims)
    else:
        out = np.zeros((len(hash_lists), dims), dtype=np.float64)
    # Sums in float64, then scaled in place in float32: a chunk is 32 MB of buckets, and
    # each temporary copy of it shows in a refresh's time.
    norms = np.sqrt(np.einsum("ij,ij->i", out, out))
    rows = out.astype(np.float32)
    rows *= np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 1.0).astype(np.float32)[:, None]
    return rows


def _chunked(n: int, dims: int, fold_chunk) -> np.ndarray:
    out = np.empty((n, dims), dtype=np.float32)
    for start in range(0, n, ROW_CHUNK):
        out[start:start + ROW_CHUNK] = fold_chunk(start, min(start + ROW_CHUNK, n))
    return out


def shingle_matrix(terms: Sequence[Terms], dims: int = SHINGLE_DIMS) -> np.ndarray:
    """Row-aligned float32 (n, dims) unit vectors of shingle counts (zero rows for texts
    of fewer than three terms): their dot product is the same-story similarity."""
    return _chunked(len(terms), dims, lambda a, b: _fold_rows(
        [t.shingles for t in terms[a:b]], None, dims))


def lexical_matrix(terms: Sequence[Terms], dims: int = DEFAULT_DIMS,
                   ignore: Iterable[str] = ()) -> np.ndarray:
    """Row-aligned float32 (n, dims) unit vectors: each article's terms in signed buckets.

    A term's bucket is ``|hash| mod dims`` and its sign the hash's sign, so collisions
    cancel on average instead of inflating every score. ``ignore`` lists words that are
    not used as a signal (site boilerplate, a brand name on every page); articles keep
    their other words. An article with no term left gets a zero row (lexical score 0).
    """
    if dims < 1:
        raise ValueError(f"dims must be at least 1, got {dims}")
    ignored = np.array(sorted({term_hash(t.lower()) for t in ignore}), dtype=np.int32)

    def fold(a: int, b: int) -> np.ndarray:
        chunk = terms[a:b]  # one slice: ``terms`` may read it from the store
        if not ignored.size:
            return _fold_rows([t.hashes for t in chunk], [t.weights for t in chunk], dims)
        kept = [~np.isin(t.hashes, ignored) for t in chunk]
        return _fold_rows([t.hashes[k] for t, k in zip(chunk, kept)],
                          [t.weights[k] for t, k in zip(chunk, kept)], dims)

    return _chunked(len(terms), dims, fold)


def label_matrix(labels: Sequence[Sequence[str]], dims: int = LABEL_DIMS) -> np.ndarray:
    """Row-aligned float32 (n, dims) unit vectors of each article's labels (categories and
    tags, compared case- and space-insensitively), zero rows for articles without any:
    their dot product is the label cosine, |A & B| / sqrt(|A| |B|)."""
    from sklearn.utils import murmurhash3_32

    def hashes(items: Sequence[str]) -> np.ndarray:
        names = sorted({" ".join(str(x).split()).lower() for x in items} - {""})
        return np.array([murmurhash3_32(name, seed=2) for name in names], dtype=np.int32)

    return _chunked(len(labels), dims, lambda a, b: _fold_rows(
        [hashes(item) for item in labels[a:b]], None, dims))
