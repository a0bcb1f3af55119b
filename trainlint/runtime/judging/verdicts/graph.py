"""Verdicts on the autograd graph's suspicions (TL6xx): a loss cut from the model, updates by
hand in the wrong direction or without clearing gradients."""

from __future__ import annotations

from typing import Optional

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.judging.registry import verdict
from trainlint.runtime.records import BackwardCall


@verdict("TL601")
def detached_loss(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    backwards = c.prefer(d, c.ev.events_of(BackwardCall), lambda e: e.site)
    if not backwards:
        return None
    cut = [e for e in backwards if not e.grad_fn]
    if cut:
        e = cut[0]
        leaf = " (a fresh leaf tensor)" if e.is_leaf and e.requires_grad else ""
        return confirmed(
            observed=f"the tensor passed to `backward()` had no grad_fn{leaf}, so no gradient can reach "
            "the model's parameters",
            expected="a loss computed from the model's output",
            where=c.where(e.site),
        )
    reached = [s for s in c.ev.steps if any(p.received for p in s.params)]
    if c.ev.steps and not reached:
        return confirmed(
            observed="backward ran on a tensor with a graph, but no parameter of the optimizer received a gradient",
            expected="gradients for the trained parameters",
        )
    s = reached[0] if reached else None
    extra = f"; {sum(1 for p in s.params if p.received)} parameter(s) received gradients" if s else ""
    return refuted(observed=f"the loss passed to `backward()` had a grad_fn{extra}", where=c.where(backwards[0].site))


@verdict("TL602")
def manual_update_wrong(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    pairs = [m for m in c.ev.manual if m.delta_dot_grad is not None]
    if not pairs:
        return None
    for m in pairs:
        if m.same_leaves is False:
            return confirmed(
                observed="the tensors trained by the next backward were different objects: the update "
                "rebound the names instead of updating the leaves in place",
                expected="in-place update under `torch.no_grad()`",
                backward=m.backward,
            )
        if num(m.delta_dot_grad, 0.0) > 0:
            return confirmed(
                observed=f"the update moved the parameters along the gradient (update . gradient = "
                f"{fmt(m.delta_dot_grad)} > 0): gradient ascent",
                expected="update . gradient < 0",
                backward=m.backward,
            )
    m = pairs[0]
    if num(m.delta_dot_grad, 0.0) < 0:
        return refuted(
            observed=f"the update moved against the gradient (update . gradient = {fmt(m.delta_dot_grad)})",
            backward=m.backward,
        )
    return None


@verdict("TL603")
def manual_update_no_grad_reset(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    later = [m for m in c.ev.manual if m.backward >= 2 and m.stale_grad_norm is not None]
    if not later:
        return None
    stale = [m for m in later if num(m.stale_grad_norm, 0.0) > 0 or isinstance(m.stale_grad_norm, str)]
    if stale:
        m = stale[0]
        return confirmed(
            observed=f"before backward #{m.backward}, the trained tensors still held the previous "
            f"gradient (largest norm {fmt(m.stale_grad_norm)}), so the gradients accumulate",
            expected="`.grad` cleared after each update",
            backward=m.backward,
        )
    return refuted(observed=f"before backward #{later[0].backward} every trained tensor's gradient was cleared")
