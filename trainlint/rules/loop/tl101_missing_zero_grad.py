"""TL101 missing-zero-grad: Gradients are never cleared in a training loop, so they accumulate across steps."""

from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple

from trainlint import fixes
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.symbols import Value
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import root_name, stepped_optimizer
from trainlint.fixes.core import SAFE, UNSAFE, Locate, make_fix
from trainlint.fixes.edits import (
    bound_before,
    insert_after,
    insert_before,
    parse_statement,
    same_place,
    source_of,
    statement_line,
)
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, guess_severity, guessed, iterations, opt_name, optimizer_origin
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.records import (
    StepRecord,
)


def missing_zero_grad(ctx: RuleContext) -> Iterator[Finding]:
    for lf in iterations(ctx):
        for step in _uncleared_steps(ctx, lf):
            backward = _backward_before(lf, step)
            if backward is None:
                continue
            opt = opt_name(step)
            yield Finding(
                "TL101",
                backward.module,
                backward.node,
                f"gradients are never cleared in this training loop: each `backward()` adds to `.grad`, so "
                f"`{opt}.step()` applies the sum of every step so far. Call `{opt}.zero_grad()` once per "
                f"iteration, before `backward()` (or after `step()`).",
                related=[(step.module, step.node, "the optimizer step that uses the accumulated gradients")],
                severity=guess_severity(guessed(step)),
                fix_builder=fixes.hook(fix_tl101, backward, step),
            )


def _uncleared_steps(ctx: RuleContext, lf: LoopFacts) -> List[Event]:
    """Optimizer steps of the iteration whose gradients nothing in the iteration clears.

    With one optimizer any `zero_grad()` counts; with several (a GAN), a clear counts for an
    optimizer when it is that optimizer's, or its model's, or of unknown reach (`p.grad = None`).
    """
    steps = [e for e in lf.events if e.kind in STEPS]
    clears = [e for e in lf.events if e.kind == L.ZERO_GRAD]
    origins = {id(optimizer_origin(s)) for s in steps if optimizer_origin(s) is not None}
    if len(origins) <= 1 or any(optimizer_origin(s) is None for s in steps):
        return [] if clears else steps[:1]
    out: List[Event] = []
    seen: Set[int] = set()
    for s in steps:
        o = optimizer_origin(s)
        if id(o) in seen:
            continue
        seen.add(id(o))
        models = ctx.resolver.trained_models(s.receiver) if s.receiver is not None else []
        if not any(_clears(c, o, models) for c in clears):
            out.append(s)
    return out


def _clears(clear: Event, optimizer: object, models: List[Value]) -> bool:
    r = clear.receiver
    if r is None or r.guess or r.origin is None:
        return True  # `p.grad = None` or an unknown receiver: assume it reaches everything
    if r.kind == K.OPTIMIZER:
        return r.origin is optimizer
    if r.kind == K.MODEL:
        return not models or any(m.origin is None or r.origin is m.origin for m in models)
    return True


def _backward_before(lf: LoopFacts, step: Event) -> Optional[Event]:
    before = None
    for e in lf.events:
        if e is step:
            break
        if e.kind == L.BACKWARD:
            before = e
    return before or lf.first(L.BACKWARD)


def fix_tl101(locate: Locate, backward: Event, step: Event) -> Optional[Fix]:
    """Clear the gradients once per iteration: `opt.zero_grad()` before the backward's statement,
    or, when the step is conditional (gradient accumulation), right after the step."""
    module = backward.module
    if not same_place(backward.scope, backward.via, step.scope, step.via):
        return None
    opt = stepped_optimizer(module, step)
    if opt is None:
        return None
    guessed = bool(getattr(step.receiver, "guess", False)) and step.kind != L.SCALER_STEP
    call_stmt = parse_statement(module, f"{opt}.zero_grad()")
    accumulation = not set(step.conds) <= set(backward.conds)
    if accumulation:
        line = statement_line(module, step.node)
        if line is None:
            return None
        changes = insert_after(line, call_stmt)
        where = f"after `{source_of(module, step.node)}`, once per real step"
    else:
        line = statement_line(module, backward.node)
        if line is None or not bound_before(locate, module, backward.scope, root_name(opt), line):
            return None
        changes = insert_before(line, call_stmt)
        where = "before `backward()`"
    return make_fix(module, changes, UNSAFE if guessed else SAFE, f"Call `{opt}.zero_grad()` {where}")


def _param_name(c: Ctx, step: StepRecord, i: int) -> Tuple[str, Optional[str]]:
    p = c.ev.param(step.optimizer, i)
    return p.name, c.where(p.site)


def verdict_tl101(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
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


RULE = Rule(
    code="TL101",
    name="missing-zero-grad",
    family="loop",
    severity=ERROR,
    summary="Gradients are never cleared in a training loop, so they accumulate across steps.",
    fixable=True,
    check=missing_zero_grad,
    fixes=(fix_tl101,),
    verdict=verdict_tl101,
)
