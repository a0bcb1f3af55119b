"""TL205 regression-loss-for-classification: A regression loss is used on class labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, Optional

import libcst as cst

from trainlint.analysis import flow as FL
from trainlint.analysis import scopes as SC
from trainlint.analysis.autograd import input_gradients_only
from trainlint.analysis.facts import Scope
from trainlint.analysis.flow import LossCall
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.loss.common import Once, Related
from trainlint.runtime.judging.common import loss_where
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted
from trainlint.runtime.records import REGRESSION_LOSSES


@dataclass(frozen=True)
class Options:
    """Thresholds of the tracer's verdict on this rule's findings."""

    max_distinct: int = 20


def regression_loss_for_classification(ctx: RuleContext) -> Iterator[Finding]:
    labels = FL.LabelTracer(ctx.project, ctx.resolver)
    once = Once()
    for lc in FL.loss_calls(ctx.module, ctx.resolver):
        if lc.family != FL.REGRESSION or lc.guess or lc.target is None or lc.input is None:
            continue
        if input_gradients_only(lc.scope):
            continue  # an attack's objective over inputs (Jitter's MSE to one-hot), not a training loss
        if not once.first(lc.node):
            continue
        evidence = labels.evidence(lc.target, lc.scope)
        related: Related = []
        why: Optional[str] = None
        if evidence is not None:
            kind = "one-hot class labels" if evidence.kind == "one_hot" else "integer class ids"
            why = f"the target holds {kind}, built by `{evidence.text()}` ({FL.where(evidence.module, evidence.node)})"
            related.append((evidence.module, evidence.node, f"the class labels are built here ({kind})"))
        else:
            cmp = _accuracy_check(lc)
            if cmp is not None:
                why = f"the same outputs are scored as class predictions (`{FL.snippet(lc.module, cmp)}`)"
                related.append((lc.module, cmp, "accuracy is computed on the same outputs"))
        if why is None:
            continue
        if lc.ctor is not None and lc.ctor_module is not None:
            related.append((lc.ctor_module, lc.ctor, f"the `{lc.name}` is built here"))
        yield Finding(
            "TL205",
            lc.module,
            lc.node,
            f"`{lc.name}` is a regression loss, but {why}: regressing on classes treats them as "
            "ordered numbers (class 2 lies 'between' 1 and 3) and gives weak gradients for confident "
            "mistakes. Use `nn.CrossEntropyLoss` on raw logits (one output per class) with the integer "
            "labels.",
            related=related,
        )


_REDUCERS = frozenset({"argmax", "round", "max"})


def _accuracy_check(lc: LossCall) -> Optional[cst.Comparison]:
    """`(out.argmax(1) == y)` in the loss's scope, on the loss input `out` and target `y`."""
    assert lc.input is not None and lc.target is not None
    mod = lc.module
    out = FL.strip_shape(lc.input, mod)
    target = FL.strip_shape(lc.target, mod)
    if isinstance(target, cst.Call) and mod.qualify(target.func) == "torch.nn.functional.one_hot" and target.args:
        target = FL.strip_shape(target.args[0].value, mod)
    if not isinstance(out, cst.Name) or not isinstance(target, cst.Name):
        return None
    for cmp in FL.equality_comparisons(lc.scope):
        if len(cmp.comparisons) != 1:
            continue
        left, right = cmp.left, cmp.comparisons[0].comparator
        if _exclusive(lc.scope, lc.node, cmp):
            continue  # (`if not regression: ... argmax == y` / `else: mse_loss(...)`)
        for a, b in ((left, right), (right, left)):
            if _predicted_from(a, out.value, lc) and _is_name(FL.strip_shape(b, mod), target.value):
                return cmp
    return None


def _arms(scope: Scope, node: cst.CSTNode) -> Dict[str, bool]:
    """The simple `if` tests around a node and whether it runs when each test holds
    (`if not x:` counts as `x` not holding)."""
    out: Dict[str, bool] = {}
    for stmt in SC.enclosing(scope, node):
        if not isinstance(stmt, cst.If) or not isinstance(stmt.body, cst.IndentedBlock):
            continue
        holds = SC.in_statements(scope, stmt.body.body, node)
        test = stmt.test
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, holds = test.expression, not holds
        out[scope.module.tree.code_for_node(test)] = holds
    return out


def _exclusive(scope: Scope, a: cst.CSTNode, b: cst.CSTNode) -> bool:
    """`a` and `b` sit on opposite arms of the same test (two `if x:` / `if not x:` blocks, or
    the body and the `else` of one): they never run together."""
    arms_b = _arms(scope, b)
    return any(text in arms_b and arms_b[text] != holds for text, holds in _arms(scope, a).items())


def _is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _predicted_from(expr: cst.BaseExpression, name: str, lc: LossCall, hops: int = 0) -> bool:
    """`name.argmax(1)`, `name.round().long()`, `torch.argmax(name, 1)`, `name.max(1)[1]`, or a
    variable bound once to one of those."""
    mod = lc.module
    reduced = False
    e = expr
    while True:
        if isinstance(e, cst.Call):
            qual = mod.qualify(e.func)
            if qual in ("torch.argmax", "torch.round", "torch.max") and e.args:
                reduced, e = True, e.args[0].value
                continue
            func = e.func
            if qual is None and isinstance(func, cst.Attribute):
                attr = func.attr.value
                if attr in _REDUCERS:
                    reduced, e = True, func.value
                    continue
                if attr in FL.SHAPE_METHODS or attr in ("long", "int", "squeeze"):
                    e = func.value
                    continue
            return False
        if isinstance(e, cst.Subscript):
            e = e.value
            continue
        if isinstance(e, cst.Attribute) and e.attr.value == "indices":
            e = e.value
            continue
        if isinstance(e, cst.Name):
            if e.value == name:
                return reduced
            bindings = lc.scope.bindings.get(e.value)
            if hops == 0 and not reduced and bindings is not None and len(bindings) == 1 and bindings[0].index is None:
                return _predicted_from(bindings[0].value, name, lc, hops + 1)
            return False
        return False


def verdict_tl205(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, REGRESSION_LOSSES) if r.target]
    if not recs:
        return None
    limit = int(c.opts("TL205").get("max_distinct", 20))
    for r in recs:
        t = r.target
        if t is not None and t.integer and t.distinct is not None and t.distinct <= limit:
            return confirmed(
                observed=f"the regression loss's targets are whole numbers with {t.distinct} distinct "
                f"value(s) in [{fmt(t.min)}, {fmt(t.max)}]: class labels",
                expected="continuous targets",
                **loss_where(c, r),
            )
    r = recs[0]
    t = r.target
    assert t is not None
    what = "take fractional values" if not t.integer else f"take {t.distinct} distinct values"
    return refuted(
        observed=f"the regression loss's targets {what} (range [{fmt(t.min)}, {fmt(t.max)}])",
        **loss_where(c, r),
    )


RULE = Rule(
    code="TL205",
    name="regression-loss-for-classification",
    family="loss",
    severity=WARNING,
    summary="A regression loss is used on class labels.",
    options=Options,
    check=regression_loss_for_classification,
    verdict=verdict_tl205,
    confirmed_by_crash=True,
)
