"""The package's import graph: layers only point down, and no module imports itself back.

Every import statement counts: at the top of a module, inside a function (a lazy import is
still a dependency) and under ``if TYPE_CHECKING:`` (a type is a dependency too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import related_posts

PACKAGE = Path(related_posts.__file__).parent

#: Bottom first. A module may import modules of its own group and of lower layers;
#: groups on one layer do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("related_posts.article", "related_posts.terminal"),
    ("related_posts.errors",),
    ("related_posts.recommend.parse", "related_posts.store"),
    ("related_posts.recommend",),
    ("related_posts.sources",),
    ("related_posts.ingest",),
    ("related_posts.demo",),
    ("related_posts.eval",),
    ("related_posts.site",),
    ("related_posts.server",),
    ("related_posts.cli",),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def group_of(module: str) -> tuple[int, str] | None:
    """The layer and group of ``module`` (the longest matching prefix), None for the root."""
    best: tuple[int, str] | None = None
    for layer, groups in enumerate(LAYERS):
        for group in groups:
            if (module == group or module.startswith(group + ".")) and (
                    best is None or len(group) > len(best[1])):
                best = (layer, group)
    return best


def imports_of(source: str, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The package's ``modules`` that the module ``name`` with this ``source`` imports."""
    package = name if is_package else name.rpartition(".")[0]
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # "from x import y" imports x.y when y is a module, else x.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in modules and t != name}
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py",
                             set(files)) for name, path in files.items()}


def test_every_module_has_a_layer():
    unplaced = [m for m in import_graph() if m != "related_posts" and group_of(m) is None]
    assert unplaced == [], f"add these modules to LAYERS: {unplaced}"


def test_layers_only_point_down():
    upward = []
    for module, targets in import_graph().items():
        source = group_of(module)
        if source is None:
            continue  # the package root re-exports the public API of every layer
        for target in targets:
            place = group_of(target)
            assert place is not None
            if place[1] != source[1] and place[0] >= source[0]:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_import_cycles():
    graph = import_graph()
    cycles: list[list[str]] = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


def test_the_walker_counts_lazy_and_type_checking_imports():
    source = """
from typing import TYPE_CHECKING
from ..store import Store
from . import lexical
if TYPE_CHECKING:
    from ..eval import runner
def later():
    from .score import fuse
"""
    modules = {"p.store", "p.recommend.lexical", "p.recommend.score", "p.eval.runner", "p.eval"}
    found = imports_of(source, "p.recommend.cache", False, modules)
    assert found == {"p.store", "p.recommend.lexical", "p.recommend.score", "p.eval.runner"}
