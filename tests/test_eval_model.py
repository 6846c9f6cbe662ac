"""The harness on a slice of real data with the real packaged model (marked ``model``).

Reads BBC News from ../shared/data where it stands; skipped cleanly when it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from related_posts.eval.command import eval_command

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(not (SHARED_DATA / "bbc-news").is_dir(), reason="../shared/data/bbc-news is absent"),
]


def test_bbc_slice_through_the_cli(tmp_path: Path):
    out = tmp_path / "eval-bbc"
    args = ["--dataset", "bbc", "--data-dir", str(SHARED_DATA), "--limit", "60", "--seed", "1",
            "--out", str(out), "--quiet", "--json"]
    result = CliRunner().invoke(eval_command, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["n_articles"], data["model"]) == (60, "sentence-transformers/all-MiniLM-L6-v2 body+0.5*title")
    ndcg = {name: m["ndcg@5"] for name, m in data["methods"].items()}
    # Five balanced categories: a random tail is right about a fifth of the time, the model
    # far more often (0.94 on the full corpus; a 60-article slice leaves few neighbours).
    assert ndcg["random"] < 0.45
    assert ndcg["dense"] > 0.7
    assert ndcg["default"] >= ndcg["dense"] - 0.02  # the product is no worse than its start
    assert (out / "report.html").stat().st_size > 10_000

    # A second run on the same slice finds every vector in the store inside --out.
    again = CliRunner().invoke(eval_command, [*args[:-1], "--methods", "dense"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    timings = json.loads((out / "results.json").read_text())["timings_s"]
    assert timings["ingest"] < 5
