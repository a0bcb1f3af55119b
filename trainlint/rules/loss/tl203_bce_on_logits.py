"""TL203 bce-on-logits: `BCELoss` gets raw logits instead of probabilities."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.facts import Scope
from trainlint.analysis.flow import LossCall
from trainlint.analysis.scopes import Def, scope_index, visible
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import rename_loss
from trainlint.fixes.core import UNSAFE, Locate, make_fix
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loss.common import Once, describe, traced_losses
from trainlint.runtime.judging.common import loss_where
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.judging.evidence import finite


def bce_on_logits(ctx: RuleContext) -> Iterator[Finding]:
    # A loss class that squashes its own input is reported inside, where the fix goes, and
    # not again where a caller feeds it a linear layer's output.
    squashing = _squashing_losses_of_project(ctx)
    inside = [(lc, squashed) for lc, squashed in squashing if lc.module is ctx.module]
    yield from _on_logits(ctx, {id(lc.ctor) for lc, _ in squashing if lc.ctor is not None})
    yield from _on_differences(ctx)
    for lc, squashed in inside:
        name = lc.input.value if isinstance(lc.input, cst.Name) else "input"
        yield Finding(
            "TL203",
            lc.module,
            lc.node,
            f"`{lc.name}` expects probabilities in [0, 1], but `{name}` holds logits: this function also takes "
            f"`{FL.snippet(lc.module, squashed)}` of the same value. Torch raises on values outside [0, 1], "
            "or the loss is meaningless. Use `nn.BCEWithLogitsLoss` (or "
            f"`F.binary_cross_entropy_with_logits`) on `{name}`.",
            related=[(lc.module, squashed, f"the sigmoid of the same `{name}`")],
            fix_builder=fixes.hook(fix_tl203, ctx, lc),
        )


def _squashing_losses(ctx: RuleContext) -> List[Tuple[LossCall, cst.Call]]:
    """`loss = bce(input, target)` in a function that also takes `torch.sigmoid(input)` of the
    very same value (a focal weight, a prediction): the function itself treats it as logits."""
    out: List[Tuple[LossCall, cst.Call]] = []
    tracer = FL.tracer_for(ctx.project, ctx.resolver)
    for lc in FL.loss_calls(ctx.module, ctx.resolver):
        if lc.family == FL.BCE and not lc.guess and isinstance(lc.input, cst.Name) and _loss_code(lc.scope):
            squashed = _sigmoid_of_same(lc.input, lc.scope, lc.node)
            if squashed is None:
                continue
            op = tracer.op(lc.input, lc.scope)
            if op is not None and op.kind in (M.SIGMOID, M.SOFTMAX):
                continue  # probabilities after all: the other sigmoid is the bug (a metric), not the loss
            out.append((lc, squashed))
    return out


def _loss_code(scope: Scope) -> bool:
    """A loss written by hand: a method of a class named like a loss, or a function named so.
    (Elsewhere a sigmoid beside the loss may be a metric's, wrong itself: `sigmoid(probs) > 0.5`.)"""
    return any("loss" in part.lower() for part in scope.name.split(".")[-2:])


def _squashing_losses_of_project(ctx: RuleContext) -> List[Tuple[LossCall, cst.Call]]:
    def build() -> List[Tuple[LossCall, cst.Call]]:
        return [x for m in ctx.project.modules for x in _squashing_losses(replace(ctx, module=m))]

    return ctx.project.once(_squashing_losses_of_project, build)


def _sigmoid_of_same(value: cst.Name, scope: Scope, at: cst.CSTNode) -> Optional[cst.Call]:
    """A `torch.sigmoid(x)` / `x.sigmoid()` call of the scope on the value `x` holds at `at`."""
    idx = scope_index(scope)
    here = idx.reaching(value.value, at)
    for call in scope.calls:
        qual = scope.module.qualify(call.func)
        if (
            qual is not None
            and FL.FUNC_OPS.get(qual) == M.SIGMOID
            and call.args
            and not call.args[0].keyword
            and not call.args[0].star
        ):
            arg = call.args[0].value
        elif qual is None and isinstance(call.func, cst.Attribute) and call.func.attr.value == "sigmoid":
            arg = call.func.value
        else:
            continue
        if isinstance(arg, cst.Name) and arg.value == value.value and _same(idx.reaching(arg.value, call), here):
            return call
    return None


def _same(a: Tuple[List[Def], bool], b: Tuple[List[Def], bool]) -> bool:
    return a[1] == b[1] and len(a[0]) == len(b[0]) and all(x is y for x, y in zip(a[0], b[0]))


def _on_differences(ctx: RuleContext) -> Iterator[Finding]:
    """`BCELoss()(d_real - d_fake.mean(), ones)`: a difference of two scores (a relativistic
    GAN's discriminator output) is no probability, even when each score went through a
    sigmoid; the relativistic loss is meant for the raw scores, with the logits form."""
    for lc in FL.loss_calls(ctx.module, ctx.resolver):
        if lc.family != FL.BCE or lc.guess or lc.input is None:
            continue
        diff = _difference(lc.input, lc.scope)
        if diff is None:
            continue
        text = FL.snippet(lc.module, diff)
        yield Finding(
            "TL203",
            lc.module,
            lc.node,
            f"`{lc.name}` expects probabilities in [0, 1], but it is fed `{text}`, a difference of two "
            "values, which lies anywhere in [-1, 1] even when both are probabilities: torch raises on the "
            "negative values, or the loss is meaningless. For a relativistic GAN loss, compare the "
            "discriminator's raw scores (no sigmoid) and use `nn.BCEWithLogitsLoss`.",
        )


def _difference(expr: cst.BaseExpression, scope: Scope) -> Optional[cst.BinaryOperation]:
    """`a - b` of two computed values (not `1 - p`), written inline or bound, in the same
    function, by the one assignment that reaches the loss call."""
    if isinstance(expr, cst.Name):
        owner, bindings = visible(scope, expr)
        if owner is not scope or len(bindings) != 1 or bindings[0].index is not None or bindings[0].how != "assign":
            return None
        expr = bindings[0].value
    if not (isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Subtract)):
        return None
    literal = (cst.Integer, cst.Float)
    if isinstance(expr.left, literal) or isinstance(expr.right, literal):
        return None
    return expr


def _on_logits(ctx: RuleContext, reported_inside: Set[int]) -> Iterator[Finding]:
    once = Once()
    for lc, op in traced_losses(ctx, FL.BCE):
        if op.kind != M.LINEAR or id(lc.ctor) in reported_inside:
            continue
        if not once.first(lc.node, lc, op):
            continue
        phrase, related, _ = describe(lc, op)
        phrase = phrase.replace("already returns", "returns")
        yield Finding(
            "TL203",
            lc.module,
            lc.node,
            f"`{lc.name}` expects probabilities in [0, 1], but {phrase}, raw scores with no sigmoid: "
            "torch raises on values outside [0, 1], or the loss is meaningless and unstable. Use "
            "`nn.BCEWithLogitsLoss` (or `F.binary_cross_entropy_with_logits`) on the raw scores.",
            related=related,
            fix_builder=fixes.hook(fix_tl203, ctx, lc),
        )


def fix_tl203(locate: Locate, ctx: "RuleContext", lc: LossCall) -> Optional[Fix]:
    """`nn.BCELoss` -> `nn.BCEWithLogitsLoss` (`F.binary_cross_entropy` -> `..._with_logits`)."""
    renamed = rename_loss(
        ctx, lc, {"BCELoss": "BCEWithLogitsLoss", "binary_cross_entropy": "binary_cross_entropy_with_logits"}
    )
    if renamed is None:
        return None
    module, changes, old, new = renamed
    return make_fix(module, changes, UNSAFE, f"Use `{new}` instead of `{old}` on the raw scores")


def verdict_tl203(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("binary_cross_entropy",)) if finite(r.input.min)]
    if not recs:
        return None
    outside = [r for r in recs if num(r.input.min) < 0 or num(r.input.max) > 1]
    if outside:
        r = outside[0]
        return confirmed(
            observed=f"the BCELoss input leaves [0, 1] (min {fmt(r.input.min)}, max "
            f"{fmt(r.input.max)}): logits, not probabilities",
            expected="probabilities in [0, 1]",
            **loss_where(c, r),
        )
    r = recs[0]
    return refuted(
        observed=f"every BCELoss input lies in [0, 1] (min {fmt(r.input.min)}, max {fmt(r.input.max)})",
        **loss_where(c, r),
    )


RULE = Rule(
    code="TL203",
    name="bce-on-logits",
    family="loss",
    severity=ERROR,
    summary="`BCELoss` gets raw logits instead of probabilities.",
    fixable=True,
    check=bce_on_logits,
    fixes=(fix_tl203,),
    verdict=verdict_tl203,
    confirmed_by_crash=True,
)
