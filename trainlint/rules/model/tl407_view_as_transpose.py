"""TL407 view-as-transpose: `x.view(B, C, T)` on a tensor whose shape was read as `B, T, C`
reorders the sizes without moving the elements."""

from __future__ import annotations

from typing import Iterator, List, Optional, Sequence, Tuple

import libcst as cst

from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import Scope
from trainlint.analysis.names import dotted
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
            source = _source_dims(scope, call, tensor, sizes)
            if source is None:
                continue
            anchor, dims = source
            order = _axis_order(dims, sizes)
            if order is None or order == sorted(order):
                continue
            names = [_text(s) for s in sizes]
            fix = f"{tensor.value}.{swap_call(order)}"
            if len(sizes) != len(dims) or any(_is_minus_one(s) for s in sizes):
                fix = f"`{fix}.reshape({', '.join(names)})`"  # (a merge or a -1: reshape after the move)
            else:
                fix = f"`{fix}` (add `.contiguous()` before a later `.view`)"
            yield Finding(
                "TL407",
                mod,
                call,
                f"`{mod.tree.code_for_node(call)}` gives `{tensor.value}` the sizes "
                f"({', '.join(names)}), but its shape was read as ({', '.join(dims)}): a view "
                "or reshape keeps the elements in memory order, so this relabels the axes instead "
                "of moving them and silently mixes values across samples, channels or time steps. "
                f"Use {fix}.",
                related=[(mod, anchor, "the shape is read here")],
            )


def _text(size: cst.BaseExpression) -> str:
    return "-1" if _is_minus_one(size) else dotted(size) or "?"


def _is_minus_one(size: cst.BaseExpression) -> bool:
    return (
        isinstance(size, cst.UnaryOperation)
        and isinstance(size.operator, cst.Minus)
        and isinstance(size.expression, cst.Integer)
        and size.expression.value == "1"
    )


def _reshape(call: cst.Call, qual: Optional[str]) -> Optional[Tuple[cst.Name, List[cst.BaseExpression]]]:
    """(the tensor, its new sizes) of `x.view(a, b, c)`, `x.reshape((a, b, -1))` or
    `torch.reshape(x, (a, b, c))` when every size is a name (`n`, `self.heads`) or one `-1`."""
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
    if not isinstance(tensor, cst.Name) or len(sizes) < 2 or sum(map(_is_minus_one, sizes)) > 1:
        return None
    texts = [dotted(s) for s in sizes if not _is_minus_one(s)]
    if any(t is None for t in texts) or len(set(texts)) != len(texts):
        return None
    return tensor, sizes


# Constructors whose positional arguments are the new tensor's sizes.
_SIZED = frozenset({"torch.zeros", "torch.ones", "torch.empty", "torch.randn", "torch.rand"})


def _source_dims(
    scope: Scope, call: cst.Call, tensor: cst.Name, sizes: Sequence[cst.BaseExpression]
) -> Optional[Tuple[cst.CSTNode, List[str]]]:
    """Where `tensor`'s sizes are written out, and their names in order: the unpack
    `a, b, c = tensor.shape` the reshape's names come from, or the constructor
    `tensor = torch.zeros(a, b, c)`; None unless `tensor` still holds that tensor."""
    named = [s for s in sizes if isinstance(s, cst.Name)]
    first = named[0] if named else None
    defs = SC.reaching(scope, first.value, call) if first is not None else []
    unpack = shape_unpack(defs[0].stmt) if len(defs) == 1 and defs[0].how == "assign" else None
    if unpack is not None and defs[0].index is not None:
        if unpack[0] != tensor.value or not all(isinstance(e.value, cst.Name) for e in unpack[1]):
            return None
        dims = [e.value.value for e in unpack[1] if isinstance(e.value, cst.Name)]
        for s in named:  # every name from this very unpack
            d = SC.reaching(scope, s.value, call)
            if s.value in dims and (len(d) != 1 or d[0].value is not defs[0].value):
                return None
        if not _unchanged(scope, tensor.value, defs[0].value, call):
            return None
        return defs[0].stmt or defs[0].value, dims
    made = SC.reaching(scope, tensor.value, call)
    if len(made) != 1 or made[0].index is not None or not isinstance(made[0].value, cst.Call):
        return None
    ctor = made[0].value
    if scope.module.qualify(ctor.func) not in _SIZED or any(a.star for a in ctor.args):
        return None
    texts = [dotted(a.value) for a in ctor.args if a.keyword is None]
    if len(texts) < 2 or any(t is None for t in texts) or len(set(texts)) != len(texts):
        return None
    if _transposed_in_place(scope, tensor.value):
        return None
    return ctor, [t for t in texts if t is not None]


def _unchanged(scope: Scope, name: str, unpack_value: cst.CSTNode, call: cst.Call) -> bool:
    """`name` holds the same value at the unpack and at the reshape (no transpose between)."""
    then = {id(b) for b in SC.reaching(scope, name, unpack_value)}
    now = {id(b) for b in SC.reaching(scope, name, call)}
    return then == now and not _transposed_in_place(scope, name)


def _axis_order(dims: Sequence[str], sizes: Sequence[cst.BaseExpression]) -> Optional[List[int]]:
    """The source axis behind each place of the reshape, with a `-1` standing for the axes no
    name takes (in their order); None when a size is not one of the source's names, or when
    sizes are missing with no `-1` to absorb them."""
    taken: List[Optional[int]] = []
    for s in sizes:
        if _is_minus_one(s):
            taken.append(None)
            continue
        text = dotted(s)
        if text not in dims:
            return None
        taken.append(dims.index(text))
    rest = [i for i in range(len(dims)) if i not in taken]
    if None not in taken and rest:
        return None
    order: List[int] = []
    for t in taken:
        order += rest if t is None else [t]
    return order


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
