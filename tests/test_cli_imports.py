"""Commands that only read the store never import the model stack (torch,
sentence-transformers, transformers): loading it costs seconds before the first line of
output. Each command runs in a fresh interpreter that then reports what it imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from related_posts import Recommender

MODEL_STACK = ("torch", "sentence_transformers", "transformers")

RUN_COMMAND = """
import json, sys
from related_posts.cli import cli
try:
    cli.main(sys.argv[2:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {stack} if m in sys.modules)), file=open(sys.argv[1], "w"))
"""

# The server as `serve` starts it, then a request to each read-only endpoint.
RUN_SERVER = """
import json, sys
from starlette.testclient import TestClient
from related_posts.server.app import ServerOptions, create_app
app = create_app(sys.argv[2], ServerOptions())
with TestClient(app) as client:
    for path in ("/health", "/related/war-1", "/articles?q=bread", "/", "/article/war-1"):
        assert client.get(path).status_code in (200, 404), path
print(json.dumps(sorted(m for m in {stack} if m in sys.modules)), file=open(sys.argv[1], "w"))
"""


@pytest.fixture
def db(rec: Recommender) -> str:
    return str(rec.store.path)


def imported(tmp_path: Path, script: str, *args: str) -> list[str]:
    report = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-c", script.format(stack=MODEL_STACK), str(report), *args],
                   check=True, capture_output=True, text=True)
    return json.loads(report.read_text())


@pytest.mark.parametrize("command", [
    ["--help"],
    ["--version"],
    ["related", "war-1", "--db", "{db}"],
    ["related", "war-1", "--db", "{db}", "-k", "2"],
    ["related", "war-1", "--db", "{db}", "--json"],
    ["articles", "--db", "{db}", "--json"],
    ["export", "--db", "{db}", "-o", "{out}"],
    ["export", "--db", "{db}", "--format", "csv", "-o", "{out}"],
    ["refresh", "--help"],
])
def test_read_only_commands_do_not_import_the_model(tmp_path, db, command):
    args = [part.format(db=db, out=tmp_path / "out") for part in command]
    assert imported(tmp_path, RUN_COMMAND, *args) == []


def test_the_server_starts_and_answers_without_the_model(tmp_path, db):
    assert imported(tmp_path, RUN_SERVER, db) == []


@pytest.mark.slow
def test_the_check_sees_a_command_that_loads_the_model(tmp_path):
    # Ingesting with the packaged model does import it: the check above would notice a
    # read-only command that did the same.
    post = tmp_path / "post.md"
    post.write_text("# A new post\n\nFresh text to embed with the real model.\n")
    assert "torch" in imported(tmp_path, RUN_COMMAND, "ingest", str(post), "--db",
                               str(tmp_path / "new.db"), "-q")
