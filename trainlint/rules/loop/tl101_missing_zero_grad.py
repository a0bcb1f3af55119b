"""TL101 missing-zero-grad: Gradients are never cleared in a training loop, so they accumulate across steps."""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import flow as FL
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.frameworks import manual_optimization
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.names import dotted
from trainlint.analysis.purpose import not_training
from trainlint.analysis.symbols import Value
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import root_name, stepped_optimizer
from trainlint.fixes.core import SAFE, UNSAFE, Locate, make_fix, parent_of
from trainlint.fixes.edits import (
    bound_before,
    insert_after,
    insert_before,
    parse_statement,
    same_place,
    sibling_in,
    source_of,
    statement_line,
)
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import (
    STEPS,
    accumulation_test,
    called_names,
    guess_severity,
    guessed,
    iterations,
    opt_name,
    optimizer_identity,
    optimizer_origin,
)
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.records import (
    StepRecord,
)


def missing_zero_grad(ctx: RuleContext) -> Iterator[Finding]:
    reported: Set[int] = set()
    for lf in iterations(ctx):
        uncleared = _uncleared_steps(ctx, lf.events)
        for step, live in uncleared:
            finding = _finding(lf.events, step, live, "this training loop")
            if finding is not None:
                reported.add(id(finding.node))
                yield finding
        done = {id(o) for o in (optimizer_origin(s) for s, _ in uncleared) if o is not None}
        for step, previous in _restepped(ctx, lf.events, done):
            yield _restep_finding(lf.events, step, previous)
        yield from _hand_updated_model_cleared_once(lf)
    yield from _in_step_functions(ctx)
    yield from (f for f in _in_owned_optimizer_steps(ctx) if id(f.node) not in reported)
    yield from _in_lightning_manual_steps(ctx)


def _hand_updated_model_cleared_once(lf: LoopFacts) -> Iterator[Finding]:
    """A model whose parameters the iteration updates by hand (`for p in emb.parameters():
    p.data.sub_(lr * p.grad)`) and whose gradients are cleared only once, before the loop
    (`emb.zero_grad()`), while the optimizer's clear in the loop reaches only its own
    parameters: the hand-updated gradients add up from step to step."""
    scope = lf.scope
    for e in lf.events:
        if e.kind != L.MANUAL_UPDATE or e.via:
            continue
        loop = next((n for n in reversed(SC.enclosing(scope, e.node)) if isinstance(n, cst.For)), None)
        owner = _parameters_owner(loop)
        if loop is None or owner is None or not SC.inside(scope, lf.node, loop):
            continue
        before = [
            c
            for c in scope.calls
            if isinstance(c.func, cst.Attribute)
            and c.func.attr.value == "zero_grad"
            and dotted(c.func.value) == owner
            and not SC.inside(scope, lf.node, c)
            and SC.follows(scope, c, lf.node)
        ]
        cleared_in_loop = any(
            x.kind == L.ZERO_GRAD
            and (
                not isinstance(x.node, cst.Call)
                or not isinstance(x.node.func, cst.Attribute)
                or dotted(x.node.func.value) == owner
                or (x.receiver is not None and x.receiver.kind != K.OPTIMIZER)
            )
            for x in lf.events
        )
        if not before or cleared_in_loop:
            continue
        yield Finding(
            "TL101",
            scope.module,
            loop,
            f"`{owner}`'s parameters are updated by hand here on every step, but its gradients are "
            "cleared only once, before the loop; the optimizer's `zero_grad()` in the loop clears only "
            "the parameters it holds, so these gradients add up from step to step and each update "
            f"applies their sum. Call `{owner}.zero_grad()` after this update.",
            related=[(scope.module, before[0], "the only clear of these gradients, before the loop")],
        )
        return


def _parameters_owner(loop: Optional[cst.For]) -> Optional[str]:
    """`emb` in `for p in emb.parameters():`."""
    it = loop.iter if loop is not None else None
    if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value == "parameters"):
        return None
    return dotted(it.func.value)


def _restep_finding(events: List[Event], step: Event, previous: Event) -> Finding:
    backward = _backward_before(events, step) or step
    opt = opt_name(step)
    return Finding(
        "TL101",
        backward.module,
        backward.node,
        f"`{opt}` steps twice per iteration but its gradients are cleared before only one of the "
        f"steps: nothing clears them between `{_call_text(previous)}` ({_line(previous)}"
        f"{', in the previous iteration' if events.index(previous) > events.index(step) else ''}) and "
        f"`{_call_text(step)}` ({_line(step)}), so this "
        "`backward()` adds to the gradients that step already applied, and they are applied again. "
        f"Call `{opt}.zero_grad()` (or the model's) before this `backward()`, after the other step.",
        related=[
            (step.module, step.node, "the step that applies the old gradients again"),
            (previous.module, previous.node, "the step whose gradients are not cleared"),
        ],
        severity=guess_severity(guessed(step)),
    )


def _line(e: Event) -> str:
    pos = FL.position(e.module, e.node)
    return f"line {pos.start.line}" if pos is not None else "later in the iteration"


def _in_lightning_manual_steps(ctx: RuleContext) -> Iterator[Finding]:
    """A LightningModule with `automatic_optimization = False`: Lightning calls its
    `training_step` once per batch and leaves clearing, backward and step to it."""
    for cls in ctx.module.classes.values():
        step_fn = cls.methods.get("training_step")
        if step_fn is None or not manual_optimization(cls):
            continue
        events = [e for e in ctx.loops.body_events(step_fn, 0) if not e.loops]
        if not any(e.kind == L.BACKWARD for e in events):
            continue
        for step, live in _uncleared_steps(ctx, events):
            finding = _finding(events, step, live, "this manual-optimization `training_step` (run once per batch)")
            if finding is not None:
                yield finding


def _finding(events: List[Event], step: Event, live: List[Event], where: str) -> Optional[Finding]:
    backward = _backward_before(events, step)
    if backward is None:
        return None
    opt = opt_name(step)
    related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = [
        (step.module, step.node, "the optimizer step that uses the accumulated gradients")
    ]
    guard = _cleared_only_under_an_extra_test(events, step, live) if live else None
    if guard is not None:
        clear = next((c for c in live if any(n is guard for n in SC.enclosing(c.scope, c.node))), live[0])
        test = clear.module.tree.code_for_node(guard.test)
        after = events.index(clear) > events.index(step)
        only = (
            "the only clear after the first iteration"
            if any(_first_iteration_only(c, dict(step.arms)) for c in live)
            else "the only clear"
        )
        said = f"gradients are not cleared after every step of {where}: " + (
            f"{only} runs after `{_call_text(step)}` and only when `{test}` holds. When it does not, each"
            if after
            else f"`{_call_text(step)}` runs on every iteration but {only} runs only when `{test}` "
            "holds. When it does not, each"
        )
        related.append((clear.module, clear.node, f"the clear, only when `{test}`"))
    elif live:
        said = (
            f"gradients are not cleared on every path of {where}: the only clear runs in one arm of an "
            "`if`/`else`, and another arm computes the loss without clearing. On that path each"
        )
        related.append((live[0].module, live[0].node, "the clear, on one arm only"))
    else:
        said = f"gradients are never cleared in {where}{_on_this_path(events, step)}: each"
    if backward.via and backward.via[0][0].module is not backward.module:
        # (the step lives in a shared helper of another file: show the loop that runs it)
        caller, call = backward.via[0]
        related.append((caller.module, call, "the call in the training loop that runs this step"))
    return Finding(
        "TL101",
        backward.module,
        backward.node,
        f"{said} `backward()` adds to `.grad`, so `{_call_text(step)}` applies the sum of every step so "
        f"far. Call `{opt}.zero_grad()` once per iteration, before `backward()` (or after `step()`).",
        related=related,
        severity=guess_severity(guessed(step)),
        fix_builder=None if _grads_read_before(events, backward) else fixes.hook(fix_tl101, backward, step),
    )


def _grads_read_before(events: List[Event], backward: Event) -> bool:
    """A clip or an unscale runs before the backward, after the previous step or backward:
    clearing right before the backward would make it act on gradients then thrown away."""
    pending = False
    for e in events:
        if e is backward:
            return pending
        if e.kind in (L.CLIP, L.SCALER_UNSCALE) and not e.exclusive_with(backward):
            pending = True
        elif e.kind in (L.BACKWARD, L.ZERO_GRAD, *STEPS):
            pending = False
    return False


def _on_this_path(events: List[Event], step: Event) -> str:
    """Said when the only clears are on other arms of an `if` than the step."""
    return " on this path" if any(e.kind == L.ZERO_GRAD and e.exclusive_with(step) for e in events) else ""


def _call_text(step: Event) -> str:
    node = step.node
    if step.kind == L.SCALER_STEP and isinstance(node, cst.Call) and len(node.args) == 1:
        return step.module.tree.code_for_node(node).strip()
    return f"{opt_name(step)}.step()"


def _in_step_functions(ctx: RuleContext) -> Iterator[Finding]:
    """A function that is one whole training step of several optimizers (a GAN's
    `step(batch)`, called by a runner out of sight), with no loop of its own and no caller in
    the project: it clears some of its optimizers' gradients, so it owns the clearing, and an
    optimizer it steps without clearing accumulates from call to call."""
    for scope in ctx.module.scopes:
        names = called_names(scope)
        if scope.name == "<module>" or names["zero_grad"] == 0 or names["step"] < 2 or names["backward"] == 0:
            continue
        if not_training(scope) or ctx.project.callers(scope):
            continue
        events = ctx.loops.body_events(scope, 0)
        if any(e.loops for e in events):
            continue  # a loop of its own: judged as a loop
        if len({id(optimizer_origin(e)) for e in events if e.kind in STEPS}) < 2:
            continue
        for step, live in _uncleared_steps(ctx, events):
            finding = _finding(events, step, live, "this training step (called once per batch)")
            if finding is not None:
                yield finding


def _in_owned_optimizer_steps(ctx: RuleContext) -> Iterator[Finding]:
    """A method with no loop of its own that runs `backward()` and steps an optimizer its own
    class built (`self.optimizer = Adam(...)` in `__init__`; an agent's `learn()`, a replay
    `training()` step), whoever calls it, when nothing clears that optimizer or its
    model: not the class, and no `.zero_grad()` anywhere in the project on an attribute of that
    name. Its owner is the only code that could clear it, and does not."""
    for scope in ctx.module.scopes:
        cls = scope.cls
        names = called_names(scope)
        if cls is None or names["zero_grad"] or not names["step"] or not names["backward"]:
            continue
        if not_training(scope):
            continue  # (a loop that calls it and clears nothing is reported as that loop)
        events = ctx.loops.body_events(scope, 0)
        if any(e.loops for e in events) or any(e.kind == L.ZERO_GRAD for e in events):
            continue
        steps = [(e, _owned_optimizer(e, cls)) for e in events if e.kind == L.STEP]
        owned = [(e, attr) for e, attr in steps if attr is not None]
        if len(owned) != 1:
            continue
        step, attr = owned[0]
        if _backward_before(events, step) is None or _cleared_anywhere(ctx, cls, attr, step.receiver):
            continue
        finding = _finding(
            events, step, [], f"`{cls.name}.{scope.simple_name}` (a training step of the class that owns `self.{attr}`)"
        )
        if finding is not None:
            yield finding


def _owned_optimizer(step: Event, cls: ClassFacts) -> Optional[str]:
    """`opt` when the step is `self.opt.step()` on an optimizer built in the class's methods."""
    node, r = step.node, step.receiver
    if r is None or r.guess or r.origin is None or r.kind != K.OPTIMIZER:
        return None
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)):
        return None
    d = dotted(node.func.value)
    if d is None or not d.startswith("self.") or d.count(".") != 1:
        return None
    built_here = r.scope is not None and r.scope.cls is cls
    return d[5:] if built_here else None


def _cleared_anywhere(ctx: RuleContext, cls: ClassFacts, attr: str, optimizer: Optional[Value]) -> bool:
    """A clear the class runs in any method, or a `.zero_grad()` elsewhere in the project on
    an attribute named like one of the class's (`agent.optimizer.zero_grad()`,
    `agent.model.zero_grad()`), or on a receiver that is not an attribute chain and may hold
    this optimizer (not one known to be another optimizer or a model of another class)."""
    for method in cls.methods.values():
        if called_names(method)["zero_grad"] or any(e.kind == L.ZERO_GRAD for e in ctx.loops.body_events(method, 0)):
            return True
    own = {a.split(".", 1)[-1] for a in cls.attrs} | {attr}
    for module in ctx.project.modules:
        for sc in module.scopes:
            if sc.cls is cls or not called_names(sc)["zero_grad"]:
                continue
            for call in sc.calls:
                if isinstance(call.func, cst.Attribute) and call.func.attr.value == "zero_grad":
                    d = dotted(call.func.value)
                    if d is not None and d.startswith("self.") and sc.cls is not None:
                        continue  # another class's own optimizer or model
                    if d is not None and "." in d and d.rsplit(".", 1)[-1] in own:
                        return True
                    if (d is None or "." not in d) and _may_be(ctx, call.func.value, sc, cls, optimizer):
                        return True  # (`opt.zero_grad()` on a local may be this optimizer too)
    return False


def _may_be(
    ctx: RuleContext, receiver: cst.BaseExpression, scope: Scope, cls: ClassFacts, optimizer: Optional[Value]
) -> bool:
    """Whether a `.zero_grad()` receiver outside the class may be its optimizer or model."""
    v = ctx.resolver.value_of(receiver, scope)
    if v is None or v.guess or v.origin is None:
        return v is None or v.kind is None or v.kind in (K.OPTIMIZER, K.MODEL)
    if v.kind == K.OPTIMIZER:
        return optimizer is None or v.origin is optimizer.origin
    if v.kind == K.MODEL:
        return v.cls is None or v.cls is cls
    return False


def _uncleared_steps(ctx: RuleContext, events: List[Event]) -> List[Tuple[Event, List[Event]]]:
    """Optimizer steps of the iteration whose gradients nothing in the iteration clears on
    every path, each with the clears of its optimizer that can run with it.

    With one optimizer any `zero_grad()` counts; with several (a GAN), a clear counts for an
    optimizer when it is that optimizer's, or its model's, or of unknown reach (`p.grad = None`).
    Only a clear that can run in the same iteration as the step counts: one on the other arm
    of an `if`/`else` (`if not amp: opt.zero_grad(); ...; opt.step()` / `else: scaler.step(opt)`)
    does not.
    """
    steps = [e for e in events if e.kind in STEPS and not _steps_a_loss(e)]
    clears = [e for e in events if e.kind == L.ZERO_GRAD]
    origins = {id(optimizer_origin(s)) for s in steps if optimizer_origin(s) is not None}
    if len(origins) <= 1 or any(optimizer_origin(s) is None for s in steps):
        return [(s, _live_clears(clears, s)) for s in steps if _no_clear_on_some_path(events, s, clears)][:1]
    out: List[Tuple[Event, List[Event]]] = []
    seen: Set[int] = set()
    for s in steps:
        o = optimizer_origin(s)
        if id(o) in seen:
            continue
        models = ctx.resolver.trained_models(s.receiver) if s.receiver is not None else []
        own = [c for c in _live_clears(clears, s) if _clears(c, o, models)]
        if not own and _covered_by_other_clears(ctx, _live_clears(clears, s), models):
            continue  # InfoGAN's `info_optimizer` over G and D, whose own optimizers are cleared
        if not own or _cleared_only_under_an_extra_test(events, s, own) is not None:
            seen.add(id(o))
            out.append((s, own))
    return out


def _steps_a_loss(step: Event) -> bool:
    """`optim.step(actor_loss)`: a step given a loss, not a closure, is a wrapper's that clears,
    backpropagates and steps by itself (Tianshou's `Algorithm.Optimizer.step(loss)`)."""
    call = step.node
    if step.kind != L.STEP or not isinstance(call, cst.Call) or not call.args or call.args[0].keyword is not None:
        return False
    if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "step"):
        return False  # (timm's `loss_scaler(loss, optimizer)` steps, but leaves the clearing to its caller)
    arg = call.args[0].value
    if isinstance(arg, cst.Lambda):
        return False
    if isinstance(arg, cst.Name):
        closures = {s.simple_name for s in step.scope.module.scopes if s.parent is step.scope}
        if arg.value in closures or arg.value.startswith("closure"):
            return False
    return True


def _restepped(ctx: RuleContext, events: List[Event], skip: Set[int]) -> Iterator[Tuple[Event, Event]]:
    """(the step, the step before it) for each optimizer that an iteration steps twice with a
    clear before only one of the steps (of the optimizers not in `skip`)."""
    steps = [e for e in events if e.kind in STEPS]
    seen: Set[int] = set(skip)
    for s in steps:
        o = optimizer_origin(s)
        if o is None or id(o) in seen:
            continue
        seen.add(id(o))
        models = ctx.resolver.trained_models(s.receiver) if s.receiver is not None else []
        found = _stepped_again_uncleared(events, [t for t in steps if optimizer_origin(t) is o], o, models)
        if found is not None:
            yield found


def _stepped_again_uncleared(
    events: List[Event], own: List[Event], o: object, models: List[Value]
) -> Optional[Tuple[Event, Event]]:
    """One optimizer stepped twice in an iteration (a GAN's generator: once for a VAE loss,
    once for the adversarial loss) with its clear before only one of the steps: the other step
    re-applies the gradients the previous step used, plus the new ones. (That step, the step
    before it), when every step and clear of the optimizer runs on every iteration."""
    clears = [e for e in events if e.kind == L.ZERO_GRAD and _clears(e, o, models)]
    if len(own) < 2 or not clears or any(e.conds or e.via for e in [*own, *clears]):
        return None
    at = {id(e): k for k, e in enumerate(events)}
    marks = sorted([(at[id(e)], e) for e in [*own, *clears]], key=lambda m: m[0])
    for k, (pos, e) in enumerate(marks):
        prev_pos, prev = marks[k - 1]  # (k == 0: the iteration's last mark, which runs before it next time)
        if e.kind == L.ZERO_GRAD or prev.kind == L.ZERO_GRAD:
            continue
        if prev_pos < pos:
            between = events[prev_pos + 1 : pos]
        else:
            between = events[prev_pos + 1 :] + events[:pos]
        if any(x.kind == L.BACKWARD for x in between):
            return e, prev
    return None


def _no_clear_on_some_path(events: List[Event], step: Event, clears: List[Event]) -> bool:
    """No clear can run with the step, or every clear that can sits in one arm of an
    `if`/`else` that the step follows, while another arm computes the loss its own way and
    clears nothing (`if moe: loss = ...` / `else: opt.zero_grad(); loss = ...`; then
    `loss.backward(); opt.step()`). An `if` with no other arm (`if i % k == 0: zero_grad()`,
    gradient accumulation) leaves no such path."""
    live = _live_clears(clears, step)
    if not live:
        return True
    if _cleared_only_under_an_extra_test(events, step, live) is not None:
        return True
    step_arms = dict(step.arms)
    choices = {node for c in live for node, _ in c.arms if node not in step_arms}
    for node in choices:
        if any(dict(c.arms).get(node) is None for c in live):
            continue  # a clear outside this choice runs on every arm of it
        taken = {dict(c.arms)[node] for c in live}
        others = [e for e in events if dict(e.arms).get(node) not in (None, *taken)]
        if any(e.kind in (L.FORWARD, L.LOSS) for e in others) or _other_arm_binds_loss(
            events, step, live[0], node, taken
        ):
            return True
    return False


def _cleared_only_under_an_extra_test(events: List[Event], step: Event, live: List[Event]) -> Optional[cst.If]:
    """Every clear that can run with the step sits under an `if` (with no `else`) that the
    step is not under, so when that test is false the step has run and nothing clears the
    gradients before the next backward. Either the clears come after the step (`opt.step()`
    then `if cfg.update_interval > 1: opt.zero_grad()`), or they come before it while the step
    runs on every iteration and a backward runs outside the test (`if steps > warmup:
    opt_g.zero_grad()`, then `loss.backward(); opt_g.step()`). That `if`."""
    at = {id(e): k for k, e in enumerate(events)}
    path = [id(call) for _, call in step.via]
    if any(id(c) not in at or [id(call) for _, call in c.via] != path for c in live):
        return None  # (a clear in another function than the step's)
    step_arms = dict(step.arms)
    live = [c for c in live if not _first_iteration_only(c, step_arms)]
    if not live:
        return None
    before = any(at[id(c)] < at[id(step)] for c in live)
    if before and (step.conds or len(path) > 0):
        return None  # (a conditional step with a conditional clear: gradient accumulation)
    opt = opt_name(step)
    found: Optional[cst.If] = None
    for c in live:
        guard = next((n for n in _extra_tests(c, step_arms) if not _all_but_the_first(n.test)), None)
        if guard is None:
            return None
        test = c.module.tree.code_for_node(guard.test)
        if "grad" in test or (before and opt in test):
            return None  # (`if p.grad is not None: p.grad.zero_()`; `if opt is not None: opt.zero_grad()`)
        if before and not any(
            e.kind == L.BACKWARD and id(guard) not in e.conds and not e.exclusive_with(step) for e in events
        ):
            return None  # (the backward runs under the same test: skipped with the clear)
        found = found or guard
    return found


def _extra_tests(clear: Event, step_arms: Dict[int, int]) -> List[cst.If]:
    """The `if` statements (with no `else`) around a clear that the step is not under,
    outermost first."""
    extra = {node for node, _ in clear.arms if node not in step_arms}
    return [
        n
        for n in SC.enclosing(clear.scope, clear.node)
        if id(n) in extra and isinstance(n, cst.If) and n.orelse is None
    ]


def _first_iteration_only(clear: Event, step_arms: Dict[int, int]) -> bool:
    """The clear runs under `if batch_index == 0` (alone or in an `and`): on the first
    iteration only, so it says nothing about the later ones. (`i % k == 0` is periodic.)"""
    return any(
        _compares_counter(part, (cst.Equal,), "0")
        for guard in _extra_tests(clear, step_arms)
        for part in _conjuncts(guard.test)
    )


def _all_but_the_first(test: cst.BaseExpression) -> bool:
    """`batch_index > 0`, `!= 0` or `>= 1`: holds on every iteration but the first, when
    nothing has been accumulated yet."""
    return _compares_counter(test, (cst.GreaterThan, cst.NotEqual), "0") or _compares_counter(
        test, (cst.GreaterThanEqual,), "1"
    )


def _compares_counter(test: cst.BaseExpression, ops: Tuple[type, ...], value: str) -> bool:
    return (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, (cst.Name, cst.Attribute))
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, ops)
        and isinstance(test.comparisons[0].comparator, cst.Integer)
        and test.comparisons[0].comparator.value == value
    )


def _conjuncts(test: cst.BaseExpression) -> List[cst.BaseExpression]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return [*_conjuncts(test.left), *_conjuncts(test.right)]
    return [test]


def _live_clears(events: List[Event], step: Event) -> List[Event]:
    """The clears among `events` that can run in the same iteration as `step`."""
    return [e for e in events if e.kind == L.ZERO_GRAD and not e.exclusive_with(step)]


def _other_arm_binds_loss(events: List[Event], step: Event, clear: Event, choice: int, taken: Set[int]) -> bool:
    """The `if`/`else` holding the clears (`taken`: their arms; in the loop's own body) has an
    arm without them that assigns the name the later backward is called on (`loss =
    model.compute_loss(...)`, a method of an object of unknown class)."""
    if clear.via or taken >= {0, 1}:
        return False
    stmt = next((n for n in SC.enclosing(clear.scope, clear.node) if id(n) == choice), None)
    if not isinstance(stmt, cst.If) or stmt.orelse is None:
        return False
    names = {  # (backwards after the choice, on the step's path)
        e.arg.value
        for e in events
        if e.kind == L.BACKWARD
        and isinstance(e.arg, cst.Name)
        and not e.via
        and not e.exclusive_with(step)
        and dict(e.arms).get(choice) is None
    }
    arm: cst.CSTNode = stmt.orelse if 0 in taken else stmt.body
    return any(
        isinstance(n, cst.AssignTarget) and isinstance(n.target, cst.Name) and n.target.value in names
        for n in walk(arm)
    )


def _covered_by_other_clears(ctx: RuleContext, clears: List[Event], models: List[Value]) -> bool:
    """Every model the optimizer trains is cleared by another optimizer's `zero_grad()` in the
    iteration (an optimizer over `chain(G.parameters(), D.parameters())` beside `G_opt` and
    `D_opt`): its gradients do not pile up from one iteration to the next."""
    if not models:
        return False
    cleared = [
        m
        for c in clears
        if c.receiver is not None and c.receiver.kind == K.OPTIMIZER
        for m in ctx.resolver.trained_models(c.receiver)
    ]
    known = [m for m in models if m.origin is not None]
    return len(known) == len(models) and all(any(c.origin is m.origin for c in cleared) for m in known)


def _clears(clear: Event, optimizer: object, models: List[Value]) -> bool:
    r = clear.receiver
    if r is not None and r.kind == K.OPTIMIZER and not r.guess and r.origin is None and r.alts:
        # `for o in opts: o.zero_grad()` clears each of them; `opt = A if x else B` the one in use
        return any(a.origin is optimizer for a in r.alts)
    if r is not None and r.kind == K.OPTIMIZER and not r.guess and optimizer_identity(r) is not None:
        return optimizer_identity(r) is optimizer
    if r is None or r.guess or r.origin is None:
        return True  # `p.grad = None` or an unknown receiver: assume it reaches everything
    if r.kind == K.OPTIMIZER:
        return r.origin is optimizer
    if r.kind == K.MODEL:
        return not models or any(_same_model(r, m) for m in models)
    return True


def _same_model(cleared: Value, trained: Value) -> bool:
    if trained.origin is None:
        # (an instance of a class, known by the class alone: `self.parameters()` in its method)
        return trained.cls is None or cleared.cls is None or cleared.cls is trained.cls
    return cleared.origin is trained.origin or _part_of(cleared, trained)


def _part_of(cleared: Value, trained: Value) -> bool:
    """`generator.zero_grad()` clears an optimizer over `generator.module.style.parameters()`:
    the trained module is stored in an attribute of the cleared one's class."""
    cls = cleared.cls
    if not isinstance(cls, ClassFacts):
        return False
    return any(b.value is trained.origin for bindings in cls.attrs.values() for b in bindings)


def _backward_before(events: List[Event], step: Event) -> Optional[Event]:
    """The first backward since the previous optimizer step: with `real.backward();
    fake.backward(); opt.step()` both add to the gradients the step uses, so clearing
    belongs before the first."""
    first = None
    for e in events:
        if e is step:
            break
        if e.exclusive_with(step):
            continue
        if e.kind in STEPS:
            first = None
        elif e.kind == L.BACKWARD and first is None:
            first = e
    return first or next((e for e in events if e.kind == L.BACKWARD and not e.exclusive_with(step)), None)


def fix_tl101(locate: Locate, backward: Event, step: Event) -> Optional[Fix]:
    """Clear the gradients once per iteration: `opt.zero_grad()` before the backward's statement,
    or, when the step is conditional (gradient accumulation), right after the step. A backward
    in a loop of its own that the step is not in (micro-batches summed into one step) gets the
    clear before that loop, so the step still sums them."""
    module = backward.module
    if not same_place(backward.scope, backward.via, step.scope, step.via):
        return None
    opt = stepped_optimizer(module, step)
    if opt is None:
        return None
    guessed = bool(getattr(step.receiver, "guess", False)) and step.kind != L.SCALER_STEP
    call_stmt = parse_statement(module, f"{opt}.zero_grad()")
    # `if torch.isfinite(norm): opt.step()` is no accumulation: a clear inside that `if` would
    # keep a bad gradient for good, so it goes before the backward like any other.
    accumulation = not set(step.conds) <= set(backward.conds) and _counts_steps(module, step, backward)
    if accumulation:
        line = statement_line(module, step.node)
        if line is None:
            return None
        changes = insert_after(line, call_stmt)
        where = f"after `{source_of(module, step.node)}`, once per real step"
    else:
        point = _clear_point(module, backward, step)
        if point is None or not bound_before(locate, module, backward.scope, root_name(opt), point):
            return None
        changes = insert_before(point, call_stmt)
        where = (
            "before `backward()`" if point is statement_line(module, backward.node) else "before the micro-batch loop"
        )
    return make_fix(module, changes, UNSAFE if guessed else SAFE, f"Call `{opt}.zero_grad()` {where}")


def _counts_steps(module: ModuleFacts, step: Event, backward: Event) -> bool:
    """The condition that the step has and the backward has not counts micro-batches
    (`if (i + 1) % accum == 0`, `if step % n == 0`): gradient accumulation, where the clear
    belongs after the step. Other conditions (skipping a step on a non-finite norm) still need
    the gradients cleared on every iteration, which an edit inside the `if` would not do."""
    extra = set(step.conds) - set(backward.conds)
    cur: Optional[cst.CSTNode] = step.node
    while cur is not None:
        if isinstance(cur, cst.If) and id(cur) in extra:
            test = cur.test
            if not accumulation_test(test):
                return False
        cur = parent_of(module, cur)
    return True


def _clear_point(module: ModuleFacts, backward: Event, step: Event) -> Optional[cst.CSTNode]:
    """The statement to clear before: the backward's own, or, when the backward runs in an
    inner loop that the step is not in, the statement of the step's block that holds it."""
    line = statement_line(module, backward.node)
    if line is None or set(backward.loops) <= set(step.loops):
        return line
    step_line = statement_line(module, step.node)
    block = parent_of(module, step_line) if step_line is not None else None
    return sibling_in(module, backward.node, block) if block is not None else None


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
