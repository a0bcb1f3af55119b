"""TL201 softmax-before-cross-entropy: Probabilities are fed to a cross-entropy loss that applies log_softmax itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from trainlint import fixes
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.flow import LossCall, Op
from trainlint.analysis.project import Project
from trainlint.diagnostics import Diagnostic, Fix, Severity
from trainlint.fixes.builders import drop_activation, loss_fix_op, owner_phrase
from trainlint.fixes.core import UNSAFE, Locate, make_fix
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loss.common import defects
from trainlint.runtime.judging.common import loss_where, probabilities
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted


@dataclass(frozen=True)
class Options:
    """Thresholds of the tracer's verdict on this rule's findings."""

    row_sum_tolerance: float = 1e-3


def softmax_before_cross_entropy(ctx: RuleContext) -> Iterator[Finding]:
    for d in defects(ctx, FL.CROSS_ENTROPY, (M.SOFTMAX, M.LOG_SOFTMAX), evaluation=True):
        lc, op, phrase, fix = d.lc, d.op, d.phrase, d.fix
        if (d.evaluation or lc.distribution) and op.kind != M.SOFTMAX:
            continue  # a log_softmax twice gives the same value: nothing wrong to report
        if lc.distribution:
            message = (
                f"`{lc.name}` normalises its logits itself (a log_softmax), but {phrase}: probabilities "
                "taken as logits give softmax(p) of values in [0, 1], close to uniform, so the "
                "distribution can never become confident and the log-probabilities' gradients shrink. "
                f"Pass raw scores as `logits=` ({fix}), or pass the probabilities as `probs=`."
            )
            severity: Optional[Severity] = None
        elif d.evaluation:
            message = (
                f"`{lc.name}` applies log_softmax itself, but {phrase}: this loss is computed only "
                "for evaluation (nothing is trained on it), and on probabilities squashed a second "
                "time it is not the model's cross-entropy, so the validation loss you monitor (for "
                f"early stopping or picking a checkpoint) is wrong. Feed raw logits: {fix} and apply "
                "softmax only for predictions."
            )
            severity = Severity.WARNING
        elif op.kind == M.SOFTMAX:
            message = (
                f"`{lc.name}` applies log_softmax itself, but {phrase}: the loss then sees probabilities "
                "squashed a second time, its gradient shrinks as predictions get confident and training "
                f"stalls. Feed raw logits: {fix} and apply softmax only for predictions."
            )
            severity = None
        else:
            message = (
                f"`{lc.name}` applies log_softmax itself, but {phrase}: the log_softmax is applied twice "
                "(same loss value, wasted work, and the model no longer says which loss it was built for). "
                f"Feed raw logits ({fix}), or keep the log_softmax and use `nn.NLLLoss`."
            )
            severity = Severity.WARNING
        yield Finding(
            "TL201",
            ctx.module,
            d.node,
            message,
            related=d.related,
            severity=severity,
            fix_builder=fixes.hook(fix_tl201, ctx.project, lc, op),
        )


def fix_tl201(locate: Locate, project: Project, lc: LossCall, op: Op) -> Optional[Fix]:
    """Drop the softmax (or log_softmax) in front of a cross-entropy loss, wherever it is
    applied in the same file: inline, earlier in the function, or in the model's `forward`."""
    found = loss_fix_op(lc, op, project)
    if found is None:
        return None
    module, node = found
    log = op.kind == "log_softmax"
    changes = drop_activation(module, node, ("softmax", "log_softmax") if log else ("softmax",))
    what = "log_softmax" if log else "softmax"
    return make_fix(
        module,
        changes,
        UNSAFE,
        f"Remove the {what}{owner_phrase(op)} and feed raw logits to the loss (model outputs change)",
    )


def verdict_tl201(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("cross_entropy",)) if r.rows]
    if not recs:
        return None
    for r in recs:
        kind = probabilities(c, r)
        rows = r.rows
        if kind is not None and rows is not None:
            return confirmed(
                observed=f"the rows of the cross-entropy input are {kind}: values in "
                f"[{fmt(r.input.min)}, {fmt(r.input.max)}], row sums in "
                f"[{fmt(rows.row_sum_min)}, {fmt(rows.row_sum_max)}], logsumexp in "
                f"[{fmt(rows.lse_min)}, {fmt(rows.lse_max)}]",
                expected="raw logits (any real values)",
                num_classes=r.num_classes,
                **loss_where(c, r),
            )
    r = recs[0]
    rows = r.rows
    assert rows is not None  # (filtered above)
    return refuted(
        observed=f"the cross-entropy input looks like raw logits: values in [{fmt(r.input.min)}, "
        f"{fmt(r.input.max)}], row sums in [{fmt(rows.row_sum_min)}, {fmt(rows.row_sum_max)}]",
        **loss_where(c, r),
    )


RULE = Rule(
    code="TL201",
    name="softmax-before-cross-entropy",
    family="loss",
    severity=ERROR,
    summary="Probabilities are fed to a cross-entropy loss that applies log_softmax itself.",
    fixable=True,
    options=Options,
    check=softmax_before_cross_entropy,
    fixes=(fix_tl201,),
    verdict=verdict_tl201,
)
