"""TL206 activation-on-logits: A classifier's last layer squashes the logits fed to cross-entropy."""

from __future__ import annotations

from typing import Iterator

from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.loss.common import defects

_SQUASH_WHY = {
    M.RELU: "ReLU zeroes every negative score, so a wrong class can never be pushed below zero and its "
    "gradient is 0 there (units and whole outputs get stuck)",
    M.SIGMOID: "sigmoid squashes each score into (0, 1), so the softmax inside the loss can never become "
    "confident and the gradients fade",
    M.TANH: "tanh squashes each score into (-1, 1), so the softmax inside the loss can never become "
    "confident and the gradients fade",
}


def activation_on_logits(ctx: RuleContext) -> Iterator[Finding]:
    for d in defects(ctx, FL.CROSS_ENTROPY, tuple(_SQUASH_WHY)):
        phrase = d.phrase.replace("already returns", "returns")
        yield Finding(
            "TL206",
            ctx.module,
            d.node,
            f"`{d.lc.name}` expects unbounded logits, but {phrase}: {_SQUASH_WHY[d.op.kind]}. End the "
            f"classifier with a plain `nn.Linear` ({d.fix}).",
            related=d.related,
        )


RULE = Rule(
    code="TL206",
    name="activation-on-logits",
    family="loss",
    severity=WARNING,
    summary="A classifier's last layer squashes the logits fed to cross-entropy.",
    check=activation_on_logits,
)
