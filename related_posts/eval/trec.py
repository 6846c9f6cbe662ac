"""TREC run and qrels files of an evaluation, so trec_eval or ir_measures can check its numbers.

A run file per method (``qid Q0 docid rank score tag``, one line per listed item, every
evaluated query, to the deepest cutoff) and the qrels the metrics used (``qid 0 docid
grade``). Grades are integers proportional to our gains (see ``Judgements.grades``), so
nDCG@k and P@k come out the same in TREC tools. MAP differs by its normaliser only: ours
divides by min(R, depth), trec_eval's ``map`` by R.

TREC tools rank by the score column, not the rank column, and break ties by document id;
where a method gave equal scores, the written scores are made strictly decreasing (by
1e-9 per tied place) so that every tool reads the lists in our order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from . import files
from .judgements import Judgements
from .results import EvaluationResult

_SPACE = re.compile(r"[\s%]")
#: The smallest step between two written scores of one list.
TIE_STEP = 1e-9


def trec_id(article_id: str) -> str:
    """An id as one TREC field: whitespace and ``%`` percent-encoded, anything else as is."""
    return _SPACE.sub(lambda match: "%" + "".join(f"{b:02X}" for b in match.group().encode()), article_id)


def run_lines(result: EvaluationResult, method: str) -> Iterator[str]:
    """The run file of ``method``: its list for every evaluated query, to the deepest cutoff."""
    depth = max(result.ks)
    for query in result.queries:
        ranking = result.methods[method].lists[int(query)]
        written: float | None = None
        for rank, (row, score) in enumerate(zip(ranking.indices[:depth], ranking.scores[:depth]), start=1):
            value = float(score)
            if written is not None and value >= written:
                value = written - TIE_STEP
            written = value
            yield f"{trec_id(result.ids[int(query)])} Q0 {trec_id(result.ids[int(row)])} {rank} {value:.12g} {method}"


def qrels_lines(result: EvaluationResult, judgements: Judgements) -> Iterator[str]:
    """The qrels of every evaluated query: each relevant article with its integer grade."""
    for query in result.queries:
        qid = trec_id(result.ids[int(query)])
        for row, grade in sorted(judgements.grades(int(query)).items()):
            yield f"{qid} 0 {trec_id(result.ids[row])} {grade}"


def write_trec(result: EvaluationResult, judgements: Judgements, folder: str | Path) -> dict[str, Path]:
    """Write ``qrels.txt`` and ``<method>.run`` for every method into ``folder``; return their paths."""
    out = files.make_folder(Path(folder))
    paths = {"qrels": files.write_text(out / "qrels.txt", "".join(f"{line}\n" for line in qrels_lines(result, judgements)))}
    for name in result.methods:
        paths[name] = files.write_text(out / f"{name}.run", "".join(f"{line}\n" for line in run_lines(result, name)))
    return paths
