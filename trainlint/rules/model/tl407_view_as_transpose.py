"""TL407 view-as-transpose: `x.view(B, C, T)` on a tensor whose shape was read as `B, T, C`
reorders the sizes without moving the elements."""

from __future__ import annotations

from typing import Iterator, List, Optional, Sequence, Tuple

import libcst as cst

from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import Binding, Scope
from trainlint.analysis.shapes import RESHAPES, shape_unpack, swap_call
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed


def view_as_transpose(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            target = _reshape(call, mod.qualify(call.func))
            if target is None:
                continue
            tensor, sizes = target
            found = _permuted_unpack(scope, call, tensor, sizes)
            if found is None:
                continue
            unpack, order = found
            names = [s.value for s in sizes]
            read = [names[order.index(i)] for i in range(len(order))]
            yield Finding(
                "TL407",
                mod,
                call,
                f"`{mod.tree.code_for_node(call)}` gives `{tensor.value}` the sizes "
                f"({', '.join(names)}), but its shape was read as ({', '.join(read)}): a view "
                "or reshape keeps the elements in memory order, so this relabels the axes instead "
                "of swapping them and silently mixes values across samples, channels or time steps. "
                f"Use `{tensor.value}.{swap_call(order)}` (add `.contiguous()` before a later `.view`).",
                related=[(mod, unpack.stmt or unpack.value, "the shape is read here")],
            )


def _reshape(call: cst.Call, qual: Optional[str]) -> Optional[Tuple[cst.Name, List[cst.Name]]]:
    """(the tensor, its new sizes) of `x.view(a, b, c)`, `x.reshape((a, b, c))` or
    `torch.reshape(x, (a, b, c))` when every size is a plain name."""
    args = list(call.args)
    if any(a.star or a.keyword is not None for a in args):
        return None
    func = call.func
    if qual in ("torch.reshape",) and len(args) == 2:
        tensor: cst.BaseExpression = args[0].value
        sizes = [args[1].value]
    elif isinstance(func, cst.Attribute) and func.attr.value in RESHAPES:
        tensor, sizes = func.value, [a.value for a in args]
    else:
        return None
    if len(sizes) == 1 and isinstance(sizes[0], (cst.Tuple, cst.List)):
        sizes = [e.value for e in sizes[0].elements if not isinstance(e, cst.StarredElement)]
    if not isinstance(tensor, cst.Name) or len(sizes) < 2:
        return None
    if not all(isinstance(s, cst.Name) for s in sizes):
        return None
    names = [s for s in sizes if isinstance(s, cst.Name)]
    return (tensor, names) if len({n.value for n in names}) == len(names) else None


def _permuted_unpack(
    scope: Scope, call: cst.Call, tensor: cst.Name, sizes: Sequence[cst.Name]
) -> Optional[Tuple[Binding, List[int]]]:
    """The unpack `a, b, c = tensor.shape` every size comes from, and the new order of its
    axes, when the sizes are all of its names in another order and `tensor` is still the
    tensor whose shape was read."""
    unpack: Optional[Binding] = None
    order: List[int] = []
    for size in sizes:
        defs = SC.reaching(scope, size.value, call)
        if len(defs) != 1 or defs[0].index is None or defs[0].how != "assign":
            return None
        if unpack is not None and defs[0].value is not unpack.value:
            return None
        unpack = defs[0]
        order.append(defs[0].index)
    if unpack is None or order == sorted(order) or sorted(order) != list(range(_arity(unpack, tensor.value))):
        return None
    # `tensor` must hold the same value at the unpack and at the reshape (no transpose between).
    then = {id(b) for b in SC.reaching(scope, tensor.value, unpack.value)}
    now = {id(b) for b in SC.reaching(scope, tensor.value, call)}
    if then != now or _transposed_in_place(scope, tensor.value):
        return None
    return unpack, order


def _arity(b: Binding, tensor: str) -> int:
    """How many names `b`'s statement unpacks `tensor`'s shape into (-1: not such an unpack)."""
    unpack = shape_unpack(b.stmt)
    if unpack is None or unpack[0] != tensor or not all(isinstance(e.value, cst.Name) for e in unpack[1]):
        return -1
    return len(unpack[1])


def _transposed_in_place(scope: Scope, name: str) -> bool:
    for call in scope.calls:
        f = call.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == name:
            if f.attr.value in ("transpose_", "t_", "swapaxes_", "swapdims_", "resize_", "set_"):
                return True
    return False


def verdict_tl407(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    """Confirmed when the traced training pass ran the reshape and its output reordered the
    input's sizes (TL920's record at this line). Sizes that happen to be equal at run time, or a
    reshape outside the model's first training pass, leave it unverified."""
    for v in c.ev.views:
        if c.at(d, v.site):
            return confirmed(
                observed=f"`.{v.fn}` turned a tensor of shape {tuple(v.input_shape)} into {tuple(v.output_shape)}",
                expected="a transpose or permute when axes change places",
                where=c.where(v.site),
                runtime_finding="TL920",
            )
    return None


RULE = Rule(
    code="TL407",
    name="view-as-transpose",
    family="model",
    severity=ERROR,
    summary="`view`/`reshape` used where a transpose was meant: the axes are relabelled, not swapped.",
    check=view_as_transpose,
    verdict=verdict_tl407,
)
