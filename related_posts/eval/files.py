"""The evaluation's disk I/O, all of it: corpora and judgements in, vector caches, the report out.

Every other module of :mod:`related_posts.eval` works on values (``tests/test_eval_files.py``
checks that none of them opens a file). Writes are atomic (a temporary file in the same
folder, then a rename), so a run killed while writing leaves the previous report or cache
whole, never a truncated one (the command line's ``-o`` writes through :func:`write_text` too).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np


def read_bytes(path: Path) -> bytes:
    """The bytes of one corpus file."""
    return path.read_bytes()


def list_files(folder: Path, pattern: str) -> list[Path]:
    """The files under ``folder`` matching the glob ``pattern``, in name order."""
    return sorted(folder.glob(pattern))


def is_file(path: Path) -> bool:
    """Whether ``path`` is an existing file."""
    return path.is_file()


def is_folder(path: Path) -> bool:
    """Whether ``path`` is an existing folder."""
    return path.is_dir()


@contextmanager
def open_text(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """A UTF-8 text file for reading (a byte-order mark is skipped); ``newline=""`` for csv."""
    with path.open(encoding="utf-8-sig", newline=newline) as handle:
        yield handle


def make_folder(path: Path) -> Path:
    """``path`` as a folder, created with its parents if missing."""
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def _atomic(path: Path, mode: str, **options: Any) -> Iterator[IO[Any]]:
    handle = tempfile.NamedTemporaryFile(mode, dir=path.parent, prefix=f".{path.name}.", delete=False, **options)
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8, atomically."""
    with _atomic(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV with ``header`` and ``rows`` to ``path``, atomically."""
    with _atomic(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def load_array(path: Path) -> np.ndarray | None:
    """A cached array, or None when there is none or it cannot be read (it is then recomputed)."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None


def save_array(path: Path, array: np.ndarray) -> Path:
    """Cache ``array`` at ``path`` (``.npy``), atomically."""
    with _atomic(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
    return path
