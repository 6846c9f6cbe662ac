"""Tail detection and body extraction over a labelled set of pages.

    .venv/bin/python bench/tail_detection.py [--pages tests/pages] [--out bench/results/tail_detection.json]

Each page ``NAME.EXT`` has ``NAME.expected.json`` beside it (``title``, ``body``, ``tail``
items, ``has_tail``, ``error``; see tests/pages/build.py). Reported per format and overall:

- **tail detection**: items found vs expected, matched by normalised title; precision and
  recall over all items (micro), plus page-level accuracy of "has a tail";
- **body**: as in the public article-extraction benchmarks: word 4-gram shingles of the
  returned body against the expected body, true/false positives and negatives normalised
  per page, precision and recall averaged over pages, F1 of the two averages;
- **errors**: pages that must raise (only a tail, only links) and pages that raised.

HTML pages are also run through plain trafilatura (its defaults, and with the options
this project passes it), the baseline the issue asks for; trafilatura finds no tail.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from related_posts.recommend.parse import ParseError, parse_document  # noqa: E402

_TOKEN = re.compile(r"\w+", re.UNICODE)


# -- metrics (the article-extraction-benchmark definitions) -----------------------------------


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens)


def shingle_counts(expected: str, returned: str) -> tuple[float, float, float]:
    """True positives, false positives, false negatives over 4-gram shingles, normalised so
    that they sum to 1 (each page weighs the same)."""
    truth, pred = shingles(expected), shingles(returned)
    tp = fp = fn = 0.0
    for key in truth.keys() | pred.keys():
        t, p = truth.get(key, 0), pred.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _norm(text: str | None) -> str:
    return " ".join(_TOKEN.findall((text or "").lower()))


# -- systems -----------------------------------------------------------------------------------


def run_parser(text: str, name: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    from related_posts.recommend import parse as parse_module

    saved = dict(parse_module.TRAFILATURA_OPTIONS)
    if options:
        parse_module.TRAFILATURA_OPTIONS.update(options)
    try:
        doc = parse_document(text, filename=name)
    except ParseError as exc:
        return {"error": type(exc).__name__, "message": str(exc), "body": "", "tail": [],
                "has_tail": False}
    finally:
        parse_module.TRAFILATURA_OPTIONS.clear()
        parse_module.TRAFILATURA_OPTIONS.update(saved)
    return {"error": None, "title": doc.title, "body": doc.body, "has_tail": doc.has_tail,
            "tail": [i.to_dict() for i in doc.tail]}


def run_trafilatura(text: str, name: str, options: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    import trafilatura

    body = trafilatura.extract(text, output_format="txt", **(options or {})) or ""
    return {"error": None if body else "empty", "body": body, "tail": [], "has_tail": False}


SYSTEMS: dict[str, tuple[Callable[..., dict[str, Any]], dict[str, Any] | None, bool]] = {
    # name: (function, options, HTML only)
    "related-posts parse": (run_parser, None, False),
    "  ... with trafilatura favor_precision": (run_parser, {"favor_precision": True}, True),
    "  ... with trafilatura favor_recall": (run_parser, {"favor_recall": True}, True),
    "plain trafilatura (defaults)": (run_trafilatura, None, True),
    "trafilatura, no comments": (run_trafilatura, {"include_comments": False}, True),
    "trafilatura favor_precision": (run_trafilatura, {"include_comments": False,
                                                      "favor_precision": True}, True),
}


# -- scoring -----------------------------------------------------------------------------------


def score_page(expected: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    want_error = expected.get("error")
    row: dict[str, Any] = {"error_expected": want_error, "error": result.get("error")}
    if want_error:
        row["error_ok"] = result.get("error") == want_error
        return row
    tp, fp, fn = shingle_counts(expected["body"], result["body"])
    row.update(body_p=precision(tp, fp, fn), body_r=recall(tp, fp, fn))
    want = [_norm(i["title"]) for i in expected["tail"]]
    got = [_norm(i["title"]) for i in result["tail"]]
    matched = sum((Counter(want) & Counter(got)).values())
    row.update(tail_tp=matched, tail_fp=len(got) - matched, tail_fn=len(want) - matched,
               has_tail_ok=bool(result.get("has_tail")) == bool(expected.get("has_tail")))
    by_title = {_norm(i["title"]): i for i in result["tail"]}
    urls = teasers = 0
    for item in expected["tail"]:
        found = by_title.get(_norm(item["title"]))
        if found:
            urls += (found.get("url") or None) == (item.get("url") or None)
            teasers += _norm(found.get("teaser")) == _norm(item.get("teaser"))
    row.update(url_ok=urls, teaser_ok=teasers)
    return row


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scored = [r for r in rows if not r["error_expected"]]
    errors = [r for r in rows if r["error_expected"]]
    out: dict[str, Any] = {"pages": len(rows)}
    if scored:
        p = sum(r["body_p"] for r in scored) / len(scored)
        r_ = sum(r["body_r"] for r in scored) / len(scored)
        tp = sum(r["tail_tp"] for r in scored)
        fp = sum(r["tail_fp"] for r in scored)
        fn = sum(r["tail_fn"] for r in scored)
        out.update(
            body_precision=round(p, 4), body_recall=round(r_, 4), body_f1=round(f1(p, r_), 4),
            tail_precision=round(tp / (tp + fp), 4) if tp + fp else None,
            tail_recall=round(tp / (tp + fn), 4) if tp + fn else None,
            tail_items_expected=tp + fn, tail_items_found=tp + fp,
            has_tail_accuracy=round(sum(r["has_tail_ok"] for r in scored) / len(scored), 4),
            item_url_correct=sum(r["url_ok"] for r in scored),
            item_teaser_correct=sum(r["teaser_ok"] for r in scored),
            unexpected_errors=sum(1 for r in scored if r["error"]),
        )
    if errors:
        out["bad_pages_rejected"] = f"{sum(r['error_ok'] for r in errors)}/{len(errors)}"
    return out


def load_pages(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    pages = []
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".expected.json") or path.suffix == ".py" or path.name.startswith(("_", ".")):
            continue
        label = path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json")
        if label.exists():
            pages.append((path, json.loads(label.read_text(encoding="utf-8"))))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, default=ROOT / "tests" / "pages",
                        help="folder of pages with NAME.expected.json labels")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tail_detection.json",
                        help="where to write the JSON results")
    args = parser.parse_args(argv)
    pages = load_pages(args.pages)
    if not pages:
        print(f"no labelled pages in {args.pages}", file=sys.stderr)
        return 1
    results: dict[str, Any] = {"pages": str(args.pages), "systems": {}}
    for system, (function, options, html_only) in SYSTEMS.items():
        rows, started = [], time.perf_counter()
        for path, expected in pages:
            if html_only and expected["format"] != "html":
                continue
            text = path.read_bytes().decode("utf-8")
            row = score_page(expected, function(text, path.name, options))
            rows.append({"page": path.name, "format": expected["format"], **row})
        seconds = time.perf_counter() - started
        groups = {f: [r for r in rows if r["format"] == f] for f in ("html", "text", "markdown", "json")}
        if sum(1 for g in groups.values() if g) > 1:
            groups = {"all": rows, **groups}
        results["systems"][system.strip(" .")] = {
            "options": options, "seconds": round(seconds, 2),
            "by_format": {f: aggregate(g) for f, g in groups.items() if g},
            "per_page": rows,
        }
    _print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


def _print_table(results: dict[str, Any]) -> None:
    header = (f"{'system':42} {'format':9} {'pages':>5} {'tail P':>7} {'tail R':>7} "
              f"{'has-tail':>8} {'body P':>7} {'body R':>7} {'body F1':>7} {'bad pages':>9}")
    print(header)
    print("-" * len(header))

    def fmt(value: Any) -> str:
        return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    for system, data in results["systems"].items():
        for fmt_name, agg in data["by_format"].items():
            tail_p = agg.get("tail_precision") if system.startswith("related-posts") or "..." in system \
                or "with trafilatura" in system else None
            tail_r = agg.get("tail_recall") if tail_p is not None or system.startswith("related") else None
            has_tail = agg.get("has_tail_accuracy") if tail_p is not None else None
            print(f"{system:42} {fmt_name:9} {agg['pages']:>5} {fmt(tail_p):>7} {fmt(tail_r):>7} "
                  f"{fmt(has_tail):>8} {fmt(agg.get('body_precision')):>7} "
                  f"{fmt(agg.get('body_recall')):>7} {fmt(agg.get('body_f1')):>7} "
                  f"{agg.get('bad_pages_rejected', '-'):>9}")


if __name__ == "__main__":
    sys.exit(main())
