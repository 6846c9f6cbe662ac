"""One refresh per store at a time, enforced by an OS file lock.

The kernel releases the lock when its process dies, even by SIGKILL, so a crashed
refresh never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import StoreBusyError, StoreError


@contextlib.contextmanager
def refresh_lock(db_path: str) -> Iterator[None]:
    """Hold ``DB.lock`` for the duration; raise :class:`StoreBusyError` if it is held."""
    if db_path == ":memory:":
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; SQLite still serialises writes.
        yield
        return
    lock_path = Path(f"{db_path}.lock")
    try:
        handle = open(lock_path, "a+")  # closed by the with below
    except OSError as exc:
        raise StoreError(
            f"cannot open the refresh lock {lock_path} ({exc.strerror or exc}); it must be a file "
            "the refresh can write: remove it if it is a folder, or check the folder's permissions"
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise StoreBusyError(
                f"{db_path} is being refreshed by {holder}; wait for it to finish "
                "(readers keep working meanwhile) and run refresh again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
