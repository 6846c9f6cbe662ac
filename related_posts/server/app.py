"""The ASGI application of ``related-posts serve``: JSON API, browse pages and widget.

Starlette, served by uvicorn: a small, well-kept ASGI toolkit whose routing, middleware
(CORS) and test client are all this needs; a full framework would add validation layers
for four endpoints. The quick reads (a few indexed SQLite queries) run on the event loop,
the model and audits in the thread pool; each thread has its own read connection to the
store (SQLite connections are not shared between threads). Reads see the last committed
state: a refresh writes in WAL mode, in batches, so a request never waits for it and never
sees half a list.

Endpoints:

- ``GET /related/{id}``, ``GET /related?url=...``: a stored article's list (``k``: 1-50).
- ``POST /related`` with ``{"title", "body"}``: the list for an unpublished draft (loads
  the model on first use).
- ``GET /articles?q=&page=&per_page=``: the stored articles, paged and searchable.
- ``GET /health``: counts, and whether the store answers.
- ``GET /``, ``GET /article/{id}``: the browse pages; ``GET /widget.js``: the widget.

JSON errors carry the HTTP status and a one-line message (404 for an unknown id, with
close ids as suggestions; 413 for a body over the limit; 422 for bad input). Responses
carry an ``ETag`` (a hash of the body: a CDN revalidates with ``If-None-Match`` and gets
304 while nothing changed) and ``Cache-Control``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..article import RelatedItem
from ..errors import RelatedPostsError, UnknownArticleError
from ..recommend.embed import Embedder, load_embedder
from ..recommend.recommender import Recommender
from ..recommend.render import safe_url
from ..sources import url_to_id
from . import pages

#: Most links a request may ask for, and the largest POST body read.
MAX_K = 50
MAX_BODY = 1_000_000
PER_PAGE = 50


@dataclass
class ServerOptions:
    """How ``serve`` answers: CORS origins allowed (``*`` for any), how long clients and
    CDNs may cache a response, the model for drafts (None: the store's)."""

    cors_origins: Sequence[str] = ()
    cache_seconds: int = 60
    model: str | None = None
    max_body: int = MAX_BODY


class ApiError(Exception):
    """An error answered as JSON with this status."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


@dataclass
class _State:
    db: str
    options: ServerOptions
    local: threading.local = field(default_factory=threading.local)
    lock: threading.Lock = field(default_factory=threading.Lock)
    embedder: Embedder | None = None

    def recommender(self) -> Recommender:
        """This thread's read connection (one per worker thread, kept open)."""
        rec = getattr(self.local, "rec", None)
        if rec is None:
            rec = Recommender(self.db, embedder=self.embedder)
            self.local.rec = rec
        elif self.embedder is not None and rec._embedder is None:
            rec._embedder = self.embedder
        return rec

    def with_model(self) -> Recommender:
        """This thread's connection with the model loaded (once for all threads)."""
        with self.lock:
            if self.embedder is None:
                rec = self.recommender()
                self.embedder = load_embedder(self.options.model or rec._model_name)
        return self.recommender()


def create_app(db: str, options: ServerOptions | None = None) -> Starlette:
    """The application serving the store at ``db`` (which must exist)."""
    options = options or ServerOptions()
    state = _State(db, options)
    Recommender(db).close()  # opens (and upgrades) the store now: a bad path fails at start

    def endpoint(handler: Callable[[Request, Recommender], Response], *, inline: bool = True
                 ) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` as an endpoint. ``inline`` ones (a few indexed SQLite reads, well
        under a millisecond) run on the event loop, which saves the thread pool's hand-off
        on every request; the others (the model, an audit) run in the thread pool."""
        def answer(request: Request) -> Response:
            try:
                return handler(request, state.recommender())
            except ApiError as exc:
                return _json_error(exc.status, exc.message, **exc.extra)
            except UnknownArticleError as exc:
                return _json_error(404, str(exc), suggestions=list(exc.suggestions))
            except RelatedPostsError as exc:
                return _json_error(503, str(exc))

        async def run(request: Request) -> Response:
            return answer(request) if inline else await run_in_threadpool(answer, request)
        return run

    def related_by_id(request: Request, rec: Recommender) -> Response:
        article_id = request.path_params["article_id"]
        return _cached(request, _list_body(rec, article_id, _k(request)), options)

    def related_by_url(request: Request, rec: Recommender) -> Response:
        url = request.query_params.get("url", "").strip()
        if not url:
            raise ApiError(422, "give ?url=THE_PAGE_URL, or GET /related/ID")
        article_id = _find_url(rec, url)
        if article_id is None:
            raise ApiError(404, f"no stored article has the url {url[:200]!r}; ingest the page first",
                           suggestions=[])
        return _cached(request, _list_body(rec, article_id, _k(request)), options)

    async def draft(request: Request) -> Response:
        try:
            title, body, k = await _draft_fields(request, options.max_body)
        except ApiError as exc:
            return _json_error(exc.status, exc.message)
        def answer() -> Response:
            try:
                items = state.with_model().related_to_text(title, body, k)
            except RelatedPostsError as exc:
                return _json_error(503, str(exc))
            return JSONResponse({"title": title, "related": [_item(i) for i in items]})
        return await run_in_threadpool(answer)

    def articles(request: Request, rec: Recommender) -> Response:
        query, page, per_page = _paging(request)
        found, total = _search(rec, query, page, per_page)
        return _cached(request, {"query": query, "page": page, "per_page": per_page, "total": total,
                                 "articles": [_summary(a) for a in found]}, options)

    def health(request: Request, rec: Recommender) -> Response:
        return JSONResponse({"status": "ok", **_numbers(rec)}, headers={"Cache-Control": "no-store"})

    def index(request: Request, rec: Recommender) -> Response:
        query, page, _ = _paging(request)
        found, total = _search(rec, query, page, PER_PAGE)
        return _html(request, pages.index_page(db, _numbers(rec), found, total, query, page, PER_PAGE,
                                               _list_sizes(rec, [a.id for a in found])), options)

    def article_page(request: Request, rec: Recommender) -> Response:
        article_id = request.path_params["article_id"]
        article = rec.store.get(article_id)
        if article is None:
            suggestions = rec.store.similar_ids(article_id)
            return HTMLResponse(pages.not_found_page(article_id, suggestions), status_code=404)
        try:
            items = rec.related(article_id, k=_k(request))
        except RelatedPostsError:
            items = []
        audit = _audit(state, article_id) if article.tail else None
        return _html(request, pages.article_page(article, items, audit), options)

    def widget(request: Request) -> Response:
        script = resources.files(__package__).joinpath("widget.js").read_text(encoding="utf-8")
        return _cached(request, script, options, media_type="application/javascript")

    routes = [
        Route("/", endpoint(index)),
        Route("/health", endpoint(health)),
        Route("/articles", endpoint(articles)),
        Route("/article/{article_id:path}", endpoint(article_page, inline=False)),
        Route("/related", endpoint(related_by_url), methods=["GET"]),
        Route("/related", draft, methods=["POST"]),
        Route("/related/{article_id:path}", endpoint(related_by_id)),
        Route("/widget.js", widget),
    ]
    middleware = [Middleware(CORSMiddleware, allow_origins=list(options.cors_origins),
                             allow_methods=["GET", "POST"], allow_headers=["Content-Type"],
                             expose_headers=["ETag"])] if options.cors_origins else []
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={404: _not_found, 405: _not_allowed})
    return app


# -- requests ---------------------------------------------------------------------------------


def _k(request: Request) -> int:
    raw = request.query_params.get("k", "5")
    if not _whole(raw) or not 1 <= int(raw) <= MAX_K:
        raise ApiError(422, f"k must be a whole number from 1 to {MAX_K}, got {raw[:40]!r}")
    return int(raw)


def _paging(request: Request) -> tuple[str, int, int]:
    query = request.query_params.get("q", "").strip()[:200]
    page, per_page = request.query_params.get("page", "1"), request.query_params.get("per_page", str(PER_PAGE))
    if not _whole(page) or int(page) < 1 or len(page) > 9:
        raise ApiError(422, f"page must be a whole number from 1, got {page[:40]!r}")
    if not _whole(per_page) or not 1 <= int(per_page) <= 500:
        raise ApiError(422, f"per_page must be a whole number from 1 to 500, got {per_page[:40]!r}")
    return query, int(page), int(per_page)


def _whole(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes "¹" and "٣", which ``int`` refuses)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


async def _draft_fields(request: Request, limit: int) -> tuple[str, str, int]:
    declared = request.headers.get("content-length", "")
    if _whole(declared) and int(declared) > limit:
        raise ApiError(413, f"the body is {int(declared):,} bytes; at most {limit:,} are read")
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise ApiError(413, f"the body is over {limit:,} bytes; at most {limit:,} are read")
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        raise ApiError(422, 'the body must be a JSON object: {"title": "...", "body": "..."}') from None
    if not isinstance(payload, dict):
        raise ApiError(422, 'the body must be a JSON object: {"title": "...", "body": "..."}')
    title, body, k = payload.get("title"), payload.get("body"), payload.get("k", 5)
    for name, value in (("title", title), ("body", body)):
        if not isinstance(value, str) or not value.strip():
            raise ApiError(422, f"'{name}' must be a non-empty string")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ApiError(422, f"'k' must be a whole number from 1 to {MAX_K}")
    assert isinstance(title, str) and isinstance(body, str)  # checked above
    return title.strip(), body.strip(), k


# -- answers ----------------------------------------------------------------------------------


def _item(item: RelatedItem) -> dict[str, Any]:
    found = item.to_dict()
    found["url"], found["image"] = safe_url(item.url), safe_url(item.image)
    return found


def _list_body(rec: Recommender, article_id: str, k: int) -> dict[str, Any]:
    article = rec.store.get(article_id)
    if article is None:
        raise UnknownArticleError(article_id, rec.store.path, rec.store.similar_ids(article_id))
    items = rec.related(article_id, k=k)
    return {"id": article.id, "title": article.title, "url": safe_url(article.url),
            "related": [_item(i) for i in items]}


def _summary(article: Any) -> dict[str, Any]:
    return {"id": article.id, "title": article.title, "url": safe_url(article.url),
            "published": article.published, "labels": list(article.labels),
            "image": safe_url(article.image), "description": article.description}


def _find_url(rec: Recommender, url: str) -> str | None:
    """The stored article at ``url``: the same URL, else the id a URL gives (host + path)."""
    row = rec.store.db.execute("select id from articles where url = ? limit 1", [url]).fetchone()
    if row:
        return str(row[0])
    candidate = url_to_id(url)
    return candidate if rec.store.get(candidate) is not None else None


def _search(rec: Recommender, query: str, page: int, per_page: int) -> tuple[list[Any], int]:
    return rec.store.search(query, per_page, (page - 1) * per_page)


def _numbers(rec: Recommender) -> dict[str, Any]:
    execute = rec.store.db.execute
    return {
        "articles": rec.store.count(),
        "embedded": execute("select count(*) from embeddings").fetchone()[0],
        "lists": execute("select count(*) from list_state").fetchone()[0],
        "links": execute("select count(*) from related").fetchone()[0],
        "with_old_tail": execute("select count(*) from articles where tail not in ('[]', '')").fetchone()[0],
        "last_refresh": execute("select max(computed_at) from list_state").fetchone()[0],
    }


def _list_sizes(rec: Recommender, ids: Sequence[str]) -> dict[str, int]:
    return {i: len(links) for i, links in rec.store.stored_lists(ids).items()}


def _audit(state: _State, article_id: str) -> Any:
    """The audit of one stored article's old tail (the model embeds tail items that link
    to no stored article); None when it cannot be made."""
    from ..recommend.parse import Document

    rec = state.with_model()
    article = rec.store.get(article_id)
    if article is None:
        return None
    page = Document(text="", format="text", title=article.title, body=article.body, tail=article.tail)
    try:
        report = rec.audit([(article_id, page)])
    except RelatedPostsError:
        return None
    return report.articles[0] if report.articles else None


def _cached(request: Request, body: Any, options: ServerOptions, media_type: str = "application/json"
            ) -> Response:
    """``body`` with an ETag and Cache-Control; 304 when the client holds this version."""
    content = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    data = content.encode("utf-8")
    tag = f'W/"{hashlib.sha256(data).hexdigest()[:32]}"'
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={options.cache_seconds}"}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


def _html(request: Request, page: str, options: ServerOptions) -> Response:
    return _cached(request, page, options, media_type="text/html; charset=utf-8")


def _json_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message, **extra}}, status_code=status,
                        headers={"Cache-Control": "no-store"})


async def _not_found(request: Request, exc: Exception) -> Response:
    return _json_error(404, f"no such endpoint: {request.url.path[:200]}; see GET / for the browse page, "
                       "GET /related/ID, GET /articles, GET /health")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _json_error(405, f"{request.method} is not allowed on {request.url.path[:200]}")
