"""TL908 parameter-not-updated: A trainable parameter is not updated by any optimizer step."""

from __future__ import annotations

from typing import Dict, List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt, names_shown, num
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import PassKind


def findings_tl908(c: Ctx) -> List[Diagnostic]:
    if not c.ev.optimizers or not c.ev.steps:
        return []
    out = []
    held = {p.name for o in c.ev.optimizers.values() for p in o.params}
    # While the run waits for an evaluation pass it watches forward passes only: an optimizer
    # built then (a second stage, a Lightning fit after a pretraining loop) is not seen.
    models = c.ev.models.items() if c.ev.wait is None else []
    for name, model in models:
        passes = c.ev.passes.get(name)
        if passes is None:
            continue
        missing = [p for p in model.params if p.requires_grad and p.name not in held]
        # A model trained directly, or one whose other parameters an optimizer holds (a GAN's
        # generator, trained through the discriminator's loss): a frozen teacher, held by no
        # optimizer at all, is left alone.
        trained = any(pc.kind == PassKind.TRAIN for pc in passes.counts) or any(p.name in held for p in model.params)
        if missing and trained:
            names = [p.name for p in missing]
            shown = names_shown(names)
            out.append(
                runtime_finding(
                    c,
                    "TL908",
                    f"{len(names)} trainable parameter(s) of `{name}` are held by no optimizer, so "
                    f"they never change: {shown}. Pass all of `model.parameters()` to the optimizer "
                    "(or set `requires_grad=False` on what should stay frozen).",
                    missing[0].site,
                    {
                        "observed": f"{len(names)} parameter(s) with requires_grad=True in no optimizer",
                        "expected": "every trainable parameter held by an optimizer",
                        "parameters": names[:20],
                    },
                )
            )
    for opt_index, opt in c.ev.optimizers.items():
        steps = [s for s in c.ev.steps if s.optimizer == opt_index]
        with_grad: Dict[int, bool] = {}
        moved: Dict[int, bool] = {}
        for s in steps:
            for p in s.params:
                # A gradient below float resolution relative to the weight cannot move it: that is
                # a vanishing gradient (TL902), not a parameter the optimizer skips.
                if finite(p.grad) and p.grad > 1e-6 * max(num(p.w, 0.0), 1e-12):
                    with_grad[p.i] = True
                if num(p.delta, 0.0) > 0 or isinstance(p.delta, str):
                    moved[p.i] = True
        still = [i for i in with_grad if not moved.get(i) and 0 <= i < len(opt.params)]
        if still:
            names = [opt.params[i].name for i in still]
            lrs = ", ".join(fmt(x) for x in opt.lr or [])
            out.append(
                runtime_finding(
                    c,
                    "TL908",
                    f"{len(names)} parameter(s) had non-zero gradients but did not change in "
                    f"{len(steps)} {opt.name} step(s) (lr {lrs}): "
                    + ", ".join(f"`{n}`" for n in names[:6])
                    + ". Check the learning rate and the parameter groups.",
                    opt.site,
                    {
                        "observed": f"||dw|| = 0 despite gradients for {len(names)} parameter(s)",
                        "expected": "every step changes the parameters it has gradients for",
                        "parameters": names[:20],
                    },
                )
            )
    return out


RULE = Rule(
    code="TL908",
    name="parameter-not-updated",
    family="runtime",
    severity=WARNING,
    summary="A trainable parameter is not updated by any optimizer step.",
    kind="runtime",
    runtime_check=findings_tl908,
)
