"""A read-only walk over libcst trees that skips whitespace and punctuation.

libcst's own `visit()` rebuilds every node it passes through, which costs several times a
parse; the facts only need to read, so they walk the dataclass fields directly.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, List, Tuple, Type

import libcst as cst

# Fields that only hold layout (whitespace, brackets, commas, operators' tokens).
_SKIP = {
    "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot", "header", "footer",
    "leading_lines", "lines_after_decorators", "newline", "trailing_whitespace", "lbracket",
    "rbracket", "lbrace", "rbrace", "whitespace", "asynchronous", "star_tok", "default_newline",
}
_FIELDS: Dict[Type[cst.CSTNode], Tuple[str, ...]] = {}


def _fields(t: Type[cst.CSTNode]) -> Tuple[str, ...]:
    names = _FIELDS.get(t)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(t)  # type: ignore[arg-type]
            if f.name not in _SKIP and not f.name.startswith("whitespace") and "whitespace" not in f.name
        )
        _FIELDS[t] = names
    return names


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for v in value:
                if isinstance(v, cst.CSTNode):
                    yield v


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below `node` (itself included), parents before children, in source order."""
    stack: List[cst.CSTNode] = [node]
    while stack:
        n = stack.pop()
        yield n
        kids = list(children(n))
        kids.reverse()
        stack.extend(kids)


def calls_in_evaluation_order(expr: cst.CSTNode) -> Tuple[List[cst.Call], List[cst.Attribute]]:
    """Calls of an expression, arguments before the call itself; plus `.grad` attribute reads.

    Lambdas are not entered: their bodies do not run where they are written.
    """
    calls: List[cst.Call] = []
    grads: List[cst.Attribute] = []

    def rec(n: cst.CSTNode) -> None:
        if isinstance(n, cst.Lambda):
            return
        if isinstance(n, cst.Attribute) and n.attr.value == "grad":
            grads.append(n)
        for c in children(n):
            rec(c)
        if isinstance(n, cst.Call):
            calls.append(n)

    try:
        rec(expr)
    except RecursionError:
        pass  # absurdly deep expressions: keep what was collected
    return calls, grads
