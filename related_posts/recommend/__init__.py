"""Parse pages, embed articles, find neighbours, rank and render related lists."""

from .embed import DEFAULT_MODEL, Embedder, HashingEmbedder, SentenceTransformerEmbedder, load_embedder
from .parse import Document, parse_document
from .rank import RankingOptions
from .recommender import AddReport, Recommender, Skipped, default_db_path
from .refresh import RefreshReport
from .render import RenderOptions, rewrite

__all__ = [
    "DEFAULT_MODEL", "AddReport", "Document", "Embedder", "HashingEmbedder", "RankingOptions",
    "Recommender", "RefreshReport", "RenderOptions", "SentenceTransformerEmbedder", "Skipped",
    "default_db_path", "load_embedder", "parse_document", "rewrite",
]
