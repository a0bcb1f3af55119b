"""TL102 zero-grad-before-step: `zero_grad()` runs between `backward()` and `step()`, so the step sees no gradient."""

from __future__ import annotations

from typing import Callable, Dict, Iterator, Optional, Sequence, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis.facts import Scope
from trainlint.analysis.loops import Event
from trainlint.analysis.purpose import not_training
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import move_stmt
from trainlint.fixes.core import SAFE, Locate, make_fix
from trainlint.fixes.edits import (
    source_of,
)
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, accumulation_test, called_names, iterations
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import (
    StepRecord,
    ZeroGradCall,
)


def zero_grad_before_step(ctx: RuleContext) -> Iterator[Finding]:
    for lf in iterations(ctx):
        yield from _cleared_before_step(lf.events)
        yield from _cleared_before_step_of_next_pass(lf.events)
        yield from _cleared_every_micro_batch(lf.node, lf.events)
    for scope in _step_functions(ctx):
        yield from _cleared_before_step(ctx.loops.body_events(scope, 0))
        yield from _cleared_every_micro_batch(scope.node, ctx.loops.body_events(scope, 0))
    for scope in _accumulating_functions(ctx):
        yield from _cleared_every_micro_batch(scope.node, ctx.loops.body_events(scope, 0))


def _step_functions(ctx: RuleContext) -> Iterator[Scope]:
    """Functions that are one whole training step with no loop of their own, called once per
    batch from out of sight: a Lightning `training_step` under manual optimization, a GAN's
    `step(batch)` that no project code calls."""
    for scope in ctx.module.scopes:
        names = called_names(scope)
        if scope.name == "<module>" or not names["zero_grad"] or not names["step"]:
            continue
        if not (names["backward"] or names["manual_backward"]) or not_training(scope):
            continue
        if ctx.project.callers(scope) or any(e.loops for e in ctx.loops.body_events(scope, 0)):
            continue  # called from a loop in sight, or a loop of its own: judged as a loop
        yield scope


def _cleared_before_step(events: Sequence[Event]) -> Iterator[Finding]:
    evs = [e for e in events if e.kind in (L.BACKWARD, L.ZERO_GRAD) or e.kind in STEPS]
    for i, z in enumerate(evs):
        if z.kind != L.ZERO_GRAD or i == 0:
            continue
        prev = evs[i - 1]
        nxt = next((e for e in evs[i + 1 :] if e.kind != L.ZERO_GRAD), None)
        if prev.kind != L.BACKWARD or nxt is None or nxt.kind not in STEPS:
            continue
        if (z.conds and z.conds != nxt.conds[: len(z.conds)]) or z.exclusive_with(nxt):
            continue  # a clear on a branch the step is not on (skipping a bad batch, a frozen optimizer)
        zr, sr = z.receiver, nxt.receiver
        if zr is not None and sr is not None and zr.kind == K.OPTIMIZER and sr.kind == K.OPTIMIZER:
            if zr.origin is not None and sr.origin is not None and zr.origin is not sr.origin:
                continue  # another optimizer's gradients (e.g. a GAN's other network)
        yield _cleared(
            z,
            prev,
            nxt,
            "`zero_grad()` runs after `backward()` and before `step()`, so the optimizer steps on "
            "cleared gradients and the parameters never change. Move `zero_grad()` before "
            "`backward()` (start of the iteration) or after `step()`.",
            fix_builder=fixes.hook(fix_tl102, z, nxt),
        )


def _cleared_before_step_of_next_pass(events: Sequence[Event]) -> Iterator[Finding]:
    """A loop that clears, steps, then backpropagates (`opt.zero_grad(); opt.step(...);
    loss.backward()`, every one unconditional): each backward feeds the next pass's step, and
    the clear at the top of that pass wipes it first. A step given a closure that backpropagates
    itself (`LBFGS`) computes its own gradients."""
    evs = [e for e in events if e.kind in (L.BACKWARD, L.ZERO_GRAD) or e.kind in STEPS]
    if len(evs) < 3 or any(e.conds or e.via for e in evs):
        return
    z, step, last = evs[0], evs[1], evs[-1]
    if z.kind != L.ZERO_GRAD or step.kind not in STEPS or last.kind != L.BACKWARD:
        return
    if any(e.kind == L.BACKWARD for e in evs[:-1]) or _closure_backpropagates(step):
        return
    yield _cleared(
        z,
        last,
        step,
        "`zero_grad()` runs at the top of the loop, between the previous pass's `backward()` (at the "
        "end of the loop) and this pass's `step()`, so the optimizer steps on cleared gradients and "
        "the parameters never change. Clear the gradients right after `step()` (or before "
        "`backward()`).",
    )


def _cleared(
    z: Event, backward: Event, step: Event, message: str, fix_builder: Optional[Callable[..., Optional[Fix]]] = None
) -> Finding:
    """The finding at the clear `z`, naming the backward it wipes and the step that follows."""
    return Finding(
        "TL102",
        z.module,
        z.node,
        message,
        related=[
            (backward.module, backward.node, "the backward whose gradients are cleared"),
            (step.module, step.node, "the step that then sees no gradient"),
        ],
        fix_builder=fix_builder,
    )


def _closure_backpropagates(step: Event) -> bool:
    """`optimizer.step(closure)` where the closure (a local function or a lambda) calls
    `backward()`, or whose closure is out of sight."""
    call = step.node
    if not isinstance(call, cst.Call) or not call.args:
        return False
    closure = call.args[0].value
    if isinstance(closure, cst.Name):
        fn = step.scope.local_defs.get(closure.value)
        if fn is None:
            return True
        closure = fn  # type: ignore[assignment]
    return any(isinstance(n, cst.Attribute) and n.attr.value in ("backward", "manual_backward") for n in walk(closure))


def _accumulating_functions(ctx: RuleContext) -> Iterator[Scope]:
    """Functions that clear and step an optimizer themselves around a loop of their own that
    backpropagates micro-batches (`for b in batches: opt.zero_grad(); backward(b)`, then
    `opt.step()`): the loop is not an iteration (no step inside), so `iterations` misses it."""
    for scope in ctx.module.scopes:
        names = called_names(scope)
        if scope.name == "<module>" or not names["zero_grad"] or not names["step"] or not_training(scope):
            continue
        events = ctx.loops.body_events(scope, 0)
        if any(e.loops for e in events if e.kind == L.ZERO_GRAD):
            yield scope


def _cleared_every_micro_batch(root: cst.CSTNode, events: Sequence[Event]) -> Iterator[Finding]:
    """`zero_grad()` that runs for every micro-batch while the step runs once for several:
    inside an inner loop that backpropagates each micro-batch, with the step after that loop,
    or every iteration while the step waits for an accumulation test (`if (i + 1) % k == 0:`).
    Each clear wipes what the previous micro-batches accumulated, so the step sees the last
    micro-batch only. (`root`: the loop or function the events are relative to.)"""
    nodes: Optional[Dict[int, cst.CSTNode]] = None
    one = len({_receiver_text(e) for e in events if e.kind in STEPS}) == 1
    for i, s in enumerate(events):
        if s.kind not in STEPS or s.via:
            continue
        for j, z in enumerate(events[:i]):
            if z.kind != L.ZERO_GRAD or z.exclusive_with(s) or not _same_optimizer(z, s, one):
                continue
            if any(e.kind == L.ZERO_GRAD and _same_optimizer(e, s, one) for e in events[j + 1 : i]):
                continue  # a later clear is the one that matters
            backward = next((b for b in events[j + 1 : i] if b.kind == L.BACKWARD), None)
            if backward is None or backward.exclusive_with(z):
                continue
            nodes = nodes if nodes is not None else {id(n): n for n in walk(root)}
            why = _more_often(z, backward, s, nodes)
            if why is None:
                continue
            yield Finding(
                "TL102",
                z.module,
                z.node,
                f"`zero_grad()` runs {why}, and `step()` only once for several of them: each clear wipes "
                "the gradients the previous micro-batches accumulated, so the step uses the last "
                "micro-batch alone and gradient accumulation does nothing. Clear the gradients after "
                "`step()` (or once before the micro-batches), next to the step.",
                related=[
                    (backward.module, backward.node, "the backward of each micro-batch"),
                    (s.module, s.node, "the step that should see all of them"),
                ],
            )
            break


def _same_optimizer(clear: Event, step: Event, one_optimizer: bool) -> bool:
    """The clear is of the optimizer the step updates: the same constructed optimizer, else the
    same spelling (`self.optimizer`, `minopts[name]` is not `feopt`); a model's `zero_grad()`
    where the loop steps one optimizer only."""
    zr, sr = clear.receiver, step.receiver
    if zr is not None and sr is not None and zr.kind == K.OPTIMIZER and sr.kind == K.OPTIMIZER:
        if zr.origin is not None and sr.origin is not None:
            return zr.origin is sr.origin
    if zr is not None and zr.kind == K.MODEL:
        return one_optimizer
    mine, theirs = _receiver_text(clear), _receiver_text(step)
    return mine is not None and mine == theirs


def _receiver_text(e: Event) -> Optional[str]:
    """`self.optimizer` of `self.optimizer.step()`; the optimizer of `scaler.step(opt)`."""
    call = e.node
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    if e.kind == L.SCALER_STEP:
        return e.module.tree.code_for_node(call.args[0].value) if call.args else None
    return e.module.tree.code_for_node(call.func.value)


def _more_often(z: Event, backward: Event, step: Event, nodes: Dict[int, cst.CSTNode]) -> Optional[str]:
    """How the clear runs more often than the step, with the backward beside it; None when it
    does not."""
    inner = [x for x in z.loops if x not in step.loops]
    if inner and step.loops == z.loops[: len(step.loops)]:
        loop = nodes.get(inner[0])
        if inner[0] not in backward.loops or not isinstance(loop, cst.For) or _reads_grads(loop):
            return None  # (per-sample gradients read in the loop: the clear is wanted)
        if any(isinstance(n, cst.Break) for n in walk(loop.body)):
            return None  # a retry loop (`for attempt in ...: try: ...; break`), run once
        return "for every micro-batch of the inner loop"
    if z.loops != step.loops or z.conds != step.conds[: len(z.conds)] or backward.conds != z.conds:
        return None
    extra = [nodes.get(c) for c in step.conds[len(z.conds) :]]
    if extra and all(isinstance(n, cst.If) and accumulation_test(n.test) for n in extra[:1]):
        return "before the backward of every iteration"
    return None


def _reads_grads(loop: cst.CSTNode) -> bool:
    return any(isinstance(n, cst.Attribute) and n.attr.value in ("grad", "grad_sample") for n in walk(loop))


def fix_tl102(locate: Locate, zero: Event, step: Event) -> Optional[Fix]:
    """Move `zero_grad()` from between `backward()` and `step()` to just after the step; not
    past a `continue` (or any early exit) on the way, where the clear would stop running."""
    changes = move_stmt(zero, step, after=True)
    what = source_of(zero.module, zero.node)
    return make_fix(zero.module, changes, SAFE, f"Move `{what}` after `{source_of(step.module, step.node)}`")


def _grad_state(step: StepRecord) -> Tuple[int, int, int]:
    """(parameters, parameters with a non-zero gradient, parameters that received one in backward)."""
    params = step.params
    nonzero = sum(1 for p in params if finite(p.grad) and p.grad > 0 or isinstance(p.grad, str))
    received = sum(1 for p in params if p.received)
    return len(params), nonzero, received


def verdict_tl102(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
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


RULE = Rule(
    code="TL102",
    name="zero-grad-before-step",
    family="loop",
    severity=ERROR,
    summary="`zero_grad()` runs between `backward()` and `step()`, so the step sees no gradient.",
    fixable=True,
    check=zero_grad_before_step,
    fixes=(fix_tl102,),
    verdict=verdict_tl102,
)
