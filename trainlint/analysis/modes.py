"""Evaluation passes and the train/eval mode a model is in: what TL403 and TL404 judge.

An evaluation pass is a forward of a known model with no training around it (a loop that
does no backward or step, or a lone forward with no backward after it). The mode a model is
in at a point follows `model.eval()` / `model.train()` calls before it in the function, then
in its callers.
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Protocol, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import derived as DV
from trainlint.analysis import flow as FL
from trainlint.analysis import gradmode as GM
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import Binding, ClassFacts, ModuleFacts, Scope
from trainlint.analysis.frameworks import LIGHTNING_EVALUATION_HOOKS, LIGHTNING_TRAIN_START_HOOKS, lightning_hook
from trainlint.analysis.loops import Event, LoopAnalyzer, LoopFacts
from trainlint.analysis.names import dotted, is_self
from trainlint.analysis.project import Project
from trainlint.analysis.purpose import not_training, words
from trainlint.analysis.symbols import Resolver, Value
from trainlint.analysis.walk import walk


class RuleContext(Protocol):
    """What these questions read of a rule's context: the module, the run's project and analyses."""

    module: ModuleFacts
    project: Project
    resolver: Resolver
    loops: LoopAnalyzer


_TRAINING = frozenset(
    {
        L.BACKWARD,
        L.AUTOGRAD_GRAD,
        L.STEP,
        L.SCALER_STEP,
        L.UNKNOWN_STEP,
        L.ENV_STEP,  # (a rollout interacts with its environment: not an evaluation pass)
        L.MANUAL_UPDATE,
        L.ZERO_GRAD,
        L.SCALER_SCALE,
        L.SCALER_UPDATE,
    }
)
_GRADS = (L.BACKWARD, L.AUTOGRAD_GRAD)


def _trains(e: Event) -> bool:
    """A training event; `optimizer.zero_grad()` under `no_grad` (left over in a validation
    loop copied from the training one) clears, but trains nothing."""
    return e.kind in _TRAINING and not (e.kind == L.ZERO_GRAD and e.no_grad)


_EVAL_WORDS = frozenset(
    {
        "eval",
        "evaluate",
        "evaluation",
        "valid",
        "validate",
        "validation",
        "val",
        "test",
        "testing",
        "predict",
        "prediction",
        "predictions",
        "preds",
        "inference",
        "infer",
        "score",
        "accuracy",
        "dev",
        "holdout",
    }
)


@dataclass
class EvalPass:
    scope: Scope
    loop: Optional[LoopFacts]  # None: a forward outside any loop (`preds = model(x_test)`)
    forward: Event
    model: Value
    mode_dependent: Optional[str]  # text of a dropout/batch-norm layer, if the model has one
    mode_layer: Optional[M.Layer]
    held_out: bool = False  # a batch drawn from held-out data inside a training loop
    # The parameter that turns a shared train/evaluate loop into this evaluation when false:
    # a fix must not change what the loop does when it is true.
    flag: Optional[str] = None
    # The function beside this one that trains the model it is given after `model.train()`:
    # what says the model's mode matters when its layers and callers are out of sight.
    sibling: Optional[Scope] = None
    # Where the weights of a model whose layers are out of sight are restored for this
    # inference (`net.load_state_dict(...)`, `model = torch.load(path)`): what says the model
    # is a trained network whose dropout or batch norm the pass relies on.
    restored: Optional[cst.CSTNode] = None


_TRAINED: "weakref.WeakKeyDictionary[object, Set[int]]" = weakref.WeakKeyDictionary()


def _trained_forwards(ctx: RuleContext) -> Set[int]:
    """Forward calls that some training loop of the project runs: the forward itself, or the
    call of the helper that runs it (a `_forward_pass(batch)` helper shared by the training and
    the validation loop is trained through the first call only)."""
    found = _TRAINED.get(ctx.project)
    if found is None:
        found = {
            id(event_anchor(e))
            for lf in _training_iterations(ctx)
            for e in lf.events
            if e.kind == L.FORWARD and not e.loops
        }
        _TRAINED[ctx.project] = found
    return found


def _training_iterations(ctx: RuleContext) -> Iterator[LoopFacts]:
    """Loops of the project whose own steps train (an evaluation loop nested in the epoch loop
    is not one)."""
    for m in ctx.project.modules:
        for lf in ctx.loops.loops_of(m):
            if any(_trains(e) and not e.loops for e in lf.events):
                yield lf


_TRAINED_MODELS: "weakref.WeakKeyDictionary[object, Set[int]]" = weakref.WeakKeyDictionary()


def has_weights(ctx: RuleContext, model: Value) -> bool:
    """Whether the model is trained somewhere in the project or loads a checkpoint: evaluating a
    freshly built model (a shape check in `def test():`) is not an evaluation pass."""
    if model.origin is None or model.qual in K.LIBRARY_BATCHNORM_MODELS:
        return True  # (such a library model loads its pretrained weights itself)
    origin = model.origin
    if isinstance(origin, cst.Call) and isinstance(origin.func, cst.Attribute):
        # `Net.load_from_checkpoint(path)` (Lightning) comes back in training mode; a model
        # from `from_pretrained` starts in eval mode, as Hugging Face loads it
        if origin.func.attr.value == "load_from_checkpoint":
            return True
    found = _TRAINED_MODELS.get(ctx.project)
    if found is None:
        found = {
            id(e.receiver.origin)
            for lf in _training_iterations(ctx)
            for e in lf.events
            if e.kind == L.FORWARD and e.receiver is not None and e.receiver.origin is not None
        }
        for m in ctx.project.modules:
            for s in m.scopes:
                for call in s.calls:
                    for handed in _loaded_or_fitted(call):
                        v = ctx.resolver.value_of(handed, s)
                        if v is not None and v.kind == K.MODEL and v.origin is not None:
                            found.add(id(v.origin))
        _TRAINED_MODELS[ctx.project] = found
    return id(model.origin) in found


# Tensors made up on the spot: what a shape check feeds a model.
_MADE_UP = frozenset({"torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty", "torch.randint"})


_TRAIN_REPLACED = re.compile(r"\b(\w+)\.train\s*=(?!=)")


def train_disabled(ctx: RuleContext, callee: cst.CSTNode) -> bool:
    """The model is put in eval mode and its `train` method replaced in the same file
    (`visual_encoder = visual_encoder.eval(); visual_encoder.train = disabled_train`, the BLIP-2
    way to freeze an encoder): `model.train()` can no longer switch it out of eval mode."""
    last = (
        callee.attr.value
        if isinstance(callee, cst.Attribute)
        else callee.value
        if isinstance(callee, cst.Name)
        else None
    )
    if last is None:
        return False
    replaced = ctx.project.once(
        train_disabled,
        lambda: {n for m in ctx.project.modules for n in _TRAIN_REPLACED.findall(m.text) if f"{n}.eval()" in m.text},
    )
    return last in replaced


def made_up_input(ep: EvalPass) -> bool:
    """The forward is fed a tensor made up on the spot (`model(torch.zeros(1, 3, h, w))  # run
    once`), also through the name it was bound to (`x = torch.ones(1, 3, h, w) * 255.`, then
    a timed loop over `model(x)`): a warm-up, a shape or speed probe, not an evaluation of data."""
    call = ep.forward.node
    if not isinstance(call, cst.Call) or not call.args:
        return False
    mod, arg = ep.forward.module, call.args[0].value
    if isinstance(arg, cst.Name):
        # Every definition in the function, all before the loop, and nothing writing into it: a
        # decoding loop also starts from `ys = torch.zeros(...)`, then rebinds `ys` to what the
        # model returned (`torch.cat([ys, next])`) or fills it in place (`input.data.fill_(w)`).
        loop = id(ep.loop.node) if ep.loop is not None else None
        fn = ep.forward.scope
        defs = SC.scope_index(fn).defs.get(arg.value, [])
        return (
            bool(defs)
            and all(d.how == "assign" and loop not in d.loops and _made_up(mod, d.value) for d in defs)
            and not _changed_in_place(fn, arg.value)
            and not any(isinstance(c.func, cst.Attribute) and c.func.attr.value == "backward" for c in fn.calls)
        )  # (a function that also trains on the tensor: synthetic data, evaluated as data)
    return _made_up(mod, arg)


def _changed_in_place(fn: Scope, name: str) -> bool:
    """`x.fill_(v)`, `x.data.copy_(v)`, `x.data = ...`, `x[i] = v`: the tensor bound to `name`
    is written into somewhere in the function."""
    for call in fn.calls:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value.endswith("_") and not func.attr.value.startswith("_"):
            if _chain_root(func.value) == name:
                return True
    return any(
        isinstance(node, cst.Assign)
        and any(
            isinstance(t.target, (cst.Attribute, cst.Subscript)) and _chain_root(t.target) == name for t in node.targets
        )
        for node in walk(fn.node)
    )


def _chain_root(expr: cst.BaseExpression) -> Optional[str]:
    """`x` of `x`, `x.data`, `x[i].data`: the name an attribute and subscript chain starts from."""
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else None


def _made_up(mod: ModuleFacts, expr: cst.BaseExpression) -> bool:
    return any(isinstance(c, cst.Call) and mod.qualify(c.func) in _MADE_UP for c in walk(expr))


def fed_made_up_input(fwd: Event) -> bool:
    """The forward's first argument is noise made in its own function (`z = torch.randn(n,
    nz)`, `torch.FloatTensor(n, nz).normal_(0, 1)`): a generator sampling, not a network
    restored to predict on data."""
    call = fwd.node
    if not isinstance(call, cst.Call) or not call.args:
        return False
    mod, arg = fwd.module, call.args[0].value
    values: List[cst.BaseExpression] = [arg]
    if isinstance(arg, cst.Name):
        values += [d.value for d in SC.scope_index(fwd.scope).defs.get(arg.value, []) if d.how == "assign"]
    return any(
        _made_up(mod, v)
        or any(
            isinstance(c, cst.Call)
            and isinstance(c.func, cst.Attribute)
            and c.func.attr.value in ("normal_", "uniform_")
            for c in walk(v)
        )
        for v in values
    )


def built_here(ep: EvalPass) -> Optional[SC.Def]:
    """The definition that builds the model in the function that runs it (`net = FPN50()`),
    when nothing there loads weights into it."""
    call, fn = ep.forward.node, ep.scope
    if not isinstance(call, cst.Call) or not isinstance(ep.forward.callee, cst.Name):
        return None
    name = ep.forward.callee.value
    defs, outer = SC.scope_index(fn).reaching(name, call)
    if outer or len(defs) != 1 or defs[0].how != "assign" or not isinstance(defs[0].value, cst.Call):
        return None
    if any(
        isinstance(c.func, cst.Attribute) and c.func.attr.value == "load_state_dict" and dotted(c.func.value) == name
        for c in fn.calls
    ):
        return None
    return defs[0]


def shape_check(ep: EvalPass) -> bool:
    """A model built in the function that runs it, given no weights there, and fed a made-up
    tensor (`net = FPN50(); fms = net(Variable(torch.randn(1, 3, 600, 300)))` in `def test():`):
    a check of output shapes, whatever weights other instances of the class get elsewhere."""
    return built_here(ep) is not None and made_up_input(ep)


def other_arm_without_grad(ep: EvalPass) -> bool:
    """The forward sits in one arm of an `if` whose other arm makes the same call under
    `torch.no_grad()` (`if propagate_gradients: h = self.model(ids)` / `else: with
    torch.no_grad(): h = self.model(ids)`): the code chooses when gradients flow."""
    call, fn = ep.forward.node, ep.forward.scope
    if not isinstance(call, cst.Call):
        return False
    mod = fn.module
    text = mod.tree.code_for_node(call.func)
    for node in SC.enclosing(fn, call):
        if not isinstance(node, cst.If) or node.orelse is None:
            continue
        inside_body = SC.in_statements(fn, node.body.body, call) if isinstance(node.body, cst.IndentedBlock) else False
        other = node.orelse if inside_body else node.body
        for w in walk(other):
            if isinstance(w, cst.With) and any(GM.disables_grad(i.item, mod) for i in w.items):
                if any(isinstance(c, cst.Call) and mod.tree.code_for_node(c.func) == text for c in walk(w.body)):
                    return True
    return False


def rebuilt_each_iteration(ep: EvalPass) -> bool:
    """The module is built inside the loop that runs it (`sm = ScalarMix(n); sm(layers)` per
    sentence): fresh weights every iteration, a computation step, not a trained model evaluated."""
    made = built_here(ep)
    return made is not None and ep.loop is not None and id(ep.loop.node) in made.loops


def _declared_only(v: Value) -> bool:
    """A model known only from a type annotation naming no class of its own (`nn.Module`)."""
    return v.origin is None and v.cls is None and not v.alts and K.is_module_base(v.qual)


def _loaded_or_fitted(call: cst.Call) -> List[cst.BaseExpression]:
    """The model a call gives weights: `m.load_state_dict(...)`, or a framework trainer's
    `trainer.fit(model, ...)` / `Trainer(model=model, ...)` (Lightning, Hugging Face)."""
    f = call.func
    if isinstance(f, cst.Attribute) and f.attr.value == "load_state_dict":
        return [f.value]
    keyword = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "model"), None)
    if isinstance(f, cst.Attribute) and f.attr.value == "fit":
        first = call.args[0] if call.args and call.args[0].keyword is None and not call.args[0].star else None
        return [first.value] if first is not None else [keyword] if keyword is not None else []
    name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else ""
    if _LOADER_NAME.search(name):
        # `restore_checkpoint("tts", paths, model, optimizer)`, `load_weights(model, path)`: the
        # models among the arguments (the caller keeps those) get their weights from a file
        return [a.value for a in call.args if not a.star]
    return [keyword] if keyword is not None and name.endswith("Trainer") else []


# A function named for loading weights into what it is handed.
_LOADER_NAME = re.compile(r"(?i)checkpoint|ckpt|^(load|restore|resume)_?(model|weights|state|pretrained|from)")


def eval_passes(ctx: RuleContext) -> List[EvalPass]:
    """Forward passes with no training around them: inside a loop that does no backward/step,
    or on their own in a function or script, with no backward after them."""
    return ctx.project.memo(eval_passes, ctx.module, lambda: _find_eval_passes(ctx))


def _find_eval_passes(ctx: RuleContext) -> List[EvalPass]:
    out: List[EvalPass] = []
    seen: Set[int] = set(_trained_forwards(ctx))
    for lf in ctx.loops.loops_of(ctx.module):
        if any(_trains(e) for e in lf.events):
            flag, flagged = _forwards_when_flag_off(ctx, lf)  # (trained forwards too, on the other calls)
            if flag is not None and flagged:
                seen.update(id(e.node) for e in flagged)
                ep = _make_pass(ctx, lf.scope, lf, flagged[0])
                if ep is not None:
                    ep.flag = flag
                    out.append(ep)
            continue
        own = [e for e in lf.events if e.kind == L.FORWARD and not e.loops and e.receiver is not None]
        if not own or id(event_anchor(own[0])) in seen:
            continue
        seen.update(id(event_anchor(e)) for e in own)
        if _feeds_gradients(ctx, lf) or (
            _some_caller_trains_after(ctx, lf.scope) and not _some_caller_evaluates(ctx, lf.scope, own[0].receiver)
        ):
            continue
        ep = _make_pass(ctx, lf.scope, lf, own[0])
        if ep is not None:
            out.append(ep)
    out += _periodic_eval_passes(ctx, seen)
    for scope in ctx.module.scopes:
        if not _may_call_model(ctx, scope):
            continue  # no forward pass of its own: its events cannot add a pass
        events = ctx.loops.body_events(scope, 0)
        for i, e in enumerate(events):
            if e.kind != L.FORWARD or e.loops or e.via or e.receiver is None or id(e.node) in seen:
                continue
            seen.add(id(e.node))
            if any(later.kind in _TRAINING for later in events[i + 1 :]):
                continue  # e.g. a forward whose loss is backpropagated below
            if _every_caller_trains_after(ctx, scope):
                continue  # PPO's `evaluate(states, actions)`: log-probabilities for the loss
            ep = _make_pass(ctx, scope, None, e)
            if ep is not None:
                out.append(ep)
    return out


def _after_a_raise(scope: Scope, node: cst.CSTNode) -> bool:
    """`node` sits in a statement of the function's own body that follows a `raise` there."""
    body = scope.body
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, cst.Raise) for s in stmt.body):
            return any(node is n for later in body[body.index(stmt) + 1 :] for n in walk(later))
    return False


def _every_caller_trains_after(ctx: RuleContext, fn: Scope) -> bool:
    """Each call of `fn` in sight is followed, in its caller, by a backward or a step: what
    `fn` computes feeds training, whatever its name says."""
    sites = ctx.project.callers(fn)
    return bool(sites) and all(_trains_after(ctx, caller, call) for caller, call in sites[:8])


def _some_caller_trains_after(ctx: RuleContext, fn: Scope) -> bool:
    """A call of `fn` is followed by a backward of what it returned (a meta-learning task
    loss summed over a loop, then `meta_loss.backward()`): turning its gradients off would
    break that backward."""
    return any(_trains_after(ctx, caller, call) for caller, call in ctx.project.callers(fn)[:8])


def _some_caller_evaluates(ctx: RuleContext, fn: Scope, model: Optional[Value]) -> bool:
    """A call of `fn` follows `model.eval()` in its caller: a function shared by training and
    evaluation, whose evaluating call is judged where it is made."""
    for caller, call in ctx.project.callers(fn)[:8]:
        events, at = _events_at_call(ctx, caller, call)
        if at is not None and any(
            e.kind == L.EVAL_MODE and e.receiver is not None and not e.receiver.guess and same_model(e.receiver, model)
            for e in events[:at]
        ):
            return True
    return False


def _events_at_call(ctx: RuleContext, caller: Scope, call: cst.Call) -> Tuple[List[Event], Optional[int]]:
    """The caller's events, and the index of the first one reached through `call` (None when
    the call reaches none)."""
    events = ctx.loops.body_events(caller, 0)
    return events, next((i for i, e in enumerate(events) if any(c is call for _, c in e.via[:1])), None)


def _trains_after(ctx: RuleContext, caller: Scope, call: cst.Call) -> bool:
    events, at = _events_at_call(ctx, caller, call)
    return at is not None and any(
        e.kind == L.BACKWARD and e.arg is not None and not e.via and _built_from_call(caller, e.arg, call)
        for e in events[at + 1 :]
    )


def _built_from_call(scope: Scope, expr: cst.BaseExpression, call: cst.Call) -> bool:
    """`loss` is computed (through a few local assignments) from what `call` returned."""
    idx = SC.scope_index(scope)
    todo = [n for n in walk(expr) if isinstance(n, cst.Name)]
    seen: Set[str] = set()
    while todo and len(seen) < 32:
        name = todo.pop()
        if name.value in seen:
            continue
        seen.add(name.value)
        for d in idx.defs.get(name.value, []):
            if d.how not in ("assign", "aug"):  # (`total += loss_of(batch)` is built from it too)
                continue
            if d.value is call:
                return True
            todo.extend(n for n in walk(d.value) if isinstance(n, cst.Name))
    return False


# Names of held-out data, in the batch that a periodic check inside a training loop draws:
# whole words, or the start of a run-together name (`testdataloader`).
_HELD_OUT_WORDS = frozenset({"val", "dev"})
_HELD_OUT_PREFIXES = ("eval", "valid", "test", "holdout")


def _periodic_eval_passes(ctx: RuleContext, seen: Set[int]) -> List[EvalPass]:
    """`if i % 10 == 0: x, y = next(iter(test_loader)); pred = model(x)` inside a training
    loop: a forward on a held-out batch in a branch that does not train."""
    out: List[EvalPass] = []
    for lf in ctx.loops.loops_of(ctx.module):
        if not any(e.kind in _TRAINING and not e.loops for e in lf.events):
            continue
        ifs: Optional[Dict[int, cst.If]] = None
        for e in lf.events:
            # (a forward here is among the trained ones: this loop trains)
            if e.kind != L.FORWARD or not e.conds or e.loops or e.via or e.receiver is None:
                continue
            block = e.conds[-1]
            if any(x.kind in _TRAINING for x in lf.events if block in x.conds):
                continue
            ifs = _ifs_in(lf) if ifs is None else ifs
            branch = ifs.get(block)
            if branch is None or not _draws_held_out_batch(branch, lf.scope.module):
                continue
            seen.add(id(e.node))
            ep = _make_pass(ctx, lf.scope, None, e)
            if ep is not None:
                ep.held_out = True
                out.append(ep)
    return out


def _forwards_when_flag_off(ctx: RuleContext, lf: LoopFacts) -> Tuple[Optional[str], List[Event]]:
    """`def run_epoch(model, loader, is_train)`, whose loop trains only under `if is_train:`,
    and a call `run_epoch(model, val_loader, False)`: for that call the loop evaluates. The
    flag and the loop's own forwards outside the guarded branches, when some caller turns
    the flag off."""
    scope = lf.scope
    none: Tuple[Optional[str], List[Event]] = (None, [])
    if not scope.params:
        return none
    training = [e for e in lf.events if e.kind in _TRAINING]
    if any(not e.arms or e.via for e in training):
        return none  # (the common case, decided without looking at the branches)
    ifs = _ifs_in(lf)
    guards: Set[str] = set()
    for e in training:
        flag = _flag_guard(ifs, e, scope)
        if flag is None:
            return none
        guards.add(flag)
    if len(guards) != 1:
        return none
    (flag,) = guards
    callers = ctx.project.callers(scope)
    if not any(_falsy(C.bind(call, scope, flag, isinstance(call.func, cst.Attribute))) for _, call in callers):
        return none
    return flag, [
        e
        for e in lf.events
        if e.kind == L.FORWARD and not e.loops and e.receiver is not None and _flag_guard(ifs, e, scope) is None
    ]


def _flag_guard(ifs: Dict[int, cst.If], e: Event, scope: Scope) -> Optional[str]:
    """The parameter whose truth lets `e` run: `e` sits in the body of `if flag:` (or in the
    `else` of `if not flag:`)."""
    for node_id, arm in e.arms:
        branch = ifs.get(node_id)
        if branch is None:
            continue
        test, want = branch.test, 0
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, want = test.expression, 1
        if arm == want and isinstance(test, cst.Name) and test.value in scope.params:
            return test.value
    return None


def _falsy(arg: Optional[cst.BaseExpression]) -> bool:
    return (isinstance(arg, cst.Name) and arg.value in ("False", "None")) or (
        isinstance(arg, cst.Integer) and arg.value == "0"
    )


def _ifs_in(lf: LoopFacts) -> Dict[int, cst.If]:
    """The `if` statements of the loop's own body, by id (as events name their branches)."""
    return {id(n): n for n in walk(lf.node) if isinstance(n, cst.If)}


def _draws_held_out_batch(branch: cst.If, module: ModuleFacts) -> bool:
    """The branch takes a batch with `next(...)` from data named as held out."""
    for n in walk(branch.body):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "next" and n.args:
            found = words(module.tree.code_for_node(n.args[0].value))
            if found & _HELD_OUT_WORDS or any(w.startswith(_HELD_OUT_PREFIXES) for w in found):
                return True
    return False


_LIBRARY_MODELS = ("torchvision.models.", "timm.", "transformers.", *K.LIBRARY_BATCHNORM_MODELS)


def _may_call_model(ctx: RuleContext, scope: Scope) -> bool:
    """Whether a call of the scope itself (not through a helper) may run a model's forward:
    only a name or `self.x` that resolves to a model makes a FORWARD event."""
    for call in scope.calls:
        func = call.func
        t = type(func)
        if t is cst.Attribute and func.attr.value == "generate":  # type: ignore[attr-defined]
            func = func.value  # type: ignore[attr-defined]
            t = type(func)
        if t is cst.Name or (t is cst.Attribute and type(func.value) is cst.Name and func.value.value == "self"):  # type: ignore[attr-defined]
            v = ctx.resolver.value_of(func, scope)
            if v is not None and v.kind == K.MODEL:
                return True
        elif t is cst.Attribute and type(func.value) is cst.Name and func.value.value in scope.params:  # type: ignore[attr-defined]
            # `model.incremental_forward(x)` on a model passed in: a method that may run it
            v = ctx.resolver.value_of(func.value, scope)  # type: ignore[attr-defined]
            if v is not None and v.kind == K.MODEL and v.cls is not None:
                return True
    return False


def _make_pass(ctx: RuleContext, scope: Scope, lf: Optional[LoopFacts], fwd: Event) -> Optional[EvalPass]:
    """The pass, when its receiver is a model we know (a project class, a torch.nn model, a
    library model); a loss or an unknown callable is not evaluated."""
    assert fwd.receiver is not None
    if not_training(scope):
        return None  # unit tests call models to check shapes and modes, benchmarks to time them
    if _after_a_raise(fwd.scope, event_anchor(fwd)):
        return None  # `raise NotImplementedError(...)` first: the rest of the function never runs
    qual = fwd.receiver.qual or ""
    facts = FL.facts_of_value(fwd.receiver, ctx.project)
    if facts is None and _named_as_loss(fwd.callee):
        return None  # `criterion: nn.Module` by its annotation: a loss module, not the model evaluated
    chosen = FL.mode_dependent_layer_of(fwd.receiver, ctx.project) if fwd.receiver.alts else None
    if (
        facts is None
        and chosen is None
        and not qual.startswith(_LIBRARY_MODELS)
        and not (fwd.receiver.kind == K.MODEL and (fwd.receiver.guess or _declared_only(fwd.receiver)))
        and not (fwd.receiver.alts and all(a.cls is not None for a in fwd.receiver.alts))
    ):
        # (a model known only by what is done with it or by its annotation, `model: nn.Module`,
        # or one of several project classes none of which has a mode-dependent layer, counts
        # for TL404 alone)
        return None
    layer = facts.mode_dependent_layer() if facts is not None else chosen
    text = layer.text() if layer is not None else None
    if layer is None and qual.startswith("torchvision.models."):
        text = f"`{qual}` (batch norm / dropout inside)"
    if layer is None and qual in K.LIBRARY_BATCHNORM_MODELS:
        text = f"`{qual}` (batch norm inside)"
    if layer is None and qual.startswith("transformers."):
        if _has_dropout_family(fwd.receiver):
            text = f"`{qual.rsplit('.', 1)[-1]}` (its pretrained configuration enables dropout)"
    sibling: Optional[Scope] = None
    if text is None and not qual.startswith(_LIBRARY_MODELS) and (facts is None or given_parts(facts)):
        text = _relied_on_mode(ctx, scope, fwd)  # (a known library family says for itself)
        if text is None:
            sibling = _sibling_trainer(ctx, scope, fwd)
            if sibling is not None and sibling.cls is not None and sibling.cls is scope.cls:
                text = (
                    f"a training mode the class's own training method relies on (`{sibling.simple_name}` calls "
                    "`.train()` before training it; this method sets no mode, and a new model starts in training "
                    "mode; its layers are not in sight)"
                )
            elif sibling is not None:
                text = (
                    f"a training mode the module's own training function relies on (`{sibling.simple_name}` "
                    "calls `.train()` on the model it is given; its layers are not in sight)"
                )
    restored: Optional[cst.CSTNode] = None
    if text is None and facts is None and not qual.startswith(_LIBRARY_MODELS) and sibling is None:
        restored = None if fed_made_up_input(fwd) else _restored_for_inference(ctx, scope, fwd)
        if restored is not None:
            text = (
                f"weights restored for inference (`{FL.snippet(scope.module, restored)}`) into a network whose "
                "layers are out of sight here; trained networks almost always hold dropout or batch norm"
            )
    ep = EvalPass(scope, lf, fwd, fwd.receiver, text, layer)
    ep.sibling = sibling
    ep.restored = restored
    return ep


def _restored_for_inference(ctx: RuleContext, scope: Scope, fwd: Event) -> Optional[cst.CSTNode]:
    """The call in the pass's module that gives the model its weights, when that module only
    runs it (an inference script or predictor class: no backward anywhere in it, no mode set):
    `net.load_state_dict(ckpt)`, `load_checkpoint(net=net, ...)`, or `model = torch.load(path)`
    (a whole pickled model). A model from `from_pretrained` starts in eval mode and is left out."""
    callee = fwd.callee
    name = dotted(callee) if isinstance(callee, cst.BaseExpression) else None
    if name is None or fwd.receiver is None:
        return None
    module = scope.module
    if module.memo(_trains_sets_modes_or_pretrained, lambda: _trains_sets_modes_or_pretrained(module)):
        return None  # the module trains, sets modes itself, or loads a model that starts in eval mode
    # Restored where it runs: in the pass's own function, or (for `self.model`) in the
    # `__init__` of the predictor class whose method runs it.
    homes = [scope]
    if name.startswith("self.") and scope.cls is not None and "__init__" in scope.cls.methods:
        homes.append(scope.cls.methods["__init__"])
    for home in homes:
        for call in home.calls:
            if any(dotted(m) == name for m in _loaded_or_fitted(call)):
                return call
    for d in _assignments_of(homes, name):
        value = d.value
        while (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value
            in (
                "to",
                "cuda",
                "cpu",
            )
        ):
            value = value.func.value  # `torch.load(path).to(device)`
        if isinstance(value, cst.Call) and module.qualify(value.func) == "torch.load":
            return value
    return None


def _trains_sets_modes_or_pretrained(module: ModuleFacts) -> bool:
    """Some call of the module is `.backward()`, `.eval()`, `.train()` or `.from_pretrained()`."""
    return any(
        isinstance(c.func, cst.Attribute) and c.func.attr.value in ("backward", "eval", "train", "from_pretrained")
        for s in module.scopes
        for c in s.calls
    )


def _assignments_of(scopes: List[Scope], name: str) -> List[cst.Assign]:
    return [
        n
        for s in scopes
        for n in DV.own_nodes(s.node)
        if isinstance(n, cst.Assign) and any(dotted(t.target) == name for t in n.targets)
    ]


def _named_as_loss(callee: object) -> bool:
    name = dotted(callee) if isinstance(callee, cst.BaseExpression) else None
    return name is not None and bool(words(name.rsplit(".", 1)[-1]) & {"criterion", "loss", "criteria"})


def _sibling_trainer(ctx: RuleContext, scope: Scope, fwd: Event) -> Optional[Scope]:
    """`def test_model(loader, model)`, called nowhere in the project, beside a
    `def train_model(loader, model, ...)` of the same module (or class) that calls
    `model.train()` on the model it is given and then trains it: the module's functions set
    the mode of the model they are handed, and a model coming out of training is in training
    mode, so this evaluation, which sets none, runs in it. Only a function named for
    evaluation (`generate(model, ...)` beside it may be run either way)."""
    callee = fwd.callee
    if scope.name == "<module>" or not words(scope.simple_name) & _EVAL_WORDS or ctx.project.callers(scope):
        return None
    if _held_by_self(callee, scope):
        return _method_training_it(ctx, scope, callee)  # type: ignore[arg-type]
    if not isinstance(callee, cst.Name) or callee.value not in scope.params:
        return None
    siblings = list(scope.cls.methods.values()) if scope.cls is not None else list(scope.module.functions.values())
    for other in siblings:
        if other is scope or callee.value not in other.params or not_training(other):
            continue
        ends_in_eval = any(
            mode == "eval" and dotted(call.func.value) == callee.value  # type: ignore[attr-defined]
            for call, mode in textual_modes(other)
        )
        if not ends_in_eval and trains_after(ctx, other, train_calls(other, callee)):
            return other  # (and leaves the model in training mode)
    return None


def trained_by_its_class(ctx: RuleContext, ep: EvalPass) -> Optional[Scope]:
    """The method of the pass's own class that trains the model the pass runs (`train_model`
    beside `infer`), when the pass is a prediction method nobody in sight calls. (The sibling is
    looked for here too when the model's own layers already gave the pass its text.)"""
    return ep.sibling if ep.sibling is not None else _sibling_trainer(ctx, ep.scope, ep.forward)


def _held_by_self(callee: object, scope: Scope) -> bool:
    return (
        scope.cls is not None
        and isinstance(callee, cst.Attribute)
        and isinstance(callee.value, cst.Name)
        and callee.value.value == "self"
    )


def _method_training_it(ctx: RuleContext, scope: Scope, callee: cst.Attribute) -> Optional[Scope]:
    """`def infer(self, x): ... self.model(x)` beside a `train_model` method of the same class
    that calls `self.train()` (or `self.model.train()`) and then trains, leaving the mode as
    it is: the prediction method runs in whatever mode the last training left."""
    assert scope.cls is not None
    if _called_after_eval_somewhere(ctx, scope.simple_name):
        return None  # `network.eval(); network.predict(x)` where the method is used: its users set the mode
    name = dotted(callee)
    for other in scope.cls.methods.values():
        if other is scope or not_training(other):
            continue
        calls = train_calls(other, callee) + train_calls(other, cst.Name("self"))
        ends_in_eval = any(
            mode == "eval" and dotted(call.func.value) in (name, "self")  # type: ignore[attr-defined]
            for call, mode in textual_modes(other)
        )
        if calls and not ends_in_eval and trains_after(ctx, other, calls):
            return other
    return None


def _called_after_eval_somewhere(ctx: RuleContext, method: str) -> bool:
    """Some function of the project calls `x.<method>(...)` after `x.eval()` on the same
    receiver (an accuracy helper handed the algorithm object)."""

    def build() -> bool:
        for m in ctx.project.modules:
            if f".{method}(" not in m.text:
                continue
            for sc in m.scopes:
                evals: Dict[Optional[str], int] = {}
                for c, mode in textual_modes(sc):
                    o = SC.order(sc, c)
                    key = dotted(c.func.value)  # type: ignore[attr-defined]
                    if mode == "eval" and o is not None:
                        evals[key] = min(o, evals.get(key, o))
                for c in sc.calls:
                    if isinstance(c.func, cst.Attribute) and c.func.attr.value == method:
                        before = evals.get(dotted(c.func.value))
                        at = SC.order(sc, c)
                        if before is not None and at is not None and before < at:
                            return True
        return False

    return ctx.project.once((_called_after_eval_somewhere, method), build)


def _relied_on_mode(ctx: RuleContext, scope: Scope, fwd: Event) -> Optional[str]:
    """A model whose layers are out of sight (its class built by a factory, a config or a
    library, or handed its submodules by its caller), which the code itself puts in training
    mode with `.train()` before training it: its author relies on its training mode (dropout
    or batch norm inside). The pass runs in that mode when the last `.train()` before it came
    before training, or came after training, right before the pass (`model.train()` where
    `model.eval()` was meant)."""
    assert fwd.receiver is not None
    mode = mode_at(ctx, scope, event_anchor(fwd), fwd.receiver)
    node = mode.node
    if mode.mode != "train" or mode.module is None or not isinstance(node, cst.Call):
        return None
    if node.args or not isinstance(node.func, cst.Attribute):
        return None  # `model.train(flag)`: a mode chosen at run time
    callee = fwd.callee
    if not isinstance(callee, cst.BaseExpression) or dotted(node.func.value) != dotted(callee):
        return None  # another object's `train()` (the class being out of sight, only the name tells)
    if mode.trained_after:
        where = f"`{FL.snippet(mode.module, node)}` before training"
    else:
        # (the mode set for this pass: reliance shows where the same call precedes training)
        before = [c for c in train_calls(scope, callee) if c is not node]
        if not trains_after(ctx, scope, before):
            return None
        where = f"`{FL.snippet(mode.module, node)}` before training, and again before this pass"
    return f"a training mode its code relies on ({where}; its layers are not in sight)"


def train_calls(scope: Scope, receiver: cst.BaseExpression) -> List[cst.Call]:
    """The scope's `x.train()` calls with no argument on the receiver written as `receiver`."""
    name = dotted(receiver)
    if name is None:
        return []
    return [
        c
        for c, mode in textual_modes(scope)
        if mode == "train" and not c.args and dotted(c.func.value) == name  # type: ignore[attr-defined]
    ]


def trains_after(ctx: RuleContext, scope: Scope, calls: List[cst.Call]) -> bool:
    """A backward of the scope (or of a helper it calls) runs after one of `calls`."""
    starts = [o for o in (SC.order(scope, c) for c in calls) if o is not None]
    if not starts:
        return False
    first = min(starts)
    for e in ctx.loops.body_events(scope, 0):
        if e.kind in _GRADS:
            o = SC.order(scope, event_anchor(e))
            if o is not None and o > first:
                return True
    return False


def out_of_sight(ctx: RuleContext, model: Optional[Value]) -> bool:
    """A model whose layers the run cannot read: its class is in no file of the project (built
    by a module left out, a factory, a config), or it is a project class handed its
    submodules by its caller. Library models (torchvision, timm, transformers) say for themselves."""
    if model is None or model.kind != K.MODEL or model.alts:
        return False
    facts = FL.facts_of_value(model, ctx.project)
    if facts is not None:
        return given_parts(facts)
    return model.cls is None and not (model.qual or "").startswith(_LIBRARY_MODELS + ("torch.",))


def given_parts(facts: M.ModelFacts) -> bool:
    """A project model class whose constructor is handed submodules that its methods call
    (`self.encoder = encoder`, `self.blocks = nn.ModuleList(blocks)`): what they hold is decided
    by the caller, out of the class's sight."""
    cls = facts.cls
    if cls is None:
        return False
    for c in [cls] + facts.project.base_classes(cls):
        for key, bindings in c.attrs.items():
            if any(b.how == "assign" and b.index is None and _handed_in(b.value, b.scope) for b in bindings):
                if _called_as_module(facts.project, cls, key):
                    return True
    return False


def _handed_in(value: cst.BaseExpression, scope: Scope) -> bool:
    """A parameter of the method, or a torch.nn container of one (`nn.ModuleList(layers)`)."""
    if isinstance(value, cst.Call) and value.args:
        if M.nn_layer_name(scope.module.qualify(value.func)) in M.CONTAINERS:
            value = value.args[0].value
    return isinstance(value, cst.Name) and value.value in scope.params[1:]


def _called_as_module(project: Project, cls: ClassFacts, key: str) -> bool:
    """`self.head(x)` or `self.blocks[i](x)` in a method of the class (or of its bases)."""
    for c in [cls] + project.base_classes(cls):
        for method in c.methods.values():
            for call in method.calls:
                f = call.func
                while isinstance(f, cst.Subscript):
                    f = f.value
                if dotted(f) == key:
                    return True
    return False


# transformers model families whose configurations default to dropout > 0 (hidden or
# attention dropout 0.1), matched against the class name or the checkpoint name.
_DROPOUT_FAMILIES = (
    "albert",
    "bart",
    "beit",
    "bert",
    "bigbird",
    "camembert",
    "deberta",
    "deit",
    "distilbert",
    "electra",
    "flaubert",
    "funnel",
    "gpt2",
    "hubert",
    "layoutlm",
    "led",
    "longformer",
    "marian",
    "mbart",
    "mpnet",
    "pegasus",
    "roberta",
    "t5",
    "trocr",
    "vit",
    "visionencoderdecoder",
    "wav2vec2",
    "xlm",
    "xlnet",
)


def _has_dropout_family(model: Value) -> bool:
    """The dropout-carrying family of a transformers model, from its class (`BertForMaskedLM`)
    or, for `Auto*` classes, from the checkpoint named in `from_pretrained("roberta-base")`."""
    qual = model.qual or ""
    names = [qual.rsplit(".", 1)[-1].lower()] if qual.count(".") >= 1 else []
    origin = model.origin
    if isinstance(origin, cst.Call) and origin.args and isinstance(origin.args[0].value, cst.SimpleString):
        checkpoint = origin.args[0].value.evaluated_value
        if isinstance(checkpoint, str):
            names.append(checkpoint.rsplit("/", 1)[-1].lower().replace("-", ""))
    for name in names:
        if name.startswith("auto"):
            continue
        if any(name.startswith(family) or (family in ("vit", "t5") and family in name) for family in _DROPOUT_FAMILIES):
            return True
    return False


def _feeds_gradients(ctx: RuleContext, lf: LoopFacts) -> bool:
    """A backward later in the same iteration of an enclosing loop, or later in the function
    outside any loop, may use this loop's outputs (a rollout, a teacher pass): not an evaluation."""
    for other in ctx.loops.loops_of(ctx.module):
        if other is lf or other.scope is not lf.scope:
            continue
        inside = [i for i, e in enumerate(other.events) if id(lf.node) in e.loops]
        if inside and any(e.kind in _GRADS and not e.loops for e in other.events[inside[-1] + 1 :]):
            return True
    body = ctx.loops.body_events(lf.scope, 0)
    inside = [i for i, e in enumerate(body) if id(lf.node) in e.loops]
    return bool(inside) and any(e.kind in _GRADS and not e.loops for e in body[inside[-1] + 1 :])


def path_to_forward(ep: EvalPass) -> List[Tuple[ModuleFacts, cst.CSTNode, str]]:
    """Related locations for a pass whose forward runs in a helper: each call on the way from
    the evaluation loop (or function) to the forward."""
    return [(s.module, call, "the evaluation reaches the forward through this call") for s, call in ep.forward.via]


def same_model(a: Optional[Value], b: Optional[Value]) -> bool:
    if a is None or b is None:
        return True
    if a.origin is None or b.origin is None:
        # (one of several models, `GCN() if gcn else SAGE()`: not the same as a model of
        # another class, `LinkPredictor()`)
        ca, cb = _classes(a), _classes(b)
        return not (ca and cb and not ca & cb)
    return a.origin is b.origin


def _classes(v: Value) -> Set[int]:
    return {id(x.cls) for x in (v.alts or (v,)) if x.cls is not None}


def event_anchor(e: Event) -> cst.CSTNode:
    return e.via[0][1] if e.via else e.node


@dataclass
class Mode:
    mode: str  # "eval" | "train" | "none" (nothing sets it: a new module trains)
    trained_after: bool = False  # a backward ran after the last train() before the pass
    node: Optional[cst.CSTNode] = None
    module: Optional[ModuleFacts] = None


def _mode_inside_call(ctx: RuleContext, scope: Scope, anchor: cst.CSTNode, model: Value) -> Optional[Mode]:
    """When `anchor` calls a helper that runs the forward (`self.validation_step(batch)`), the
    mode the helper itself sets before its first forward (`self.module_.eval()` there)."""
    if not isinstance(anchor, cst.Call):
        return None
    found: Optional[Mode] = None
    for e in ctx.loops.body_events(scope, 0):
        if not e.via or e.via[0][1] is not anchor:
            continue
        if e.kind == L.FORWARD:
            break
        if e.kind in (L.EVAL_MODE, L.TRAIN_MODE) and same_model(e.receiver, model):
            found = Mode("eval" if e.kind == L.EVAL_MODE else "train", node=e.node, module=e.module)
    return found


def textual_modes(scope: Scope) -> List[Tuple[cst.Call, str]]:
    """`x.eval()` / `x.train()` / `x.train(False)` calls, resolved or not."""
    out = []
    for call in scope.calls:
        f = call.func
        if not isinstance(f, cst.Attribute):
            continue
        if f.attr.value == "eval" and not call.args:
            out.append((call, "eval"))
        elif f.attr.value == "train":
            off = bool(call.args) and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == "False"
            if len(call.args) <= 1:
                out.append((call, "eval" if off else "train"))
    return out


def mode_at(
    ctx: RuleContext, scope: Scope, anchor: cst.CSTNode, model: Value, depth: int = 0, within: Optional[Scope] = None
) -> Mode:
    """The mode `model` is in when `anchor` (a node of `scope`) runs. (`within`: the function
    the question started from, when it climbs to callers.)"""
    within = within or scope
    limit = SC.order(scope, anchor)
    if limit is None:
        return Mode("none")
    handed = _mode_set_in_arguments(ctx, scope, anchor, model)
    if handed is not None:
        return handed
    inside = _mode_inside_call(ctx, scope, anchor, model)
    if inside is not None:
        return inside
    marks: List[Tuple[int, int, str, cst.CSTNode, ModuleFacts]] = []
    counted: Set[int] = set()
    for i, e in enumerate(ctx.loops.body_events(scope, 0)):
        if e.kind not in (L.EVAL_MODE, L.TRAIN_MODE) + _GRADS:
            continue
        o = SC.order(scope, event_anchor(e))
        if o is None or o >= limit:
            continue
        if e.kind in (L.EVAL_MODE, L.TRAIN_MODE):
            counted.add(id(e.node))
            if not same_model(e.receiver, model) and not _holds_submodule(ctx, e.receiver, model, within):
                continue
            # (the event's own module: a `.train()` in a helper of another file)
            marks.append((o, i, "eval" if e.kind == L.EVAL_MODE else "train", e.node, e.module))
        else:
            marks.append((o, i, "grad", e.node, e.module))
    for call, mode in textual_modes(scope):
        o = SC.order(scope, call)
        if id(call) not in counted and o is not None and o < limit:
            marks.append((o, -1, mode, call, scope.module))
    marks.sort(key=lambda m: (m[0], m[1]))
    state: Optional[Mode] = None
    for _, _, kind, node, module in marks:
        if kind == "grad":
            if state is not None and state.mode == "train":
                state.trained_after = True
        else:
            state = Mode(kind, node=node, module=module)
    if state is not None:
        return state
    framework = _lightning_mode(ctx, scope, model)
    if framework is not None:
        return framework
    held = _held_in_eval_mode(ctx, scope, model)
    if held is not None:
        return held
    if depth >= 3:
        return Mode("none")
    found = [
        mode_at(ctx, cs, call, model, depth + 1, within)
        for cs, call in ctx.project.callers(scope)
        if not not_training(cs) or not_training(scope)  # (a unit test's mode says nothing of the library's)
    ]
    for mode in ("eval", "train"):
        hits = [m for m in found if m.mode == mode]
        if hits:
            return next((m for m in hits if m.trained_after), hits[0])
    return Mode("none")


def _mode_set_in_arguments(ctx: RuleContext, scope: Scope, anchor: cst.CSTNode, model: Value) -> Optional[Mode]:
    """`test(model.eval(), image)`: the call hands over the model in the mode it sets on the way."""
    if not isinstance(anchor, cst.Call):
        return None
    for a in anchor.args:
        v = a.value
        if not (
            isinstance(v, cst.Call) and isinstance(v.func, cst.Attribute) and v.func.attr.value in ("eval", "train")
        ):
            continue
        if same_model(ctx.resolver.value_of(v.func.value, scope), model):
            off = v.func.attr.value == "eval" or (bool(v.args) and dotted(v.args[0].value) == "False")
            return Mode("eval" if off else "train", node=v, module=scope.module)
    return None


def _holds_submodule(ctx: RuleContext, outer: Optional[Value], inner: Value, within: Scope) -> bool:
    """`outer` is a project module that stores `inner` as a submodule (`self.GE =
    Generator(...)`): `gan.eval()` puts `gan.GE` in eval mode too. Not asked for the layers a
    module's own method runs (`self.conv(x)` in its generation loop): that pass is the method's
    call, judged where it is made."""
    if outer is None or outer.cls is None or within.cls is outer.cls or not ctx.resolver.is_module_class(outer.cls):
        return False
    held = {id(b.value) for bindings in outer.cls.attrs.values() for b in bindings}
    origins = [v.origin for v in (inner.alts or (inner,))]  # (`self.G` or `self.GE`: both of them)
    return all(o is not None and id(o) in held for o in origins)


def _held_in_eval_mode(ctx: RuleContext, scope: Scope, model: Value) -> Optional[Mode]:
    """A model an object of a plain class (not an `nn.Module`, whose `.train()` would reach it)
    holds in an attribute and puts in eval mode, when it is built (`InceptionV3().eval()`) or in
    any method, and never back in training mode: a frozen feature extractor."""
    # (a pass reaching the object's method from a script: the class that builds the model)
    cls = scope.cls or (model.scope.cls if model.scope is not None else None)
    if cls is None or model.origin is None or ctx.resolver.is_module_class(cls):
        return None
    family = ctx.project.class_family(cls)
    attrs: Dict[str, List[Binding]] = {}
    for c in reversed(family):
        for key, found in c.attrs.items():
            attrs.setdefault(key, []).extend(found)
    for key, bindings in attrs.items():
        through = [_through_local(b) for b in bindings if b.value is not None]
        if not any(_built_from(v, model.origin) for values, _ in through for v in values):
            continue
        modes = attr_mode_calls(ctx, cls, key) + [m for _, local in through for m in local]
        chained = [
            (v, b.scope.module)
            for b, (values, _) in zip([b for b in bindings if b.value is not None], through)
            for v in values
            if _ends_in_eval(v)
        ]
        if any(name == "train" for name, _, _ in modes):
            return None
        where = chained[0] if chained else next(((c, m) for name, c, m in modes if name == "eval"), None)
        return Mode("eval", node=where[0], module=where[1]) if where is not None else None
    return None


def _through_local(b: Binding) -> Tuple[List[cst.BaseExpression], List[Tuple[str, cst.Call, ModuleFacts]]]:
    """What an attribute is set from, through a local name of the method that sets it
    (`model = Net(); model.eval(); self.model = model`): the values the name was given there
    and its mode calls there, as (method name, call, module)."""
    if not isinstance(b.value, cst.Name):
        return [b.value], []
    name = b.value.value
    values = [d.value for d in SC.scope_index(b.scope).defs.get(name, []) if d.how == "assign" and not d.path]
    return [b.value, *values], _mode_calls(b.scope, name)


def attr_mode_calls(ctx: RuleContext, cls: ClassFacts, key: str) -> List[Tuple[str, cst.Call, ModuleFacts]]:
    """Every `key.eval()` / `key.train()` (`key` like `self.net`; not `.train(False)`) in the
    methods of `cls` and its project bases: (method name, call, module)."""
    return [found for k in ctx.project.class_family(cls) for m in k.methods.values() for found in _mode_calls(m, key)]


def _mode_calls(scope: Scope, key: str) -> List[Tuple[str, cst.Call, ModuleFacts]]:
    """The scope's `key.eval()` / `key.train()` calls (not `.train(False)`): (method name, call,
    module)."""
    return [
        (c.func.attr.value, c, scope.module)
        for c in scope.calls
        if isinstance(c.func, cst.Attribute)
        and c.func.attr.value in ("eval", "train")
        and dotted(c.func.value) == key
        and not _train_false(c)
    ]


def _train_false(call: cst.Call) -> bool:
    """`m.train(False)`: eval mode, written the other way."""
    return bool(call.args) and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == "False"


def _method_chain(value: cst.BaseExpression) -> Tuple[cst.BaseExpression, List[cst.Call]]:
    """(`Net()`, the calls `.to(dev)`, `.eval()`) of `Net().to(dev).eval()`: what a chain of
    method calls starts from, and the calls, outermost first."""
    calls: List[cst.Call] = []
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        calls.append(value)
        value = value.func.value
    return value, calls


def _built_from(value: cst.BaseExpression, origin: cst.CSTNode) -> bool:
    """`value` is `origin`, or `origin` moved and re-moded (`Net().to(dev).eval()`)."""
    start, calls = _method_chain(value)
    return start is origin or any(c is origin for c in calls)


def _ends_in_eval(value: cst.BaseExpression) -> bool:
    return any(
        isinstance(c.func, cst.Attribute) and c.func.attr.value == "eval" and not c.args
        for c in _method_chain(value)[1]
    )


def _lightning_mode(ctx: RuleContext, scope: Scope, model: Value) -> Optional[Mode]:
    """The mode Lightning's Trainer leaves the module in when it calls one of its hooks: eval
    in `validation_step`, `test_step` and `predict_step`; in `training_step`, eval for a
    submodule that `on_train_epoch_start` or `on_train_batch_start` switches back to eval (the
    frozen teacher of a distillation)."""
    hook = lightning_hook(scope)
    if hook is None or hook.cls is None:
        return None
    if hook.simple_name in LIGHTNING_EVALUATION_HOOKS:
        return Mode("eval", node=hook.node, module=hook.module)
    if hook.simple_name != "training_step":
        return None
    for name in LIGHTNING_TRAIN_START_HOOKS:
        start = ctx.project.method_of(hook.cls, name)
        if start is None:
            continue
        for e in ctx.loops.body_events(start, 0):
            if e.kind == L.EVAL_MODE and same_model(e.receiver, model):
                return Mode("eval", node=e.node, module=start.module)
    return None


def _no_grad_at_call(ctx: RuleContext, scope: Scope, depth: int = 0) -> bool:
    """Whether `scope` runs with gradients disabled: decorated, or every... any caller disables them."""
    if GM.scope_disables_grad(scope):
        return True
    if depth >= 3:
        return False
    return any(_call_disables_grad(ctx, cs, call, depth) for cs, call in ctx.project.callers(scope))


def _call_disables_grad(ctx: RuleContext, cs: Scope, call: cst.Call, depth: int = 0) -> bool:
    if depth == 0:  # (asked by both checks of a pass: answered once per call site and run)
        return ctx.project.once((_call_disables_grad, id(call)), lambda: _disables_grad(ctx, cs, call, 0))
    return _disables_grad(ctx, cs, call, depth)


def _disables_grad(ctx: RuleContext, cs: Scope, call: cst.Call, depth: int) -> bool:
    evs = [e for e in ctx.loops.body_events(cs, 0) if e.via and e.via[0][1] is call]
    # (every event the call reaches: a `no_grad` block inside the callee is not the caller's)
    if (evs and all(e.no_grad or e.grad_on for e in evs)) or _no_grad_at_call(ctx, cs, depth + 1):
        return True
    # (a call the loop events do not follow, a base class's `self.step()`: its `with`)
    return any(GM.disables_grad(item.item, cs.module) for w in SC.withs_around(cs, call) for item in w.items)


def call_left_with_grad(ctx: RuleContext, ep: EvalPass) -> Optional[Tuple[Scope, cst.Call, Scope, cst.Call]]:
    """`test()` calls `self.evaluate(...)` with gradients on while `validate()` calls the same
    function under `torch.no_grad()`: gradients are off only because of some callers, and the
    one left out (which trains nothing itself) is the bug. Returns that call and a guarded one."""
    scope = ep.scope
    if _grad_off_in_function(ep):
        return None
    guarded: Optional[Tuple[Scope, cst.Call]] = None
    open_call: Optional[Tuple[Scope, cst.Call]] = None
    for cs, call in ctx.project.callers(scope):
        if _call_disables_grad(ctx, cs, call):
            guarded = guarded or (cs, call)
        elif open_call is None and not any(e.kind in _GRADS for e in ctx.loops.body_events(cs, 0)):
            open_call = (cs, call)
    if guarded is None or open_call is None:
        return None
    return open_call[0], open_call[1], guarded[0], guarded[1]


def _grad_off_in_function(ep: EvalPass) -> bool:
    """Gradients are off for the pass by its own function: a `no_grad` around it, a decorator,
    or a module that may switch them off at run time. Its callers are not asked."""
    scope = ep.scope
    anchor = ep.loop.node if ep.loop is not None else ep.forward.node
    return (
        ep.forward.no_grad
        or id(anchor) in GM.no_grad_nodes(scope.module)
        or GM.scope_disables_grad(scope)
        or GM.may_switch_off(scope.module)
    )


def grad_disabled(ctx: RuleContext, ep: EvalPass) -> bool:
    scope = ep.scope
    if (
        _grad_off_in_function(ep)
        or _no_grad_at_call(ctx, scope)
        or _mode_branch_without_grad(ctx, ep)
        or _generate_without_grad(ctx, ep)
    ):
        return True
    # frozen parameters (`requires_grad_(False)`; a call that can only turn them on says nothing)
    for s in scope.module.scopes:
        for call in s.calls:
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "requires_grad_":
                if call.args and not GM.literal_on(call.args[0].value):
                    return True
    return False


def parameters_frozen_before(ep: EvalPass) -> bool:
    """`for _, v in self.netG.named_parameters(): v.requires_grad = False` earlier in the
    pass's own function: with every parameter frozen, the forward records no graph."""
    anchor = SC.order(ep.scope, event_anchor(ep.forward))
    callee = ep.forward.callee
    name = dotted(callee) if isinstance(callee, cst.BaseExpression) else None
    if anchor is None or name is None:
        return False
    for node in DV.own_nodes(ep.scope.node):
        if not isinstance(node, cst.For) or not isinstance(node.iter, cst.Call):
            continue
        f = node.iter.func
        if not (isinstance(f, cst.Attribute) and f.attr.value in ("parameters", "named_parameters")):
            continue
        owner = dotted(f.value)
        if owner is None or not (name == owner or name.startswith(owner + ".")):
            continue  # (another model's parameters)
        order = SC.order(ep.scope, node)
        if order is None or order > anchor:
            continue
        for n in walk(node.body):
            if isinstance(n, cst.Assign) and isinstance(n.value, cst.Name) and n.value.value == "False":
                if any(
                    isinstance(t.target, cst.Attribute) and t.target.attr.value == "requires_grad" for t in n.targets
                ):
                    return True
    return False


def _generate_without_grad(ctx: RuleContext, ep: EvalPass) -> bool:
    """`model.generate(...)`: Hugging Face's `generate` runs under `torch.no_grad()`, and so
    does a project's own when decorated with it (`@torch.no_grad() def generate`); only a
    project `generate` without it records a graph."""
    if not ep.forward.generates:
        return False
    cls = ep.model.cls
    method = ctx.project.method_of(cls, "generate") if isinstance(cls, ClassFacts) else None
    if method is None or not isinstance(method.node, cst.FunctionDef):
        return True  # (a library model's, or one out of sight)
    if GM.function_disables_grad(method.node, method.module):
        return True
    # `self.eval()` then `with torch.no_grad():` around the decoding: the method's own block
    body = method.node.body.body if isinstance(method.node.body, cst.IndentedBlock) else ()
    return any(
        isinstance(st, cst.With) and any(GM.disables_grad(i.item, method.module) for i in st.items) for st in body
    )


def generate_sets_eval(ctx: RuleContext, ep: EvalPass) -> bool:
    """`model.generate(...)` of a project class whose `generate` calls `self.eval()` itself."""
    cls = ep.model.cls
    if not ep.forward.generates or not isinstance(cls, ClassFacts):
        return False
    method = ctx.project.method_of(cls, "generate")
    if method is None:
        return False
    return any(
        mode == "eval" and not c.args and is_self(c.func.value)  # type: ignore[attr-defined]
        for c, mode in textual_modes(method)
    )


def _mode_branch_without_grad(ctx: RuleContext, ep: EvalPass) -> bool:
    """The call passes a constant that picks the arm of the model's own `forward` that runs
    under `no_grad` (`model(data, mode="inference")` where `forward` has `elif mode ==
    "inference": with torch.no_grad(): ...`)."""
    call, cls = ep.forward.node, ep.model.cls
    if not isinstance(call, cst.Call) or not isinstance(cls, ClassFacts):
        return False
    fn = ctx.project.method_of(cls, "forward")
    if fn is None or not isinstance(fn.node, cst.FunctionDef):
        return False
    off = GM.no_grad_nodes(fn.module)
    for node in walk(fn.node.body):
        if not isinstance(node, cst.If):
            continue
        test = node.test
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
            continue
        comp = test.comparisons[0]
        if not isinstance(comp.operator, cst.Equal) or not isinstance(test.left, cst.Name):
            continue
        if test.left.value not in fn.params or not isinstance(comp.comparator, cst.SimpleString):
            continue
        passed = C.bind(call, fn, test.left.value, bound=True)
        if not isinstance(passed, cst.SimpleString) or passed.evaluated_value != comp.comparator.evaluated_value:
            continue
        work = [
            n
            for n in walk(node.body)
            if isinstance(n, cst.Call) and not isinstance(n.func, cst.Name) and not GM.disables_grad(n, fn.module)
        ]
        return bool(work) and all(id(n) in off for n in work)
    return False


def _file_stem(module: ModuleFacts) -> str:
    return os.path.splitext(os.path.basename(module.path))[0]


def eval_named(ctx: RuleContext, ep: EvalPass) -> bool:
    """The function holding the loop, or the data it iterates, is named for evaluation."""
    if ep.held_out or ep.flag is not None:
        return True  # a held-out batch, or a caller that turns the loop's training off
    scope = ep.scope
    if scope.name != "<module>" and words(scope.simple_name) & _EVAL_WORDS:
        return True
    if (scope.name == "<module>" or scope.simple_name == "main") and words(_file_stem(scope.module)) & _EVAL_WORDS:
        return True  # the top level of a script named for evaluation (`test.py`, `evaluate.py`)
    loop = ep.loop.node if ep.loop is not None else None
    if isinstance(loop, cst.For):
        return bool(words(scope.module.tree.code_for_node(loop.iter)) & _EVAL_WORDS)
    return False
