"""A read-only walk over libcst trees that skips whitespace and punctuation.

libcst's own `visit()` rebuilds every node it passes through, which costs several times a
parse; the facts only need to read, so they walk the dataclass fields directly.

This is the hottest code of the checker (every fact is a walk), so it avoids `isinstance`
against libcst's node classes: they are ABCs, and an ABC's instance check is several times
slower than looking the node's exact type up in a dict.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, List, Tuple, Type

import libcst as cst

# Fields that only hold layout (whitespace, brackets, commas, operators' tokens).
_SKIP = {
    "lpar",
    "rpar",
    "comma",
    "semicolon",
    "colon",
    "equal",
    "dot",
    "header",
    "footer",
    "leading_lines",
    "lines_after_decorators",
    "newline",
    "trailing_whitespace",
    "lbracket",
    "rbracket",
    "lbrace",
    "rbrace",
    "whitespace",
    "asynchronous",
    "star_tok",
    "default_newline",
}
_FIELDS: Dict[type, Tuple[str, ...]] = {}
# Exact type -> whether its instances are syntax nodes (learnt once per type).
_IS_NODE: Dict[type, bool] = {}

_Call = cst.Call
_Attribute = cst.Attribute
_Lambda = cst.Lambda


def _fields(t: Type[cst.CSTNode]) -> Tuple[str, ...]:
    names = _FIELDS.get(t)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(t)  # type: ignore[arg-type]
            if f.name not in _SKIP
            and "whitespace" not in f.name
            and f.type not in (str, bool, "str", "bool")  # plain values never hold nodes
        )
        _FIELDS[t] = names
    return names


def _is_node(t: type) -> bool:
    known = _IS_NODE.get(t)
    if known is None:
        known = _IS_NODE[t] = issubclass(t, cst.CSTNode)
    return known


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The node's syntax children in source order (layout-only fields left out)."""
    out: List[cst.CSTNode] = []
    names = _FIELDS.get(type(node))
    if names is None:
        names = _fields(type(node))
    is_node = _IS_NODE
    for name in names:
        value = getattr(node, name)
        t = type(value)
        if t is tuple or t is list:
            for v in value:
                k = is_node.get(type(v))
                if k is None:
                    k = _is_node(type(v))
                if k:
                    out.append(v)
        else:
            k = is_node.get(t)
            if k is None:
                k = _is_node(t)
            if k:
                out.append(value)
            elif isinstance(value, (list, tuple)):  # a subclass of list/tuple (not seen in parsed trees)
                out.extend(v for v in value if _is_node(type(v)))
    return out


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below `node` (itself included), parents before children, in source order."""
    stack: List[cst.CSTNode] = [node]
    pop = stack.pop
    push = stack.extend
    while stack:
        n = pop()
        yield n
        kids = children(n)
        if kids:
            kids.reverse()
            push(kids)


def calls_in_evaluation_order(expr: cst.CSTNode) -> Tuple[List[cst.Call], List[cst.Attribute]]:
    """Calls of an expression, arguments before the call itself; plus `.grad` attribute reads.

    Lambdas are not entered: their bodies do not run where they are written.
    """
    calls: List[cst.Call] = []
    grads: List[cst.Attribute] = []
    try:
        _collect(expr, calls, grads)
    except RecursionError:
        pass  # absurdly deep expressions: keep what was collected
    return calls, grads


def _collect(n: cst.CSTNode, calls: List[cst.Call], grads: List[cst.Attribute]) -> None:
    # A module-level function, not a closure: a recursive closure is a reference cycle that
    # only the cyclic garbage collector can free.
    t = type(n)
    if t is _Lambda:
        return
    if t is _Attribute and n.attr.value == "grad":  # type: ignore[attr-defined]
        grads.append(n)  # type: ignore[arg-type]
    for child in children(n):
        _collect(child, calls, grads)
    if t is _Call:
        calls.append(n)  # type: ignore[arg-type]
