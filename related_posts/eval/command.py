"""``related-posts eval``: the CLI over :func:`related_posts.eval.run_evaluation`.

Registered on the main group with ``cli.add_command(eval_command)``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ..errors import RelatedPostsError
from ..terminal import progress_wanted
from .datasets import DATA_ENV
from .methods import DEFAULT_METHODS, METHODS
from .metrics import CUTOFFS, MEASURES, summary_keys


def _tags_field(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    name, _, key = value.partition("=")
    if name.strip() != "labels" or not key.strip():
        raise click.BadParameter(f"expected labels=KEY (the field holding the site's tags), "
                                 f"got {value!r}")
    return key.strip()


def _method_list(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in METHODS]
    if unknown:
        raise click.BadParameter(f"unknown method '{unknown[0]}'. Valid: {', '.join(METHODS)}")
    if not names:
        raise click.BadParameter(f"give at least one of: {', '.join(METHODS)}")
    return names


@click.command("eval")
@click.option("--dataset", required=True, metavar="NAME_OR_PATH",
              help="Built-in corpus 'reuters' (Reuters-21578 ModApte test), 'reuters-train' (its "
              "training split, held out from every choice of the ranking) or 'bbc' (BBC News), "
              "or a JSON Lines file with one {id, title, text, labels} article a line.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar=DATA_ENV,
              help=f"Folder holding reuters21578/ and bbc-news/ for the built-in corpora. "
              f"Default: ${DATA_ENV}, else the shared/data folder beside the repository.")
@click.option("--qrels", type=click.Path(dir_okay=False, path_type=Path),
              help="TREC qrels ('query_id 0 doc_id relevance' a line); overrides label overlap.")
@click.option("--pairs", type=click.Path(dir_okay=False, path_type=Path),
              help="Judged pairs CSV with header id1,id2,score (higher = more similar); "
              "Spearman and Pearson are reported.")
@click.option("--methods", default=",".join(DEFAULT_METHODS), show_default=True, callback=_method_list,
              help="Comma-separated methods to compare side by side.")
@click.option("--limit", type=click.IntRange(min=2), default=None,
              help="Evaluate a reproducible random sample of N articles.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the sample, the random baseline, the tests and the examples.")
@click.option("--k", "-k", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Length of each related list (as refresh --k); nDCG@k is the headline metric. "
              f"Ranking metrics ({', '.join(m.heading for m in MEASURES)}) are also reported at "
              f"{', '.join(map(str, CUTOFFS))}.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.md, report.html, results.json and per_query.csv (created if missing).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Store for the evaluated corpus (embeddings are cached there). Default: a store "
              "per corpus and model inside --out, so a second run skips encoding.")
@click.option("--model", default=None,
              help="sentence-transformers model name or local folder (default all-MiniLM-L6-v2, "
              "packaged, offline); 'hashing' gives the model-free fake.")
@click.option("--trec-out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write a TREC run file per method (METHOD.run: qid Q0 docid rank score tag) and "
              "qrels.txt (integer grades proportional to the gains) into this folder, for trec_eval or "
              "ir_measures.")
@click.option("--field", "field", metavar="labels=KEY", default=None, callback=_tags_field,
              help="A JSON Lines field that plays the site's categories or tags: the recommender "
              "stores it as each article's labels, which the ranking may use (the relevance "
              "\"labels\" never reach it). E.g. --field labels=coarse on 20 Newsgroups.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print results.json to stdout.")
def eval_command(dataset: str, data_dir: Path | None, qrels: Path | None, pairs: Path | None,
                 methods: list[str], limit: int | None, seed: int, k: int, out: Path,
                 db: Path | None, model: str | None, trec_out: Path | None, field: str | None,
                 quiet: bool, as_json: bool) -> None:
    """Evaluate related lists against a labelled corpus, side by side with baselines.

    Writes OUT/report.md, a self-contained OUT/report.html with plots, OUT/results.json and
    OUT/per_query.csv.

    \b
      related-posts eval --dataset reuters --out eval-reuters
      related-posts eval --dataset corpus.jsonl --pairs judged.csv --out eval-mine
    """
    from .runner import run_evaluation  # keeps `related-posts --help` fast

    root = click.get_current_context().find_root()
    forced = bool(root.params.get("force_progress"))
    started = time.perf_counter()
    try:
        result = run_evaluation(
            dataset, out=out, methods=methods, data_dir=data_dir, qrels=qrels, pairs=pairs,
            limit=limit, seed=seed, k=k, db=db, model=model, progress=progress_wanted(quiet, forced),
            trec_out=trec_out, tags_field=field,
        )
    except RelatedPostsError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    if not quiet:
        summary_lines(result, time.perf_counter() - started, out)


def summary_lines(result, seconds: float, out: Path) -> None:
    """A short table on stderr: what a person wants to see before opening the report."""
    from .report import verdict  # numpy: only once a result exists


    keys = [*summary_keys(result.k, result.ks), "coverage"]
    click.echo(f"{result.dataset}: {result.n_articles} articles, {result.n_queries} queries", err=True)
    click.echo("method      " + "".join(f"{key:>11}" for key in keys), err=True)
    for name, method in result.methods.items():
        values = "".join(f"{method.summary[key]:>11.3f}" if method.summary.get(key) is not None else f"{'-':>11}"
                         for key in keys)
        click.echo(f"{name:<12}{values}", err=True)
    click.echo(verdict(result), err=True)
    click.echo(f"Report: {out / 'report.html'} ({seconds:.1f} s)", err=True)
