"""TL1xx: the optimisation loop (zero_grad, backward, step, scheduler, clipping, AMP)."""

from __future__ import annotations

from typing import Iterator, List, Optional, Set

from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.diagnostics import Severity
from trainlint.rules import Finding, RuleContext, rule

STEPS = (L.STEP, L.SCALER_STEP)


def _iterations(ctx: RuleContext) -> Iterator[LoopFacts]:
    """Loops that are one training iteration: backward and step inside, and no inner loop
    (lexical or in a helper) that is itself a whole iteration."""
    for lf in ctx.loops.loops_of(ctx.module):
        if not (lf.has(L.BACKWARD) and lf.has(*STEPS)):
            continue
        if _inner_iteration(lf):
            continue
        yield lf


def _inner_iteration(lf: LoopFacts) -> bool:
    kinds_by_loop: dict = {}
    for e in lf.events:
        for lid in e.loops:
            kinds_by_loop.setdefault(lid, set()).add(e.kind)
    return any(L.BACKWARD in ks and (L.STEP in ks or L.SCALER_STEP in ks) for ks in kinds_by_loop.values())


def _guessed(*events: Optional[Event]) -> bool:
    return any(e is not None and e.receiver is not None and e.receiver.guess for e in events)


def _opt_name(e: Optional[Event]) -> str:
    if e is None:
        return "optimizer"
    node = e.node
    import libcst as cst

    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return e.module.tree.code_for_node(node.func.value)
    return "optimizer"


def _stepped_nodes(ctx: RuleContext) -> Set[int]:
    """Ids of backward nodes that some loop of the project follows with an optimizer step."""
    cache = ctx.project.__dict__.setdefault("_tl_stepped", None)
    if cache is not None:
        return cache  # type: ignore[no-any-return]
    out: Set[int] = set()
    for m in ctx.project.modules:
        for lf in ctx.loops.loops_of(m):
            if lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE):
                out.update(id(e.node) for e in lf.events if e.kind == L.BACKWARD)
    ctx.project.__dict__["_tl_stepped"] = out
    return out


def _backwarded_steps(ctx: RuleContext) -> Set[int]:
    """Ids of step nodes that some loop of the project precedes with a backward."""
    cache = ctx.project.__dict__.get("_tl_backwarded")
    if cache is not None:
        return cache  # type: ignore[no-any-return]
    out: Set[int] = set()
    for m in ctx.project.modules:
        for lf in ctx.loops.loops_of(m):
            if lf.has(L.BACKWARD, L.AUTOGRAD_GRAD):
                out.update(id(e.node) for e in lf.events if e.kind in STEPS)
    ctx.project.__dict__["_tl_backwarded"] = out
    return out


def _severity(guess: bool) -> Optional[Severity]:
    return Severity.WARNING if guess else None


@rule("TL101")
def missing_zero_grad(ctx: RuleContext) -> Iterator[Finding]:
    for lf in _iterations(ctx):
        if lf.has(L.ZERO_GRAD):
            continue
        backward = lf.first(L.BACKWARD)
        step = lf.first(*STEPS)
        assert backward is not None and step is not None
        opt = _opt_name(step)
        yield Finding(
            "TL101",
            backward.module,
            backward.node,
            f"gradients are never cleared in this training loop: each `backward()` adds to `.grad`, so "
            f"`{opt}.step()` applies the sum of every step so far. Call `{opt}.zero_grad()` once per "
            f"iteration, before `backward()` (or after `step()`).",
            related=[(step.module, step.node, "the optimizer step that uses the accumulated gradients")],
            severity=_severity(_guessed(step)),
        )


@rule("TL102")
def zero_grad_before_step(ctx: RuleContext) -> Iterator[Finding]:
    for lf in _iterations(ctx):
        evs = [e for e in lf.events if e.kind in (L.BACKWARD, L.ZERO_GRAD) or e.kind in STEPS]
        for i, z in enumerate(evs):
            if z.kind != L.ZERO_GRAD or i == 0:
                continue
            prev = evs[i - 1]
            nxt = next((e for e in evs[i + 1 :] if e.kind != L.ZERO_GRAD), None)
            if prev.kind != L.BACKWARD or nxt is None or nxt.kind not in STEPS:
                continue
            zr, sr = z.receiver, nxt.receiver
            if zr is not None and sr is not None and zr.kind == K.OPTIMIZER and sr.kind == K.OPTIMIZER:
                if zr.origin is not None and sr.origin is not None and zr.origin is not sr.origin:
                    continue  # another optimizer's gradients (e.g. a GAN's other network)
            yield Finding(
                "TL102",
                z.module,
                z.node,
                "`zero_grad()` runs after `backward()` and before `step()`, so the optimizer steps on "
                "cleared gradients and the parameters never change. Move `zero_grad()` before "
                "`backward()` (start of the iteration) or after `step()`.",
                related=[
                    (prev.module, prev.node, "the backward whose gradients are cleared"),
                    (nxt.module, nxt.node, "the step that then sees no gradient"),
                ],
            )


@rule("TL103")
def missing_optimizer_step(ctx: RuleContext) -> Iterator[Finding]:
    if not _project_has_optimizer(ctx):
        return
    stepped = _stepped_nodes(ctx)
    seen: Set[int] = set()
    for lf in ctx.loops.loops_of(ctx.module):
        backward = lf.first(L.BACKWARD)
        if backward is None or id(backward.node) in seen:
            continue
        if lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE, L.GRAD_READ):
            continue
        if any(id(e.node) in stepped for e in lf.events if e.kind == L.BACKWARD):
            continue
        seen.add(id(backward.node))
        yield Finding(
            "TL103",
            backward.module,
            backward.node,
            "this loop computes gradients with `backward()` but never calls `optimizer.step()` (or "
            "updates the parameters by hand), so the model does not learn. Call `optimizer.step()` "
            "after `backward()`.",
        )


def _project_has_optimizer(ctx: RuleContext) -> bool:
    cached = ctx.project.__dict__.get("_tl_has_opt")
    if cached is None:
        cached = False
        for m in ctx.project.modules:
            for s in m.scopes:
                for call in s.calls:
                    if K.kind_of_constructor(m.qualify(call.func)) == K.OPTIMIZER:
                        cached = True
                        break
        ctx.project.__dict__["_tl_has_opt"] = cached
    return bool(cached)


@rule("TL104")
def missing_backward(ctx: RuleContext) -> Iterator[Finding]:
    backwarded = _backwarded_steps(ctx)
    seen: Set[int] = set()
    for lf in ctx.loops.loops_of(ctx.module):
        step = lf.first(L.STEP, L.SCALER_STEP)
        if step is None or id(step.node) in seen or id(step.node) in backwarded:
            continue
        if lf.has(L.BACKWARD, L.AUTOGRAD_GRAD) or not lf.has(L.LOSS):
            continue
        seen.add(id(step.node))
        yield Finding(
            "TL104",
            step.module,
            step.node,
            f"`{_opt_name(step)}.step()` runs but nothing in the loop calls `backward()`, so there are no "
            "gradients to apply and the parameters never change. Call `loss.backward()` before `step()`.",
            severity=_severity(_guessed(step)),
        )


@rule("TL105")
def scheduler_before_optimizer_step(ctx: RuleContext) -> Iterator[Finding]:
    for lf in ctx.loops.loops_of(ctx.module):
        if not (lf.has(L.SCHED_STEP) and lf.has(*STEPS)):
            continue
        # The innermost loop holding both decides the order.
        if any(_loop_has_both(lf, lid) for lid in _inner_ids(lf)):
            continue
        first_step = lf.first(*STEPS)
        for e in lf.events:
            if e is first_step:
                break
            if e.kind != L.SCHED_STEP:
                continue
            if e.receiver is not None and (e.receiver.qual or "").endswith("ReduceLROnPlateau"):
                continue
            yield Finding(
                "TL105",
                e.module,
                e.node,
                "the learning-rate scheduler steps before `optimizer.step()` in this iteration, so the "
                "first value of the schedule is skipped and every step uses the next one. Call "
                "`scheduler.step()` after `optimizer.step()`.",
                related=[(first_step.module, first_step.node, "the optimizer step that comes later")] if first_step else [],
                severity=_severity(_guessed(e)),
            )
            break


def _inner_ids(lf: LoopFacts) -> Set[int]:
    return {lid for e in lf.events for lid in e.loops}


def _loop_has_both(lf: LoopFacts, lid: int) -> bool:
    ks = {e.kind for e in lf.events if lid in e.loops}
    return L.SCHED_STEP in ks and (L.STEP in ks or L.SCALER_STEP in ks)


@rule("TL106")
def clip_grad_misplaced(ctx: RuleContext) -> Iterator[Finding]:
    for lf in _iterations(ctx):
        evs = [e for e in lf.events if e.kind in (L.BACKWARD, L.CLIP) or e.kind in STEPS]
        for i, c in enumerate(evs):
            if c.kind != L.CLIP:
                continue
            prev = next((e for e in reversed(evs[:i]) if e.kind != L.CLIP), None)
            nxt = next((e for e in evs[i + 1 :] if e.kind != L.CLIP), None)
            before_backward = (prev is None or prev.kind in STEPS) and nxt is not None and nxt.kind == L.BACKWARD
            after_step = prev is not None and prev.kind in STEPS and (nxt is None or nxt.kind == L.BACKWARD)
            if not (before_backward or after_step):
                continue
            where = "before `backward()`" if before_backward and not after_step else "after `optimizer.step()`"
            yield Finding(
                "TL106",
                c.module,
                c.node,
                f"gradient clipping runs {where}, so the gradients the optimizer uses are never clipped. "
                "Clip between `backward()` and `optimizer.step()`.",
            )


@rule("TL107")
def grad_scaler_misuse(ctx: RuleContext) -> Iterator[Finding]:
    for lf in _iterations(ctx):
        sstep = lf.first(L.SCALER_STEP)
        if sstep is None:
            continue
        evs = lf.events
        unscaled = False
        seen_backward = False
        for e in evs:
            if e.kind == L.BACKWARD:
                seen_backward = True
                unscaled = False
            elif e.kind == L.SCALER_UNSCALE:
                unscaled = True
            elif e.kind == L.CLIP and seen_backward and not unscaled:
                yield Finding(
                    "TL107",
                    e.module,
                    e.node,
                    "gradients are clipped while still multiplied by the GradScaler's scale factor, so the "
                    "threshold means nothing. Call `scaler.unscale_(optimizer)` before clipping.",
                    related=[(sstep.module, sstep.node, "the scaler step")],
                )
            elif e.kind == L.SCALER_STEP:
                seen_backward = False
        if not lf.has(L.SCALER_UPDATE):
            yield Finding(
                "TL107",
                sstep.module,
                sstep.node,
                "`scaler.step()` is used without `scaler.update()`, so the loss scale never adapts "
                "(skipped steps repeat on overflow). Call `scaler.update()` after `scaler.step(optimizer)`.",
            )
        if not lf.has(L.SCALER_SCALE):
            plain = next((e for e in evs if e.kind == L.BACKWARD and not e.scaled and not e.engine), None)
            if plain is not None:
                yield Finding(
                    "TL107",
                    plain.module,
                    plain.node,
                    "`backward()` runs on the unscaled loss while `scaler.step()` unscales the gradients, "
                    "so they end up divided by the scale factor (tiny updates). Call "
                    "`scaler.scale(loss).backward()`.",
                    related=[(sstep.module, sstep.node, "the scaler step")],
                )


@rule("TL108")
def backward_under_no_grad(ctx: RuleContext) -> Iterator[Finding]:
    for lf in _iterations(ctx):
        for e in lf.events:
            if e.kind == L.BACKWARD and e.no_grad:
                yield Finding(
                    "TL108",
                    e.module,
                    e.node,
                    "`backward()` runs inside `torch.no_grad()`/`inference_mode()`; the loss has no graph, "
                    "so it raises or computes nothing. Compute the training forward and backward with "
                    "gradients enabled.",
                )
                break
        forwards: List[Event] = [e for e in lf.events if e.kind == L.FORWARD]
        if forwards and all(f.no_grad for f in forwards) and any(e.kind == L.BACKWARD and not e.no_grad for e in lf.events):
            f = forwards[0]
            yield Finding(
                "TL108",
                f.module,
                f.node,
                "the model's forward pass runs under `torch.no_grad()`, so the loss carries no graph back "
                "to the parameters and `backward()` fails or trains nothing. Run the training forward "
                "with gradients enabled.",
            )
