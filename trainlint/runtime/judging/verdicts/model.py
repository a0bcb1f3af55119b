"""Verdicts on the model's suspicions (TL4xx): initialisation, saturating activations, and the
model's mode and gradients in evaluation."""

from __future__ import annotations

from typing import Optional

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import grad_ratio, no_eval_pass, weighted_layers
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted, unverified
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.judging.registry import verdict
from trainlint.runtime.records import Activation, DropoutState, FunctionalDropout, PassKind


@verdict("TL401")
def bad_weight_init(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    first = [s for s in c.ev.steps if s.opt_step == 1]
    if not first:
        return None
    layers = [x for s in first for x in weighted_layers(c, s)]
    init = [x for x in layers if x[3].init_std is not None]
    if not init:
        return None
    for _, name, reg, entry in init:
        if entry.init_range == 0.0:
            same = " and its gradient rows were identical" if entry.rows_same == 1.0 else ""
            return confirmed(
                observed=f"`{name}` started with every entry equal{same}, so its units cannot differ",
                expected="random init (kaiming/xavier or the layer default)",
                parameter=name,
                where=c.where(reg.site),
            )
        if num(entry.init_std, 0.0) >= 1.0:
            return confirmed(
                observed=f"`{name}` started with std {fmt(entry.init_std)}",
                expected="std about 1/sqrt(fan_in)",
                parameter=name,
                where=c.where(reg.site),
            )
    stds = sorted(((r.order, r) for r in c.ev.act_std if finite(r.std)), key=lambda x: x[0])
    if len(stds) >= 2:
        a, b = stds[0][1], stds[-1][1]
        if num(a.std) > 0 and not (1e-2 <= num(b.std) / num(a.std) <= 1e2):
            return confirmed(
                observed=f"activation std went from {fmt(a.std)} (`{a.module}`) to {fmt(b.std)} "
                f"(`{b.module}`) through the network",
                expected="a roughly constant scale with depth",
            )
    extent = ""
    if len(stds) >= 2:
        extent = f"; activation std {fmt(stds[0][1].std)} -> {fmt(stds[-1][1].std)} from first to last layer"
    return refuted(observed=f"all {len(init)} weight matrices started non-constant with std below 1{extent}")


@verdict("TL402")
def saturating_activation_stack(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    found = grad_ratio(c)
    limit = float(c.opts("TL902").get("ratio", 100.0))
    if found is not None and found[3] > limit:
        s, first, last, ratio = found
        return confirmed(
            observed=f"gradient norm of the first layer `{first[1]}` is {fmt(first[3].grad)}, of the last "
            f"layer `{last[1]}` {fmt(last[3].grad)} (ratio {fmt(ratio)}) at step {s.opt_step}",
            expected=f"ratio below {fmt(limit)}",
            step=s.opt_step,
        )
    # The stack's other failure: units pinned at their bounds, where the derivative is ~0. With
    # large weights the gradient need not shrink towards the input, but the units cannot learn.
    o = c.opts("TL905")
    sat_limit = float(o.get("max_saturated_fraction", 0.5))
    acts = [
        a
        for a in (c.ev.activations.layers if c.ev.activations is not None else [])
        if a.activation in (Activation.SIGMOID, Activation.TANH) and finite(a.saturated_fraction)
    ]
    acts = c.prefer(d, acts, lambda a: a.site)
    saturated = [a for a in acts if num(a.saturated_fraction) > sat_limit]
    if saturated:
        worst = max(saturated, key=lambda a: num(a.saturated_fraction))
        return confirmed(
            observed=f"{len(saturated)} of the {len(acts)} {worst.activation} layer(s) had most outputs within "
            f"{fmt(o.get('epsilon', 0.01))} of their bounds (up to {fmt(100 * num(worst.saturated_fraction))}% "
            f"in `{worst.name}`), where their derivative is nearly zero",
            expected=f"at most {fmt(100 * sat_limit)}% saturated outputs per layer",
            where=c.where(worst.site),
            saturated_fraction=worst.saturated_fraction,
        )
    if found is None:
        return None
    s, first, last, ratio = found
    text = (
        f"gradient norm of the first layer `{first[1]}` is {fmt(first[3].grad)}, of the last layer `{last[1]}` "
        f"{fmt(last[3].grad)} (ratio {fmt(ratio)}) at step {s.opt_step}"
    )
    if ratio < 1 / limit:
        return unverified(
            f"{text}: the gradient grows towards the input instead of vanishing, which this check "
            "does not judge (see TL903)"
        )
    if acts:
        text += f"; at most {fmt(100 * max(num(a.saturated_fraction) for a in acts))}% of any activation layer's outputs saturated"
    return refuted(observed=text, step=s.opt_step)


@verdict("TL403")
def missing_eval_mode(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    evals = 0
    for p in c.ev.passes.values():
        if not p.has_drop_or_norm:
            continue
        for pc in p.counts:
            if pc.is_eval:
                evals += pc.count
                if pc.training:
                    return confirmed(
                        observed=f"`{p.model}` (with dropout/batch-norm) ran {pc.count} evaluation pass(es) "
                        "in training mode",
                        expected="`model.eval()` before evaluation",
                        where=c.where(pc.first),
                    )
            elif pc.kind == PassKind.TRAIN and not pc.training:
                return confirmed(
                    observed=f"`{p.model}` ran {pc.count} training pass(es) in eval mode (train() never restored)",
                    expected="`model.train()` before training",
                    where=c.where(pc.first),
                )
    if evals:
        return refuted(observed=f"{evals} evaluation pass(es) ran in eval mode and training passes in training mode")
    return no_eval_pass(c)


@verdict("TL404")
def eval_without_no_grad(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    no_grad = 0
    for p in c.ev.passes.values():
        for pc in p.counts:
            if pc.kind == PassKind.EVAL_GRAD:
                return confirmed(
                    observed=f"`{p.model}` ran {pc.count} pass(es) with no backward whose outputs carried a "
                    "grad_fn (an autograd graph built and thrown away)",
                    expected="evaluation under `torch.no_grad()`",
                    where=c.where(pc.first),
                )
            if pc.kind == PassKind.EVAL_NO_GRAD:
                no_grad += pc.count
    if no_grad:
        return refuted(observed=f"{no_grad} evaluation pass(es) ran with gradients disabled")
    return no_eval_pass(c)


@verdict("TL405")
def functional_dropout_always_on(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    events = c.ev.events_of(FunctionalDropout)
    on = [e for e in events if e.state == DropoutState.ACTIVE_IN_EVAL]
    if on:
        e = on[0]
        return confirmed(
            observed=f"`F.{e.fn}` was active inside `{e.module}` while the model was in eval mode",
            expected="dropout off in eval mode",
            where=c.where(e.site),
        )
    if events:
        return refuted(
            observed=f"`F.{events[0].fn}` was off while the model was in eval mode",
            where=c.where(events[0].site),
        )
    return no_eval_pass(c)
