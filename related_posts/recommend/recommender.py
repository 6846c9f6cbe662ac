"""The :class:`Recommender` facade: one object over the store, the embedder and the ranking."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..article import (
    Article,
    RelatedItem,
    Skipped,
    TailItem,
    content_hash,
    embedding_text,
    model_id_of,
    vector_model_id,
)
from ..errors import ModelMismatchError, NotEmbeddedError, UnknownArticleError
from ..store import Store, VectorTable
from .cache import SiteCache
from .embed import Embedder, article_vectors, load_embedder, model_id_for
from .lexical import article_terms
from .neighbours import UNIT_NORM, top_k
from .parse import Document, parse_document
from .rank import RankingOptions
from .refresh import ProgressFactory, RefreshReport, refresh_store
from .render import RenderOptions, make_teaser, rewrite
from .space import explain, query_row, rank_row

if TYPE_CHECKING:
    from .audit import AuditOptions, AuditReport

DEFAULT_DB = "related-posts.db"
DB_ENV = "RELATED_POSTS_DB"


def default_db_path() -> str:
    """``$RELATED_POSTS_DB`` if set, else ``./related-posts.db``."""
    return os.environ.get(DB_ENV) or DEFAULT_DB


@dataclass
class AddReport:
    """What :meth:`Recommender.add` did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "skipped_reasons": [{"location": s.location, "reason": s.reason} for s in self.skipped],
        }


class Recommender:
    """Related posts for the articles of one site, kept in one SQLite file.

    ``Recommender("site.db")`` opens the store (creating it if needed). The model is the
    one the store was built with, else ``model``, else all-MiniLM-L6-v2; asking for a
    different model than the store's is a :class:`ModelMismatchError`. Pass ``embedder``
    to use any object with the :class:`Embedder` protocol (tests use a fake), and
    ``ranking`` for ranking options (``k`` comes from each call); without it, the options
    of the store's last refresh are used, else the defaults. Each refresh records its
    options in the store, so that later commands rank new texts the same way.

    Args:
        db: the store's path (default: ``$RELATED_POSTS_DB``, else ``./related-posts.db``).
        model: a sentence-transformers model name or folder, or ``hashing``.
        embedder: an object with the :class:`Embedder` protocol, instead of ``model``.
        ranking: the ranking options (without them, the store's last ones).
        batch_size: articles embedded and written per transaction.

    Raises:
        ModelMismatchError: the store holds vectors of another model or recipe.
        StoreError: ``db`` is not a related-posts store.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        model: str | None = None,
        embedder: Embedder | None = None,
        ranking: RankingOptions | None = None,
        batch_size: int = 256,
    ) -> None:
        self.store = Store(db if db is not None else default_db_path())
        self.batch_size = batch_size
        saved = self.store.ranking()
        self.ranking = ranking or (RankingOptions.from_dict(saved) if saved else RankingOptions())
        bound = self.store.model()
        wanted = embedder.model_id if embedder is not None else (model and model_id_for(model))
        if bound and wanted and vector_model_id(wanted) != bound[0]:
            dimension = embedder.dimension if embedder is not None else -1
            raise ModelMismatchError(self.store.path, bound[0], bound[1],
                                     vector_model_id(wanted), dimension)
        self._model_name = model or (model_id_of(bound[0]) if bound else None)
        self._embedder = embedder
        self._cache = SiteCache(self.store)

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (reading stored lists never loads it)."""
        if self._embedder is None:
            self._embedder = load_embedder(self._model_name)
        return self._embedder

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Recommender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------

    def add(self, articles: Article | Iterable[Article | Skipped], *,
            update_lists: bool = False) -> AddReport:
        """Store articles and embed the new or changed ones, batch by batch.

        Unchanged content (same id, same content hash) is neither rewritten nor
        re-embedded. A second article with an id already seen in this call is skipped and
        reported, as is any :class:`Skipped` passed in by a source reader. Each batch is
        one transaction.

        With ``update_lists``, each batch also computes the lists of its new and changed
        articles and enters them into the older lists they beat (the incremental part of
        :meth:`refresh`, from vectors kept in memory: milliseconds per article). Without
        it, lists are brought up to date by :meth:`refresh`.

        Args:
            articles: one article, or an iterable of articles and :class:`Skipped` values
                (what ``sources.read_sources`` yields).
            update_lists: also bring the lists the new articles change up to date.

        Returns:
            What was added, updated, left unchanged and skipped (with reasons).
        """
        if isinstance(articles, Article):
            articles = [articles]
        report = AddReport()
        seen: set[str] = set()
        batch: list[Article] = []
        for item in articles:
            if isinstance(item, Skipped):
                report.skipped.append(item)
                continue
            if item.id in seen:
                report.skipped.append(Skipped(item.id, "duplicate id in this batch; first kept"))
                continue
            seen.add(item.id)
            batch.append(item)
            if len(batch) >= self.batch_size:
                self._write_batch(batch, report, update_lists)
                batch = []
        if batch:
            self._write_batch(batch, report, update_lists)
        return report

    def _write_batch(self, batch: list[Article], report: AddReport, update_lists: bool) -> None:
        stored = self.store.content_hashes([a.id for a in batch])
        fresh = [a for a in batch if stored.get(a.id) != a.content_hash]
        relabelled = self.store.with_new_metadata([a for a in batch if a.id in stored
                                                   and stored[a.id] == a.content_hash])
        report.unchanged += len(batch) - len(fresh) - len(relabelled)
        report.updated += len(relabelled)
        cached = self._cache.current
        if relabelled:
            # Same text, new metadata (labels, date, source...): no new embedding, but the
            # lists that filter on it change.
            self.store.write_metadata(relabelled)
            self._cache.relabel(relabelled)
            if update_lists:
                self._cache.update_lists([a.id for a in relabelled], self.ranking)
        if not fresh:
            return
        vectors = self._encode([(a.title, a.body) for a in fresh])
        vector_id = vector_model_id(self.embedder.model_id)
        self.store.bind_model(vector_id, self.embedder.dimension)
        self.store.write_articles(fresh, vectors, vector_id)
        report.updated += sum(1 for a in fresh if a.id in stored)
        report.added += sum(1 for a in fresh if a.id not in stored)
        if cached:
            # Our own commits leave data_version as it was: keep the cache in step.
            self._cache.grow(fresh, vectors)
        else:
            self._cache.forget()
        if update_lists:
            self._cache.update_lists([a.id for a in fresh], self.ranking)

    def _encode(self, articles: Sequence[tuple[str, str]]) -> np.ndarray:
        """Vectors of ``(title, body)`` pairs, made as the store's are (a tail item's
        teaser stands in for its body)."""
        return article_vectors(self.embedder, [title for title, _ in articles],
                               [body for _, body in articles])

    def refresh(self, k: int = 5, *, full: bool = False, dry_run: bool = False,
                neighbours: str = "auto", progress: ProgressFactory | None = None
                ) -> RefreshReport:
        """Embed what is new, recompute the lists that are due, and enter new articles
        into the older lists they now belong to (see :mod:`.refresh`).

        ``full`` recomputes every list; ``dry_run`` computes everything, reports it with
        a before/after sample, and writes nothing. ``neighbours`` picks exact search or
        an approximate index (``auto``: approximate only for very large recomputes).
        ``progress`` makes progress bars: it is called like
        ``tqdm(total=..., desc=..., unit=...)``.

        Args:
            k: links per list.
            full: recompute every list, due or not.
            dry_run: compute and report, write nothing.
            neighbours: ``auto``, ``exact`` or ``approximate``.
            progress: a factory of progress bars (None: none).

        Returns:
            Counts of what was embedded, recomputed and entered into older lists, the
            time taken, and a before/after sample.

        Raises:
            StoreBusyError: another refresh of this store is running.
        """
        report, table = refresh_store(
            self.store, lambda: self.embedder, replace(self.ranking, k=k), full=full,
            dry_run=dry_run,
            neighbours=neighbours, progress=progress, batch_size=self.batch_size,
        )
        if not dry_run:
            self.store.save_ranking(self.ranking.to_dict())
        self._cache.refreshed(None if dry_run else table)
        return report

    def remove(self, ids: str | Iterable[str], *, keep_out: bool = False) -> int:
        """Delete articles; they leave every list at once, and the lists that held them
        are refilled by the next refresh.

        Args:
            ids: one id or several.
            keep_out: also remember them as unpublished, so that ``ingest`` of the files
                they still sit in leaves them out (until ``ingest --restore``).

        Returns:
            How many of them were stored and are now removed.
        """
        ids = [ids] if isinstance(ids, str) else list(ids)
        stored = list(self.store.content_hashes(ids)) if keep_out else []
        removed = self.store.delete_articles(ids)
        if stored:
            self.store.keep_out(stored)
        self._cache.forget()
        return removed

    # -- reading -------------------------------------------------------------------------

    def vectors(self) -> VectorTable:
        """Every current vector in the store (cached until the next write)."""
        return self._cache.vectors()

    def related(self, article_id: str, k: int = 5) -> list[RelatedItem]:
        """The related list of a stored article, best first.

        Answers from the stored list when one was computed (no model is loaded); for an
        article added since the last refresh, computes it from the stored vectors.

        Args:
            article_id: a stored article's id.
            k: links at most (a stored list has the length of the last refresh).

        Returns:
            The links, best first, with their scores and the score's parts (``why``).

        Raises:
            UnknownArticleError: no such id (the message suggests close ones).
            NotEmbeddedError: the article has no vector yet.
        """
        links = self.store.related(article_id, limit=k)
        if links:
            # Ranks are positions: a link removed since the last refresh leaves no gap.
            return [
                RelatedItem(rank, link.id, link.title, link.url, link.score,
                            make_teaser(link.lead), json.loads(link.why) if link.why else None,
                            link.image, link.published)
                for rank, link in enumerate(links, start=1)
            ]
        article = self.store.get(article_id)
        if article is None:
            raise UnknownArticleError(article_id, self.store.path,
                                      self.store.similar_ids(article_id))
        vector = self.store.vector(article_id)
        if vector is None:
            raise NotEmbeddedError(
                f"article '{article_id}' has no vector yet: run related-posts refresh "
                f"--db {self.store.path}"
            )
        return self._related_to_vector(vector, article_id, article.content_hash, k, article.text)

    def pair_scores(self, pairs: Iterable[tuple[str, str]]) -> np.ndarray:
        """The ranking score of each pair of stored articles: the number lists are ranked
        by and ``related`` shows (fusion and re-ranking included), before list rules such
        as collapse, floors and time.

        Args:
            pairs: ``(id, id)`` pairs of embedded articles.

        Returns:
            float64 scores, one per pair.

        Raises:
            UnknownArticleError: an id is not stored or has no vector yet.
        """
        table = self._cache.space(self.ranking, writing=False)
        rows: list[tuple[int, int]] = []
        for pair in pairs:
            for article_id in pair:
                if article_id not in table.row_of:
                    raise UnknownArticleError(article_id, self.store.path,
                                              self.store.similar_ids(article_id))
            rows.append((table.row_of[pair[0]], table.row_of[pair[1]]))
        if not rows:
            return np.zeros(0, dtype=np.float64)
        left, right = np.asarray(rows, dtype=np.int64).T
        return np.einsum("ij,ij->i", table.matrix[left].astype(np.float64),
                         table.matrix[right].astype(np.float64))

    def related_to_text(self, title: str, body: str, k: int = 5) -> list[RelatedItem]:
        """The related list for an article that is not stored (one encode, one search).

        Args:
            title: the draft's title.
            body: its text.
            k: links at most.

        Returns:
            The links, best first, as :meth:`related` gives them.

        Raises:
            NotEmbeddedError: the store has no embedded article to link to.
        """
        vector = self._encode([(title, body)])[0]
        return self._related_to_vector(vector, None, content_hash(title, body), k,
                                       embedding_text(title, body))

    def _related_to_vector(self, vector: np.ndarray, query_id: str | None,
                           query_hash: str, k: int, text: str) -> list[RelatedItem]:
        if len(self.vectors()) == 0:
            raise NotEmbeddedError(
                f"{self.store.path} has no embedded articles: run related-posts ingest first"
            )
        options = replace(self.ranking, k=k)
        table = self._cache.space(options, writing=False)
        row = table.row_of.get(query_id) if query_id is not None else None
        if row is not None:
            searched = table.matrix[row]
        else:
            searched, fused = query_row(table, vector, article_terms(text))
        indices, scores = top_k(searched[None, :], table.matrix, options.candidates,
                                order=table.order, max_norm=UNIT_NORM)
        links = rank_row(table, indices[0], scores[0], row, query_id, query_hash, options,
                         query_vector=searched)
        why = (explain(table, row, links) if row is not None
               else explain(table, None, links, query_fused=fused))
        items = []
        for rank_, ((article_id, score), reasons) in enumerate(zip(links, why), start=1):
            article = self.store.get(article_id)
            assert article is not None  # ids come from the store's own vector table
            items.append(RelatedItem(rank_, article.id, article.title, article.url, score,
                                     make_teaser(article.description or article.body), reasons,
                                     article.image, article.published))
        return items

    def related_for_document(self, document: Document, k: int = 5) -> list[RelatedItem]:
        """Related items for a parsed page: its stored list if the page is a stored
        article (same content), else a list computed from its text."""
        stored_id = self.store.find_by_hash(content_hash(document.title, document.body))
        if stored_id is not None:
            return self.related(stored_id, k)
        return self.related_to_text(document.title, document.body, k)

    def score_tail(self, document: Document) -> list[tuple[TailItem, float]]:
        """Each item of the page's existing tail with its cosine similarity to the page.

        Items are embedded from their title and teaser, the page from its title and body.
        """
        if not document.tail:
            return []
        vectors = self._encode([(document.title, document.body)]
                               + [(item.title, item.teaser) for item in document.tail])
        return list(zip(document.tail, (vectors[1:] @ vectors[0]).tolist()))

    def rewrite(self, text: str, *, format: str | None = None, filename: str | None = None,
                k: int = 5, options: RenderOptions | None = None) -> str:
        """The page ``text`` with its related-posts tail replaced by this site's list.

        Args:
            text: the page (text, Markdown, HTML or a JSON record).
            format: its format (default: from ``filename``, else from the text).
            filename: the page's name, for the format and for messages.
            k: links at most.
            options: how the new tail is rendered.

        Returns:
            The whole page, unchanged but for its tail.

        Raises:
            ParseError: the page cannot be read (the message names it).
        """
        document = parse_document(text, format=format, filename=filename)
        return self._rewrite_document(document, k, options)

    def rewrite_page(self, data: bytes, *, format: str | None = None, filename: str | None = None,
                     k: int = 5, options: RenderOptions | None = None) -> RewrittenPage:
        """The page's bytes with its tail replaced, in the charset the page declares.

        Decodes ``data`` as ``parse`` and ``ingest`` do, rewrites it as :meth:`rewrite` does,
        and encodes the result with :func:`~related_posts.recommend.render.encode_page`:
        an HTML page in the charset it declares (characters it cannot hold as numeric
        character references), a page with a byte-order mark in its own encoding, anything
        else as UTF-8. Rewriting the bytes this returns gives the same bytes again.

        Raises:
            ParseError: the page cannot be read (the message names it).
        """
        from .parse import NoArticleError, decode_page
        from .render import encode_page

        text, warnings = decode_page(data, filename)
        if not text.strip():
            raise NoArticleError(filename or "page", "empty file; expected an article page")
        document = parse_document(text, format=format, filename=filename)
        encoded, encoding = encode_page(self._rewrite_document(document, k, options),
                                        document.format, data)
        return RewrittenPage(encoded, encoding, encoded != data, (*warnings, *document.warnings))

    def rewrite_site(self, paths: Iterable[str | Path], *, out: str | Path | None = None,
                     in_place: bool = False, backup: str = ".bak", format: str | None = None,
                     k: int = 5, options: RenderOptions | None = None) -> Iterable[PageRewrite]:
        """Rewrite every page under ``paths`` (files and folders, which recurse), one at a time.

        The pages are the page files (the suffixes of ``parse.PAGE_FORMATS`` and ``.json``;
        hidden files and folders are skipped, a file named itself is always read). Each
        rewritten page goes to ``out`` (the tree below each folder given is mirrored there,
        a file given goes to its top; an unchanged page is copied too) or, with
        ``in_place``, back to its own file, the old one kept as the file name plus
        ``backup`` (a backup already there is kept: it is the page before the first
        rewrite; ``""`` keeps none). Every file is written atomically, a temporary file
        in the same folder renamed over it, so a page is never left half-written; a page
        that comes back unchanged is not written in place at all.

        Yields:
            A :class:`PageRewrite` per page, as it is done: ``written``, ``unchanged`` or
            ``error`` with the reason; a bad page does not stop the others.
        """
        if (out is None) == (not in_place):
            raise ValueError("rewrite_site needs out= or in_place=True (one of them)")
        if backup and ("/" in backup or os.sep in backup):
            raise ValueError(f"backup suffix '{backup}' must not name a folder")
        for source, target, problem in site_pages(paths, out=out, skip_suffix=backup if in_place else ""):
            if problem is not None:
                yield PageRewrite(str(source), "error", error=problem)
                continue
            yield self._rewrite_file(source, target, in_place=in_place,
                                     backup=backup if in_place else "", format=format, k=k,
                                     options=options)

    def _rewrite_file(self, source: Path, target: Path, *, in_place: bool, backup: str,
                      format: str | None, k: int, options: RenderOptions | None) -> PageRewrite:
        import sqlite3

        from ..errors import InputError, RelatedPostsError

        name = str(source)
        try:
            data = source.read_bytes()
            mode = source.stat().st_mode & 0o7777
        except OSError as exc:
            return PageRewrite(name, "error", error=f"cannot be read ({exc.strerror or exc})")
        try:
            page = self.rewrite_page(data, format=format, filename=name, k=k, options=options)
        except InputError as exc:
            return PageRewrite(name, "error", error=exc.reason)
        except (RelatedPostsError, ValueError) as exc:
            return PageRewrite(name, "error", error=str(exc))
        except sqlite3.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - one page's failure must not stop a site
            return PageRewrite(name, "error", error=f"could not be rewritten ({type(exc).__name__}: {exc})")
        status = "written" if page.changed else "unchanged"
        done = PageRewrite(name, status, output=None if in_place else str(target),
                           encoding=page.encoding, warnings=page.warnings)
        try:
            if in_place:
                if page.changed:
                    real = source.resolve() if source.is_symlink() else source
                    kept = write_page(real, page.data, mode, backup=backup, original=data)
                    done = replace(done, backup=str(kept) if kept else None)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.is_file() or target.read_bytes() != page.data:
                    write_page(target, page.data, mode)
        except OSError as exc:
            where = target if not in_place else source
            return replace(done, status="error", error=f"cannot write {where} ({exc.strerror or exc}); "
                           "the page there is as it was")
        return done

    def _rewrite_document(self, document: Document, k: int, options: RenderOptions | None) -> str:
        """``document`` with its tail replaced by this site's list (see :meth:`rewrite`)."""
        items = self.related_for_document(document, k)
        options = options or RenderOptions()
        tail_items = []
        for item in items:
            article = self.store.get(item.id)
            body = (article.description or article.body) if article is not None else item.teaser
            teaser = make_teaser(body, options.teaser_chars, document.ellipsis)
            tail_items.append(TailItem(title=item.title, teaser=teaser, url=item.url,
                                       image=item.image, published=item.published))
        return rewrite(document, tail_items, options, [i.score for i in items])

    def audit(self, pages: Iterable[tuple[str, Document | Exception]] | None = None, *,
              options: AuditOptions | None = None) -> AuditReport:
        """Score each article's original tail against the article, with a verdict.

        Audits every stored article that kept a tail when it was ingested or, with
        ``pages``, the given ``(location, parsed page)`` pairs (an exception in place of a
        page is reported as skipped). Tail items that link to a stored article (same URL
        or title) are scored with that article's stored vector, the others are embedded
        from their title and teaser. The relevance floor is calibrated on this store's
        articles; see :mod:`related_posts.recommend.audit` for the rules.

        Args:
            pages: ``(location, parsed page or error)`` pairs; None audits the store.
            options: the floor's quantile, verdict thresholds and sample.

        Returns:
            A verdict per article or page, the floor, and what was skipped.

        Raises:
            NotEmbeddedError: fewer than two embedded articles to calibrate on.
        """
        from .audit import AuditOptions, audit_site

        table = self.vectors()
        if len(table) < 2:
            raise NotEmbeddedError(
                f"{self.store.path} has {len(table)} embedded article(s); an audit compares "
                "tails with the site's articles: run related-posts ingest first"
            )
        return audit_site({a.id: a for a in self.store.articles()}, table, self._encode,
                          self.store.find_by_hash, pages, options or AuditOptions())


# -- rewriting pages on disk (Recommender.rewrite_page and rewrite_site) ---------------------


@dataclass(frozen=True)
class RewrittenPage:
    """A page rewritten by :meth:`Recommender.rewrite_page`: its new bytes, the charset
    they are in, whether they differ from the page given, and the decoding and parsing
    warnings."""

    data: bytes
    encoding: str
    changed: bool
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageRewrite:
    """What :meth:`Recommender.rewrite_site` did with one page.

    ``status`` is ``written`` (the page changed and was written), ``unchanged`` (the
    rewrite gives the page back as it was: nothing written in place; with ``out`` the
    copy is there all the same) or ``error`` (``error`` says why; nothing was written).
    """

    path: str
    status: str
    output: str | None = None
    error: str | None = None
    encoding: str | None = None
    warnings: tuple[str, ...] = ()
    backup: str | None = None

    def to_dict(self) -> dict:
        found = {"path": self.path, "status": self.status, "output": self.output,
                 "encoding": self.encoding, "warnings": list(self.warnings)}
        if self.backup:
            found["backup"] = self.backup
        if self.error is not None:
            found["error"] = self.error
        return found

    def line(self) -> str:
        """One line for a report: ``written PATH -> OUT``, ``unchanged PATH``, ``error PATH: why``."""
        if self.status == "error":
            return f"error     {self.path}: {self.error}"
        where = f" -> {self.output}" if self.output and self.status == "written" else (
            f" (copied to {self.output})" if self.output else "")
        notes = f"  [warning: {'; '.join(self.warnings)}]" if self.warnings else ""
        return f"{self.status:9} {self.path}{where}{notes}"


def is_page_file(path: Path) -> bool:
    """Whether a file found in a folder is a page that ``rewrite_site`` rewrites."""
    from .parse import PAGE_FORMATS, suffix_of

    suffix = suffix_of(path.name)
    return suffix in PAGE_FORMATS or suffix == ".json"


def site_pages(paths: Iterable[str | Path], *, out: str | Path | None = None,
               skip_suffix: str = "") -> list[tuple[Path, Path, str | None]]:
    """``(page, where it is written, problem or None)`` for every page under ``paths``.

    Folders recurse (hidden entries, files that are not pages, files ending in
    ``skip_suffix`` (backups) and anything in an ``out`` below the folder are left out); a file named
    itself is always listed. With ``out``, a page's place mirrors its path below the
    folder given (a file given goes to the top of ``out``); a page listed twice is
    rewritten once, and two pages that would be written to one place are a problem.
    """
    out_root = Path(out) if out is not None else None
    out_resolved = out_root.resolve() if out_root is not None else None
    found: list[tuple[Path, Path, str | None]] = []
    seen: set[Path] = set()
    targets: dict[Path, Path] = {}

    def add(page: Path, relative: Path) -> None:
        key = page.resolve()
        if key in seen:
            return
        seen.add(key)
        if out_root is None:
            found.append((page, page, None))
            return
        target = out_root / relative
        problem = None
        if target.resolve() == key:
            problem = f"--out would write over the page itself ({target}); use --in-place for that"
        elif target.resolve() in targets:
            problem = f"{target} is already written from {targets[target.resolve()]}; not overwritten"
        targets.setdefault(target.resolve(), page)
        found.append((page, target, problem))

    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            add(path, Path(path.name))
            continue
        root = path.resolve()
        # A DIR below the folder given holds the pages written, not pages to rewrite.
        below = out_resolved if out_resolved is not None and out_resolved != root \
            and out_resolved.is_relative_to(root) else None
        for child in sorted(path.rglob("*")):
            relative = child.relative_to(path)
            if any(part.startswith(".") for part in relative.parts) or not child.is_file():
                continue
            if not is_page_file(child) or (skip_suffix and child.name.endswith(skip_suffix)):
                continue
            if below is not None and child.resolve().is_relative_to(below):
                continue
            add(child, relative)
    return found


def write_page(path: Path, data: bytes, mode: int | None = None, *, backup: str = "",
               original: bytes | None = None) -> Path | None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, flushed
    to disk, then renamed over ``path``; a failure leaves ``path`` as it was.

    ``mode`` sets the file's permissions (by default those of a new file). With
    ``backup``, the file that was there is kept as its name plus ``backup`` first, unless
    that backup exists (the oldest is kept); ``original`` are its bytes, written (again
    atomically) where a hard link cannot be made. Returns the backup's path, if any.
    """
    import contextlib
    import tempfile

    kept = None
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        if backup and path.exists():
            kept = path.with_name(path.name + backup)
            if not kept.exists():
                try:
                    os.link(path, kept)
                except OSError:
                    write_page(kept, original if original is not None else path.read_bytes(), mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return kept

