"""Write an :class:`~related_posts.eval.runner.EvaluationResult` out for people and scripts.

Files written into the output folder:

- ``results.json``: the summary of issue 4's schema (lowercase metric keys);
- ``per_query.csv``: one row per method and query, every ranking metric (the raw rows
  behind every mean, for one's own analysis);
- ``report.md``: the tables, for reading in a terminal or a pull request;
- ``report.html``: one self-contained page, the same tables plus matplotlib plots embedded
  as base64 PNGs (metric by cutoff, score distributions of relevant and non-relevant pairs,
  per-label bars) and example articles with their content-farm and new tails.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..recommend.render import markdown_text
from . import files
from .metrics import definitions, heading_of, measure_keys, summary_keys
from .results import EvaluationResult

N_EXAMPLES = 3
SIGNIFICANCE_LEVEL = 0.05
MAX_LABELS = 12

#: Column order and headings of the two method tables.
QUALITY_COLUMNS = [
    ("coverage", "coverage"),
    ("intra_list_similarity", "intra-list sim."),
    ("near_duplicate_share", "near-dup pairs"),
    ("abstention_rate", "abstention"),
    ("exposure_gini", "exposure Gini"),
    ("latency_ms_p50", "latency p50 ms"),
    ("latency_ms_p95", "latency p95 ms"),
    ("build_s", "build s"),
]


def write_report(result: EvaluationResult, out: str | Path) -> dict[str, Path]:
    """Write results.json, per_query.csv, report.md and report.html into ``out``; return their paths."""
    out = files.make_folder(Path(out))
    paths = {
        "json": out / "results.json",
        "per_query": out / "per_query.csv",
        "markdown": out / "report.md",
        "html": out / "report.html",
    }
    files.write_text(paths["json"], json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    write_per_query(result, paths["per_query"])
    files.write_text(paths["markdown"], render_markdown(result))
    files.write_text(paths["html"], render_html(result))
    return paths


def write_per_query(result: EvaluationResult, path: Path) -> None:
    """One row per (method, query): the query's id, labels and every ranking metric."""
    methods = list(result.methods.values())
    keys = list(methods[0].per_query) if methods else []
    rows = (
        [method.name, result.ids[query], "|".join(result.labels[query])]
        + [f"{method.per_query[key][position]:.6f}" for key in keys]
        + [f"{method.latency_ms[query]:.4f}"]
        for method in methods
        for position, query in enumerate(result.queries)
    )
    files.write_csv(path, ["method", "query_id", "labels", *keys, "latency_ms"], rows)


# -- tables, shared by markdown and html ---------------------------------------------------------


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != 0 and abs(value) < 10 ** -digits:
            return f"{value:.1e}"
        return f"{value:.{digits}f}"
    return str(value)


def ranking_table(result: EvaluationResult) -> tuple[list[str], list[list[str]]]:
    """Headline columns first (P@k, nDCG@k at the list length), then every other cutoff."""
    k = result.k
    keys = summary_keys(k, result.ks)
    keys += [key for key in measure_keys(result.ks) if key not in keys]
    header = ["method", *[heading_of(key) for key in keys]]
    rows = []
    best = {key: max((m.summary.get(key) or 0.0) for m in result.methods.values()) for key in keys}
    for method in result.methods.values():
        cells = [method.name + ("" if method.baseline else " *")]
        for key in keys:
            value = method.summary.get(key)
            text = _fmt(value)
            cells.append(f"**{text}**" if value is not None and value == best[key] and len(result.methods) > 1 else text)
        rows.append(cells)
    return header, rows


#: Fewer timed lookups than this and a 95th percentile is one or two samples: it is not shown.
MIN_P95_SAMPLES = 100


def quality_table(result: EvaluationResult) -> tuple[list[str], list[list[str]]]:
    header = ["method", *[title for _, title in QUALITY_COLUMNS]]
    hidden = {"latency_ms_p95"} if result.n_articles < MIN_P95_SAMPLES else set()
    rows = [
        [m.name, *[_fmt(None if key in hidden else m.summary.get(key), 4 if key.startswith("latency") else 3)
                   for key, _ in QUALITY_COLUMNS]]
        for m in result.methods.values()
    ]
    return header, rows


def significance_table(result: EvaluationResult) -> tuple[list[str], list[list[str]]]:
    tests = result.significance.get("methods", {})
    header = ["method", f"mean {heading_of(result.headline)}", "difference", "95% interval", "p-value", "p (Holm)", "n"]
    rows = [
        [
            name,
            _fmt(t["mean"]),
            f"{t['mean_difference']:+.3f}",
            f"[{t['ci_low']:+.3f}, {t['ci_high']:+.3f}]",
            _fmt(t["p_value"], 4),
            _fmt(t.get("p_holm"), 4),
            str(t["n"]),
        ]
        for name, t in tests.items()
    ]
    return header, rows


def pairs_table(result: EvaluationResult) -> tuple[list[str], list[list[str]]]:
    header = ["method", "Spearman", "Pearson"]
    rows = [[m.name, _fmt(m.summary.get("spearman")), _fmt(m.summary.get("pearson"))] for m in result.methods.values()]
    return header, rows


def label_table(result: EvaluationResult) -> tuple[list[str], list[list[str]]]:
    labels = _top_labels(result)
    counts = _label_counts(result)
    header = ["label", "queries", *result.methods]
    rows = [
        [label, str(counts[label]), *[_fmt(m.per_label.get(label)) for m in result.methods.values()]]
        for label in labels
    ]
    return header, rows


def _label_counts(result: EvaluationResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for query in result.queries:
        for label in result.labels[query]:
            counts[label] = counts.get(label, 0) + 1
    return counts


def _top_labels(result: EvaluationResult) -> list[str]:
    counts = _label_counts(result)
    return sorted(counts, key=lambda label: (-counts[label], label))[:MAX_LABELS]


def verdict(result: EvaluationResult) -> str:
    """One sentence: does the default beat the best baseline, and how sure are we."""
    sig = result.significance
    reference = sig.get("reference")
    default = result.default_method
    if result.n_queries == 0:
        return "No article has a relevant other article, so only the judged pairs are compared."
    if reference is None:
        return "No baseline was run, so nothing is compared."
    best = result.methods[reference].summary.get(result.headline)
    if default is None or default not in sig.get("methods", {}):
        return f"Best baseline: {reference} ({heading_of(result.headline)} {_fmt(best)}). The default method was not run."
    test = sig["methods"][default]
    significant = test["p_value"] < SIGNIFICANCE_LEVEL
    if not significant:
        word = "is level with"
    elif test["mean_difference"] > 0:
        word = "beats"
    else:
        word = "is worse than"
    return (
        f"The default ({heading_of(result.headline)} {_fmt(test['mean'])}) {word} the best baseline, {reference} "
        f"({_fmt(best)}): difference {test['mean_difference']:+.3f}, 95% interval "
        f"[{test['ci_low']:+.3f}, {test['ci_high']:+.3f}], p = {_fmt(test['p_value'], 4)}, "
        f"{'' if significant else 'not '}significant at 5% (paired randomisation test over {test['n']} queries; "
        "this is the one comparison planned in advance, so its p is not adjusted; the table's "
        "Holm column is the one to read for the other methods)."
    )


def _example_tail(result: EvaluationResult, query: int, name: str | None) -> list[dict[str, Any]]:
    """The first ``k`` items ``name`` lists for ``query``, each marked by whether it shares a label."""
    if name is None:
        return []
    mine = set(result.labels[query])
    ranking = result.methods[name].lists[query]
    return [
        {
            "id": result.ids[i],
            "title": result.titles[i],
            "labels": list(result.labels[i]),
            "score": float(s),
            "shares_label": bool(mine & set(result.labels[i])),
        }
        for i, s in zip(ranking.indices[: result.k], ranking.scores[: result.k])
    ]


def examples(result: EvaluationResult) -> list[dict[str, Any]]:
    """A few seeded example queries with their content-farm (random) tail and the new tail."""
    if result.queries.size == 0:
        return []
    new_name = result.default_method or result.significance.get("reference") or next(iter(result.methods))
    old_name = "random" if "random" in result.methods else None
    rng = np.random.default_rng(result.seed)
    chosen = rng.choice(result.queries, size=min(N_EXAMPLES, result.queries.size), replace=False)
    found = []
    for query in sorted(int(q) for q in chosen):
        tail = partial(_example_tail, result, query)
        found.append(
            {
                "id": result.ids[query],
                "title": result.titles[query],
                "labels": list(result.labels[query]),
                "old_method": old_name,
                "old": tail(old_name),
                "new_method": new_name,
                "new": tail(new_name),
            }
        )
    return found


# -- markdown ------------------------------------------------------------------------------------


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header), *[line(r) for r in rows]])


def _context_lines(result: EvaluationResult) -> list[str]:
    dropped = ", ".join(f"{count:,} {why}" for why, count in result.dropped.items() if count) or "nothing"
    timing = result.timings
    per_method = ", ".join(
        f"{name} {timing[f'method:{name}']:.1f} s" for name in result.methods if f"method:{name}" in timing
    )
    return [
        f"- Corpus: **{markdown_text(result.dataset)}**, {result.n_articles:,} articles "
        f"({markdown_text(_shown_path(result.source))})",
        f"- Queries: {result.n_queries:,} (articles with at least one relevant other article; "
        f"relevance from {result.judged_by})",
        f"- Model: {result.model_id}; list length k = {result.k}; seed {result.seed}",
        f"- Left out: {dropped}",
        f"- Time: {timing.get('total', 0):.1f} s in all (load {timing.get('load', 0):.1f} s, "
        f"store and embed {timing.get('ingest', 0):.1f} s; {per_method})",
        f"- Store: {markdown_text(_shown_path(result.store_path))}",
    ]


def _shown_path(path: str) -> str:
    """A path as the report shows it: relative to the working folder, so that a report shared
    with others does not carry the author's folders."""
    if path == ":memory:" or not Path(path).is_absolute():
        return path
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return Path(path).name


LIST_DEFINITIONS = """\
- **coverage**: share of the catalogue shown in at least one list; **intra-list sim.**: mean pairwise cosine
  of a list's items (model vectors); **near-dup pairs**: share of item pairs in a list with cosine ≥ 0.95;
  **abstention**: share of articles given fewer than k items; **exposure Gini**: inequality of how often each
  article is shown (0 = even); **latency**: time per article to get its list (the default method reads the
  stored list; its ranking cost is in build s); p95 is shown from 100 timed articles up.
- Significance: paired randomisation test (sign flips) on per-query {headline} of every method against one
  reference, the best baseline, and a bootstrap 95% interval of the mean difference. Several methods are
  compared with the same reference, so the table also gives Holm-Bonferroni adjusted p-values; the verdict
  (default against the best baseline) is the one comparison planned in advance. `*` marks methods that are
  not baselines.
"""


def _definitions(result: EvaluationResult) -> str:
    """The report's definitions: the ranking measures from the registry, then the list-quality ones."""
    ranking = "".join(f"- **{heading}**: {text}.\n" for heading, text in definitions(max(result.ks)).items())
    if result.recall_ceiling:
        reach = ", ".join(f"recall@{c} {v:.3f}" for c, v in result.recall_ceiling.items())
        ranking += (f"- **Recall ceiling** (the best a list of that length can reach, mean of min(R, k) / R): "
                    f"{reach}.\n")
    return ranking + LIST_DEFINITIONS.format(headline=heading_of(result.headline))


def render_markdown(result: EvaluationResult) -> str:
    parts = [f"# Related-posts evaluation: {result.dataset}", "", *_context_lines(result), ""]
    parts += ["## Ranking quality", "", _md_table(*ranking_table(result)), "", verdict(result), ""]
    parts += ["## List quality", "", _md_table(*quality_table(result)), ""]
    if result.significance.get("methods"):
        parts += [
            f"## Significance against the best baseline ({result.significance['reference']})",
            "",
            _md_table(*significance_table(result)),
            "",
        ]
    if result.n_pairs:
        parts += [f"## Judged pairs ({result.n_pairs})", "", _md_table(*pairs_table(result)), ""]
    if any(m.per_label for m in result.methods.values()):
        parts += [f"## {heading_of(result.headline)} by label", "", _md_table(*label_table(result)), ""]
    shown = examples(result)
    if shown:
        parts += ["## Examples", ""]
        for example in shown:
            labels = markdown_text(", ".join(example["labels"]))
            parts += [f"### {markdown_text(example['title'])} ({markdown_text(example['id'])}, {labels})", ""]
            for key, title in (("old", "Content-farm tail"), ("new", "New tail")):
                name = example[f"{key}_method"]
                if name is None:
                    continue
                parts.append(f"{title} ({name}):")
                parts += [
                    f"{i}. {'✓' if item['shares_label'] else '✗'} {markdown_text(item['title'])} "
                    f"({markdown_text(', '.join(item['labels']))})"
                    for i, item in enumerate(example[key], start=1)
                ]
                parts.append("")
    parts += ["## Definitions", "", _definitions(result)]
    parts.append("Plots are in report.html; per-query rows in per_query.csv; the summary in results.json.\n")
    return "\n".join(parts)


# -- html ----------------------------------------------------------------------------------------


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(text: str, tag: str) -> str:
        bold = text.startswith("**") and text.endswith("**")
        text = html.escape(text.strip("*") if bold else text)
        return f"<{tag}>{'<b>' + text + '</b>' if bold else text}</{tag}>"

    head = "".join(cell(h, "th") for h in header)
    body = "".join("<tr>" + "".join(cell(c, "td") for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{encoded}">'


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory only
    import matplotlib.pyplot as plt

    return plt


def plot_metric_by_k(result: EvaluationResult) -> str:
    """nDCG@k and P@k by list length, with 95% intervals at the reported cutoffs.

    The y-axis is fitted to the methods being compared; the random baseline, usually far
    below them, is drawn dashed and named in the legend with its value when it falls
    under the axis, instead of squeezing the others into a sliver of a 0-1 scale.
    """
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for axis, key, title in zip(axes, ("ndcg", "p"), ("nDCG@k", "P@k")):
        compared = [m for m in result.methods.values() if m.name != "random" and m.curves.get(key)]
        shown = [v for m in compared for v in m.curves[key]]
        low, high = (min(shown), max(shown)) if shown else (0.0, 1.0)
        margin = max(0.02, (high - low) * 0.15)
        bottom, top = max(0.0, low - margin), min(1.0, high + margin)
        for place, method in enumerate(result.methods.values()):
            values = method.curves.get(key) or []
            if not values:
                continue
            if method.name == "random":
                below = max(values) < bottom
                axis.plot(range(1, len(values) + 1), values, linestyle="--", color="grey",
                          label=f"random (≈{np.mean(values):.2f}, below the axis)" if below else "random")
                continue
            line, = axis.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=method.name)
            cutoffs = [c for c in result.ks if method.per_query.get(f"{key}@{c}", np.zeros(0)).size]
            means = [float(method.per_query[f"{key}@{c}"].mean()) for c in cutoffs]
            spread = [1.96 * float(method.per_query[f"{key}@{c}"].std(ddof=1)) /
                      np.sqrt(max(method.per_query[f"{key}@{c}"].size, 1))
                      if method.per_query[f"{key}@{c}"].size > 1 else 0.0 for c in cutoffs]
            nudge = (place - (len(result.methods) - 1) / 2) * 0.07  # side by side, not on top of each other
            axis.errorbar([c + nudge for c in cutoffs], means, yerr=spread, fmt="none", ecolor=line.get_color(),
                          capsize=2)
        axis.set_xlabel("k (list length)")
        axis.set_ylabel(f"mean {title} over {result.n_queries:,} queries")
        axis.set_title(f"{title} (bars: 95% interval of the mean)", fontsize=10)
        axis.set_ylim(bottom, top)
        axis.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="best")
    figure.tight_layout()
    return _png(figure)


def plot_score_distributions(result: EvaluationResult) -> str:
    plt = _pyplot()
    methods = [m for m in result.methods.values() if m.score_samples]
    if not methods:
        return ""
    columns = min(3, len(methods))
    rows = (len(methods) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.8 * rows), squeeze=False)
    for axis, method in zip(axes.flat, methods):
        relevant = method.score_samples.get("relevant", np.zeros(0))
        other = method.score_samples.get("non_relevant", np.zeros(0))
        finite = np.concatenate([relevant, other])
        finite = finite[np.isfinite(finite)]
        if finite.size:
            # Clip the range to the bulk: BM25's few huge scores would squash everything else.
            low, high = np.percentile(finite, [0.5, 99.5])
            bins = np.linspace(low, high if high > low else low + 1, 40)
            if other.size:
                axis.hist(other, bins=bins, density=True, alpha=0.55, label="not relevant")
            if relevant.size:
                axis.hist(relevant, bins=bins, density=True, alpha=0.55, label="relevant")
        axis.set_title(method.name, fontsize=10)
        axis.set_xlabel(f"{method.name} score (its own scale)", fontsize=8)
        axis.set_ylabel("density", fontsize=8)
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(methods):]:
        axis.axis("off")
    figure.tight_layout()
    return _png(figure)


def plot_per_label(result: EvaluationResult) -> str:
    labels = _top_labels(result)
    if not labels:
        return ""
    plt = _pyplot()
    methods = list(result.methods.values())
    figure, axis = plt.subplots(figsize=(10, 0.45 * len(labels) * max(1, len(methods) / 3) + 1))
    height = 0.8 / len(methods)
    positions = np.arange(len(labels))
    for i, method in enumerate(methods):
        values = [method.per_label.get(label, 0.0) for label in labels]
        axis.barh(positions + i * height, values, height=height, label=method.name)
    axis.set_yticks(positions + 0.4 - height / 2)
    axis.set_yticklabels(labels)
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel(f"mean {heading_of(result.headline)} of the label's articles")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    axis.grid(axis="x", alpha=0.3)
    return _png(figure)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}
img{max-width:100%} .ok{color:#080} .no{color:#b00} .tails{display:flex;gap:2em}
.tails ol{margin:.3em 0 1em} code{background:#f4f4f4;padding:0 .2em}
"""


def _html_examples(result: EvaluationResult) -> str:
    blocks = []
    for example in examples(result):
        columns = []
        for key, title in (("old", "Content-farm tail"), ("new", "New tail")):
            name = example[f"{key}_method"]
            if name is None:
                continue
            items = "".join(
                f"<li><span class=\"{'ok' if item['shares_label'] else 'no'}\">"
                f"{'✓' if item['shares_label'] else '✗'}</span> {html.escape(item['title'])} "
                f"<small>({html.escape(', '.join(item['labels']))}; {item['score']:.3f})</small></li>"
                for item in example[key]
            )
            columns.append(f"<div><b>{title}</b> ({html.escape(name)})<ol>{items}</ol></div>")
        blocks.append(
            f"<h3>{html.escape(example['title'])}</h3><p><code>{html.escape(example['id'])}</code> · "
            f"labels: {html.escape(', '.join(example['labels']))}</p><div class=\"tails\">{''.join(columns)}</div>"
        )
    return "".join(blocks)


def _markdownish(line: str) -> str:
    """Escape a context line and render its **bold** parts (only what _context_lines emits)."""
    text = html.escape(line.lstrip("- "))
    parts = text.split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def render_html(result: EvaluationResult) -> str:
    """One self-contained page: no external file, script or font."""
    sections = [
        f"<h1>Related-posts evaluation: {html.escape(result.dataset)}</h1>",
        "<ul>" + "".join(f"<li>{_markdownish(line)}</li>" for line in _context_lines(result)) + "</ul>",
        "<h2>Ranking quality</h2>",
        _html_table(*ranking_table(result)),
        f"<p>{html.escape(verdict(result))}</p>",
        "<h2>Metric by list length</h2>",
        plot_metric_by_k(result),
        "<h2>List quality</h2>",
        _html_table(*quality_table(result)),
    ]
    if result.significance.get("methods"):
        sections += [
            f"<h2>Significance against the best baseline ({html.escape(result.significance['reference'])})</h2>",
            _html_table(*significance_table(result)),
        ]
    if result.n_pairs:
        sections += [f"<h2>Judged pairs ({result.n_pairs})</h2>", _html_table(*pairs_table(result))]
    distributions = plot_score_distributions(result)
    if distributions:
        sections += ["<h2>Scores of relevant and non-relevant pairs</h2>", distributions]
    if any(m.per_label for m in result.methods.values()):
        sections += [f"<h2>{html.escape(heading_of(result.headline))} by label</h2>", plot_per_label(result),
                     _html_table(*label_table(result))]
    shown = _html_examples(result)
    if shown:
        sections += ["<h2>Examples</h2>", shown]
    definitions = _definitions(result)
    items = "".join(
        f"<li>{_markdownish(item.replace(chr(10) + '  ', ' '))}</li>" for item in definitions.strip().split("\n- ")
    )
    sections += ["<h2>Definitions</h2>", f"<ul>{items}</ul>"]
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Evaluation: {html.escape(result.dataset)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
