"""The shape of the code, checked: no import cycles, no evaluation code in the service,
a light client, typed collaborators (issue: one shape for every feature)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests import ROOT

PACKAGES = ("service", "ingest", "eval", "prompts")
HEAVY = ("chromadb", "torch", "langchain", "langchain_core", "sentence_transformers", "sqlalchemy")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = p
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module ``name`` imports, at module level or inside functions."""

    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            # "from pkg import sub" names the submodule; "from mod import name" the module.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        for t in targets:
            r = resolve(t)
            if r and r != name:
                found.add(r)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_project_modules() -> None:
    assert _cycles(_graph()) == []


def test_the_service_never_imports_its_evaluation_code() -> None:
    bad = sorted(
        (m, t)
        for m, targets in _graph().items()
        if m.split(".")[0] in ("service", "ingest")
        for t in targets
        if t.split(".")[0] == "eval"
    )
    assert bad == []


def test_importing_the_client_loads_no_heavy_stack() -> None:
    code = (
        "import json, sys; import service.client; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_no_collaborator_typed_any_in_service_signatures() -> None:
    """Constructors take typed collaborators; nothing takes the container as ``Any``."""
    bad = []
    for p in (ROOT / "service").rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for a in [*node.args.args, *node.args.kwonlyargs]:
                ann = ast.unparse(a.annotation) if a.annotation is not None else ""
                if ann == "Any" and (node.name == "__init__" or a.arg in ("c", "container")):
                    bad.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name}({a.arg})")
    assert bad == []
