"""Bring a site's files into a store: read, add, rename, and (with ``sync``) remove.

:func:`ingest` is what ``related-posts ingest`` runs. It reads every file through
:mod:`.sources`, stores and embeds new and changed articles (:meth:`Recommender.add`),
and keeps one article per page: a page file whose id changed (it gained a canonical
URL, say) replaces the article it was stored as. With ``sync`` the store is made to
match the folders and files given: an article whose file is gone, whose record left its
file, or whose post became a draft is removed, and leaves every list as ``remove``
does. A file that could not be read, or held a record that could not be, removes
nothing: what it holds is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .article import Article, Skipped
from .recommend.recommender import AddReport, Recommender
from .sources import FieldMap, expand_paths, read_file, resolved, scope_of


@dataclass
class IngestReport(AddReport):
    """What :func:`ingest` did (or, with ``dry_run``, would do): what ``add`` reports, and
    the drafts, renamed and removed ids, the articles kept out and the files ignored."""

    drafts: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_out: list[str] = field(default_factory=list)  # removed by hand earlier: not stored again
    ignored: int = 0  # files in the folders that are not of a kind that can be read
    dry_run: bool = False

    @property
    def read(self) -> int:
        """Articles read (stored, or unchanged), drafts not counted."""
        return self.added + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "drafts": len(self.drafts), "draft_locations": self.drafts,
            "renamed": [{"from": old, "to": new} for old, new in self.renamed],
            "removed": self.removed, "kept_out": self.kept_out, "ignored": self.ignored,
            "dry_run": self.dry_run,
        }


def ingest(rec: Recommender, paths: Iterable[str | Path], fields: FieldMap | None = None, *,
           sync: bool = False, dry_run: bool = False, restore: bool = False,
           progress: Callable[..., Iterable[Any]] | None = None) -> IngestReport:
    """Store the articles of ``paths`` (files and folders) in ``rec``'s store.

    Args:
        rec: the recommender whose store receives the articles.
        paths: files and folders (folders recurse).
        fields: where records keep their fields. None: the mapping saved for these paths
            by an earlier ingest, else the usual names. A mapping given is saved for them.
        sync: also remove the stored articles of these paths that are no longer there.
        dry_run: read and compare everything, write nothing.
        restore: store again the articles taken out with ``remove`` (else they are left
            out and listed as ``kept_out``).
        progress: wraps the list of files (a progress bar), or None.

    Returns:
        The counts, the skipped inputs and drafts, and the ids renamed and removed.
    """
    given = [Path(p) for p in paths]
    store = rec.store
    saved = store.field_maps()
    if fields is not None and fields.to_pairs() and not dry_run:
        store.save_field_maps({**saved, **{_key(p): fields.to_pairs() for p in given}})
    ignored: list[Path] = []
    files = expand_paths(given, ignored)
    stored_pages = store.ids_by_origin()
    by_origin = {origin: [i for i, _ in pages] for origin, pages in stored_pages.items()}
    known = {origin: pages[0] for origin, pages in stored_pages.items() if len(pages) == 1}
    seen: dict[str, set[str]] = {}  # origin -> ids read from it in this run
    broken: set[str] = set()  # origins with a record that could not be read
    report = IngestReport(dry_run=dry_run, ignored=len(ignored))
    unpublished = store.kept_out()

    def articles() -> Iterator[Article | Skipped]:
        wrap = progress or (lambda items, **_: items)
        for path, site in wrap(files, desc="ingest", unit="file"):
            origin = str(resolved(path))
            mapping = fields if fields is not None and fields.to_pairs() else _saved_fields(saved, path)
            for item in read_file(path, site, mapping, known):
                if isinstance(item, Skipped) and item.draft:
                    report.drafts.append(item.location)
                    seen.setdefault(origin, set())
                    continue
                if isinstance(item, Skipped):
                    broken.add(origin)
                elif item.id in unpublished and not restore:
                    report.kept_out.append(item.id)
                    seen.setdefault(origin, set()).add(item.id)
                    continue
                else:
                    seen.setdefault(origin, set()).add(item.id)
                yield item

    if dry_run:
        added = _compare(rec, articles())
    else:
        added = rec.add(articles())
        if restore and unpublished:
            store.let_in(sorted(unpublished & {i for ids in seen.values() for i in ids}))
    report.added, report.updated, report.unchanged = added.added, added.updated, added.unchanged
    report.skipped = added.skipped
    # A page is one article: the page file stored under another id was renamed.
    for origin, ids in seen.items():
        if len(ids) == 1 and origin not in broken:
            (new_id,) = ids
            report.renamed += [(old, new_id) for old in by_origin.get(origin, ()) if old != new_id
                               and _is_page(origin)]
    gone = {old for old, _ in report.renamed}
    if sync:
        scope = [scope_of(p) for p in given]
        for origin, stored in by_origin.items():
            if origin in broken or not _within(Path(origin), scope):
                continue
            report.removed += [i for i in stored if i not in seen.get(origin, set()) and i not in gone]
    if not dry_run and (gone or report.removed):
        rec.remove(sorted(gone | set(report.removed)))
    return report


def _compare(rec: Recommender, items: Iterable[Article | Skipped]) -> AddReport:
    """What :meth:`Recommender.add` would report, without writing or embedding."""
    report = AddReport()
    for item in items:
        if isinstance(item, Skipped):
            report.skipped.append(item)
            continue
        stored = rec.store.get(item.id)
        if stored is None:
            report.added += 1
        elif stored.content_hash != item.content_hash or stored.metadata != item.metadata:
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def _is_page(origin: str) -> bool:
    from .recommend.parse import PAGE_FORMATS

    return Path(origin).suffix.lower() in PAGE_FORMATS


def _within(path: Path, scope: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in scope)


def _key(path: Path) -> str:
    return str(resolved(path))


def _saved_fields(saved: dict[str, list[str]], path: Path) -> FieldMap | None:
    """The field mapping saved for ``path`` or the nearest folder above it."""
    absolute = resolved(path)
    for candidate in (absolute, *absolute.parents):
        if str(candidate) in saved:
            return FieldMap.from_pairs(saved[str(candidate)])
    return None
