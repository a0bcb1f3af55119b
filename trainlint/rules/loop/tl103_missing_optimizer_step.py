"""TL103 missing-optimizer-step: The loop computes gradients but never updates the parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Set, Tuple, cast

import libcst as cst

from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.idle import idle_attribute_optimizers, idle_optimizers
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.modes import event_anchor
from trainlint.analysis.names import dotted, is_self
from trainlint.analysis.purpose import training_loops, words
from trainlint.analysis.symbols import optimizer_by_name
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, nodes_of_loops_with, opt_name, optimizer_origin
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted


@dataclass(frozen=True)
class Options:
    """Thresholds of the tracer's verdict on this rule's findings."""

    max_backward_without_step: int = 32


def _stepped_nodes(ctx: RuleContext) -> Set[int]:
    """Ids of backward nodes that some loop of the project follows with an optimizer step."""
    return nodes_of_loops_with(ctx, (L.BACKWARD,), (L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE))


def missing_optimizer_step(ctx: RuleContext) -> Iterator[Finding]:
    if _project_has_optimizer(ctx):
        yield from _steps_missing(ctx)
    yield from _idle_optimizers(ctx)
    yield from _idle_attribute_optimizers(ctx)


def _steps_missing(ctx: RuleContext) -> Iterator[Finding]:
    seen: Set[int] = set()
    for lf in training_loops(ctx.loops, ctx.module):
        backward = lf.first(L.BACKWARD)
        if backward is None or id(backward.node) in seen:
            continue
        if lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE, L.GRAD_READ):
            yield from _cleared_never_stepped(lf, seen, _step_after_the_loop(ctx, lf))
            trailing = _trailing_backward(lf)
            after = _step_after_the_loop(ctx, lf) if trailing is not None else None
            if after is not None and not _clears_for(lf, after):
                continue  # the loop clears only its own optimizers' gradients: the step after sums them
            if trailing is not None and id(trailing.node) not in seen:
                seen.add(id(trailing.node))
                message = _TRAILING_BACKWARD if after is None else _MICRO_BATCHES_CLEARED.format(opt_name(after))
                yield Finding("TL103", trailing.module, trailing.node, message)
            continue
        # (the project-wide search only now: it follows every loop of every module)
        if any(id(e.node) in _stepped_nodes(ctx) for e in lf.events if e.kind == L.BACKWARD):
            continue
        if _stepped_after(ctx, lf) or not _trains_here(ctx, lf) or _framework_step_hook(lf):
            continue
        if _over_loss_terms(lf):
            continue  # `for term in ensure_tuple(loss): term.backward()`: the step is its caller's business
        if _step_left_to_another_method(ctx, lf):
            continue
        seen.add(id(backward.node))
        yield Finding("TL103", backward.module, backward.node, _NEVER_STEPPED)


def _idle_optimizers(ctx: RuleContext) -> Iterator[Finding]:
    """A function that trains with one optimizer and builds another that nothing steps: the
    parameters given to it never change (a GAN's discriminator branch with no update)."""
    done: Set[int] = set()
    for lf in training_loops(ctx.loops, ctx.module):
        scope = lf.scope
        if id(scope) in done or not any(e.kind == L.STEP and not e.via for e in lf.events):
            continue
        done.add(id(scope))
        for idle in idle_optimizers(scope, ctx.resolver):
            related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = [
                (ctx.module, lf.node, "the training loop, which steps only other optimizers")
            ]
            runs = next(  # (the last: where the network's own loss is usually computed)
                (e for e in reversed(lf.events) if e.kind == L.FORWARD and idle.model and _named(e.callee, idle.model)),
                None,
            )
            if runs is not None:
                related.append((runs.module, runs.node, f"`{idle.model}` runs here; nothing updates it"))
            whose = f" for `{idle.model}`'s parameters" if idle.model else ""
            yield Finding(
                "TL103",
                ctx.module,
                idle.made,
                f"`{idle.name}` is built{whose} but never stepped: the training loop only clears it or "
                "hands it to a scheduler, so the parameters it holds never change. Backpropagate that "
                f"network's loss and call `{idle.name}.step()` (then `{idle.name}.zero_grad()`) in the "
                "iteration that trains it.",
                related=related,
            )


_TRAILING_BACKWARD = (
    "this `backward()` is not followed by any optimizer step in the iteration, and the next iteration "
    "clears the gradients first, so the parameters it reaches never learn (e.g. a GAN's second network). "
    "Call that network's `optimizer.step()` after it."
)


# The loop is a micro-batch loop inside an iteration that steps after it.
_MICRO_BATCHES_CLEARED = (
    "this `backward()` is not followed by a step in this loop, and the loop's next iteration clears "
    "the gradients before any: only the last pass's gradients reach the `{}.step()` after the loop, the "
    "others are discarded. To accumulate them, clear the gradients once before the loop instead of in it."
)


_NEVER_STEPPED = (
    "this loop computes gradients with `backward()` but never calls `optimizer.step()` (or updates the "
    "parameters by hand), so the model does not learn. Call `optimizer.step()` after `backward()`."
)


_UPDATES = (L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE)


def _idle_attribute_optimizers(ctx: RuleContext) -> Iterator[Finding]:
    """A trainer class that steps one optimizer it keeps (`self.D_opt.step()`) and builds
    another that nothing steps (`self.VD_opt`, only cleared and checkpointed): the parameters
    given to it never change."""
    for cls in ctx.module.classes.values():
        stepped = [
            call
            for m in cls.methods.values()
            for call in m.calls
            if isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "step"
            and (dotted(call.func.value) or "").count(".") == 1
            and is_self(cast(cst.Attribute, call.func.value).value)
            and _is_optimizer(ctx, call.func.value, m)
        ]
        if not stepped or any(
            isinstance(n, cst.Attribute) and n.attr.value == "grad" for m in cls.methods.values() for n in walk(m.node)
        ):
            continue  # (gradients read by hand: an optimizer may only be there to clear them)
        for idle in idle_attribute_optimizers(cls, ctx.resolver):
            yield Finding(
                "TL103",
                ctx.module,
                idle.made,
                f"`{idle.name}` is built but never stepped: the class only clears it, checkpoints it or "
                "prepares it, while it steps its other optimizers, so the parameters it holds never change. "
                f"Call `{idle.name}.step()` (then `{idle.name}.zero_grad()`) where the loss of the network "
                "it holds is backpropagated.",
                related=[(ctx.module, stepped[0], "another optimizer of the class is stepped here")],
            )


def _is_optimizer(ctx: RuleContext, expr: cst.BaseExpression, scope: Scope) -> bool:
    """An optimizer, or a name that says so where its construction is out of sight
    (`self.D_opt = get_optimizer(...)`): not an environment's or a scheduler's `step()`."""
    v = ctx.resolver.value_of(expr, scope)
    if v is not None and v.kind is not None:
        return v.kind == K.OPTIMIZER
    name = dotted(expr)
    return name is not None and K.guess_kind_from_name(name) == K.OPTIMIZER


def _cleared_never_stepped(lf: LoopFacts, seen: Set[int], after: Optional[Event]) -> Iterator[Finding]:
    """A GAN-style iteration with one optimizer per network: `opt_d.zero_grad()` and a backward
    after it, but only `opt_g.step()`, so the network behind `opt_d` never learns. When the
    loop is a micro-batch loop and `after` (the enclosing iteration's step once it ends) steps
    that optimizer, the clears keep only the last micro-batch's gradients."""
    if lf.has(L.UNKNOWN_STEP, L.MANUAL_UPDATE, L.SCALER_STEP):
        return
    stepped = {id(o) for e in lf.events if e.kind == L.STEP and (o := optimizer_origin(e)) is not None}
    if not stepped or any(e.kind == L.STEP and optimizer_origin(e) is None for e in lf.events):
        return
    for i, clear in enumerate(lf.events):
        r = clear.receiver
        if (
            clear.kind != L.ZERO_GRAD
            or r is None
            or r.guess
            or r.kind != K.OPTIMIZER
            or r.origin is None
            or id(r.origin) in stepped
        ):
            continue
        backward = next((e for e in lf.events[i + 1 :] if e.kind == L.BACKWARD), None)
        if backward is None or id(backward.node) in seen:
            continue
        seen.add(id(backward.node))
        name = opt_name(clear)
        if after is not None and optimizer_origin(after) is r.origin:
            yield Finding(
                "TL103",
                backward.module,
                backward.node,
                _MICRO_BATCHES_CLEARED.format(name),
                related=[(clear.module, clear.node, f"`{name}` is cleared here, in every pass")],
            )
            continue
        yield Finding(
            "TL103",
            backward.module,
            backward.node,
            f"`{name}.zero_grad()` clears this optimizer's gradients and this `backward()` fills them, but "
            f"`{name}.step()` is never called in the iteration (only another optimizer steps), so the "
            f"parameters of `{name}` never learn. Call `{name}.step()` after this `backward()`.",
            related=[(clear.module, clear.node, f"`{name}` is cleared here")],
        )


def _named(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _framework_step_hook(lf: LoopFacts) -> bool:
    """A method named for one training step that is handed the optimizer and backpropagates
    through it, but leaves the step to its caller (fairseq's `task.train_step(sample, model,
    criterion, optimizer, ...)`, whose loop over language pairs calls `optimizer.backward(loss)`;
    the trainer steps after it returns)."""
    fn = lf.scope
    if fn.cls is None or "optimizer" not in fn.params or not fn.simple_name.endswith("_step"):
        return False
    return not any(e.kind in _UPDATES for e in lf.events)


def _over_loss_terms(lf: LoopFacts) -> bool:
    """A loop over the terms of one loss that differentiates each (`for loss_item in
    ensure_tuple(loss): loss_item.backward()`), or a retry `while` around such a loop (a memory
    warm-up halving its batch on out-of-memory errors): one step's backward, written as a loop,
    not a training loop."""
    backwards = [e for e in lf.events if e.kind == L.BACKWARD]
    term_loops = [_loops_over_the_term(lf, e) for e in backwards]
    if not backwards or not all(term_loops):
        return False
    # (a `for` over data whose body differentiates each term is a training loop all the same)
    return not isinstance(lf.node, cst.For) or any(n is lf.node for loops in term_loops for n in loops)


def _loops_over_the_term(lf: LoopFacts, e: Event) -> List[cst.For]:
    """The `for` loops around a backward `term.backward()` whose target is `term`."""
    func = e.node.func if isinstance(e.node, cst.Call) else None
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)) or e.scope is not lf.scope:
        return []
    name = func.value.value
    return [
        n
        for n in SC.enclosing(lf.scope, e.node)
        if isinstance(n, cst.For) and isinstance(n.target, cst.Name) and n.target.value == name
    ]


def _stepped_after(ctx: RuleContext, lf: LoopFacts) -> bool:
    """The function steps after the loop: micro-batches accumulated then applied once, or an
    out-of-memory retry loop (`while True: try: ...backward(); break`)."""
    for e in ctx.loops.body_events(lf.scope, 0):
        anchor = event_anchor(e)
        if e.kind in _UPDATES and SC.follows(lf.scope, lf.node, anchor):
            return True
    return False


def _step_left_to_another_method(ctx: RuleContext, lf: LoopFacts) -> bool:
    """The loop's method only backpropagates, and its class steps in another method that does
    nothing but update (an engine's `forward_backward` and `optimizer_step`), which the project
    calls elsewhere: the class's user takes the step after the backward."""
    cls = lf.scope.cls
    if cls is None:
        return False
    for m in cls.methods.values():
        if m is lf.scope:
            continue
        events = ctx.loops.body_events(m, 0)
        if any(e.kind == L.BACKWARD for e in events) or not any(e.kind == L.STEP for e in events):
            continue
        if _called_by_name(ctx, m.simple_name, lf.scope):
            return True
    return False


def _called_by_name(ctx: RuleContext, name: str, besides: Scope) -> bool:
    """Some function of the project other than `besides` calls a method `name` (`x.name(...)`)."""
    return any(
        isinstance(call.func, cst.Attribute) and call.func.attr.value == name
        for module in ctx.project.modules
        for scope in module.scopes
        if scope is not besides
        for call in scope.calls
    )


def _trains_here(ctx: RuleContext, lf: LoopFacts) -> bool:
    """The loop's function works with an optimizer: it clears or steps one, or holds one.
    A backward elsewhere (a profiler timing ops, a saliency map) is not a training step."""
    events = ctx.loops.body_events(lf.scope, 0)  # (the loop's own events among them)
    if any(e.kind == L.BACKWARD and _explains(e.scope) for e in lf.events):
        return False  # gradients for a saliency map, an attack or influence scores
    for e in events:
        if e.kind in _UPDATES or e.kind == L.SCHED_STEP:
            return True
        if e.kind == L.ZERO_GRAD and (_clears_optimizer(e) or any(x.kind == L.LOSS for x in lf.events)):
            return True  # (`model.zero_grad()` before a Grad-CAM backward of a class score trains nothing)
    scope, res = lf.scope, ctx.resolver
    bindings = [b for binds in scope.bindings.values() for b in binds]
    if scope.cls is not None:
        bindings += [b for binds in scope.cls.attrs.values() for b in binds]
    values = [res.binding_value(b) for b in bindings] + [res.param_value(scope, p) for p in scope.params]
    return any(v is not None and v.kind in (K.OPTIMIZER, K.SCHEDULER) for v in values)


# Words of functions and classes that compute gradients to explain or attack a model.
_EXPLAINING = frozenset(
    {"saliency", "interpret", "interpreter", "attack", "attacker", "attribution", "attributions", "explain"}
    | {"explainer", "influence", "gradients", "hotflip", "adversarial"}
)


def _explains(scope: Scope) -> bool:
    names = scope.simple_name + " " + (scope.cls.name if scope.cls is not None else "")
    return bool(words(names) & _EXPLAINING)


def _clears_optimizer(e: Event) -> bool:
    """`opt.zero_grad()`; not `model.zero_grad()` nor `p.grad = None` over the parameters, which
    clear before a gradient computed for its own sake (a saliency map, an attack)."""
    r = e.receiver
    if r is not None:
        return r.kind != K.MODEL
    func = e.node.func if isinstance(e.node, cst.Call) else None
    owner = dotted(func.value) if isinstance(func, cst.Attribute) and func.attr.value == "zero_grad" else None
    return owner is not None and "opt" in owner.lower()


def _step_after_the_loop(ctx: RuleContext, lf: LoopFacts) -> Optional[Event]:
    """The optimizer step that a loop enclosing `lf` takes after `lf` ends (a micro-batch loop
    followed by the iteration's `optimizer.step()`)."""
    scope = lf.scope
    end = SC.scope_index(scope).end.get(id(lf.node))
    if end is None:
        return None
    for outer in ctx.loops.loops_of(scope.module):
        if outer is lf or outer.scope is not scope or not SC.inside(scope, outer.node, lf.node):
            continue
        for e in outer.events:
            at = SC.order(scope, event_anchor(e))
            if e.kind == L.STEP and at is not None and at > end:
                return e
    return None


def _clears_for(lf: LoopFacts, step: Event) -> bool:
    """The loop clears the gradients `step` applies: `zero_grad()` of that optimizer, or of one
    the analysis cannot tell apart from it."""
    stepped = optimizer_origin(step)
    return any(e.kind == L.ZERO_GRAD and (stepped is None or optimizer_origin(e) in (None, stepped)) for e in lf.events)


def _trailing_backward(lf: LoopFacts) -> Optional[Event]:
    """A backward after the iteration's last step whose gradients the next iteration clears
    before any step, while an earlier backward of the same iteration is stepped normally."""
    evs = [e for e in lf.events if e.kind in (L.BACKWARD, L.ZERO_GRAD) or e.kind in STEPS]
    last_step = max((i for i, e in enumerate(evs) if e.kind in STEPS), default=None)
    if last_step is None:
        return None
    if not any(e.kind == L.BACKWARD for e in evs[:last_step]):
        return None
    tail = [e for e in evs[last_step + 1 :] if e.kind == L.BACKWARD and not e.conds]
    if not tail:
        return None
    head = next((e for e in evs if e.kind in STEPS or e.kind == L.ZERO_GRAD), None)
    if head is None or head.kind != L.ZERO_GRAD:
        return None
    return tail[0]


def _project_has_optimizer(ctx: RuleContext) -> bool:
    return ctx.project.once(
        _project_has_optimizer,
        lambda: any(  # (`getattr(torch.optim, name)(...)` too)
            K.kind_of_constructor(m.qualify(call.func)) == K.OPTIMIZER
            or (isinstance(call.func, cst.Call) and optimizer_by_name(call.func, m))
            for m in ctx.project.modules
            for s in m.scopes
            for call in s.calls
        ),
    )


def verdict_tl103(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
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


RULE = Rule(
    code="TL103",
    name="missing-optimizer-step",
    family="loop",
    severity=ERROR,
    summary="The loop computes gradients but never updates the parameters.",
    options=Options,
    check=missing_optimizer_step,
    verdict=verdict_tl103,
)
