#!/usr/bin/env python3
"""Set up a virtual environment for related-posts, then run the demo or the tests.

    python3 dev.py demo     # set up (first time only), then run the demo
    python3 dev.py test     # set up (first time only), then lint, type-check and run every test
    python3 dev.py setup    # set up only

Set-up creates .venv, installs torch==2.13.0 first (a CPU build where one is available;
letting sentence-transformers pick torch itself pulls GBs of CUDA packages), then this
project with its test extra. It is skipped when pyproject.toml has not changed since
the last successful set-up. Needs only Python 3.10+ with venv and pip.

``test`` runs ruff and mypy (over the package and the README's Python examples) before
pytest; arguments after ``test`` go to pytest (``python3 dev.py test -m "not slow"``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".related-posts-setup"
TORCH = os.environ.get("RELATED_POSTS_TORCH", "torch==2.13.0")


def _fingerprint() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(TORCH.encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def setup() -> None:
    if sys.version_info < (3, 10):  # noqa: UP036 - dev.py runs before anything is installed
        sys.exit(f"related-posts needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == _fingerprint() and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print(f"installing {TORCH}", file=sys.stderr)
    subprocess.run(pip + [TORCH], check=True)
    print("installing related-posts and its test dependencies", file=sys.stderr)
    subprocess.run(pip + ["-e", f"{ROOT}[test]"], check=True)
    _install_browser()
    STAMP.write_text(_fingerprint())


def _install_browser() -> None:
    """Debian's chromium, for the browser tests (they are skipped, saying why, without it)."""
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    if not shutil.which("apt-get") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print("no chromium: the browser tests will be skipped (install Debian's chromium package)",
              file=sys.stderr)
        return
    print("installing chromium (Debian package) for the browser tests", file=sys.stderr)
    quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    subprocess.run(["apt-get", "update", "-q"], check=False, **quiet)
    if subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False, **quiet).returncode:
        print("chromium could not be installed: the browser tests will be skipped", file=sys.stderr)


def readme_examples() -> Path:
    """The README's ```python blocks as one module, for mypy: examples that do not
    type-check are examples that do not work."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"),
                        flags=re.S | re.M)
    path = VENV / "readme_examples.py"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def static_checks(env: dict[str, str]) -> int:
    """ruff, then mypy over the package and the README's examples: 0 when both pass."""
    for command in ([str(BIN / "ruff"), "check", "."],
                    [str(BIN / "mypy"), "--no-error-summary", "related_posts", str(readme_examples())]):
        print("$ " + " ".join(Path(command[0]).name if i == 0 else part
                               for i, part in enumerate(command)), file=sys.stderr)
        code = subprocess.call(command, cwd=ROOT, env=env)
        if code:
            return code
    return 0


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("setup", [])
    if command not in ("setup", "demo", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    setup()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if command == "demo":
        return subprocess.call([str(BIN / "related-posts"), "demo", *rest], env=env)
    if command == "test":
        return static_checks(env) or subprocess.call([str(PYTHON), "-m", "pytest", *rest],
                                                     cwd=ROOT, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
