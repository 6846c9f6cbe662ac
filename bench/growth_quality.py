"""What frozen re-ranking neighbourhoods cost in list quality as a site grows.

    python bench/growth_quality.py --db eval-reuters/store-reuters-...db --dataset reuters
    python bench/growth_quality.py --db eval-bbc/store-bbc-...db --dataset bbc

Takes an evaluation store (``related-posts eval`` leaves one in its ``--out`` folder, with
every article embedded), writes the first ``--start`` share of the corpus with its stored
vectors into a new store and refreshes it in full, then adds the rest in ``--steps``
batches, each followed by a plain incremental ``refresh`` (what a cron job does). Articles
arrive in publication order when the corpus is dated, else in a seeded random order.
After each step the lists of the articles present are scored with the evaluation's
nDCG@5 (Jaccard gains of labels, among the articles present), and so are those of a copy
of the store refreshed with ``--full``, which finds every neighbourhood again: the
difference is what freezing costs at that step. A refresh finds them all itself once a
tenth of the site arrived since the last time (``REFIND_SHARE``), which shows as a step
that found every neighbourhood. Prints a markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from related_posts import Recommender  # noqa: E402
from related_posts.eval.datasets import load_dataset  # noqa: E402
from related_posts.eval.judgements import LabelJudgements  # noqa: E402
from related_posts.eval.metrics import ndcg_at_k  # noqa: E402
from related_posts.recommend.rank import published_days  # noqa: E402
from related_posts.store import Store  # noqa: E402

K = 5
DEPTH = 10  # the evaluation's deepest cutoff: ideal gains are kept to it


def arrival_order(articles, seed: int) -> tuple[np.ndarray, str]:
    """Publication order when nine in ten articles are dated (undated last), else random;
    with its description."""
    days = np.array([published_days(a.published) or np.nan for a in articles])
    if np.isfinite(days).mean() >= 0.9:
        return np.lexsort((np.arange(len(days)), np.nan_to_num(days, nan=np.inf))), "published"
    return np.random.default_rng(seed).permutation(len(articles)), f"random (seed {seed})"


def mean_ndcg(store: Store, present: list[int], ids: list[str], labels: list[tuple]) -> float:
    """Mean nDCG@5 of the stored lists of the ``present`` articles, judged among them."""
    judgements = LabelJudgements([labels[i] for i in present], depth=DEPTH)
    row_of = {ids[i]: row for row, i in enumerate(present)}
    scores = []
    for query in judgements.queries().tolist():
        ranked = [row_of[link.id] for link in store.related(ids[present[query]], limit=K)]
        scores.append(ndcg_at_k(judgements.gains(query, ranked), judgements.ideal(query, DEPTH), K))
    return float(np.mean(scores))


def refreshed_in_full(path: Path, copy: Path) -> Store:
    """A copy of the store at ``path`` after ``refresh --full``."""
    copy.unlink(missing_ok=True)
    source = sqlite3.connect(path)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    with Recommender(copy) as rec:
        rec.refresh(k=K, full=True)
    return Store(copy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="an evaluation store of --dataset")
    parser.add_argument("--dataset", required=True, help="reuters, bbc or a JSON Lines corpus")
    parser.add_argument("--start", type=float, default=0.9,
                        help="share of the corpus present at the first full refresh")
    parser.add_argument("--steps", type=int, default=10, help="batches the rest arrives in")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "results" / "growth_quality.json"))
    args = parser.parse_args()

    data = load_dataset(args.dataset)
    articles = [a.to_article(data.name) for a in data.articles]
    ids = [a.id for a in articles]
    labels = [tuple(a.labels) for a in data.articles]
    source = Store(args.db)
    model_id, dimension = source.model()
    table = source.vectors()
    missing = set(ids) - set(table.row_of)
    if missing:
        sys.exit(f"{args.db}: {len(missing)} articles of {args.dataset} have no vector; "
                 "run related-posts eval on it first")
    vectors = table.matrix[[table.row_of[i] for i in ids]]
    order, arrival = arrival_order(articles, args.seed)
    first = int(round(args.start * len(ids)))
    batches = [order[:first]] + [b for b in np.array_split(order[first:], args.steps) if len(b)]

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "growing.db"
        with Recommender(path) as rec:
            rec.store.bind_model(model_id, dimension)
            present: list[int] = []
            for step, batch in enumerate(batches):
                rec.store.write_articles([articles[i] for i in batch], vectors[batch], model_id)
                present += batch.tolist()
                started = time.perf_counter()
                report = rec.refresh(k=K)
                seconds = time.perf_counter() - started
                full = refreshed_in_full(path, Path(folder) / "full.db")
                rows.append({"step": step, "articles": report.articles,
                             "neighbourhoods": report.neighbourhoods,
                             "recomputed": report.recomputed, "propagated": report.propagated,
                             "seconds": round(seconds, 2),
                             "ndcg5": round(mean_ndcg(rec.store, present, ids, labels), 4),
                             "ndcg5_full": round(mean_ndcg(full, present, ids, labels), 4)})
                full.close()
                print(f"step {step}: {rows[-1]}", file=sys.stderr)

    result = {"dataset": args.dataset, "model_id": model_id, "start": args.start,
              "steps": args.steps, "order": arrival, "refreshes": rows,
              "machine": platform.platform()}
    print(f"{args.dataset}: {first:,} articles refreshed in full, then {len(batches) - 1} "
          f"batches in {arrival} order, each followed by a plain refresh\n")
    print("| step | articles | neighbourhoods found | lists recomputed | updated | seconds "
          "| nDCG@5 | after --full | cost |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['step']} | {row['articles']:,} | {row['neighbourhoods']:,} | "
              f"{row['recomputed']:,} | {row['propagated']:,} | {row['seconds']} | "
              f"{row['ndcg5']:.4f} | {row['ndcg5_full']:.4f} | "
              f"{row['ndcg5_full'] - row['ndcg5']:+.4f} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
