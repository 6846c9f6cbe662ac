"""The ``related-posts`` command: a thin layer that parses options, calls the library, prints."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import click

from . import demo as demo_data
from .errors import RelatedPostsError
from .eval.command import eval_command
from .eval.files import write_text as atomic_write_text
from .recommend.embed import DEFAULT_MODEL
from .recommend.neighbours import APPROXIMATE_FROM
from .recommend.parse import FORMATS, decode_page, parse_document
from .recommend.rank import DIRECTIONS
from .recommend.recommender import DB_ENV, DEFAULT_DB, Recommender
from .recommend.refresh import NEIGHBOUR_MODES
from .recommend.render import RenderOptions
from .sources import FieldMap, expand_paths
from .terminal import PROGRESS_ENV, progress_wanted


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that open transactions roll back as on Ctrl-C."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


class _Group(click.Group):
    """Turns the library's own errors into one-line messages instead of tracebacks, and
    SIGTERM (a service manager, a container stop) into the same clean stop as Ctrl-C."""

    def invoke(self, ctx: click.Context) -> Any:
        previous = _install(signal.SIGTERM, _on_sigterm)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            how = "SIGTERM" if isinstance(exc, _Terminated) else "Ctrl-C"
            click.echo(f"stopped by {how}: what was committed is kept (refresh and ingest commit in "
                       "batches); run the command again to finish", err=True)
            sys.exit(143 if isinstance(exc, _Terminated) else 130)
        except RelatedPostsError as exc:
            raise click.ClickException(one_line(str(exc))) from None
        except json.JSONDecodeError as exc:  # only the store holds JSON a command reads back
            raise click.ClickException(
                f"the store is damaged: a stored value is not valid JSON ({exc.msg}); rebuild it: ingest "
                "the site into a new --db and refresh") from None
        except sqlite3.DatabaseError as exc:
            message = str(exc)
            if "readonly" in message:
                # A store opened read-only (see Store) answers readers; a write ends here.
                raise click.ClickException(f"cannot write the store ({exc}): the file or its folder is "
                                           "read-only; check the permissions, or run this where the store "
                                           "can be written") from None
            if "full" in message:
                raise click.ClickException(
                    f"the disk is full ({exc}): the batch being written was rolled back and everything "
                    "committed before it is kept; free space (or move --db) and run the command again "
                    "to finish") from None
            if "no such table" in message or "no such column" in message:
                raise click.ClickException(
                    f"the store is damaged ({exc}): a table it needs is gone; rebuild it: ingest the site "
                    "into a new --db and refresh") from None
            if "malformed" in message or "not a database" in message:
                raise click.ClickException(
                    f"the store is damaged ({exc}); nothing more was written. See what is damaged with "
                    "sqlite3 STORE 'pragma quick_check', then restore a backup, or rebuild it: ingest the "
                    "site into a new --db and refresh") from None
            raise
        finally:
            _install(signal.SIGTERM, previous)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with control characters (newlines, escapes, NUL) written as escapes, so
    that a file name or id from the input can neither split a message nor drive the
    terminal."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def _install(signum: int, handler: Any) -> Any:
    """Set a signal handler where Python allows it (the main thread); return the old one."""
    if threading.current_thread() is not threading.main_thread() or handler is None:
        return None
    return signal.signal(signum, handler)


def _db_option(help_text: str):
    return click.option(
        "--db",
        envvar=DB_ENV,
        default=DEFAULT_DB,
        show_default=True,
        type=click.Path(dir_okay=False),
        help=f"{help_text} Defaults to ${DB_ENV}, then {DEFAULT_DB}.",
    )


#: --db on commands that write articles (the store is created if missing).
db_option = _db_option("SQLite store to use (created if missing).")
#: --db on commands that read or change a store that must already exist.
existing_db_option = _db_option("SQLite store to read (must exist: create it with ingest).")


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


def forced_progress() -> bool:
    """Whether ``related-posts --progress`` asked for bars even off a terminal."""
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("force_progress"))


def progress(quiet: bool):
    """A tqdm factory writing to stderr (rate and ETA included), drawn only on a terminal.

    Silent with ``--quiet`` and when stderr is not a terminal (see :mod:`related_posts.terminal`).
    Used both to wrap an iterable and as ``progress(total=..., desc=..., unit=...)``.
    """
    from tqdm import tqdm

    disable = not progress_wanted(quiet, forced_progress())

    def make_bar(iterable=None, **options):
        return tqdm(iterable, file=sys.stderr, disable=disable, leave=False, **options)

    return make_bar


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(cls=_Group)
@click.version_option(package_name="related-posts")
@click.option("--progress", "force_progress", is_flag=True, envvar=PROGRESS_ENV,
              help=f"Draw progress bars even when stderr is not a terminal (also ${PROGRESS_ENV}=1); "
              "by default they appear on a terminal only.")
@click.option("--max-page-mb", type=click.FloatRange(min=0), default=None, metavar="MB",
              help="Largest HTML page read, in MB of markup and text (default 10; 0: no limit). "
              "A larger page is skipped with an error that says so.")
def cli(force_progress: bool, max_page_mb: float | None) -> None:
    """Replace unrelated "Related Posts" tails with articles that are really related.

    Typical use: ingest a site's articles into a SQLite store, refresh every article's
    related list, then print lists or rewrite pages with them.

    \b
      related-posts ingest posts/ --db site.db
      related-posts refresh --db site.db
      related-posts related my-post-id --db site.db
      related-posts rewrite page.txt --db site.db -o page.new.txt
    """
    if max_page_mb is not None:
        from .recommend.parse import html as html_pages

        html_pages.MAX_PAGE = int(max_page_mb * 1_000_000)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@db_option
@model_option
@click.option("--field", "fields", multiple=True, metavar="NAME=COLUMN",
              help="Map a record field, e.g. --field body=content --field id=guid; a dotted path "
              "reads nested objects (title=title.rendered). Saved for these paths: later ingests "
              f"of them use it. Names: {', '.join(FieldMap.names())}.")
@click.option("--sync", is_flag=True,
              help="Make the store match PATHS: remove the articles whose file is gone, whose record "
              "left its file, or whose post became a draft (they leave every list, as with remove).")
@click.option("--dry-run", is_flag=True,
              help="Read and compare everything, list what would be added, updated and removed, "
              "and write nothing.")
@click.option("--restore", is_flag=True,
              help="Store again the articles taken out with 'related-posts remove' (by default an "
              "ingest leaves them out).")
@json_option
@quiet_option
def ingest(paths: tuple[str, ...], db: str, model: str | None, fields: tuple[str, ...], sync: bool,
           dry_run: bool, restore: bool, as_json: bool, quiet: bool) -> None:
    """Store and embed articles from files and folders.

    PATHS are pages (.md, .txt, .html; front matter and HTML meta give url, date, tags,
    image and description), records (.json, .jsonl, .csv; WordPress REST JSON too), and
    .xml sources (RSS and Atom feeds, WordPress WXR exports). Folders recurse. Ids come
    from each page's URL (canonical link, og:url, front matter url or permalink), else its
    path under the site root (the folder holding a Hugo or Jekyll configuration, else the
    folder given), so a site keeps its ids whichever folder is named. Drafts are counted
    and not stored. Unchanged articles are skipped; changed ones are updated and
    re-embedded. Bad files and records are reported and skipped; the exit status is 1
    when every input was skipped (nothing was read), else 0.
    """
    from .ingest import ingest as ingest_paths
    from .recommend.parse import SUFFIXES

    try:
        field_map = FieldMap.from_pairs(fields) if fields else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--field") from None
    with Recommender(db, model=model) as rec:
        report = ingest_paths(rec, paths, field_map, sync=sync, dry_run=dry_run, restore=restore,
                              progress=progress(quiet))
    if as_json:
        echo_json({**report.to_dict(), "db": db})
    else:
        click.echo(f"{'[dry run] would add' if dry_run else 'added'} {report.added}, updated "
                   f"{report.updated}, unchanged {report.unchanged}, skipped {len(report.skipped)}, "
                   f"drafts {len(report.drafts)}"
                   + (f", renamed {len(report.renamed)}" if report.renamed else "")
                   + (f", removed {len(report.removed)}" if sync else "")
                   + (f", kept out {len(report.kept_out)}" if report.kept_out else "") + f"  ({db})")
        if report.kept_out:
            click.echo(f"  left out {len(report.kept_out)} articles taken out with 'related-posts remove' "
                       f"({', '.join(report.kept_out[:5])}{', ...' if len(report.kept_out) > 5 else ''}); "
                       "--restore stores them again", err=True)
        for old, new in report.renamed:
            click.echo(one_line(f"  renamed {old} -> {new}"), err=True)
        for article_id in report.removed:
            click.echo(one_line(f"  {'would remove' if dry_run else 'removed'} {article_id}"), err=True)
        for skipped in report.skipped:
            click.echo(one_line(f"  skipped {skipped}"), err=True)
        if report.ignored:
            click.echo(f"  ignored {report.ignored} files in the folders that are not articles (valid: "
                       f"{', '.join(SUFFIXES)})", err=True)
    if report.skipped and not report.read:
        sys.exit(1)


#: Ranking options ``refresh`` takes as flags, named as the RankingOptions fields they set
#: (``--min-score`` sets ``min_score``); the values are checked by RankingOptions itself.
RANKING_FLAGS: tuple[tuple[str, Any, str], ...] = (
    ("min_score", float, "A fixed floor: no link scoring below it."),
    ("floor_quantile", float, "A floor calibrated on this site: a link must beat this quantile "
     "(e.g. 0.999) of the scores of random pairs of its articles."),
    ("lexical_weight", float, "Weight of the lexical score against the dense one (0: the model alone)."),
    ("label_weight", float, "Weight of shared categories and tags (labels) between two labelled "
     "articles against the dense score (default 0.5; 0: labels only filter)."),
    ("same_story", float, "Collapse links whose texts are at least this similar (0-1] into one."),
    ("mmr", float, "Diversity: maximal marginal relevance with this lambda (1 = relevance only)."),
    ("half_life_days", float, "Decay a score by the time between the two articles, halving every N days."),
    ("max_age_days", float, "Drop links published more than N days before the article."),
    ("direction", click.Choice(DIRECTIONS), "Keep only older (background) or newer (follow-up) links."),
)


def ranking_flags(function):
    """The RANKING_FLAGS as click options, each saved in the store like --rerank."""
    for name, kind, text in reversed(RANKING_FLAGS):
        function = click.option(f"--{name.replace('_', '-')}", name, type=kind, default=None,
                                help=text + " Saved for later refreshes.")(function)
    return click.option("--pin", "pins", multiple=True, metavar="ID=ID1,ID2",
                        help="Show these articles first, in order, in ID's list. Repeatable; "
                        "saved for later refreshes.")(function)


def _pins(values: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pins = []
    for value in values:
        article_id, sep, targets = value.partition("=")
        shown = tuple(t.strip() for t in targets.split(",") if t.strip())
        if not sep or not article_id.strip() or not shown:
            raise click.BadParameter(f"'{value}': expected ID=ID1,ID2 (an article id, then the ids "
                                     "to show first)", param_hint="--pin")
        pins.append((article_id.strip(), shown))
    return tuple(pins)


@cli.command()
@db_option
@model_option
@k_option
@click.option("--full", is_flag=True,
              help="Recompute every list, not only the lists that are due.")
@click.option("--dry-run", is_flag=True,
              help="Compute everything and show what would change, but write nothing.")
@click.option("--neighbours", type=click.Choice(NEIGHBOUR_MODES), default="auto",
              show_default=True,
              help="Exact search, or an approximate HNSW index for very large sites; auto "
              f"goes approximate when 10% or more of a site of {APPROXIMATE_FROM:,}+ "
              "articles is due.")
@click.option("--rerank", type=click.IntRange(min=0), default=None,
              help="Neighbourhood re-ranking: pull each article towards its N nearest "
              "neighbours, found when it arrives (default 40, measured best; 0 turns it "
              "off). --full finds every neighbourhood again; a refresh does so itself once "
              "a tenth of the site arrived or changed since.")
@click.option("--exclude-label", "exclude_labels", multiple=True, metavar="LABEL",
              help="Never link to articles with this label (category or tag). Repeatable.")
@click.option("--exclude-source", "exclude_sources", multiple=True, metavar="SOURCE",
              help="Never link to articles from this source. Repeatable.")
@click.option("--exclude-id", "exclude_ids", multiple=True, metavar="ID",
              help="Never link to this article. Repeatable.")
@ranking_flags
@click.option("--reset-ranking", is_flag=True,
              help="Forget the ranking options saved by earlier refreshes: back to the defaults "
              "plus the options given now.")
@json_option
@quiet_option
def refresh(db: str, model: str | None, k: int, full: bool, dry_run: bool, neighbours: str,
            rerank: int | None, exclude_labels: tuple[str, ...],
            exclude_sources: tuple[str, ...], exclude_ids: tuple[str, ...], pins: tuple[str, ...],
            reset_ranking: bool, as_json: bool, quiet: bool, **flags: Any) -> None:
    """Bring every related list up to date, incrementally.

    Embeds new and changed articles, recomputes the lists that are due, and enters each
    new article into the older lists where it beats the weakest link. Work is committed
    in batches: if a refresh is interrupted, the next one finishes it. Readers keep
    answering while it runs; a second refresh of the same store is refused.

    Ranking options given here (--rerank, --exclude-*, --min-score, --floor-quantile,
    --mmr, --pin and the others below; named as the fields of RankingOptions in Python) are
    saved in the store and kept by later refreshes and lookups until changed; an
    --exclude-* or --pin option replaces the saved set of its kind.
    """
    from dataclasses import replace

    from .recommend.rank import RankingOptions

    with Recommender(db, model=model) as rec:
        ranking = RankingOptions() if reset_ranking else rec.ranking
        changes: dict[str, Any] = {name: frozenset(values) for name, values in (
            ("exclude_labels", exclude_labels), ("exclude_sources", exclude_sources),
            ("exclude_ids", exclude_ids)) if values}
        if rerank is not None:
            changes["expand"] = rerank
        if pins:
            changes["pins"] = _pins(pins)
        changes.update({name: value for name, value in flags.items() if value is not None})
        try:
            rec.ranking = replace(ranking, **changes)
        except ValueError as exc:  # RankingOptions checks every value
            raise click.UsageError(str(exc)) from None
        report = rec.refresh(k=k, full=full, dry_run=dry_run, neighbours=neighbours,
                             progress=progress(quiet))
    if as_json:
        echo_json(report.to_dict())
        return
    verb = "would write" if dry_run else "wrote"
    click.echo(
        f"{'[dry run] ' if dry_run else ''}embedded {report.embedded}; {verb} {report.lists} "
        f"lists ({report.recomputed} recomputed, {report.propagated} updated with new "
        f"articles) over {report.articles} articles in {report.seconds:.1f}s, "
        f"{report.neighbours} neighbours"
        + (f"; {report.neighbourhoods} re-ranking neighbourhoods found" if report.neighbourhoods
           else "") + f"  ({db})"
    )
    for change in report.sample if dry_run else []:
        click.echo(f"  {change['id']}: {', '.join(change['before']) or '(none)'}\n"
                   f"    -> {', '.join(change['after']) or '(none)'}")


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@existing_db_option
@json_option
def remove(ids: tuple[str, ...], db: str, as_json: bool) -> None:
    """Delete articles (unpublished or gone) from the store.

    They leave every related list at once (the lists that held them close ranks up);
    the next refresh refills those lists. Exits 1 when an id was not stored.
    """
    _require_store(db)
    asked = list(dict.fromkeys(ids))
    with Recommender(db) as rec:
        missing = [article_id for article_id in asked if rec.store.get(article_id) is None]
        removed = rec.remove(asked, keep_out=True)
    if as_json:
        echo_json({"removed": removed, "asked": len(asked), "not_stored": missing, "db": db})
    else:
        click.echo(f"removed {removed} of {len(asked)} articles  ({db})")
    if missing:
        click.echo(one_line(f"not stored: {', '.join(missing)} (see: related-posts articles --db {db})"), err=True)
        sys.exit(1)


@cli.command()
@click.argument("article_id")
@existing_db_option
@model_option
@k_option
@json_option
def related(article_id: str, db: str, model: str | None, k: int, as_json: bool) -> None:
    """Print the related list of one stored article, with scores."""
    _require_store(db)
    with Recommender(db, model=model) as rec:
        items = rec.related(article_id, k=k)
    if len(items) < k:
        click.echo(f"note: {len(items)} of {k} items for {article_id}: stored lists are as long as the last "
                   "'refresh --k', and shorter where fewer articles pass the relevance floor", err=True)
    if as_json:
        echo_json([item.to_dict() for item in items])
        return
    for item in items:
        click.echo(f"{item.rank}. {item.score:.3f}  {item.title}  [{item.id}]"
                   + (f"  {item.url}" if item.url else ""))


@cli.command()
@click.argument("pages", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@existing_db_option
@model_option
@k_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Format of every page. Default: from each file's extension, else its content.")
@click.option("--heading", default=None, help="Heading of the new tail. Default: the page's own.")
@click.option("--teaser-chars", default=80, show_default=True, type=click.IntRange(0, 1000),
              help="Length of each item's teaser.")
@click.option("--scores", is_flag=True, help="Show each item's similarity score.")
@click.option("--template", "template_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A Jinja2 template for the block of HTML pages, instead of the theme's own markup "
              "(sandboxed, autoescaped). It gets heading and items (title, url, teaser, image, published, "
              "day, score, rank); its output is wrapped in a <div data-related-posts> unless it is one "
              "element with that attribute, so that a rerun finds it.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="One page: write it here instead of stdout.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write every page under DIR (created if missing), mirroring the tree below each "
              "folder given; a file given goes to the top of DIR.")
@click.option("--in-place", is_flag=True,
              help="Write every page back to its own file, keeping the old one (see --backup).")
@click.option("--backup", default=".bak", show_default=True, metavar="SUFFIX",
              help="With --in-place: keep each changed page's old file as its name plus SUFFIX (a backup "
              "already there is kept: the page before the first rewrite); --backup '' keeps none.")
@json_option
def rewrite(pages: tuple[str, ...], db: str, model: str | None, k: int, fmt: str | None,
            heading: str | None, teaser_chars: int, scores: bool, template_file: str | None,
            output: str | None, out_dir: str | None, in_place: bool, backup: str, as_json: bool) -> None:
    """Replace the related-posts tail of pages with this site's related lists.

    One PAGE (a file, or - for stdin) is printed with its tail replaced, or written to
    -o FILE. Several pages, or folders (they recurse; page files only: .md, .markdown,
    .txt, .html, .htm, .xhtml, .json...), need --out DIR or --in-place: each page gets one
    line on stderr (written, unchanged, or error with the reason), a bad page does not
    stop the others, and the exit status is 1 if any page failed. Every file is written
    atomically (a temporary file renamed over it), never half-written.

    Everything above and below the tail is kept byte for byte, in the charset the page
    declares; a page without a tail gets one; HTML keeps the old block's own markup.
    Rewriting a rewritten page gives the same bytes.

    \b
      related-posts rewrite page.html --db site.db -o page.new.html
      related-posts rewrite site/ --db site.db --out build/
      related-posts rewrite site/ --db site.db --in-place --backup .orig
    """
    from .recommend.recommender import write_page
    from .recommend.render import TemplateRenderError, check_template

    site = bool(out_dir or in_place)
    if out_dir and in_place:
        raise click.UsageError("pass --out DIR or --in-place, not both")
    if not site and (len(pages) > 1 or Path(pages[0]).is_dir()):
        raise click.UsageError(
            f"{'a folder' if len(pages) == 1 else f'{len(pages)} pages'} to rewrite: pass --out DIR (the "
            "rewritten pages go there, in the same tree) or --in-place (each page rewritten in its own file, "
            "the old one kept as a backup)")
    if site and output:
        raise click.UsageError("-o/--output is for one page; with --out or --in-place each page goes to its "
                               "own file")
    if site and "-" in pages:
        raise click.UsageError("stdin (-) is one page: rewrite it without --out or --in-place (-o FILE "
                               "writes it to a file)")
    if as_json and not site and not output:
        raise click.UsageError("--json reports on pages written to files: add -o FILE, --out DIR or --in-place "
                               "(without them the page itself goes to stdout)")
    source = click.get_current_context().get_parameter_source("backup")
    if not in_place and source is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--backup goes with --in-place")
    if "/" in backup or "\\" in backup:
        raise click.BadParameter(f"'{backup}' is a file name suffix, such as .bak; it must not name a folder",
                                 param_hint="--backup")
    template = None
    if template_file:
        try:
            template = Path(template_file).read_text(encoding="utf-8")
            check_template(template)
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"cannot read {template_file} as UTF-8 text ({exc})",
                                     param_hint="--template") from None
        except TemplateRenderError as exc:
            raise click.BadParameter(f"{template_file}: {exc}", param_hint="--template") from None
    _require_store(db)
    options = RenderOptions(heading=heading, teaser_chars=teaser_chars, show_scores=scores, template=template)
    if not site:
        page = pages[0]
        data = sys.stdin.buffer.read() if page == "-" else Path(page).read_bytes()
        with Recommender(db, model=model) as rec:
            result = rec.rewrite_page(data, format=fmt, filename=page, k=k, options=options)
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        if not output:
            click.echo(result.data, nl=False)
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise click.ClickException(f"cannot write {output}: folder {target.parent} does not exist; "
                                       "create it first")
        try:
            write_page(target, result.data)
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
        if as_json:
            echo_json({"path": page, "status": "written" if result.changed else "unchanged", "output": output,
                       "encoding": result.encoding, "warnings": list(result.warnings), "db": db})
        return
    done = []
    with Recommender(db, model=model) as rec:
        for row in rec.rewrite_site(pages, out=out_dir, in_place=in_place, backup=backup, format=fmt, k=k,
                                    options=options):
            done.append(row)
            click.echo(row.line(), err=True)
    counts = {status: sum(row.status == status for row in done) for status in ("written", "unchanged", "error")}
    if not done:
        click.echo("no pages found (page files: .md, .markdown, .txt, .html, .htm, .json and the like)", err=True)
    click.echo(f"{len(done)} pages: {counts['written']} written, {counts['unchanged']} unchanged, "
               f"{counts['error']} failed" + (f"  (to {out_dir})" if out_dir else "  (in place)"), err=True)
    if as_json:
        echo_json({"pages": [row.to_dict() for row in done], "written": counts["written"],
                   "unchanged": counts["unchanged"], "errors": counts["error"], "out": out_dir,
                   "in_place": in_place, "db": db})
    if counts["error"]:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Format of every page. Default: from each file's extension, else its content.")
@json_option
def parse(paths: tuple[str, ...], fmt: str | None, as_json: bool) -> None:
    """Show how pages split into title, body and existing related-posts tail.

    PATHS are page files (.txt, .md, .html, .json; .jsonl for one record a line) or
    folders of them. One file: one result (with --json, one JSON object with title,
    body, tail, format). Several files or a folder: one result per page (with --json,
    JSON Lines, each with its "path"); a page that cannot be parsed gets an "error"
    instead and the others go on. Exits with status 1 if any page failed.
    """
    from .recommend.parse import Document

    single = len(paths) == 1 and not Path(paths[0]).is_dir()
    results = list(_parse_pages(paths, fmt))
    if single and len(results) == 1 and isinstance(results[0][1], Exception):
        raise click.ClickException(str(results[0][1]))
    failed = 0
    for path, result in results:
        if isinstance(result, Document):
            row = {"path": path, **result.to_dict()}
        else:
            failed += 1
            row = {"path": path, "error": str(result)}
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False, indent=2 if single else None))
        else:
            click.echo(_describe_page(row, single))
    if failed:  # a single records file whose records all failed too
        click.echo(f"{failed} of {len(results)} pages could not be parsed", err=True)
        sys.exit(1)


def _parse_pages(paths: tuple[str, ...], fmt: str | None):
    """``(location, Document or error)`` for each page under ``paths``: the CLI reads the
    files, the library parses them. Files in folders that are not pages are counted."""
    from .recommend.parse import SUFFIXES, ParseError, parse_file

    ignored: list[Path] = []
    files = [path for path, _ in expand_paths([p for p in paths if p != "-"], ignored)]
    for path in ([Path("-")] if "-" in paths else []) + files:
        name = str(path)
        try:
            data = sys.stdin.buffer.read() if name == "-" else path.read_bytes()
        except OSError as exc:
            yield name, ParseError(name, f"cannot be read ({exc.strerror})")
            continue
        yield from parse_file(data, name, format=fmt)
    if ignored:
        click.echo(f"skipped {len(ignored)} files that are not pages (valid: {', '.join(SUFFIXES)})", err=True)


def _describe_page(row: dict[str, Any], single: bool) -> str:
    if "error" in row:
        return one_line(f"{row['path']}: error: {row['error']}")
    tail = (f"'{row['tail_heading'] or 'block'}' with {len(row['tail'])} items"
            if row["tail_style"] else "none found")
    if not single:
        return (f"{row['path']}: {row['format']}, '{row['title']}', {row['body_chars']} "
                f"characters, tail {tail}")
    lines = [f"format: {row['format']}", f"title:  {row['title']}",
             f"body:   {row['body_chars']} characters", f"tail:   {tail}"]
    lines += [f"  - {i['title']}" + (f"  <{i['url']}>" if i["url"] else "") for i in row["tail"]]
    lines += [f"{name + ':':12} {', '.join(value) if isinstance(value, list) else value}"
              for name, value in row.get("metadata", {}).items()]
    lines += [f"warning: {w}" for w in row["warnings"]]
    return "\n".join(lines)


@cli.command()
@click.argument("pages", nargs=-1, type=click.Path(exists=True, allow_dash=True))
@existing_db_option
@model_option
@click.option("--floor", type=float, default=None,
              help="A fixed relevance floor (cosine similarity) for every item. Default: "
              "calibrated on the store's articles (see --quantile).")
@click.option("--quantile", type=click.FloatRange(0.5, 0.999), default=0.9, show_default=True,
              help="The calibrated floor: this quantile of the similarities between random "
              "pairs of the store's articles.")
@json_option
def audit(pages: tuple[str, ...], db: str, model: str | None, floor: float | None,
          quantile: float, as_json: bool) -> None:
    """Judge the related-posts tails that pages already have: related, mixed or unrelated.

    Scores each tail item against its article (an item that links to a stored article,
    by URL or title, is scored with that article; others are embedded from their title
    and teaser), counts the items below the site's relevance floor, and gives each
    article a verdict, then a summary over the site. Audits the tails kept at ingest, or
    the PAGES given (files or folders), against the articles of the store.
    """
    from .recommend.audit import AuditOptions

    _require_store(db)
    options = AuditOptions(quantile=quantile, floor=floor)
    with Recommender(db, model=model) as rec:
        report = rec.audit(list(_parse_pages(pages, None)) if pages else None, options=options)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(report.to_text())


@cli.command()
@existing_db_option
@click.option("--search", "-s", default=None, metavar="TEXT",
              help="Only articles whose id or title contains TEXT (case-insensitive).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None, help="At most N articles.")
@json_option
def articles(db: str, search: str | None, limit: int | None, as_json: bool) -> None:
    """List the stored articles: id and title (with --json also url, dates, labels, image,
    description and language)."""
    _require_store(db)
    with Recommender(db) as rec:
        found, _ = rec.store.search(search or "", limit)
    if as_json:
        echo_json([{"id": a.id, "title": a.title, "url": a.url, "published": a.published,
                    "modified": a.modified, "labels": list(a.labels), "image": a.image,
                    "description": a.description, "lang": a.lang} for a in found])
    else:
        for article in found:
            click.echo(f"{article.id}\t{article.title}")


@cli.command()
@existing_db_option
@click.option("--format", "fmt", type=click.Choice(("json", "files", "hugo", "jekyll", "csv")),
              default="json", show_default=True,
              help="json: one file of every list; files: one JSON file per article; hugo: "
              "data/related/ under the site root; jekyll: _data/related.json under the site root; "
              "csv: one row per link.")
@click.option("--out", "-o", type=click.Path(), default=None,
              help="The file for json and csv (default: stdout); the folder for files, and the "
              "site root for hugo and jekyll (required). Missing folders are created.")
@click.option("--since", default=None, metavar="TIMESTAMP",
              help="Only the lists computed at or after this ISO 8601 time (e.g. the "
              "generated_at of the last export; no offset: UTC).")
@json_option
def export(db: str, fmt: str, out: str | None, since: str | None, as_json: bool) -> None:
    """Export every related list (url, title, teaser, date, image) for a static site or a script.

    \b
      related-posts export --db site.db -o related.json
      related-posts export --db site.db --format hugo --out my-hugo-site
      related-posts export --db site.db --format jekyll --out my-jekyll-site
      related-posts export --db site.db --format csv --since 2025-04-01T00:00:00Z

    Hugo pages find their list with index site.Data.related (md5 .RelPermalink), Jekyll
    pages with site.data.related[page.url]: lists are keyed by the path of the article's
    URL (else its id). The README has templates that render them.
    """
    from .site.export import FILE_FORMATS, export_to, parse_since
    from .store import Store

    if since is not None:
        try:
            parse_since(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    if as_json and out is None and fmt in FILE_FORMATS:
        raise click.UsageError(f"--json prints a summary on stdout: give --out FILE for the {fmt} itself")
    _require_store(db)
    store = Store(db)
    try:
        report, text = export_to(store, fmt, out, since)
    finally:
        store.close()
    if text is not None:
        click.echo(text, nl=False)
    for line in report.notes + report.collisions:
        click.echo(f"  {line}", err=True)
    click.echo(f"exported {report.lists} lists ({report.links} links)"
               + (f" changed since {since}" if since else "") + f" as {fmt}"
               + (f": {len(report.written)} written, {len(report.unchanged)} unchanged"
                  + (f", {len(report.removed)} removed" if report.removed else "") if out else "")
               + f"  ({db})", err=True)
    if as_json:
        echo_json({**report.to_dict(), "db": db})


@cli.command("datasette-metadata")
@existing_db_option
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the JSON here instead of stdout.")
def datasette_metadata_command(db: str, output: str | None) -> None:
    """Print a Datasette metadata.json for browsing the store.

    It describes every table and the related_lists view (one row per link, with both
    articles' titles and urls) and adds canned queries: an article's list (?id=...),
    articles nobody links to, and lists shorter than k. The store is brought up to the
    current schema first, so that the view exists. Then:

    \b
      related-posts datasette-metadata --db site.db -o metadata.json
      datasette site.db --metadata metadata.json
    """
    from .store import Store
    from .store.datasette import datasette_metadata

    _require_store(db)
    Store(db).close()  # migrates: an older store gains the view
    text = json.dumps(datasette_metadata(Path(db).stem), ensure_ascii=False, indent=2)
    if output:
        _write_output(output, text + "\n")
    else:
        click.echo(text)


def serve_options(function):
    """The options of ``serve`` (also taken by ``demo --serve``)."""
    for option in reversed([
        click.option("--host", default="127.0.0.1", show_default=True,
                     help="Address to listen on (0.0.0.0 to be reachable from other machines)."),
        click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
                     help="Port to listen on (0: any free port)."),
        click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
                     help="Let pages of this origin call the API (the widget on another site), e.g. "
                     "https://www.site.example; '*' for any. Repeatable. Default: none."),
        click.option("--cache-seconds", type=click.IntRange(0), default=60, show_default=True,
                     help="Cache-Control max-age of the answers (responses also carry an ETag)."),
    ]):
        function = option(function)
    return function


@cli.command()
@existing_db_option
@model_option
@serve_options
def serve(db: str, model: str | None, host: str, port: int, cors_origins: tuple[str, ...],
          cache_seconds: int) -> None:
    """Serve the store over HTTP: a JSON API, a browse page and an embeddable widget.

    Read-only: answers come from the committed lists, so a refresh may run meanwhile.
    GET /related/ID, GET /related?url=URL, POST /related {"title", "body"} (a draft),
    GET /articles?q=&page=, GET /health; the browse page is at /, the widget at
    /widget.js (<div data-related-posts data-url="..."></div> on any page). Stop with
    Ctrl-C.
    """
    _require_store(db)
    _serve(db, model, host, port, cors_origins, cache_seconds)


def _serve(db: str, model: str | None, host: str, port: int, cors_origins: tuple[str, ...],
           cache_seconds: int) -> None:
    import socket

    import uvicorn

    from .server.app import ServerOptions, create_app

    app = create_app(db, ServerOptions(cors_origins=cors_origins, cache_seconds=cache_seconds, model=model))
    # Bind first, so the printed address is the real one (port 0 picks a free port).
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving {db} at http://{shown}:{sock.getsockname()[1]}/  (browse page; API at /related/ID, "
               "widget at /widget.js; Ctrl-C stops)", err=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])


@cli.command()
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="Keep the demo store here. Default: a temporary file, removed afterwards.")
@model_option
@k_option
@quiet_option
@json_option
@click.option("--serve", "then_serve", is_flag=True,
              help="Then serve the demo store (browse page, API, widget) until Ctrl-C.")
@serve_options
def demo(db: str | None, model: str | None, k: int, quiet: bool, as_json: bool, then_serve: bool,
         host: str, port: int, cors_origins: tuple[str, ...], cache_seconds: int) -> None:
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
        stored = report.added + report.updated + report.unchanged
        if as_json:
            echo_json({
                "store": path if db else None, "articles": stored,
                "lists": refreshed.lists, "model": rec.embedder.model_id, "page_title": document.title,
                "before": [{"title": old.title, "url": old.url, "score": round(score, 6)} for old, score in audit],
                "after": [item.to_dict() for item in new_items], "rewritten": rewritten,
            })
            if then_serve:
                _serve_demo(path, model, document, k, host, port, cors_origins, cache_seconds)
            return
        click.echo(f"Demo store {path if db else '(temporary)'}: {stored} "
                   f"articles, {refreshed.lists} related lists, model {rec.embedder.model_id}.\n")
        click.echo(f"BEFORE: the tail this page was served with ('{document.title}')")
        for old, score in audit:
            click.echo(f"  {score:5.2f}  {old.title}")
        click.echo("\nAFTER: the related list computed from the site's own articles")
        for new in new_items:
            click.echo(f"  {new.score:5.2f}  {new.title}")
        click.echo("\n" + "=" * 78 + "\nThe rewritten page:\n" + "=" * 78)
        click.echo(rewritten, nl=False)
        if then_serve:
            _serve_demo(path, model, document, k, host, port, cors_origins, cache_seconds)


def _serve_demo(path: str, model: str | None, page: Any, k: int, host: str, port: int,
                cors_origins: tuple[str, ...], cache_seconds: int) -> None:
    """Serve the demo store, with the content-farm page stored as one of its articles, so
    the browse page shows its old tail (and the audit's verdict) beside its new list."""
    from .article import Article

    with Recommender(path, model=model) as rec:
        rec.add(Article(id="content-farm-page", title=page.title, body=page.body, tail=page.tail))
        rec.refresh(k=k)
    click.echo("the content-farm page, its old tail beside the new list: /article/content-farm-page", err=True)
    _serve(path, model, host, port, cors_origins, cache_seconds)


def _write_output(output: str, text: str) -> None:
    """Write ``-o`` atomically (a temporary file, then a rename): a failed write keeps the old file."""
    target = Path(output)
    if not target.parent.is_dir():
        raise click.ClickException(f"cannot write {output}: folder {target.parent} does not exist; create it first")
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None


def _require_store(db: str) -> None:
    """Reading commands must not create an empty store by accident."""
    if not Path(db).exists():
        raise click.ClickException(
            f"{db} does not exist; create it with: related-posts ingest FILES --db {db}"
        )


def _read_page(page: str) -> str:
    """The page's text; a declared or guessed charset is reported on stderr."""
    data = sys.stdin.buffer.read() if page == "-" else Path(page).read_bytes()
    text, warnings = decode_page(data, page)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if not text.strip():
        raise click.ClickException(f"{page}: empty file; expected an article page")
    return text


cli.add_command(eval_command)
