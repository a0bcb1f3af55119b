"""Shapes written out in the code: a tensor's shape unpacked into names (`b, t, c = x.shape`)
and the methods that give a tensor new sizes without moving its elements."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import libcst as cst

# `x.view(...)` / `x.reshape(...)`: new sizes over the same elements in memory order.
RESHAPES = frozenset({"view", "reshape"})


def shape_unpack(stmt: Optional[cst.CSTNode]) -> Optional[Tuple[str, Sequence[cst.BaseElement]]]:
    """(`x`, the targets) of `a, b, c = x.shape` or `a, b, c = x.size()`, with no starred target."""
    if not isinstance(stmt, cst.Assign) or len(stmt.targets) != 1:
        return None
    target, value = stmt.targets[0].target, stmt.value
    if not isinstance(target, (cst.Tuple, cst.List)):
        return None
    if any(isinstance(e, cst.StarredElement) for e in target.elements):
        return None
    if isinstance(value, cst.Call):
        if value.args or not isinstance(value.func, cst.Attribute) or value.func.attr.value != "size":
            return None
        read = value.func
    elif isinstance(value, cst.Attribute) and value.attr.value == "shape":
        read = value
    else:
        return None
    return (read.value.value, target.elements) if isinstance(read.value, cst.Name) else None


def swap_call(order: Sequence[int]) -> str:
    """The call that moves axis `order[i]` to place `i`: `transpose(i, j)` when two axes trade
    places, else `permute(...)`."""
    moved = [i for i, o in enumerate(order) if o != i]
    if len(moved) == 2:
        return f"transpose({moved[0]}, {moved[1]})"
    return f"permute({', '.join(str(o) for o in order)})"
