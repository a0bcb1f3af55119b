"""The static half of a trace: the script plus the project files it imports, found without running them.

Imports are resolved by reading the files' syntax trees (`ast`), never by importing: a name maps
to a file only when that file sits next to the script (or under the working folder for `-m`).
"""

from __future__ import annotations

import ast
import os
from typing import Any, List, Optional, Sequence, Set

from trainlint.diagnostics import Diagnostic

_MAX_FILES = 200


def _module_file(base: str, dotted: str) -> Optional[str]:
    parts = [p for p in dotted.split(".") if p]
    if not parts:
        return None
    path = os.path.join(base, *parts)
    for candidate in (path + ".py", os.path.join(path, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


def _package_inits(base: str, dotted: str) -> List[str]:
    out = []
    parts = dotted.split(".")
    for i in range(1, len(parts)):
        init = os.path.join(base, *parts[:i], "__init__.py")
        if os.path.isfile(init):
            out.append(init)
    return out


def _imports_of(path: str, root: str) -> List[str]:
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError):
        return []
    here = os.path.dirname(path)
    found: List[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found += _package_inits(root, alias.name)
                target = _module_file(root, alias.name)
                if target:
                    found.append(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here
                for _ in range(node.level - 1):
                    base = os.path.dirname(base)
            else:
                base = root
            mod = node.module or ""
            if mod:
                found += _package_inits(base, mod)
                target = _module_file(base, mod)
                if target:
                    found.append(target)
            for alias in node.names:
                sub = _module_file(base, f"{mod}.{alias.name}" if mod else alias.name)
                if sub:
                    found.append(sub)
    return found


def project_files(entry: str, root: Optional[str] = None) -> List[str]:
    """`entry` and the local files it imports, transitively, as paths relative to the working folder."""
    root = root or os.path.dirname(os.path.abspath(entry))
    seen: Set[str] = set()
    order: List[str] = []
    todo = [os.path.abspath(entry)]
    while todo and len(order) < _MAX_FILES:
        path = os.path.realpath(todo.pop(0))
        if path in seen:
            continue
        seen.add(path)
        order.append(path)
        todo += [os.path.abspath(p) for p in _imports_of(path, root)]
    out = [entry]
    for path in order[1:]:
        rel = os.path.relpath(path)
        out.append(path if rel.startswith("..") else rel)
    return out


def module_entry(module: str) -> Optional[str]:
    """The file `python -m module` would run, looked up under the working folder only."""
    base = os.getcwd()
    target = _module_file(base, module)
    if target and target.endswith("__init__.py"):
        main = os.path.join(os.path.dirname(target), "__main__.py")
        return os.path.relpath(main) if os.path.isfile(main) else None
    return os.path.relpath(target) if target else None


def check(paths: Sequence[str], settings: Any) -> List[Diagnostic]:
    """Static findings over `paths` (empty if the static checker is not available)."""
    try:
        from trainlint.engine import check_paths
    except ImportError:
        return []
    try:
        return list(check_paths(list(paths), settings).diagnostics)
    except Exception as exc:  # a defect of the static side must not cost the runtime evidence
        import sys

        print(f"trainlint: static checks failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return []
