"""The layout a newcomer relies on: the drivers (discovery, plan, pool, split, engine) import
each other in one direction only, and no module imports another's private names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

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


# ---------------------------------------------------------------------- the tracer's sides
RUNTIME = "trainlint.runtime"
CHILD = "trainlint.runtime.child"
SCHEMA = "trainlint.runtime.records"
# The parent process: launch, runner, judging, the report and its text. None may import torch.
TORCH_FREE = ("trainlint.runtime.parent", "trainlint.runtime.judging", SCHEMA, "trainlint.report")


def _under(name: str, prefixes: Tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _imports(path: Path, top_level_only: bool = False) -> List[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: List[str] = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


def test_the_parent_side_and_judging_never_import_torch() -> None:
    """The base install has no torch: only the child side (the traced process) imports it."""
    mods = _modules()
    found = sorted(
        f"{name}: {imp}"
        for name, path in mods.items()
        if _under(name, TORCH_FREE)
        for imp in _imports(path)
        if _under(imp, ("torch", CHILD))
    )
    # The public API imports the child side only inside `tracing()`, which traces in-process.
    found += sorted(
        f"trainlint.runtime.api: {imp}"
        for imp in _imports(mods["trainlint.runtime.api"], top_level_only=True)
        if _under(imp, ("torch", CHILD))
    )
    assert found == []
    names = [n for n in mods if _under(n, TORCH_FREE) and not n.endswith("__main__")] + ["trainlint.runtime.api"]
    code = f"import importlib, sys\nfor m in {names!r}: importlib.import_module(m)\nassert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, check=True)


def test_the_two_sides_share_only_the_record_schema() -> None:
    """Records are built by the child and read by the parent as objects of `runtime/records.py`:
    no other module defines a record, spells the pipe's `kind` tag, or reads the pipe's JSON,
    and the child imports nothing of the parent side."""
    mods = _modules()
    schema = ast.parse(mods[SCHEMA].read_text())
    record_classes = {n.name for n in schema.body if isinstance(n, ast.ClassDef)}
    problems: List[str] = []
    for name, path in mods.items():
        if not _under(name, (RUNTIME, "trainlint.report.trace_text")) or name == SCHEMA:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and (
                node.name in record_classes
                or any(isinstance(s, (ast.Assign, ast.AnnAssign)) and "KIND" in ast.dump(s) for s in node.body)
            ):
                problems.append(f"{name}: class {node.name} (records are defined in {SCHEMA})")
            keys: List[ast.AST] = []
            if isinstance(node, ast.Dict):
                keys += [k for k in node.keys if k is not None]
            elif isinstance(node, ast.Subscript):
                keys.append(node.slice)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
                keys += node.args[:1]
            if any(isinstance(k, ast.Constant) and k.value == "kind" for k in keys):
                problems.append(f"{name}:{getattr(node, 'lineno', '?')}: the record tag spelled out")
        imports = _imports(path)
        if _under(name, (CHILD,)):
            problems += [
                f"{name}: imports {imp}"
                for imp in imports
                if _under(imp, (RUNTIME,)) and not _under(imp, (CHILD, SCHEMA)) and imp != RUNTIME
            ]
        if _under(name, (CHILD, "trainlint.runtime.parent")) and "json" in imports:
            problems.append(f"{name}: imports json (the schema encodes and decodes the pipe)")
    assert problems == []
