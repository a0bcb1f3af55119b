"""Which names hold values computed from given nodes: a forward flow over a function's
assignments (and `append`/`update` into containers), stopped by calls that turn a tensor into
a number or cut it from the graph (`.item()`, `.detach()`, `float()`)."""

from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis.facts import Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.walk import children

# Calls whose result is a number or a tensor cut from the graph: nothing after them carries one.
_CUTS = frozenset({"item", "detach", "tolist", "numpy", "float", "int"})
_MUTATORS = frozenset({"append", "extend", "insert", "add", "update"})


def own_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes of a function's own body (not those of functions or classes defined in it)."""
    stack = list(children(node))
    while stack:
        n = stack.pop()
        yield n
        if not isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            stack.extend(children(n))


def _key(target: cst.BaseExpression) -> Optional[str]:
    if isinstance(target, cst.Subscript):
        return _key(target.value)
    return dotted(target)


def derived_names(scope: Scope, seeds: Set[int]) -> Set[str]:
    """The names (and attribute chains) that hold values computed from the seed nodes."""
    flows: List[Tuple[List[str], cst.CSTNode]] = []
    for n in own_nodes(scope.node):
        if isinstance(n, cst.Assign):
            flows.append(([k for t in n.targets for k in _target_keys(t.target)], n.value))
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign)) and n.value is not None:
            flows.append((_target_keys(n.target), n.value))
        elif isinstance(n, (cst.For, cst.CompFor)):
            flows.append((_target_keys(n.target), n.iter))
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in _MUTATORS:
            key = _key(n.func.value)
            if key is not None:
                flows.append(([key], cst.Tuple([cst.Element(a.value) for a in n.args])))
    names: Set[str] = set()
    changed = True
    while changed:
        changed = False
        for targets, value in flows:
            if targets and not set(targets) <= names and mentions(value, seeds, names):
                names.update(targets)
                changed = True
    return names


def _target_keys(target: cst.BaseExpression) -> List[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [k for e in target.elements for k in _target_keys(e.value)]
    key = _key(target)
    return [key] if key is not None else []


def mentions(expr: cst.CSTNode, seeds: Set[int], names: Set[str]) -> bool:
    if id(expr) in seeds:
        return True
    if isinstance(expr, (cst.Name, cst.Attribute)) and dotted(expr) in names:
        return True
    if isinstance(expr, cst.Call):
        f = expr.func
        cut = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else None
        if cut in _CUTS:
            return False  # (a number, or a tensor cut from the graph)
    return any(mentions(c, seeds, names) for c in children(expr))
