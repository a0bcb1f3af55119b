"""TL4xx: model structure and initialisation (init scale, saturating stacks, eval mode,
evaluation without no_grad, functional dropout)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes, options
from trainlint.analysis import calls as C
from trainlint.analysis import flow as FL
from trainlint.analysis import gradmode as GM
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import modules as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.names import dotted
from trainlint.analysis.project import enclosing_class
from trainlint.analysis.purpose import not_training, words
from trainlint.analysis.symbols import Value, _return_values
from trainlint.analysis.walk import walk
from trainlint.rules import Finding, RuleContext, rule

options.declare("TL401", max_scale=1.0)
options.declare("TL402", min_depth=4)

# ---------------------------------------------------------------------------- TL401


@dataclass
class _Init:
    call: cst.Call
    scope: Scope
    layer: cst.BaseExpression  # `m` in `m.weight`
    constant: Optional[float] = None  # zeros_/ones_/constant_/fill_
    scale: Optional[float] = None  # std of normal_, bound of uniform_


def _init_of(call: cst.Call, scope: Scope) -> Optional[_Init]:
    """An initialiser applied to a `.weight`, with the constant or the scale it uses."""
    mod = scope.module
    qual = mod.qualify(call.func)
    target: Optional[cst.BaseExpression]
    constant: Optional[float] = None
    scale: Optional[float] = None
    if qual is not None and qual.startswith("torch.nn.init."):
        fn = qual.rsplit(".", 1)[-1].rstrip("_")
        target = C.arg(call, 0, "tensor")
        if fn == "zeros":
            constant = 0.0
        elif fn == "ones":
            constant = 1.0
        elif fn == "constant":
            constant = _literal(C.arg(call, 1, "val"))
        elif fn in ("normal", "trunc_normal"):
            scale = _literal(C.arg(call, 2, "std"), default=1.0)
        elif fn == "uniform":
            scale = _bound(C.arg(call, 1, "a"), C.arg(call, 2, "b"))
        else:
            return None
    elif qual is None and isinstance(call.func, cst.Attribute):
        meth = call.func.attr.value
        target = call.func.value
        if meth == "zero_" and not call.args:
            constant = 0.0
        elif meth == "fill_":
            constant = _literal(C.arg(call, 0, "value"))
        elif meth == "normal_":
            scale = _literal(C.arg(call, 1, "std"), default=1.0)
        elif meth == "uniform_":
            scale = _bound(C.arg(call, 0, "from"), C.arg(call, 1, "to"))
        else:
            return None
    else:
        return None
    if constant is None and scale is None or target is None:
        return None
    if isinstance(target, cst.Attribute) and target.attr.value == "data":
        target = target.value
    if not (isinstance(target, cst.Attribute) and target.attr.value == "weight"):
        return None  # biases and other tensors: constants are fine there
    return _Init(call, scope, target.value, constant, scale)


def _literal(expr: Optional[cst.BaseExpression], default: Optional[float] = None) -> Optional[float]:
    if expr is None:
        return default
    return M.number(expr)


def _bound(a: Optional[cst.BaseExpression], b: Optional[cst.BaseExpression]) -> Optional[float]:
    lo, hi = _literal(a, 0.0), _literal(b, 1.0)
    if lo is None or hi is None:
        return None
    return max(abs(lo), abs(hi))


def _weight_layer_types(init: _Init, ctx: RuleContext) -> Tuple[Optional[Set[str]], bool]:
    """The layer types whose weight the call sets, and whether it sets many layers at once
    (a loop over modules, an `apply` callback) rather than one named layer."""
    expr, scope = init.layer, init.scope
    project = ctx.project
    d = dotted(expr)
    if d is not None and d.startswith("self.") and d.count(".") == 1:
        cls = enclosing_class(scope)
        if cls is None or not M.is_module_class(cls, project):
            return None, False
        layer = M.class_facts(cls, project).layer(d[5:])
        name = layer.type_name if layer is not None and layer.cls is None else None
        return ({name} if name else None), False
    if not isinstance(expr, cst.Name):
        return None, False
    name = expr.value
    many = name in scope.params or any(b.how == "for" for b in scope.bindings.get(name, []))
    guarded = _guard_types(init, name)
    if guarded is not None:
        return guarded, many
    bindings = scope.bindings.get(name, [])
    if len(bindings) != 1:
        return None, many
    b = bindings[0]
    if b.how == "for" and b.index is None and isinstance(b.value, (cst.Tuple, cst.List)):
        types: Set[str] = set()
        for el in b.value.elements:
            t = _layer_type(el.value, b.scope, ctx)
            if t is None:
                return None, True
            types.add(t)
        return types, True
    if b.how == "assign" and b.index is None:
        t = _layer_type(b.value, b.scope, ctx)
        return ({t} if t else None), False
    return None, many


def _layer_type(expr: cst.BaseExpression, scope: Scope, ctx: RuleContext) -> Optional[str]:
    d = dotted(expr)
    if d is not None and d.startswith("self.") and d.count(".") == 1:
        cls = enclosing_class(scope)
        if cls is None or not M.is_module_class(cls, ctx.project):
            return None
        layer = M.class_facts(cls, ctx.project).layer(d[5:])
    else:
        layer = M.layer_from_expr("x", expr, scope, ctx.project)
    if layer is None or layer.cls is not None:
        return None
    return layer.type_name


def _guard_types(init: _Init, name: str) -> Optional[Set[str]]:
    """`if isinstance(m, nn.Linear):` (or `elif`, `type(m) == ...`, `classname.find("Conv")`)
    around the call."""
    mod = init.scope.module
    for comp in reversed(SC.enclosing(init.scope, init.call)):
        if not isinstance(comp, cst.If) or not SC.inside(init.scope, comp.body, init.call):
            continue
        types = _test_types(comp.test, name, mod)
        if types is not None:
            return types
    return None


def _selected_by_name(init: _Init, ctx: RuleContext) -> bool:
    """The init runs only under a condition other than a layer-type test, e.g.
    `if name.startswith("head"):` in a per-module init callback: one chosen layer."""
    name = init.layer.value if isinstance(init.layer, cst.Name) else ""
    for comp in SC.enclosing(init.scope, init.call):
        if isinstance(comp, cst.If) and SC.inside(init.scope, comp.body, init.call):
            if _test_types(comp.test, name, init.scope.module) is None:
                return True
    return False


def _test_types(test: cst.BaseExpression, name: str, mod: ModuleFacts) -> Optional[Set[str]]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _test_types(test.left, name, mod) or _test_types(test.right, name, mod)
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance" and len(test.args) == 2:
        subject, kinds = test.args[0].value, test.args[1].value
        if not (isinstance(subject, cst.Name) and subject.value == name):
            return None
        elements = [el.value for el in kinds.elements] if isinstance(kinds, cst.Tuple) else [kinds]
        out: Set[str] = set()
        for el in elements:
            t = M.nn_layer_name(mod.qualify(el))
            out.add(t or "?")
        return out
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left, right = test.left, test.comparisons[0].comparator
        op = test.comparisons[0].operator
        if isinstance(op, (cst.Equal, cst.Is)) and isinstance(left, cst.Call) and dotted(left.func) == "type":
            return {M.nn_layer_name(mod.qualify(right)) or "?"}
        # DCGAN style: classname.find("Conv") != -1, or "Conv" in classname
        word: Optional[str] = None
        if isinstance(left, cst.Call) and isinstance(left.func, cst.Attribute) and left.func.attr.value == "find" and left.args:
            arg = left.args[0].value
            if isinstance(arg, cst.SimpleString) and isinstance(op, (cst.NotEqual, cst.GreaterThanEqual, cst.GreaterThan)):
                word = str(arg.evaluated_value)
        elif isinstance(left, cst.SimpleString) and isinstance(op, cst.In):
            word = str(left.evaluated_value)
        if word is not None:
            if "Norm" in word:
                return {"BatchNorm2d"}
            if word.startswith(("Conv", "Linear")):
                return {"Conv2d" if word.startswith("Conv") else "Linear"}
            return {"?"}
    return None


@rule("TL401")
def bad_weight_init(ctx: RuleContext) -> Iterator[Finding]:
    max_scale = float(ctx.options.get("max_scale", 1.0))
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            init = _init_of(call, scope)
            if init is None:
                continue
            types, many = _weight_layer_types(init, ctx)
            if not types or not types <= M.WEIGHT_LAYERS:
                continue  # norm layers, embeddings, unknown tensors: not judged
            kinds = "/".join(f"`{t}`" for t in sorted(types))
            text = FL.snippet(mod, call)
            if init.constant is not None:
                if init.constant == 0 and (not many or _selected_by_name(init, ctx)):
                    continue  # zero-initialising one chosen layer (an output or residual branch) is a known recipe
                extra = " With zero weights no signal or gradient passes through at all." if init.constant == 0 else ""
                message = (
                    f"`{text}` sets every weight of the {kinds} layer{'s' if many else ''} to the same value "
                    f"({init.constant:g}): all units of a layer then compute the same output and get the same "
                    f"gradient, so they stay identical and the layer acts like a single unit.{extra} Keep the default "
                    "init or use `nn.init.kaiming_normal_`/`nn.init.xavier_uniform_` for weights (constants are "
                    "fine for biases and normalisation layers)."
                )
            else:
                assert init.scale is not None
                if init.scale < max_scale:
                    continue
                message = (
                    f"`{text}` draws {kinds} weights at scale {init.scale:g}: each layer then multiplies the "
                    "activation variance by about fan_in x scale², so activations and gradients explode (or "
                    "saturate tanh/sigmoid) with depth. Use `nn.init.kaiming_normal_`/`nn.init.xavier_normal_` "
                    "(std about 1/sqrt(fan_in)) or keep the default init."
                )
            yield Finding("TL401", mod, call, message)


# ---------------------------------------------------------------------------- TL402

_SATURATING = frozenset({"Sigmoid", "Tanh"})
_NEUTRAL = M.WEIGHT_LAYERS | M.PASSTHROUGH_LAYERS | frozenset({
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
})
_NORM_FUNCS = frozenset({
    "torch.nn.functional.layer_norm", "torch.nn.functional.batch_norm", "torch.nn.functional.group_norm",
    "torch.nn.functional.instance_norm", "torch.nn.functional.normalize",
})
_SKIP_FUNCS = FL.SHAPE_FUNCS | frozenset({"torch.nn.functional.dropout", "torch.nn.functional.linear"})

SAT, RESET, NEUTRAL = "sat", "reset", "neutral"


def _longest_run(steps: List[Tuple[str, cst.CSTNode]]) -> Tuple[int, Optional[cst.CSTNode]]:
    """Longest run of saturating steps with no reset between; and the run's first node."""
    best, best_node = 0, None
    run, run_node = 0, None
    for kind, node in steps:
        if kind == SAT:
            if run == 0:
                run_node = node
            run += 1
            if run > best:
                best, best_node = run, run_node
        elif kind == RESET:
            run = 0
    return best, best_node


def _flatten(layer: M.Layer) -> Optional[List[M.Layer]]:
    out: List[M.Layer] = []
    for child in layer.children:
        if child.type_name == "Sequential" and child.cls is None:
            if child.dynamic:
                return None
            inner = _flatten(child)
            if inner is None:
                return None
            out.extend(inner)
        else:
            out.append(child)
    return out


def _layer_step(layer: M.Layer) -> str:
    name = layer.type_name
    if layer.cls is None and name in _SATURATING:
        return SAT
    if layer.cls is None and name in _NEUTRAL:
        return NEUTRAL
    return RESET  # norms, other activations, residual blocks, anything unknown


def _sequential_stacks(ctx: RuleContext) -> Iterator[Tuple[M.Layer, int, cst.CSTNode]]:
    mod = ctx.module
    seq_calls = [
        (scope, call) for scope in mod.scopes for call in scope.calls
        if M.nn_layer_name(mod.qualify(call.func)) == "Sequential"
    ]
    nested = {id(arg.value) for _, call in seq_calls for arg in call.args}
    for scope, call in seq_calls:
        if id(call) in nested:
            continue
        layer = M.layer_from_expr("model", call, scope, ctx.project)
        if layer is None or layer.dynamic:
            continue
        flat = _flatten(layer)
        if flat is None:
            continue
        # Report the last saturating layer of the run (the one nearest the output).
        steps: List[Tuple[str, cst.CSTNode]] = [(_layer_step(x), x.node) for x in reversed(flat)]
        tail = next((i for i, x in enumerate(reversed(flat)) if x.type_name not in M.PASSTHROUGH_LAYERS), None)
        if tail is not None and steps[tail][0] == SAT:
            # An output activation (probabilities, bounded outputs) is the task's, not a hidden layer.
            steps[tail] = (RESET, steps[tail][1])
        depth, node = _longest_run(steps)
        if node is not None:
            yield layer, depth, node


def _forward_chain(cls: ClassFacts, ctx: RuleContext) -> List[Tuple[str, cst.CSTNode]]:
    """Steps along the main data path of `forward`, from the returned value backwards."""
    facts = M.class_facts(cls, ctx.project)
    fwd = facts.forward
    if fwd is None or fwd.cls is not cls:
        return []
    returns = _return_values(fwd)
    if len(returns) != 1:
        return []
    mod = fwd.module
    steps: List[Tuple[str, cst.CSTNode]] = []
    e: cst.BaseExpression = returns[0]
    for _ in range(80):
        if isinstance(e, cst.Name):
            found = SC.reaching(fwd, e.value, e)
            if len(found) != 1 or found[0].how != "assign" or found[0].index is not None:
                break
            e = found[0].value
            continue
        if not isinstance(e, cst.Call) or not e.args:
            if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute) and e.func.attr.value in ("sigmoid", "tanh"):
                steps.append((SAT, e))
                e = e.func.value
                continue
            break
        qual = mod.qualify(e.func)
        first = e.args[0].value
        if qual is not None:
            kind = FL.FUNC_OPS.get(qual)
            if kind in (M.SIGMOID, M.TANH):
                steps.append((SAT, e))
            elif kind == M.LINEAR or qual in _SKIP_FUNCS:
                steps.append((NEUTRAL, e))
            elif qual in _NORM_FUNCS or kind is not None:
                steps.append((RESET, e))
            else:
                break
            e = first
            continue
        d = dotted(e.func)
        if d is not None and d.startswith("self.") and d.count(".") == 1:
            layer = facts.layer(d[5:])
            if layer is None or layer.type_name == "Sequential":
                break
            steps.append((_layer_step(layer), e))
            e = first
            continue
        if isinstance(e.func, cst.Attribute) and e.func.attr.value in FL.SHAPE_METHODS:
            e = e.func.value
            continue
        break
    return steps


@rule("TL402")
def saturating_activation_stack(ctx: RuleContext) -> Iterator[Finding]:
    min_depth = int(ctx.options.get("min_depth", 4))
    mod = ctx.module
    for seq, depth, last in _sequential_stacks(ctx):
        if depth >= min_depth:
            # The Sequential is the report; its last saturating layer is named in the message.
            text = FL.snippet(mod, last)
            yield _stack_finding(
                mod, seq.node, depth, f"in this `nn.Sequential` (the last one is `{text}`, {FL.where(mod, last)})",
                related=[(mod, last, f"the last of {depth} saturating layers in a row")],
            )
    for cls in mod.classes.values():
        if not M.is_module_class(cls, ctx.project):
            continue
        chain = _forward_chain(cls, ctx)
        if chain and chain[0][0] == SAT:
            chain[0] = (RESET, chain[0][1])  # the output activation itself
        depth, node = _longest_run(chain)
        if node is not None and depth >= min_depth:
            yield _stack_finding(mod, node, depth, f"along `{cls.name}.forward`")


def _stack_finding(
    mod: ModuleFacts, node: cst.CSTNode, depth: int, where: str, related: Optional[List[Tuple[ModuleFacts, cst.CSTNode, str]]] = None
) -> Finding:
    return Finding(
        "TL402",
        mod,
        node,
        f"{depth} sigmoid/tanh layers follow one another {where} with no normalisation or residual "
        "connection: each one scales the backward signal by its derivative (at most 0.25 for sigmoid, 1 for "
        "tanh and much less once saturated), so the first layers get vanishing gradients and barely learn. "
        "Use ReLU-family activations (ReLU, GELU, SiLU), add normalisation (BatchNorm/LayerNorm) between "
        "layers, or residual connections.",
        related=related or [],
    )


# ---------------------------------------------------------------------------- eval passes (TL403/TL404)

_TRAINING = frozenset({
    L.BACKWARD, L.AUTOGRAD_GRAD, L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.MANUAL_UPDATE, L.ZERO_GRAD,
    L.SCALER_SCALE, L.SCALER_UPDATE,
})
_GRADS = (L.BACKWARD, L.AUTOGRAD_GRAD)
_EVAL_WORDS = frozenset({
    "eval", "evaluate", "evaluation", "valid", "validate", "validation", "val", "test", "testing",
    "predict", "prediction", "inference", "infer", "score", "accuracy", "dev", "holdout",
})


@dataclass
class _EvalPass:
    scope: Scope
    loop: Optional[LoopFacts]  # None: a forward outside any loop (`preds = model(x_test)`)
    forward: Event
    model: Value
    mode_dependent: Optional[str]  # text of a dropout/batch-norm layer, if the model has one
    mode_layer: Optional[M.Layer]


_TRAINED: "weakref.WeakKeyDictionary[object, Set[int]]" = weakref.WeakKeyDictionary()


def _trained_forwards(ctx: RuleContext) -> Set[int]:
    """Forward calls that some training loop of the project runs (directly or through helpers)."""
    found = _TRAINED.get(ctx.project)
    if found is None:
        found = {id(e.node) for lf in _training_iterations(ctx) for e in lf.events if e.kind == L.FORWARD and not e.loops}
        _TRAINED[ctx.project] = found
    return found


def _training_iterations(ctx: RuleContext) -> Iterator[LoopFacts]:
    """Loops of the project whose own steps train (an evaluation loop nested in the epoch loop
    is not one)."""
    for m in ctx.project.modules:
        for lf in ctx.loops.loops_of(m):
            if any(e.kind in _TRAINING and not e.loops for e in lf.events):
                yield lf


_TRAINED_MODELS: "weakref.WeakKeyDictionary[object, Set[int]]" = weakref.WeakKeyDictionary()


def _has_weights(ctx: RuleContext, model: Value) -> bool:
    """Whether the model is trained somewhere in the project or loads a checkpoint: evaluating a
    freshly built model (a shape check in `def test():`) is not an evaluation pass."""
    if model.origin is None:
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
                    f = call.func
                    if isinstance(f, cst.Attribute) and f.attr.value == "load_state_dict":
                        v = ctx.resolver.value_of(f.value, s)
                        if v is not None and v.origin is not None:
                            found.add(id(v.origin))
        _TRAINED_MODELS[ctx.project] = found
    return id(model.origin) in found


def _eval_passes(ctx: RuleContext) -> List[_EvalPass]:
    """Forward passes with no training around them: inside a loop that does no backward/step,
    or on their own in a function or script, with no backward after them."""
    return ctx.project.memo(_eval_passes, ctx.module, lambda: _find_eval_passes(ctx))


def _find_eval_passes(ctx: RuleContext) -> List[_EvalPass]:
    out: List[_EvalPass] = []
    seen: Set[int] = set(_trained_forwards(ctx))
    for lf in ctx.loops.loops_of(ctx.module):
        if any(e.kind in _TRAINING for e in lf.events):
            continue
        own = [e for e in lf.events if e.kind == L.FORWARD and not e.loops and e.receiver is not None]
        if not own or id(own[0].node) in seen:
            continue
        seen.update(id(e.node) for e in own)
        if _feeds_gradients(ctx, lf):
            continue
        ep = _make_pass(ctx, lf.scope, lf, own[0])
        if ep is not None:
            out.append(ep)
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
            ep = _make_pass(ctx, scope, None, e)
            if ep is not None:
                out.append(ep)
    return out


_LIBRARY_MODELS = ("torchvision.models.", "timm.", "transformers.")


def _may_call_model(ctx: RuleContext, scope: Scope) -> bool:
    """Whether a call of the scope itself (not through a helper) may run a model's forward:
    only a name or `self.x` that resolves to a model makes a FORWARD event."""
    for call in scope.calls:
        func = call.func
        t = type(func)
        if t is cst.Name or (t is cst.Attribute and type(func.value) is cst.Name and func.value.value == "self"):  # type: ignore[attr-defined]
            v = ctx.resolver.value_of(func, scope)
            if v is not None and v.kind == K.MODEL:
                return True
    return False


def _make_pass(ctx: RuleContext, scope: Scope, lf: Optional[LoopFacts], fwd: Event) -> Optional[_EvalPass]:
    """The pass, when its receiver is a model we know (a project class, a torch.nn model, a
    library model); a loss or an unknown callable is not evaluated."""
    assert fwd.receiver is not None
    if not_training(scope):
        return None  # unit tests call models to check shapes and modes, benchmarks to time them
    qual = fwd.receiver.qual or ""
    facts = FL.facts_of_value(fwd.receiver, ctx.project)
    if facts is None and not qual.startswith(_LIBRARY_MODELS):
        return None
    layer = facts.mode_dependent_layer() if facts is not None else None
    text = layer.text() if layer is not None else None
    if layer is None and qual.startswith("torchvision.models."):
        text = f"`{qual}` (batch norm / dropout inside)"
    return _EvalPass(scope, lf, fwd, fwd.receiver, text, layer)


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


def _same_model(a: Optional[Value], b: Optional[Value]) -> bool:
    if a is None or b is None or a.origin is None or b.origin is None:
        return True
    return a.origin is b.origin


def _anchor(e: Event) -> cst.CSTNode:
    return e.via[0][1] if e.via else e.node


@dataclass
class _Mode:
    mode: str  # "eval" | "train" | "none" (nothing sets it: a new module trains)
    trained_after: bool = False  # a backward ran after the last train() before the pass
    node: Optional[cst.CSTNode] = None
    module: Optional[ModuleFacts] = None


def _textual_modes(scope: Scope) -> List[Tuple[cst.Call, str]]:
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


def _mode_at(ctx: RuleContext, scope: Scope, anchor: cst.CSTNode, model: Value, depth: int = 0) -> _Mode:
    """The mode `model` is in when `anchor` (a node of `scope`) runs."""
    limit = SC.order(scope, anchor)
    if limit is None:
        return _Mode("none")
    marks: List[Tuple[int, int, str, cst.CSTNode]] = []
    counted: Set[int] = set()
    for i, e in enumerate(ctx.loops.body_events(scope, 0)):
        if e.kind not in (L.EVAL_MODE, L.TRAIN_MODE) + _GRADS:
            continue
        o = SC.order(scope, _anchor(e))
        if o is None or o >= limit:
            continue
        if e.kind in (L.EVAL_MODE, L.TRAIN_MODE):
            counted.add(id(e.node))
            if not _same_model(e.receiver, model):
                continue
            marks.append((o, i, "eval" if e.kind == L.EVAL_MODE else "train", e.node))
        else:
            marks.append((o, i, "grad", e.node))
    for call, mode in _textual_modes(scope):
        o = SC.order(scope, call)
        if id(call) not in counted and o is not None and o < limit:
            marks.append((o, -1, mode, call))
    marks.sort(key=lambda m: (m[0], m[1]))
    state: Optional[_Mode] = None
    for _, _, kind, node in marks:
        if kind == "grad":
            if state is not None and state.mode == "train":
                state.trained_after = True
        else:
            state = _Mode(kind, node=node, module=scope.module)
    if state is not None:
        return state
    if depth >= 3:
        return _Mode("none")
    found = [_mode_at(ctx, cs, call, model, depth + 1) for cs, call in ctx.project.callers(scope)]
    for mode in ("eval", "train"):
        hits = [m for m in found if m.mode == mode]
        if hits:
            return next((m for m in hits if m.trained_after), hits[0])
    return _Mode("none")


def _no_grad_at_call(ctx: RuleContext, scope: Scope, depth: int = 0) -> bool:
    """Whether `scope` runs with gradients disabled: decorated, or every... any caller disables them."""
    if GM.scope_disables_grad(scope):
        return True
    if depth >= 3:
        return False
    for cs, call in ctx.project.callers(scope):
        evs = [e for e in ctx.loops.body_events(cs, 0) if e.via and e.via[0][1] is call]
        if any(e.no_grad for e in evs) or _no_grad_at_call(ctx, cs, depth + 1):
            return True
    return False


def _grad_disabled(ctx: RuleContext, ep: _EvalPass) -> bool:
    if ep.forward.no_grad:
        return True
    scope = ep.scope
    anchor = ep.loop.node if ep.loop is not None else ep.forward.node
    for w in SC.withs_around(scope, anchor):
        if any(GM.disables_grad(item.item, scope.module) for item in w.items):
            return True
    if _no_grad_at_call(ctx, scope):
        return True
    # torch.set_grad_enabled(False) as a statement, or frozen parameters
    for s in ep.scope.module.scopes:
        for call in s.calls:
            qual = s.module.qualify(call.func)
            if qual in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled") and call.args:
                return True
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "requires_grad_":
                return True
    return False


def _eval_named(ctx: RuleContext, ep: _EvalPass) -> bool:
    """The function holding the loop, or the data it iterates, is named for evaluation."""
    scope = ep.scope
    if scope.name != "<module>" and words(scope.simple_name) & _EVAL_WORDS:
        return True
    loop = ep.loop.node if ep.loop is not None else None
    if isinstance(loop, cst.For):
        return bool(words(scope.module.tree.code_for_node(loop.iter)) & _EVAL_WORDS)
    return False


@rule("TL403")
def missing_eval_mode(ctx: RuleContext) -> Iterator[Finding]:
    yield from _eval_without_eval_mode(ctx)
    yield from _eval_never_restored(ctx)


def _eval_without_eval_mode(ctx: RuleContext) -> Iterator[Finding]:
    for ep in _eval_passes(ctx):
        if ep.mode_dependent is None:
            continue
        if not (_grad_disabled(ctx, ep) or _eval_named(ctx, ep)):
            continue  # nothing says this loop evaluates
        mode = _mode_at(ctx, ep.scope, _anchor(ep.forward), ep.model)
        if mode.mode == "eval" or (mode.mode == "train" and not mode.trained_after):
            continue  # eval mode set, or train mode chosen on purpose (e.g. recomputing BN statistics)
        if mode.mode == "none" and (not _has_weights(ctx, ep.model) or (_model_is_parameter(ep) and not ctx.project.callers(ep.scope))):
            continue  # (a helper given its model: its caller decides the mode, and none is known)
        name = FL.snippet(ep.forward.module, _receiver_node(ep.forward))
        related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = []
        if ep.mode_layer is not None:
            related.append((ep.mode_layer.module, ep.mode_layer.node, f"`{ep.mode_dependent}` acts differently in training mode"))
        if mode.node is not None and mode.module is not None:
            related.append((mode.module, mode.node, "the model was last put in training mode here"))
        yield Finding(
            "TL403",
            ep.forward.module,
            ep.forward.node,
            f"this evaluation loop runs `{name}` in training mode, and the model has {_layer_phrase(ep)}: "
            f"{_mode_effect(ep)}, so the metrics are noisy and wrong. Call `{name}.eval()` before evaluating "
            f"(and `{name}.train()` before training resumes).",
            related=related,
            fix_builder=fixes.hook(fixes.fix_tl403_eval, ep.loop, ep.forward),
        )


def _model_is_parameter(ep: _EvalPass) -> bool:
    recv = _receiver_node(ep.forward)
    return isinstance(recv, cst.Name) and recv.value in ep.scope.params


def _layer_phrase(ep: _EvalPass) -> str:
    if ep.mode_layer is not None:
        return f"`{ep.mode_dependent}` ({FL.where(ep.mode_layer.module, ep.mode_layer.node)})"
    return f"{ep.mode_dependent}"


def _mode_effect(ep: _EvalPass) -> str:
    kind = ep.mode_layer.type_name if ep.mode_layer is not None else None
    if kind in M.BATCHNORM_LAYERS:
        return "batch norm normalises with each evaluation batch's statistics and overwrites its running averages with them"
    if kind in M.DROPOUT_LAYERS:
        return "dropout keeps zeroing random units during evaluation"
    return "dropout/batch norm keep their training behaviour during evaluation"


def _receiver_node(e: Event) -> cst.CSTNode:
    node = e.node
    if isinstance(node, cst.Call):
        f = node.func
        if isinstance(f, cst.Attribute) and f.attr.value == "forward":
            return f.value
        return f
    return node


def _eval_never_restored(ctx: RuleContext) -> Iterator[Finding]:
    seen: Set[int] = set()
    for lf in ctx.loops.loops_of(ctx.module):
        if not (lf.has(L.BACKWARD) and lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP)):
            continue
        evals = [e for e in lf.events if e.kind == L.EVAL_MODE]
        if not evals or lf.has(L.TRAIN_MODE) or _has_textual_train(lf):
            continue
        ev = evals[0]
        if id(ev.node) in seen:
            continue
        forward = next((e for e in lf.events if e.kind == L.FORWARD and _same_model(e.receiver, ev.receiver)), None)
        facts = FL.facts_of_value(ev.receiver, ctx.project)
        layer = facts.mode_dependent_layer() if facts is not None else None
        if layer is None or forward is None:
            continue
        seen.add(id(ev.node))
        name = FL.snippet(ev.module, ev.node.func.value) if isinstance(ev.node, cst.Call) and isinstance(ev.node.func, cst.Attribute) else "model"
        yield Finding(
            "TL403",
            ev.module,
            ev.node,
            f"`{name}.eval()` runs inside the training loop and nothing in the loop calls `{name}.train()` "
            f"again, so from the second pass on the model trains in eval mode: `{layer.text()}` "
            f"({FL.where(layer.module, layer.node)}) then {'stops dropping units' if layer.type_name in M.DROPOUT_LAYERS else 'uses frozen running statistics'} "
            f"while training. Call `{name}.train()` at the start of each epoch (or right after evaluating).",
            related=[
                (layer.module, layer.node, f"`{layer.text()}` acts differently in eval mode"),
                (forward.module, forward.node, "this training forward then runs in eval mode"),
            ],
            fix_builder=fixes.hook(fixes.fix_tl403_restore, lf, forward),
        )


def _has_textual_train(lf: LoopFacts) -> bool:
    """`x.train()` / `x.train(True)` written in the loop, whatever `x` resolves to."""
    for node in walk(lf.node):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "train":
            a = node.args
            if not a or not (isinstance(a[0].value, cst.Name) and a[0].value.value == "False"):
                return True
    return False


@rule("TL404")
def eval_without_no_grad(ctx: RuleContext) -> Iterator[Finding]:
    for ep in _eval_passes(ctx):
        if ep.loop is None or _grad_disabled(ctx, ep):
            continue  # (a lone forward records one graph: nothing worth a finding)
        mode = _mode_at(ctx, ep.scope, _anchor(ep.forward), ep.model)
        if mode.mode != "eval" and (ep.loop is None or not _eval_named(ctx, ep) or not _has_weights(ctx, ep.model)):
            continue  # nothing says this evaluates (a lone forward needs `model.eval()` before it)
        name = FL.snippet(ep.forward.module, _receiver_node(ep.forward))
        yield Finding(
            "TL404",
            ep.forward.module,
            ep.forward.node,
            f"this evaluation loop calls `{name}` with gradients enabled: autograd records every operation "
            "and keeps the activations of each batch alive for a backward that never comes, which costs "
            "memory and time. Wrap the loop in `with torch.no_grad():` (or `torch.inference_mode()`), or "
            "decorate the function with `@torch.no_grad()`.",
            fix_builder=fixes.hook(fixes.fix_tl404, ctx, ep.loop, ep.forward),
        )


# ---------------------------------------------------------------------------- TL405

_FUNCTIONAL_DROPOUT = {
    "torch.nn.functional.dropout": 2, "torch.nn.functional.dropout1d": 2, "torch.nn.functional.dropout2d": 2,
    "torch.nn.functional.dropout3d": 2, "torch.nn.functional.alpha_dropout": 2,
    "torch.nn.functional.feature_alpha_dropout": 2,
}


def _mentions_training(expr: cst.BaseExpression, module: ModuleFacts) -> bool:
    return "self.training" in module.tree.code_for_node(expr)


def _under_training_check(method: Scope, call: cst.Call) -> bool:
    """The call sits in the body of `if self.training ...:` or of `... if self.training else ...`."""
    mod = method.module
    for comp in SC.enclosing(method, call):
        if isinstance(comp, cst.If) and SC.inside(method, comp.body, call) and _mentions_training(comp.test, mod):
            return True
    return any(
        isinstance(node, cst.IfExp) and _mentions_training(node.test, mod) and SC.inside(method, node.body, call)
        for node in walk(method.node)
    )


def _forward_methods(cls: ClassFacts) -> List[Scope]:
    """`forward` and the methods it calls through `self.` (one level)."""
    fwd = cls.methods.get("forward")
    if fwd is None:
        return []
    out = [fwd]
    for call in fwd.calls:
        d = dotted(call.func)
        if d is not None and d.startswith("self.") and d.count(".") == 1:
            m = cls.methods.get(d[5:])
            if m is not None and m is not fwd and m not in out:
                out.append(m)
    return out


@rule("TL405")
def functional_dropout_always_on(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    for cls in mod.classes.values():
        if not M.is_module_class(cls, ctx.project):
            continue
        for method in _forward_methods(cls):
            for call in method.calls:
                qual = mod.qualify(call.func)
                if qual not in _FUNCTIONAL_DROPOUT:
                    continue
                if C.arg(call, _FUNCTIONAL_DROPOUT[qual], "training") is not None or any(a.star for a in call.args):
                    continue
                if _under_training_check(method, call):
                    continue  # `if self.training: x = F.dropout(x, p)` only runs in training mode
                text = FL.snippet(mod, call)
                yield Finding(
                    "TL405",
                    mod,
                    call,
                    f"`{text}` in `{cls.name}.{method.simple_name}` does not pass `training=`, and "
                    "`F.dropout` defaults to `training=True`: it keeps dropping units after `model.eval()`, "
                    "so evaluation and inference are random and degraded. Pass `training=self.training`, or "
                    "use an `nn.Dropout` module, which follows `model.train()`/`model.eval()`.",
                    fix_builder=fixes.hook(fixes.fix_tl405, mod, method, call),
                )

