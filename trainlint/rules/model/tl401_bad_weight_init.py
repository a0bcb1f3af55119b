"""TL401 bad-weight-init: Weights initialised to a constant or at a far too large scale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import flow as FL
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.project import enclosing_class
from trainlint.analysis.purpose import is_test_code
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.runtime.judging.common import weighted_layers
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.judging.evidence import finite


@dataclass(frozen=True)
class Options:
    max_scale: float = 1.0


@dataclass
class _Init:
    call: cst.Call
    scope: Scope
    layer: cst.BaseExpression  # `m` in `m.weight`
    constant: Optional[float] = None  # zeros_/ones_/constant_/fill_
    scale: Optional[float] = None  # std of normal_, bound of uniform_


def _init_call(call: cst.Call, mod: ModuleFacts) -> Optional[Tuple[str, bool, Optional[cst.BaseExpression]]]:
    """(the initialiser's name without its trailing `_`, whether it is `torch.nn.init`'s
    function rather than the tensor's method, the tensor it writes with `.data` left out) of
    `nn.init.normal_(w, ...)` or `w.data.normal_(...)`."""
    qual = mod.qualify(call.func)
    tensor: Optional[cst.BaseExpression]
    if qual is not None and qual.startswith("torch.nn.init."):
        name, functional, tensor = qual.rsplit(".", 1)[-1], True, C.arg(call, 0, "tensor")
    elif qual is None and isinstance(call.func, cst.Attribute):
        name, functional, tensor = call.func.attr.value, False, call.func.value
    else:
        return None
    if isinstance(tensor, cst.Attribute) and tensor.attr.value == "data":
        tensor = tensor.value
    return name.rstrip("_"), functional, tensor


# Every keyword of the initialisers read here (`nn.init.*_` and the in-place tensor methods).
_INIT_KEYWORDS = frozenset({"tensor", "val", "value", "mean", "std", "a", "b", "from", "to", "generator"})


def _init_of(call: cst.Call, scope: Scope) -> Optional[_Init]:
    """An initialiser applied to a `.weight`, with the constant or the scale it uses."""
    found = _init_call(call, scope.module)
    if found is None:
        return None
    fn, functional, target = found
    if any(a.keyword is not None and a.keyword.value not in _INIT_KEYWORDS for a in call.args):
        return None  # `normal_(w, stddev=0.01)`: a keyword torch does not take (a TypeError, not std 1)
    constant: Optional[float] = None
    scale: Optional[float] = None
    if functional:
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
    elif fn == "zero" and not call.args:
        constant = 0.0
    elif fn == "fill":
        constant = _literal(C.arg(call, 0, "value"))
    elif fn == "normal":
        scale = _literal(C.arg(call, 1, "std"), default=1.0)
    elif fn == "uniform":
        scale = _bound(C.arg(call, 0, "from"), C.arg(call, 1, "to"))
    if constant is None and scale is None or target is None:
        return None
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


def _only_linear_is_the_head(init: _Init, types: Set[str], ctx: RuleContext) -> bool:
    """A loop over the model's own modules zeroes `nn.Linear` weights, and the model has one
    `nn.Linear`, its classifier (a Wide ResNet's `fc` after the convolutions): that zeroes the
    output layer, whose units still get different gradients from the loss."""
    if types != {"Linear"}:
        return False
    cls = enclosing_class(init.scope)
    if cls is None or not M.is_module_class(cls, ctx.project):
        return False
    if init.scope.module.text.count("Linear(") != 1:
        return False  # (the file builds other linear layers: submodules out of the walk's sight)
    layers = list(M.class_facts(cls, ctx.project).walk())
    if any(layer.dynamic and "Linear" in layer.text() for layer in layers):
        return False  # (`*[nn.Linear(d, d) for _ in range(n)]`: how many is not known)
    return sum(layer.type_name == "Linear" for layer in layers) == 1


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


_RANDOM_INITS = {
    "normal",
    "trunc_normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "orthogonal",
}


def _random_init_before(init: _Init) -> Optional[cst.Call]:
    """A random init of the same `.weight` earlier in the same block, that the constant then
    overwrites: `normal_(fc.weight, std=0.01)` followed by `constant_(fc.weight, 0)`, where the
    constant was meant for the bias (a zero-initialised head is a recipe; a dead init is not)."""
    scope, mod = init.scope, init.scope.module
    idx = SC.scope_index(scope)
    block = idx.around.get(id(init.call))
    target = FL.snippet(mod, init.layer)
    for call in scope.calls:
        if call is init.call or not SC.follows(scope, call, init.call) or idx.around.get(id(call)) != block:
            continue
        found = _init_call(call, mod)
        if found is None:
            continue
        fn, _, tensor = found
        if (
            fn in _RANDOM_INITS
            and isinstance(tensor, cst.Attribute)
            and tensor.attr.value == "weight"
            and FL.snippet(mod, tensor.value) == target
        ):
            return call
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


def bad_weight_init(ctx: RuleContext) -> Iterator[Finding]:
    max_scale = float(ctx.options.get("max_scale", 1.0))
    mod = ctx.module
    # (a test helper's constant weights give known outputs: `testing/` packages too, however deep
    # their helpers sit, `captum/testing/helpers/influence/common.py`)
    in_testing = "testing" in mod.path.replace("\\", "/").split("/")[:-1]
    for scope in mod.scopes:
        if in_testing or is_test_code(scope):
            continue
        for call in scope.calls:
            init = _init_of(call, scope)
            if init is None:
                continue
            types, many = _weight_layer_types(init, ctx)
            if not types or not types <= M.WEIGHT_LAYERS:
                continue  # norm layers, embeddings, unknown tensors: not judged
            kinds = "/".join(f"`{t}`" for t in sorted(types))
            text = FL.snippet(mod, call)
            overwritten = _random_init_before(init) if init.constant is not None else None
            if init.constant is not None:
                if (
                    init.constant == 0
                    and (not many or _selected_by_name(init, ctx) or _only_linear_is_the_head(init, types, ctx))
                    and overwritten is None
                ):
                    continue  # zero-initialising one chosen layer (an output or residual branch) is a known recipe
                if overwritten is not None:
                    weight = FL.snippet(mod, init.layer)
                    message = (
                        f"`{text}` overwrites the random init `{FL.snippet(mod, overwritten)}` just before it: that "
                        f"init does nothing, and every weight of the {kinds} layer starts at {init.constant:g}. The "
                        f"constant was probably meant for the bias: write it to `{weight}.bias` (or delete it)."
                    )
                else:
                    extra = (
                        " With zero weights no signal or gradient passes through at all." if init.constant == 0 else ""
                    )
                    message = (
                        f"`{text}` sets every weight of the {kinds} layer{'s' if many else ''} to the same value "
                        f"({init.constant:g}): all units of a layer then compute the same output and get the same "
                        f"gradient, so they stay identical and the layer acts like a single unit.{extra} Keep the "
                        "default init or use `nn.init.kaiming_normal_`/`nn.init.xavier_uniform_` for weights "
                        "(constants are fine for biases and normalisation layers)."
                    )
            else:
                assert init.scale is not None
                if init.scale < max_scale or _rescaled_when_run(ctx, init):
                    continue
                message = (
                    f"`{text}` draws {kinds} weights at scale {init.scale:g}: each layer then multiplies the "
                    "activation variance by about fan_in x scale², so activations and gradients explode (or "
                    "saturate tanh/sigmoid) with depth. Use `nn.init.kaiming_normal_`/`nn.init.xavier_normal_` "
                    "(std about 1/sqrt(fan_in)) or keep the default init."
                )
            related: List[Tuple[ModuleFacts, cst.CSTNode, str]] = (
                [(mod, overwritten, "the random init it overwrites")] if overwritten is not None else []
            )
            yield Finding("TL401", mod, call, message, related=related)


def _rescaled_when_run(ctx: RuleContext, init: _Init) -> bool:
    """`conv.weight.data.normal_()`, then `self.conv = equal_lr(conv)`: the layer is handed to a
    project function that registers a forward pre-hook (StyleGAN's equalised learning rate
    multiplies the unit-variance weights by sqrt(2 / fan_in) at every call)."""
    layer = init.layer
    if not isinstance(layer, cst.Name):
        return False
    for call in init.scope.calls:
        if not any(isinstance(a.value, cst.Name) and a.value.value == layer.value for a in call.args):
            continue
        callee = ctx.project.resolve_callee(call.func, init.scope)
        if isinstance(callee, Scope) and _registers_a_pre_hook(ctx, callee, 0):
            return True
    return False


def _registers_a_pre_hook(ctx: RuleContext, fn: Scope, depth: int) -> bool:
    for call in fn.calls:
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in _REPARAMETRISING:
            return True
        if depth < 2:
            target = ctx.project.resolve_callee(call.func, fn)
            if isinstance(target, Scope) and target is not fn and _registers_a_pre_hook(ctx, target, depth + 1):
                return True
    return False


_REPARAMETRISING = frozenset({"register_forward_pre_hook", "register_parametrization"})


def verdict_tl401(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    first = [s for s in c.ev.steps if s.opt_step == 1]
    if not first:
        return None
    layers = [x for s in first for x in weighted_layers(c, s)]
    init = [x for x in layers if x[3].init_std is not None]
    if not init:
        return None
    for _, name, reg, entry in init:
        if entry.init_range == 0.0:
            same = " and its gradient rows were identical" if entry.rows_same == 1.0 else ""
            return confirmed(
                observed=f"`{name}` started with every entry equal{same}, so its units cannot differ",
                expected="random init (kaiming/xavier or the layer default)",
                parameter=name,
                where=c.where(reg.site),
            )
        if num(entry.init_std, 0.0) >= 1.0:
            return confirmed(
                observed=f"`{name}` started with std {fmt(entry.init_std)}",
                expected="std about 1/sqrt(fan_in)",
                parameter=name,
                where=c.where(reg.site),
            )
    stds = sorted(((r.order, r) for r in c.ev.act_std if finite(r.std)), key=lambda x: x[0])
    if len(stds) >= 2:
        a, b = stds[0][1], stds[-1][1]
        if num(a.std) > 0 and not (1e-2 <= num(b.std) / num(a.std) <= 1e2):
            return confirmed(
                observed=f"activation std went from {fmt(a.std)} (`{a.module}`) to {fmt(b.std)} "
                f"(`{b.module}`) through the network",
                expected="a roughly constant scale with depth",
            )
    extent = ""
    if len(stds) >= 2:
        extent = f"; activation std {fmt(stds[0][1].std)} -> {fmt(stds[-1][1].std)} from first to last layer"
    return refuted(observed=f"all {len(init)} weight matrices started non-constant with std below 1{extent}")


RULE = Rule(
    code="TL401",
    name="bad-weight-init",
    family="model",
    severity=ERROR,
    summary="Weights initialised to a constant or at a far too large scale.",
    options=Options,
    check=bad_weight_init,
    verdict=verdict_tl401,
)
