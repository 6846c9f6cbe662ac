"""Errors of the evaluation harness.

Each names the file (and line) at fault and says what would be valid, so the CLI can show
it as one line. All subclass :class:`related_posts.errors.RelatedPostsError`.
"""

from __future__ import annotations

from ..errors import RelatedPostsError


class EvaluationError(RelatedPostsError):
    """Base class of the harness's own errors."""


class UnknownDatasetError(EvaluationError):
    """A ``--dataset`` value that is neither a built-in name nor an existing file."""

    def __init__(self, value: str, names: list[str]) -> None:
        self.value = value
        super().__init__(
            f"unknown dataset '{value}': not an existing file and not a built-in name. "
            f"Valid: {', '.join(names)}, or the path of a JSON Lines corpus "
            '(one {"id", "title", "text", "labels"} object a line)'
        )


class TagsFieldError(EvaluationError):
    """``--field labels=KEY`` given for a corpus that has no such field to read."""


class DatasetNotFoundError(EvaluationError):
    """A corpus, qrels or pairs file (or a built-in corpus folder) that does not exist."""


class MalformedInputError(EvaluationError):
    """A line of an input file that cannot be read; ``location`` is ``path:line``."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.location = f"{path}:{line}" if line is not None else path
        self.reason = reason
        super().__init__(f"{self.location}: {reason}")


class MalformedCorpusError(MalformedInputError):
    """A corpus (JSON Lines) record that is not valid."""


class MalformedQrelsError(MalformedInputError):
    """A TREC qrels line that is not ``query_id iteration doc_id relevance``."""


class MalformedPairsError(MalformedInputError):
    """A judged-pairs CSV without the ``id1,id2,score`` header or with a bad row."""


class NoJudgementsError(EvaluationError):
    """A corpus that gives nothing to evaluate against (no labels, no qrels, no pairs)."""


class UnknownMethodError(EvaluationError):
    """A ``--methods`` entry that is not registered."""

    def __init__(self, name: str, names: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown method '{name}'. Valid: {', '.join(names)}")


class StoreMismatchError(EvaluationError):
    """An evaluation store holding articles that are not in the evaluated corpus.

    The ``default`` method ranks everything in the store, so foreign articles would leak
    into its lists and make the comparison with the other methods unfair.
    """
