"""The ``related-posts`` command: a thin layer that parses options, calls the library, prints."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from . import demo as demo_data
from .errors import RelatedPostsError
from .eval.command import eval_command
from .recommend.embed import DEFAULT_MODEL
from .recommend.parse import FORMATS, parse_document
from .recommend.recommender import DB_ENV, DEFAULT_DB, Recommender
from .recommend.render import RenderOptions
from .sources import FieldMap, decode, expand_paths, read_file


class _Group(click.Group):
    """Turns the library's own errors into one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RelatedPostsError as exc:
            raise click.ClickException(str(exc)) from None


def db_option(function):
    return click.option(
        "--db",
        envvar=DB_ENV,
        default=DEFAULT_DB,
        show_default=True,
        type=click.Path(dir_okay=False),
        help=f"SQLite store to use (created if missing). Defaults to ${DB_ENV}, then {DEFAULT_DB}.",
    )(function)


def model_option(function):
    return click.option(
        "--model",
        default=None,
        help=f"sentence-transformers model name or local folder. Default: the store's own "
        f"model, else {DEFAULT_MODEL} (packaged, offline).",
    )(function)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars on stderr.")
k_option = click.option("--k", "-k", default=5, show_default=True, type=click.IntRange(1, 100),
                         help="Number of related items per article.")


def progress(quiet: bool):
    """A tqdm factory writing to stderr (rate and ETA included); silent when quiet.

    Used both to wrap an iterable and as ``progress(total=..., desc=..., unit=...)``.
    """
    from tqdm import tqdm

    def make_bar(iterable=None, **options):
        return tqdm(iterable, file=sys.stderr, disable=quiet, leave=False, **options)

    return make_bar


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(cls=_Group)
@click.version_option(package_name="related-posts")
def cli() -> None:
    """Replace unrelated "Related Posts" tails with articles that are really related.

    Typical use: ingest a site's articles into a SQLite store, refresh every article's
    related list, then print lists or rewrite pages with them.

    \b
      related-posts ingest posts/ --db site.db
      related-posts refresh --db site.db
      related-posts related my-post-id --db site.db
      related-posts rewrite page.txt --db site.db -o page.new.txt
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@db_option
@model_option
@click.option("--field", "fields", multiple=True, metavar="NAME=COLUMN",
              help="Map a record field, e.g. --field body=content --field id=guid. "
              "Names: id, title, body, url, published, source, lang.")
@json_option
@quiet_option
def ingest(paths: tuple[str, ...], db: str, model: str | None, fields: tuple[str, ...],
           as_json: bool, quiet: bool) -> None:
    """Store and embed articles from files and folders.

    PATHS are .txt/.md/.html pages (first line or '# heading' is the title) and
    .json/.jsonl/.csv records with id, title, body (or text), url, published fields.
    Folders recurse. Unchanged articles are skipped; changed ones are updated and
    re-embedded. Bad files and records are reported and skipped.
    """
    try:
        field_map = FieldMap.from_pairs(fields)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--field") from None
    files = expand_paths(paths)
    with Recommender(db, model=model) as rec:
        wrap = progress(quiet)
        articles = (item for path, root in wrap(files, desc="ingest", unit="file")
                    for item in read_file(path, root, field_map))
        report = rec.add(articles)
    if as_json:
        echo_json(report.to_dict())
        return
    click.echo(f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
               f"skipped {len(report.skipped)}  ({db})")
    for skipped in report.skipped:
        click.echo(f"  skipped {skipped}", err=True)


@cli.command()
@db_option
@model_option
@k_option
@click.option("--full", is_flag=True,
              help="Recompute every list, not only the lists that are due.")
@click.option("--dry-run", is_flag=True,
              help="Compute everything and show what would change, but write nothing.")
@json_option
@quiet_option
def refresh(db: str, model: str | None, k: int, full: bool, dry_run: bool, as_json: bool,
            quiet: bool) -> None:
    """Bring every related list up to date, incrementally.

    Embeds new and changed articles, recomputes the lists that are due, and enters each
    new article into the older lists where it beats the weakest link. Work is committed
    in batches: if a refresh is interrupted, the next one finishes it. Readers keep
    answering while it runs; a second refresh of the same store is refused.
    """
    with Recommender(db, model=model) as rec:
        report = rec.refresh(k=k, full=full, dry_run=dry_run, progress=progress(quiet))
    if as_json:
        echo_json(report.to_dict())
        return
    verb = "would write" if dry_run else "wrote"
    click.echo(
        f"{'[dry run] ' if dry_run else ''}embedded {report.embedded}; {verb} {report.lists} "
        f"lists ({report.recomputed} recomputed, {report.propagated} updated with new "
        f"articles) over {report.articles} articles in {report.seconds:.1f}s  ({db})"
    )
    for change in report.sample if dry_run else []:
        click.echo(f"  {change['id']}: {', '.join(change['before']) or '(none)'}\n"
                   f"    -> {', '.join(change['after']) or '(none)'}")


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@db_option
def remove(ids: tuple[str, ...], db: str) -> None:
    """Delete articles (unpublished or gone) from the store.

    They leave every related list at once; the next refresh refills those lists.
    """
    _require_store(db)
    with Recommender(db) as rec:
        removed = rec.remove(ids)
    click.echo(f"removed {removed} of {len(ids)} articles  ({db})")


@cli.command()
@click.argument("article_id")
@db_option
@model_option
@k_option
@json_option
def related(article_id: str, db: str, model: str | None, k: int, as_json: bool) -> None:
    """Print the related list of one stored article, with scores."""
    _require_store(db)
    with Recommender(db, model=model) as rec:
        items = rec.related(article_id, k=k)
    if as_json:
        echo_json([item.to_dict() for item in items])
        return
    for item in items:
        click.echo(f"{item.rank}. {item.score:.3f}  {item.title}  [{item.id}]"
                   + (f"  {item.url}" if item.url else ""))


@cli.command()
@click.argument("page", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@db_option
@model_option
@k_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Format of PAGE. Default: from its extension, else its content.")
@click.option("--heading", default=None, help="Heading of the new tail. Default: the page's own.")
@click.option("--teaser-chars", default=80, show_default=True, type=click.IntRange(0, 1000),
              help="Length of each item's teaser.")
@click.option("--scores", is_flag=True, help="Show each item's similarity score.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the page here instead of stdout.")
def rewrite(page: str, db: str, model: str | None, k: int, fmt: str | None, heading: str | None,
            teaser_chars: int, scores: bool, output: str | None) -> None:
    """Print PAGE with its related-posts tail replaced by this site's related list.

    Everything above the tail is kept byte for byte; a page without a tail gets one.
    """
    _require_store(db)
    text = _read_page(page)
    options = RenderOptions(heading=heading, teaser_chars=teaser_chars, show_scores=scores)
    with Recommender(db, model=model) as rec:
        result = rec.rewrite(text, format=fmt, filename=page, k=k, options=options)
    if output:
        Path(output).write_text(result, encoding="utf-8")
    else:
        click.echo(result, nl=False)


@cli.command()
@click.argument("page", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Format of PAGE. Default: from its extension, else its content.")
@json_option
def parse(page: str, fmt: str | None, as_json: bool) -> None:
    """Show how PAGE splits into title, body and existing related-posts tail."""
    document = parse_document(_read_page(page), format=fmt, filename=page)
    if as_json:
        echo_json(document.to_dict())
        return
    click.echo(f"format: {document.format}\ntitle:  {document.title}\n"
               f"body:   {len(document.body)} characters")
    if not document.has_tail:
        click.echo("tail:   none found")
        return
    click.echo(f"tail:   '{document.tail_heading or 'block'}' with {len(document.tail)} items")
    for item in document.tail:
        click.echo(f"  - {item.title}" + (f"  <{item.url}>" if item.url else ""))


@cli.command()
@db_option
@json_option
def articles(db: str, as_json: bool) -> None:
    """List the ids and titles of the stored articles."""
    _require_store(db)
    with Recommender(db) as rec:
        rows = [(a.id, a.title) for a in rec.store.articles()]
    if as_json:
        echo_json([{"id": i, "title": t} for i, t in rows])
    else:
        for article_id, title in rows:
            click.echo(f"{article_id}\t{title}")


@cli.command()
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="Keep the demo store here. Default: a temporary file, removed afterwards.")
@model_option
@k_option
@quiet_option
def demo(db: str | None, model: str | None, k: int, quiet: bool) -> None:
    """Run the whole pipeline on the bundled corpus and rewrite a content-farm page.

    Ingests the demo articles, computes their related lists, then shows the page's
    unrelated tail with each item's similarity to the article, and the page rewritten.
    """
    with tempfile.TemporaryDirectory() as scratch:
        path = db or str(Path(scratch) / "demo.db")
        with Recommender(path, model=model) as rec:
            report = rec.add(demo_data.corpus_articles())
            refreshed = rec.refresh(k=k, progress=progress(quiet))
            page = demo_data.content_farm_page()
            document = parse_document(page, format="text")
            audit = rec.score_tail(document)
            rewritten = rec.rewrite(page, format="text", k=k)
            new_items = rec.related_for_document(document, k)
        click.echo(f"Demo store {path if db else '(temporary)'}: {report.added + report.updated + report.unchanged} "
                   f"articles, {refreshed.lists} related lists, model {rec.embedder.model_id}.\n")
        click.echo(f"BEFORE: the tail this page was served with ('{document.title}')")
        for item, score in audit:
            click.echo(f"  {score:5.2f}  {item.title}")
        click.echo("\nAFTER: the related list computed from the site's own articles")
        for item in new_items:
            click.echo(f"  {item.score:5.2f}  {item.title}")
        click.echo("\n" + "=" * 78 + "\nThe rewritten page:\n" + "=" * 78)
        click.echo(rewritten, nl=False)


def _require_store(db: str) -> None:
    """Reading commands must not create an empty store by accident."""
    if not Path(db).exists():
        raise click.ClickException(
            f"{db} does not exist; create it with: related-posts ingest FILES --db {db}"
        )


def _read_page(page: str) -> str:
    data = sys.stdin.buffer.read() if page == "-" else Path(page).read_bytes()
    text = decode(data, page, html=page.lower().endswith((".html", ".htm")))
    if not isinstance(text, str):
        raise click.ClickException(str(text))
    if not text.strip():
        raise click.ClickException(f"{page}: empty file; expected an article page")
    return text



cli.add_command(eval_command)
