"""The package's modules import one way: read from the source (every import, the ones
inside functions too), the import graph of pmiembed's modules has no cycle, and a stage
never imports a later one (corpus < vocab < cooccur < pmi < svd < the model and what
uses it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pmiembed

ROOT = Path(pmiembed.__file__).parent
STAGES = ["corpus", "vocab", "cooccur", "pmi", "svd"]
#: what stands above every stage: the model and the routes, apps and tools built on it
ABOVE_STAGES = {"model", "update", "state", "distributed", "sweep", "compare", "explain", "evaluate", "cli"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set) -> set:
    """The pmiembed modules ``path`` imports, wherever the import statement is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{a.name}" for a in node.names} & modules
            found.update(submodules)
            # `from . import _kernels` imports the module _kernels; the package itself
            # is a dependency only when a name is taken from it
            if len(submodules) < len(node.names):
                found.add(target)
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict:
    paths = sorted(ROOT.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def find_cycle(graph: dict) -> list | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def reachable(graph: dict, start: str) -> set:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    # imports at the top and inside functions are both seen
    assert "pmiembed.svd" in graph["pmiembed.model"]
    assert "pmiembed.distributed" in graph["pmiembed.model"]  # fit(client=) imports it in the function
    assert "pmiembed._kernels" in graph["pmiembed.svd"]  # `from ._kernels import ...` in a function
    assert "pmiembed.model" in graph["pmiembed.update"]
    assert "pmiembed.explain" in graph["pmiembed.cli.explain"]  # `from ..explain import` in a function
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_model_does_not_import_update():
    graph = import_graph()
    assert "pmiembed.update" not in reachable(graph, "pmiembed.model")


def test_a_stage_never_imports_a_later_stage():
    graph = import_graph()
    for i, stage in enumerate(STAGES):
        later = {f"pmiembed.{s}" for s in STAGES[i + 1:]} | {f"pmiembed.{s}" for s in ABOVE_STAGES}
        reached = reachable(graph, f"pmiembed.{stage}")
        bad = sorted(m for m in reached if m in later or m.startswith("pmiembed.cli"))
        assert not bad, f"pmiembed.{stage} imports {bad}"
