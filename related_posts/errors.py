"""Exception classes. Every message names the object involved and what would be valid.

The CLI turns any :class:`RelatedPostsError` into a one-line error and a non-zero exit;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from .article import model_id_of


class RelatedPostsError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(RelatedPostsError):
    """A source file or record that cannot be read as an article.

    ``location`` is ``path`` or ``path:line`` so a user can jump straight to it.
    """

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}")


class StoreError(RelatedPostsError):
    """The database file cannot be used as a related-posts store."""


class StoreBusyError(StoreError):
    """Another refresh of the same store is running."""


class ModelMismatchError(StoreError):
    """Vectors of one model (or recipe) were offered to a store built with another.

    ``store_model`` and ``model`` are vector ids: the model id and how articles were
    embedded with it (see ``recommend.embed.vector_model_id``).
    """

    def __init__(self, path: str, store_model: str, store_dim: int, model: str, dim: int) -> None:
        self.store_model = store_model
        self.model = model
        super().__init__(
            f"{path} holds vectors of '{store_model}' (dimension {store_dim}); "
            f"refusing vectors of '{model}' (dimension {dim}). "
            f"Use --model {model_id_of(store_model)}, or a new --db for the other model."
        )


class UnknownArticleError(RelatedPostsError):
    """An article id that is not in the store."""

    def __init__(self, article_id: str, path: str, suggestions: list[str] | None = None) -> None:
        self.article_id = article_id
        self.suggestions = list(suggestions or [])
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"no article with id '{article_id}' in {path}.{hint} "
            f"List the stored ids with: related-posts articles --db {path}"
        )


class NotEmbeddedError(RelatedPostsError):
    """A related list was asked for before the store was refreshed."""


class ModelNotFoundError(RelatedPostsError):
    """An embedding model that is not installed locally (nothing is downloaded at run time)."""
