"""Runtime-only findings on parameters and their updates: never a gradient (TL907), never
changed (TL908), update/weight ratio out of range (TL909)."""

from __future__ import annotations

from typing import Dict, List

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import runtime_finding, update_ratios
from trainlint.runtime.judging.context import Ctx, fmt, num
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.judging.registry import finding
from trainlint.runtime.records import BackwardCall, PassKind


@finding("TL907")
def parameter_without_gradient(c: Ctx) -> List[Diagnostic]:
    if not c.ev.steps or not c.ev.events_of(BackwardCall):
        return []
    out = []
    for opt_index, opt in c.ev.optimizers.items():
        steps = [s for s in c.ev.steps if s.optimizer == opt_index]
        if not steps:
            continue
        got = {p.i for s in steps for p in s.params if p.received or p.grad is not None}
        seen = {p.i for s in steps for p in s.params}
        missing = [opt.params[i] for i in sorted(seen - got) if 0 <= i < len(opt.params)]
        if not missing:
            continue
        names = [p.name for p in missing]
        shown = ", ".join(f"`{n}`" for n in names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        out.append(
            runtime_finding(
                c,
                "TL907",
                f"{len(names)} trainable parameter(s) held by {opt.name} never received a gradient "
                f"in {len(steps)} step(s): {shown}. The loss does not depend on them (an unused "
                "layer, a detach, or an output that is not used); freeze or remove them, or fix the "
                "graph.",
                missing[0].site,
                {
                    "observed": f"`.grad` None after every backward for {len(names)} parameter(s)",
                    "expected": "a gradient for every trainable parameter",
                    "parameters": names[:20],
                },
            )
        )
    return out


@finding("TL908")
def parameter_not_updated(c: Ctx) -> List[Diagnostic]:
    if not c.ev.optimizers or not c.ev.steps:
        return []
    out = []
    held = {p.name for o in c.ev.optimizers.values() for p in o.params}
    for name, model in c.ev.models.items():
        passes = c.ev.passes.get(name)
        if passes is None or not any(pc.kind == PassKind.TRAIN for pc in passes.counts):
            continue
        missing = [p for p in model.params if p.requires_grad and p.name not in held]
        if missing:
            names = [p.name for p in missing]
            shown = ", ".join(f"`{n}`" for n in names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
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


@finding("TL909")
def update_ratio_out_of_range(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL909")
    lo, hi = float(o.get("min_ratio", 1e-5)), float(o.get("max_ratio", 0.1))
    out = []
    for opt_index, opt in c.ev.optimizers.items():
        ratios = update_ratios(c, opt_index)
        bad = {k: v for k, v in ratios.items() if v[0] > hi or v[0] < lo}
        if not bad:
            continue
        (_, name), (ratio, _) = max(bad.items(), key=lambda kv: max(kv[1][0] / hi, lo / kv[1][0]))
        lrs = ", ".join(fmt(x) for x in opt.lr or [])
        direction = (
            "too large: the learning rate is likely too high"
            if ratio > hi
            else "tiny: the learning rate is likely too low"
        )
        out.append(
            runtime_finding(
                c,
                "TL909",
                f"each {opt.name} step changes `{name}` by {fmt(ratio)} of its norm ({direction}; "
                f"lr {lrs}); {len(bad)} of {len(ratios)} weight matrices are outside [{fmt(lo)}, {fmt(hi)}]. "
                "Aim for an update/weight ratio around 1e-3.",
                opt.site,
                {
                    "observed": f"||dw||/||w|| = {fmt(ratio)} for `{name}`",
                    "expected": f"within [{fmt(lo)}, {fmt(hi)}], about 1e-3",
                    "layers_out_of_range": len(bad),
                    "ratio": ratio,
                    "parameter": name,
                },
            )
        )
    return out
