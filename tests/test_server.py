"""``related-posts serve``: a real server process on loopback, hit by a real HTTP client
(httpx), and a real headless browser (Debian's chromium through Playwright) on the browse
page and on a page of another origin that embeds the widget."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from related_posts import Article, Recommender
from related_posts.article import TailItem
from related_posts.ingest import ingest

#: Where the browser tests save their screenshots: RELATED_POSTS_SCREENSHOTS, else a
#: temporary folder (``bench/results/screenshots/`` holds the ones looked at for the README).
SCREENSHOTS = Path(os.environ.get("RELATED_POSTS_SCREENSHOTS") or tempfile.mkdtemp(prefix="screenshots-"))
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">Bikes</script>'
HOSTILE_URL = "javascript:window.__pwned=2"
CLI = str(Path(sys.executable).parent / "related-posts")

TOPICS = {
    "gears": "Indexing gears on a bicycle: cable tension, the barrel adjuster and limit screws.",
    "chain": "Chain wear on a bicycle: measure twelve links, replace the chain before the cassette wears.",
    "brakes": "Disc brake pads on a bicycle: replace them when the pad is thinner than half a millimetre.",
    "bread": "Sourdough bread: a starter fed twice a day, a long cold proof and a hot oven.",
    "rye": "Rye bread: a dense sourdough loaf with caraway, proofed in a tin overnight.",
    "stars": "Photographing stars: a wide lens, fifteen seconds at ISO 3200 and stacked frames.",
}

TAGS = {"gears": "Cycling", "chain": "Cycling", "brakes": "Cycling", "bread": "Baking",
        "rye": "Baking", "stars": "Astronomy"}


def _records(folder: Path) -> Path:
    path = folder / "site.jsonl"
    rows = [{"id": key, "title": f"{key.title()} guide", "body": (text + " ") * 6,
             "url": f"https://blog.example/{key}/", "published": "2026-01-0" + str(n + 1),
             "tags": [TAGS[key]]}
            for n, (key, text) in enumerate(TOPICS.items())]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("served")
    db = folder / "site.db"
    with Recommender(db, model="hashing") as rec:
        ingest(rec, [_records(folder)])
        # Through the library, as an integration would store it: no input path cleans it.
        rec.add(Article(id="hostile", title=HOSTILE_TITLE, body="Bicycle gears and chains, cables. " * 8,
                        url=HOSTILE_URL, tail=(TailItem("Ten celebrity kitchens", url="https://ads.example/1"),
                                               TailItem(HOSTILE_TITLE, url=HOSTILE_URL))))
        rec.refresh(k=3)
    return db


class Served:
    def __init__(self, process: subprocess.Popen, base: str) -> None:
        self.process, self.base = process, base


def _start(db: Path, *args: str) -> Served:
    process = subprocess.Popen([CLI, "serve", "--db", str(db), "--port", "0", *args],
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not found:
        process.kill()
        raise AssertionError(f"serve did not start: {line}{process.stderr.read()}")
    return Served(process, f"http://127.0.0.1:{found.group(1)}")


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Served]:
    served = _start(store, "--cors-origin", "http://127.0.0.1:1")
    yield served
    served.process.terminate()
    served.process.wait(timeout=10)


@pytest.fixture()
def client(server: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=10) as http:
        yield http


def test_health_and_a_stored_list(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["articles"] == 7 and health["lists"] == 7
    answer = client.get("/related/gears", params={"k": 2})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["id"] == "gears" and len(body["related"]) == 2
    first = body["related"][0]
    assert {"id", "title", "url", "teaser", "image", "published", "score", "why"} <= set(first)
    assert first["id"] in ("chain", "brakes", "hostile") and first["why"]["dense"] is not None


def test_lookup_by_url_and_a_draft(client):
    by_url = client.get("/related", params={"url": "https://blog.example/bread/", "k": 1}).json()
    assert by_url["id"] == "bread" and by_url["related"][0]["id"] == "rye"
    draft = client.post("/related", json={"title": "Baking rye", "body": "A rye sourdough loaf with caraway."})
    assert draft.status_code == 200 and draft.json()["related"][0]["id"] in ("rye", "bread")


def test_articles_are_paged_and_searchable(client):
    page = client.get("/articles", params={"per_page": 2, "page": 2}).json()
    assert (page["total"], len(page["articles"]), page["page"]) == (7, 2, 2)
    found = client.get("/articles", params={"q": "RYE"}).json()
    assert [a["id"] for a in found["articles"]] == ["rye"]


def test_hostile_urls_are_dropped_from_every_answer(client):
    body = client.get("/related/hostile").json()
    assert body["url"] is None and body["title"] == HOSTILE_TITLE  # JSON text; never a link
    listing = client.get("/articles", params={"q": "hostile"}).json()["articles"][0]
    assert listing["url"] is None
    for answer in (client.get(f"/related/{key}", params={"k": 5}).json() for key in TOPICS):
        assert all(item["url"] is None or item["url"].startswith("https://") for item in answer["related"])


def test_etag_gives_304_and_cache_control(client):
    first = client.get("/related/chain")
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/related/chain", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_cors_only_for_configured_origins(client):
    allowed = client.get("/related/chain", headers={"Origin": "http://127.0.0.1:1"})
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:1"
    other = client.get("/related/chain", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("GET", "/related/nope", {}, 404),
    ("GET", "/related/gears", {"params": {"k": "0"}}, 422),
    ("GET", "/related/gears", {"params": {"k": "9" * 40}}, 422),
    ("GET", "/related", {}, 422),
    ("GET", "/related", {"params": {"url": "https://blog.example/missing/"}}, 404),
    ("GET", "/articles", {"params": {"page": "-1"}}, 422),
    ("GET", "/articles", {"params": {"per_page": "100000"}}, 422),
    ("POST", "/related", {"content": b"not json"}, 422),
    ("POST", "/related", {"content": b"[" * 100_000}, 422),
    ("POST", "/related", {"json": {"title": "T", "body": 3}}, 422),
    ("POST", "/related", {"json": {"title": "T", "body": "B", "k": True}}, 422),
    ("POST", "/related", {"content": b'{"title": "' + b"x" * 1_100_000 + b'"}'}, 413),
    ("GET", "/related/%00%ff" + "x" * 5000, {}, 404),
    ("DELETE", "/related/gears", {}, 405),
    ("GET", "/no/such/endpoint", {}, 404),
])
def test_bad_requests_get_a_json_4xx(client, method, path, kwargs, status):
    answer = client.request(method, path, **kwargs)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["status"] == status and error["message"] and "\n" not in error["message"]


def test_unknown_id_suggests_close_ones(client):
    error = client.get("/related/gear").json()["error"]
    assert "gears" in error["suggestions"]


def test_no_request_fails_or_sees_a_partial_list_while_a_refresh_runs(store, client, tmp_path):
    copy = tmp_path / "busy.db"
    shutil.copy(store, copy)
    served = _start(copy)
    errors: list[str] = []
    done = threading.Event()

    def read() -> None:
        with httpx.Client(base_url=served.base, timeout=10) as http:
            while not done.is_set():
                for key in TOPICS:
                    answer = http.get(f"/related/{key}", params={"k": 3})
                    if answer.status_code != 200 or len(answer.json()["related"]) != 3:
                        errors.append(f"{key}: {answer.status_code} {answer.text[:200]}")
    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        for _ in range(3):
            refreshed = subprocess.run([CLI, "refresh", "--db", str(copy), "--full", "-q", "--k", "3"],
                                       capture_output=True, text=True, timeout=120)
            assert refreshed.returncode == 0, refreshed.stderr
    finally:
        done.set()
        for reader in readers:
            reader.join()
        served.process.terminate()
        served.process.wait(timeout=10)
    assert errors == []


# -- a real browser ---------------------------------------------------------------------------


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on PATH (apt-get install chromium); browser checks skipped")
    playwright = pytest.importorskip("playwright.sync_api")
    manager = playwright.sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
    except Exception as exc:  # a chromium that cannot start here (no sandbox support...)
        manager.stop()
        pytest.skip(f"chromium does not start: {str(exc).splitlines()[0]}")
    return manager, browser


@pytest.fixture(scope="module")
def browser():
    manager, launched = _browser()
    yield launched
    launched.close()
    manager.stop()


def test_the_browse_pages_in_a_browser(server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(server.base + "/")
    assert page.locator(".numbers b").first.inner_text() == "7"
    titles = page.locator("table td a").all_inner_texts()
    assert "Gears guide" in titles and HOSTILE_TITLE in titles  # the hostile title is text
    page.screenshot(path=str(SCREENSHOTS / "browse-index.png"), full_page=True)
    page.fill("input[name=q]", "bread")
    page.click("form.search button")
    assert page.locator("table td a").all_inner_texts() == ["Bread guide"]
    page.goto(server.base + "/article/hostile")
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    assert page.locator(".verdict").inner_text() in ("unrelated", "mixed", "related")
    new_links = page.locator(".columns section:nth-child(2) ol > li > a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    assert new_links and all(h.startswith("https://blog.example/") for h in new_links)
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(SCREENSHOTS / "browse-article.png"), full_page=True)
    page.goto(server.base + "/article/gears")
    # The site's tags are part of the score, and the page says how much they gave.
    assert "tags 1.00" in page.locator(".columns section:nth-child(2) li .why").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "browse-article-gears.png"), full_page=True)
    page.close()


def test_the_widget_on_a_page_of_another_origin(store, browser, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    origin = f"http://127.0.0.1:{static.server_address[1]}"
    threading.Thread(target=static.serve_forever, daemon=True).start()
    served = _start(store, "--cors-origin", origin)
    try:
        (site / "gears.html").write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Gears</title></head><body>"
            "<article><h1>Indexing gears</h1><p>The article.</p></article>"
            "<div id='a' data-related-posts data-url='https://blog.example/gears/' data-k='3'></div>"
            "<div id='b' data-related-posts data-id='hostile' data-heading='More like this'></div>"
            f"<script src='{served.base}/widget.js' async></script></body></html>", encoding="utf-8")
        page = browser.new_page(viewport={"width": 900, "height": 700})
        page.goto(f"{origin}/gears.html")
        page.wait_for_selector("#a[data-related-posts-state=done]", timeout=10_000)
        page.wait_for_selector("#b[data-related-posts-state=done]", timeout=10_000)
        items = page.locator("#a .related-posts__item")
        assert items.count() == 3
        hrefs = page.locator("#a li a").evaluate_all("links => links.map(a => a.href)")
        assert all(h.startswith("https://blog.example/") for h in hrefs)
        texts = page.locator("#a li a, #a li span").all_inner_texts()
        if HOSTILE_TITLE in texts:  # shown as text, with no link to its javascript: URL
            assert page.locator("#a li span", has_text="Bikes").count() >= 1
        assert page.locator("#b h2").inner_text() == "More like this"
        assert page.locator("img").count() == 0 and page.evaluate("window.__pwned") is None
        page.screenshot(path=str(SCREENSHOTS / "widget.png"), full_page=True)
        page.close()
    finally:
        served.process.terminate()
        served.process.wait(timeout=10)
        static.shutdown()
