"""SQLite storage of articles, vectors and related lists.

The only part of the library that writes to disk; besides it, only ``sources`` (reading
input files), ``eval`` (its caches and reports, through ``eval/files.py``) and the command
line touch files.
"""

from .store import Store, StoredLink, VectorTable, grow_rows, with_spare_rows

__all__ = ["Store", "StoredLink", "VectorTable", "grow_rows", "with_spare_rows"]
