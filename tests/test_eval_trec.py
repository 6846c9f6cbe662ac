"""TREC run and qrels files: ir_measures (trec_eval underneath) reproduces the evaluation's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from related_posts import HashingEmbedder
from related_posts.eval import run_evaluation
from related_posts.eval.trec import trec_id

from .test_eval_runner import RESAMPLES, write_corpus

ir_measures = pytest.importorskip("ir_measures")


def _per_query(measures, qrels: Path, run: Path) -> dict[tuple[str, str], float]:
    found = ir_measures.iter_calc(measures, ir_measures.read_trec_qrels(str(qrels)), ir_measures.read_trec_run(str(run)))
    return {(str(m.measure), m.query_id): m.value for m in found}


@pytest.mark.parametrize("judged_by", ["labels", "qrels"])
def test_ir_measures_reproduces_ndcg_p_and_ap(tmp_path: Path, judged_by: str):
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    qrels = None
    if judged_by == "qrels":  # graded 1 and 2, only within the same topic
        qrels = tmp_path / "given.qrels"
        qrels.write_text("".join(f"{topic}-0 0 {topic}-{i} {1 + i % 2}\n"
                                 for topic in ("farming", "energy", "football") for i in range(1, 6)))
    result = run_evaluation(corpus, out=tmp_path / "out", embedder=HashingEmbedder(128), qrels=qrels,
                            n_resamples=RESAMPLES, trec_out=tmp_path / "trec")
    assert result.judged_by == judged_by
    depth = max(result.ks)
    qrels_file = tmp_path / "trec" / "qrels.txt"
    relevant: dict[str, int] = {}
    for line in qrels_file.read_text().splitlines():
        relevant[line.split()[0]] = relevant.get(line.split()[0], 0) + 1
    checked = 0
    for name, method in result.methods.items():
        theirs = _per_query([ir_measures.nDCG @ 5, ir_measures.P @ 5, ir_measures.AP], qrels_file,
                            tmp_path / "trec" / f"{name}.run")
        for position, query in enumerate(result.queries):
            qid = result.ids[query]
            assert method.per_query["ndcg@5"][position] == pytest.approx(theirs[("nDCG@5", qid)], abs=1e-6)
            assert method.per_query["p@5"][position] == pytest.approx(theirs[("P@5", qid)], abs=1e-6)
            # Our AP divides by min(R, depth), trec_eval's by R; the sums agree.
            r = relevant[qid]
            assert method.per_query["map"][position] * min(r, depth) == pytest.approx(
                theirs.get(("AP", qid), 0.0) * r, abs=1e-6)
            checked += 1
    assert checked == len(result.methods) * result.n_queries > 0


def test_run_files_keep_our_order_through_ties(tmp_path: Path):
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    result = run_evaluation(corpus, out=tmp_path / "out", embedder=HashingEmbedder(128), methods=["random", "tfidf"],
                            n_resamples=RESAMPLES, trec_out=tmp_path / "trec")
    for name in result.methods:
        lines = [line.split() for line in (tmp_path / "trec" / f"{name}.run").read_text().splitlines()]
        assert len(lines) == result.n_queries * max(result.ks)
        by_query: dict[str, list[list[str]]] = {}
        for fields in lines:
            assert len(fields) == 6 and fields[1] == "Q0" and fields[5] == name
            by_query.setdefault(fields[0], []).append(fields)
        for query in result.queries:
            rows = by_query[result.ids[query]]
            assert [r[2] for r in rows] == [result.ids[i] for i in result.methods[name].lists[query].indices[:10]]
            scores = [float(r[4]) for r in rows]
            assert all(a > b for a, b in zip(scores, scores[1:]))  # strictly: no tool may reorder them


def test_ids_with_spaces_stay_one_field():
    assert trec_id("plain/id-1") == "plain/id-1"
    assert trec_id("two words\tand%") == "two%20words%09and%25"
