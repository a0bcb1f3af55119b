"""TL104 missing-backward: The optimizer steps but no gradients are ever computed."""

from __future__ import annotations

from typing import Iterator, List, Optional, Set

import libcst as cst

from trainlint.analysis import loops as L
from trainlint.analysis.facts import Scope
from trainlint.analysis.frameworks import is_lightning_module
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.purpose import not_training, training_loops
from trainlint.analysis.scopes import scope_index
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, guess_severity, guessed, nodes_of_loops_with, opt_name
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted
from trainlint.runtime.records import (
    AutogradGradCall,
    BackwardCall,
)


def _backwarded_steps(ctx: RuleContext) -> Set[int]:
    """Ids of step nodes that some loop of the project precedes with a backward."""
    return nodes_of_loops_with(ctx, STEPS, (L.BACKWARD, L.AUTOGRAD_GRAD))


def missing_backward(ctx: RuleContext) -> Iterator[Finding]:
    seen: Set[int] = set()
    for lf in training_loops(ctx.loops, ctx.module):
        step = lf.first(L.STEP, L.SCALER_STEP)
        if step is None:
            continue
        if lf.has(L.BACKWARD, L.AUTOGRAD_GRAD):
            step = _step_after_clear(lf)
            if step is None or id(step.node) in seen:
                continue
        elif id(step.node) in seen or not _computes_a_loss(lf) or id(step.node) in _backwarded_steps(ctx):
            continue  # (the project-wide search last: it follows every loop of every module)
        if _takes_a_loss(ctx, step):
            continue
        seen.add(id(step.node))
        yield _finding(
            step,
            f"`{_step_text(step)}` runs but nothing in the loop calls `backward()`, so there are no "
            f"gradients to apply and the parameters never change. Call {_backward_text(lf)} before `step()`.",
        )
    yield from _batch_methods_without_backward(ctx, seen)


# Methods a training framework calls once per batch, which do the whole update when overridden
# (SpeechBrain's `Brain.fit_batch`, a GAN's `optimize_parameters`, a trainer's `train_step`).
_BATCH_METHODS = frozenset(
    {"fit_batch", "train_step", "train_batch", "train_on_batch", "train_one_batch", "optimize_parameters"}
)


def _batch_methods_without_backward(ctx: RuleContext, seen: Set[int]) -> Iterator[Finding]:
    """A per-batch training method, outside any loop of its own, that computes a loss and steps
    the optimizer but never backpropagates: its caller (the framework's loop, out of sight)
    runs it once per batch, so the step applies no gradients."""
    for scope in ctx.module.scopes:
        if scope.simple_name not in _BATCH_METHODS or scope.cls is None or not_training(scope):
            continue
        if is_lightning_module(scope.cls):
            continue
        events = ctx.loops.body_events(scope, 0)
        step = next((e for e in events if e.kind in (L.STEP, L.SCALER_STEP) and not e.loops), None)
        if step is None or id(step.node) in seen or any(e.kind in (L.BACKWARD, L.AUTOGRAD_GRAD) for e in events):
            continue
        if not _loss_made_in(scope, events) or _takes_a_loss(ctx, step) or id(step.node) in _backwarded_steps(ctx):
            continue
        seen.add(id(step.node))
        yield _finding(
            step,
            f"`{_step_text(step)}` runs in `{scope.simple_name}`, which computes the batch's loss but never "
            "calls `backward()` on it: the step has no gradients to apply and the parameters never "
            f"change. Call `loss.backward()` before `step()` (or leave the backward to the framework's "
            f"own `{scope.simple_name}`).",
        )


def _finding(step: Event, message: str) -> Finding:
    return Finding("TL104", step.module, step.node, message, severity=guess_severity(guessed(step)))


def _loss_made_in(scope: Scope, events: List[Event]) -> bool:
    """A loss call among the events, or a name with "loss" in it bound to a call's result."""
    if any(e.kind in (L.LOSS, L.SCALER_SCALE) for e in events):
        return True
    return any(
        "loss" in name.lower() and any(isinstance(b.value, cst.Call) and b.how == "assign" for b in binds)
        for name, binds in scope.bindings.items()
    )


def _step_text(step: Event) -> str:
    if step.kind == L.SCALER_STEP and isinstance(step.node, cst.Call):
        return step.module.tree.code_for_node(step.node)  # `scaler.step(optimizer)`
    return f"{opt_name(step)}.step()"


def _backward_text(lf: LoopFacts) -> str:
    scaled = lf.first(L.SCALER_SCALE)
    if scaled is not None and isinstance(scaled.node, cst.Call):
        # `scaler.scale(loss)` alone only multiplies the loss: its result must be backpropagated
        return f"`{scaled.module.tree.code_for_node(scaled.node)}.backward()`"
    return "`loss.backward()`"


def _computes_a_loss(lf: LoopFacts) -> bool:
    """A loss made in the loop: a loss call, a loss scaled for mixed precision
    (`scaler.scale(loss)`), or a model that returns its loss (`loss = model(x, labels=y)`)."""
    if lf.has(L.LOSS, L.SCALER_SCALE):
        return True
    for e in lf.events:
        if e.kind == L.FORWARD and not e.via:
            for name, defs in scope_index(e.scope).defs.items():
                if "loss" in name.lower() and any(d.value is e.node and not d.path for d in defs):
                    return True
    return False


def _takes_a_loss(ctx: RuleContext, step: Event) -> bool:
    """`diffopt.step(loss)`: a differentiable optimizer (higher, learn2learn) that takes the
    loss and differentiates it itself. A torch optimizer's only argument is a closure."""
    node = step.node
    if step.kind != L.STEP or not isinstance(node, cst.Call) or not node.args:
        return False  # (`scaler.step(optimizer)` takes the optimizer)
    arg = node.args[0].value
    if isinstance(arg, cst.Lambda) or (node.args[0].keyword is not None and node.args[0].keyword.value == "closure"):
        return False
    return not isinstance(ctx.project.resolve_callee(arg, step.scope), Scope) if isinstance(arg, cst.Name) else True


def _step_after_clear(lf: LoopFacts) -> Optional[Event]:
    """A step whose optimizer was cleared, with no backward at all since the previous step
    (looking back around the loop): e.g. a GAN's discriminator whose backward went missing.
    A backward followed by the clear is TL102's case, not this one."""
    evs = [e for e in lf.events if e.kind in (L.BACKWARD, L.AUTOGRAD_GRAD, L.ZERO_GRAD) or e.kind in STEPS]
    n = len(evs)
    for i, s in enumerate(evs):
        if s.kind not in STEPS or s.receiver is None or s.receiver.guess or s.receiver.origin is None:
            continue
        cleared = backward = False
        for k in range(1, n):
            e = evs[(i - k) % n]
            if e.kind in STEPS:
                break
            if e.kind in (L.BACKWARD, L.AUTOGRAD_GRAD):
                backward = True
                break
            if (
                e.kind == L.ZERO_GRAD
                and e.receiver is not None
                and e.receiver.origin is s.receiver.origin
                and set(e.conds) <= set(s.conds)
            ):
                cleared = True  # (a clear under a test the step is not under may be skipped)
        if cleared and not backward:
            return s
    return None


def verdict_tl104(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
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


RULE = Rule(
    code="TL104",
    name="missing-backward",
    family="loop",
    severity=ERROR,
    summary="The optimizer steps but no gradients are ever computed.",
    check=missing_backward,
    verdict=verdict_tl104,
)
