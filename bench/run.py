"""Benchmarks of related-posts: prints a table and writes JSON.

    python bench/run.py --quick          # about a minute: 10k articles, 64 texts to embed
    python bench/run.py                  # 10k and 100k articles (several minutes)
    python bench/run.py --sizes 10000,100000,1000000

Every figure comes with the baseline it is compared to, measured in the same run:
- embedding: ingest + embed through the library (body and title encoded apart, see
  ``recommend.embed.article_vectors``) vs bare ``SentenceTransformer.encode`` of the same
  titles and bodies, and of each article as one text (what embedding cost before);
- full refresh: the library's refresh vs a naive per-article loop and vs scikit-learn
  ``NearestNeighbors(metric="cosine", algorithm="brute")`` (both timed on a sample of
  queries and scaled to all articles; the table says so);
- incremental refresh after adding 100 articles vs the full refresh of the same store;
- ``related`` lookup latency of a stored article, and of a new text (one encode);
- peak RSS of each size's process, and store size on disk per article.
Each size runs in its own process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from synthetic import StoredVectorsOnly, SyntheticEmbedder, add_articles, build_store  # noqa: E402

from related_posts.recommend.embed import DEFAULT_MODEL, PRECISION_SUFFIX  # noqa: E402
from related_posts.recommend.neighbours import (  # noqa: E402
    PRECISION_VARIABLE,
    all_pairs_top_k,
    product_precision,
    top_k,
)
from related_posts.recommend.rank import RankingOptions  # noqa: E402
from related_posts.recommend.refresh import refresh_store  # noqa: E402
from related_posts.store import Store  # noqa: E402

K = 10
BASELINE_QUERIES = 1000
ALL_PAIRS_UP_TO = 200_000
EXACT_STEP_QUERIES = 20_000  # past ALL_PAIRS_UP_TO, exact search is timed on a slice and scaled
ADDED = 100


def bfloat16_units() -> bool:
    """Whether this processor has AMX tiles, where bfloat16 products are worth timing."""
    import torch

    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private: may go away
    return bool(amx is not None and amx())


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_size(n: int) -> dict:
    """Refresh, incremental refresh, API adds and lookups on a synthetic store of ``n``;
    then the baselines. Peak RSS is read before the baselines run, and the store is
    built by a separate process, so the figure is the library's own."""
    from related_posts import Article
    from related_posts.recommend.recommender import Recommender

    result: dict = {"n": n, "k": K}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "bench.db"
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build", str(path), "--size", str(n)], check=True)
        result["build_store_s"] = time.perf_counter() - started
        store = Store(path)
        options = RankingOptions(k=K)

        started = time.perf_counter()
        report, table = refresh_store(store, StoredVectorsOnly(), options, full=True)
        result["full_refresh_s"] = time.perf_counter() - started
        result["full_refresh_peak_rss_mib"] = peak_rss_mib()
        result["neighbours"] = report.neighbours
        result["products"] = product_precision()
        if report.neighbours == "approximate":
            result["approximate_recall_at_k"] = approximate_recall(store, table)
        del table
        if bfloat16_units():
            # The same refresh with candidates nominated in bfloat16, then again with the
            # default: both after the first, which also computed every article's terms;
            # and whether every list and score came out the same.
            ids = [f"p{i:07d}" for i in range(n)]
            default_lists = store.stored_lists(ids)
            for key, precision in (("full_refresh_bfloat16_s", "bfloat16"),
                                   ("full_refresh_again_s", result["products"])):
                os.environ[PRECISION_VARIABLE] = precision
                started = time.perf_counter()
                refresh_store(store, StoredVectorsOnly(), options, full=True)
                result[key] = time.perf_counter() - started
                del os.environ[PRECISION_VARIABLE]
                if precision == "bfloat16":
                    result["bfloat16_lists_identical"] = store.stored_lists(ids) == default_lists
            del default_lists
        add_articles(store, n, ADDED)
        started = time.perf_counter()
        report, _ = refresh_store(store, StoredVectorsOnly(), options)
        result["incremental_s"] = time.perf_counter() - started
        result["incremental_recomputed"] = report.recomputed
        result["incremental_propagated"] = report.propagated
        store.close()

        rec = Recommender(path, embedder=SyntheticEmbedder())
        ids = [f"p{i:07d}" for i in np.random.default_rng(1).integers(0, n, 2000)]
        latencies = []
        for article_id in ids:
            started = time.perf_counter()
            rec.related(article_id, k=K)
            latencies.append((time.perf_counter() - started) * 1000)
        result["lookup_p50_ms"] = percentile(latencies, 50)
        result["lookup_p95_ms"] = percentile(latencies, 95)
        rec.vectors()
        rec.add(Article("warm-up", "Warm-up post", "warm-up text"), update_lists=True)
        adds = []
        for number in range(30):
            started = time.perf_counter()
            rec.add(Article(f"api{number}", f"API post {number}", f"text {number}"), update_lists=True)
            adds.append((time.perf_counter() - started) * 1000)
        result["api_add_p50_ms"] = percentile(adds, 50)
        result["api_add_p95_ms"] = percentile(adds, 95)
        table = rec.vectors()
        rec.close()
        size = sum(p.stat().st_size for p in Path(scratch).glob("bench.db*"))
        result["store_bytes_per_article"] = size / len(table)
        result["peak_rss_mib"] = peak_rss_mib()

        matrix = table.matrix
        import torch  # noqa: F401  (imported before timing: the refresh above paid for it)

        # The exact top-K of every article among all (the model's vectors, the issue's
        # figure): all pairs at once up to ALL_PAIRS_UP_TO articles; past that, exact
        # products take hours, so a slice of queries is timed and scaled.
        started = time.perf_counter()
        if len(table) <= ALL_PAIRS_UP_TO:
            all_pairs_top_k(matrix, K + 1)
            queries = len(table)
        else:
            queries = EXACT_STEP_QUERIES
            top_k(matrix[:queries], matrix, K + 1)
        result["neighbour_step_s"] = (time.perf_counter() - started) * len(table) / queries
        result["neighbour_step_sampled"] = queries < len(table)
        sample = np.random.default_rng(0).choice(len(table), min(BASELINE_QUERIES, n), replace=False)
        started = time.perf_counter()
        for row in sample:
            scores = matrix @ matrix[row]
            scores[row] = -np.inf
            np.argsort(-scores)[:K]
        result["naive_loop_s"] = (time.perf_counter() - started) * n / len(sample)

        from sklearn.neighbors import NearestNeighbors

        started = time.perf_counter()
        nn = NearestNeighbors(n_neighbors=K + 1, metric="cosine", algorithm="brute").fit(matrix)
        nn.kneighbors(matrix[sample])
        result["sklearn_brute_s"] = (time.perf_counter() - started) * n / len(sample)
        result["baseline_queries"] = int(len(sample))
    return result


def approximate_recall(store: Store, table) -> float:
    """Share of the exact top-K neighbours (over a sample of articles) that the lists
    computed with the approximate index contain."""
    sample = np.random.default_rng(2).choice(len(table), min(BASELINE_QUERIES, len(table)),
                                             replace=False)
    exact, _ = top_k(table.matrix[sample], table.matrix, K + 1)
    stored = store.stored_lists([table.ids[row] for row in sample])
    found = []
    for row, neighbours in zip(sample, exact):
        truth = [table.ids[j] for j in neighbours if j != row][:K]
        listed = {i for i, _ in stored[table.ids[row]]}
        found.append(len(listed & set(truth)) / len(truth))
    return float(np.mean(found))


def embedding_texts(count: int) -> list[str]:
    """Distinct article texts made from the demo corpus (paragraphs recombined)."""
    from related_posts.demo import corpus_articles

    paragraphs = [p for a in corpus_articles() for p in a.body.split("\n\n") if p.strip()]
    rng = np.random.default_rng(0)
    return [
        f"Post {i}\n" + "\n\n".join(paragraphs[j] for j in rng.choice(len(paragraphs), 2, replace=False))
        for i in range(count)
    ]


def bench_embedding(count: int) -> dict:
    from related_posts.article import Article
    from related_posts.recommend.embed import SentenceTransformerEmbedder
    from related_posts.recommend.recommender import Recommender

    embedder = SentenceTransformerEmbedder()
    reduced = SentenceTransformerEmbedder(DEFAULT_MODEL + PRECISION_SUFFIX)
    texts = embedding_texts(count)
    embedder.encode(texts[:32])  # warm-up: first call pays one-off costs
    reduced.encode(texts[:32])
    articles = [Article(f"e{i}", t.split("\n", 1)[0], t.split("\n", 1)[1]) for i, t in enumerate(texts)]
    parts = [a.title for a in articles] + [a.body for a in articles]  # what the library encodes
    bare_runs, bare_part_runs, library_runs, reduced_runs = [], [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        # Alternate the two and keep each one's best of three: other load on the machine
        # then slows both alike instead of whichever ran at the wrong moment.
        for attempt in range(3):
            started = time.perf_counter()
            embedder._load().encode(texts, batch_size=32, normalize_embeddings=True)
            bare_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            full_vectors = embedder._load().encode(parts, batch_size=32, normalize_embeddings=True)
            bare_part_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            reduced_vectors = reduced._load().encode(parts, batch_size=32, normalize_embeddings=True)
            reduced_runs.append(time.perf_counter() - started)
            rec = Recommender(Path(scratch) / f"e{attempt}.db", embedder=embedder)
            started = time.perf_counter()
            rec.add(articles)
            library_runs.append(time.perf_counter() - started)
            if attempt < 2:
                rec.close()
        bare, bare_parts, library = min(bare_runs), min(bare_part_runs), min(library_runs)
        agreement = np.einsum("ij,ij->i", np.asarray(full_vectors, np.float64),
                              np.asarray(reduced_vectors, np.float64))
        latencies = []
        rec.refresh(k=K)
        for text in texts[:50]:
            started = time.perf_counter()
            rec.related_to_text("A new post", text, k=K)
            latencies.append((time.perf_counter() - started) * 1000)
        encode_latencies = []
        for text in texts[:50]:
            started = time.perf_counter()
            embedder.encode([text])
            encode_latencies.append((time.perf_counter() - started) * 1000)
        rec.close()
    return {
        "texts": count,
        "bare_encode_s": bare,
        "bare_parts_encode_s": bare_parts,
        "ingest_embed_s": library,
        # The library's own cost, over the model work it does (titles and bodies apart).
        "overhead": library / bare_parts - 1,
        # What encoding title and body apart costs over one text per article.
        "recipe_cost": bare_parts / bare - 1,
        "texts_per_s": count / library,
        "bfloat16_parts_encode_s": min(reduced_runs),
        "bfloat16_min_cosine": float(agreement.min()),
        "new_text_p50_ms": percentile(latencies, 50),
        "new_text_p95_ms": percentile(latencies, 95),
        "bare_encode_one_p50_ms": percentile(encode_latencies, 50),
    }


def run_in_subprocess(flag: str, value: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    subprocess.run([sys.executable, __file__, flag, value, "--part-out", out], check=True)
    data = json.loads(Path(out).read_text())
    os.unlink(out)
    return data


def speed(baseline: float, ours: float) -> str:
    ratio = baseline / ours
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def table(results: dict) -> str:
    lines = ["| figure | related-posts | baseline | ratio |", "|---|---|---|---|"]
    emb = results.get("embedding")
    if emb:
        lines.append(
            f"| ingest + embed {emb['texts']} articles (title and body apart) | "
            f"{emb['ingest_embed_s']:.2f} s ({emb['texts_per_s']:.0f}/s) | bare encode of the "
            f"titles and bodies {emb['bare_parts_encode_s']:.2f} s | overhead {emb['overhead']:+.1%} |"
        )
        lines.append(
            f"| bare encode, title and body apart | {emb['bare_parts_encode_s']:.2f} s | "
            f"one text per article {emb['bare_encode_s']:.2f} s | {emb['recipe_cost']:+.1%} |"
        )
        lines.append(
            f"| bare encode, titles and bodies, `{DEFAULT_MODEL + PRECISION_SUFFIX}` | "
            f"{emb['bfloat16_parts_encode_s']:.2f} s (each vector within cosine "
            f"{emb['bfloat16_min_cosine']:.5f}) | float32 {emb['bare_parts_encode_s']:.2f} s | "
            f"{speed(emb['bare_parts_encode_s'], emb['bfloat16_parts_encode_s'])} |"
        )
        lines.append(
            f"| `related_to_text` (new text) p50 / p95 | {emb['new_text_p50_ms']:.1f} / "
            f"{emb['new_text_p95_ms']:.1f} ms | one bare encode p50 {emb['bare_encode_one_p50_ms']:.1f} ms | "
            f"{emb['new_text_p50_ms'] / emb['bare_encode_one_p50_ms']:.2f}x |"
        )
    for size in results["sizes"]:
        n = f"{size['n']:,}"
        full = size["full_refresh_s"]
        step = size["neighbour_step_s"]
        how = "approximate index" if size.get("neighbours") == "approximate" else "exact"
        lines += [
            f"| full refresh, {n} articles, top-{size['k']}, {how} (neighbours, ranking, SQLite writes) | "
            f"{full:.1f} s | naive loop {size['naive_loop_s']:.1f} s* | "
            f"{speed(size['naive_loop_s'], full)} |",
            f"| exact top-{size['k']} of every article (model vectors, all pairs), {n} articles"
            f"{'*' if size['neighbour_step_sampled'] else ''} | {step:.1f} s | sklearn brute "
            f"{size['sklearn_brute_s']:.1f} s* | {speed(size['sklearn_brute_s'], step)} |",
            *([f"| full refresh again, {n}, candidates from bfloat16 products (AMX) | "
               f"{size['full_refresh_bfloat16_s']:.1f} s, lists "
               f"{'identical' if size['bfloat16_lists_identical'] else 'DIFFERENT'} | "
               f"float32 products (the default) {size['full_refresh_again_s']:.1f} s | "
               f"{speed(size['full_refresh_again_s'], size['full_refresh_bfloat16_s'])} |"]
              if "full_refresh_bfloat16_s" in size else []),
            f"| incremental refresh, +{ADDED} to {n} | {size['incremental_s']:.2f} s "
            f"({size['incremental_recomputed']} recomputed, {size['incremental_propagated']} updated) | "
            f"full {full:.1f} s | {size['incremental_s'] / full:.1%} of full |",
            f"| `related` lookup, {n} store, p50 / p95 | {size['lookup_p50_ms']:.2f} / "
            f"{size['lookup_p95_ms']:.2f} ms | | |",
            f"| `add(update_lists=True)`, one article, {n} store, p50 / p95 | "
            f"{size['api_add_p50_ms']:.1f} / {size['api_add_p95_ms']:.1f} ms | "
            f"incremental refresh {size['incremental_s'] * 1000:.0f} ms | "
            f"{size['api_add_p50_ms'] / (size['incremental_s'] * 1000):.1%} of it |",
            f"| peak RSS of the full refresh, {n} | {size['full_refresh_peak_rss_mib']:.0f} MiB | | |",
            f"| peak RSS of the whole run, {n} | {size['peak_rss_mib']:.0f} MiB | | |",
            *([f"| recall@{size['k']} of the approximate index, {n} | "
               f"{size['approximate_recall_at_k']:.4f} | exact search | |"]
              if "approximate_recall_at_k" in size else []),
            f"| store size per article, {n} | {size['store_bytes_per_article'] / 1024:.2f} KiB | | |",
        ]
    lines.append(f"\n\\* timed on a sample of queries ({BASELINE_QUERIES:,} for the baselines, "
                 f"{EXACT_STEP_QUERIES:,} for exact search past {ALL_PAIRS_UP_TO:,} articles) and scaled "
                 "to all articles.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k articles and 64 texts: about a minute")
    parser.add_argument("--sizes", default=None, help="comma-separated store sizes (default 10000,100000)")
    parser.add_argument("--texts", type=int, default=None, help="texts for the embedding figure")
    parser.add_argument("--no-embedding", action="store_true", help="skip the real-model figures")
    parser.add_argument("--out", default=str(ROOT / "results" / "latest.json"), help="JSON output path")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--embedding", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--part-out", help=argparse.SUPPRESS)
    parser.add_argument("--build", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    if args.build:  # a child process: build a synthetic store
        build_store(Path(args.build), args.size).close()
        return
    if args.part_out:  # a child process: one part, written as JSON
        part = bench_size(args.size) if args.size else bench_embedding(args.embedding)
        Path(args.part_out).write_text(json.dumps(part))
        return

    sizes = [int(s) for s in (args.sizes or ("10000" if args.quick else "10000,100000")).split(",")]
    texts = args.texts or (64 if args.quick else 1024)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
        "sizes": [],
    }
    if not args.no_embedding:
        print(f"embedding {texts} texts ...", file=sys.stderr)
        results["embedding"] = run_in_subprocess("--embedding", str(texts))
    for n in sizes:
        print(f"refresh benchmarks at {n:,} articles ...", file=sys.stderr)
        results["sizes"].append(run_in_subprocess("--size", str(n)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\nJSON: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
