"""Verdicts on the training loop's suspicions (TL1xx): zero_grad, step, backward, scheduler,
clipping and GradScaler order."""

from __future__ import annotations

from typing import Optional, Tuple

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted, unverified
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.judging.registry import verdict
from trainlint.runtime.records import (
    CLIP_NORM,
    AutogradGradCall,
    BackwardCall,
    CallEvent,
    ClipCall,
    OptimizerStepCall,
    PassKind,
    ScalerCall,
    ScalerMethod,
    SchedulerStep,
    StepRecord,
    ZeroGradCall,
)


def _param_name(c: Ctx, step: StepRecord, i: int) -> Tuple[str, Optional[str]]:
    p = c.ev.param(step.optimizer, i)
    return p.name, c.where(p.site)


@verdict("TL101")
def missing_zero_grad(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    for s in c.ev.steps:
        for st in s.stale:
            name, where = _param_name(c, s, st.i)
            return confirmed(
                observed=f"before the backward of step {s.opt_step}, `{name}.grad` still held the previous "
                f"step's gradient (norm {fmt(st.stale_norm)}); backward added the new one "
                f"(norm {fmt(st.new_norm)}) to it, so step {s.opt_step} used their sum",
                expected="`.grad` cleared (None or zero) before each step's backward",
                step=s.opt_step,
                parameter=name,
                stale_grad_norm=st.stale_norm,
                new_grad_norm=st.new_norm,
                where=where,
            )
    manual = [m for m in c.ev.manual if m.backward >= 2 and num(m.stale_grad_norm, 0.0) > 0]
    if manual:
        m = manual[0]
        return confirmed(
            observed=f"before backward #{m.backward}, {m.stale_grads} trained tensor(s) still "
            f"held a gradient (largest norm {fmt(m.stale_grad_norm)}) from the previous pass",
            expected="gradients cleared between updates",
            backward=m.backward,
            where=c.where(m.site),
        )
    cleared = [s for s in c.ev.steps if s.checked_clear > 0]
    if cleared:
        s = cleared[0]
        return refuted(
            observed=f"before the backward of step {s.opt_step}, the gradients of "
            f"{s.checked_clear} sampled parameter(s) had been cleared",
            expected="stale gradients from the previous step (not seen)",
            step=s.opt_step,
        )
    clean = [m for m in c.ev.manual if m.backward >= 2 and m.stale_grad_norm == 0.0]
    if clean:
        return refuted(
            observed=f"before backward #{clean[0].backward} every trained tensor's gradient was cleared",
            backward=clean[0].backward,
        )
    return None


def _grad_state(step: StepRecord) -> Tuple[int, int, int]:
    """(parameters, parameters with a non-zero gradient, parameters that received one in backward)."""
    params = step.params
    nonzero = sum(1 for p in params if finite(p.grad) and p.grad > 0 or isinstance(p.grad, str))
    received = sum(1 for p in params if p.received)
    return len(params), nonzero, received


@verdict("TL102")
def zero_grad_before_step(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    zero_events = c.prefer(d, c.ev.events_of(ZeroGradCall), lambda e: e.site)
    for s in c.ev.steps:
        n, nonzero, received = _grad_state(s)
        if n and s.backwards > 0 and nonzero == 0:
            z = next((e for e in zero_events if e.step == s.step - 1), None)
            return confirmed(
                observed=f"at step {s.opt_step} all {n} gradients were zero or None when `step()` ran, although "
                f"backward had run ({received} parameter(s) received a gradient)",
                expected="the gradients of the preceding backward",
                step=s.opt_step,
                where=c.where(z.site) if z else None,
            )
    for s in c.ev.steps:
        n, nonzero, _ = _grad_state(s)
        if nonzero:
            return refuted(
                observed=f"at step {s.opt_step}, {nonzero} of {n} parameters had non-zero gradients "
                f"when `step()` ran (total norm {fmt(s.grad_total)})",
                step=s.opt_step,
            )
    return None


@verdict("TL103")
def missing_optimizer_step(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    ns = c.ev.no_step
    if ns is not None and not c.ev.steps:
        if ns.changed == 0:
            return confirmed(
                observed=f"{ns.backwards} backward passes ran, `optimizer.step()` never did, and none of "
                f"the {ns.params} parameters changed",
                expected="parameters updated after backward",
                backwards=ns.backwards,
            )
        return refuted(
            observed=f"no optimizer step ran, but {ns.changed} parameter(s) changed "
            f"(largest change {fmt(ns.max_delta)})"
        )
    moved = [s for s in c.ev.steps if any(num(p.delta, 0.0) > 0 for p in s.params)]
    if moved:
        s = moved[0]
        return refuted(
            observed=f"`step()` ran {len(c.ev.steps)} time(s); at step {s.opt_step} "
            f"{sum(1 for p in s.params if num(p.delta, 0.0) > 0)} parameter(s) changed",
            step=s.opt_step,
        )
    pairs = [m for m in c.ev.manual if m.delta_norm is not None]
    if pairs:
        if all(m.delta_norm == 0.0 for m in pairs):
            return confirmed(
                observed=f"between {len(pairs) + 1} backward passes the trained tensors never changed",
                expected="an update after each backward",
            )
        return refuted(
            observed=f"the trained tensors changed between backward passes (update norm "
            f"{fmt(pairs[0].delta_norm)}): they are updated by hand"
        )
    if c.ev.steps:
        return confirmed(
            observed=f"`step()` ran {len(c.ev.steps)} time(s) but no parameter changed",
            expected="parameters updated by the optimizer",
        )
    return None


@verdict("TL104")
def missing_backward(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    if not c.ev.steps:
        return None
    backwards = len(c.ev.events_of(BackwardCall)) + len(c.ev.events_of(AutogradGradCall))
    with_grad = [s for s in c.ev.steps if any(p.grad is not None for p in s.params)]
    if backwards == 0 and not with_grad:
        s = c.ev.steps[0]
        return confirmed(
            observed=f"`step()` ran {len(c.ev.steps)} time(s) with every `.grad` None "
            f"({len(s.params)} parameters); no `backward()` ran",
            expected="gradients from a backward pass before each step",
            steps=len(c.ev.steps),
        )
    s = with_grad[0] if with_grad else c.ev.steps[0]
    return refuted(
        observed=f"`backward()` ran {backwards} time(s); step {s.opt_step} saw gradients for "
        f"{sum(1 for p in s.params if p.grad is not None)} parameter(s)",
        step=s.opt_step,
    )


@verdict("TL105")
def scheduler_before_optimizer_step(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    events = c.prefer(d, c.ev.events_of(SchedulerStep), lambda e: e.site)
    if not events:
        return None
    early = [e for e in events if e.since == 0]
    if early:
        e = early[0]
        return confirmed(
            observed=f"`{e.scheduler}.step()` ran when its optimizer had made no step since the "
            f"scheduler's previous step (optimizer steps so far: {e.opt_steps})",
            expected="`optimizer.step()` before each `scheduler.step()`",
            where=c.where(e.site),
            optimizer_steps=e.opt_steps,
        )
    e = events[0]
    return refuted(
        observed=f"each of {len(events)} `scheduler.step()` call(s) came after an optimizer step",
        where=c.where(e.site),
    )


def _placement(c: Ctx, event: CallEvent) -> str:
    """Where an event sits relative to backward and optimizer steps: between, before-backward, after-step."""
    seq = event.seq
    order = [e for e in c.ev.events if isinstance(e, (BackwardCall, OptimizerStepCall))]
    prev = next((e for e in reversed(order) if e.seq < seq), None)
    nxt = next((e for e in order if e.seq > seq), None)
    if isinstance(prev, BackwardCall) and (nxt is None or isinstance(nxt, OptimizerStepCall)):
        return "between"
    if isinstance(prev, OptimizerStepCall):
        return "after-step"
    return "before-backward"


@verdict("TL106")
def clip_grad_misplaced(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    clips = c.prefer(d, c.ev.events_of(ClipCall), lambda e: e.site)
    if not clips:
        return None
    tol = float(c.opts("TL106").get("tolerance", 1e-3))
    for e in clips:
        place = _placement(c, e)
        s = c.step_after(e)
        if place != "between":
            text = "before `backward()`" if place == "before-backward" else "after `optimizer.step()`"
            extra = ""
            if s is not None and e.fn == CLIP_NORM and finite(s.grad_total) and finite(e.limit):
                extra = f"; the next step saw gradient norm {fmt(s.grad_total)} (max_norm {fmt(e.limit)})"
            return confirmed(
                observed=f"`{e.fn}` ran {text}{extra}",
                expected="clipping between backward and step",
                where=c.where(e.site),
                grad_norm_at_step=s.grad_total if s else None,
                limit=e.limit,
            )
        if s is not None and e.fn == CLIP_NORM and finite(s.grad_total) and finite(e.limit):
            if s.grad_total > e.limit * (1 + tol):
                return confirmed(
                    observed=f"step {s.opt_step} saw gradient norm {fmt(s.grad_total)} above max_norm {fmt(e.limit)}",
                    expected=f"norm <= {fmt(e.limit)}",
                    where=c.where(e.site),
                    step=s.opt_step,
                )
    e = clips[0]
    s = c.step_after(e)
    norm = f" and step {s.opt_step} saw gradient norm {fmt(s.grad_total)}" if s else ""
    return refuted(observed=f"`{e.fn}` ran between `backward()` and `step()`{norm}", where=c.where(e.site))


def _scaler_kind(c: Ctx, d: Diagnostic) -> str:
    for e in c.ev.events:
        if c.at(d, e.site):
            if isinstance(e, ClipCall):
                return "clip"
            if isinstance(e, BackwardCall):
                return "unscaled"
            if isinstance(e, (ScalerCall, OptimizerStepCall)):
                return "update"
    msg = d.message
    if "unscale_" in msg and "clip" in msg:
        return "clip"
    if "update()" in msg:
        return "update"
    return "unscaled"


@verdict("TL107")
def grad_scaler_misuse(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    every = c.ev.events_of(ScalerCall)
    scaler = [e for e in every if e.enabled]
    if every and not scaler:
        return unverified(
            "the GradScaler is disabled in this run (enabled=False, e.g. no GPU), so its recipe has no effect here"
        )
    if not scaler:
        return None
    kind = _scaler_kind(c, d)
    steps = [e for e in scaler if e.method == ScalerMethod.STEP]
    updates = [e for e in scaler if e.method == ScalerMethod.UPDATE]
    if kind == "update":
        if updates:
            return refuted(observed=f"`scaler.update()` ran {len(updates)} time(s) (scale {fmt(updates[-1].scale)})")
        if len(steps) >= 2:
            return confirmed(
                observed=f"`scaler.step()` ran {len(steps)} times and `scaler.update()` never did, so the "
                "loss scale cannot adapt",
                expected="`scaler.update()` after each `scaler.step()`",
                where=c.where(steps[0].site),
            )
        return None
    if kind == "clip":
        clips = c.prefer(d, c.ev.events_of(ClipCall), lambda e: e.site)
        if not clips:
            return None
        for clip in clips:
            back = [e for e in c.ev.events if isinstance(e, BackwardCall) and e.seq < clip.seq]
            since = back[-1].seq if back else 0
            unscaled = any(e.method == ScalerMethod.UNSCALE and since < e.seq < clip.seq for e in scaler)
            if not unscaled:
                s = c.step_after(clip)
                norms = s.clip_norms if s else None
                return confirmed(
                    observed="gradients were clipped while still multiplied by the loss scale "
                    f"(no `scaler.unscale_()` since the backward; norm seen by the clip: "
                    f"{fmt(norms[0]) if norms else '?'})",
                    expected="`scaler.unscale_(optimizer)` before clipping",
                    where=c.where(clip.site),
                )
        return refuted(observed=f"`scaler.unscale_()` ran before each of {len(clips)} clip call(s)")
    backwards = c.ev.events_of(BackwardCall)
    if not backwards or not steps:
        return None
    plain = [e for e in backwards if not e.scaled]
    if plain:
        return confirmed(
            observed=f"{len(plain)} of {len(backwards)} backward pass(es) ran on a loss that did not come "
            "from `scaler.scale()` while `scaler.step()` unscaled the gradients",
            expected="`scaler.scale(loss).backward()`",
            where=c.where(plain[0].site),
        )
    return refuted(observed=f"all {len(backwards)} backward pass(es) ran on `scaler.scale(loss)`")


@verdict("TL108")
def backward_under_no_grad(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    backwards = c.prefer(d, c.ev.events_of(BackwardCall), lambda e: e.site)
    dead = [e for e in backwards if not e.grad_fn and not e.requires_grad]
    if dead:
        e = dead[0]
        mode = "with gradients disabled" if not e.grad_enabled else "from a forward pass run under no_grad"
        return confirmed(
            observed=f"the tensor passed to `backward()` had no grad_fn and did not require grad (computed {mode})",
            expected="a loss with a grad_fn",
            where=c.where(e.site),
        )
    no_grad_forward = [
        p
        for p in c.ev.passes.values()
        if any(pc.kind == PassKind.EVAL_NO_GRAD for pc in p.counts)
        and not any(pc.kind == PassKind.TRAIN for pc in p.counts)
    ]
    if no_grad_forward and backwards:
        return confirmed(
            observed=f"model `{no_grad_forward[0].model}` only ever ran with gradients disabled, yet "
            "backward was called",
            expected="the training forward with gradients enabled",
        )
    if backwards:
        return refuted(
            observed=f"all {len(backwards)} loss(es) passed to `backward()` had a grad_fn",
            where=c.where(backwards[0].site),
        )
    return None
