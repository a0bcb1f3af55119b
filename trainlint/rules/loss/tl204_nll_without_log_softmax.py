"""TL204 nll-without-log-softmax: `NLLLoss` gets values that are not log-probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.flow import LossCall, Op
from trainlint.analysis.names import dotted
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import in_lambda, loss_fix_op, rename_callee, rename_loss
from trainlint.fixes.core import UNSAFE, Locate, make_fix
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loss.common import defects, evaluation_only
from trainlint.runtime.judging.common import loss_where, probabilities
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.judging.evidence import finite


@dataclass(frozen=True)
class Options:
    """Thresholds of the tracer's verdict on this rule's findings."""

    logsumexp_tolerance: float = 0.1


def nll_without_log_softmax(ctx: RuleContext) -> Iterator[Finding]:
    for d in defects(ctx, FL.NLL, (M.LINEAR, M.SOFTMAX)):
        lc, op, phrase = d.lc, d.op, d.phrase
        if op.kind == M.SOFTMAX:
            what = (
                "probabilities, not log-probabilities: the loss becomes -p[target], which is bounded and "
                "barely penalises confident mistakes, so training crawls. Use `log_softmax` instead of "
                "`softmax`, or `nn.CrossEntropyLoss` on the raw logits."
            )
        else:
            phrase = phrase.replace("already returns", "returns")
            what = (
                "raw scores, not log-probabilities: the loss becomes -score[target], which is unbounded below, "
                "so the model can lower it forever by inflating one score. Apply `F.log_softmax(x, dim=1)` "
                "before `NLLLoss`, or use `nn.CrossEntropyLoss` on the raw scores."
            )
        yield Finding(
            "TL204",
            ctx.module,
            d.node,
            f"`{lc.name}` expects log-probabilities, but {phrase}: {what}",
            related=d.related,
            fix_builder=fixes.hook(fix_tl204, ctx, lc, op),
        )
    yield from _nll_beside_cross_entropy(ctx)


def _nll_beside_cross_entropy(ctx: RuleContext) -> Iterator[Finding]:
    """`F.nll_loss(self.network(x), y)` where the network's last operation is out of sight, while
    the training loss of the same class feeds `self.network`'s output to `CrossEntropyLoss`,
    which takes raw scores: the NLL loss gets raw scores too."""
    tracer = FL.tracer_for(ctx.project, ctx.resolver)
    calls = FL.loss_calls(ctx.module, ctx.resolver)
    cross_entropy: Optional[List[Tuple[LossCall, Optional[str]]]] = None  # (what each is fed: asked once, if needed)
    for lc in calls:
        if lc.family != FL.NLL or lc.guess or lc.input is None or lc.scope.cls is None or evaluation_only(lc):
            continue  # (a validation loss only: a wrong metric, as `defects` leaves it)
        if tracer.op(lc.input, lc.scope, lc.receiver) is not None:
            continue  # (what the model ends with is known: judged by `defects`)
        model = _model_called_for(ctx, lc)
        if model is None:
            continue
        if cross_entropy is None:
            cross_entropy = [
                (o, _model_called_for(ctx, o))
                for o in calls
                if o.family == FL.CROSS_ENTROPY and not o.guess and o.input is not None
            ]
        ce = next((o for o, fed in cross_entropy if o.scope.cls is lc.scope.cls and fed == model), None)
        if ce is None:
            continue
        yield Finding(
            "TL204",
            ctx.module,
            lc.node,
            f"`{lc.name}` expects log-probabilities, but it is fed `{model}`'s output, which "
            f"`{ce.name}` ({FL.where(ce.module, ce.node)}) takes as raw scores: the two losses disagree about "
            f"what `{model}` returns. If it returns raw scores, as `{ce.name}` needs, this loss becomes "
            "-score[target], not the negative log-likelihood: apply `F.log_softmax(x, dim=1)` first (or use "
            f"`F.cross_entropy`). If it returns log-probabilities, `{ce.name}` is the one to change.",
            related=[(ce.module, ce.node, f"`{model}`'s output goes to `{ce.name}` here")],
        )


def _model_called_for(ctx: RuleContext, lc: LossCall) -> Optional[str]:
    """`self.network` when the loss input is the result of `self.network(x)`, directly or
    through a name bound once in the function (`output = self.network(data)`)."""
    assert lc.input is not None
    made = FL.producing_calls(ctx.project, FL.strip_shape(lc.input, lc.module), lc.scope)
    names = {dotted(call.func) for call, _ in made}
    name = names.pop() if len(names) == 1 else None
    return name if name is not None and name.startswith("self.") and name.count(".") == 1 else None


def fix_tl204(locate: Locate, ctx: "RuleContext", lc: LossCall, op: Op) -> Optional[Fix]:
    """`softmax` -> `log_softmax` before `NLLLoss`; on raw scores, `NLLLoss` -> `CrossEntropyLoss`."""
    if op.kind == "softmax":
        found = loss_fix_op(lc, op, ctx.project)
        if found is None:
            return None
        module, node = found
        log_call = _to_log_softmax(module, node)
        if log_call is None:
            return None
        return make_fix(
            module,
            {node: log_call},
            UNSAFE,
            "Use `log_softmax` instead of `softmax` before the NLL loss (model outputs change)",
        )
    renamed = rename_loss(ctx, lc, {"NLLLoss": "CrossEntropyLoss", "nll_loss": "cross_entropy"})
    if renamed is None:
        return None
    module, changes, old, new = renamed
    return make_fix(module, changes, UNSAFE, f"Use `{new}` instead of `{old}` on the raw scores")


def _to_log_softmax(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.CSTNode]:
    if not isinstance(node, cst.Call) or in_lambda(module, node):
        return None
    qual = module.qualify(node.func)
    if qual in ("torch.nn.functional.softmax", "torch.softmax") or (
        qual and qual.endswith((".Softmax",)) and qual.startswith("torch.nn.")
    ):
        last = qual.rsplit(".", 1)[-1]
        new_func = rename_callee(module, node.func, last, "LogSoftmax" if last == "Softmax" else "log_softmax")
        return node.with_changes(func=new_func) if new_func is not None else None
    if qual is None and isinstance(node.func, cst.Attribute) and node.func.attr.value == "softmax":
        return node.with_changes(func=node.func.with_changes(attr=cst.Name("log_softmax")))
    return None


def verdict_tl204(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("nll_loss",)) if r.rows]
    if not recs:
        return None
    tol = float(c.opts("TL204").get("logsumexp_tolerance", 0.1))
    for r in recs:
        rows = r.rows
        assert rows is not None  # (filtered above)
        worst = max(abs(num(rows.lse_min, 0.0)), abs(num(rows.lse_max, 0.0)))
        if worst > tol or not finite(rows.lse_max):
            kind = "softmax probabilities" if probabilities(c, r) == "probabilities" else "not log-probabilities"
            return confirmed(
                observed=f"logsumexp of the NLL input rows is in [{fmt(rows.lse_min)}, {fmt(rows.lse_max)}]: {kind}",
                expected="logsumexp of each row = 0 (log_softmax output)",
                **loss_where(c, r),
            )
    r = recs[0]
    rows = r.rows
    assert rows is not None
    return refuted(
        observed=f"the NLL input rows are log-probabilities (logsumexp in [{fmt(rows.lse_min)}, {fmt(rows.lse_max)}])",
        **loss_where(c, r),
    )


RULE = Rule(
    code="TL204",
    name="nll-without-log-softmax",
    family="loss",
    severity=ERROR,
    summary="`NLLLoss` gets values that are not log-probabilities.",
    fixable=True,
    options=Options,
    check=nll_without_log_softmax,
    fixes=(fix_tl204,),
    verdict=verdict_tl204,
)
