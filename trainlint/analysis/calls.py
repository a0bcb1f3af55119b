"""Binding a call's arguments to a function's parameters: one answer for every rule."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from trainlint.analysis.facts import Scope


def arg_node(
    call: cst.Call, position: Optional[int], keyword: Optional[str], skip_star: bool = False
) -> Optional[cst.Arg]:
    """The `Arg` passed at positional index `position` or as `keyword=`. A `*args`/`**kwargs`
    may hide it: then the answer is None, unless `skip_star` reads past them (the arguments
    written out still mean what they say)."""
    positional = 0
    for a in call.args:
        if a.star:
            if skip_star:
                continue
            return None
        if a.keyword is not None:
            if keyword is not None and a.keyword.value == keyword:
                return a
            continue
        if position is not None and positional == position:
            return a
        positional += 1
    return None


def arg(
    call: cst.Call, position: Optional[int], keyword: Optional[str], skip_star: bool = False
) -> Optional[cst.BaseExpression]:
    """The value of `arg_node`."""
    node = arg_node(call, position, keyword, skip_star)
    return node.value if node is not None else None


def is_method(fn: Scope) -> bool:
    return fn.cls is not None and bool(fn.params) and fn.params[0] in ("self", "cls")


def bind(call: cst.Call, fn: Scope, name: str, bound: bool, use_default: bool = False) -> Optional[cst.BaseExpression]:
    """What `call` passes for parameter `name` of `fn`. `bound`: the call supplies the first
    parameter itself (`obj.method(x)`, `Class(x)` for `__init__`). With `use_default`, an
    omitted argument gives the parameter's default."""
    # `obj(x)` calls `obj.__call__(x)`; `step(loss)` with a method handed over as `self._step`
    # calls it bound
    bound = bound or fn.name == "__call__" or (is_method(fn) and isinstance(call.func, cst.Name))
    idx = fn.params.index(name)
    found = arg(call, idx - 1 if bound and is_method(fn) else idx, name)
    if found is None and use_default and not any(a.star for a in call.args):
        return fn.param_nodes[idx].default
    return found


def bind_default(call: cst.Call, fn: Scope, name: str, bound: bool) -> Optional[cst.BaseExpression]:
    """`bind` with the parameter's default for an omitted argument."""
    return bind(call, fn, name, bound, use_default=True)
