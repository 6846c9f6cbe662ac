"""The browse pages of ``serve``: plain server-rendered HTML with a little CSS.

Pure functions from store values to HTML text. Every value from the store is escaped
(``html.escape``) and every link goes through the one URL policy (``safe_url``), so a
hostile title, teaser or URL is shown as text and never runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from ..article import Article, RelatedItem
from ..recommend.render import safe_url

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d232b; background: #f6f7f9; }
header { background: #1d3557; color: #fff; padding: 14px 28px; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header span { opacity: .75; margin-left: 12px; font-size: 13px; }
main { max-width: 1120px; margin: 0 auto; padding: 20px 28px 40px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 17px; margin: 0 0 10px; }
.numbers { display: flex; gap: 12px; flex-wrap: wrap; margin: 8px 0 18px; }
.numbers div { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 10px 16px; min-width: 110px; }
.numbers b { display: block; font-size: 20px; }
.numbers small { color: #5b6573; }
form.search input { font: inherit; padding: 7px 10px; width: 320px; border: 1px solid #c3c9d1; border-radius: 6px; }
form.search button { font: inherit; padding: 7px 14px; border: 0; border-radius: 6px; background: #1d3557; color: #fff; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #dde1e6; margin-top: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid #eceff2; vertical-align: top; }
th { font-size: 13px; color: #5b6573; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #5b6573; font-size: 13px; margin-bottom: 14px; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; margin-top: 14px; }
.panel { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 14px 18px; }
.panel ol { padding-left: 20px; margin: 0; }
.panel li { margin-bottom: 10px; }
.score { font-variant-numeric: tabular-nums; font-weight: 600; }
.why { color: #5b6573; font-size: 12px; }
.teaser { color: #3b4450; font-size: 13px; }
.verdict { display: inline-block; border-radius: 10px; padding: 1px 10px; font-size: 13px; font-weight: 600; }
.verdict.related { background: #d8f3dc; color: #1b4332; }
.verdict.mixed { background: #fff3bf; color: #7a5c00; }
.verdict.unrelated { background: #ffd6d6; color: #8b1e1e; }
.below { color: #8b1e1e; }
.pager a { margin-right: 10px; }
.empty { color: #5b6573; font-style: italic; }
"""


def _page(title: str, body: str, store: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)} · related-posts</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<header><a href=\"/\">related-posts</a><span>{escape(store)}</span></header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _article_href(article_id: str) -> str:
    return "/article/" + quote(article_id, safe="/")


def _link(url: str | None, text: str) -> str:
    safe = safe_url(url)
    return f'<a href="{escape(safe)}">{escape(text)}</a>' if safe else escape(text)


def index_page(store: str, numbers: Mapping[str, Any], articles: Sequence[Article], total: int,
               query: str, page: int, per_page: int, sizes: Mapping[str, int]) -> str:
    """The front page: site numbers, a search box and the articles (paged)."""
    cards = [("articles", numbers["articles"]), ("embedded", numbers["embedded"]),
             ("related lists", numbers["lists"]), ("links", numbers["links"]),
             ("with an old tail", numbers["with_old_tail"])]
    boxes = "".join(f"<div><b>{value:,}</b><small>{escape(label)}</small></div>" for label, value in cards)
    refreshed = numbers.get("last_refresh")
    rows = "".join(
        f"<tr><td><a href=\"{escape(_article_href(a.id))}\">{escape(a.title)}</a>"
        f"<div class=\"why\">{escape(a.id)}</div></td>"
        f"<td>{escape((a.published or '')[:10])}</td><td>{escape(', '.join(a.labels))}</td>"
        f"<td class=\"num\">{sizes.get(a.id, 0)}</td></tr>"
        for a in articles)
    table = (f"<table><tr><th>article</th><th>published</th><th>labels</th><th>links</th></tr>{rows}</table>"
             if articles else f"<p class=\"empty\">No article matches {escape(query)!s}.</p>")
    pages = max(1, -(-total // per_page))
    pager = "".join(
        f'<a href="/?{escape(urlencode({"q": query, "page": n}))}">{label}</a>'
        for n, label in ((page - 1, "&larr; previous"), (page + 1, "next &rarr;")) if 1 <= n <= pages)
    body = (
        f"<h1>{escape(store)}</h1>"
        f"<div class=\"meta\">last refresh: {escape(refreshed or 'never: run related-posts refresh')}</div>"
        f"<div class=\"numbers\">{boxes}</div>"
        f"<form class=\"search\" action=\"/\" method=\"get\"><input name=\"q\" value=\"{escape(query)}\" "
        f"placeholder=\"search titles and ids\" aria-label=\"search\"> <button>Search</button></form>"
        f"<div class=\"meta\" style=\"margin-top:10px\">{total:,} articles"
        f"{' matching ' + escape(repr(query)) if query else ''}, page {page} of {pages}</div>"
        f"{table}<p class=\"pager\">{pager}</p>"
    )
    return _page(store, body, store)


def article_page(article: Article, items: Sequence[RelatedItem], audit: Any | None) -> str:
    """One article: its old tail (with the audit's scores) beside the new list and why."""
    labels = f" · {escape(', '.join(article.labels))}" if article.labels else ""
    meta = (f"<div class=\"meta\">{_link(article.url, article.url or 'no url')} · "
            f"{escape((article.published or 'undated')[:10])}{labels} · id {escape(article.id)}</div>")
    if article.tail:
        scored = {i: item for i, item in enumerate(audit.items)} if audit is not None else {}
        old_rows = []
        for index, item in enumerate(article.tail):
            found = scored.get(index)
            note = (f" <span class=\"score{' below' if found.below_floor else ''}\">{found.score:.2f}</span>"
                    f" <span class=\"why\">{'below' if found.below_floor else 'above'} the floor "
                    f"{found.floor:.2f}</span>") if found is not None else ""
            old_rows.append(f"<li>{_link(item.url, item.title)}{note}</li>")
        verdict = (f"<span class=\"verdict {escape(audit.verdict)}\">{escape(audit.verdict)}</span> "
                   f"<span class=\"why\">{audit.below} of {len(audit.items)} below the relevance floor</span>"
                   if audit is not None else "<span class=\"why\">not audited</span>")
        old = f"<h2>The tail it came with</h2><p>{verdict}</p><ol>{''.join(old_rows)}</ol>"
    else:
        old = "<h2>The tail it came with</h2><p class=\"empty\">The page had no related-posts tail.</p>"
    if items:
        new_rows = "".join(
            f"<li>{_link(i.url, i.title)} <span class=\"score\">{i.score:.2f}</span>"
            f"<div class=\"why\">{escape(_why(i.why))} · <a href=\"{escape(_article_href(i.id))}\">open</a></div>"
            f"<div class=\"teaser\">{escape(i.teaser)}</div></li>" for i in items)
        new = f"<h2>Related list</h2><ol>{new_rows}</ol>"
    else:
        new = "<h2>Related list</h2><p class=\"empty\">No list yet: run related-posts refresh.</p>"
    body = (f"<p><a href=\"/\">&larr; all articles</a></p><h1>{escape(article.title)}</h1>{meta}"
            f"<div class=\"columns\"><section class=\"panel\">{old}</section>"
            f"<section class=\"panel\">{new}</section></div>")
    return _page(article.title, body)


def _why(why: Mapping[str, Any] | None) -> str:
    """The score's parts in words: ``dense 0.61 · lexical 0.22 · tags 0.50 · re-ranking +0.04 ·
    background`` (tags only on a site with labels)."""
    if not why:
        return "score parts not stored"
    parts = [f"{name} {why[key]:.2f}" for key, name in (("dense", "dense"), ("lexical", "lexical"),
                                                    ("labels", "tags"))
             if isinstance(why.get(key), (int, float))]
    if isinstance(why.get("expanded"), (int, float)):
        parts.append(f"re-ranking {why['expanded']:.2f}")
    if isinstance(why.get("time"), str):
        parts.append(why["time"])
    return " · ".join(parts)


def not_found_page(article_id: str, suggestions: Sequence[str]) -> str:
    """The page for an id that is not stored, with close ids."""
    hints = "".join(f"<li><a href=\"{escape(_article_href(s))}\">{escape(s)}</a></li>" for s in suggestions)
    body = (f"<h1>No article {escape(repr(article_id))}</h1>"
            + (f"<p>Did you mean:</p><ul>{hints}</ul>" if hints else "")
            + "<p><a href=\"/\">&larr; all articles</a></p>")
    return _page("not found", body)
