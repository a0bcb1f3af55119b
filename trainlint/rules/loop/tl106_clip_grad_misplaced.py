"""TL106 clip-grad-misplaced: Gradient clipping runs before `backward()` or after `step()`, so it clips nothing that matters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import loops as L
from trainlint.analysis.facts import Scope
from trainlint.analysis.loops import Event
from trainlint.analysis.purpose import training_loops
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import move_stmt, scaler_parts
from trainlint.fixes.core import SAFE, Locate, make_fix
from trainlint.fixes.edits import (
    parse_statement,
)
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, called_names, inner_iteration, iterations
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import (
    CLIP_NORM,
    BackwardCall,
    CallEvent,
    ClipCall,
    OptimizerStepCall,
)


@dataclass(frozen=True)
class Options:
    """Thresholds of the tracer's verdict on this rule's findings."""

    tolerance: float = 1e-3


def clip_grad_misplaced(ctx: RuleContext) -> Iterator[Finding]:
    reported: Set[int] = set()
    for lf in iterations(ctx):
        evs = [e for e in lf.events if e.kind in (L.BACKWARD, L.CLIP) or e.kind in STEPS]
        for i, c in enumerate(evs):
            if c.kind != L.CLIP:
                continue
            prev = next((e for e in reversed(evs[:i]) if e.kind != L.CLIP), None)
            nxt = next((e for e in evs[i + 1 :] if e.kind != L.CLIP), None)
            before_backward = (prev is None or prev.kind in STEPS) and nxt is not None and nxt.kind == L.BACKWARD
            after_step = prev is not None and prev.kind in STEPS and (nxt is None or nxt.kind == L.BACKWARD)
            if not (before_backward or after_step) or _measures_only(c):
                continue
            reported.add(id(c.node))
            where = "before `backward()`" if before_backward and not after_step else "after `optimizer.step()`"
            # The step the clip belongs before: the one after the backward, or the one it follows.
            target = prev if after_step else next((e for e in evs[i + 1 :] if e.kind in STEPS), None)
            unscale = target is not None and target.kind == L.SCALER_STEP and not lf.has(L.SCALER_UNSCALE)
            utility = _clipping_utility(ctx, c)
            if utility is not None:
                # (a project's `clip_gradients(model, cfg)`: the utility is right, its call is misplaced)
                caller, call = utility
                if id(call) in reported:
                    continue  # (a utility with a clip on each of its branches)
                reported.add(id(call))
                yield Finding(
                    "TL106",
                    caller.module,
                    call,
                    f"`{caller.module.tree.code_for_node(call.func)}(...)` clips the gradients {where}, so the "
                    "gradients the optimizer uses are never clipped. Call it between `backward()` and "
                    "`optimizer.step()`.",
                    related=[(c.module, c.node, "the clipping it runs")],
                )
                continue
            yield Finding(
                "TL106",
                c.module,
                c.node,
                f"gradient clipping runs {where}, so the gradients the optimizer uses are never clipped. "
                "Clip between `backward()` and `optimizer.step()`.",
                fix_builder=fixes.hook(fix_tl106, c, target, unscale) if target is not None else None,
            )
    yield from _clip_then_backward_in_helper(ctx, reported)
    yield from _clip_after_the_epochs_updates(ctx, reported)


def _clipping_utility(ctx: RuleContext, clip: Event) -> Optional[Tuple[Scope, cst.Call]]:
    """The call of a function that only clips (`def clip_gradients(model, config)`), reached
    from the loop through helpers: where its placement is decided."""
    if not clip.via:
        return None
    caller, call = clip.via[-1]
    if clip.scope.name == "<module>" or any(e.kind != L.CLIP for e in ctx.loops.body_events(clip.scope, 0)):
        return None
    return caller, call


def _clip_after_the_epochs_updates(ctx: RuleContext, reported: Set[int]) -> Iterator[Finding]:
    """An epoch loop whose inner loop (its own, or a training function's it calls) makes every
    update, with a clip in the epoch loop's own body after it and no step of its own: the clip
    only touches the gradients the epoch's last update already used."""
    for lf in training_loops(ctx.loops, ctx.module):
        if not inner_iteration(lf):
            continue
        evs = lf.events
        if any(e.kind in STEPS and not e.loops and not e.via for e in evs):
            continue  # (a step of the epoch loop itself: updates accumulated over the epoch)
        for i, c in enumerate(evs):
            if c.kind != L.CLIP or c.loops or c.via or id(c.node) in reported or _measures_only(c):
                continue
            update = next((e for e in reversed(evs[:i]) if e.kind in STEPS), None)
            if update is None:
                continue
            reported.add(id(c.node))
            where = update.via[0] if update.via else (update.scope, update.node)
            yield Finding(
                "TL106",
                c.module,
                c.node,
                "gradient clipping runs in the epoch loop, after the training loop has made the epoch's "
                "updates: it clips the gradients the last update already used, and every update ran "
                "unclipped. Clip in the training step, between `backward()` and `optimizer.step()` "
                "(after `scaler.unscale_(optimizer)` with a GradScaler).",
                related=[(where[0].module, where[1], "the updates of the epoch, made before the clip")],
            )


def _clip_then_backward_in_helper(ctx: RuleContext, reported: Set[int]) -> Iterator[Finding]:
    """A function with no loop of its own that clips and then calls `backward()` (a
    multi-task weighting's `backward(losses)` method): the clip sees the previous gradients
    and the new ones are never clipped, whoever calls it."""
    for scope in ctx.module.scopes:
        if scope.name == "<module>" or not _clips_and_backwards(scope):
            continue  # (most functions: decided on their own calls, without following any)
        evs = [
            e
            for e in ctx.loops.body_events(scope, 0)
            if (e.kind in (L.BACKWARD, L.CLIP) or e.kind in STEPS) and not e.loops and not e.via
        ]
        late = _clip_after_the_step(evs)
        if late is not None:
            clip, other = late
            message = (
                "gradient clipping runs after `optimizer.step()` in this function, so the update has already "
                "used the unclipped gradients: clipping them afterwards changes nothing the optimizer uses. "
                "Clip between `backward()` and `optimizer.step()`."
            )
            label, fix = "the optimizer step that comes first", fixes.hook(fix_tl106, clip, other)
        else:
            first = evs[0] if evs else None
            if first is None or first.kind != L.CLIP or _measures_only(first):
                continue
            after = next((e for e in evs if e.kind != L.CLIP), None)
            if after is None or after.kind != L.BACKWARD or after.exclusive_with(first):
                continue
            clip, other = first, after
            message = (
                "gradient clipping runs before `backward()` in this function, so it clips the previous "
                "gradients and the ones this backward computes reach the optimizer unclipped. Clip after "
                "`backward()`, just before the optimizer step."
            )
            label, fix = "the backward that comes later", fixes.hook(fix_tl106_after_backward, first, after)
        if id(clip.node) not in reported:
            yield Finding(
                "TL106", clip.module, clip.node, message, related=[(other.module, other.node, label)], fix_builder=fix
            )


def _clip_after_the_step(evs: List[Event]) -> Optional[Tuple[Event, Event]]:
    """(clip, step) when the function's last events are backward, step, then a clip with
    nothing after it (a per-batch step helper that clips once the update is made)."""
    if len(evs) < 3 or evs[-1].kind != L.CLIP or _measures_only(evs[-1]):
        return None
    clip = evs[-1]
    rest = [e for e in evs if e.kind != L.CLIP]
    if len(rest) < 2 or rest[-1].kind not in STEPS or rest[-2].kind != L.BACKWARD:
        return None
    step = rest[-1]
    return (clip, step) if not step.exclusive_with(clip) and not rest[-2].exclusive_with(step) else None


def _measures_only(clip: Event) -> bool:
    """`clip_grad_norm_(params, max_norm=float("inf"))` clips nothing: it measures the norm."""
    call = clip.node
    if not isinstance(call, cst.Call):
        return False
    args = [a for a in call.args if a.keyword is None]
    bound = next(
        (a.value for a in call.args if a.keyword is not None and a.keyword.value in ("max_norm", "clip_value")), None
    )
    if bound is None and len(args) >= 2:
        bound = args[1].value
    if bound is None:
        return False
    code = clip.module.tree.code_for_node(bound).replace(" ", "")
    return code in ('float("inf")', "float('inf')", "math.inf", "torch.inf", "np.inf", "numpy.inf", "inf")


def fix_tl106(locate: Locate, clip: Event, step: Event, unscale: bool = False) -> Optional[Fix]:
    """Move the clipping statement to just before the optimizer step that follows `backward()`
    (with a GradScaler that does not unscale yet, `scaler.unscale_(opt)` goes first)."""
    module = clip.module
    lead = None
    if unscale:
        parts = scaler_parts(module, step)
        if parts is None:
            return None
        lead = parse_statement(module, f"{parts[0]}.unscale_({parts[1]})")
    # Only a step written in the clip's own block: clipping inside an accumulation branch is
    # a different computation from clipping every micro-batch.
    changes = move_stmt(clip, step, after=False, allow_assign=True, same_block_only=True, lead=lead)
    return make_fix(module, changes, SAFE, "Clip between `backward()` and the optimizer step")


def _clips_and_backwards(scope: Scope) -> bool:
    """The function's own calls include a clipping and a `backward()`, by their names."""
    names = called_names(scope)
    return any(names[c] for c in _CLIPS) and names["backward"] > 0


_CLIPS = frozenset({"clip_grad_norm_", "clip_grad_value_", "clip_grad_norm"})


def fix_tl106_after_backward(locate: Locate, clip: Event, backward: Event) -> Optional[Fix]:
    """Move the clipping statement to just after the `backward()` that follows it."""
    changes = move_stmt(clip, backward, after=True, allow_assign=True, same_block_only=True)
    return make_fix(clip.module, changes, SAFE, "Clip after `backward()`")


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


def verdict_tl106(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
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


RULE = Rule(
    code="TL106",
    name="clip-grad-misplaced",
    family="loop",
    severity=WARNING,
    summary="Gradient clipping runs before `backward()` or after `step()`, so it clips nothing that matters.",
    fixable=True,
    options=Options,
    check=clip_grad_misplaced,
    fixes=(fix_tl106, fix_tl106_after_backward),
    verdict=verdict_tl106,
)
