"""SQLite storage of articles, vectors and related lists (the only module that touches disk)."""

from .store import Store, StoredLink, VectorTable, grow_rows, with_spare_rows

__all__ = ["Store", "StoredLink", "VectorTable", "grow_rows", "with_spare_rows"]
