"""TL607 data-write-before-backward: a `.data` write to the model's parameters (or to its
output) between the forward pass and `backward()`, which autograd cannot see."""

from __future__ import annotations

from typing import Callable, Iterator, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import loops as L
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import Scope
from trainlint.analysis.walk import walk
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext

Code = Callable[[cst.CSTNode], str]

# Methods that hand a module's parameters to a `for` loop.
_PARAMETER_ITERATORS = ("parameters", "named_parameters")


def data_write_before_backward(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    reported: Set[int] = set()
    for loop in ctx.loops.loops_of(mod):
        scope = loop.scope
        own = [e for e in loop.events if not e.via and e.scope is scope]
        forwards = [e for e in own if e.kind == L.FORWARD and not e.generates]
        backwards = [e for e in own if e.kind == L.BACKWARD]
        # Each forward pass with the backward passes that may follow it in the same iteration.
        windows = [
            (f, [b for b in backwards if SC.follows(scope, f.node, b.node) and not b.exclusive_with(f)])
            for f in forwards
        ]
        if not any(after for _, after in windows):
            continue  # no forward followed by a backward: no window to write into
        for write, base in _data_writes(loop.node):
            if id(write) in reported:
                continue
            for f, after in windows:
                if not after or not SC.follows(scope, f.node, write):
                    continue
                if any(not SC.follows(scope, write, b.node) for b in after):
                    continue  # a backward already ran on this forward's graph (WGAN clips after the critic's step)
                model = mod.tree.code_for_node(f.callee)
                what = _written(base, model, f.node, scope, write, mod.tree.code_for_node)
                if what is None:
                    continue
                reported.add(id(write))
                text = mod.tree.code_for_node(write).strip().splitlines()[0]
                backward = mod.tree.code_for_node(after[0].node)
                yield Finding(
                    "TL607",
                    mod,
                    write,
                    f"`{text}` writes {what} after the forward pass `{mod.tree.code_for_node(f.node)}` "
                    f"and before `{backward}`: autograd does not see writes through `.data`, so "
                    + (_OUTPUT_WHY if what.startswith("the output") else _PARAMETER_WHY),
                    related=[(mod, f.node, "the forward pass"), (mod, after[0].node, "the backward pass")],
                )
                break


_PARAMETER_WHY = (
    "the backward pass multiplies by the changed weights where it saved the old ones, and the "
    "gradients reaching the layers below no longer match the loss that was computed (silently: "
    "`.data` also hides the error autograd raises for such a write). Move it out of that window, "
    "after `optimizer.step()` as weight clipping and EMA updates do, or before the forward pass, "
    "and write `with torch.no_grad(): p.clamp_(...)` rather than going through `.data`."
)
_OUTPUT_WHY = (
    "the loss is computed from the written values while the gradient flows back as if the model "
    "had output the old ones: the entries you overwrote still get a gradient. Use an operation "
    "autograd follows instead (`out = out.masked_fill(mask, 0.0)`, `out = out.clamp(...)`)."
)


def _data_writes(loop: cst.CSTNode) -> Iterator[Tuple[cst.CSTNode, cst.BaseExpression]]:
    """(the statement or call, the tensor written) for each write through `.data` in a loop:
    `t.data = ...`, `t.data[i] = ...`, `t.data += ...`, `t.data.clamp_(...)`."""
    for node in walk(loop):
        if isinstance(node, cst.Assign):
            for t in node.targets:
                base = _data_base(t.target)
                if base is not None:
                    yield node, base
        elif isinstance(node, cst.AugAssign):
            base = _data_base(node.target)
            if base is not None:
                yield node, base
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            name = node.func.attr.value
            if name.endswith("_") and not name.startswith("_"):
                base = _data_base(node.func.value)
                if base is not None:
                    yield node, base


def _data_base(expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """`t` for `t.data` and `t.data[...]`."""
    if isinstance(expr, cst.Subscript):
        expr = expr.value
    if isinstance(expr, cst.Attribute) and expr.attr.value == "data":
        return expr.value
    return None


def _written(
    base: cst.BaseExpression,
    model: str,
    forward: cst.CSTNode,
    scope: Scope,
    write: cst.CSTNode,
    code: Code,
) -> Optional[str]:
    """What the write reaches when it is the forwarded model's parameters or output."""
    text = code(base)
    if text.startswith(model + ".") and "(" not in text:
        return f"the parameter `{text}` of `{model}`"
    if not isinstance(base, cst.Name):
        return None
    defs = SC.reaching(scope, base.value, write)
    if len(defs) != 1:
        return None
    d = defs[0]
    if d.how == "for" and _iterates_parameters(d.value, model, code):
        return f"the parameters of `{model}`"
    if d.how == "assign" and d.value is forward and d.index is None:
        return f"the output `{base.value}` of `{model}`"
    return None


def _iterates_parameters(expr: cst.BaseExpression, model: str, code: Code) -> bool:
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in _PARAMETER_ITERATORS
        and code(expr.func.value) == model
    )


RULE = Rule(
    code="TL607",
    name="data-write-before-backward",
    family="graph",
    severity=WARNING,
    summary="A `.data` write to the model's parameters or output between the forward pass and `backward()`.",
    check=data_write_before_backward,
    no_runtime_check="the gradient is wrong by an amount a few steps do not show",
)
