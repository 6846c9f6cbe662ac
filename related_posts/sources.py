"""Read a site's articles from its files: pages, records, feeds and CMS exports.

Every file goes through the parse package's one entry point
(:func:`~related_posts.recommend.parse.parse_file`); this module turns what it finds into
:class:`Article` values with stable ids, or :class:`Skipped` values that say which file
(and record) could not be used and why, so a batch goes on past bad records. It reads
input files and writes nothing.

Ids, in order: a record's own ``id`` field (JSON, JSON Lines, CSV); the page's URL, as
host and path (canonical link, ``og:url``, front matter ``url``/``permalink``, a feed
entry's link), relative URLs resolved against the site's base URL; an id the source
gives itself (a WordPress post id, a feed entry's guid); a front matter ``slug``; else
the file's path under the site root. The site root is the nearest folder at or above
the one given that holds a Hugo or Jekyll configuration, else the folder given; a file
already stored keeps the path id it was stored under, so one site ingested through two
folder arguments keeps one id per page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .article import Article, Skipped
from .recommend.parse import (
    SUFFIXES,
    XML_SUFFIXES,
    Document,
    FieldMap,
    ParseError,
    decode_page,
    load_mapping,
    parse_file,
)
from .recommend.parse.feeds import is_sitemap, sitemap_urls
from .recommend.parse.fields import field_names

__all__ = ["FieldMap", "Site", "document_to_article", "expand_paths", "read_file", "read_sources",
           "resolved", "scope_of", "site_of", "url_to_id"]

#: The ``(id, url)`` of each stored page, by its file's absolute path.
Known = Mapping[str, "tuple[str, str | None]"]

#: Files that mark a site's root folder: Hugo (``hugo.*``, or ``config.*`` beside a
#: ``content`` folder) and Jekyll (``_config.yml``).
_HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json")
_HUGO_LEGACY_CONFIGS = ("config.toml", "config.yaml", "config.yml", "config.json")
_JEKYLL_CONFIGS = ("_config.yml", "_config.yaml")


@dataclass(frozen=True)
class Site:
    """The folder a site's files live under, and what its configuration says.

    ``kind`` is ``hugo``, ``jekyll`` or ``folder`` (no configuration found: the folder
    given); ``base_url`` is Hugo's ``baseURL`` or Jekyll's ``url`` + ``baseurl``, used to
    resolve relative URLs and Hugo's default permalinks.
    """

    root: Path
    kind: str = "folder"
    base_url: str | None = None


def resolved(path: Path) -> Path:
    """``path`` made absolute with links followed; a link loop or an unreadable folder on
    the way gives the absolute path as it is."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python before 3.13)
        return Path(os.path.abspath(path))


def site_of(folder: Path) -> Site:
    """The site that ``folder`` belongs to (see :class:`Site`)."""
    start = resolved(folder)
    for candidate in (start, *start.parents):
        for name in _HUGO_CONFIGS + _HUGO_LEGACY_CONFIGS:
            config = candidate / name
            if config.is_file() and (name in _HUGO_CONFIGS or (candidate / "content").is_dir()):
                return Site(candidate, "hugo", _config_value(config, ("baseURL", "baseurl")))
        for name in _JEKYLL_CONFIGS:
            config = candidate / name
            if config.is_file():
                base = _config_value(config, ("url",))
                path = _config_value(config, ("baseurl",))
                return Site(candidate, "jekyll", (base.rstrip("/") + "/" + (path or "").strip("/"))
                            if base else None)
    return Site(start)


def _config_value(config: Path, keys: tuple[str, ...]) -> str | None:
    """A top-level string of a site configuration file (None when unreadable)."""
    try:
        data = load_mapping(config.read_text(encoding="utf-8"), config.suffix)
    except (OSError, UnicodeDecodeError):
        return None
    return next((data[k].strip() for k in keys if isinstance(data.get(k), str) and data[k].strip()), None)


def expand_paths(paths: Iterable[str | Path], ignored: list[Path] | None = None
                 ) -> list[tuple[Path, Site]]:
    """Every file to read as ``(file, site)``; folders recurse, hidden entries are skipped.

    Files inside folders that are not of a kind that can be read (a site's configuration,
    images, stylesheets) are left out, and appended to ``ignored`` when it is given; a
    file named itself is always listed, so that reading it says why it cannot be read.
    """
    files: list[tuple[Path, Site]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            site = site_of(path)
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if not child.is_file() or any(p.startswith(".") for p in relative.parts):
                    continue
                if child.suffix.lower() in SUFFIXES and not _is_sitemap_file(child):
                    files.append((child, site))
                elif ignored is not None:
                    ignored.append(child)
        else:
            files.append((path, site_of(path.parent)))
    return files


def read_sources(paths: Iterable[str | Path], fields: FieldMap | None = None,
                 known: Known | None = None) -> Iterator[Article | Skipped]:
    """Articles from files and folders, with a :class:`Skipped` for each bad file or record.

    ``known`` maps the origin (absolute path) of a stored page to its ``(id, url)``, so
    that a page read through another folder argument keeps the id it has, and a page
    without a URL of its own the URL a sitemap gave it.
    """
    for path, site in expand_paths(paths):
        yield from read_file(path, site, fields, known)


def read_file(path: Path, site: Site, fields: FieldMap | None = None,
              known: Known | None = None) -> Iterator[Article | Skipped]:
    """The articles of one file (see :func:`read_sources`)."""
    location = str(path)
    try:
        location.encode("utf-8")
    except UnicodeEncodeError:  # bytes in the name that are not UTF-8 (a Latin-1 file system)
        yield Skipped(location.encode("utf-8", "backslashreplace").decode("ascii", "replace"),
                      "the file name is not UTF-8; rename the file (ids and sources must be text)")
        return
    if not path.exists():
        yield Skipped(location, "no such file or folder")
        return
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        yield Skipped(location, f"unsupported file type '{suffix or '(none)'}'; valid: "
                      + ", ".join(SUFFIXES))
        return
    try:
        data = path.read_bytes()
    except OSError as exc:  # unreadable (permissions), a folder named like a file, gone meanwhile
        yield Skipped(location, f"cannot read the file ({exc.strerror or exc})")
        return
    if not data.strip():
        yield Skipped(location, "empty file")
        return
    if suffix in XML_SUFFIXES and is_sitemap(data.decode("utf-8", "replace")[:4096]):
        yield from _sitemap_pages(path, data, site, known, set())
        return
    origin = str(resolved(path))
    for where, found in parse_file(data, location, fields):
        if isinstance(found, ParseError):
            yield Skipped(where, found.reason)
        else:
            yield document_to_article(found, where, path, site, (known or {}).get(origin))


def _sitemap_pages(sitemap: Path, data: bytes, site: Site, known: Known | None,
                   visited: set[Path]) -> Iterator[Article | Skipped]:
    """The pages an XML sitemap lists, read from a local mirror of the site beside it.

    A URL ``https://host/a/b/`` is looked for at ``a/b/index.html``, ``a/b.html`` and
    ``a/b`` under the sitemap's folder, and under a ``host/`` folder there (as ``wget
    --mirror`` saves a site); a sitemap index's sitemaps are found the same way. A page
    without a canonical link of its own gets the URL the sitemap gives it.
    """
    visited.add(resolved(sitemap))
    text, _ = decode_page(data, str(sitemap))
    found = sitemap_urls(text, str(sitemap))
    for error in found.errors:
        yield Skipped(error.location, error.reason)
    for url in found.sitemaps:
        local = _mirrored(sitemap.parent, url)
        if local is None:
            yield Skipped(f"{sitemap}: {url}", f"no local copy of this sitemap at "
                          f"{_mirror_candidates(sitemap.parent, url)[0]}; mirror the site beside the index")
        elif resolved(local) not in visited:
            try:
                yield from _sitemap_pages(local, local.read_bytes(), site, known, visited)
            except OSError as exc:
                yield Skipped(str(local), f"cannot read the file ({exc.strerror or exc})")
    for url in found.pages:
        local = _mirrored(sitemap.parent, url)
        if local is None:
            yield Skipped(f"{sitemap}: {url}", "no local copy of this page at "
                          f"{_mirror_candidates(sitemap.parent, url)[0]} (or .html, or under a "
                          "folder named after the host); mirror the site beside the sitemap")
            continue
        for item in read_file(local, site, None, known):
            if isinstance(item, Article) and item.url is None:
                item = replace(item, url=url, id=url_to_id(url))
            yield item


def _mirror_candidates(folder: Path, url: str) -> list[Path]:
    parts = urlsplit(url)
    # Only the URL's own segments: "." and ".." never lead out of the mirror.
    path = "/".join(p for p in parts.path.split("/") if p not in ("", ".", ".."))
    candidates = []
    for base in (folder, folder / parts.netloc):
        if path:
            candidates += [base / path / "index.html", base / f"{path}.html", base / path]
        else:
            candidates.append(base / "index.html")
    return candidates


def _mirrored(folder: Path, url: str) -> Path | None:
    """The local copy of ``url`` in a mirror of the site under ``folder``, if there is one."""
    root = resolved(folder)
    try:
        return next((c for c in _mirror_candidates(folder, url)
                     if c.is_file() and (root == resolved(c) or root in resolved(c).parents)), None)
    except ValueError:  # a URL that does not split
        return None


def _is_sitemap_file(path: Path) -> bool:
    """Whether ``path`` is an XML sitemap. In a folder one is left out: the folder's pages
    are read themselves, and a sitemap would list them again."""
    if path.suffix.lower() not in XML_SUFFIXES:
        return False
    try:
        with path.open("rb") as handle:
            return is_sitemap(handle.read(4096).decode("utf-8", "replace"))
    except OSError:
        return False


def scope_of(path: Path) -> Path:
    """What a path given to ``ingest --sync`` stands for: a sitemap its mirror's folder,
    anything else itself."""
    return resolved(path.parent) if _is_sitemap_file(path) else resolved(path)


def document_to_article(document: Document, location: str, path: Path, site: Site,
                        known: tuple[str, str | None] | None = None) -> Article | Skipped:
    """One parsed page, record or entry of the file ``path`` as an article, or why not.

    ``known`` is the ``(id, url)`` the store holds for this page's file, if any.
    """
    metadata = document.metadata
    if metadata.draft:
        return Skipped(location, "a draft or unpublished post (draft: true, or a status such as "
                       "'draft' or 'private'); not stored", draft=True)
    record = document.format == "json"
    if not document.title:
        return Skipped(location, "no title" if record else
                       "no title: the first line (or '# heading') must hold one")
    url, image = (_absolute(value, site.base_url) for value in (metadata.url, metadata.image))
    single = location == str(path)  # one article per file: a page
    if single and url is None and site.kind == "hugo" and site.base_url:
        url = _hugo_permalink(path, site, metadata.slug)
    if single and url is None and known is not None and metadata.slug is None:
        url = known[1]  # the URL a sitemap gave this file
    article_id = (metadata.id if record else None) or (url_to_id(url) if url else None) \
        or metadata.id or metadata.slug
    if article_id is None and single:  # a page, or a file holding one record
        article_id = known[0] if known is not None else path_to_id(path, site.root)
    if article_id is None:
        return Skipped(location, "no 'id' or 'url' field to take an id from (fields found: "
                       f"{field_names(document.meta.get('record', {}))})")
    return Article(
        id=article_id,
        title=document.title,
        body=document.body,
        url=url,
        published=metadata.published,
        source=metadata.source or (location.rsplit(":", 1)[0] if record else str(path)),
        lang=metadata.lang,
        tail=document.tail,
        labels=metadata.labels,
        image=image,
        description=metadata.description,
        modified=metadata.modified,
        origin=str(resolved(path)),
    )


def _absolute(url: str | None, base_url: str | None) -> str | None:
    """A site-relative URL (``/posts/x/``) resolved against the site's base URL."""
    if not url or not base_url:
        return url
    try:
        if urlsplit(url).netloc or urlsplit(url).scheme:
            return url
    except ValueError:  # not a URL at all: kept as it is, and the URL policy judges it
        return url
    return urljoin(base_url.rstrip("/") + "/", url.lstrip("/"))


def path_to_id(path: Path, root: Path) -> str:
    """A page's id from its path under the site root, without the extension."""
    absolute = resolved(path)
    try:
        return absolute.relative_to(root).with_suffix("").as_posix()
    except ValueError:  # a file outside the root (a link out of it): its own name
        return absolute.with_suffix("").name


def _hugo_permalink(path: Path, site: Site, slug: str | None) -> str | None:
    """Hugo's default URL of a content file: ``/section/name/`` under ``baseURL``
    (a page bundle's ``index.md`` is named by its folder)."""
    try:
        relative = resolved(path).relative_to(site.root / "content").with_suffix("")
    except ValueError:
        return None
    parts = list(relative.parts)
    if parts and parts[-1] in ("index", "_index"):
        parts.pop()
    if slug and parts:
        parts[-1] = slug
    assert site.base_url is not None
    return site.base_url.rstrip("/") + "/" + "/".join(parts) + ("/" if parts else "")


def url_to_id(url: str) -> str:
    """A stable id from a URL: host and path, without scheme, ``www.``, query or slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # an unbalanced "[" in the host: the URL itself is the id
        return url.strip()
    host = parts.netloc.lower().removeprefix("www.")
    return (host + parts.path).rstrip("/").lstrip("/") or url.strip()
