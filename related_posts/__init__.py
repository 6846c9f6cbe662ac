"""related-posts: replace unrelated "Related Posts" tails with articles really about the same thing.

    >>> from related_posts import Recommender
    >>> rec = Recommender("site.db")
    >>> rec.add(articles)
    >>> rec.refresh(k=5)
    >>> rec.related("article-id", k=5)
"""

from .article import Article, RelatedItem, TailItem
from .errors import (
    InputError,
    ModelMismatchError,
    ModelNotFoundError,
    NotEmbeddedError,
    RelatedPostsError,
    StoreError,
    UnknownArticleError,
)
from .recommend import (
    AddReport,
    AuditOptions,
    AuditReport,
    Document,
    HashingEmbedder,
    NoArticleError,
    ParseError,
    Recommender,
    RefreshReport,
    RenderOptions,
    Skipped,
    decode_page,
    load_embedder,
    parse_document,
    parse_records,
)

__version__ = "0.1.0"

__all__ = [
    "AddReport", "Article", "AuditOptions", "AuditReport", "NoArticleError", "ParseError",
    "decode_page", "parse_records", "Document", "HashingEmbedder", "InputError", "ModelMismatchError",
    "ModelNotFoundError", "NotEmbeddedError", "Recommender", "RefreshReport", "RelatedItem",
    "RelatedPostsError", "RenderOptions", "Skipped", "StoreError", "TailItem",
    "UnknownArticleError", "load_embedder", "parse_document",
]
