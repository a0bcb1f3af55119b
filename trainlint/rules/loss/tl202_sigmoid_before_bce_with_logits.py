"""TL202 sigmoid-before-bce-with-logits: Sigmoid outputs are fed to a BCE-with-logits loss that applies sigmoid itself."""

from __future__ import annotations

from typing import Iterator, Optional

from trainlint import fixes
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.flow import LossCall, Op
from trainlint.analysis.project import Project
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import drop_activation, loss_fix_op, owner_phrase
from trainlint.fixes.core import UNSAFE, Locate, make_fix
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loss.common import defects
from trainlint.runtime.judging.common import loss_where
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.judging.evidence import finite


def sigmoid_before_bce_with_logits(ctx: RuleContext) -> Iterator[Finding]:
    for d in defects(ctx, FL.BCE_LOGITS, (M.SIGMOID,)):
        if d.lc.distribution:
            message = (
                f"`{d.lc.name}` applies sigmoid itself, but {d.phrase}: the distribution's probability is "
                "sigmoid(sigmoid(x)), which stays between 0.5 and 0.73, so it can never become confident and "
                f"the log-probabilities' gradients nearly vanish. Pass raw scores as `logits=` ({d.fix}), or "
                "pass the sigmoid outputs as `probs=`."
            )
        else:
            message = (
                f"`{d.lc.name}` applies sigmoid itself, but {d.phrase}: the loss sees sigmoid(sigmoid(x)), which "
                "stays between 0.5 and 0.73, so predictions can never be confident and gradients nearly vanish. "
                f"Feed raw logits: {d.fix} and apply sigmoid only for predictions."
            )
        yield Finding(
            "TL202",
            ctx.module,
            d.node,
            message,
            related=d.related,
            fix_builder=fixes.hook(fix_tl202, ctx.project, d.lc, d.op),
        )


def fix_tl202(locate: Locate, project: Project, lc: LossCall, op: Op) -> Optional[Fix]:
    """Drop the sigmoid in front of a BCE-with-logits loss."""
    found = loss_fix_op(lc, op, project)
    if found is None:
        return None
    module, node = found
    changes = drop_activation(module, node, ("sigmoid",))
    return make_fix(
        module,
        changes,
        UNSAFE,
        f"Remove the sigmoid{owner_phrase(op)} and feed raw logits to the loss (model outputs change)",
    )


def verdict_tl202(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("binary_cross_entropy_with_logits",)) if finite(r.input.min)]
    if not recs:
        return None
    inside = [r for r in recs if num(r.input.min) >= 0 and num(r.input.max) <= 1]
    if len(inside) == len(recs):
        r = recs[0]
        return confirmed(
            observed=f"every input of the BCE-with-logits loss lies in [0, 1] "
            f"(min {fmt(r.input.min)}, max {fmt(r.input.max)}): sigmoid outputs",
            expected="raw logits",
            **loss_where(c, r),
        )
    r = next(r for r in recs if r not in inside)
    return refuted(
        observed=f"the BCE-with-logits input leaves [0, 1] (min {fmt(r.input.min)}, max "
        f"{fmt(r.input.max)}): raw logits",
        **loss_where(c, r),
    )


RULE = Rule(
    code="TL202",
    name="sigmoid-before-bce-with-logits",
    family="loss",
    severity=ERROR,
    summary="Sigmoid outputs are fed to a BCE-with-logits loss that applies sigmoid itself.",
    fixable=True,
    check=sigmoid_before_bce_with_logits,
    fixes=(fix_tl202,),
    verdict=verdict_tl202,
)
