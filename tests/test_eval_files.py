"""The evaluation's disk I/O lives in eval/files.py alone, and its writes are atomic."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from related_posts.eval import files

EVAL = Path(files.__file__).parent
#: Calls that touch the disk; only eval/files.py may make them.
DISK_CALLS = {"open", "read_bytes", "read_text", "write_text", "write_bytes", "mkdir", "glob", "rglob",
              "iterdir", "is_file", "is_dir", "exists", "unlink", "save", "load", "savez", "replace"}


def _disk_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in DISK_CALLS or (isinstance(func, ast.Attribute) and ast.unparse(func.value) == "files"):
            continue
        # str.replace and dataclasses.replace are not I/O: os.replace is the one that is.
        if name == "replace" and not (isinstance(func, ast.Attribute) and ast.unparse(func.value) == "os"):
            continue
        found.append(f"{path.name}:{node.lineno} {ast.unparse(func)}")
    return found


def test_no_other_eval_module_touches_the_disk():
    offenders = [call for path in sorted(EVAL.glob("*.py")) if path.name != "files.py" for call in _disk_calls(path)]
    assert offenders == []


def test_the_checker_sees_disk_calls(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text("import numpy as np\nnp.save(p, a)\np.read_bytes()\n'x'.replace('a', 'b')\nfiles.open_text(p)\n")
    assert [call.split(" ")[1] for call in _disk_calls(sample)] == ["np.save", "p.read_bytes"]


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path):
    target = files.write_text(tmp_path / "report.md", "old report\n")

    def rows():
        yield ["a", 1]
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        files.write_csv(target, ["name", "value"], rows())
    assert target.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]  # no temporary file left behind


def test_a_truncated_cache_reads_as_missing(tmp_path: Path):
    cache = files.save_array(tmp_path / "vectors.npy", np.ones((3, 4), dtype=np.float32))
    assert files.load_array(cache).shape == (3, 4)
    cache.write_bytes(cache.read_bytes()[:60])
    assert files.load_array(cache) is None
    assert files.load_array(tmp_path / "absent.npy") is None
