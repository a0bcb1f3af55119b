"""TL1xx: the optimisation loop (zero_grad, backward, step, scheduler, clipping, AMP)."""

from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import Scope
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.purpose import not_training, training_loops
from trainlint.analysis.symbols import Value
from trainlint.diagnostics import Severity
from trainlint.rules import Finding, RuleContext, rule

STEPS = (L.STEP, L.SCALER_STEP)


def _iterations(ctx: RuleContext) -> Iterator[LoopFacts]:
    """Loops that are one training iteration: backward and step inside, and no inner loop
    (lexical or in a helper) that is itself a whole iteration."""
    for lf in training_loops(ctx.loops, ctx.module):
        if not (lf.has(L.BACKWARD) and lf.has(*STEPS)):
            continue
        if _inner_iteration(lf):
            continue
        yield lf


def _inner_iteration(lf: LoopFacts) -> bool:
    return any(L.BACKWARD in ks and (L.STEP in ks or L.SCALER_STEP in ks) for ks in lf.inner_loop_kinds().values())


def _guessed(*events: Optional[Event]) -> bool:
    return any(e is not None and e.receiver is not None and e.receiver.guess for e in events)


def _opt_name(e: Optional[Event]) -> str:
    if e is None:
        return "optimizer"
    node = e.node
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return e.module.tree.code_for_node(node.func.value)
    return "optimizer"


def _nodes_of_loops_with(ctx: RuleContext, node_kinds: Tuple[str, ...], loop_kinds: Tuple[str, ...]) -> Set[int]:
    """Ids of the event nodes of `node_kinds` in every loop of the project that also has an
    event of `loop_kinds` (computed once per run for each pair)."""
    key = f"loop.nodes:{node_kinds}:{loop_kinds}"
    cached = ctx.project.cache.get(key)
    if cached is None:
        out: Set[int] = set()
        for m in ctx.project.modules:
            for lf in ctx.loops.loops_of(m):
                if lf.has(*loop_kinds):
                    out.update(id(e.node) for e in lf.events if e.kind in node_kinds)
        ctx.project.cache[key] = cached = out
    return cached  # type: ignore[return-value]


def _stepped_nodes(ctx: RuleContext) -> Set[int]:
    """Ids of backward nodes that some loop of the project follows with an optimizer step."""
    return _nodes_of_loops_with(ctx, (L.BACKWARD,), (L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE))


def _backwarded_steps(ctx: RuleContext) -> Set[int]:
    """Ids of step nodes that some loop of the project precedes with a backward."""
    return _nodes_of_loops_with(ctx, STEPS, (L.BACKWARD, L.AUTOGRAD_GRAD))


def _severity(guess: bool) -> Optional[Severity]:
    return Severity.WARNING if guess else None


@rule("TL101")
def missing_zero_grad(ctx: RuleContext) -> Iterator[Finding]:
    for lf in _iterations(ctx):
        for step in _uncleared_steps(ctx, lf):
            backward = _backward_before(lf, step)
            if backward is None:
                continue
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
                fix_builder=fixes.hook(fixes.fix_tl101, backward, step),
            )


def _uncleared_steps(ctx: RuleContext, lf: LoopFacts) -> List[Event]:
    """Optimizer steps of the iteration whose gradients nothing in the iteration clears.

    With one optimizer any `zero_grad()` counts; with several (a GAN), a clear counts for an
    optimizer when it is that optimizer's, or its model's, or of unknown reach (`p.grad = None`).
    """
    steps = [e for e in lf.events if e.kind in STEPS]
    clears = [e for e in lf.events if e.kind == L.ZERO_GRAD]
    origins = {id(_origin(s)) for s in steps if _origin(s) is not None}
    if len(origins) <= 1 or any(_origin(s) is None for s in steps):
        return [] if clears else steps[:1]
    out: List[Event] = []
    seen: Set[int] = set()
    for s in steps:
        o = _origin(s)
        if id(o) in seen:
            continue
        seen.add(id(o))
        models = ctx.resolver.trained_models(s.receiver) if s.receiver is not None else []
        if not any(_clears(c, o, models) for c in clears):
            out.append(s)
    return out


def _origin(step: Event) -> Optional[object]:
    """The optimizer object a step updates (its constructor call), when resolved."""
    r = step.receiver
    if step.kind == L.SCALER_STEP:
        return None
    return r.origin if r is not None and r.kind == K.OPTIMIZER and not r.guess else None


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
                fix_builder=fixes.hook(fixes.fix_tl102, z, nxt),
            )


@rule("TL103")
def missing_optimizer_step(ctx: RuleContext) -> Iterator[Finding]:
    if not _project_has_optimizer(ctx):
        return
    stepped = _stepped_nodes(ctx)
    seen: Set[int] = set()
    for lf in training_loops(ctx.loops, ctx.module):
        backward = lf.first(L.BACKWARD)
        if backward is None or id(backward.node) in seen:
            continue
        if lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE, L.GRAD_READ):
            yield from _cleared_never_stepped(lf, seen)
            trailing = _trailing_backward(lf)
            if trailing is not None and id(trailing.node) not in seen:
                seen.add(id(trailing.node))
                yield Finding("TL103", trailing.module, trailing.node, _TRAILING_BACKWARD)
            continue
        if any(id(e.node) in stepped for e in lf.events if e.kind == L.BACKWARD):
            continue
        if _stepped_after(ctx, lf) or not _trains_here(ctx, lf):
            continue
        seen.add(id(backward.node))
        yield Finding("TL103", backward.module, backward.node, _NEVER_STEPPED)


_TRAILING_BACKWARD = (
    "this `backward()` is not followed by any optimizer step in the iteration, and the next iteration "
    "clears the gradients first, so the parameters it reaches never learn (e.g. a GAN's second network). "
    "Call that network's `optimizer.step()` after it."
)
_NEVER_STEPPED = (
    "this loop computes gradients with `backward()` but never calls `optimizer.step()` (or updates the "
    "parameters by hand), so the model does not learn. Call `optimizer.step()` after `backward()`."
)


_UPDATES = (L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE)


def _cleared_never_stepped(lf: LoopFacts, seen: Set[int]) -> Iterator[Finding]:
    """A GAN-style iteration with one optimizer per network: `opt_d.zero_grad()` and a backward
    after it, but only `opt_g.step()`, so the network behind `opt_d` never learns."""
    if lf.has(L.UNKNOWN_STEP, L.MANUAL_UPDATE, L.SCALER_STEP):
        return
    stepped = {id(o) for e in lf.events if e.kind == L.STEP and (o := _origin(e)) is not None}
    if not stepped or any(e.kind == L.STEP and _origin(e) is None for e in lf.events):
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
        name = _opt_name(clear)
        yield Finding(
            "TL103",
            backward.module,
            backward.node,
            f"`{name}.zero_grad()` clears this optimizer's gradients and this `backward()` fills them, but "
            f"`{name}.step()` is never called in the iteration (only another optimizer steps), so the "
            f"parameters of `{name}` never learn. Call `{name}.step()` after this `backward()`.",
            related=[(clear.module, clear.node, f"`{name}` is cleared here")],
        )


def _stepped_after(ctx: RuleContext, lf: LoopFacts) -> bool:
    """The function steps after the loop: micro-batches accumulated then applied once, or an
    out-of-memory retry loop (`while True: try: ...backward(); break`)."""
    for e in ctx.loops.body_events(lf.scope, 0):
        anchor = e.via[0][1] if e.via else e.node
        if e.kind in _UPDATES and SC.follows(lf.scope, lf.node, anchor):
            return True
    return False


def _trains_here(ctx: RuleContext, lf: LoopFacts) -> bool:
    """The loop's function works with an optimizer: it clears or steps one, or holds one.
    A backward elsewhere (a profiler timing ops, a saliency map) is not a training step."""
    for e in ctx.loops.body_events(lf.scope, 0):  # (the loop's own events among them)
        if e.kind in _UPDATES or e.kind in (L.ZERO_GRAD, L.SCHED_STEP):
            return True
    scope, res = lf.scope, ctx.resolver
    bindings = [b for binds in scope.bindings.values() for b in binds]
    if scope.cls is not None:
        bindings += [b for binds in scope.cls.attrs.values() for b in binds]
    values = [res.binding_value(b) for b in bindings] + [res.param_value(scope, p) for p in scope.params]
    return any(v is not None and v.kind in (K.OPTIMIZER, K.SCHEDULER) for v in values)


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
    cached = ctx.project.cache.get("loop.has_optimizer")
    if cached is None:
        cached = any(
            K.kind_of_constructor(m.qualify(call.func)) == K.OPTIMIZER
            for m in ctx.project.modules
            for s in m.scopes
            for call in s.calls
        )
        ctx.project.cache["loop.has_optimizer"] = cached
    return bool(cached)


@rule("TL104")
def missing_backward(ctx: RuleContext) -> Iterator[Finding]:
    backwarded = _backwarded_steps(ctx)
    seen: Set[int] = set()
    for lf in training_loops(ctx.loops, ctx.module):
        step = lf.first(L.STEP, L.SCALER_STEP)
        if step is None:
            continue
        if lf.has(L.BACKWARD, L.AUTOGRAD_GRAD):
            step = _step_after_clear(lf)
            if step is None or id(step.node) in seen:
                continue
        elif id(step.node) in seen or id(step.node) in backwarded or not lf.has(L.LOSS):
            continue
        if _takes_a_loss(ctx, step):
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


def _takes_a_loss(ctx: RuleContext, step: Event) -> bool:
    """`diffopt.step(loss)`: a differentiable optimizer (higher, learn2learn) that takes the
    loss and differentiates it itself. A torch optimizer's only argument is a closure."""
    node = step.node
    if not isinstance(node, cst.Call) or not node.args:
        return False
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
            if e.kind == L.ZERO_GRAD and e.receiver is not None and e.receiver.origin is s.receiver.origin:
                cleared = True
        if cleared and not backward:
            return s
    return None


@rule("TL105")
def scheduler_before_optimizer_step(ctx: RuleContext) -> Iterator[Finding]:
    for lf in training_loops(ctx.loops, ctx.module):
        if not (lf.has(L.SCHED_STEP) and lf.has(*STEPS)):
            continue
        # The innermost loop holding both decides the order.
        if any(L.SCHED_STEP in ks and (L.STEP in ks or L.SCALER_STEP in ks) for ks in lf.inner_loop_kinds().values()):
            continue
        first_step = lf.first(*STEPS)
        for e in lf.events:
            if e is first_step:
                break
            if e.kind != L.SCHED_STEP:
                continue
            if e.receiver is None or e.receiver.guess:
                continue  # only a name says it is a scheduler: other libraries order steps differently
            if (e.receiver.qual or "").endswith("ReduceLROnPlateau"):
                continue
            yield Finding(
                "TL105",
                e.module,
                e.node,
                "the learning-rate scheduler steps before `optimizer.step()` in this iteration, so the "
                "first value of the schedule is skipped and every step uses the next one. Call "
                "`scheduler.step()` after `optimizer.step()`.",
                related=[(first_step.module, first_step.node, "the optimizer step that comes later")]
                if first_step
                else [],
                severity=_severity(_guessed(e)),
                fix_builder=fixes.hook(fixes.fix_tl105, e, first_step) if first_step else None,
            )
            break


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
            if not (before_backward or after_step) or _measures_only(c):
                continue
            where = "before `backward()`" if before_backward and not after_step else "after `optimizer.step()`"
            # The step the clip belongs before: the one after the backward, or the one it follows.
            target = prev if after_step else next((e for e in evs[i + 1 :] if e.kind in STEPS), None)
            unscale = target is not None and target.kind == L.SCALER_STEP and not lf.has(L.SCALER_UNSCALE)
            yield Finding(
                "TL106",
                c.module,
                c.node,
                f"gradient clipping runs {where}, so the gradients the optimizer uses are never clipped. "
                "Clip between `backward()` and `optimizer.step()`.",
                fix_builder=fixes.hook(fixes.fix_tl106, c, target, unscale) if target is not None else None,
            )


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


@rule("TL107")
def grad_scaler_misuse(ctx: RuleContext) -> Iterator[Finding]:
    for lf in _iterations(ctx):
        sstep = lf.first(L.SCALER_STEP)
        if sstep is None:
            continue
        evs = lf.events
        yield from _clips_still_scaled(evs)
        if not lf.has(L.SCALER_UPDATE):
            yield Finding(
                "TL107",
                sstep.module,
                sstep.node,
                "`scaler.step()` is used without `scaler.update()`, so the loss scale never adapts "
                "(skipped steps repeat on overflow). Call `scaler.update()` after `scaler.step(optimizer)`.",
                fix_builder=fixes.hook(fixes.fix_tl107_update, sstep),
            )
        for i, plain in enumerate(evs):
            if plain.kind != L.BACKWARD or plain.scaled or plain.engine or _scaled_name(ctx, plain):
                continue
            if any(x.kind == L.BACKWARD and x.scaled and set(x.conds) & set(plain.conds) for x in evs):
                continue  # `if scaler is not None: scaler.scale(loss).backward() else: loss.backward()`
            nxt = next((x for x in evs[i + 1 :] if x.kind in STEPS), None)
            if nxt is not None and nxt.kind == L.SCALER_STEP:
                yield Finding(
                    "TL107",
                    plain.module,
                    plain.node,
                    "`backward()` runs on the unscaled loss while `scaler.step()` unscales the gradients, "
                    "so they end up divided by the scale factor (tiny updates). Call "
                    "`scaler.scale(loss).backward()`.",
                    related=[(sstep.module, sstep.node, "the scaler step")],
                    fix_builder=fixes.hook(fixes.fix_tl107_scale, plain, sstep),
                )
    yield from _step_functions(ctx)


def _clips_still_scaled(evs: List[Event], skip: Optional[Set[int]] = None) -> Iterator[Finding]:
    """Clipping between a backward and a scaler step with no `scaler.unscale_` in between."""
    for i, e in enumerate(evs):
        if e.kind != L.CLIP or (skip is not None and id(e.node) in skip):
            continue
        # Only a clip that feeds a scaler step (not a plain step in a non-AMP branch).
        nxt = next((x for x in evs[i + 1 :] if x.kind in STEPS), None)
        if nxt is None or nxt.kind != L.SCALER_STEP:
            continue
        last_backward = max((j for j in range(i) if evs[j].kind == L.BACKWARD), default=None)
        if last_backward is None or any(x.kind == L.SCALER_UNSCALE for x in evs[last_backward:i]):
            continue
        yield Finding(
            "TL107",
            e.module,
            e.node,
            "gradients are clipped while still multiplied by the GradScaler's scale factor, so the "
            "threshold means nothing. Call `scaler.unscale_(optimizer)` before clipping.",
            related=[(nxt.module, nxt.node, "the scaler step")],
            fix_builder=fixes.hook(fixes.fix_tl107_unscale, e, nxt),
        )


def _step_functions(ctx: RuleContext) -> Iterator[Finding]:
    """A function that holds the whole AMP step (`scaler.scale(loss).backward()` ... `scaler.step`),
    called once per batch from a loop elsewhere (an optimizer wrapper's `step(loss)`): its clips
    are judged like a loop's, unless a loop of the project already covers them."""
    covered = _nodes_of_loops_with(ctx, (L.CLIP,), (L.SCALER_STEP,))
    for scope in ctx.module.scopes:
        if scope.name == "<module>" or not_training(scope):
            continue
        evs = [e for e in ctx.loops.body_events(scope, 0) if not e.via]
        if any(e.kind == L.BACKWARD and e.scaled for e in evs) and any(e.kind == L.SCALER_STEP for e in evs):
            yield from _clips_still_scaled(evs, covered)


def _scaled_name(ctx: RuleContext, backward: Event) -> bool:
    """`scaled = scaler.scale(loss); scaled.backward()`."""
    arg = backward.arg
    if not isinstance(arg, cst.Name):
        return False
    for b in backward.scope.bindings.get(arg.value, []):
        v = b.value
        if isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and v.func.attr.value == "scale":
            return True
    return False


@rule("TL108")
def backward_under_no_grad(ctx: RuleContext) -> Iterator[Finding]:
    for lf in _iterations(ctx):
        for e in lf.events:
            if e.kind == L.BACKWARD and e.no_grad and not _grad_checked(e):
                yield Finding(
                    "TL108",
                    e.module,
                    e.node,
                    "`backward()` runs inside `torch.no_grad()`/`inference_mode()`; the loss has no graph, "
                    "so it raises or computes nothing. Compute the training forward and backward with "
                    "gradients enabled.",
                )
                break
        # (`model.generate(...)` decodes under no_grad by design: never the training forward)
        forwards: List[Event] = [e for e in lf.events if e.kind == L.FORWARD and not e.generates]
        if not any(e.kind == L.BACKWARD and not e.no_grad for e in lf.events):
            continue
        culprit = _trained_forward_under_no_grad(ctx, lf, forwards)
        if culprit is not None:
            f = culprit
            name = f.module.tree.code_for_node(f.callee)
            yield Finding(
                "TL108",
                f.module,
                f.node,
                f"the forward pass of `{name}`, the model this loop trains, runs under `torch.no_grad()`, so "
                "the loss carries no graph back to its parameters and `backward()` fails or trains nothing. "
                f"Run `{name}`'s forward with gradients enabled (a frozen part may stay under `no_grad`).",
            )


def _grad_checked(e: Event) -> bool:
    """`if loss.requires_grad: loss.backward()`: a helper shared by training and a `no_grad`
    evaluation that only differentiates when there is a graph."""
    for comp in SC.enclosing(e.scope, e.node):
        if isinstance(comp, cst.If):
            test = e.module.tree.code_for_node(comp.test)
            if "requires_grad" in test or "is_grad_enabled" in test:
                return True
    return False


def _trained_forward_under_no_grad(ctx: RuleContext, lf: LoopFacts, forwards: List[Event]) -> Optional[Event]:
    """The forward of a model that the loop's optimizer trains, when every call of it is under
    no_grad. A frozen encoder under no_grad while another model trains is fine; when no
    optimizer's models are known, only a loop with a single model is judged."""
    trained: List[Value] = []
    for s in lf.events:
        if s.kind in STEPS and s.receiver is not None and s.receiver.kind == K.OPTIMIZER:
            trained += [m for m in ctx.resolver.trained_models(s.receiver) if m.origin is not None]
    if trained:
        for model in trained:
            mine = [f for f in forwards if f.receiver is not None and f.receiver.origin is model.origin]
            if mine and all(f.no_grad for f in mine):
                return mine[0]
        return None
    origins = {id(f.receiver.origin) if f.receiver is not None else None for f in forwards}
    if forwards and len(origins) == 1 and None not in origins and all(f.no_grad for f in forwards):
        return forwards[0]
    return None
