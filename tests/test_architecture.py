"""The dependency direction of ARCHITECTURE.md, enforced; and no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "personascope"
LLM_LIBS = (
    "langchain",
    "langgraph",
    "openai",
    "llama_cpp",
    "chromadb",
    "sentence_transformers",
    "torch",
    "httpx",
)
#: Top-level modules that ``scales`` and ``evaluation`` may read: pure data and errors.
# safeio: bounded reads, safe YAML/JSON, redaction (standard library, PyYAML and errors only).
PURE_TOP = (
    "personascope.axes",
    "personascope.errors",
    "personascope.methods",
    "personascope.records",
    "personascope.results",
    "personascope.safeio",
)


def _module(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name | ast.Attribute) and ast.unparse(test).endswith("TYPE_CHECKING")


def _import_nodes(tree: ast.AST, top_level_only: bool) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run (``if TYPE_CHECKING:`` blocks never do)."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo = list(ast.iter_child_nodes(tree))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif _is_type_checking(node):
            todo.extend(node.orelse)  # type: ignore[attr-defined]
        elif not (top_level_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return found


def _imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Modules imported by ``path`` (``top_level_only``: at import time, not inside
    functions), ``if TYPE_CHECKING:`` imports excepted."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in _import_nodes(tree, top_level_only):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        else:
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            # `from personascope.cli import run` imports the module personascope.cli.run
            names.update(f"{module}.{a.name}" for a in node.names)
    return names


def _internal_graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = {_module(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = {d for d in _imports(path, top_level_only=top_level_only) if d in modules and d != name}
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                found.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


@pytest.mark.parametrize("sub", ["scales", "evaluation"])
def test_pure_subpackages_import_no_llm_library(sub: str) -> None:
    for path in (PKG / sub).rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(LLM_LIBS), f"{path}: imports {name}"
            assert not name.startswith(
                ("personascope.agents", "personascope.graphs", "personascope.memories", "personascope.cli")
            ), f"{path}: imports {name}"


@pytest.mark.parametrize("module", ["axes.py", "methods.py", "records.py", "errors.py", "results.py"])
def test_shared_modules_are_pure(module: str) -> None:
    for name in _imports(PKG / module):
        assert not name.startswith(LLM_LIBS), f"{module}: imports {name}"
        if name.startswith("personascope."):
            assert name.startswith(PURE_TOP) or name == "personascope", f"{module}: imports {name}"


def test_nothing_imports_graphs_but_cli_and_api() -> None:
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] in ("graphs", "cli") or rel.name in ("__init__.py", "api.py"):
            continue
        for name in _imports(path):
            assert not name.startswith("personascope.graphs"), f"{path}: imports {name}"


def test_no_import_cycle_inside_the_package() -> None:
    """No module reaches itself through imports, lazy (in-function) imports included."""
    cycles = _cycles(_internal_graph(top_level_only=False))
    assert not cycles, cycles


def test_the_cycle_check_can_fail() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_cli_modules_are_thin() -> None:
    for path in (PKG / "cli").glob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines <= 110, f"{path.name}: {lines} lines; move logic into the library"


@pytest.mark.parametrize(
    "package",
    ["personascope", "personascope.agents", "personascope.graphs", "personascope.memories",
     "personascope.scales", "personascope.evaluation", "personascope.cli"],
)  # fmt: skip
def test_public_names_resolve(package: str) -> None:
    """Every name a package lists in ``__all__`` can be imported from it."""
    import importlib

    module = importlib.import_module(package)
    assert module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_importing_the_package_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, personascope; print('langgraph' in sys.modules, 'chromadb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
