"""The dependency direction of ARCHITECTURE.md, enforced."""

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


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("sub", ["scales", "evaluation"])
def test_pure_subpackages_import_no_llm_library(sub: str) -> None:
    for path in (PKG / sub).rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(LLM_LIBS), f"{path}: imports {name}"
            assert not name.startswith(
                ("personascope.agents", "personascope.graphs", "personascope.memories")
            ), f"{path}: imports {name}"


def test_nothing_imports_graphs_but_cli_and_api() -> None:
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "graphs" or rel.name in ("cli.py", "__init__.py", "api.py"):
            continue
        for name in _imports(path):
            assert not name.startswith("personascope.graphs"), f"{path}: imports {name}"
