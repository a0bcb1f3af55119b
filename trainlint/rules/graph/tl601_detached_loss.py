"""TL601 detached-loss: `backward()` is called on a value cut from the autograd graph."""

from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import kinds as K
from trainlint.analysis import scopes as SC
from trainlint.analysis.autograd import CUT, LIVE, NO_GRAD_CUT, GraphEval, GState, backward_calls
from trainlint.analysis.facts import Scope
from trainlint.analysis.gradmode import no_grad_nodes
from trainlint.analysis.names import dotted
from trainlint.analysis.purpose import not_training
from trainlint.analysis.symbols import is_none, named_as_model, return_values
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.graph.common import compact_code, evaluator_for
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted
from trainlint.runtime.records import BackwardCall


def detached_loss(ctx: RuleContext) -> Iterator[Finding]:
    ev = evaluator_for(ctx)
    for b in backward_calls(ctx.module):
        if not_training(b.scope):
            continue
        st = ev.state(b.arg, b.scope)
        if st.kind != CUT or st.node is None or st.module is None or st.how == NO_GRAD_CUT:
            continue  # (a loss computed with gradients off is TL108's)
        what = compact_code(ctx.module, b.arg)
        yield Finding(
            "TL601",
            ctx.module,
            b.node,
            f"`backward()` runs on `{what}`, which was cut from the autograd graph by {st.how}: "
            "no gradient reaches the model's parameters (or autograd raises because nothing requires "
            "grad), so the optimizer never changes them. Compute the loss directly from the model's "
            "output tensor and call `backward()` on that; keep `.item()`/`.detach()` for logging only.",
            related=[(st.module, st.node, "the value leaves the graph here")],
        )
    yield from _detached_terms(ctx)
    yield from _loss_returned_without_grad(ctx)
    yield from _model_output_copied_into_a_leaf(ctx)


def _model_output_copied_into_a_leaf(ctx: RuleContext) -> Iterator[Finding]:
    """`self.logits = out.new_tensor(out, requires_grad=True)` (or `torch.tensor(out,
    requires_grad=True)`) where `out` is a model's output: the copy is a new leaf that takes
    gradients itself, and none of them reach the model that made `out`."""
    off = no_grad_nodes(ctx.module)
    for scope in ctx.module.scopes:
        if not_training(scope):
            continue
        for call in scope.calls:
            source = _copied_with_grad(call, scope)
            if source is None or id(call) in off:
                continue
            found = _model_output_of(ctx, source, scope)
            if found is None:
                continue
            model, made = found
            what = compact_code(ctx.module, source)
            yield Finding(
                "TL601",
                ctx.module,
                call,
                f"`{compact_code(ctx.module, call)}` copies `{what}`, the output of `{model}`, into a new leaf tensor: "
                "`requires_grad=True` lets the copy collect gradients, but it is cut from the graph that made it, "
                f"so a loss computed from the copy sends no gradient to `{model}`. Use `{what}` itself (or "
                f"`{what}.clone()`, which stays on the graph).",
                related=[(ctx.module, made, f"`{what}` comes out of `{model}` here, on the graph")],
            )


def _copied_with_grad(call: cst.Call, scope: Scope) -> Optional[cst.BaseExpression]:
    """The tensor that `torch.tensor(x, requires_grad=True)` / `y.new_tensor(x,
    requires_grad=True)` copies."""
    if not call.args or call.args[0].keyword is not None:
        return None
    if not D.is_true(C.arg(call, None, "requires_grad", skip_star=True)):
        return None
    func = call.func
    if scope.module.qualify(func) == "torch.tensor" or (
        isinstance(func, cst.Attribute) and func.attr.value == "new_tensor"
    ):
        return call.args[0].value
    return None


def _model_output_of(ctx: RuleContext, expr: cst.BaseExpression, scope: Scope) -> Optional[Tuple[str, cst.Call]]:
    """The model whose call `expr` is, directly or by the one assignment reaching it, and that
    call."""
    if isinstance(expr, cst.Name):
        defs, before = SC.scope_index(scope).reaching(expr.value, expr)
        if before or len(defs) != 1 or defs[0].how != "assign" or defs[0].value is None:
            return None
        expr = defs[0].value
    if not isinstance(expr, cst.Call) or not isinstance(expr.func, (cst.Name, cst.Attribute)):
        return None
    v = ctx.resolver.value_of(expr.func, scope)
    if v is None:
        # `self.student = student_model` in `__init__`, with no caller in sight: named as a model
        key = dotted(expr.func)
        params = scope.cls.init_params_of(key) if key is not None and scope.cls is not None else None
        model = bool(params) and all(named_as_model(p) for p in params or [])
    else:
        model = v.kind == K.MODEL
    return (compact_code(ctx.module, expr.func), expr) if model else None


def _loss_returned_without_grad(ctx: RuleContext) -> Iterator[Finding]:
    """`forward`/`__call__` of a loss class returning a value computed under `no_grad`: whoever
    adds that loss gets no gradient from it."""
    off = no_grad_nodes(ctx.module)
    if not off:
        return
    for scope in ctx.module.scopes:
        parts = scope.name.split(".")
        if len(parts) < 2 or parts[-1] not in ("forward", "__call__") or not parts[-2].lower().endswith("loss"):
            continue
        if not_training(scope):
            continue
        for ret in walk(scope.node):
            if not isinstance(ret, cst.Return) or ret.value is None or id(ret) not in off:
                continue
            if isinstance(ret.value, (cst.BaseNumber, cst.BaseString)) or is_none(ret.value):
                continue
            if SC.order(scope, ret) is None:
                continue  # (a nested function's return)
            yield Finding(
                "TL601",
                ctx.module,
                ret,
                f"`{parts[-2]}.{parts[-1]}` returns a loss computed under `torch.no_grad()`: the value carries no "
                "autograd graph, so this loss sends no gradient to the model it should train (and `backward()` on it "
                "alone raises). Compute the loss outside `no_grad`; to keep a part frozen, call "
                "`requires_grad_(False)` on its parameters instead.",
            )
            break


def _detached_terms(ctx: RuleContext) -> Iterator[Finding]:
    """A term cut from the graph (`.detach()`, `.item()`) added into an otherwise live loss:
    the loss value includes it, its gradient does not."""
    ev = evaluator_for(ctx)
    seen: Set[int] = set()
    for b in backward_calls(ctx.module):
        if not_training(b.scope) or ev.state(b.arg, b.scope).kind != LIVE:
            continue  # a whole cut loss is the finding above
        for total, scope in _sums_behind(ev, b.arg, b.scope):
            terms = [t for t in _cut_terms(ev, total, scope) if id(t) not in seen]
            if not terms:
                continue
            seen.update(id(t) for t in terms)
            texts = ", ".join(f"`{compact_code(scope.module, t)}`" for t in terms)
            related = []
            hows: List[str] = []
            for t in terms:
                where = _cut_point(ev, t, scope)
                if where.how and where.how not in hows:
                    hows.append(where.how)
                at_module, at = (where.module, where.node) if where.module and where.node else (scope.module, t)
                related.append((at_module, at, f"`{compact_code(at_module, at)}` leaves the graph here"))
            # A loss summed in another function (a model's `forward` returning it) is reported
            # where it is summed: that is the code to change.
            elsewhere = scope is not b.scope
            if elsewhere:
                related.append((ctx.module, b.node, "the backward this loss reaches"))
            yield Finding(
                "TL601",
                scope.module if elsewhere else ctx.module,
                total if elsewhere else b.node,
                f"the loss adds {texts}, cut from the autograd graph by {' and '.join(hows) or '`.detach()`/`.item()`'}: "
                f"{'it changes' if len(terms) == 1 else 'they change'} the loss value but send{'s' if len(terms) == 1 else ''} "
                "no gradient, so whatever those terms should train does not learn from them. "
                + (
                    "Combine the tensors with `torch.stack(...)` instead of copying them into a new tensor"
                    if any("a copy of the values" in h for h in hows)
                    else "Remove the cut"
                )
                + ", or leave the term out of the loss if it is only for logging.",
                related=related,
            )


def _cut_terms(ev: GraphEval, total: cst.BinaryOperation, scope: Scope) -> List[cst.BaseExpression]:
    """The terms of a live sum that are cut from the graph, unless the sum also holds the live
    value they were cut from (`y + x - x.detach()`: a straight-through estimator, on purpose)."""
    terms = _terms(total)
    state = {id(t): ev.state(t, scope) for t in terms}
    cut = [t for t in terms if state[id(t)].kind == CUT or _cut_coefficient_product(ev, t, scope)]
    live = [t for t in terms if t not in cut and state[id(t)].kind == LIVE]
    if not live:
        return []
    out = []
    for term in cut:
        where = state[id(term)]
        node = where.node
        # (the value a method cut from: `x` of `x.detach()`; a copy `torch.tensor(xs)` has none)
        method_cut = (
            isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not where.how.startswith("`torch")
        )
        source = node.func.value if method_cut else None  # type: ignore[union-attr]
        source_text = (
            compact_code(where.module, source)
            if source is not None and where.module is not None
            else compact_code(scope.module, term)
        )
        if not any(source_text in compact_code(scope.module, t) for t in live):
            out.append(term)
    return out


def _cut_point(ev: GraphEval, term: cst.BaseExpression, scope: Scope) -> GState:
    """Where a cut term leaves the graph (through `x.detach() * beta` to the `.detach()`)."""
    st = ev.state(term, scope)
    defined = _defined_as(term, scope)
    if st.kind != CUT and isinstance(defined, cst.BinaryOperation):
        for side in (defined.left, defined.right):
            inner = ev.state(side, scope)
            if inner.kind == CUT:
                return inner
    return st


def _sums_behind(
    ev: GraphEval, expr: cst.BaseExpression, scope: Scope, hops: int = 0
) -> Iterator[Tuple[cst.BinaryOperation, Scope]]:
    """The `a + b - c` sums a backward's argument may hold, through a few local names and
    the function or model whose returned tuple it was unpacked from (`out, loss = net(x)`)."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
        yield expr, scope
    elif isinstance(expr, cst.Name) and hops < 3:
        owner, found = SC.visible(scope, expr)
        for b in found:
            if owner is None or b.how != "assign":
                continue
            if b.index is None:
                yield from _sums_behind(ev, b.value, owner, hops + 1)
            elif isinstance(b.value, cst.Call):
                for callee in _callees(ev, b.value, owner):
                    for r in return_values(callee):
                        if isinstance(r, cst.Tuple) and b.index < len(r.elements):
                            yield from _sums_behind(ev, r.elements[b.index].value, callee, hops + 1)


def _callees(ev: GraphEval, call: cst.Call, scope: Scope) -> List[Scope]:
    """The project functions a call may run: a function or method, or a model's `forward`
    (each model's, when it is chosen at run time)."""
    found = ev.project.resolve_callee(call.func, scope)
    if isinstance(found, Scope):
        return [found]
    v = ev.resolver.value_of(call.func, scope)
    if v is None or v.kind != K.MODEL:
        return []
    forwards = [ev.project.method_of(a.cls, "forward") for a in (v.alts or (v,)) if a.cls is not None]
    return [f for f in forwards if f is not None]


def _defined_as(expr: cst.BaseExpression, scope: Scope) -> cst.BaseExpression:
    """The one expression a local name is bound to (`at_loss = crit(a, b).detach() * beta`)."""
    if isinstance(expr, cst.Name):
        owner, found = SC.visible(scope, expr)
        if owner is scope and len(found) == 1 and found[0].how == "assign" and found[0].index is None:
            return found[0].value
    return expr


def _terms(expr: cst.BaseExpression) -> List[cst.BaseExpression]:
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
        return _terms(expr.left) + _terms(expr.right)
    return [expr]


def _cut_coefficient_product(ev: GraphEval, term: cst.BaseExpression, scope: Scope) -> bool:
    """`aux.detach() * beta`: a cut factor scaled by a plain coefficient (a name or a number)."""
    term = _defined_as(term, scope)
    if not (isinstance(term, cst.BinaryOperation) and isinstance(term.operator, (cst.Multiply, cst.Divide))):
        return False
    sides = [term.left, term.right]
    cut = [x for x in sides if isinstance(x, (cst.Call, cst.Name)) and ev.state(x, scope).kind == CUT]
    plain = [x for x in sides if x not in cut and isinstance(x, (cst.Name, cst.Attribute, cst.Integer, cst.Float))]
    return len(cut) == 1 and len(plain) == 1


def verdict_tl601(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    backwards = c.prefer(d, c.ev.events_of(BackwardCall), lambda e: e.site)
    if not backwards:
        return None
    cut = [e for e in backwards if not e.grad_fn]
    if cut:
        e = cut[0]
        leaf = " (a fresh leaf tensor)" if e.is_leaf and e.requires_grad else ""
        return confirmed(
            observed=f"the tensor passed to `backward()` had no grad_fn{leaf}, so no gradient can reach "
            "the model's parameters",
            expected="a loss computed from the model's output",
            where=c.where(e.site),
        )
    reached = [s for s in c.ev.steps if any(p.received for p in s.params)]
    if c.ev.steps and not reached:
        return confirmed(
            observed="backward ran on a tensor with a graph, but no parameter of the optimizer received a gradient",
            expected="gradients for the trained parameters",
        )
    s = reached[0] if reached else None
    extra = f"; {sum(1 for p in s.params if p.received)} parameter(s) received gradients" if s else ""
    return refuted(observed=f"the loss passed to `backward()` had a grad_fn{extra}", where=c.where(backwards[0].site))


RULE = Rule(
    code="TL601",
    name="detached-loss",
    family="graph",
    severity=ERROR,
    summary="`backward()` is called on a value cut from the autograd graph.",
    check=detached_loss,
    verdict=verdict_tl601,
    confirmed_by_crash=True,
)
