"""The methods the harness compares: baselines and the recommender itself.

Every method sees the same :class:`Corpus` (the same articles, the same store, the same
vectors) and ranks every other article of it for a query; the query itself is never its own
neighbour. Methods are registered by name in :data:`METHODS`, so a later change can add a
named configuration of the recommender with one :func:`register_method` call::

    register_method("default-k3-floor", lambda: RecommenderMethod(refresh_options={...}))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import files
from .errors import UnknownMethodError
from .metrics import Ids

if TYPE_CHECKING:
    from scipy import sparse

    from ..recommend.rank import RankingOptions

#: The methods of a run when ``--methods`` is not given, in report order.
DEFAULT_METHODS = ("random", "tfidf", "bm25", "dense", "hybrid", "default")


@dataclass
class Corpus:
    """What every method of one run works on.

    ``texts`` are title, newline, body, row-aligned with ``ids``. ``vectors`` are the
    configured model's vectors of those texts, each encoded as one text, as peers embed
    articles: what the dense baselines rank with. ``store_vectors`` are the store's own
    vectors (the product's recipe, ``recommend.embed.article_vectors``; ``vectors`` when
    not given). ``recommender`` is the store-backed recommender holding exactly these
    articles. ``cache`` lets methods share fitted parts (hybrid reuses tfidf and dense).
    """

    ids: list[str]
    texts: list[str]
    vectors: np.ndarray
    recommender: Any = None
    depth: int = 10
    seed: int = 0
    #: Makes progress bars, called like ``tqdm(total=..., desc=...)`` (``Recommender.refresh``'s form), or None.
    progress: Callable[..., Any] | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    store_vectors: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.index = {article_id: i for i, article_id in enumerate(self.ids)}
        if self.store_vectors is None:
            self.store_vectors = self.vectors

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Ranking:
    """One query's list: corpus row indices, best first, and their scores."""

    indices: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.indices.size)


class Method(ABC):
    """A way of ranking the other articles of a corpus for each article.

    ``fit`` does the per-corpus work once (its time is reported as build time); ``rank``
    answers one query (its time is the per-query latency).
    """

    name: str = ""
    description: str = ""
    #: Baselines are what the recommender must beat; significance is tested against the best.
    baseline: bool = True

    def fit(self, corpus: Corpus) -> Method:
        self.corpus_ = corpus
        return self

    @abstractmethod
    def rank(self, query: int, depth: int) -> Ranking:
        """The ``depth`` best other articles for row ``query``."""

    def score_row(self, query: int) -> np.ndarray | None:
        """The score of every article for ``query`` (None for methods that only give lists)."""
        return None

    def pair_scores(self, left: Ids, right: Ids) -> np.ndarray:
        """Similarity of each (left[i], right[i]) pair, for correlation with judged pairs."""
        out = np.empty(len(left), dtype=np.float64)
        rows: dict[int, np.ndarray] = {}
        for i, (a, b) in enumerate(zip(left, right)):
            if a not in rows:
                row = self.score_row(int(a))
                if row is None:
                    raise NotImplementedError(f"{type(self).__name__} gives no pair scores")
                rows[a] = row
            out[i] = rows[a][b]
        return out


def top_indices(row: np.ndarray, query: int, depth: int) -> Ranking:
    """The ``depth`` highest entries of a score row, the query's own entry excluded.

    Ties are broken by row index, so rankings are reproducible.
    """
    scores = np.array(row, dtype=np.float64)
    scores[query] = -np.inf
    width = min(depth, scores.size - 1)
    if width <= 0:
        return Ranking(np.zeros(0, dtype=np.int64), np.zeros(0))
    part = np.argpartition(-scores, width - 1)[:width] if width < scores.size else np.arange(scores.size)
    order = np.lexsort((part, -scores[part]))
    chosen = part[order]
    return Ranking(chosen.astype(np.int64), scores[chosen])


class RowMethod(Method):
    """A method that scores every article for a query; ranking takes the top of the row."""

    @abstractmethod
    def score_row(self, query: int) -> np.ndarray:
        ...

    def rank(self, query: int, depth: int) -> Ranking:
        return top_indices(self.score_row(query), query, depth)


class RandomMethod(RowMethod):
    """Uniform random scores: what a content-farm tail amounts to."""

    description = "uniform random scores (seed 0): a tail unrelated to the article"

    def score_row(self, query: int) -> np.ndarray:
        # One generator per query, so a query's scores do not depend on evaluation order.
        return np.random.default_rng([self.corpus_.seed, query]).random(len(self.corpus_))


def _tokeniser_options() -> dict[str, Any]:
    # The same tokens for TF-IDF and BM25: scikit-learn's default pattern, lower case,
    # English stop words removed, terms in fewer than 2 articles dropped.
    return {"stop_words": "english", "min_df": 2}


def fitted_tfidf(corpus: Corpus) -> sparse.csr_matrix:
    """TF-IDF rows (sublinear tf, L2-normalised), fitted on the corpus, cached per run."""
    if "tfidf" not in corpus.cache:
        from sklearn.feature_extraction.text import TfidfVectorizer  # heavy: only when used

        vectoriser = TfidfVectorizer(sublinear_tf=True, **_tokeniser_options())
        corpus.cache["tfidf"] = vectoriser.fit_transform(corpus.texts).tocsr()
    return corpus.cache["tfidf"]


class TfidfMethod(RowMethod):
    """scikit-learn TF-IDF (sublinear tf, English stop words, min_df=2), cosine similarity."""

    description = "TF-IDF cosine (sublinear tf, English stop words, min_df=2)"

    def fit(self, corpus: Corpus) -> TfidfMethod:
        super().fit(corpus)
        self.matrix_ = fitted_tfidf(corpus)
        return self

    def score_row(self, query: int) -> np.ndarray:
        return self.matrix_ @ self.matrix_[query].toarray().ravel()


class Bm25Method(RowMethod):
    """Okapi BM25 over the TF-IDF tokens; the query is the whole article.

    score(q, d) = sum over terms t of qtf(t) * idf(t) * tf(t,d) * (k1 + 1)
                  / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl)),
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)) (the non-negative form Lucene uses). A query
    term repeated in the article counts as often as it occurs (k3 -> infinity).
    """

    description = "Okapi BM25 (k1=1.2, b=0.75), the whole article as query"

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b

    def fit(self, corpus: Corpus) -> Bm25Method:
        super().fit(corpus)
        from sklearn.feature_extraction.text import CountVectorizer  # heavy: only when used

        counts = CountVectorizer(**_tokeniser_options()).fit_transform(corpus.texts).tocsr().astype(np.float64)
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = lengths.mean() if n and lengths.mean() > 0 else 1.0
        # Per stored entry: the document of its row, to apply that document's length norm.
        row_of_entry = np.repeat(np.arange(n), np.diff(counts.indptr))
        tf = counts.data
        norm = self.k1 * (1.0 - self.b + self.b * lengths[row_of_entry] / average)
        weights = counts.copy()
        weights.data = idf[counts.indices] * tf * (self.k1 + 1.0) / (tf + norm)
        self.counts_ = counts
        self.weights_ = weights
        return self

    def score_row(self, query: int) -> np.ndarray:
        return self.weights_ @ self.counts_[query].toarray().ravel()


class DenseMethod(RowMethod):
    """Dot product of the corpus's normalised vectors (cosine), over all other articles.

    The vectors embed title, newline, body as one text (``Corpus.vectors``), as a peer
    would: the baseline does not get the store's own recipe.
    """

    description = "sentence-transformers vectors of title + body as one text, cosine"

    def fit(self, corpus: Corpus) -> DenseMethod:
        super().fit(corpus)
        self.vectors_ = np.asarray(corpus.vectors, dtype=np.float32)
        return self

    def score_row(self, query: int) -> np.ndarray:
        return (self.vectors_ @ self.vectors_[query]).astype(np.float64)


def zscore_excluding(row: np.ndarray, query: int) -> np.ndarray:
    """Row z-scored with mean and standard deviation taken over the other articles only."""
    mask = np.ones(row.size, dtype=bool)
    mask[query] = False
    others = row[mask]
    spread = others.std()
    centred = row - others.mean()
    return centred / spread if spread > 0 else centred * 0.0


class HybridMethod(RowMethod):
    """Sum of the per-query z-scores of the TF-IDF and dense rows."""

    description = "z-score sum of TF-IDF and dense rows, per query"

    def fit(self, corpus: Corpus) -> HybridMethod:
        super().fit(corpus)
        self.lexical_ = TfidfMethod().fit(corpus)
        self.dense_ = DenseMethod().fit(corpus)
        return self

    def score_row(self, query: int) -> np.ndarray:
        return zscore_excluding(self.lexical_.score_row(query), query) + zscore_excluding(
            self.dense_.score_row(query), query
        )


class RecommenderMethod(Method):
    """The product: ``refresh`` over the store, then the stored lists as ``related`` returns them.

    With no options this is exactly what ``related-posts refresh`` produces with default
    settings. ``ranking`` replaces the default :class:`RankingOptions` (``k`` comes from
    the run), and ``refresh_options`` are passed to ``Recommender.refresh`` (named
    configurations). Pair scores are the scores its lists are ranked by
    (:meth:`~related_posts.recommend.Recommender.pair_scores`), so the judged-pairs row
    measures this method's own score.
    """

    description = "related-posts refresh with default settings, lists read back with related()"
    baseline = False

    def __init__(self, refresh_options: dict[str, Any] | None = None,
                 ranking: RankingOptions | None = None, description: str | None = None) -> None:
        self.refresh_options = dict(refresh_options or {})
        self.ranking = ranking
        if description is not None:
            self.description = description

    def fit(self, corpus: Corpus) -> RecommenderMethod:
        super().fit(corpus)
        if corpus.recommender is None:
            raise ValueError("the recommender method needs a Corpus with a recommender")
        from ..recommend.rank import RankingOptions

        # Methods share one recommender: each sets its own ranking (the default one
        # included), and its full refresh below rewrites every list before it is read.
        corpus.recommender.ranking = self.ranking if self.ranking is not None else RankingOptions()
        # full: every list recomputed by the code as it is now, never lists a previous run
        # (or an older ranking) left in the store.
        corpus.recommender.refresh(k=corpus.depth, full=True, progress=corpus.progress, **self.refresh_options)
        #: Items in a list that are not in the corpus (must stay 0: the store holds the corpus only).
        self.foreign_ = 0
        return self

    def rank(self, query: int, depth: int) -> Ranking:
        items = self.corpus_.recommender.related(self.corpus_.ids[query], k=depth)
        indices, scores = [], []
        for item in items:
            where = self.corpus_.index.get(item.id)
            if where is None or where == query:
                self.foreign_ += 1
                continue
            indices.append(where)
            scores.append(float(item.score))
        return Ranking(np.array(indices, dtype=np.int64), np.array(scores, dtype=np.float64))

    def pair_scores(self, left: Ids, right: Ids) -> np.ndarray:
        ids = self.corpus_.ids
        return self.corpus_.recommender.pair_scores(
            (ids[int(a)], ids[int(b)]) for a, b in zip(left, right))


def encode_cached(recommender: Any, part: str, texts: list[str], progress: bool = False
                  ) -> np.ndarray:
    """Each of ``texts`` encoded alone by ``recommender``'s model, float32 rows.

    Cached beside the store (``<store>.<part>-<digest of the texts>.npy``), so that a
    second run on the same corpus loads them instead of loading the model.
    """
    import hashlib
    from pathlib import Path

    digest = hashlib.sha1("\n".join(texts).encode("utf-8")).hexdigest()[:10]
    model = recommender.store.model()
    cache = Path(f"{recommender.store.path}.{part}-{digest}.npy")
    cached = files.load_array(cache) if recommender.store.path != ":memory:" else None
    if cached is not None and cached.ndim == 2 and cached.shape[0] == len(texts) and (
            model is None or cached.shape[1] == model[1]):
        return cached.astype(np.float32, copy=False)
    vectors = np.asarray(recommender.embedder.encode(texts, batch_size=32, progress=progress),
                         dtype=np.float32)
    if recommender.store.path != ":memory:":
        files.save_array(cache, vectors)
    return vectors


#: Texts :class:`EmbeddingMethod` can embed instead of the store's body plus half a title
#: vector (``recommend.embed.article_vectors``).
EMBEDDINGS = {
    "lead": "title and the first 60 words of the body",
    "chunks": "mean of the vectors of title + body and of each further 200-word chunk "
              "(the model reads 256 tokens)",
}
LEAD_WORDS = 60
CHUNK_START, CHUNK_STRIDE, CHUNK_WORDS = 150, 180, 200


class EmbeddingMethod(RowMethod):
    """Dense cosine over vectors of another text than the store's (what to embed).

    Alone, with no ranking option, so that its effect shows against ``dense`` (title,
    newline, body as one text) and ``options-off`` (the store's vectors). Encodes with
    the recommender's model; vectors are cached beside the store (see
    :func:`encode_cached`), so only the first run pays for the encoding.
    """

    baseline = False

    def __init__(self, variant: str) -> None:
        if variant not in EMBEDDINGS:
            raise ValueError(f"unknown embedding variant {variant!r}; valid: {', '.join(EMBEDDINGS)}")
        self.variant = variant
        self.description = f"dense cosine, embedding {EMBEDDINGS[variant]}"

    def fit(self, corpus: Corpus) -> EmbeddingMethod:
        super().fit(corpus)
        if corpus.recommender is None:
            raise ValueError("an embedding variant needs a Corpus with a recommender (its model)")
        parts = [text.split("\n", 1) + [""] for text in corpus.texts]
        titles = [p[0].strip() for p in parts]
        bodies = [p[1].strip() for p in parts]
        if self.variant == "lead":
            vectors = encode_cached(corpus.recommender, "lead", [
                t + "\n" + " ".join(b.split()[:LEAD_WORDS]) for t, b in zip(titles, bodies)])
        else:
            texts, owners = [], []
            for row, (title, body) in enumerate(zip(titles, bodies)):
                words = body.split()
                for start in range(CHUNK_START, len(words), CHUNK_STRIDE):
                    texts.append(title + "\n" + " ".join(words[start:start + CHUNK_WORDS]))
                    owners.append(row)
            vectors = np.asarray(corpus.vectors, dtype=np.float64).copy()
            if texts:
                np.add.at(vectors, np.asarray(owners), encode_cached(corpus.recommender, "chunks", texts))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors_ = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        return self

    def score_row(self, query: int) -> np.ndarray:
        return (self.vectors_ @ self.vectors_[query]).astype(np.float64)


MethodFactory = Callable[[], Method]

#: Registered methods by name, in report order.
METHODS: dict[str, MethodFactory] = {
    "random": RandomMethod,
    "tfidf": TfidfMethod,
    "bm25": Bm25Method,
    "dense": DenseMethod,
    "hybrid": HybridMethod,
    "default": RecommenderMethod,
}


def _option(description: str, **options: Any) -> MethodFactory:
    """A factory of the recommender with one ranking option switched on alone: every
    other option off, so that the row shows that option's own effect."""
    def factory() -> Method:
        from ..recommend.rank import RankingOptions

        # Every option that can default to on is named here (expand: re-ranking).
        alone = {"lexical_weight": 0.0, "label_weight": 0.0, "same_story": None, "expand": 0,
                 **options}
        return RecommenderMethod(ranking=RankingOptions(**alone), description=description)
    return factory


def _ranking(description: str, **options: Any) -> MethodFactory:
    def factory() -> Method:
        from ..recommend.rank import RankingOptions

        return RecommenderMethod(ranking=RankingOptions(**options), description=description)
    return factory


#: One row per ranking option switched on alone, then the default with re-ranking; run
#: them with ``related-posts eval --methods <DEFAULT_METHODS>,<these>``.
OPTION_METHODS: dict[str, MethodFactory] = {
    "options-off": _option("the recommender with every ranking option off: dense cosine top-k"),
    "fusion": _option("fusion alone: (dense + lexical cosine) / 2, lexical = sublinear tf, no idf",
                      lexical_weight=1.0),
    "rerank": _option("neighbourhood re-ranking alone: 40 neighbours averaged in, weight 2",
                      expand=40),
    "collapse": _option("same-story collapse alone (shingle cosine >= 0.5)", same_story=0.5),
    "mmr-0.9": _option("diversity alone: MMR, lambda 0.9", mmr=0.9),
    "mmr-0.7": _option("diversity alone: MMR, lambda 0.7", mmr=0.7),
    "floor": _option("relevance floor alone: the 95th percentile of random pairs' scores",
                     floor_quantile=0.95),
    "recency": _option("recency alone: scores halve every 30 days between the two articles",
                       half_life_days=30.0),
    "background": _option("time direction alone: only links published before the article",
                          direction="background"),
    "embed-lead": lambda: EmbeddingMethod("lead"),
    "embed-chunks": lambda: EmbeddingMethod("chunks"),
    "labels": _option("labels alone: dense cosine plus the site's tags' cosine at weight 0.5 "
                      "(needs --field labels=KEY)", label_weight=0.5),
    "default-no-labels": _ranking("the default without the label signal "
                                  "(refresh --label-weight 0)", label_weight=0.0),
    "default-no-rerank": _ranking("the default without neighbourhood re-ranking "
                                  "(refresh --rerank 0): fusion and collapse", expand=0),
}
METHODS.update(OPTION_METHODS)


def register_method(name: str, factory: MethodFactory, *, replace: bool = False) -> None:
    """Add a named method (e.g. a configuration of the recommender) to the registry."""
    if name in METHODS and not replace:
        raise ValueError(f"method '{name}' is already registered; pass replace=True to change it")
    METHODS[name] = factory


def make_method(name: str) -> Method:
    """A fresh instance of a registered method, named."""
    factory = METHODS.get(name)
    if factory is None:
        raise UnknownMethodError(name, list(METHODS))
    method = factory()
    method.name = name
    return method
