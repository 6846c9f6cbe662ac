"""A site's lists out of the store: exports for static site generators and feeds of lists.

Pure functions over a :class:`~related_posts.store.Store` and the library; the CLI and the
server call them. :mod:`.export` writes every list as JSON, CSV, one file per article, and
Hugo and Jekyll data (``related-posts export``).
"""

from .export import (
    FORMATS,
    ExportError,
    ExportItem,
    ExportReport,
    ListExport,
    export_lists,
    export_to,
    id_to_path,
    lookup_key,
    write_export,
)

__all__ = [
    "FORMATS", "ExportError", "ExportItem", "ExportReport", "ListExport", "export_lists", "export_to",
    "id_to_path", "lookup_key", "write_export",
]
