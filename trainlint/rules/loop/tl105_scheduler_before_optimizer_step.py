"""TL105 scheduler-before-optimizer-step: The learning-rate scheduler steps before the optimizer in an iteration."""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from trainlint import fixes
from trainlint.analysis import loops as L
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.loops import Event
from trainlint.analysis.names import dotted
from trainlint.analysis.purpose import not_training, training_loops
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import move_stmt
from trainlint.fixes.core import SAFE, Locate, make_fix
from trainlint.fixes.edits import (
    source_of,
)
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, called_names, guess_severity, guessed
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted
from trainlint.runtime.records import (
    SchedulerStep,
)


def scheduler_before_optimizer_step(ctx: RuleContext) -> Iterator[Finding]:
    yield from _in_loops(ctx)
    yield from _in_step_functions(ctx)
    yield from _in_start_handlers(ctx)


def _finding(sched: Event, first_step: Event) -> Finding:
    return Finding(
        "TL105",
        sched.module,
        sched.node,
        "the learning-rate scheduler steps before `optimizer.step()` in this iteration, so the "
        "first value of the schedule is skipped and every step uses the next one. Call "
        "`scheduler.step()` after `optimizer.step()`.",
        related=[(first_step.module, first_step.node, "the optimizer step that comes later")],
        severity=guess_severity(guessed(sched)),
        fix_builder=fixes.hook(fix_tl105, sched, first_step),
    )


def _known_scheduler(e: Event) -> bool:
    if e.receiver is None or (e.receiver.qual or "").endswith("ReduceLROnPlateau"):
        return False
    if not e.receiver.guess:
        return True
    if any(
        isinstance(n, cst.If) and isinstance(n.test, cst.Call) and dotted(n.test.func) == "hasattr"
        for n in SC.enclosing(e.scope, e.node)
    ):
        return False  # `if hasattr(l, "scheduler"): l.scheduler.step()`: maybe no scheduler at all
    # Only a name says it is a scheduler: enough when the name is plainly one
    # (`scheduler.step()`, `lr_scheduler.step()`) and the step takes no argument, as torch's
    # do; other libraries' schedulers are stepped with the epoch or the update count.
    func = getattr(e.node, "func", None)
    name = (dotted(func.value) or "").rsplit(".", 1)[-1] if isinstance(func, cst.Attribute) else ""
    return name in _SCHEDULER_NAMES and not getattr(e.node, "args", ())


_SCHEDULER_NAMES = frozenset({"scheduler", "lr_scheduler", "lr_sched", "sched"})


def _in_step_functions(ctx: RuleContext) -> Iterator[Finding]:
    """A function that steps a scheduler and then an optimizer, outside any loop of its own
    (an `OptimizerScheduler.step()` wrapper called once per iteration): wherever it is called
    from, the scheduler goes first."""
    for scope in ctx.module.scopes:
        if scope.name == "<module>" or not _steps_twice(scope) or not_training(scope):
            continue
        evs = [e for e in ctx.loops.body_events(scope, 0) if not e.via and not e.loops]
        sched = next((e for e in evs if e.kind == L.SCHED_STEP and _known_scheduler(e)), None)
        first_step = next((e for e in evs if _optimizer_step(e)), None)
        if sched is None or first_step is None or evs.index(first_step) < evs.index(sched):
            continue
        if first_step.exclusive_with(sched):
            continue
        yield _finding(sched, first_step)


# Ignite events that fire before the iteration's update runs.
_BEFORE_UPDATE = {"EPOCH_STARTED": "EPOCH_COMPLETED", "ITERATION_STARTED": "ITERATION_COMPLETED"}


def _in_start_handlers(ctx: RuleContext) -> Iterator[Finding]:
    """`@trainer.on(Events.EPOCH_STARTED)` on a handler that steps the scheduler: Ignite runs
    it before the epoch's first update, so on the first epoch the scheduler steps before the
    optimizer ever has (and with `ITERATION_STARTED`, before every update)."""
    mod = ctx.module
    if "_STARTED" not in mod.text:
        return
    for scope in mod.scopes:
        if not isinstance(scope.node, cst.FunctionDef):
            continue
        event = _start_event(scope)
        if event is None:
            continue
        evs = [e for e in ctx.loops.body_events(scope, 0) if not e.via and not e.loops]
        sched = next((e for e in evs if e.kind == L.SCHED_STEP and _known_scheduler(e)), None)
        if sched is None or any(_optimizer_step(e) for e in evs):
            continue
        name = event.attr.value
        yield Finding(
            "TL105",
            mod,
            sched.node,
            f"this handler runs on `Events.{name}`, before the update of the "
            f"{'epoch' if name == 'EPOCH_STARTED' else 'iteration'}: the scheduler steps before "
            "`optimizer.step()` (on the first epoch before the optimizer has stepped at all), so the "
            "first value of the schedule is skipped. Attach it to "
            f"`Events.{_BEFORE_UPDATE[name]}`, after the update.",
            related=[(mod, event, "the event that runs the handler before the update")],
            severity=guess_severity(guessed(sched)),
            fix_builder=fixes.hook(fix_tl105_event, mod, event),
        )


def _start_event(scope: Scope) -> Optional[cst.Attribute]:
    """`Events.EPOCH_STARTED` of a `@engine.on(Events.EPOCH_STARTED)` decorator (Ignite's
    `Events`, also called with `(every=n)`)."""
    node = scope.node
    assert isinstance(node, cst.FunctionDef)
    for dec in node.decorators:
        call = dec.decorator
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "on"):
            continue
        arg = call.args[0].value if call.args else None
        if isinstance(arg, cst.Call):
            arg = arg.func
        if isinstance(arg, cst.Attribute) and arg.attr.value in _BEFORE_UPDATE:
            qual = scope.module.qualify(arg.value) or ""
            if qual.startswith("ignite.") or dotted(arg.value) == "Events":
                return arg
    return None


def fix_tl105_event(locate: Locate, module: ModuleFacts, event: cst.Attribute) -> Optional[Fix]:
    """`Events.EPOCH_STARTED` -> `Events.EPOCH_COMPLETED`: the step closes the epoch instead."""
    later = _BEFORE_UPDATE[event.attr.value]
    return make_fix(module, {event: event.with_changes(attr=cst.Name(later))}, SAFE, f"Run the handler on `{later}`")


def _optimizer_step(e: Event) -> bool:
    """An optimizer's step: resolved, or on a receiver named for one (`self.optimizer.step()`
    where the optimizer class comes from a module out of sight)."""
    if e.kind in STEPS:
        return e.receiver is not None
    func = getattr(e.node, "func", None)
    return e.kind == L.UNKNOWN_STEP and isinstance(func, cst.Attribute) and "optim" in (dotted(func.value) or "")


def _steps_twice(scope: Scope) -> bool:
    """The function's own calls include two `.step()` calls, by their names."""
    return called_names(scope)["step"] >= 2


def _in_loops(ctx: RuleContext) -> Iterator[Finding]:
    for lf in training_loops(ctx.loops, ctx.module):
        if not (lf.has(L.SCHED_STEP) and lf.has(*STEPS)):
            continue
        if not lf.has(L.BACKWARD, L.AUTOGRAD_GRAD, L.FORWARD, L.LOSS):
            continue  # a demo that prints a schedule (`optim.step()` with nothing to apply), no training
        # The innermost loop holding both decides the order.
        if any(L.SCHED_STEP in ks and (L.STEP in ks or L.SCALER_STEP in ks) for ks in lf.inner_loop_kinds().values()):
            continue
        steps = [(i, e) for i, e in enumerate(lf.events) if e.kind in STEPS]
        for i, e in enumerate(lf.events):
            if e.kind != L.SCHED_STEP:
                continue
            if not _known_scheduler(e) or _deferred_to_next_iteration(lf.node, e):
                continue
            # Only the steps that can run in the same iteration as this one (not on another
            # arm of an `if`/`else`) order it.
            on_path = [(j, s) for j, s in steps if not s.exclusive_with(e) and not _before_leaving(lf.node, s, e)]
            if not on_path or on_path[0][0] < i:
                continue
            yield _finding(e, on_path[0][1])
            break


def _before_leaving(loop: cst.CSTNode, step: Event, sched: Event) -> bool:
    """A step before the scheduler's in a block that then leaves the iteration (`except
    StopIteration: opt.step(); break`): it never runs before that scheduler step."""
    return not step.via and step.scope is sched.scope and SC.leaves_iteration(step.scope, step.node, loop)


def _deferred_to_next_iteration(loop: cst.CSTNode, sched: Event) -> bool:
    """`for epoch in ...: if epoch > 0: scheduler.step()`: skipped on the first pass, the step
    at the top of each later one closes the epoch before it, as a step at the end would."""
    if not isinstance(loop, cst.For) or sched.via:
        return False
    target: cst.BaseExpression = loop.target
    if isinstance(target, cst.Tuple) and target.elements:  # `for epoch, batch in enumerate(...)`
        target = target.elements[0].value
    if not isinstance(target, cst.Name):
        return False
    var = target.value
    for node in SC.enclosing(sched.scope, sched.node):
        if not isinstance(node, cst.If) or id(node) not in sched.conds:
            continue
        test = node.test
        if isinstance(test, cst.Name) and test.value == var:
            return True  # `if epoch:`
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            left, comp = test.comparisons[0], test.left
            if isinstance(comp, cst.Name) and comp.value == var:
                op, right = left.operator, left.comparator
                if isinstance(op, cst.GreaterThan) or (
                    isinstance(op, cst.NotEqual) and isinstance(right, cst.Integer) and right.value == "0"
                ):
                    return True  # `if epoch > 0:`, `if epoch > start_epoch:`, `if epoch != 0:`
    return False


def fix_tl105(locate: Locate, sched: Event, step: Event) -> Optional[Fix]:
    """Move `scheduler.step()` to just after the statement that steps the optimizer; not past
    a `continue` (or any early exit) on the way, where a skipped batch would stop advancing
    the schedule."""
    changes = move_stmt(sched, step, after=True)
    return make_fix(
        sched.module, changes, SAFE, f"Move `{source_of(sched.module, sched.node)}` after the optimizer step"
    )


def verdict_tl105(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
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


RULE = Rule(
    code="TL105",
    name="scheduler-before-optimizer-step",
    family="loop",
    severity=WARNING,
    summary="The learning-rate scheduler steps before the optimizer in an iteration.",
    fixable=True,
    check=scheduler_before_optimizer_step,
    fixes=(fix_tl105, fix_tl105_event),
    verdict=verdict_tl105,
)
