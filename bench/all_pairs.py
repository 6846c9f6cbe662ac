"""All-pairs exact neighbours: ``all_pairs_top_k(M, k)`` against ``top_k(M, M, k)``.

    python bench/all_pairs.py                       # 100k x 384, k=11 (a few minutes)
    python bench/all_pairs.py --n 100000 --d 1408   # the fused-row width
    python bench/all_pairs.py --n 20000 --block 2048 --repeat 1

Both are timed on the same synthetic unit vectors (topic centres plus noise, seeded, so
that lists hold near ties as real articles do), the best of ``--repeat`` runs each; their
results are compared row by row. The baseline is scikit-learn's
``NearestNeighbors(metric="cosine", algorithm="brute")``, timed on 1,000 queries and
scaled to all n (the table says so). Prints a markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from related_posts.recommend.neighbours import all_pairs_top_k, pair_block_rows, top_k  # noqa: E402

BASELINE_QUERIES = 1000


def unit_vectors(n: int, d: int, seed: int = 0) -> np.ndarray:
    """``n`` float32 unit vectors around ``n // 50`` topic centres (at least 20)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(20, n // 50), d), dtype=np.float32)
    vectors = centres[rng.integers(0, len(centres), n)]
    vectors += 0.8 * rng.standard_normal((n, d), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def best_of(repeat: int, call):
    """(fastest wall time in seconds, result of the last call)."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return min(times), times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=384)
    parser.add_argument("--k", type=int, default=11, help="neighbours per row, itself included")
    parser.add_argument("--block", type=int, default=None,
                        help="rows per block of all_pairs_top_k (default: pair_block_rows(n))")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best counts")
    parser.add_argument("--skip-top-k", action="store_true",
                        help="time all_pairs_top_k only (for tuning); no agreement check")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "all_pairs.json")
    args = parser.parse_args()

    import torch

    matrix = unit_vectors(args.n, args.d)
    result: dict = {
        "n": args.n, "d": args.d, "k": args.k, "repeat": args.repeat,
        "block": args.block or pair_block_rows(args.n),
        "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
        "machine": platform.machine(), "torch": torch.__version__,
    }
    # Warm torch's thread pool and BLAS so the first timed run does not pay for it.
    all_pairs_top_k(matrix[:2000], args.k)

    result["all_pairs_s"], result["all_pairs_runs_s"], pairs = best_of(
        args.repeat, lambda: all_pairs_top_k(matrix, args.k, block=args.block))
    if not args.skip_top_k:
        result["top_k_s"], result["top_k_runs_s"], plain = best_of(
            args.repeat, lambda: top_k(matrix, matrix, args.k))
        same_indices = (plain[0] == pairs[0]).all(axis=1)
        same_scores = (plain[1] == pairs[1]).all(axis=1)
        result["rows_identical_indices"] = float(same_indices.mean())
        result["rows_identical_scores"] = float(same_scores.mean())

        from sklearn.neighbors import NearestNeighbors

        sample = np.random.default_rng(1).choice(args.n, min(BASELINE_QUERIES, args.n),
                                                 replace=False)

        def sklearn_brute() -> None:
            nn = NearestNeighbors(n_neighbors=min(args.k, args.n), metric="cosine",
                                  algorithm="brute").fit(matrix)
            nn.kneighbors(matrix[sample])

        sampled, result["sklearn_runs_s"], _ = best_of(args.repeat, sklearn_brute)
        result["sklearn_brute_s"] = sampled * args.n / len(sample)
        result["sklearn_queries_timed"] = int(len(sample))

    print(f"\nn={args.n}  d={args.d}  k={args.k}  block={result['block']}  "
          f"threads={result['torch_threads']}  (best of {args.repeat})\n")
    print("| method | seconds | vs all_pairs_top_k |")
    print("|---|---:|---:|")
    print(f"| all_pairs_top_k(M, k) | {result['all_pairs_s']:.1f} | 1.00 |")
    if not args.skip_top_k:
        print(f"| top_k(M, M, k) | {result['top_k_s']:.1f} | "
              f"{result['top_k_s'] / result['all_pairs_s']:.2f} |")
        print(f"| sklearn brute cosine ({result['sklearn_queries_timed']} queries, scaled) | "
              f"{result['sklearn_brute_s']:.1f} | "
              f"{result['sklearn_brute_s'] / result['all_pairs_s']:.2f} |")
        print(f"\nrows with identical indices: {result['rows_identical_indices']:.4%}, "
              f"identical scores: {result['rows_identical_scores']:.4%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
