"""Write the labelled test set: page files and, beside each, ``NAME.expected.json``.

    python tests/pages/build.py

Pages are rendered from the original articles and tail items in ``articles.py`` into
template families modelled on real sites (WordPress with YARPP / Jetpack / Contextual
Related Posts, news sites with Outbrain / Taboola, headed link sections, link asides),
plus text, Markdown and JSON pages, and pages that must fail (only a tail, only links).
Expected labels come from the same parts the page is rendered from, so they are exact.
The expected JSON holds ``format``, ``title``, ``body`` (article text, one block a line),
``tail`` (items: ``title``, ``url``, ``teaser``), ``has_tail`` and ``error`` (the error a
page must raise, or null), and ``notes``. The files are committed; rerun after editing.
"""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from articles import ARTICLES, TAIL_ITEMS  # noqa: E402

e = html.escape


def items(*indices: int) -> list[dict]:
    return [{"title": TAIL_ITEMS[i][0], "teaser": TAIL_ITEMS[i][1], "url": TAIL_ITEMS[i][2]}
            for i in indices]


def body_lines(key: str, text_lists: bool = False) -> list[str]:
    lines = []
    for kind, value in ARTICLES[key][1]:
        if kind == "ul":
            lines.extend((f"- {v}" if text_lists else v) for v in value)
        else:
            lines.append(value)
    return lines


def article_html(key: str, extra: dict[int, str] | None = None, p_open: str = "<p>",
                 p_close: str = "</p>") -> str:
    """The article blocks as HTML; ``extra`` inserts raw HTML after block N."""
    out = []
    for index, (kind, value) in enumerate(ARTICLES[key][1]):
        if kind == "p":
            out.append(f"{p_open}{e(value)}{p_close}")
        elif kind == "h2":
            out.append(f"<h2>{e(value)}</h2>")
        elif kind == "quote":
            out.append(f"<blockquote><p>{e(value)}</p></blockquote>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{e(v)}</li>" for v in value) + "</ul>")
        if extra and index in extra:
            out.append(extra[index])
    return "\n".join(out)


def document(title: str, body: str, site: str = "The Valley Courier", lang: str = "en",
             head_extra: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{e(title)} | {e(site)}</title>\n"
            f'<meta property="og:title" content="{e(title)}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<link rel=\"stylesheet\" href=\"/static/site.css\">\n{head_extra}"
            f"<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}"
            f"if (a < b && c > d) {{ gtag('js', new Date()); }}</script>\n"
            f"</head>\n<body>\n{body}\n</body>\n</html>\n")


NAV = ('<header class="site-header"><a class="logo" href="/">The Valley Courier</a>\n'
       '<nav class="main-nav"><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>'
       '<li><a href="/business">Business</a></li><li><a href="/culture">Culture</a></li>'
       '<li><a href="/opinion">Opinion</a></li></ul></nav></header>')
FOOTER = ('<footer class="site-footer"><p>&copy; 2025 The Valley Courier. All rights reserved.</p>'
          '<ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li>'
          '<li><a href="/privacy">Privacy policy</a></li></ul></footer>')
SIDEBAR = ('<aside id="secondary" class="widget-area"><section class="widget widget_recent_entries">'
           '<h2 class="widget-title">Recent Posts</h2><ul><li><a href="/2025/05/garden-show">Garden show opens</a></li>'
           '<li><a href="/2025/05/market">Market days change</a></li></ul></section>'
           '<section class="widget widget_categories"><h2 class="widget-title">Categories</h2><ul>'
           '<li><a href="/category/local">Local</a></li><li><a href="/category/events">Events</a></li></ul></section></aside>')
COMMENTS = ('<div id="comments" class="comments-area"><h2 class="comments-title">3 thoughts on this</h2>'
            '<ol class="comment-list"><li class="comment"><div class="comment-body"><p>Great news for the town, '
            'I remember swimming there as a boy.</p></div></li><li class="comment"><div class="comment-body">'
            '<p>Who is paying for all this? Not my taxes I hope.</p></div></li></ol>'
            '<div id="respond"><h3>Leave a Reply</h3><form><textarea name="comment"></textarea>'
            '<input type="submit" value="Post Comment"></form></div></div>')
SHARE = ('<div class="share-buttons"><span>Share this:</span><a href="https://facebook.example/share">Facebook</a>'
         '<a href="https://x.example/share">X</a><a href="mailto:?subject=x">Email</a></div>')

PAGES: list[tuple[str, str, dict]] = []


def add(name: str, text: str, *, fmt: str, title: str, body: list[str] | str, tail: list[dict],
        has_tail: bool | None = None, error: str | None = None, notes: str = "") -> None:
    expected = {
        "format": fmt,
        "title": title,
        "body": body if isinstance(body, str) else "\n".join(body),
        "tail": tail,
        "has_tail": bool(tail) if has_tail is None else has_tail,
        "error": error,
        "notes": notes,
    }
    PAGES.append((name, text, expected))


def T(key: str) -> str:
    return ARTICLES[key][0]


# -- HTML: WordPress families ------------------------------------------------------------------

def wp_post(key: str, related: str, *, after_content: str = "", inner_extra: dict | None = None,
            comments: bool = True) -> str:
    return document(T(key), "\n".join([
        '<div id="page" class="site">', NAV,
        '<div id="content" class="site-content"><main id="main" class="site-main">',
        '<article id="post-812" class="post-812 post type-post status-publish format-standard hentry category-local">',
        f'<header class="entry-header"><h1 class="entry-title">{e(T(key))}</h1>',
        '<div class="entry-meta"><span class="posted-on">Posted on <time datetime="2025-05-14">May 14, 2025</time></span>'
        ' <span class="byline">by <a href="/author/jo">Jo Marsh</a></span></div></header>',
        '<div class="entry-content">', article_html(key, inner_extra), related, "</div>",
        after_content,
        '<footer class="entry-footer"><span class="cat-links">Posted in <a href="/category/local">Local</a></span>'
        ' <span class="tags-links">Tagged <a href="/tag/town">town</a>, <a href="/tag/council">council</a></span></footer>',
        "</article>",
        COMMENTS if comments else "",
        "</main>", SIDEBAR, "</div>", FOOTER, "</div>",
    ]))


def yarpp(its: list[dict], heading: str = "Related posts:", excerpts: bool = True) -> str:
    rows = "".join(
        f'<li><a href="{i["url"]}" rel="bookmark" title="{e(i["title"])}">{e(i["title"])}</a>'
        + (f" <small>{e(i['teaser'])}</small>" if excerpts else "") + "</li>"
        for i in its)
    return (f"<div class='yarpp yarpp-related yarpp-related-website yarpp-template-list'>\n"
            f"<!-- YARPP List -->\n<h3>{e(heading)}</h3><ol>{rows}</ol>\n</div>")


def jetpack(its: list[dict]) -> str:
    posts = "".join(
        f'<div class="jp-relatedposts-post jp-relatedposts-post{n}" data-post-id="{900 + n}">'
        f'<h4 class="jp-relatedposts-post-title"><a class="jp-relatedposts-post-a" href="{i["url"]}" '
        f'title="{e(i["title"])}">{e(i["title"])}</a></h4>'
        f'<p class="jp-relatedposts-post-excerpt">{e(i["teaser"])}</p>'
        f'<p class="jp-relatedposts-post-date">April {n + 3}, 2025</p>'
        f'<p class="jp-relatedposts-post-context">In &quot;Local&quot;</p></div>'
        for n, i in enumerate(its))
    return (f'<div id="jp-relatedposts" class="jp-relatedposts" style="display: block;">'
            f'<h3 class="jp-relatedposts-headline"><em>Related</em></h3>'
            f'<div class="jp-relatedposts-items jp-relatedposts-items-visual">{posts}</div></div>')


def crp(its: list[dict], heading: str = "You may also like") -> str:
    rows = "".join(
        f'<li><a href="{i["url"]}" class="crp_link post-{n}"><figure><img width="150" height="150" '
        f'src="/img/{n}.jpg" class="crp_thumb crp_featured" alt="{e(i["title"])}"></figure>'
        f'<span class="crp_title">{e(i["title"])}</span></a>'
        f'<span class="crp_excerpt"> {e(i["teaser"])}</span></li>'
        for n, i in enumerate(its))
    return (f'<div class="crp_related crp-rounded-thumbs"><h3>{e(heading)}</h3><ul>{rows}</ul>'
            f'<div class="crp_clear"></div></div>')


its = items(0, 1, 2, 3)
add("wp-yarpp-list.html", wp_post("mill-race", "", after_content=yarpp(its)), fmt="html",
    title=T("mill-race"), body=body_lines("mill-race"), tail=its,
    notes="WordPress theme, YARPP list with excerpts after the content, comments, sidebar")

its = items(4, 5, 6)
add("wp-jetpack.html", wp_post("night-trains", SHARE + "\n" + jetpack(its)), fmt="html",
    title=T("night-trains"), body=body_lines("night-trains"), tail=its,
    notes="Jetpack related posts inside entry-content, after share buttons")

its = items(7, 8, 9, 10, 11)
add("wp-crp.html", wp_post("tool-library", crp(its)), fmt="html", title=T("tool-library"),
    body=body_lines("tool-library"), tail=its,
    notes="Contextual Related Posts with thumbnails and excerpts; body has a list")

its = items(12, 13, 14)
add("wp-yarpp-no-excerpt.html", wp_post("beekeepers", yarpp(its, "Related Posts", excerpts=False),
                                         comments=False),
    fmt="html", title=T("beekeepers"),
    body=body_lines("beekeepers"), tail=[dict(i, teaser="") for i in its],
    notes="YARPP list without excerpts inside entry-content, no comments")

its = items(15, 16, 17)
add("wp-french-crp.html",
    document(T("mediatheque"), "\n".join([
        NAV.replace("News", "Actualités"),
        '<main><article class="post"><h1 class="entry-title">' + e(T("mediatheque")) + "</h1>",
        '<div class="entry-content">' + article_html("mediatheque") + "</div>",
        crp(its, "Articles similaires"), "</article></main>", FOOTER.replace("All rights reserved", "Tous droits réservés")]),
        site="Le Courrier", lang="fr"),
    fmt="html", title=T("mediatheque"), body=body_lines("mediatheque"), tail=its,
    notes="French page: the heading is not English, the CRP class finds the block")


# -- HTML: news families -----------------------------------------------------------------------

def news_page(key: str, content: str, after: str, *, byline: str = "By Priya Nair",
              figure: bool = True) -> str:
    fig = ('<figure class="lead-image"><img src="/img/lead.jpg" alt="">'
           '<figcaption>The scene on Thursday. Photo: Staff photographer</figcaption></figure>'
           if figure else "")
    return document(T(key), "\n".join([
        NAV,
        '<div class="breadcrumbs"><a href="/">Home</a> &rsaquo; <a href="/news">News</a></div>',
        '<main class="content">',
        '<article class="story">',
        f'<header class="story-header"><h1 class="headline">{e(T(key))}</h1>',
        f'<div class="story-meta"><span class="author-name">{e(byline)}</span> '
        '<time datetime="2025-03-02T08:00">2 March 2025</time></div></header>',
        fig,
        f'<div class="story-body" itemprop="articleBody">{content}</div>',
        "</article>",
        after,
        "</main>", FOOTER,
    ]))


def outbrain(its: list[dict]) -> str:
    recs = "".join(
        f'<li class="ob-dynamic-rec-container ob-recIdx-{n}"><a class="ob-dynamic-rec-link" href="{i["url"]}" '
        f'target="_blank"><div class="ob-rec-image-container"><img class="ob-rec-image" src="/ob/{n}.jpg" alt=""></div>'
        f'<span class="ob-rec-text">{e(i["title"])}</span><span class="ob-rec-source">Partner site</span></a></li>'
        for n, i in enumerate(its))
    return (f'<div class="OUTBRAIN" data-src="https://news.example/x" data-widget-id="AR_1">'
            f'<div class="ob-widget ob-feed-layout"><div class="ob-widget-header"><span>Promoted Stories</span></div>'
            f'<ul class="ob-widget-items-container">{recs}</ul>'
            f'<div class="ob_what"><a href="https://outbrain.example/what-is">Recommended by</a></div></div></div>')


def taboola(its: list[dict]) -> str:
    cubes = "".join(
        f'<div class="videoCube trc_spotlight_item syndicatedItem" data-item-id="{n}">'
        f'<a title="{e(i["title"])}" href="{i["url"]}" class="item-thumbnail-href" rel="nofollow">'
        f'<div class="thumbBlock"></div></a><a title="{e(i["title"])}" href="{i["url"]}" class="item-label-href">'
        f'<span class="video-label-box"><span class="video-title">{e(i["title"])}</span>'
        f'<span class="branding">Sponsored | BrandCo</span></span></a></div>'
        for n, i in enumerate(its))
    return (f'<div id="taboola-below-article-thumbnails" class="trc_related_container trc_spotlight_widget">'
            f'<div class="trc_rbox_container"><div class="trc_rbox_header"><span class="trc_rbox_header_span">You May Like</span></div>'
            f'<div class="trc_rbox_outer"><div class="trc_rbox_div">{cubes}</div></div></div></div>')


NEWSLETTER = ('<div class="newsletter-signup"><h3>Get the morning briefing</h3><p>Sign up for our free '
              'newsletter and get the day\'s top stories in your inbox every morning.</p>'
              '<form><input type="email" placeholder="Your email"><button>Sign up</button></form></div>')
AD = '<div class="ad-slot ad-mpu"><span class="ad-label">Advertisement</span><div id="div-gpt-ad-1"></div></div>'

its = items(18, 19, 20, 21)
promo = '<p><strong>READ MORE:</strong> <a href="/news/storm-season">Storm season outlook for the coast</a></p>'
add("news-outbrain.html",
    news_page("king-tides", article_html("king-tides", {1: promo, 2: AD, 3: NEWSLETTER}), outbrain(its)),
    fmt="html", title=T("king-tides"), body=body_lines("king-tides"),
    tail=[dict(i, teaser="") for i in its],
    notes="news template: byline, figure, in-article READ MORE promo, ad and newsletter boxes, Outbrain feed")

its = items(22, 23, 0, 1, 2)
add("news-taboola.html",
    news_page("winter-routes", article_html("winter-routes", {2: AD}), taboola(its) + "\n" + COMMENTS),
    fmt="html", title=T("winter-routes"), body=body_lines("winter-routes"),
    tail=[dict(i, teaser="") for i in its],
    notes="Taboola 'You May Like' thumbnails with branding labels, then comments")

its = items(3, 4, 5)
add("news-outbrain-placeholder.html",
    news_page("senior-chess", article_html("senior-chess"),
              '<div class="OUTBRAIN" data-src="https://news.example/chess" data-widget-id="AR_2"></div>'
              '<script async src="https://widgets.outbrain.example/outbrain.js"></script>'),
    fmt="html", title=T("senior-chess"), body=body_lines("senior-chess"), tail=[], has_tail=True,
    notes="an empty Outbrain placeholder (filled by script): a tail block with no items")


# -- HTML: generic containers and headed sections ---------------------------------------------

def section_more(its: list[dict], heading: str = "More stories") -> str:
    rows = "".join(f'<li><a href="{i["url"]}">{e(i["title"])}</a></li>' for i in its)
    return f"<section>\n<h2>{e(heading)}</h2>\n<ul>\n{rows}\n</ul>\n</section>"


its = items(6, 7, 8, 9)
add("generic-section-more-stories.html",
    news_page("bike-lanes", article_html("bike-lanes"), section_more(its), figure=False),
    fmt="html", title=T("bike-lanes"), body=body_lines("bike-lanes"),
    tail=[dict(i, teaser="") for i in its],
    notes="a plain <section> with an <h2>More stories</h2> and a list of links; no class names")


def cards(its: list[dict], cls: str = "related-articles", heading: str = "Related Articles") -> str:
    out = "".join(
        f'<article class="card"><a href="{i["url"]}" class="card-link"><img src="/c/{n}.jpg" alt="">'
        f'<h3 class="card-title">{e(i["title"])}</h3></a><p class="card-dek">{e(i["teaser"])}</p>'
        f'<span class="card-date">1 March 2025</span></article>'
        for n, i in enumerate(its))
    return f'<div class="{cls}"><h2 class="section-title">{e(heading)}</h2><div class="card-grid">{out}</div></div>'


its = items(10, 11, 12)
add("generic-related-cards.html",
    news_page("heat-pumps", article_html("heat-pumps"), cards(its)),
    fmt="html", title=T("heat-pumps"), body=body_lines("heat-pumps"), tail=its,
    notes="div.related-articles with <article> cards (title in <h3>, teaser in p.card-dek)")

its = items(13, 14, 15)
add("generic-read-next-in-article.html",
    news_page("lake-wrecks", article_html("lake-wrecks") + "\n<h3>Read next</h3>\n<ul>"
              + "".join(f'<li><a href="{i["url"]}">{e(i["title"])}</a></li>' for i in its) + "</ul>",
              "", figure=False),
    fmt="html", title=T("lake-wrecks"), body=body_lines("lake-wrecks"),
    tail=[dict(i, teaser="") for i in its],
    notes="'Read next' heading and link list inside the article body itself, no wrapper")

its = items(16, 17, 18, 19)
aside = ('<aside class="rail">' + "".join(
    f'<div class="rail-item"><a href="{i["url"]}">{e(i["title"])}</a></div>' for i in its) + "</aside>")
add("generic-aside-links.html",
    news_page("four-day-week", article_html("four-day-week"), aside),
    fmt="html", title=T("four-day-week"), body=body_lines("four-day-week"),
    tail=[dict(i, teaser="") for i in its],
    notes="an <aside> of headline links after the article, with no heading and no marker class")

its = items(20, 21, 22)
inline_box = ('<aside class="inline-related"><h4>Related</h4><ul><li><a href="/news/old-mill">'
              'Old mill museum reopens after repairs</a></li><li><a href="/news/river-levels">River levels fall after a dry month</a></li></ul></aside>')
add("news-inline-related-box.html",
    news_page("mill-race", article_html("mill-race", {2: inline_box}),
              yarpp(its, "You might also like")),
    fmt="html", title=T("mill-race"), body=body_lines("mill-race"), tail=its,
    notes="a related box in the middle of the article (not the tail, not body) and a YARPP tail")

its = items(23, 0, 1)
add("generic-id-related.html",
    document(T("rye-bakers"), "<h1>" + e(T("rye-bakers")) + "</h1>\n" + article_html("rye-bakers")
             + '\n<div id="related"><p><b>Related</b></p>'
             + "".join(f'<p><a href="{i["url"]}">{e(i["title"])}</a><br>{e(i["teaser"])}</p>' for i in its)
             + "</div>\n<p class=\"copyright\">&copy; 2025 Market Square Weekly</p>"),
    fmt="html", title=T("rye-bakers"), body=body_lines("rye-bakers"), tail=its,
    notes="minimal page: no <article>, paragraphs in <body>, a div#related of paragraph items")

its = items(2, 3, 4, 5)
add("two-blocks-yarpp-and-taboola.html",
    wp_post("senior-chess", "", after_content=yarpp(its[:2], "Related posts") + COMMENTS + taboola(its[2:]),
            comments=False),
    fmt="html", title=T("senior-chess"), body=body_lines("senior-chess"), tail=its[:2],
    notes="YARPP block, then comments, then a Taboola feed: the tail is the first block")


# -- HTML: tricky bodies and bad pages -------------------------------------------------------

winners = ('<p>The five finalists in the tool-lending awards were:</p><ul>'
           '<li><a href="https://lib.example/eastfield">Eastfield Public Library and its repair volunteers</a></li>'
           '<li><a href="https://lib.example/north">North Vale Library of Things in the old post office</a></li>'
           '<li><a href="https://lib.example/brook">Brookside Makerspace and Library tool shed</a></li></ul>')
its = items(6, 7, 8)
add("tricky-body-link-list.html",
    news_page("tool-library", article_html("tool-library", {5: winners}), section_more(its, "More from The Valley Courier")),
    fmt="html", title=T("tool-library"),
    body=body_lines("tool-library")[:9] + ["The five finalists in the tool-lending awards were:",
                                           "Eastfield Public Library and its repair volunteers",
                                           "North Vale Library of Things in the old post office",
                                           "Brookside Makerspace and Library tool shed"]
    + body_lines("tool-library")[9:],
    tail=[dict(i, teaser="") for i in its],
    notes="the article has a list of links of its own, which must stay in the body")

readmore = ('<h3>Read more</h3><p>The restoration group meets on the first Monday of each month in the '
            'mill museum, and new members are welcome to join the work parties on Saturday mornings.</p>')
add("tricky-read-more-prose.html",
    news_page("mill-race", article_html("mill-race") + readmore, "", figure=False),
    fmt="html", title=T("mill-race"),
    body=body_lines("mill-race") + ["Read more",
                                    "The restoration group meets on the first Monday of each month in the mill museum, and new members are welcome to join the work parties on Saturday mornings."],
    tail=[],
    notes="a 'Read more' heading over article prose: not a tail; no tail at all")

add("no-tail-news.html",
    news_page("night-trains", article_html("night-trains"), ""),
    fmt="html", title=T("night-trains"), body=body_lines("night-trains"), tail=[],
    notes="a news page without any related block")

its = items(9, 10, 11)
malformed = ("<html><head><title>" + e(T("king-tides")) + "</title><body><div class=main><h1>"
             + e(T("king-tides")) + "</h1><div class=text>"
             + "".join(f"<p>{e(v)}" for k, v in ARTICLES["king-tides"][1])
             + "</span></b><div class=related-posts><h3>Related Posts</h3><ul>"
             + "".join(f'<li><a href={i["url"]}>{e(i["title"])}</a>' for i in its)
             + "</ul></div></div>")
add("malformed-unclosed.html", malformed, fmt="html", title=T("king-tides"),
    body=body_lines("king-tides"), tail=[dict(i, teaser="") for i in its],
    notes="unclosed <p>, <li>, <div>, <body>, <html>; stray end tags; unquoted attributes")

index_page = document("Latest news", NAV + '<main><h1>Latest news</h1><ul class="river">' + "".join(
    f'<li><a href="{i[2]}">{e(i[0])}</a></li>' for i in TAIL_ITEMS[:15]) + "</ul></main>" + FOOTER)
add("bad-index-page.html", index_page, fmt="html", title="Latest news", body="", tail=[],
    error="NoArticleError", notes="a section front: only links, no article")

only_tail = document("Related", yarpp(items(0, 1, 2), "Related posts"))
add("bad-only-tail.html", only_tail, fmt="html", title="", body="", tail=[],
    error="NoArticleError", notes="a page that is only a related-posts block")


# -- HTML: sites with generated class names (no marker words to match) -------------------------

def hashed_news(key: str, its_most: list[dict], its_more: list[dict]) -> str:
    related_mid = ('<div class="css-7yq2ka"><h2 class="css-1qn3">Related coverage</h2><ul class="css-0">'
                   '<li class="css-0"><a class="css-4rt" href="/transport/ferry-timetable">Ferry timetable '
                   'cut for the winter months</a></li><li class="css-0"><a class="css-4rt" href="/transport/'
                   'airport-fees">Airport raises its landing fees again</a></li></ul></div>')
    newsletter = ('<div class="css-k2m9"><h3 class="css-9w">Sign up for The Morning Ride</h3><p class="css-1p">'
                  'Transport news from across the region, every weekday.</p><form action="/subscribe">'
                  '<input type="email" name="email" placeholder="Email address"><button type="submit">Sign up'
                  '</button></form></div>')
    body = []
    for n, (kind, value) in enumerate(ARTICLES[key][1]):
        if kind == "h2":
            body.append(f'<h2 class="css-sub">{e(value)}</h2>')
        elif kind == "quote":
            body.append(f'<blockquote class="css-q"><p class="css-para">{e(value)}</p></blockquote>')
        else:
            body.append(f'<p class="css-para">{e(value)}</p>')
        if n == 1:
            body.append(related_mid)
        if n == 2:
            body.append('<div class="css-ad9"><p class="css-adl">Advertisement</p></div>')
        if n == 3:
            body.append(newsletter)
    most = "".join(f'<li class="css-mr"><span class="css-rank">{n + 1}</span><a href="{i["url"]}">{e(i["title"])}</a></li>'
                   for n, i in enumerate(its_most))
    more = "".join(f'<div class="css-card"><a href="{i["url"]}"><h3 class="css-ch">{e(i["title"])}</h3></a>'
                   f'<p class="css-cd">{e(i["teaser"])}</p></div>' for i in its_more)
    return document(T(key), "\n".join([
        '<div id="__next"><div class="css-shell">', NAV.replace('class="main-nav"', 'class="css-n1"'),
        '<main class="css-main"><article class="css-9xk2p1">',
        f'<h1 class="css-hd81">{e(T(key))}</h1>',
        '<div class="css-bl"><span>By Sam Ortiz and Lee Park</span></div>',
        '<div class="css-ts">Updated 9:14 AM GMT, March 3, 2025</div>',
        '<figure class="css-fig"><img src="/img/a.jpg" alt=""><figcaption class="css-cap">Passengers on the '
        'platform at dawn. (Photo: Jane Roe/Agency)</figcaption></figure>',
        '<section class="css-body">', "\n".join(body), "</section>",
        '<div class="css-tp"><h3 class="css-9w">Topics</h3><ul><li><a href="/t/rail">Rail</a></li>'
        '<li><a href="/t/travel">Travel</a></li></ul></div>',
        "</article>",
        f'<section class="css-4k2"><h2 class="css-x">Most read</h2><ol class="css-ol">{most}</ol></section>',
        f'<section class="css-5l3"><h2 class="css-x">More from Transport</h2><div class="css-grid">{more}</div></section>',
        "</main>", FOOTER, "</div></div>",
    ]))


its_most, its_more = items(0, 1, 2), items(3, 4)
add("hashed-news-recirc.html", hashed_news("night-trains", its_most, its_more), fmt="html",
    title=T("night-trains"), body=body_lines("night-trains"),
    tail=[dict(i, teaser="") for i in its_most] + its_more,
    notes="generated class names: only headings and structure show the related coverage box, "
          "the newsletter box, 'Most read' and 'More from Transport' (the tail)")


def guardian_like(key: str, its: list[dict]) -> str:
    paras = ARTICLES[key][1]
    out = []
    for n, (kind, value) in enumerate(paras):
        out.append(f'<h2>{e(value)}</h2>' if kind == "h2" else
                   "<ul>" + "".join(f"<li>{e(v)}</li>" for v in value) + "</ul>" if kind == "ul" else
                   f'<p class="dcr-s23rjr">{e(value)}</p>')
        if n == 0:
            out.append('<p class="dcr-s23rjr">Related: <a href="/local/harlow-bridge-flood">Harlow Bridge '
                       'counts the cost of the January floods</a></p>')
        if n == 2:
            out.append('<aside class="dcr-8xkd1"><h2 class="dcr-1d8">More on this story</h2><ul>'
                       '<li><a href="/local/mill-museum">Mill museum wins heritage award</a></li>'
                       '<li><a href="/local/ashby-river">Ashby River salmon return after forty years</a></li></ul></aside>')
    rows = "".join(f'<li class="dcr-mv"><a href="{i["url"]}"><span class="dcr-n">{n + 1}</span> {e(i["title"])}</a></li>'
                   for n, i in enumerate(its))
    return document(T(key), "\n".join([
        NAV.replace('class="main-nav"', 'class="dcr-nav"'),
        '<main data-layout="StandardLayout"><div class="dcr-hdr">',
        f'<div data-gu-name="headline"><h1 class="dcr-y70mar">{e(T(key))}</h1></div>',
        '<div data-gu-name="meta"><a rel="author" href="/profile/jo">Jo Marsh</a> <span>Sat 14 Jun 2025 09.00 BST</span>'
        '</div></div>',
        '<div id="maincontent" class="article-body-commercial-selector article-body-viewer-selector dcr-1gf">',
        "\n".join(out), "</div>",
        '<div class="dcr-kw"><h2>Explore more on these topics</h2><ul><li><a href="/local">Local news</a></li>'
        '<li><a href="/heritage">Heritage</a></li><li><a href="/rivers">Rivers</a></li></ul></div>',
        '<div class="dcr-sh"><a href="https://facebook.example/s">Share</a> <a href="/help/reuse">Reuse this content</a></div>',
        f'<div class="dcr-most"><h2 class="dcr-t">Most viewed</h2><ol>{rows}</ol></div>',
        "</main>", FOOTER,
    ]))


its = items(5, 6, 7, 8)
add("inline-promos-most-viewed.html", guardian_like("mill-race", its), fmt="html", title=T("mill-race"),
    body=body_lines("mill-race"), tail=[dict(i, teaser="") for i in its],
    notes="'Related: <link>' paragraph and a 'More on this story' aside inside the body; "
          "topic links; 'Most viewed' list is the tail")


def newsletter_blog(key: str, its: list[dict]) -> str:
    sub = ('<div class="subscription-widget-wrap"><div class="subscription-widget"><p>Thanks for reading '
           'Field Notes! Subscribe for free to receive new posts and support my work.</p><form class="form">'
           '<input type="email" name="email" placeholder="Type your email"><input type="submit" value="Subscribe">'
           '</form></div></div>')
    cards_html = "".join(
        f'<div class="post-preview"><a class="post-preview-title" href="{i["url"]}">{e(i["title"])}</a>'
        f'<div class="post-preview-description">{e(i["teaser"])}</div>'
        f'<div class="post-preview-meta">Jun 3 &middot; Ana Silva</div></div>' for i in its)
    return document(T(key), "\n".join([
        '<div class="main-menu"><a href="/">Field Notes</a> <a href="/archive">Archive</a> <a href="/about">About</a></div>',
        '<div class="single-post"><div class="post-header"><h1 class="post-title">' + e(T(key)) + "</h1>",
        '<div class="post-meta">Ana Silva &middot; Jun 12, 2025</div></div>',
        '<div class="available-content"><div class="body markup">', article_html(key, {1: sub}), "</div></div>",
        '<div class="post-footer"><a class="button" href="/p/share">Share</a> <a class="button" href="#comments">Leave a comment</a></div>',
        "</div>",
        f'<div class="post-end"><h3 class="header">Keep reading</h3><div class="portable-archive-list">{cards_html}</div></div>',
        '<div class="footer">&copy; 2025 Ana Silva</div>',
    ]), site="Field Notes")


its = items(9, 10, 11)
add("blog-subscribe-keep-reading.html", newsletter_blog("beekeepers", its), fmt="html", title=T("beekeepers"),
    body=body_lines("beekeepers"), tail=its,
    notes="newsletter blog: a subscribe box with a form mid-post; 'Keep reading' previews")


def table_layout(key: str, its: list[dict]) -> str:
    links = "".join(f'<br>\n<a href="{i["url"]}">{e(i["title"])}</a>' for i in its)
    return ("<HTML><HEAD><TITLE>" + e(T(key)) + "</TITLE></HEAD>\n<BODY BGCOLOR=#FFFFFF>\n"
            "<TABLE WIDTH=100%><TR><TD VALIGN=top WIDTH=150 CLASS=nav><A HREF=/>Home</A><BR><A HREF=/news>News</A>"
            "<BR><A HREF=/archive>Archive</A></TD>\n<TD VALIGN=top>\n<FONT SIZE=+2><B>" + e(T(key)) + "</B></FONT><P>\n"
            + "\n".join(f"<P>{e(v)}" for k, v in ARTICLES[key][1])
            + "\n<P><B>See also:</B>" + links + "\n</TD></TR></TABLE>\n<CENTER><SMALL>Copyright 2003 Lakeside Diving Club</SMALL></CENTER>\n</BODY></HTML>")


its = items(12, 13, 14)
add("old-table-layout.html", table_layout("lake-wrecks", its), fmt="html", title=T("lake-wrecks"),
    body=body_lines("lake-wrecks"), tail=[dict(i, teaser="") for i in its],
    notes="1990s table layout, upper-case tags, no <h1>, a bold 'See also:' over <br>-separated links")


def section_front_sidebar(key: str, its: list[dict], its_trend: list[dict]) -> str:
    trend = "".join(f'<li><a href="{i["url"]}">{e(i["title"])}</a></li>' for i in its_trend)
    more = "".join(f'<li class="item"><a href="{i["url"]}">{e(i["title"])}</a><p>{e(i["teaser"])}</p></li>' for i in its)
    return document(T(key), "\n".join([
        NAV,
        f'<div class="l-rail"><div class="module"><div class="module-head">Trending</div><ul>{trend}</ul></div></div>',
        '<div class="l-main"><div class="story">',
        f'<h1>{e(T(key))}</h1><p class="dateline">GREYSTONE &mdash;</p>',
        article_html(key, {2: '<div class="inline-ad"><span>Story continues below advertisement</span></div>'}),
        "</div>",
        f'<div class="module"><div class="module-head">More in Education</div><ul class="list">{more}</ul></div>',
        "</div>", FOOTER,
    ]))


its, trend = items(15, 16, 17), items(18, 19, 20)
add("sidebar-before-article.html", section_front_sidebar("four-day-week", its, trend), fmt="html",
    title=T("four-day-week"), body=body_lines("four-day-week"), tail=its,
    notes="a 'Trending' rail before the article in page order (not the tail); 'More in Education' after it")


# -- text ------------------------------------------------------------------------------------

def text_page(key: str, tail_text: str = "", *, newline: str = "\n", between: str = "",
              after: str = "", lists: bool = True) -> str:
    parts = [T(key), ""]
    for kind, value in ARTICLES[key][1]:
        if kind == "ul":
            parts.extend(f"- {v}" for v in value)
        else:
            parts.append(value)
        parts.append("")
    text = "\n".join(parts) + between + tail_text + after
    return text.replace("\n", newline)


def blocks_tail(heading: str, its: list[dict], ellipsis: str = "...") -> str:
    out = [heading, ""]
    for i in its:
        out += [i["title"], "", i["teaser"].replace("...", ellipsis), ""]
    return "\n".join(out)


its = items(0, 1, 2, 3, 4)
add("text-blocks-related-posts.txt", text_page("mill-race", blocks_tail("Related Posts", its)),
    fmt="text", title=T("mill-race"), body=body_lines("mill-race", True),
    tail=[dict(i, url=None) for i in its], notes="content-farm shape: title and teaser paragraphs")

its = items(5, 6, 7)
add("text-bullets-dash-teasers.txt",
    text_page("night-trains", "YOU MIGHT ALSO LIKE:\n" + "".join(
        f"* {i['title']} - {i['teaser']}\n" for i in its)),
    fmt="text", title=T("night-trains"), body=body_lines("night-trains", True),
    tail=[dict(i, url=None) for i in its], notes="upper-case heading, '*' bullets, ' - ' teasers")

its = items(8, 9, 10)
add("text-numbered-bare-urls.txt",
    text_page("heat-pumps", "Read next:\n" + "".join(
        f"{n + 1}. {i['title']}\n{i['url']}\n" for n, i in enumerate(its))),
    fmt="text", title=T("heat-pumps"), body=body_lines("heat-pumps", True),
    tail=[dict(i, teaser="") for i in its], notes="numbered titles, each with a bare URL line")

its = items(11, 12, 13)
add("text-unicode-ellipsis.txt",
    text_page("rye-bakers", blocks_tail("You May Also Like", its, "…")),
    fmt="text", title=T("rye-bakers"), body=body_lines("rye-bakers", True),
    tail=[dict(i, url=None, teaser=i["teaser"].replace("...", "…")) for i in its],
    notes="teasers ending in the … character")

add("text-no-tail-tricky-words.txt",
    text_page("senior-chess").rstrip("\n") + "\n\nYou can read more about the club in our archive, "
    "and related posts were collected by the editors last year.\n",
    fmt="text", title=T("senior-chess"),
    body=body_lines("senior-chess", True) + ["You can read more about the club in our archive, and related posts were collected by the editors last year."],
    tail=[], notes="heading words inside body sentences; no tail")

prose = ("Read More\n\nThe club's committee has written to every councillor on the community services "
         "committee, and members have collected more than four hundred signatures for a petition asking "
         "for the main hall. They will present it at the next public meeting of the council.\n")
add("text-read-more-then-prose.txt", text_page("senior-chess", prose),
    fmt="text", title=T("senior-chess"),
    body=body_lines("senior-chess", True) + ["Read More", prose.split("\n\n", 1)[1].strip()],
    tail=[], notes="'Read More' heading followed by article prose: not a tail")

its = items(14, 15)
its2 = items(16, 17)
add("text-share-tags-two-blocks.txt",
    text_page("winter-routes", blocks_tail("Related Stories", its) + "\n" + blocks_tail("Sponsored", its2),
              between="Share this:\nFacebook | Twitter | Email\n\nTags: airlines, islands, transport\n\n"),
    fmt="text", title=T("winter-routes"), body=body_lines("winter-routes", True),
    tail=[dict(i, url=None) for i in its + its2],
    notes="share and tag lines between body and tail; a second 'Sponsored' block")

its = items(18, 19, 20)
add("text-crlf.txt", text_page("lake-wrecks", blocks_tail("Related Articles", its), newline="\r\n"),
    fmt="text", title=T("lake-wrecks"), body=body_lines("lake-wrecks", True),
    tail=[dict(i, url=None) for i in its], notes="Windows line ends")

its = items(21, 22, 23)
add("text-footer-after-tail.txt",
    text_page("four-day-week", "More From The Valley Courier\n\n" + "".join(
        f"{i['title']}\n{i['url']}\n\n" for i in its),
        after="© 2025 The Valley Courier. All rights reserved.\n"),
    fmt="text", title=T("four-day-week"), body=body_lines("four-day-week", True),
    tail=[dict(i, teaser="") for i in its], notes="'More From <site>' heading; copyright line after the tail")

add("text-only-tail.txt", blocks_tail("Related Posts", items(0, 1, 2)), fmt="text", title="", body="",
    tail=[], error="NoArticleError", notes="only a tail, no article")


# -- Markdown ----------------------------------------------------------------------------------

def md_page(key: str, tail_text: str = "", front: bool = False, extra: dict | None = None) -> str:
    head = f"---\ntitle: \"{T(key)}\"\ndate: 2025-04-02\n---\n\n" if front else f"# {T(key)}\n\n"
    parts = []
    for index, (kind, value) in enumerate(ARTICLES[key][1]):
        if kind == "h2":
            parts.append(f"## {value}")
        elif kind == "ul":
            parts.append("\n".join(f"- {v}" for v in value))
        elif kind == "quote":
            parts.append(f"> {value}")
        else:
            parts.append(value)
        if extra and index in extra:
            parts.append(extra[index])
    return head + "\n\n".join(parts) + "\n\n" + tail_text


its = items(0, 2, 4, 6)
add("md-links-list.md", md_page("bike-lanes", "## Related posts\n\n" + "".join(
    f"- [{i['title']}]({i['url']})\n" for i in its)),
    fmt="markdown", title=T("bike-lanes"), body=body_lines("bike-lanes", True),
    tail=[dict(i, teaser="") for i in its], notes="ATX heading and a list of Markdown links")

its = items(1, 3, 5)
add("md-bold-heading-teasers.md", md_page("beekeepers", "**You may also like**\n\n" + "".join(
    f"- [{i['title']}]({i['url']}) — {i['teaser']}\n" for i in its)),
    fmt="markdown", title=T("beekeepers"), body=body_lines("beekeepers", True), tail=its,
    notes="bold-line heading; links with em-dash teasers")

its = items(7, 9, 11)
add("md-setext-numbered.md", md_page("tool-library", "Read next\n---------\n\n" + "".join(
    f"{n + 1}. [{i['title']}]({i['url']})\n" for n, i in enumerate(its))),
    fmt="markdown", title=T("tool-library"), body=body_lines("tool-library", True),
    tail=[dict(i, teaser="") for i in its], notes="underlined heading, numbered links; body has a list")

code = "```\nRelated Posts\n\nnot a tail, a code sample\n```"
its = items(13, 15)
add("md-front-matter-code-fence.md",
    md_page("heat-pumps", "## Recommended for you\n\n" + "".join(f"* [{i['title']}]({i['url']})\n" for i in its),
            front=True, extra={2: code}),
    fmt="markdown", title=T("heat-pumps"),
    body=body_lines("heat-pumps", True)[:3] + ["Related Posts", "", "not a tail, a code sample"]
    + body_lines("heat-pumps", True)[3:],
    tail=[dict(i, teaser="") for i in its],
    notes="YAML front matter title; a code fence whose text looks like a tail")

its = items(17, 19, 21)
add("md-cards.md", md_page("king-tides", "## More stories\n\n" + "\n".join(
    f"### [{i['title']}]({i['url']})\n{i['teaser']}\n" for i in its)),
    fmt="markdown", title=T("king-tides"), body=body_lines("king-tides", True), tail=its,
    notes="cards: a linked ### heading per item with its teaser under it")

sources = ("## Sources\n\n- [Harbour master's tide tables](https://harbour.example/tides)\n"
           "- [Council flood plan, 2024 edition](https://council.example/flood-plan)\n")
add("md-no-tail-sources.md", md_page("king-tides", sources), fmt="markdown", title=T("king-tides"),
    body=body_lines("king-tides", True) + ["Sources", "- Harbour master's tide tables",
                                            "- Council flood plan, 2024 edition"],
    tail=[], notes="ends with a list of source links under a non-tail heading: body, not tail")

its = items(23, 1, 3)
add("md-bare-urls.md", md_page("rye-bakers", "### Recommended\n\n" + "".join(f"<{i['url']}>\n" for i in its)),
    fmt="markdown", title=T("rye-bakers"), body=body_lines("rye-bakers", True),
    tail=[{"title": i["url"], "url": i["url"], "teaser": ""} for i in its],
    notes="a weak heading ('Recommended') over bare URLs")

weak = ("## Read more\n\nThe divers' survey report, with sonar images of every wreck, can be read at the "
        "visitor centre, and a shorter version will be published by the lake trust this winter.\n\n")
its = items(5, 8)
add("md-weak-heading-then-tail.md",
    md_page("lake-wrecks", weak + "## Related articles\n\n" + "".join(f"- [{i['title']}]({i['url']})\n" for i in its)),
    fmt="markdown", title=T("lake-wrecks"),
    body=body_lines("lake-wrecks", True) + ["Read more", weak.split("\n\n")[1]],
    tail=[dict(i, teaser="") for i in its],
    notes="'## Read more' over prose stays in the body; '## Related articles' opens the tail")


# -- JSON --------------------------------------------------------------------------------------

def text_body(key: str) -> str:
    return "\n\n".join(body_lines(key, True))


its = items(0, 4, 8)
add("json-related.json", json.dumps({"id": "mill-race", "title": T("mill-race"), "body": text_body("mill-race"),
                                     "related": its}, indent=2, ensure_ascii=False) + "\n",
    fmt="json", title=T("mill-race"), body=text_body("mill-race"), tail=its, notes="title, body, related")

its = items(9, 10)
add("json-aliases.json", json.dumps({"headline": T("night-trains"), "articleBody": text_body("night-trains"),
                                     "relatedPosts": [{"headline": i["title"], "link": i["url"], "excerpt": i["teaser"]} for i in its]},
                                    indent=4, ensure_ascii=False),
    fmt="json", title=T("night-trains"), body=text_body("night-trains"), tail=its,
    notes="schema.org-like names: headline, articleBody, relatedPosts with link/excerpt")

add("json-no-related.json", json.dumps({"id": "x", "title": T("beekeepers"), "text": text_body("beekeepers")}),
    fmt="json", title=T("beekeepers"), body=text_body("beekeepers"), tail=[], notes="compact, no related")

its = items(11, 12, 13)
add("json-related-strings.json", json.dumps({"title": T("bike-lanes"), "content": text_body("bike-lanes"),
                                             "related": [i["title"] for i in its]}, ensure_ascii=True),
    fmt="json", title=T("bike-lanes"), body=text_body("bike-lanes"),
    tail=[{"title": i["title"], "url": None, "teaser": ""} for i in its],
    notes="related as plain titles; ASCII-escaped")


# -- held-out pages: written after the parser was frozen, to measure it, not to tune it ---------

HOLDOUT: list[tuple[str, str, dict]] = []


def hold(name: str, text: str, **kwargs) -> None:
    PAGES_BEFORE = len(PAGES)
    add(name, text, **kwargs)
    HOLDOUT.append(PAGES.pop(PAGES_BEFORE))


its = items(0, 5, 10)
cards_m = "".join(
    f'<div class="kx yz"><a href="{i["url"]}"><h2 class="bd be">{e(i["title"])}</h2>'
    f'<div class="bf"><p class="bg">{e(i["teaser"])}</p></div></a><span class="bh">5 min read</span></div>'
    for i in its)
medium = document(T("heat-pumps"), "\n".join([
    '<div class="ab cd"><nav class="ef"><a href="/">Home</a><a href="/tag/energy">Energy</a></nav></div>',
    '<article><div class="gh"><section>',
    f'<h1 class="pw-post-title">{e(T("heat-pumps"))}</h1>',
    '<div class="ij"><a href="/@ana">Ana Silva</a><span>Follow</span><span>6 min read</span><span>Mar 3, 2025</span></div>',
    "".join(f'<p class="pw-post-body-paragraph">{e(v)}</p>' if k == "p" else f'<h2 class="pw-sub">{e(v)}</h2>'
            for k, v in ARTICLES["heat-pumps"][1]),
    "</section></div></article>",
    '<div class="kl"><div class="mn"><span>124</span><span>3</span></div></div>',
    f'<div class="op"><h2 class="qr">More from Ana Silva</h2><div class="st">{cards_m}</div></div>',
    '<div class="footer"><a href="/help">Help</a> <a href="/status">Status</a></div>',
]), site="Medium")
hold("medium-like.html", medium, fmt="html", title=T("heat-pumps"), body=body_lines("heat-pumps"), tail=its,
     notes="generated class names; 'More from <author>' cards with h2 titles and teasers")

its = items(1, 6, 11)
rp4wp = ('<div class="rp4wp-related-posts rp4wp-related-post"><h3>Related Posts</h3><ul>' + "".join(
    f'<li><div class="rp4wp-related-post-image"><a href="{i["url"]}"><img src="/t.jpg" alt=""></a></div>'
    f'<div class="rp4wp-related-post-content"><a href="{i["url"]}">{e(i["title"])}</a><p>{e(i["teaser"])}</p></div></li>'
    for i in its) + "</ul></div>")
hold("wp-rp4wp.html", wp_post("rye-bakers", rp4wp), fmt="html", title=T("rye-bakers"),
     body=body_lines("rye-bakers"), tail=its,
     notes="Related Posts for WordPress: thumbnail link and title link per item, excerpt in <p>")

its = items(2, 7, 12)
blogger = document(T("senior-chess"), "\n".join([
    '<div class="header-outer"><h1 class="title"><a href="/">Riverside Notes</a></h1></div>',
    '<div class="post hentry"><h3 class="post-title entry-title">' + e(T("senior-chess")) + "</h3>",
    '<div class="post-body entry-content">' + "<br />\n<br />\n".join(e(v) for k, v in ARTICLES["senior-chess"][1]) + "</div>",
    '<div class="post-footer">Posted by Rafael at 10:02 AM <a href="/comments">2 comments</a></div></div>',
    '<div id="related-posts"><h2>You might also like</h2>' + "".join(
        f'<a href="{i["url"]}">{e(i["title"])}</a><br />' for i in its) + "</div>",
    '<div class="sidebar"><h2>Blog Archive</h2><ul><li><a href="/2025">2025 (12)</a></li></ul></div>',
]), site="Riverside Notes")
hold("blogger-br-lines.html", blogger, fmt="html", title=T("senior-chess"), body=body_lines("senior-chess"),
     tail=[dict(i, teaser="") for i in its],
     notes="Blogger: paragraphs separated by <br />, headline in an h3, logo in the h1")

its = items(3, 8, 13)
package = ('<div class="c-package"><h2 class="c-package__title">Read more on this</h2>' + "".join(
    f'<div class="c-package__item"><a class="c-link" href="{i["url"]}">{e(i["title"])}</a></div>' for i in its) + "</div>")
hold("news-unknown-heading.html", news_page("winter-routes", article_html("winter-routes"), package),
     fmt="html", title=T("winter-routes"), body=body_lines("winter-routes"), tail=[dict(i, teaser="") for i in its],
     notes="a recirculation package whose heading ('Read more on this') is not in the list")

its = items(4, 9)
inline_end = ("<p><strong>Related articles</strong></p><ul class=\"links\">" + "".join(
    f'<li><a href="{i["url"]}">{e(i["title"])}</a></li>' for i in its) + "</ul>")
hold("related-in-strong-paragraph.html",
     news_page("beekeepers", article_html("beekeepers") + inline_end, "", figure=False),
     fmt="html", title=T("beekeepers"), body=body_lines("beekeepers"), tail=[dict(i, teaser="") for i in its],
     notes="the heading is a bold paragraph at the end of the article body, then a list")

its = items(14, 15, 16, 17)
popular = ('<aside class="sidebar-right"><div class="widget"><h3>Most Popular</h3><ol>' + "".join(
    f'<li><a href="{i["url"]}">{e(i["title"])}</a></li>' for i in its) + "</ol></div></aside>")
ld = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "' + T("king-tides") + '"}</script>\n')
gallery = ('<div class="gallery"><figure><img src="/g1.jpg"><figcaption>Sandbags on the quay.</figcaption></figure>'
           '<figure><img src="/g2.jpg"><figcaption>The promenade barrier.</figcaption></figure></div>')
hold("news-most-popular-aside.html",
     document(T("king-tides"), NAV + "<div class='wrap'><article><h1>" + e(T("king-tides")) + "</h1>"
              + article_html("king-tides", {2: gallery}) + "</article>" + popular + "</div>" + FOOTER, head_extra=ld),
     fmt="html", title=T("king-tides"), body=body_lines("king-tides"), tail=[dict(i, teaser="") for i in its],
     notes="JSON-LD, a photo gallery with captions inside the article, 'Most Popular' in a sidebar aside")

its = items(18, 19)
toml = ('+++\ntitle = "' + T("bike-lanes") + '"\ndate = 2025-05-01\n+++\n\n'
        + "\n\n".join(v for k, v in ARTICLES["bike-lanes"][1]) + "\n\n## Related\n\n"
        + "".join(f"* [{i['title']}]({i['url']})\n" for i in its))
hold("hugo-toml-front-matter.md", toml, fmt="markdown", title=T("bike-lanes"), body=body_lines("bike-lanes", True),
     tail=[dict(i, teaser="") for i in its], notes="Hugo page with TOML (+++) front matter")

its = items(20, 21, 22)
also = "ALSO READ: Ferry timetable cut for the winter months"
lines = [T("winter-routes"), ""]
for n, (_, v) in enumerate(ARTICLES["winter-routes"][1]):
    lines += [v, ""]
    if n == 1:
        lines += [also, ""]
text_page2 = "\n".join(lines) + "Recommended Stories\n\n" + "".join(f"{i['title']} | {i['teaser']}\n" for i in its)
hold("text-inline-also-read.txt", text_page2, fmt="text", title=T("winter-routes"),
     body=body_lines("winter-routes", True), tail=[dict(i, url=None) for i in its],
     notes="an 'ALSO READ:' promo line inside the body; tail items as 'title | teaser' lines")

its = items(23, 0, 1)
arrows = (text_page("tool-library") + "Related reading\n\n"
          + "".join(f"→ {i['title']} ({i['url']})\n" for i in its))
hold("text-arrow-items.txt", arrows, fmt="text", title=T("tool-library"), body=body_lines("tool-library", True),
     tail=[dict(i, teaser="") for i in its], notes="items as '→ Title (url)' lines")

its = items(2, 3)
hold("json-content-list.json", json.dumps({
    "name": T("lake-wrecks"), "content": [v for k, v in ARTICLES["lake-wrecks"][1]],
    "related_articles": [{"name": i["title"], "href": i["url"], "summary": i["teaser"]} for i in its]}, indent=2),
    fmt="json", title=T("lake-wrecks"), body="\n\n".join(body_lines("lake-wrecks")),
    tail=[{"title": i["title"], "url": i["url"], "teaser": i["teaser"]} for i in its],
    notes="body as a list of paragraphs; related items with name/href/summary")


def main() -> None:
    for old in HERE.glob("*.expected.json"):
        old.unlink()
    names = set()
    for name, text, expected in PAGES:
        assert name not in names, name
        names.add(name)
        (HERE / name).write_bytes(text.encode("utf-8"))
        stem = name.rsplit(".", 1)[0]
        (HERE / f"{stem}.expected.json").write_text(
            json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    holdout = HERE / "holdout"
    holdout.mkdir(exist_ok=True)
    for old in holdout.glob("*.expected.json"):
        old.unlink()
    for name, text, expected in HOLDOUT:
        (holdout / name).write_bytes(text.encode("utf-8"))
        stem = name.rsplit(".", 1)[0]
        (holdout / f"{stem}.expected.json").write_text(
            json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(PAGES)} pages to {HERE} and {len(HOLDOUT)} held-out pages to {holdout}")


if __name__ == "__main__":
    main()
