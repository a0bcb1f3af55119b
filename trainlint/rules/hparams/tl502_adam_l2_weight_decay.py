"""TL502 adam-l2-weight-decay: Adam's `weight_decay` is L2 regularisation, not decoupled decay."""

from __future__ import annotations

from typing import Iterator

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis.lr import WEIGHT_DECAY_POSITION, torch_optimizer
from trainlint.rules.base import INFO, Finding, Rule, RuleContext

# L2 inside the adaptive scaling (AdamW, and `decoupled_weight_decay=True`, decouple it).
_ADAM_FAMILY = ("Adam", "Adamax", "NAdam", "RAdam")


def adam_l2_weight_decay(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            name = torch_optimizer(mod.qualify(call.func))
            if name not in _ADAM_FAMILY or D.has_star_args(call):
                continue
            decay = C.arg(call, WEIGHT_DECAY_POSITION[name], "weight_decay")
            value = D.number(decay) if decay is not None else None
            if value is None or value <= 0:
                continue  # absent, zero, or a value not known here
            if D.is_true(C.arg(call, 99, "decoupled_weight_decay")):
                continue  # `decoupled_weight_decay=True`: AdamW's rule already
            yield Finding(
                "TL502",
                mod,
                call,
                f"`{name}(weight_decay={value:g})` adds `{value:g} * w` to the gradient before {name}'s "
                "per-parameter scaling, so weights with large gradients are barely decayed and the "
                "regularisation is much weaker than it looks (L2 is not weight decay for adaptive "
                "optimizers). Use `torch.optim.AdamW` (decoupled decay; usual values 0.01-0.1) or pass "
                "`decoupled_weight_decay=True`; keep it (and add `# noqa: TL502`) when reproducing a "
                "reference that used Adam with L2.",
            )


RULE = Rule(
    code="TL502",
    name="adam-l2-weight-decay",
    family="hparams",
    severity=INFO,
    summary="Adam's `weight_decay` is L2 regularisation, not decoupled decay.",
    default_enabled=False,
    check=adam_l2_weight_decay,
    no_runtime_check="the strength of a regulariser shows over a whole run, not in a few steps",
)
