"""One evaluation run: dataset -> store -> every method -> metrics -> significance -> report.

:func:`run_evaluation` is the library call behind ``related-posts eval``. All methods rank
the same articles, read from the same store (so the ``default`` method is exactly what
``related-posts refresh`` produces over that corpus, and encoding is cached in the store
across runs), and are scored on the same queries.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..article import vector_model_id
from ..recommend import Recommender
from ..recommend.embed import Embedder
from . import files
from .datasets import Dataset, attach_pairs, attach_qrels, load_dataset, sample
from .errors import NoJudgementsError, StoreMismatchError
from .judgements import Judgements, LabelJudgements, QrelsJudgements
from .methods import DEFAULT_METHODS, Corpus, Method, Ranking, encode_cached, make_method
from .metrics import (
    CUTOFFS,
    catalogue_coverage,
    correlations,
    gini,
    intra_list_similarity,
    mean,
    measure_keys,
    near_duplicate_pairs,
    ranking_metrics,
)
from .report import write_report
from .results import EvaluationResult, MethodResult
from .significance import N_RESAMPLES, best_of, compare_with_reference, holm
from .trec import write_trec

#: Queries whose full score rows feed the relevant / non-relevant score distributions.
DISTRIBUTION_QUERIES = 100
#: At most this many non-relevant scores are kept per method for the distribution plot.
DISTRIBUTION_CAP = 50_000

Progress = Callable[..., Iterable]


def _quiet(iterable: Iterable, **_: Any) -> Iterable:
    return iterable


def tqdm_progress(iterable: Iterable | None = None, **options: Any) -> Iterator:
    """A progress bar on stderr: around ``iterable``, or (without one) a bar to ``update``,
    which is how ``Recommender.refresh`` calls its ``progress`` factory."""
    from tqdm import tqdm

    return tqdm(iterable, file=sys.stderr, leave=False, **options)


def default_store_path(out: Path, dataset: Dataset, model_id: str) -> Path:
    """A store file inside ``out`` for this exact corpus and ``model_id`` (a vector id, so
    that vectors of another recipe are never reused).

    The name carries a digest of the article ids, so a second run on the same corpus reuses
    its vectors while a different corpus or sample never shares a store (``default`` ranks
    everything in its store).
    """
    slug = re.sub(r"[^a-z0-9]+", "-", dataset.name.lower()).strip("-")[:40] or "corpus"
    digest = hashlib.sha1("\n".join(dataset.ids).encode("utf-8")).hexdigest()[:10]
    model = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")[-40:]
    return out / f"store-{slug}-{model}-{digest}.db"


def build_judgements(dataset: Dataset, depth: int) -> Judgements:
    """Qrels when the dataset has them, else label overlap; an error if neither can judge."""
    labels = [a.labels for a in dataset.articles]
    if dataset.qrels:
        judgements: Judgements = QrelsJudgements(dataset.ids, dataset.qrels, labels)
    elif any(labels):
        judgements = LabelJudgements(labels, depth=depth)
    elif dataset.pairs:
        return _NoQueries()
    else:
        raise NoJudgementsError(
            f"{dataset.source}: nothing to evaluate against. Give articles \"labels\", "
            "or pass --qrels FILE (TREC qrels) or --pairs CSV (id1,id2,score)"
        )
    if judgements.queries().size == 0 and not dataset.pairs:
        raise NoJudgementsError(
            f"{dataset.source}: no article has a relevant other article (no two share a label, "
            "and no qrels judgement is positive), so ranking metrics are undefined"
        )
    return judgements


class _NoQueries:
    """Judgements of a pairs-only corpus: correlations are measured, ranking metrics are not."""

    kind = "pairs"

    def queries(self) -> np.ndarray:
        return np.zeros(0, dtype=np.int64)

    def gains(self, query: int, candidates: Sequence[int]) -> np.ndarray:
        return np.zeros(len(candidates))

    def ideal(self, query: int, depth: int) -> np.ndarray:
        return np.zeros(0)

    def n_relevant(self, query: int) -> int:
        return 0

    def groups(self, query: int) -> tuple[str, ...]:
        return ()

    def grades(self, query: int) -> dict[int, int]:
        return {}


def ingest(dataset: Dataset, recommender: Recommender, progress: Progress) -> tuple[Dataset, np.ndarray, dict[str, int]]:
    """Store and embed the corpus (cached vectors are reused) and return the store's vectors
    row-aligned.

    Articles the recommender did not store are dropped from the evaluation and counted.
    """
    source = dataset.name
    articles = (a.to_article(source) for a in dataset.articles)
    report = recommender.add(progress(articles, total=len(dataset.articles), desc="embedding", unit="article"))
    bound = recommender.store.model()
    if bound and recommender.store.unembedded(bound[0]):
        # Stored articles without a current vector (a store embedded with an older recipe,
        # see migration 005): add() leaves unchanged articles alone, a refresh embeds them.
        recommender.refresh()
    table = recommender.vectors()
    wanted = set(dataset.ids)
    foreign = [i for i in table.ids if i not in wanted]
    if foreign:
        raise StoreMismatchError(
            f"{recommender.store.path} holds {len(foreign)} articles that are not in {dataset.name} "
            f"(e.g. '{foreign[0]}'); the default method would rank them too. "
            "Use a new --db, or leave --db out to get a store per corpus inside --out"
        )
    position = {article_id: i for i, article_id in enumerate(table.ids)}
    kept = [a for a in dataset.articles if a.id in position]
    dropped: dict[str, int] = {}
    if len(kept) < len(dataset.articles):
        dropped["not stored by the recommender"] = len(dataset.articles) - len(kept)
        smaller = Dataset(name=dataset.name, articles=kept, source=dataset.source,
                          dropped=dict(dataset.dropped))
        if dataset.qrels is not None:
            attach_qrels(smaller, dataset.qrels)
        if dataset.pairs is not None:
            attach_pairs(smaller, dataset.pairs)
        dataset = smaller
    if report.skipped:
        dropped["skipped by Recommender.add"] = len(report.skipped)
    vectors = table.matrix[[position[a.id] for a in kept]]
    return dataset, vectors, dropped


def evaluate_method(
    method: Method,
    corpus: Corpus,
    judgements: Judgements,
    queries: np.ndarray,
    ks: Sequence[int],
    k: int,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    progress: Progress,
) -> MethodResult:
    """Fit one method, rank every article, and compute all its metrics."""
    depth = max(ks)
    started = time.perf_counter()
    method.fit(corpus)
    fit_s = time.perf_counter() - started

    n = len(corpus)
    lists: list[Ranking] = []
    latency = np.empty(n)
    started = time.perf_counter()
    for row in progress(range(n), desc=f"ranking: {method.name}", unit="article"):
        tick = time.perf_counter()
        lists.append(method.rank(row, depth))
        latency[row] = (time.perf_counter() - tick) * 1000.0
    rank_s = time.perf_counter() - started

    # Ranking metrics, per query.
    rows = []
    curve_ks = list(range(1, depth + 1))
    curves: dict[str, list[float]] = {"ndcg": [0.0] * depth, "p": [0.0] * depth}
    per_label_sum: dict[str, list[float]] = {}
    for q in queries:
        gains = judgements.gains(int(q), lists[q].indices)
        ideal = judgements.ideal(int(q), depth)
        row = ranking_metrics(gains, ideal, judgements.n_relevant(int(q)), sorted(set(ks) | set(curve_ks)))
        rows.append(row)
        for i, cutoff in enumerate(curve_ks):
            curves["ndcg"][i] += row[f"ndcg@{cutoff}"]
            curves["p"][i] += row[f"p@{cutoff}"]
        for label in judgements.groups(int(q)):
            per_label_sum.setdefault(label, []).append(row[f"ndcg@{k}"])
    per_query = {key: np.array([r[key] for r in rows], dtype=np.float64) for key in measure_keys(ks)}
    if queries.size:
        curves = {name: [v / queries.size for v in values] for name, values in curves.items()}
    summary: dict[str, float | None] = {
        key: (float(values.mean()) if values.size else None) for key, values in per_query.items()
    }

    # List quality, over every article's list cut to the tail length k.
    tails = [lst.indices[:k] for lst in lists]
    exposure = np.bincount(np.concatenate(tails) if tails else np.zeros(0, dtype=np.int64), minlength=n)
    duplicates = pairs_total = 0
    similarities = []
    for tail in tails:
        if tail.size >= 2:
            # The joint-text vectors: one yardstick for every method (and earlier reports).
            item_vectors = corpus.vectors[tail]
            similarities.append(intra_list_similarity(item_vectors))
            dup, total = near_duplicate_pairs(item_vectors)
            duplicates += dup
            pairs_total += total
    summary.update(
        {
            "coverage": catalogue_coverage(tails, n),
            "intra_list_similarity": mean(similarities),
            "near_duplicate_share": duplicates / pairs_total if pairs_total else 0.0,
            "abstention_rate": float(np.mean([t.size < min(k, n - 1) for t in tails])) if n else 0.0,
            "exposure_gini": gini(exposure),
            "latency_ms_mean": float(latency.mean()) if n else 0.0,
            "latency_ms_p50": float(np.percentile(latency, 50)) if n else 0.0,
            "latency_ms_p95": float(np.percentile(latency, 95)) if n else 0.0,
            "build_s": fit_s,
        }
    )
    summary.update(_pair_correlations(method, pairs))

    return MethodResult(
        name=method.name,
        description=method.description,
        baseline=method.baseline,
        summary=summary,
        per_query=per_query,
        lists=lists,
        latency_ms=latency,
        fit_s=fit_s,
        rank_s=rank_s,
        curves=curves,
        per_label={label: float(np.mean(v)) for label, v in per_label_sum.items()},
        score_samples=_score_samples(method, lists, judgements, queries, corpus.seed),
    )


def _pair_correlations(method: Method, pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None
                       ) -> dict[str, float | None]:
    if pairs is None:
        return {"spearman": None, "pearson": None}
    left, right, judged = pairs
    return correlations(method.pair_scores(left, right), judged)


def _score_samples(method: Method, lists: list[Ranking], judgements: Judgements,
                   queries: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Scores of relevant and non-relevant pairs, for the distribution plot.

    Full score rows of a seeded sample of queries where the method has them; otherwise
    the scores of the items in its lists.
    """
    if queries.size == 0:
        return {}
    rng = np.random.default_rng(seed)
    chosen = rng.choice(queries, size=min(DISTRIBUTION_QUERIES, queries.size), replace=False)
    relevant: list[np.ndarray] = []
    other: list[np.ndarray] = []
    for q in chosen:
        row = method.score_row(int(q))
        if row is None:
            candidates, scores = lists[q].indices, lists[q].scores
        else:
            candidates = np.delete(np.arange(row.size), q)
            scores = np.asarray(row, dtype=np.float64)[candidates]
        related = judgements.gains(int(q), candidates) > 0
        relevant.append(scores[related])
        other.append(scores[~related])
    non_relevant = np.concatenate(other)
    if non_relevant.size > DISTRIBUTION_CAP:
        non_relevant = rng.choice(non_relevant, size=DISTRIBUTION_CAP, replace=False)
    return {"relevant": np.concatenate(relevant), "non_relevant": non_relevant}


def run_evaluation(
    dataset: str | Path | Dataset,
    *,
    out: str | Path,
    methods: Sequence[str] = DEFAULT_METHODS,
    data_dir: str | Path | None = None,
    qrels: str | Path | None = None,
    pairs: str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    k: int = 5,
    db: str | Path | None = None,
    model: str | None = None,
    embedder: Embedder | None = None,
    progress: bool = False,
    write: bool = True,
    n_resamples: int = N_RESAMPLES,
    trec_out: str | Path | None = None,
    tags_field: str | None = None,
) -> EvaluationResult:
    """Evaluate ``methods`` on a labelled corpus and write the report into ``out``.

    ``dataset`` is a built-in name (``reuters``, ``bbc``), a JSON Lines file, or a loaded
    :class:`Dataset`. ``db`` is the store used for every method (default: a store per
    corpus and model inside ``out``, so a second run skips encoding). ``embedder`` overrides
    ``model`` (tests pass a fake). With ``write`` the report files (report.md, report.html,
    results.json, per_query.csv) are written to ``out``; with ``trec_out`` a TREC run file
    per method and the qrels the metrics used (see :mod:`.trec`) are written there.
    ``tags_field`` names the JSON Lines field stored as the articles' labels (the site's
    tags, which the ranking may use; see ``LabelledArticle.tags``).
    """
    clock = time.perf_counter()
    timings: dict[str, float] = {}
    wrap: Progress = tqdm_progress if progress else _quiet
    names = list(dict.fromkeys(methods))
    instances = [make_method(name) for name in names]  # unknown names fail before any work
    ks = tuple(sorted(set(CUTOFFS) | {k}))
    depth = max(ks)

    started = time.perf_counter()
    if isinstance(dataset, Dataset):
        data = dataset
    else:
        data = load_dataset(dataset, data_dir=data_dir, qrels=qrels, pairs=pairs,
                            tags_field=tags_field)
    data = sample(data, limit, seed)
    timings["load"] = time.perf_counter() - started

    out = files.make_folder(Path(out))
    started = time.perf_counter()
    recommender = Recommender(db, model=model, embedder=embedder) if db is not None else None
    if recommender is None:
        model_id = embedder.model_id if embedder is not None else _model_id(model)
        recommender = Recommender(default_store_path(out, data, vector_model_id(model_id)),
                                  model=model, embedder=embedder)
    try:
        data, store_vectors, store_dropped = ingest(data, recommender, wrap)
        texts = [a.text for a in data.articles]
        # The baselines embed each article as one text, as peers do; only the
        # recommender's methods get the store's recipe (Corpus.store_vectors).
        vectors = encode_cached(recommender, "joint", texts, progress=progress)
        timings["ingest"] = time.perf_counter() - started

        started = time.perf_counter()
        judgements = build_judgements(data, depth)
        queries = judgements.queries()
        timings["judgements"] = time.perf_counter() - started

        corpus = Corpus(
            ids=data.ids,
            texts=texts,
            vectors=vectors,
            store_vectors=store_vectors,
            recommender=recommender,
            depth=depth,
            seed=seed,
            progress=tqdm_progress if progress else None,
        )
        pair_arrays = _pair_arrays(data, corpus)
        results: dict[str, MethodResult] = {}
        for method in instances:
            started = time.perf_counter()
            results[method.name] = evaluate_method(
                method, corpus, judgements, queries, ks, k, pair_arrays, wrap
            )
            timings[f"method:{method.name}"] = time.perf_counter() - started
        # The store's binding names the model without loading it (a cached run loads none).
        bound = recommender.store.model()
        model_id = bound[0] if bound else vector_model_id(recommender.embedder.model_id)
        store_path = recommender.store.path
    finally:
        recommender.close()

    headline = f"ndcg@{k}"
    significance = _significance(results, headline, seed, n_resamples)
    result = EvaluationResult(
        dataset=data.name,
        source=data.source,
        judged_by=judgements.kind,
        ids=data.ids,
        titles=[a.title for a in data.articles],
        labels=[a.labels for a in data.articles],
        queries=queries,
        ks=ks,
        k=k,
        model_id=model_id,
        store_path=store_path,
        methods=results,
        significance=significance,
        default_method="default" if "default" in results else None,
        dropped={**data.dropped, **store_dropped},
        timings=timings,
        n_pairs=0 if pair_arrays is None else int(pair_arrays[0].size),
        recall_ceiling=_recall_ceiling(judgements, queries, ks),
        seed=seed,
    )
    if trec_out is not None:
        write_trec(result, judgements, trec_out)
    if write:
        # results.json carries the evaluation time; writing the report itself is not in it.
        timings["total"] = time.perf_counter() - clock
        write_report(result, out)
    else:
        timings["total"] = time.perf_counter() - clock
    return result


def _recall_ceiling(judgements: Judgements, queries: np.ndarray, ks: tuple[int, ...]) -> dict[int, float]:
    relevant = np.array([judgements.n_relevant(int(q)) for q in queries], dtype=np.float64)
    if relevant.size == 0:
        return {}
    return {c: float((np.minimum(relevant, c) / relevant).mean()) for c in ks}


def _model_id(model: str | None) -> str:
    from ..recommend.embed import DEFAULT_MODEL, model_id_for

    return model_id_for(model or DEFAULT_MODEL)


def _pair_arrays(data: Dataset, corpus: Corpus) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    if not data.pairs:
        return None
    left = np.array([corpus.index[p.id1] for p in data.pairs], dtype=np.int64)
    right = np.array([corpus.index[p.id2] for p in data.pairs], dtype=np.int64)
    judged = np.array([p.score for p in data.pairs], dtype=np.float64)
    return left, right, judged


def _significance(results: dict[str, MethodResult], metric: str, seed: int, n_resamples: int) -> dict[str, Any]:
    summaries = {name: r.summary for name, r in results.items()}
    baselines = [name for name, r in results.items() if r.baseline]
    reference = best_of(summaries, baselines, metric)
    if reference is None or len(results) < 2 or results[reference].per_query[metric].size == 0:
        return {"metric": metric, "reference": reference, "test": None, "methods": {}}
    tests = compare_with_reference(
        {name: r.per_query[metric] for name, r in results.items()}, reference, metric,
        n_resamples=n_resamples, seed=seed,
    )
    adjusted = holm({name: test.p_value for name, test in tests.items()})
    return {
        "metric": metric,
        "reference": reference,
        "test": f"paired randomisation (sign flips), two-sided, {n_resamples} resamples; "
        f"95% bootstrap interval of the mean difference; p_holm adjusts for the "
        f"{len(tests)} comparisons with the same reference (Holm-Bonferroni)",
        "methods": {name: {**test.to_dict(), "p_holm": adjusted[name]} for name, test in tests.items()},
    }
