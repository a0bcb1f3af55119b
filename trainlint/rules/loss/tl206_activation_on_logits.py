"""TL206 activation-on-logits: A classifier's last layer squashes the logits fed to cross-entropy."""

from __future__ import annotations

from typing import Iterator, Optional

from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.loss.common import defects
from trainlint.runtime.judging.common import loss_where
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.judging.evidence import finite

_SQUASH_WHY = {
    M.RELU: "ReLU zeroes every negative score, so a wrong class can never be pushed below zero and its "
    "gradient is 0 there (units and whole outputs get stuck)",
    M.SIGMOID: "sigmoid squashes each score into (0, 1), so the softmax inside the loss can never become "
    "confident and the gradients fade",
    M.TANH: "tanh squashes each score into (-1, 1), so the softmax inside the loss can never become "
    "confident and the gradients fade",
}


def activation_on_logits(ctx: RuleContext) -> Iterator[Finding]:
    # `nll_loss(log_softmax(relu(scores)))` is cross-entropy on squashed scores as well, and so
    # is `cross_entropy(softmax(relu(scores)))`, whose softmax is TL201's defect on its own.
    checks = ((FL.CROSS_ENTROPY, None), (FL.NLL, M.LOG_SOFTMAX), (FL.CROSS_ENTROPY, M.SOFTMAX))
    for family, behind in checks:
        for d in defects(ctx, family, tuple(_SQUASH_WHY), behind=behind):
            phrase = d.phrase.replace("already returns", "returns")
            why = _SQUASH_WHY[d.op.kind]
            if behind is not None:
                norm = "log_softmax" if behind == M.LOG_SOFTMAX else "softmax"
                message = (
                    f"`{d.lc.name}` {'after `log_softmax` is cross-entropy, which ' if behind == M.LOG_SOFTMAX else ''}"
                    f"expects unbounded scores, but {phrase} before the `{norm}`: {why}. Drop that "
                    f"activation so that the `{norm}` gets the raw output of the final `nn.Linear`"
                    + (" (and drop the softmax too: the loss applies its own)." if behind == M.SOFTMAX else ".")
                )
            else:
                message = (
                    f"`{d.lc.name}` expects unbounded logits, but {phrase}: {why}. End the classifier with a "
                    f"plain `nn.Linear` ({d.fix})."
                )
            yield Finding("TL206", ctx.module, d.node, message, related=d.related)


# Layers whose output is bounded on one side or both: not logits.
SQUASHERS = {
    "ReLU",
    "ReLU6",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Hardtanh",
    "Hardsigmoid",
    "Softplus",
    "ELU",
    "GELU",
    "SiLU",
}


def verdict_tl206(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("cross_entropy",)) if finite(r.input.min)]
    if not recs:
        return None
    for r in recs:
        inp = r.input
        producer = r.produced_by.layer_type if r.produced_by else None
        if num(inp.min) >= 0:
            return confirmed(
                observed=f"every logit fed to cross-entropy is >= 0 (min {fmt(inp.min)}, max "
                f"{fmt(inp.max)}){f', output of {producer}' if producer else ''}",
                expected="unbounded logits from a final Linear layer",
                **loss_where(c, r),
            )
        if producer in SQUASHERS:
            return confirmed(
                observed=f"the logits come straight out of a `{producer}` layer (range "
                f"[{fmt(inp.min)}, {fmt(inp.max)}])",
                expected="unbounded logits from a final Linear layer",
                **loss_where(c, r),
            )
    r = recs[0]
    return refuted(
        observed=f"the logits are unbounded both ways (range [{fmt(r.input.min)}, {fmt(r.input.max)}])",
        **loss_where(c, r),
    )


RULE = Rule(
    code="TL206",
    name="activation-on-logits",
    family="loss",
    severity=WARNING,
    summary="A classifier's last layer squashes the logits fed to cross-entropy.",
    check=activation_on_logits,
    verdict=verdict_tl206,
)
