"""Score variants of the default ranking, measured side by side on query halves.

Reads the stores that ``related-posts eval`` leaves in its ``--out`` folders (vectors and
lexical terms are cached there), computes each variant's exact score matrix with numpy and
prints nDCG@5 (Jaccard gains) on two seeded random halves of the queries, so that a
choice made on one half can be checked on the other. Used to choose the defaults of
``RankingOptions``; the product's own numbers come from ``related-posts eval``.

    related-posts eval --dataset reuters --out eval/reuters      # once per corpus
    python bench/relevance.py --eval-dir eval --corpora reuters,bbc,20ng

Needs memory for a few n x n float32 matrices (about 2 GB at 11k articles).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from related_posts.eval.datasets import load_dataset
from related_posts.recommend.lexical import label_matrix, lexical_matrix
from related_posts.recommend.score import neighbour_weights
from related_posts.store import Store

DATASETS = {"reuters": "reuters", "bbc": "bbc", "reuters-train": "reuters-train",
            "20ng": "../shared/data/20newsgroups-train/20ng-train.jsonl"}


@dataclass
class Loaded:
    name: str
    ids: list[str]
    dense: np.ndarray       # the store's vectors (body + 0.5 title)
    joint: np.ndarray       # title + body as one text (the dense baseline)
    terms: list
    labels: list[frozenset]
    coarse: list[tuple[str, ...]]
    texts: list[str]


def subset(data: Loaded, chosen: np.ndarray) -> Loaded:
    return Loaded(data.name, [data.ids[i] for i in chosen], data.dense[chosen], data.joint[chosen],
                  [data.terms[i] for i in chosen], [data.labels[i] for i in chosen],
                  [data.coarse[i] for i in chosen], [data.texts[i] for i in chosen])


def rare_only(data: Loaded, most: int) -> Loaded:
    """The articles whose every label has at most ``most`` articles: a corpus of small topics."""
    from collections import Counter

    counts = Counter(label for item in data.labels for label in item)
    return subset(data, np.array([i for i, item in enumerate(data.labels)
                                  if item and all(counts[x] <= most for x in item)]))


def load(eval_dir: Path, name: str, limit: int | None = None, seed: int = 0) -> Loaded:
    root = Path(__file__).resolve().parents[1]
    target = DATASETS[name]
    if target.endswith(".jsonl"):
        target = str((root / target).resolve())
    dataset = load_dataset(target)
    folder = eval_dir / name
    stores = [p for p in folder.glob("store-*.db") if "sample" not in p.name]
    if len(stores) != 1:
        raise SystemExit(f"{folder}: expected one store-*.db, found {len(stores)}")
    store = Store(stores[0])
    table = store.vectors()
    row = table.row_of
    ids = [a.id for a in dataset.articles if a.id in row]
    dense = table.matrix[[row[i] for i in ids]].astype(np.float32)
    terms_by_id = store.lexical_terms()
    terms = [terms_by_id[i][1] for i in ids]
    joint_files = sorted(folder.glob("store-*.db.joint-*.npy"))
    joint = np.load(joint_files[0]).astype(np.float32) if joint_files else dense
    kept = {a.id: a for a in dataset.articles}
    labels = [frozenset(kept[i].labels) for i in ids]
    coarse: list[tuple[str, ...]] = [()] * len(ids)
    if target.endswith(".jsonl"):
        extra = {}
        with open(target, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                extra[record["id"]] = record.get("coarse")
        coarse = [tuple([extra[i]]) if extra.get(i) else () for i in ids]
    texts = [kept[i].text for i in ids]
    loaded = Loaded(name, ids, dense, joint, terms, labels, coarse, texts)
    if limit is not None and limit < len(ids):
        chosen = np.sort(np.random.default_rng(seed).choice(len(ids), limit, replace=False))
        loaded = subset(loaded, chosen)
    return loaded


def gains_matrix(labels: list[frozenset]) -> np.ndarray:
    vocabulary = {label: i for i, label in enumerate(sorted(set().union(*labels)))}
    incidence = np.zeros((len(labels), len(vocabulary)), dtype=np.float32)
    for r, item in enumerate(labels):
        for label in item:
            incidence[r, vocabulary[label]] = 1
    inter = incidence @ incidence.T
    sizes = incidence.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - inter
    gains = np.where(union > 0, inter / np.maximum(union, 1), 0).astype(np.float32)
    np.fill_diagonal(gains, 0)
    return gains


def ndcg_at(scores: np.ndarray, gains: np.ndarray, queries: np.ndarray, k: int = 5,
            floor: float | None = None) -> np.ndarray:
    """Per-query nDCG@k of the top-k of each score row (the diagonal excluded)."""
    s = scores[queries].copy()
    s[np.arange(len(queries)), queries] = -np.inf
    top = np.argpartition(-s, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, top, 1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, 1)
    got = np.take_along_axis(gains[queries], top, 1)
    if floor is not None:
        got = np.where(np.take_along_axis(s, top, 1) >= floor, got, 0)
    discount = 1 / np.log2(np.arange(2, k + 2))
    ideal = -np.sort(-np.partition(gains[queries], -k, axis=1)[:, -k:], axis=1)
    best = ideal @ discount
    return np.where(best > 0, (got @ discount) / np.where(best > 0, best, 1), 0)


def unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms > 0, norms, 1)).astype(np.float32)


def idf_terms_matrix(terms: list, dims: int, min_df: int = 1, smooth: bool = True,
                     power: float = 1.0) -> np.ndarray:
    """Hashed lexical rows with each term's weight times its IDF over these articles."""
    from related_posts.article import Terms

    hashes = np.concatenate([t.hashes for t in terms]) if terms else np.zeros(0, np.int32)
    unique, df = np.unique(hashes, return_counts=True)
    n = len(terms)
    idf = np.log((1 + n) / (1 + df)) + 1 if smooth else np.log(n / df)
    out = []
    for t in terms:
        where = np.searchsorted(unique, t.hashes)
        weights = t.weights * idf[where] ** power
        weights = np.where(df[where] >= min_df, weights, 0)
        out.append(Terms(t.hashes, weights.astype(np.float32), t.shingles))
    return lexical_matrix(out, dims)


def top_m(scores: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    import torch

    s = torch.from_numpy(scores.copy())
    s.fill_diagonal_(-np.inf)
    values, indices = torch.topk(s, m, dim=1)
    return indices.numpy(), values.numpy()


def lead_weights(values: np.ndarray, least: float | None = None) -> np.ndarray:
    """The library's neighbour weights; with ``least``, measured from at least that score."""
    if least is None:
        return neighbour_weights(values)
    last = np.maximum(values[:, -1:], least)
    w = np.maximum(values - last, 0)
    sums = w.sum(axis=1, keepdims=True)
    return np.where(sums > 0, w / np.where(sums > 0, sums, 1), 1 / values.shape[1])


def rerank(parts: list[np.ndarray], part_weights: list[float], m: int, strength: float,
           least: float | None = None, reciprocal: int = 0) -> np.ndarray:
    """The default's re-ranking: neighbourhoods in the fused space, each part pulled to
    the weighted mean of its neighbours' part, unit length, fused again; the score matrix."""
    total = sum(part_weights)
    fused = np.concatenate([p * np.sqrt(w / total) for p, w in zip(parts, part_weights)], 1)
    base = fused @ fused.T
    if m == 0:
        return base
    m = min(m, len(fused) - 1)
    idx, vals = top_m(base, m)
    w = lead_weights(vals, least).astype(np.float32)
    if reciprocal:  # only neighbours that have the article among their own nearest
        mutual = np.zeros(base.shape, dtype=bool)
        mutual[np.arange(len(base))[:, None], idx[:, :reciprocal]] = True
        keep = mutual[idx, np.arange(len(base))[:, None]]
        w = np.where(keep, w, 0).astype(np.float32)
        sums = w.sum(axis=1, keepdims=True)
        w = np.where(sums > 0, w / np.where(sums > 0, sums, 1), 0).astype(np.float32)
    if least is not None:  # no neighbour above the least score: no pull
        w = np.where((vals[:, :1] > least), w, 0).astype(np.float32)
    out = []
    for p, pw in zip(parts, part_weights):
        mean = np.einsum("nm,nmd->nd", w, p[idx])
        out.append(unit(p + strength * mean) * np.sqrt(pw / total))
    expanded = np.concatenate(out, 1)
    return expanded @ expanded.T


def rerank_alpha(parts: list[np.ndarray], part_weights: list[float], m: int, alpha: float,
                 strength: float = 1.0) -> np.ndarray:
    """Alpha query expansion on both sides: each part becomes its own vector plus its
    neighbours' weighted by their fused score to the power alpha (not normalised, so an
    article with weak neighbours keeps its own direction)."""
    total = sum(part_weights)
    fused = np.concatenate([p * np.sqrt(w / total) for p, w in zip(parts, part_weights)], 1)
    base = fused @ fused.T
    m = min(m, len(fused) - 1)
    idx, vals = top_m(base, m)
    w = (strength * np.maximum(vals, 0) ** alpha).astype(np.float32)
    out = []
    for p, pw in zip(parts, part_weights):
        mean = np.einsum("nm,nmd->nd", w, p[idx])
        out.append(unit(p + mean) * np.sqrt(pw / total))
    expanded = np.concatenate(out, 1)
    return expanded @ expanded.T


def zsum(matrices: list[np.ndarray], weights: list[float] | None = None) -> np.ndarray:
    total = 0
    for i, s in enumerate(matrices):
        s = s.astype(np.float32).copy()
        np.fill_diagonal(s, np.nan)
        z = (s - np.nanmean(s, 1, keepdims=True)) / np.nanstd(s, 1, keepdims=True)
        total = total + (weights[i] if weights else 1) * np.nan_to_num(z)
    return total


def random_pair_std(rows: np.ndarray, pairs: int = 20000, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(rows), pairs), rng.integers(0, len(rows), pairs)
    keep = a != b
    return float(np.einsum("ij,ij->i", rows[a[keep]], rows[b[keep]]).std())


def halves(queries: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    mask = np.random.default_rng(seed).random(len(queries)) < 0.5
    return queries[mask], queries[~mask]


def tfidf_matrix(texts: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    m = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2).fit_transform(texts)
    return (m @ m.T).toarray().astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=Path("eval"))
    parser.add_argument("--corpora", default="reuters,bbc,20ng")
    parser.add_argument("--variants", default="all")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--rare-labels", type=int,
                        help="keep only articles whose labels have at most this many articles")
    parser.add_argument("--max-relevant", type=int,
                        help="only queries with at most this many relevant articles "
                             "(a proxy for corpora of small topics)")
    parser.add_argument("--orphans", action="store_true", help="the planted-orphans report")
    args = parser.parse_args(argv)
    if args.orphans:
        orphan_report(args.eval_dir, args.corpora.split(","))
        return 0
    for name in args.corpora.split(","):
        for seed in [int(s) for s in args.seeds.split(",")]:
            data = load(args.eval_dir, name, args.limit, seed)
            if args.rare_labels:
                data = rare_only(data, args.rare_labels)
            gains = gains_matrix(data.labels)
            relevant = (gains > 0).sum(axis=1)
            queries = np.flatnonzero((relevant > 0) & (relevant <= (args.max_relevant or len(gains))))
            a, b = halves(queries)
            lexical = lexical_matrix(data.terms, 1024)
            variants = variants_of(data, lexical)
            chosen = variants if args.variants == "all" else {
                k: v for k, v in variants.items() if k in args.variants.split(",")}
            for label, make in chosen.items():
                scores = make()
                print(f"{name}\tn={len(data.ids)}\tseed={seed}\t{label:28s}\t"
                      f"{ndcg_at(scores, gains, a).mean():.4f}\t{ndcg_at(scores, gains, b).mean():.4f}"
                      f"\t{ndcg_at(scores, gains, queries).mean():.4f}", flush=True)
    return 0


def variants_of(data: Loaded, lexical: np.ndarray) -> dict:
    d = data.dense
    return {
        "dense(joint)": lambda: data.joint @ data.joint.T,
        "tfidf": lambda: tfidf_matrix(data.texts),
        "hybrid": lambda: zsum([tfidf_matrix(data.texts), data.joint @ data.joint.T]),
        "options-off": lambda: d @ d.T,
        "fusion": lambda: rerank([d, lexical], [1, 1], 0, 2),
        "default(m40)": lambda: rerank([d, lexical], [1, 1], 40, 2),
        "fusion-idf": lambda: rerank([d, idf_terms_matrix(data.terms, 1024)], [1, 1], 0, 2),
        "default-idf(m40)": lambda: rerank([d, idf_terms_matrix(data.terms, 1024)], [1, 1], 40, 2),
        **{f"default(m{m})": (lambda m=m: rerank([d, lexical], [1, 1], m, 2)) for m in (3, 5, 10, 20)},
        "default(sqrt n)": lambda: rerank([d, lexical], [1, 1], min(40, round(len(d) ** 0.5)), 2),
        "default(n/20)": lambda: rerank([d, lexical], [1, 1], min(40, max(1, round(len(d) / 20))), 2),
        "default(w2)": lambda: rerank([d, lexical], [1, 2], 40, 2),
        "default(w0.5)": lambda: rerank([d, lexical], [1, 0.5], 40, 2),
        "fusion(w2)": lambda: rerank([d, lexical], [1, 2], 0, 2),
        **{f"aqe-m{m}-a{a}": (lambda m=m, a=a: rerank_alpha([d, lexical], [1, 1], m, a))
           for m in (40, 100) for a in (1, 2, 3, 4, 6)},
        **{f"least-{t}": (lambda t=t: rerank([d, lexical], [1, 1], 40, 2, least=t))
           for t in (0.3, 0.4, 0.5, 0.6)},
        **{f"mix-{a}-{b}": (lambda a=a, b=b: rerank(
            [d, lexical, idf_terms_matrix(data.terms, 1024)], [1, a, b], 40, 2))
           for a, b in ((0.5, 0.5), (1, 0.5), (1, 1), (0.75, 0.25))},
        **{f"recip-{r}": (lambda r=r: rerank([d, lexical], [1, 1], 40, 2, reciprocal=r))
           for r in (20, 40)},
        "zfuse": lambda: zsum([d @ d.T, lexical @ lexical.T]),
        "zfuse-tfidf": lambda: zsum([d @ d.T, tfidf_matrix(data.texts)]),
        "sitez-fusion": lambda: rerank([d, lexical], [1 / random_pair_std(d), 1 / random_pair_std(lexical)], 0, 2),
        "sitez-m40": lambda: rerank([d, lexical], [1 / random_pair_std(d), 1 / random_pair_std(lexical)], 40, 2),
        **{f"labels-{w}": (lambda w=w: rerank([d, lexical, label_matrix(data.coarse)], [1, 1, w], 40, 2))
           for w in (0.1, 0.2, 0.3, 0.5, 1.0)},
        **{f"labels-norerank-{w}": (lambda w=w: rerank([d, lexical, label_matrix(data.coarse)], [1, 1, w], 0, 2))
           for w in (0.1, 0.2, 0.5)},
        "default-sqrtidf": lambda: rerank([d, idf_terms_matrix(data.terms, 1024, power=0.5)], [1, 1], 40, 2),
        "default-mindf2": lambda: rerank([d, idf_terms_matrix(data.terms, 1024, min_df=2, power=0)], [1, 1], 40, 2),
        "default-idf-w2": lambda: rerank([d, idf_terms_matrix(data.terms, 1024)], [1, 2], 40, 2),
    }



# -- orphans: articles on a subject nothing else in the corpus covers ----------------------

#: Per corpus, where its planted orphans come from: another corpus and the labels there
#: whose subjects the host corpus does not cover.
ORPHAN_SOURCES = {
    "reuters": ("20ng", ("rec.motorcycles", "rec.sport.hockey", "sci.med", "sci.space",
                         "soc.religion.christian", "comp.graphics", "rec.autos", "alt.atheism")),
    "bbc": ("20ng", ("rec.motorcycles", "sci.med", "sci.space", "sci.electronics",
                     "soc.religion.christian", "alt.atheism", "comp.windows.x", "sci.crypt")),
    "20ng": ("reuters", ("earn", "acq", "grain", "crude", "interest", "money-fx", "ship", "sugar")),
}


def planted(eval_dir: Path, host: Loaded, share: float = 0.05, seed: int = 0) -> tuple[Loaded, np.ndarray]:
    """``host`` with orphans appended (``share`` of its size), each with a label of its own;
    and a mask of the orphan rows."""
    source_name, wanted = ORPHAN_SOURCES[host.name]
    source = load(eval_dir, source_name)
    pool = [i for i, item in enumerate(source.labels) if item and set(item) <= set(wanted)]
    chosen = np.sort(np.random.default_rng(seed).choice(pool, int(share * len(host.ids)), replace=False))
    extra = subset(source, chosen)
    union = Loaded(host.name, host.ids + extra.ids, np.concatenate([host.dense, extra.dense]),
                   np.concatenate([host.joint, extra.joint]), host.terms + extra.terms,
                   host.labels + [frozenset([f"orphan:{i}"]) for i in extra.ids],
                   host.coarse + [()] * len(extra.ids), host.texts + extra.texts)
    mask = np.zeros(len(union.ids), dtype=bool)
    mask[len(host.ids):] = True
    return union, mask


def orphan_report(eval_dir: Path, names: list[str]) -> None:
    """For each corpus with 5% planted orphans: per threshold on each candidate score, the
    share of orphans left with at most one link, of normal lists cut, and nDCG@5 of the
    normal queries with links below the threshold dropped."""
    for name in names:
        host = load(eval_dir, name)
        data, orphan = planted(eval_dir, host)
        gains = gains_matrix(data.labels)
        normal = np.flatnonzero(~orphan & (gains > 0).any(axis=1))
        lexical = lexical_matrix(data.terms, 1024)
        fused = rerank([data.dense, lexical], [1, 1], 0, 2)
        ranked = rerank([data.dense, lexical], [1, 1], 40, 2)
        # Each orphan stands alone: orphans from one source group would be related to
        # one another, so their pairs are left out (their re-ranking neighbourhoods may
        # still hold one another, which flatters the re-ranked score of an orphan).
        apart = orphan[:, None] & orphan[None, :]
        fused[apart] = -np.inf
        ranked[apart] = -np.inf
        base = ndcg_at(ranked, gains, normal).mean()
        print(f"{name}: {orphan.sum()} orphans among {len(data.ids)}; default nDCG@5 of normal "
              f"queries {base:.4f}")
        s = ranked.copy()
        np.fill_diagonal(s, -np.inf)
        top = np.argsort(-s, axis=1)[:, :5]
        np.fill_diagonal(fused, 1.0)
        np.fill_diagonal(ranked, 1.0)
        best = np.where(np.eye(len(fused), dtype=bool), -np.inf, fused).max(axis=1)
        for q in (0.02, 0.05, 0.1):
            # A floor calibrated per site: this quantile of every article's best fused score.
            t = float(np.quantile(best, q))
            kept = (np.take_along_axis(fused, top, 1) >= t).sum(axis=1)
            lost = ndcg_at(np.where(fused >= t, ranked, -1e9), gains, normal, floor=-1e8).mean()
            print(f"  site quantile {q:.2f} of best fused ({t:.3f}): orphans <=1 link "
                  f"{np.mean(kept[orphan] <= 1):6.1%}  normal lists cut {np.mean(kept[~orphan] < 5):6.1%}"
                  f"  nDCG@5 normal {lost:.4f} ({lost - base:+.4f})")
        for label, gate in (("fused", fused), ("ranked", ranked)):
            gated = np.take_along_axis(gate, top, 1)
            for t in np.arange(0.25, 0.71, 0.05):
                kept = (gated >= t).sum(axis=1)
                lost = ndcg_at(np.where(gate >= t, ranked, -1e9), gains, normal, floor=-1e8).mean()
                print(f"  {label:6s} >= {t:.2f}: orphans <=1 link {np.mean(kept[orphan] <= 1):6.1%}"
                      f"  normal lists cut {np.mean(kept[~orphan] < 5):6.1%}"
                      f"  nDCG@5 normal {lost:.4f} ({lost - base:+.4f})")


if __name__ == "__main__":
    sys.exit(main())
