"""Parse pages, embed articles, find neighbours, rank and render related lists.

Pure computation over values, except :mod:`.refresh`, :mod:`.cache` and the
:class:`Recommender` facade, which read and write the store (and nothing else on disk),
and :mod:`.embed`, which loads a model from local files.
"""

from ..article import Skipped
from .audit import AuditOptions, AuditReport
from .embed import DEFAULT_MODEL, Embedder, HashingEmbedder, SentenceTransformerEmbedder, load_embedder
from .parse import Document, NoArticleError, ParseError, decode_page, parse_document, parse_records
from .rank import RankingOptions
from .recommender import AddReport, Recommender, default_db_path
from .refresh import RefreshReport
from .render import RenderOptions, rewrite

__all__ = [
    "DEFAULT_MODEL", "AddReport", "AuditOptions", "AuditReport", "Document", "NoArticleError",
    "ParseError", "decode_page", "parse_records", "Embedder", "HashingEmbedder", "RankingOptions",
    "Recommender", "RefreshReport", "RenderOptions", "SentenceTransformerEmbedder", "Skipped",
    "default_db_path", "load_embedder", "parse_document", "rewrite",
]
