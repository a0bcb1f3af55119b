"""The layout a newcomer relies on: the drivers (discovery, plan, pool, split, engine) import
each other in one direction only, and no module imports another's private names."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parent.parent / "trainlint"
DRIVERS = {
    "trainlint.discover",
    "trainlint.plan",
    "trainlint.context",
    "trainlint.pipeline",
    "trainlint.split",
    "trainlint.engine",
    "trainlint.fixes.apply",
    "trainlint.cache",
    "trainlint.lsp",
    "trainlint.cli",
}


def _modules() -> Dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _graph() -> Dict[str, Set[str]]:
    mods = _modules()
    known = set(mods)
    graph: Dict[str, Set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: List[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trainlint"):
                subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known]
                targets += subs or [node.module]
            elif isinstance(node, ast.Import):
                targets += [a.name for a in node.names if a.name.startswith("trainlint")]
            # (the package itself only re-exports the tracer API lazily: not an import cycle)
            graph[m].update(t for t in targets if t in known and t not in (m, "trainlint"))
    return graph


def _reaches(graph: Dict[str, Set[str]], start: str, goal: str) -> bool:
    seen: Set[str] = set()
    todo = list(graph[start])
    while todo:
        m = todo.pop()
        if m == goal:
            return True
        if m not in seen:
            seen.add(m)
            todo.extend(graph.get(m, ()))
    return False


def test_the_drivers_import_each_other_in_one_direction() -> None:
    graph = _graph()
    cycles = sorted(f"{a} <-> {b}" for a in DRIVERS for b in graph[a] if b in DRIVERS and _reaches(graph, b, a))
    assert cycles == []


def test_the_cycle_check_sees_function_level_imports() -> None:
    """(The check above counts imports inside functions too: a lazy import still couples.)"""
    graph = _graph()
    assert "trainlint.plan" in graph["trainlint.pipeline"]
    assert "trainlint.pipeline" in graph["trainlint.cli"]  # imported inside a command function


def test_no_module_imports_another_modules_private_names() -> None:
    mods = _modules()
    private = sorted(
        f"{name}: from {node.module} import {alias.name}"
        for name, path in mods.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("trainlint")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    )
    assert private == []


def test_class_names_say_what_they_hold() -> None:
    """One class per name across the analysis: `Tracer`, `Evidence` or `_Frame` twice made
    readers guess which one a module meant."""
    seen: Dict[str, List[str]] = {}
    for name, path in _modules().items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                seen.setdefault(node.name, []).append(name)
    twice = {cls: where for cls, where in seen.items() if len(where) > 1 and cls in ("Tracer", "Evidence", "_Frame")}
    assert twice == {}
