"""TL102 zero-grad-before-step: `zero_grad()` runs between `backward()` and `step()`, so the step sees no gradient."""

from __future__ import annotations

from typing import Iterator, Optional, Sequence, Tuple

from trainlint import fixes
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis.facts import Scope
from trainlint.analysis.loops import Event
from trainlint.analysis.purpose import not_training
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import move_stmt
from trainlint.fixes.core import SAFE, Locate, make_fix
from trainlint.fixes.edits import (
    source_of,
)
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, called_names, iterations
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import (
    StepRecord,
    ZeroGradCall,
)


def zero_grad_before_step(ctx: RuleContext) -> Iterator[Finding]:
    for lf in iterations(ctx):
        yield from _cleared_before_step(lf.events)
    for scope in _step_functions(ctx):
        yield from _cleared_before_step(ctx.loops.body_events(scope, 0))


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
        if z.conds and z.conds != nxt.conds[: len(z.conds)]:
            continue  # a clear on a branch the step is not on (e.g. skipping a bad batch)
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
            fix_builder=fixes.hook(fix_tl102, z, nxt),
        )


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
