"""TL4xx: model structure and initialisation (init scale, saturating stacks, eval mode,
evaluation without no_grad, functional dropout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes, options
from trainlint.analysis import calls as C
from trainlint.analysis import flow as FL
from trainlint.analysis import loops as L
from trainlint.analysis import modes as MD
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.loops import LoopFacts
from trainlint.analysis.names import dotted
from trainlint.analysis.project import enclosing_class
from trainlint.analysis.symbols import return_values
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
    if (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Name)
        and test.func.value == "isinstance"
        and len(test.args) == 2
    ):
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
        if (
            isinstance(left, cst.Call)
            and isinstance(left.func, cst.Attribute)
            and left.func.attr.value == "find"
            and left.args
        ):
            arg = left.args[0].value
            if isinstance(arg, cst.SimpleString) and isinstance(
                op, (cst.NotEqual, cst.GreaterThanEqual, cst.GreaterThan)
            ):
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
_NEUTRAL = (
    M.WEIGHT_LAYERS
    | M.PASSTHROUGH_LAYERS
    | frozenset(
        {
            "MaxPool1d",
            "MaxPool2d",
            "MaxPool3d",
            "AvgPool1d",
            "AvgPool2d",
            "AvgPool3d",
            "AdaptiveAvgPool1d",
            "AdaptiveAvgPool2d",
            "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d",
        }
    )
)
_NORM_FUNCS = frozenset(
    {
        "torch.nn.functional.layer_norm",
        "torch.nn.functional.batch_norm",
        "torch.nn.functional.group_norm",
        "torch.nn.functional.instance_norm",
        "torch.nn.functional.normalize",
    }
)
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
        (scope, call)
        for scope in mod.scopes
        for call in scope.calls
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
    returns = return_values(fwd)
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
            if (
                isinstance(e, cst.Call)
                and isinstance(e.func, cst.Attribute)
                and e.func.attr.value in ("sigmoid", "tanh")
            ):
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
                mod,
                seq.node,
                depth,
                f"in this `nn.Sequential` (the last one is `{text}`, {FL.where(mod, last)})",
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
    mod: ModuleFacts,
    node: cst.CSTNode,
    depth: int,
    where: str,
    related: Optional[List[Tuple[ModuleFacts, cst.CSTNode, str]]] = None,
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


@rule("TL403")
def missing_eval_mode(ctx: RuleContext) -> Iterator[Finding]:
    yield from _eval_without_eval_mode(ctx)
    yield from _eval_never_restored(ctx)


def _eval_without_eval_mode(ctx: RuleContext) -> Iterator[Finding]:
    for ep in MD.eval_passes(ctx):
        if ep.mode_dependent is None:
            continue
        if not (MD.grad_disabled(ctx, ep) or MD.eval_named(ctx, ep)):
            continue  # nothing says this loop evaluates
        mode = MD.mode_at(ctx, ep.scope, MD.event_anchor(ep.forward), ep.model)
        if mode.mode == "eval" or (mode.mode == "train" and not mode.trained_after):
            continue  # eval mode set, or train mode chosen on purpose (e.g. recomputing BN statistics)
        if mode.mode == "none" and (
            not MD.has_weights(ctx, ep.model) or (_model_is_parameter(ep) and not ctx.project.callers(ep.scope))
        ):
            continue  # (a helper given its model: its caller decides the mode, and none is known)
        name = FL.snippet(ep.forward.module, ep.forward.callee)
        related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = []
        if ep.mode_layer is not None:
            related.append(
                (ep.mode_layer.module, ep.mode_layer.node, f"`{ep.mode_dependent}` acts differently in training mode")
            )
        if mode.node is not None and mode.module is not None:
            related.append((mode.module, mode.node, "the model was last put in training mode here"))
        related += MD.path_to_forward(ep)
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


def _model_is_parameter(ep: MD.EvalPass) -> bool:
    recv = ep.forward.callee
    return isinstance(recv, cst.Name) and recv.value in ep.scope.params


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
        if not (lf.has(L.BACKWARD) and lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP)):
            continue
        evals = [e for e in lf.events if e.kind == L.EVAL_MODE]
        if not evals or lf.has(L.TRAIN_MODE) or _has_textual_train(lf):
            continue
        ev = evals[0]
        if id(ev.node) in seen:
            continue
        forward = next((e for e in lf.events if e.kind == L.FORWARD and MD.same_model(e.receiver, ev.receiver)), None)
        facts = FL.facts_of_value(ev.receiver, ctx.project)
        layer = facts.mode_dependent_layer() if facts is not None else None
        if layer is None or forward is None:
            continue
        seen.add(id(ev.node))
        name = (
            FL.snippet(ev.module, ev.node.func.value)
            if isinstance(ev.node, cst.Call) and isinstance(ev.node.func, cst.Attribute)
            else "model"
        )
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
    for ep in MD.eval_passes(ctx):
        if ep.loop is None or MD.grad_disabled(ctx, ep):
            continue  # (a lone forward records one graph: nothing worth a finding)
        mode = MD.mode_at(ctx, ep.scope, MD.event_anchor(ep.forward), ep.model)
        if mode.mode != "eval" and (not MD.eval_named(ctx, ep) or not MD.has_weights(ctx, ep.model)):
            continue  # nothing says this evaluates (a lone forward needs `model.eval()` before it)
        name = FL.snippet(ep.forward.module, ep.forward.callee)
        yield Finding(
            "TL404",
            ep.forward.module,
            ep.forward.node,
            f"this evaluation loop calls `{name}` with gradients enabled: autograd records every operation "
            "and keeps the activations of each batch alive for a backward that never comes, which costs "
            "memory and time. Wrap the loop in `with torch.no_grad():` (or `torch.inference_mode()`), or "
            "decorate the function with `@torch.no_grad()`.",
            related=MD.path_to_forward(ep),
            fix_builder=fixes.hook(fixes.fix_tl404, ctx, ep.loop, ep.forward),
        )


# ---------------------------------------------------------------------------- TL405

_FUNCTIONAL_DROPOUT = {
    "torch.nn.functional.dropout": 2,
    "torch.nn.functional.dropout1d": 2,
    "torch.nn.functional.dropout2d": 2,
    "torch.nn.functional.dropout3d": 2,
    "torch.nn.functional.alpha_dropout": 2,
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
