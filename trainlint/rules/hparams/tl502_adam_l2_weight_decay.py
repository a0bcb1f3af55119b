"""TL502 adam-l2-weight-decay: Adam's `weight_decay` is L2 regularisation, not decoupled decay."""

from __future__ import annotations

from typing import Iterator

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.rules.base import INFO, Finding, Rule, RuleContext

# position of `weight_decay` in each constructor
_ADAM_FAMILY = {
    "torch.optim.Adam": 4,
    "torch.optim.adam.Adam": 4,
    "torch.optim.Adamax": 4,
    "torch.optim.adamax.Adamax": 4,
    "torch.optim.NAdam": 4,
    "torch.optim.nadam.NAdam": 4,
    "torch.optim.RAdam": 4,
    "torch.optim.radam.RAdam": 4,
}


def adam_l2_weight_decay(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            qual = mod.qualify(call.func)
            if qual not in _ADAM_FAMILY or D.has_star_args(call):
                continue
            decay = C.arg(call, _ADAM_FAMILY[qual], "weight_decay")
            value = D.number(decay) if decay is not None else None
            if value is None or value <= 0:
                continue  # absent, zero, or a value not known here
            if D.is_true(C.arg(call, 99, "decoupled_weight_decay")):
                continue  # `decoupled_weight_decay=True`: AdamW's rule already
            name = qual.rsplit(".", 1)[-1]
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
