"""Offline evaluation of related lists against labelled corpora, side by side with baselines.

    >>> from related_posts.eval import run_evaluation
    >>> result = run_evaluation("bbc", out="eval-bbc")        # writes report.md/.html, results.json
    >>> result.methods["default"].summary["ndcg@5"]

The pieces are usable alone: :mod:`.datasets` (loaders), :mod:`.metrics` (pure metric
functions and ``MEASURES``, the registry every report column derives from), :mod:`.methods`
(baselines and the registry of named methods), :mod:`.significance` (paired tests),
:mod:`.results` (what a run measured) and :mod:`.report` (rendering it). Every file the
evaluation reads or writes goes through :mod:`.files`.
"""

from .datasets import (
    Dataset,
    JudgedPair,
    LabelledArticle,
    load_bbc,
    load_dataset,
    load_jsonl,
    load_pairs,
    load_qrels,
    load_reuters,
    sample,
)
from .errors import (
    DatasetNotFoundError,
    EvaluationError,
    MalformedCorpusError,
    MalformedInputError,
    MalformedPairsError,
    MalformedQrelsError,
    NoJudgementsError,
    StoreMismatchError,
    UnknownDatasetError,
    UnknownMethodError,
)
from .methods import DEFAULT_METHODS, METHODS, Method, RecommenderMethod, make_method, register_method
from .results import EvaluationResult, MethodResult
from .runner import run_evaluation

__all__ = [
    "DEFAULT_METHODS", "METHODS", "Dataset", "DatasetNotFoundError", "EvaluationError",
    "EvaluationResult", "JudgedPair", "LabelledArticle", "MalformedCorpusError",
    "MalformedInputError", "MalformedPairsError", "MalformedQrelsError", "Method",
    "MethodResult", "NoJudgementsError", "RecommenderMethod", "StoreMismatchError",
    "UnknownDatasetError", "UnknownMethodError", "load_bbc", "load_dataset", "load_jsonl",
    "load_pairs", "load_qrels", "load_reuters", "make_method", "register_method",
    "run_evaluation", "sample",
]
