"""TL202 sigmoid-before-bce-with-logits: Sigmoid outputs are fed to a BCE-with-logits loss that applies sigmoid itself."""

from __future__ import annotations

from typing import Iterator, Optional

from trainlint import fixes
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis.flow import LossCall, Op
from trainlint.diagnostics import Fix
from trainlint.fixes.builders import drop_activation, loss_fix_op, owner_phrase
from trainlint.fixes.core import UNSAFE, Locate, make_fix
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loss.common import defects


def sigmoid_before_bce_with_logits(ctx: RuleContext) -> Iterator[Finding]:
    for d in defects(ctx, FL.BCE_LOGITS, (M.SIGMOID,)):
        yield Finding(
            "TL202",
            ctx.module,
            d.node,
            f"`{d.lc.name}` applies sigmoid itself, but {d.phrase}: the loss sees sigmoid(sigmoid(x)), which "
            "stays between 0.5 and 0.73, so predictions can never be confident and gradients nearly vanish. "
            f"Feed raw logits: {d.fix} and apply sigmoid only for predictions.",
            related=d.related,
            fix_builder=fixes.hook(fix_tl202, d.lc, d.op),
        )


def fix_tl202(locate: Locate, lc: LossCall, op: Op) -> Optional[Fix]:
    """Drop the sigmoid in front of a BCE-with-logits loss."""
    found = loss_fix_op(lc, op)
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


RULE = Rule(
    code="TL202",
    name="sigmoid-before-bce-with-logits",
    family="loss",
    severity=ERROR,
    summary="Sigmoid outputs are fed to a BCE-with-logits loss that applies sigmoid itself.",
    fixable=True,
    check=sigmoid_before_bce_with_logits,
    fixes=(fix_tl202,),
)
