"""TL108 backward-under-no-grad: The training forward or `backward()` runs with gradients disabled."""

from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import derived as DV
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.autograd import CUT, NO_GRAD_CUT, GState, evaluator
from trainlint.analysis.facts import Binding, ClassFacts, Scope
from trainlint.analysis.gradmode import enables_grad, no_grad_nodes
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.names import dotted
from trainlint.analysis.symbols import Value
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, iterations
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted
from trainlint.runtime.records import (
    BackwardCall,
    PassKind,
)


def backward_under_no_grad(ctx: RuleContext) -> Iterator[Finding]:
    for lf in iterations(ctx):
        for e in lf.events:
            if e.kind == L.BACKWARD and e.no_grad and not _grad_checked(e):
                yield Finding(
                    "TL108",
                    e.module,
                    e.node,
                    "`backward()` runs with gradients disabled (inside `torch.no_grad()`/`inference_mode()`, "
                    "or after `torch.set_grad_enabled(False)`); the loss has no graph, so it raises or computes "
                    "nothing. Compute the training forward and backward with gradients enabled.",
                )
                break
        # (`model.generate(...)` decodes under no_grad by design: never the training forward)
        forwards: List[Event] = [e for e in lf.events if e.kind == L.FORWARD and not e.generates]
        if not any(e.kind == L.BACKWARD and not e.no_grad for e in lf.events):
            continue
        made = _loss_made_under_no_grad(lf)
        if made is not None:
            binding, backward = made
            yield Finding(
                "TL108",
                binding.scope.module,
                binding.stmt or binding.value,
                "this loss is computed under `torch.no_grad()`, so it has no graph: the `backward()` it is "
                'handed to raises ("element 0 of tensors does not require grad") or, once forced to require '
                "grad, trains nothing. Compute the loss with gradients enabled.",
                related=[(backward.module, backward.node, "the backward of that loss")],
            )
            continue
        cut = _loss_built_under_no_grad(ctx, lf)
        if cut is not None:
            state, backward = cut
            assert state.module is not None and state.node is not None
            yield Finding(
                "TL108",
                state.module,
                state.node,
                "this value is computed under `torch.no_grad()`, and the loss that `backward()` differentiates "
                'is built from it with nothing else that carries a graph: autograd raises ("element 0 of '
                'tensors does not require grad") or, once the loss is forced to require grad, nothing is '
                "trained. Compute it with gradients enabled; to keep a model frozen, call "
                "`requires_grad_(False)` on its parameters instead of wrapping its forward in `no_grad`.",
                related=[(backward.module, backward.node, "the backward of that loss")],
            )
            continue
        scored = _output_scored_under_no_grad(ctx, lf)
        if scored is not None:
            critic, trained, backward = scored
            name = critic.module.tree.code_for_node(critic.callee)
            gen = trained.module.tree.code_for_node(trained.callee)
            yield Finding(
                "TL108",
                critic.module,
                critic.node,
                f"`{name}` scores the output of `{gen}`, the model this loss trains, under "
                "`torch.no_grad()`: the term of the loss built from that score carries no gradient back "
                f"to `{gen}`, so it trains on the rest of the loss alone and this term only shifts the "
                f"number that is logged. Run `{name}` with gradients enabled (its own parameters are not "
                "stepped by this optimizer; call `requires_grad_(False)` on them to keep it frozen).",
                related=[
                    (trained.module, trained.node, "the trained model's forward"),
                    (backward.module, backward.node, "the backward of the loss that term is added to"),
                ],
            )
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


def _loss_made_under_no_grad(lf: LoopFacts) -> Optional[Tuple[Binding, Event]]:
    """A backward (outside `no_grad`) on a name whose every assignment reaching it sits inside
    a `no_grad` block, also through the parameter of a step helper the loop hands the loss to
    (`with torch.no_grad(): loss = ...` then `net.training_step(loss=loss)`)."""
    for e in lf.events:
        if e.kind != L.BACKWARD or e.no_grad or e.engine or not isinstance(e.arg, cst.Name) or _grad_checked(e):
            continue
        scope, name, use = e.scope, e.arg.value, e.node
        found = SC.reaching(scope, name, use)
        if not found and name in scope.params and e.via:
            caller, call = e.via[-1]
            given = C.bind(call, scope, name, isinstance(call.func, cst.Attribute))
            if not isinstance(given, cst.Name):
                continue
            scope, name, use = caller, given.value, call
            found = SC.reaching(scope, name, use)
        if not found or any(b.how != "assign" or b.stmt is None for b in found):
            continue
        inside = no_grad_nodes(scope.module)
        if all(id(b.stmt) in inside and not _grad_enabled_around(b) for b in found) and not _grad_forced(scope, name):
            return found[0], e
    return None


def _loss_built_under_no_grad(ctx: RuleContext, lf: LoopFacts) -> Optional[Tuple[GState, Event]]:
    """A backward (outside `no_grad`) on a loss whose only graph-carrying inputs were computed
    under `no_grad`: `with torch.no_grad(): out = llm(inputs_embeds=bridge(x))`, then
    `loss = F.cross_entropy(out.logits, y)` and `loss.backward()` (the frozen model cuts the path
    back to the trained one before it)."""
    ev = evaluator(ctx.project, ctx.resolver)
    for e in lf.events:
        if e.kind != L.BACKWARD or e.no_grad or e.arg is None or _grad_checked(e):
            continue
        state = ev.state(e.arg, e.scope)
        if state.kind == CUT and state.how == NO_GRAD_CUT and state.node is not None and state.module is not None:
            return state, e
    return None


def _output_scored_under_no_grad(ctx: RuleContext, lf: LoopFacts) -> Optional[Tuple[Event, Event, Event]]:
    """A term of the loss computed under `no_grad` by another network from the trained model's
    output: `fake = G(z)`, then `with torch.no_grad(): score = D(fake)`, and `g_loss = l1 +
    adversarial(score)`; `g_loss.backward(); opt_g.step()`. The other terms keep the loss on
    the graph, so nothing raises. (That forward, the trained forward, the backward.)"""
    events = lf.events
    start = 0
    for i, b in enumerate(events):
        if b.kind in STEPS:
            start = i + 1
        if b.kind != L.BACKWARD or b.no_grad or not isinstance(b.arg, cst.Name) or _grad_checked(b):
            continue
        window, start = events[start:i], i + 1
        step = next((s for s in events[i + 1 :] if s.kind in STEPS), None)
        if step is None or step.receiver is None or step.receiver.kind != K.OPTIMIZER:
            continue
        trained = {id(m.origin) for m in ctx.resolver.trained_models(step.receiver) if m.origin is not None}
        mine = [f for f in window if f.kind == L.FORWARD and f.scope is b.scope and f.via == b.via]
        for f in mine:
            made = _first_target(f) if not f.no_grad and _origin_in(f, trained) else None
            if made is None:
                continue
            for critic in mine[mine.index(f) + 1 :]:
                if critic.no_grad and not _origin_in(critic, trained) and _first_argument_is(critic, made):
                    if b.arg.value in DV.derived_names(b.scope, {id(critic.node)}):
                        return critic, f, b
    return None


def _origin_in(e: Event, origins: Set[int]) -> bool:
    return e.receiver is not None and e.receiver.origin is not None and id(e.receiver.origin) in origins


def _first_target(e: Event) -> Optional[str]:
    """The name a forward's output is bound to (`fake = G(z)`; `fake, _ = G(z)`: the first)."""
    for name, bindings in e.scope.bindings.items():
        if any(b.value is e.node and b.how == "assign" and b.index in (None, 0) for b in bindings):
            return name
    return None


def _first_argument_is(e: Event, name: str) -> bool:
    call = e.node
    if not isinstance(call, cst.Call) or not call.args or call.args[0].keyword is not None:
        return False
    arg = call.args[0].value
    return isinstance(arg, cst.Name) and arg.value == name


def _grad_enabled_around(b: Binding) -> bool:
    """The assignment sits in `with torch.enable_grad():` inside the `no_grad` region."""
    assert b.stmt is not None
    return any(enables_grad(item.item, b.scope.module) for w in SC.withs_around(b.scope, b.stmt) for item in w.items)


def _grad_forced(scope: Scope, name: str) -> bool:
    """`loss.requires_grad_()` / `loss.requires_grad = True`: made to require grad (TL601's)."""
    return f"{name}.requires_grad" in scope.module.tree.code_for_node(scope.node)


def _grad_checked(e: Event) -> bool:
    """`if loss.requires_grad: loss.backward()`: a helper shared by training and a `no_grad`
    evaluation that only differentiates when there is a graph."""
    for comp in SC.enclosing(e.scope, e.node):
        if isinstance(comp, cst.If):
            test = e.module.tree.code_for_node(comp.test)
            if "requires_grad" in test or "is_grad_enabled" in test:
                return True
    return False


def _handed_to_a_call_with_grad(lf: LoopFacts, forwards: List[Event], model: Value) -> bool:
    """The model is also handed, outside `no_grad`, to a call that runs it in the loop (`pred =
    odeint(func, y0, t)`, `checkpoint(model, x)`): that is its training forward, out of sight."""
    names = {dotted(f.callee) for f in forwards if isinstance(f.callee, cst.BaseExpression)}
    for defs in SC.scope_index(lf.scope).defs.values():
        names |= {d.name for d in defs if d.how == "assign" and any(n is model.origin for n in walk(d.value))}
    names.discard(None)
    if not names:
        return False
    off = no_grad_nodes(lf.scope.module)
    for node in walk(lf.node):
        if isinstance(node, cst.Call) and id(node) not in off:
            if any(not a.keyword and dotted(a.value) in names for a in node.args):
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
            if mine and all(f.no_grad for f in mine) and not _handed_to_a_call_with_grad(lf, mine, model):
                return mine[0]
        return None
    # (a model known only by its use has no construction to tell it from another)
    origins = {
        id(f.receiver.origin) if f.receiver is not None and f.receiver.origin is not None else None for f in forwards
    }
    if forwards and len(origins) == 1 and None not in origins and all(f.no_grad for f in forwards):
        return None if _without_parameters(ctx, forwards[0]) else forwards[0]
    return None


def _without_parameters(ctx: RuleContext, forward: Event) -> bool:
    """A module with nothing to train (a time-stretch augmentation built under `no_grad`)."""
    cls = forward.receiver.cls if forward.receiver is not None else None
    return isinstance(cls, ClassFacts) and M.holds_no_parameters(cls, ctx.project)


def verdict_tl108(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    backwards = c.prefer(d, c.ev.events_of(BackwardCall), lambda e: e.site)
    dead = [e for e in backwards if not e.grad_fn and not e.requires_grad]
    if dead:
        e = dead[0]
        mode = "with gradients disabled" if not e.grad_enabled else "from a forward pass run under no_grad"
        return confirmed(
            observed=f"the tensor passed to `backward()` had no grad_fn and did not require grad (computed {mode})",
            expected="a loss with a grad_fn",
            where=c.where(e.site),
        )
    no_grad_forward = [
        p
        for p in c.ev.passes.values()
        if any(pc.kind == PassKind.EVAL_NO_GRAD for pc in p.counts)
        and not any(pc.kind == PassKind.TRAIN for pc in p.counts)
    ]
    if no_grad_forward and backwards:
        return confirmed(
            observed=f"model `{no_grad_forward[0].model}` only ever ran with gradients disabled, yet "
            "backward was called",
            expected="the training forward with gradients enabled",
        )
    if backwards:
        return refuted(
            observed=f"all {len(backwards)} loss(es) passed to `backward()` had a grad_fn",
            where=c.where(backwards[0].site),
        )
    return None


RULE = Rule(
    code="TL108",
    name="backward-under-no-grad",
    family="loop",
    severity=ERROR,
    summary="The training forward or `backward()` runs with gradients disabled.",
    check=backward_under_no_grad,
    verdict=verdict_tl108,
    confirmed_by_crash=True,
)
