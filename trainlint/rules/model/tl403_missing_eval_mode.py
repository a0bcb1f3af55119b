"""TL403 missing-eval-mode: Evaluation runs in training mode, or training resumes in eval mode."""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import flow as FL
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import modes as MD
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.frameworks import is_lightning_module
from trainlint.analysis.gradmode import no_grad_nodes
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.names import dotted, is_self
from trainlint.analysis.project import enclosing_class
from trainlint.analysis.purpose import not_training
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import pass_statement, root_name
from trainlint.fixes.core import SAFE, UNSAFE, Changes, Locate, make_fix
from trainlint.fixes.edits import (
    ancestors,
    bound_before,
    insert_before,
    leaves_early,
    parse_statement,
    source_of,
)
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.runtime.judging.common import no_eval_pass
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, refuted
from trainlint.runtime.records import PassKind


def missing_eval_mode(ctx: RuleContext) -> Iterator[Finding]:
    yield from _eval_without_eval_mode(ctx)
    yield from _eval_never_restored(ctx)
    yield from _inference_method_in_training_mode(ctx)


# Methods a module offers its users for predictions (`model.predict(x)` after training).
_PREDICT_METHODS = frozenset({"predict", "infer", "inference", "predict_proba"})


def _inference_method_in_training_mode(ctx: RuleContext) -> Iterator[Finding]:
    """`predict`/`infer` of an `nn.Module` with dropout or batch norm (or submodules handed to
    its constructor) that runs the module's own forward (`self(x)`, `self.forward(x)`, also
    through a helper method of the class) and never switches to eval mode: called right after
    training, as users do, it predicts in training mode."""
    for cls in ctx.module.classes.values():
        methods = [m for name, m in cls.methods.items() if name in _PREDICT_METHODS]
        if not methods or not ctx.resolver.is_module_class(cls) or is_lightning_module(cls):
            continue
        facts = M.class_facts(cls, ctx.project)
        layer = facts.mode_dependent_layer()
        if layer is None and not MD.given_parts(facts):
            continue
        for method in methods:
            if not_training(method) or _every_caller_in_eval_mode(ctx, method):
                continue
            if _a_head(ctx, cls):
                continue  # a head's `predict`, called by its model's own `predict`: the runner sets the mode
            body = [method] + [
                cls.methods[c.func.attr.value]
                for c in method.calls
                if isinstance(c.func, cst.Attribute)
                and is_self(c.func.value)
                and c.func.attr.value in cls.methods
                and c.func.attr.value not in _PREDICT_METHODS
            ]
            if any(is_self(c.func.value) for fn in body for c, _ in MD.textual_modes(fn)):  # type: ignore[attr-defined]
                continue  # (`self.eval()` / `self.train(...)`: the method chooses the mode itself)
            calls = [(fn, c) for fn in body for c in fn.calls]
            own = next(((fn, c) for fn, c in calls if _runs_own_forward(c)), None)
            if own is None:
                continue
            fn, call = own
            what = f"`{layer.text()}`" if layer is not None else "submodules handed to its constructor"
            related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = []
            if layer is not None:
                related.append((layer.module, layer.node, f"`{layer.text()}` acts differently in training mode"))
            if fn is not method:
                related.append((ctx.module, method.node, f"`{method.simple_name}` runs it"))
            yield Finding(
                "TL403",
                ctx.module,
                call,
                f"`{method.simple_name}` runs the model's forward without switching it to eval mode, and the "
                f"model has {what}: called after training, as users call it, it predicts in training mode "
                "(dropout still drops units, batch norm uses the batch's statistics), so its predictions are "
                f"noisy and wrong. Call `self.eval()` at the start of `{method.simple_name}` (and "
                "`self.train()` again before training resumes).",
                related=related,
            )


def _a_head(ctx: RuleContext, cls: ClassFacts) -> bool:
    """A class named as the head of a larger model (`ClsHead`, or a subclass of `BaseHead`):
    its `predict` turns features into predictions for the model's own `predict`, which is what
    users call, in the mode its runner sets."""
    family = ctx.project.class_family(cls)
    names = [c.name for c in family] + [(dotted(b) or "").rsplit(".", 1)[-1] for c in family for b in c.bases]
    return any(n.endswith("Head") for n in names)


def _every_caller_in_eval_mode(ctx: RuleContext, method: Scope) -> bool:
    """Each call of the method in the project is made on a model its caller put in eval mode
    (`model.eval(); model.predict(x)`); with no caller in sight, its users decide: False."""
    callers = ctx.project.callers(method)
    for caller, call in callers:
        receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
        model = ctx.resolver.value_of(receiver, caller) if receiver is not None else None
        if model is None or MD.mode_at(ctx, caller, call, model).mode != "eval":
            return False
    return bool(callers)


def _runs_own_forward(call: cst.Call) -> bool:
    """`self(x)` or `self.forward(x)`."""
    if is_self(call.func):
        return True
    return isinstance(call.func, cst.Attribute) and call.func.attr.value == "forward" and is_self(call.func.value)


def _eval_without_eval_mode(ctx: RuleContext) -> Iterator[Finding]:
    reported: Set[Tuple[int, str]] = set()  # (function, model): one finding for its passes
    for ep in MD.eval_passes(ctx):
        if ep.mode_dependent is None:
            continue
        key = (id(ep.scope), FL.snippet(ep.forward.module, ep.forward.callee))
        if key in reported:
            continue
        if not (MD.grad_disabled(ctx, ep) or MD.eval_named(ctx, ep) or ep.restored is not None):
            continue  # nothing says this loop evaluates (a model restored by a script that never trains does)
        if _also_a_training_forward(ctx, ep):
            continue  # a helper the training step also calls with gradients: targets, not an evaluation
        if _picks_actions(ep):
            continue  # a rollout acts with the policy being trained, dropout and all
        if _part_run_by_its_method(ctx, ep):
            continue  # `self.encoder(x)` in the model's `encode`: the call of `vae.encode` is the pass
        if MD.train_disabled(ctx, ep.forward.callee):
            continue  # `encoder.train = disabled_train`: frozen in eval mode for good
        if _output_dropped(ep) or MD.generate_sets_eval(ctx, ep):
            continue  # `model(x)` for its side effects (batch-norm statistics); `generate` calling `self.eval()`
        mode = MD.mode_at(ctx, ep.scope, MD.event_anchor(ep.forward), ep.model)
        if mode.mode == "eval" or (mode.mode == "train" and not mode.trained_after and _sampling_or_recalibrating(ep)):
            continue  # eval mode set, or train mode chosen on purpose (Monte-Carlo dropout, BN statistics)
        if mode.mode == "none" and (
            not MD.has_weights(ctx, ep.model)
            or MD.shape_check(ep)
            or (_model_is_parameter(ep) and not ctx.project.callers(ep.scope) and ep.sibling is None)
            or (_model_of_an_object_never_built(ctx, ep) and MD.trained_by_its_class(ctx, ep) is None)
            or (_submodule_of_an_unused_wrapper(ctx, ep) and MD.trained_by_its_class(ctx, ep) is None)
        ):
            # (a helper given its model: its caller decides the mode, and none is known; unless
            # the class's own training method leaves the model in training mode)
            continue
        name = FL.snippet(ep.forward.module, ep.forward.callee)
        related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = []
        if ep.mode_layer is not None:
            related.append(
                (ep.mode_layer.module, ep.mode_layer.node, f"`{ep.mode_dependent}` acts differently in training mode")
            )
        if mode.node is not None and mode.module is not None:
            related.append((mode.module, mode.node, "the model was last put in training mode here"))
        related += MD.path_to_forward(ep)
        reported.add(key)
        yield Finding(
            "TL403",
            ep.forward.module,
            ep.forward.node,
            f"{_what_evaluates(ep)} runs `{name}` in training mode, and the model has {_layer_phrase(ep)}: "
            f"{_mode_effect(ep)}, so the metrics are noisy and wrong. {_how_to_switch(ep, name)}",
            related=related,
            fix_builder=(
                fixes.hook(fix_tl403_eval, ep.loop, ep.forward, _resets_parts(ep.forward), not _trains(ctx, ep))
                if _fix_is_safe(ctx, ep)
                else None
            ),
        )


def _part_run_by_its_method(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """A lone forward of one of the module's own parts (`self.encoder(x)`) in a method of that
    module that the project calls (`vae.encode(images)`): its mode is the module's, set or not
    by the caller, and that call is judged where it is made."""
    cls = ep.scope.cls
    if ep.loop is not None or ep.forward.via or cls is None or not ctx.resolver.is_module_class(cls):
        return False
    callee = ep.forward.callee
    owner = (dotted(callee) if isinstance(callee, cst.BaseExpression) else None) or ""
    return owner.startswith("self.") and bool(ctx.project.callers(ep.scope))


_ACTING_NAMES = frozenset({"act", "get_action", "select_action", "choose_action", "sample_action", "take_action"})


def _picks_actions(ep: MD.EvalPass) -> bool:
    """The pass is a function that samples an action (a reinforcement-learning rollout): it
    builds a `torch.distributions` object, or is named for acting (`act`, `select_action`)."""
    fn = ep.forward.scope
    if fn is not ep.scope:
        return False  # (an evaluation loop that calls `agent.act(state)` evaluates)
    if fn.simple_name in _ACTING_NAMES:
        return True
    return any((fn.module.qualify(c.func) or "").startswith("torch.distributions.") for c in fn.calls)


def _fix_is_safe(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """Whether `.eval()`/`.train()` around the pass changes nothing but the evaluation."""
    if ep.flag is not None:
        return False  # a loop that also trains: `.eval()` around it would stop its training
    if not _surely_a_module(ctx, ep):
        return False  # `net.eval()` on a helper's `net` that callers fill with a plain function
    if ep.loop is not None:
        return True
    # A pass on its own in a function: the edit goes into that function, so every call of it
    # must be an evaluation (a step helper that training calls too would train in eval mode).
    if not MD.eval_named(ctx, ep):
        return False
    return not any(_trains_in(ctx, caller) for caller, _ in ctx.project.callers(ep.scope))


# What only a module answers: using one of these on a parameter shows callers pass modules.
_MODULE_API = frozenset(
    {"parameters", "named_parameters", "modules", "named_modules", "children", "state_dict", "eval", "train"}
    | {"load_state_dict", "apply", "zero_grad", "buffers", "to", "cuda", "requires_grad_", "training"}
)


def _surely_a_module(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """A model that is a parameter of the pass's function is a module when the function uses
    it as one, is annotated with a model class, or when every call site passes a model; helpers such as `evaluate(net, data)`
    are also called with plain functions and lambdas, which have no `.eval()`."""
    callee = ep.forward.callee
    fn = ep.forward.scope
    if not isinstance(callee, cst.Name) or callee.value not in fn.params:
        return True
    return _module_parameter(ctx, fn, callee.value, 0)


def _module_parameter(ctx: RuleContext, fn: Scope, name: str, depth: int) -> bool:
    annotation = fn.param_nodes[fn.params.index(name)].annotation
    if annotation is not None:
        typed = ctx.resolver.annotated(annotation.annotation, fn)
        return typed is not None and typed.kind == K.MODEL
    for n in (x for stmt in fn.body for x in walk(stmt)):
        if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value == name:
            if n.attr.value in _MODULE_API:
                return True
    sites = ctx.project.callers(fn)
    if not sites:
        return False
    for caller, call in sites:
        passed = C.bind(call, fn, name, isinstance(call.func, cst.Attribute))
        if passed is None or isinstance(passed, cst.Lambda):
            return False
        if isinstance(passed, cst.Name) and passed.value in caller.params and depth < 2:
            if _module_parameter(ctx, caller, passed.value, depth + 1):
                continue  # `train(net)` that calls `evaluate(net)` and uses `net` as a module
            return False
        value = ctx.resolver.value_of(passed, caller)
        if value is None or value.kind != K.MODEL or value.guess:
            return False
    return True


def _also_a_training_forward(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """The pass's function is called by one function both under `no_grad` and with gradients
    (`next_q = self._critic_forward(next_obs)` for the TD target, then `q =
    self._critic_forward(obs)` for the loss): the gradient-free call computes training targets
    in the training step, in the mode training uses. Or a module's `forward` calls it with
    gradients: it is part of the model's computation, not an evaluation of it."""
    if ep.loop is not None and ep.loop.scope is ep.scope:
        return False
    arms: Dict[int, Set[bool]] = {}
    for caller, call in ctx.project.callers(ep.scope):
        off = id(call) in no_grad_nodes(caller.module)
        if caller.simple_name == "forward" and caller.cls is not None and not off:
            return True  # (`def score(self, t, y)` of a score-based model, run by its `forward`'s loss)
        arms.setdefault(id(caller), set()).add(off)
    return any(len(both) == 2 for both in arms.values())


def _output_dropped(ep: MD.EvalPass) -> bool:
    """The forward is a statement of its own (`model(images)` in a precise-BN pass): nothing it
    returns is measured, so no metric can be wrong; the pass runs for what the forward changes."""
    up = ancestors(ep.forward.module, ep.forward.node)
    return bool(up) and isinstance(up[0], cst.Expr) and up[0].value is ep.forward.node


def _sampling_or_recalibrating(ep: MD.EvalPass) -> bool:
    """What `model.train()` before a gradient-free pass is for, when it is on purpose: the
    pass's output is dropped (`model(x)` recomputing batch-norm statistics), or the model runs
    several times on the same input (`[model(x) for _ in range(20)]`, Monte-Carlo dropout).
    A pass whose predictions are used once each is an evaluation in the wrong mode."""
    call = ep.forward.node
    up = ancestors(ep.forward.module, call)  # nearest first
    end = next((i for i, n in enumerate(up) if n is ep.forward.scope.node), None)
    if end is None:
        return True  # (not found where expected: keep the old benefit of the doubt)
    inside = up[:end]  # within the pass's own function
    if inside and isinstance(inside[0], cst.Expr):
        return True
    used = {n.value for a in getattr(call, "args", ()) for n in walk(a.value) if isinstance(n, cst.Name)}
    for node in inside:
        loops: List[Tuple[cst.BaseExpression, cst.BaseExpression]] = []
        if isinstance(node, cst.For):
            loops.append((node.target, node.iter))
        elif isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            loops.append((node.for_in.target, node.for_in.iter))
        for target, it in loops:
            counted = isinstance(it, cst.Call) and dotted(it.func) in ("range", "trange", "tqdm.trange")
            names = {n.value for n in walk(target) if isinstance(n, cst.Name)}
            if counted and not names & used:
                return True
            if not counted:
                return False  # a loop over the data: one around it repeats epochs, not one input
    return False


def _what_evaluates(ep: MD.EvalPass) -> str:
    if ep.flag is not None:
        return f"when `{ep.flag}` is false (as a caller passes it) this loop only evaluates, yet it"
    return "this evaluation loop" if ep.loop is not None else "this evaluation pass"


def _how_to_switch(ep: MD.EvalPass, name: str) -> str:
    if ep.flag is not None:
        return f"Call `{name}.train({ep.flag})` before the loop."
    return f"Call `{name}.eval()` before evaluating (and `{name}.train()` before training resumes)."


def _submodule_of_an_unused_wrapper(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """`self.model(x)` in a method of an `nn.Module` that holds the model (a diffusion wrapper's
    `sample()`), reached only from the class's own methods, none called in sight: whoever uses
    the wrapper sets its mode (`diffusion.eval()` reaches `self.model`)."""
    callee = ep.forward.callee
    cls = enclosing_class(ep.scope)
    if not isinstance(callee, cst.Attribute) or not (dotted(callee) or "").startswith("self."):
        return False
    if cls is None or not ctx.resolver.is_module_class(cls) or is_lightning_module(cls):
        return False  # (Lightning calls its module's hooks and sets the modes itself)
    todo, seen = [ep.scope], {id(ep.scope)}
    while todo:
        for caller, _ in ctx.project.callers(todo.pop()):
            if enclosing_class(caller) is not cls:
                return False  # used from outside: the mode at that call decides
            if id(caller) not in seen and len(seen) < 12:
                seen.add(id(caller))
                todo.append(caller)
    return True


def _model_is_parameter(ep: MD.EvalPass) -> bool:
    recv = ep.forward.callee
    return isinstance(recv, cst.Name) and recv.value in ep.scope.params


def _model_of_an_object_never_built(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """`self.model` that `__init__` keeps from its parameter, in a class no code in sight
    instantiates: whoever builds the object decides the model's mode (as for a function given
    its model)."""
    recv = ep.forward.callee
    cls = ep.scope.cls
    key = dotted(recv) if isinstance(recv, cst.Attribute) else None
    if cls is None or key is None or not key.startswith("self.") or key.count(".") != 1:
        return False
    return cls.init_params_of(key) is not None and not ctx.project.instantiation_sites(cls)


def _layer_phrase(ep: MD.EvalPass) -> str:
    if ep.mode_layer is not None:
        return f"`{ep.mode_dependent}` ({FL.where(ep.mode_layer.module, ep.mode_layer.node)})"
    return f"{ep.mode_dependent}"


def _mode_effect(ep: MD.EvalPass) -> str:
    kind = ep.mode_layer.type_name if ep.mode_layer is not None else None
    if kind in M.BATCHNORM_LAYERS:
        return "batch norm normalises with each evaluation batch's statistics and overwrites its running averages with them"
    if kind in M.DROPOUT_LAYERS:
        return "dropout keeps zeroing random units during evaluation"
    return "dropout/batch norm keep their training behaviour during evaluation"


def _eval_never_restored(ctx: RuleContext) -> Iterator[Finding]:
    seen: Set[int] = set()
    for lf in ctx.loops.loops_of(ctx.module):
        if not (lf.has(L.BACKWARD) and lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.ENV_STEP)):
            continue
        evals = [e for e in lf.events if e.kind == L.EVAL_MODE]
        if not evals or lf.has(L.TRAIN_MODE) or _has_textual_train(lf):
            continue
        ev = evals[0]
        if id(ev.node) in seen:
            continue
        forwards = [
            e
            for e in lf.events
            if e.kind == L.FORWARD
            and MD.same_model(e.receiver, ev.receiver)
            and not _another_name_here(ev, e)
            and id(e.node) not in no_grad_nodes(e.module)  # (a sample drawn under `no_grad` trains nothing)
        ]
        # (the training forward: not one of the evaluation helper that calls `.eval()`)
        forward = next(
            (e for e in forwards if not ev.via or e.via[:1] != ev.via[:1]), forwards[0] if forwards else None
        )
        if forward is None:
            continue
        layer = FL.mode_dependent_layer_of(ev.receiver, ctx.project)
        relied = _relied_training_mode(ctx, lf, forward, ev) if layer is None else None
        by_method = layer is None and relied is None
        if by_method:
            relied = _train_method_before_loop(ctx, lf, ev)
        if layer is None and relied is None:
            if _eval_before_the_training_forward(lf, ev, forward):
                seen.add(id(ev.node))
                yield _trains_in_eval_mode(ev, forward)
            continue
        seen.add(id(ev.node))
        name = (
            FL.snippet(ev.module, ev.node.func.value)
            if isinstance(ev.node, cst.Call) and isinstance(ev.node.func, cst.Attribute)
            else "model"
        )
        related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = []
        if layer is not None:
            effect = (
                f"`{layer.text()}` ({FL.where(layer.module, layer.node)}) then "
                f"{'stops dropping units' if layer.type_name in M.DROPOUT_LAYERS else 'uses frozen running statistics'} "
                "while training"
            )
            related.append((layer.module, layer.node, f"`{layer.text()}` acts differently in eval mode"))
        else:
            assert relied is not None
            train = FL.snippet(lf.scope.module, relied)
            effect = (
                f"the code relies on its training mode (`{train}` before the loop; its layers are not in sight), "
                "which later passes no longer get"
            )
            related.append((lf.scope.module, relied, "the model is put in training mode only here, before the loop"))
        related.append((forward.module, forward.node, "this training forward then runs in eval mode"))
        if ev.via:
            scope, call = ev.via[0]
            related.append((scope.module, call, "the training loop reaches it through this call"))
        yield Finding(
            "TL403",
            ev.module,
            ev.node,
            f"`{name}.eval()` runs inside the training loop and nothing in the loop calls `{name}.train()` "
            f"again, so from the second pass on the model trains in eval mode: {effect}. "
            + (
                f"Call `{FL.snippet(lf.scope.module, relied)}` again right after evaluating (or at the start of each iteration)."
                if by_method and relied is not None
                else f"Call `{name}.train()` at the start of each epoch (or right after evaluating)."
            ),
            related=related,
            fix_builder=None if by_method else fixes.hook(fix_tl403_restore, lf, forward, _resets_parts(forward)),
        )


def _another_name_here(ev: Event, forward: Event) -> bool:
    """The eval call and the forward name different objects in the same function (`g_ema.eval()`
    beside `generator(z)`, where `g_ema = copy.deepcopy(generator)`): a copy, not the model."""
    if not _in_one_function(ev, forward):
        return False
    func = ev.node.func  # type: ignore[attr-defined]
    callee = forward.callee
    if not isinstance(func, cst.Attribute) or not isinstance(callee, cst.BaseExpression):
        return False
    a, b = dotted(func.value), dotted(callee)
    return a is not None and b is not None and a != b


def _eval_before_the_training_forward(lf: LoopFacts, ev: Event, forward: Event) -> bool:
    """`model.eval()` written in the training function itself, at the top of each pass, before
    the training forward and with no other pass of the model in between (`for epoch in ...:
    self.model.eval(); for images, targets in train_loader: ...`): `eval` where `train` was
    meant, whatever layers the model has."""
    # (`forward` is never under `no_grad`: the caller chose it among the training forwards)
    if not _in_one_function(ev, forward) or ev.node.args:  # type: ignore[attr-defined]
        return False
    around = SC.enclosing(ev.scope, ev.node)
    if not around or not isinstance(around[-1], (cst.For, cst.While)):
        return False  # `if i % 100 == 0: g_ema.eval()`: a periodic check, not the top of each pass
    events = lf.events
    if ev not in events or forward not in events:
        return False
    start, end = events.index(ev), events.index(forward)
    return start < end and not any(
        e.kind == L.FORWARD and MD.same_model(e.receiver, ev.receiver) for e in events[start + 1 : end]
    )


def _in_one_function(ev: Event, forward: Event) -> bool:
    """The `x.eval()` call and the forward are written in the same function, not reached
    through helpers."""
    return not ev.via and not forward.via and ev.scope is forward.scope and isinstance(ev.node, cst.Call)


def _trains_in_eval_mode(ev: Event, forward: Event) -> Finding:
    assert isinstance(ev.node, cst.Call) and isinstance(ev.node.func, cst.Attribute)
    name = FL.snippet(ev.module, ev.node.func.value)
    return Finding(
        "TL403",
        ev.module,
        ev.node,
        f"`{name}.eval()` runs at the top of each pass of this training loop, before the training forward, "
        f"and nothing calls `{name}.train()`: the model trains in eval mode, so its dropout (if any) is off "
        "and its batch norm normalises with frozen running statistics that training never updates (its "
        f"layers are not in sight here). Call `{name}.train()` there instead.",
        related=[(forward.module, forward.node, "this training forward runs in eval mode")],
    )


def _relied_training_mode(ctx: RuleContext, lf: LoopFacts, forward: Event, ev: Event) -> Optional[cst.Call]:
    """For a model whose layers are out of sight: the `model.train()` that the loop's function
    calls before the loop, on the model its training forward runs (its author relies on the
    training mode, which the `.eval()` inside the loop takes away). The training forward may
    be in a step helper of the same object (`self._train_batch(...)` running `self.model(x)`),
    and the `train()` in the method that calls the loop's, before that call."""
    callee = forward.callee
    if not isinstance(callee, cst.BaseExpression):
        return None
    if forward.via:
        name = dotted(callee) or ""
        if not (name.startswith("self.") and forward.scope.cls is not None and forward.scope.cls is lf.scope.cls):
            return None  # a helper's forward on an object of its own
    elif forward.scope is not lf.scope:
        return None
    if not (MD.out_of_sight(ctx, forward.receiver) and MD.out_of_sight(ctx, ev.receiver)):
        return None
    if not _evaluates_same_object(ev, forward, callee):
        return None
    start = SC.order(lf.scope, lf.node)
    if start is None:
        return None
    before = [c for c in MD.train_calls(lf.scope, callee) if (SC.order(lf.scope, c) or start) < start]
    if before:
        return before[-1]
    if not (dotted(callee) or "").startswith("self."):
        return None
    for caller, call in ctx.project.callers(lf.scope)[:4]:
        # (the same object: a method of the class calling `self.<loop method>(...)`)
        if caller.cls is not lf.scope.cls or SC.order(caller, call) is None:
            continue
        at = SC.order(caller, call) or 0
        earlier = [c for c in MD.train_calls(caller, callee) if (SC.order(caller, c) or at) < at]
        if earlier:
            return earlier[-1]
    return None


def _train_method_before_loop(ctx: RuleContext, lf: LoopFacts, ev: Event) -> Optional[cst.Call]:
    """A call before the loop to a method that switches the very layers the loop's `.eval()`
    switches (`model.train_start()` doing `self.img_enc.train()`, then `model.val_start()`
    doing `self.img_enc.eval()` inside the loop): its author relies on the training mode."""
    start = SC.order(lf.scope, lf.node)
    node = ev.node
    if start is None or ev.scope.cls is None or not isinstance(node, cst.Call):
        return None
    if not isinstance(node.func, cst.Attribute):
        return None
    target = dotted(node.func.value)
    if target is None or not target.startswith("self."):
        return None
    for e in ctx.loops.body_events(lf.scope, 0):
        if e.kind != L.TRAIN_MODE or not e.via or e.scope.cls is not ev.scope.cls:
            continue
        call = e.via[0][1]
        at = SC.order(lf.scope, call)
        f = e.node.func if isinstance(e.node, cst.Call) else None
        if at is not None and at < start and isinstance(f, cst.Attribute) and dotted(f.value) == target:
            return call
    return None


def _evaluates_same_object(ev: Event, forward: Event, callee: cst.BaseExpression) -> bool:
    """The `.eval()` is on the object the training forward calls, as written: `net.eval()` beside
    `net(x)`, `self.model.eval()` in a method of the same class beside `self.model(x)`, or
    `model.eval()` in a helper the loop hands that object (`evaluate(net, loader)`)."""
    name = dotted(callee)
    node = ev.node
    if name is None or not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
        return False
    if dotted(node.func.value) == name:
        # (`self.model` of another class, an evaluator's, is another object)
        return not name.startswith("self.") or ev.scope.cls is forward.scope.cls
    return bool(ev.via) and any(dotted(a.value) == name for a in ev.via[0][1].args)


def _has_textual_train(lf: LoopFacts) -> bool:
    """`x.train()` / `x.train(True)` written in the loop, whatever `x` resolves to."""
    for node in walk(lf.node):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "train":
            a = node.args
            if not a or not (isinstance(a[0].value, cst.Name) and a[0].value.value == "False"):
                return True
    return False


def _model_name(module: ModuleFacts, forward: Event) -> Optional[str]:
    """`model` for `model(x)` / `model.forward(x)` / `model.generate(x)` / `self.net(x)`, if it
    is a plain name."""
    if not isinstance(forward.node, cst.Call):
        return None
    func = forward.callee
    return source_of(module, func) if isinstance(func, cst.BaseExpression) and dotted(func) is not None else None


def fix_tl403_eval(
    locate: Locate,
    loop: Optional[L.LoopFacts],
    forward: Event,
    resets_parts: bool = False,
    keep_mode: bool = False,
) -> Optional[Fix]:
    """`model.eval()` before the evaluation pass and `model.train()` after it: the model
    leaves the pass in the (training) mode it entered with. In a function that does not
    train (`evaluate()`, `predict()`), the mode it entered with is restored instead, since a
    caller may have put the model in eval mode on purpose. Unsafe when the file sets the
    mode of a part of a model on its own, which that `.train()` would reset."""
    module = forward.module
    scope = loop.scope if loop is not None else forward.scope
    if forward.via or forward.scope is not scope:
        return None
    name = _model_name(module, forward)
    stmt = pass_statement(module, loop, forward)
    if name is None or stmt is None or not bound_before(locate, module, scope, root_name(name), stmt):
        return None
    if _leaves_the_block(stmt):
        return None  # `return model(x)`, or a loop that can return: a `.train()` after it would not run
    what = "loop" if loop is not None else "pass"
    before = [parse_statement(module, f"{name}.eval()")]
    after = parse_statement(module, f"{name}.train()")
    title = f"Call `{name}.eval()` before the evaluation {what} and `{name}.train()` after it"
    if keep_mode:
        flag = _fresh_name(scope, "was_training")
        before.insert(0, parse_statement(module, f"{flag} = {name}.training"))
        after = parse_statement(module, f"{name}.train({flag})")
        title = f"Call `{name}.eval()` before the evaluation {what} and restore the model's mode after it"
    changes: Changes = {stmt: cst.FlattenSentinel([*before, stmt, after])}  # type: ignore[list-item]
    return make_fix(module, changes, UNSAFE if resets_parts else SAFE, title + _RESETS_PARTS[resets_parts])


def _trains(ctx: RuleContext, ep: MD.EvalPass) -> bool:
    """The function around the pass also trains, so training resumes after it."""
    return _trains_in(ctx, ep.loop.scope if ep.loop is not None else ep.forward.scope)


_TRAINING = (L.BACKWARD, L.STEP, L.SCALER_STEP, L.MANUAL_UPDATE)


def _trains_in(ctx: RuleContext, scope: Scope) -> bool:
    """A backward pass or an update anywhere in the function's body (its loops included)."""
    return any(e.kind in _TRAINING for e in ctx.loops.body_events(scope, 0))


def _fresh_name(scope: Scope, base: str) -> str:
    taken = set(scope.bindings) | set(scope.params)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    return name


_RESETS_PARTS = {False: "", True: " (this also resets the modes set on parts of the model)"}


def _leaves_the_block(stmt: cst.CSTNode) -> bool:
    if isinstance(stmt, cst.SimpleStatementLine) and any(
        isinstance(getattr(small, "value", None), cst.Yield) for small in stmt.body
    ):
        return True
    return leaves_early(stmt)


_PART_ITERATORS = frozenset({"modules", "children", "named_modules", "named_children"})


def _resets_parts(forward: Event) -> bool:
    """Whether a `model.train()` added for the pass's model could undo a mode that the file
    sets on part of a model on its own (a batch norm frozen while fine-tuning):
    `model.backbone.eval()`, `m.eval()` over `model.modules()`, or in a function given to
    `model.apply(...)`. `model.train()` puts every submodule in training mode."""
    module = forward.module
    name = _model_name(module, forward) or ""
    receivers, by_apply = module.memo(_part_modes, lambda: _part_modes(module))
    return by_apply or any(r.startswith((name + ".", name + "[")) for r in receivers)


def _part_modes(module: ModuleFacts) -> Tuple[List[str], bool]:
    """The receivers of the file's `.eval()` / `.train(...)` calls, and whether one of them
    is a submodule met by iterating a model's modules or handed over by `.apply()`."""
    calls = [n for n in walk(module.tree) if isinstance(n, cst.Call)]
    applied = {
        a.value.value
        for c in calls
        if isinstance(c.func, cst.Attribute) and c.func.attr.value == "apply"
        for a in c.args[:1]
        if isinstance(a.value, cst.Name)
    }
    part_vars: Set[str] = set()
    for n in walk(module.tree):
        if isinstance(n, (cst.For, cst.CompFor)) and isinstance(n.iter, cst.Call):
            func = n.iter.func
            if isinstance(func, cst.Attribute) and func.attr.value in _PART_ITERATORS:
                part_vars |= {t.value for t in walk(n.target) if isinstance(t, cst.Name)}
    for fn in walk(module.tree):
        if isinstance(fn, cst.FunctionDef) and fn.name.value in applied:
            part_vars |= {p.name.value for p in fn.params.params}
    receivers: List[str] = []
    any_model = False
    for c in calls:
        if isinstance(c.func, cst.Attribute) and c.func.attr.value in ("eval", "train"):
            receiver = c.func.value
            if isinstance(receiver, cst.Name) and receiver.value in part_vars:
                any_model = True
            receivers.append(source_of(module, receiver))
    return receivers, any_model


def fix_tl403_restore(locate: Locate, loop: L.LoopFacts, forward: Event, resets_parts: bool = False) -> Optional[Fix]:
    """`model.train()` as the first statement of each iteration of the training loop that
    also switches the model to eval mode. Unsafe when the file sets the mode of a part of a
    model on its own, which that `.train()` would reset from the first iteration on."""
    module = loop.scope.module
    if forward.via or forward.scope is not loop.scope:
        return None
    name = _model_name(module, forward)
    body = loop.node.body
    if name is None or not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    first = body.body[0]
    return make_fix(
        module,
        insert_before(first, parse_statement(module, f"{name}.train()")),
        UNSAFE if resets_parts else SAFE,
        f"Call `{name}.train()` at the start of each iteration" + _RESETS_PARTS[resets_parts],
    )


def verdict_tl403(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    evals = 0
    for p in c.ev.passes.values():
        if not p.has_drop_or_norm:
            continue
        for pc in p.counts:
            if pc.is_eval:
                evals += pc.count
                if pc.training:
                    return confirmed(
                        observed=f"`{p.model}` (with dropout/batch-norm) ran {pc.count} evaluation pass(es) "
                        "in training mode",
                        expected="`model.eval()` before evaluation",
                        where=c.where(pc.first),
                    )
            elif pc.kind == PassKind.TRAIN and not pc.training:
                return confirmed(
                    observed=f"`{p.model}` ran {pc.count} training pass(es) in eval mode (train() never restored)",
                    expected="`model.train()` before training",
                    where=c.where(pc.first),
                )
    if evals:
        return refuted(observed=f"{evals} evaluation pass(es) ran in eval mode and training passes in training mode")
    return no_eval_pass(c)


RULE = Rule(
    code="TL403",
    name="missing-eval-mode",
    family="model",
    severity=WARNING,
    summary="Evaluation runs in training mode, or training resumes in eval mode.",
    fixable=True,
    check=missing_eval_mode,
    fixes=(
        fix_tl403_eval,
        fix_tl403_restore,
    ),
    verdict=verdict_tl403,
    needs_eval_pass=True,
)
