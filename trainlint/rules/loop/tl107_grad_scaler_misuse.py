"""TL107 grad-scaler-misuse: The AMP `GradScaler` recipe is broken (unscale, update or scaled backward missing)."""

from __future__ import annotations

import re
from typing import Iterator, List, Optional, Set

import libcst as cst

from trainlint import fixes
from trainlint.analysis import loops as L
from trainlint.analysis import scopes as SC
from trainlint.analysis.autograd import backward_for_inputs
from trainlint.analysis.facts import Scope
from trainlint.analysis.loops import Event
from trainlint.analysis.names import dotted
from trainlint.analysis.purpose import not_training
from trainlint.analysis.symbols import return_values
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import receiver_code, scaler_parts
from trainlint.fixes.core import SAFE, Locate, make_fix, parent_of
from trainlint.fixes.edits import (
    insert_after,
    insert_before,
    parse_expression,
    parse_statement,
    same_place,
    source_of,
    statement_line,
)
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, called_names, counting_test, iterations, nodes_of_loops_with
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted, unverified
from trainlint.runtime.records import (
    BackwardCall,
    ClipCall,
    OptimizerStepCall,
    ScalerCall,
    ScalerMethod,
)


def grad_scaler_misuse(ctx: RuleContext) -> Iterator[Finding]:
    for lf in iterations(ctx):
        sstep = lf.first(L.SCALER_STEP)
        if sstep is None:
            yield from _plain_step_after_scaled_backward(lf.events)
            continue
        evs = lf.events
        yield from _clips_still_scaled(evs)
        yield from _update_skipped_after_unscale(evs)
        yield from _update_only_every_few_steps(evs, sstep)
        if not lf.has(L.SCALER_UPDATE) and not _updated_after_the_call(ctx, lf.scope):
            last = _last_scaler_step(evs, sstep)
            yield Finding(
                "TL107",
                sstep.module,
                sstep.node,
                "`scaler.step()` is used without `scaler.update()`, so the loss scale never adapts "
                "(skipped steps repeat on overflow). Call `scaler.update()` after `scaler.step(optimizer)`.",
                fix_builder=fixes.hook(fix_tl107_update, last) if last is not None else None,
            )
        for i, plain in enumerate(evs):
            if plain.kind != L.BACKWARD or plain.scaled or plain.engine or _scaled_name(ctx, plain):
                continue
            if plain.via and backward_for_inputs(plain.scope):
                continue  # an adversarial example made by a helper: no gradient of the weights
            if any(x.kind == L.BACKWARD and x.scaled and set(x.conds) & set(plain.conds) for x in evs):
                continue  # `if scaler is not None: scaler.scale(loss).backward() else: loss.backward()`
            nxt = next((x for x in evs[i + 1 :] if x.kind in STEPS and not x.exclusive_with(plain)), None)
            if nxt is not None and nxt.kind == L.SCALER_STEP:
                scalable = not _plain_step_after(evs, i)
                yield Finding(
                    "TL107",
                    plain.module,
                    plain.node,
                    "`backward()` runs on the unscaled loss while `scaler.step()` unscales the gradients, "
                    "so they end up divided by the scale factor (tiny updates). Call "
                    "`scaler.scale(loss).backward()`.",
                    related=[(sstep.module, sstep.node, "the scaler step")],
                    fix_builder=fixes.hook(fix_tl107_scale, plain, sstep) if scalable else None,
                )
    yield from _step_functions(ctx)


def _plain_step_after_scaled_backward(evs: List[Event]) -> Iterator[Finding]:
    """`scaler.scale(loss).backward()` and then `optimizer.step()`, with no scaler step or
    unscale in the iteration: the update uses gradients still multiplied by the loss scale."""
    if any(e.kind in (L.SCALER_STEP, L.SCALER_UNSCALE) for e in evs):
        return
    for i, b in enumerate(evs):
        if b.kind != L.BACKWARD or not b.scaled:
            continue
        step = next((x for x in evs[i + 1 :] if x.kind == L.STEP and not x.exclusive_with(b)), None)
        if step is None:
            return
        func = b.node.func if isinstance(b.node, cst.Call) else None
        scale = func.value if isinstance(func, cst.Attribute) else b.node  # (`scaler.scale(loss)`)
        scaler = receiver_code(b.module, scale) or "scaler"
        yield Finding(
            "TL107",
            step.module,
            step.node,
            f"the loss was scaled for backward (`{scaler}.scale(loss).backward()`), but this plain "
            "`optimizer.step()` applies the gradients still multiplied by the loss scale (thousands of "
            "times too large), never skips a step whose gradients overflowed, and the scale never "
            f"adapts. Step through the scaler: `{scaler}.step(optimizer)` then `{scaler}.update()`.",
            related=[(b.module, b.node, "the scaled backward")],
        )
        return


def _clips_still_scaled(evs: List[Event], skip: Optional[Set[int]] = None) -> Iterator[Finding]:
    """Clipping between a backward and a scaler step with no `scaler.unscale_` in between."""
    for i, e in enumerate(evs):
        if e.kind != L.CLIP or (skip is not None and id(e.node) in skip):
            continue
        # Only a clip that feeds a scaler step (not a plain step in a non-AMP branch).
        nxt = next((x for x in evs[i + 1 :] if x.kind in STEPS and not x.exclusive_with(e)), None)
        if nxt is None or nxt.kind != L.SCALER_STEP:
            continue
        # (the backward on the scaler step's path: not a plain `loss.backward()` on the other
        # arm of the `if` that picks AMP, when the scaled one is followed by `unscale_`)
        last_backward = max(
            (j for j in range(i) if evs[j].kind == L.BACKWARD and not evs[j].exclusive_with(nxt)), default=None
        )
        if last_backward is None or any(x.kind == L.SCALER_UNSCALE for x in evs[last_backward:i]):
            continue
        yield Finding(
            "TL107",
            e.module,
            e.node,
            "gradients are clipped while still multiplied by the GradScaler's scale factor, so the "
            "threshold means nothing. Call `scaler.unscale_(optimizer)` before clipping.",
            related=[(nxt.module, nxt.node, "the scaler step")],
            fix_builder=fixes.hook(fix_tl107_unscale, e, nxt) if _unscale_fits(evs, i, nxt) else None,
        )


# Conditions that switch AMP itself on or off: an update skipped with them skips the unscale too.
# A backend with its own loss scaling (DeepSpeed, apex, XLA) replaces the GradScaler on its arm.
_AMP_SWITCH = re.compile(
    r"scaler|amp|fp16|half|enabled|mixed|precision|cuda|device|deepspeed|apex|tpu|xla", re.IGNORECASE
)


def _update_skipped_after_unscale(evs: List[Event]) -> Iterator[Finding]:
    """`scaler.unscale_(opt)` runs, then `scaler.update()` sits under a condition the unscale
    is not under (a step skipped when the gradient norm is too large): on that path the scaler
    stays "unscaled" and the next iteration's `unscale_` raises."""
    for u in evs:
        if u.kind != L.SCALER_UNSCALE or u.via:
            continue
        updates = [x for x in evs if x.kind == L.SCALER_UPDATE and not x.exclusive_with(u) and not x.via]
        updates = [x for x in updates if x.scope is u.scope and SC.follows(u.scope, u.node, x.node)]
        if not updates or any(a.exclusive_with(b) for a in updates for b in updates):
            continue  # none here, or one update on each arm of a choice
        guards = [g for x in updates if (g := _extra_guards(u, x))]
        if len(guards) < len(updates):
            continue  # an update runs whenever the unscale did (or the shape is not followed)
        tests = [u.module.tree.code_for_node(i.test) for g in guards for i in g]
        if any(_AMP_SWITCH.search(t) for t in tests):
            continue
        x = updates[0]
        first = guards[0][0]
        runs = "only runs when" if any(n is x.node for n in walk(first.body)) else "is skipped when"
        yield Finding(
            "TL107",
            x.module,
            x.node,
            f"`scaler.update()` {runs} `{tests[0]}`, but `scaler.unscale_()` has already run "
            "by then: on the other path the GradScaler stays in its unscaled state and the next "
            "iteration's `unscale_()` raises (\"unscale_() has already been called on this optimizer "
            'since the last update()"). Skip only `scaler.step(optimizer)` there and call '
            "`scaler.update()` on every iteration that unscaled.",
            related=[(u.module, u.node, "the gradients are unscaled here")],
        )
        return


def _update_only_every_few_steps(evs: List[Event], sstep: Event) -> Iterator[Finding]:
    """`scaler.step(optimizer)` every iteration, but `scaler.update()` only under a periodic
    test the step is not under (`if batch_idx % 100 == 0: scaler.update(scale * 2)`): the second
    step before an update raises, and the scale does not adapt in between."""
    updates = [x for x in evs if x.kind == L.SCALER_UPDATE]
    if not updates or sstep.via or any(x.via or x.scope is not sstep.scope for x in updates):
        return
    tests: List[str] = []
    for x in updates:
        guards = _extra_guards(sstep, x)
        periodic = [g for g in guards or [] if counting_test(g.test)]
        if not periodic:
            return  # an update that runs with the step
        tests.append(x.module.tree.code_for_node(periodic[0].test))
    x = updates[0]
    yield Finding(
        "TL107",
        sstep.module,
        sstep.node,
        f"`scaler.step()` runs on every iteration, but `scaler.update()` only when `{tests[0]}`: "
        'with the scaler enabled, the next `scaler.step()` raises ("step() has already been called '
        'since the last update()"), and the loss scale does not adapt to overflows in between. Call '
        "`scaler.update()` right after every `scaler.step(optimizer)`; a periodic change of the "
        "scale can stay where it is.",
        related=[(x.module, x.node, "the only `scaler.update()` of the iteration")],
    )


def _extra_guards(u: Event, update: Event) -> Optional[List[cst.If]]:
    """The `if` statements around `update` that are not around `u` and not the same test
    repeated (None when something other than an `if` stands between them)."""
    around_u = SC.enclosing(u.scope, u.node)
    own = {id(n) for n in around_u}
    u_tests = {u.module.tree.code_for_node(n.test) for n in around_u if isinstance(n, cst.If)}
    extra: List[cst.If] = []
    for n in SC.enclosing(update.scope, update.node):
        if id(n) in own:
            continue
        if not isinstance(n, cst.If):
            return None
        if u.module.tree.code_for_node(n.test) not in u_tests:
            extra.append(n)
    return extra


def _unscale_fits(evs: List[Event], i: int, sstep: Event) -> bool:
    """`unscale_` before the clip at `evs[i]` runs once per scaler step: the clip is in no loop
    and under no condition that the step is not (a clip on each micro-batch of an accumulation
    would unscale twice before one step, and mix unscaled gradients with scaled ones), and no
    `unscale_` follows it before the step."""
    clip = evs[i]
    if set(clip.loops) != set(sstep.loops) or not set(sstep.conds) <= set(clip.conds):
        return False
    if clip.exclusive_with(sstep):
        return False
    j = evs.index(sstep)
    return not any(x.kind == L.SCALER_UNSCALE and not x.exclusive_with(clip) for x in evs[i + 1 : j])


def _last_scaler_step(evs: List[Event], first: Event) -> Optional[Event]:
    """Where `update()` goes: after the iteration's last step through the same scaler (one
    update after all optimizers have stepped), when every such step is in one block and in
    no inner loop; an update between two steps would unscale the second optimizer's gradients
    by a scale they were not multiplied by."""
    scaler = receiver_code(first.module, first.node)
    steps = [
        e
        for e in evs
        if e.kind == L.SCALER_STEP
        and not e.exclusive_with(first)
        and e.module is first.module
        and receiver_code(e.module, e.node) == scaler
    ]
    lines = [statement_line(e.module, e.node) for e in steps]
    if any(e.loops != first.loops or not same_place(e.scope, e.via, first.scope, first.via) for e in steps):
        return None
    if None in lines:
        return None
    if len({id(parent_of(first.module, ln)) for ln in lines if ln is not None}) != 1:
        return None
    return steps[-1]


def _plain_step_after(evs: List[Event], i: int) -> bool:
    """A plain `opt.step()` also uses the gradients of the backward at `evs[i]` (before the next
    backward): scaling that backward would hand it scaled gradients."""
    for x in evs[i + 1 :]:
        if x.kind == L.BACKWARD:
            return False
        if x.kind == L.STEP and not x.exclusive_with(evs[i]):
            return True
    return False


def _step_functions(ctx: RuleContext) -> Iterator[Finding]:
    """A function that holds the whole AMP step (`scaler.scale(loss).backward()` ... `scaler.step`),
    called once per batch from a loop elsewhere (an optimizer wrapper's `step(loss)`): its clips
    are judged like a loop's, unless a loop of the project already covers them."""
    covered: Optional[Set[int]] = None
    for scope in ctx.module.scopes:
        if scope.name == "<module>" or not_training(scope):
            continue
        if _scales_and_steps(scope):
            evs = [e for e in ctx.loops.body_events(scope, 0) if not e.via]
            if any(e.kind == L.BACKWARD and e.scaled for e in evs) and any(e.kind == L.SCALER_STEP for e in evs):
                if covered is None:
                    covered = nodes_of_loops_with(ctx, (L.CLIP,), (L.SCALER_STEP,))
                yield from _clips_still_scaled(evs, covered)
        elif _clips_and_steps(scope) and _scaled_nowhere_unscaled(ctx):
            evs = [e for e in ctx.loops.body_events(scope, 0) if not e.via]
            if not any(e.kind == L.BACKWARD for e in evs):
                # (a loop of its own over the optimizers, with no backward, judges nothing)
                yield from _clips_before_scaler_step(evs, nodes_of_loops_with(ctx, (L.CLIP,), (L.BACKWARD,)))


def _clips_and_steps(scope: Scope) -> bool:
    names = called_names(scope)
    return names["step"] > 0 and any(names[n] > 0 for n in ("clip_grad_norm_", "clip_grad_value_", "clip_grad_norm"))


def _scaled_nowhere_unscaled(ctx: RuleContext) -> bool:
    """The module scales a loss (`scaler.scale(loss)`) and no file of the project ever calls
    `unscale_`: gradients reach any clip still multiplied by the scale."""
    return ".scale(" in ctx.module.text and not any("unscale_" in m.text for m in ctx.project.modules)


def _clips_before_scaler_step(evs: List[Event], skip: Set[int]) -> Iterator[Finding]:
    """A trainer's `update()` that clips and then calls `scaler.step()`, its backward run by the
    caller (`loss = trainer(x); loss.backward(); trainer.update()`)."""
    for i, e in enumerate(evs):
        if e.kind != L.CLIP or id(e.node) in skip:
            continue
        nxt = next((x for x in evs[i + 1 :] if x.kind in STEPS and not x.exclusive_with(e)), None)
        if nxt is None or nxt.kind != L.SCALER_STEP:
            continue
        yield Finding(
            "TL107",
            e.module,
            e.node,
            "gradients are clipped before `scaler.step()` and nothing in the project calls "
            "`scaler.unscale_()`: the gradients of the scaled loss are still multiplied by the "
            "GradScaler's scale factor here, so the threshold means nothing. Call "
            "`scaler.unscale_(optimizer)` before clipping.",
            related=[(nxt.module, nxt.node, "the scaler step")],
            fix_builder=fixes.hook(fix_tl107_unscale, e, nxt) if _unscale_fits(evs, i, nxt) else None,
        )


def _updated_after_the_call(ctx: RuleContext, fn: Scope) -> bool:
    """Every caller of the function that steps calls `scaler.update()` after the call (a trainer
    whose `_train_batch()` steps through the scaler and whose loop updates it once the batch
    is done)."""
    callers = ctx.project.callers(fn)
    if not callers or not isinstance(fn.node, cst.FunctionDef):
        return False
    for caller, call in callers:
        if not any(
            isinstance(c.func, cst.Attribute)
            and c.func.attr.value == "update"
            and "scaler" in (dotted(c.func.value) or "")
            and SC.follows(caller, call, c)
            for c in caller.calls
        ):
            return False
    return True


def _scales_and_steps(scope: Scope) -> bool:
    """The function's own calls include `x.scale(...)` and `x.step(...)`, by their names."""
    names = called_names(scope)
    return names["scale"] > 0 and names["step"] > 0


def _scaled_name(ctx: RuleContext, backward: Event) -> bool:
    """`scaled = scaler.scale(loss); scaled.backward()`."""
    arg = backward.arg
    if not isinstance(arg, cst.Name):
        return False
    for b in backward.scope.bindings.get(arg.value, []):
        v = b.value
        if isinstance(v, cst.Call) and isinstance(v.func, cst.Name) and v.func.value == "cast" and len(v.args) == 2:
            v = v.args[1].value  # `typing.cast(torch.Tensor, scaler.scale(loss))`
        if L.is_scale_call(v):
            return True
        if isinstance(v, cst.Call) and _returns_scaled(ctx, v, backward.scope):
            return True  # `loss = trainer(x)` whose forward returns `self.scaler.scale(loss)`
    return False


def _returns_scaled(ctx: RuleContext, call: cst.Call, scope: Scope) -> bool:
    """The project function or model called returns a scaler's `.scale(...)`."""
    callee = ctx.project.resolve_callee(call.func, scope) or ctx.resolver.forward_of(call.func, scope)
    return isinstance(callee, Scope) and any(L.is_scale_call(r) for r in return_values(callee))


def fix_tl107_unscale(locate: Locate, clip: Event, sstep: Event) -> Optional[Fix]:
    """`scaler.unscale_(opt)` before clipping, so the threshold applies to the true gradients."""
    module = clip.module
    parts = scaler_parts(module, sstep)
    line = statement_line(module, clip.node)
    if parts is None or line is None or not same_place(clip.scope, clip.via, sstep.scope, sstep.via):
        return None
    scaler, opt = parts
    if not _bound_before(clip, scaler) or not _bound_before(clip, opt):
        return None  # (`scaler = getattr(self, ...)` only after the clip: the call would fail)
    changes = insert_before(line, parse_statement(module, f"{scaler}.unscale_({opt})"))
    return make_fix(module, changes, SAFE, f"Call `{scaler}.unscale_({opt})` before clipping")


def _bound_before(clip: Event, code: str) -> bool:
    """The name `code` starts with holds a value where the clip runs (a local bound only after
    it would make an inserted call fail)."""
    root = re.split(r"[^\w]", code, maxsplit=1)[0]
    if root not in clip.scope.bindings:
        return True  # a parameter, a global, `self`
    defs, open_before = SC.scope_index(clip.scope).reaching(root, clip.node)
    return bool(defs) and not open_before


def fix_tl107_update(locate: Locate, sstep: Event) -> Optional[Fix]:
    """`scaler.update()` right after `scaler.step(opt)`."""
    module = sstep.module
    scaler = receiver_code(module, sstep.node)
    line = statement_line(module, sstep.node)
    if scaler is None or line is None:
        return None
    changes = insert_after(line, parse_statement(module, f"{scaler}.update()"))
    return make_fix(module, changes, SAFE, f"Call `{scaler}.update()` after `{scaler}.step(...)`")


def fix_tl107_scale(locate: Locate, backward: Event, sstep: Event) -> Optional[Fix]:
    """`loss.backward()` -> `scaler.scale(loss).backward()`."""
    module = backward.module
    scaler = receiver_code(module, sstep.node)
    call = backward.node
    if scaler is None or not same_place(backward.scope, backward.via, sstep.scope, sstep.via):
        return None
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute) or call.args:
        return None
    if statement_line(module, call) is None:
        return None
    loss = call.func.value
    scaled = cst.Call(func=parse_expression(module, f"{scaler}.scale"), args=[cst.Arg(loss)])
    new = call.with_changes(func=call.func.with_changes(value=scaled))
    return make_fix(
        module, {call: new}, SAFE, f"Scale the loss: `{scaler}.scale({source_of(module, loss)}).backward()`"
    )


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


def verdict_tl107(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
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


RULE = Rule(
    code="TL107",
    name="grad-scaler-misuse",
    family="loop",
    severity=ERROR,
    summary="The AMP `GradScaler` recipe is broken (unscale, update or scaled backward missing).",
    fixable=True,
    check=grad_scaler_misuse,
    fixes=(
        fix_tl107_unscale,
        fix_tl107_update,
        fix_tl107_scale,
    ),
    verdict=verdict_tl107,
)
