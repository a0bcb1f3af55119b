"""TL606 activation-derivative-of-activated-value: a hand-written sigmoid/tanh derivative is
taken of the wrong value (the activation applied twice, or the output form on the pre-activation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import Binding, ClassFacts, ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.project import enclosing_class
from trainlint.analysis.scopes import Def
from trainlint.fixes.core import parent_of
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.graph.common import compact_code

SIGMOID, TANH = "sigmoid", "tanh"
PRE, POST = "pre", "post"  # what a derivative expects: the pre-activation z, or the output a

# Library activations, by qualified name.
_LIBRARY = {
    "scipy.special.expit": SIGMOID,
    "torch.sigmoid": SIGMOID,
    "torch.special.expit": SIGMOID,
    "torch.nn.functional.sigmoid": SIGMOID,
    "numpy.tanh": TANH,
    "torch.tanh": TANH,
    "torch.nn.functional.tanh": TANH,
    "math.tanh": TANH,
}
_EXP = {"numpy.exp", "math.exp", "torch.exp"}
_SQUARE = {"numpy.square", "torch.square"}
_POWER = {"numpy.power", "torch.pow"}
_MULTIPLY = {"numpy.multiply", "torch.mul"}
_CLIP = {"numpy.clip", "torch.clamp", "torch.clip"}
# `self.a = np.zeros(...)` in `__init__`: a placeholder the forward pass overwrites.
_PLACEHOLDERS = ("zeros", "ones", "empty", "zeros_like", "ones_like", "empty_like", "full", "array")
_CORRECT = {SIGMOID: "{a} * (1 - {a})", TANH: "1 - {a} ** 2"}
# What the output form gives on a pre-activation z.
_NEGATIVE = {SIGMOID: "negative wherever z < 0 or z > 1", TANH: "negative wherever |z| > 1"}
# What the derivative taken at the activation's output looks like (outputs lie in (0, 1) / (-1, 1)).
_DOUBLED = {
    SIGMOID: "it stays between 0.20 and 0.25 whatever z is, so saturated units never stop learning",
    TANH: "it never falls below 0.42, so saturated units never stop learning",
}


@dataclass(frozen=True)
class _Act:
    """An activation applied to `arg` (a call or the inline `1 / (1 + exp(-x))`)."""

    kind: str
    arg: cst.BaseExpression
    node: cst.BaseExpression


@dataclass(frozen=True)
class _State:
    """What a value is: an activation's output (POST) or the pre-activation fed to one (PRE)."""

    state: str
    kind: str
    where: cst.CSTNode  # the activation that made or consumed it
    module: ModuleFacts


# An expression of a scope whose activation calls are not uses of the value (see `_fed_to`).
_Skip = Optional[Tuple[Scope, cst.CSTNode]]


def _positional(call: cst.Call) -> Optional[cst.BaseExpression]:
    """The one argument of a one-argument call."""
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    return call.args[0].value


def _negated(expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """`x` of `-x` or `-1 * x`."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return expr.expression
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply) and D.number(expr.left) == -1:
        return expr.right
    return None


def _inline_sigmoid(expr: cst.BaseExpression, mod: ModuleFacts) -> Optional[cst.BaseExpression]:
    """`x` of `1 / (1 + exp(-x))` (also `(1 + exp(-x)) ** -1`)."""
    if not isinstance(expr, cst.BinaryOperation):
        return None
    if isinstance(expr.operator, cst.Divide) and D.number(expr.left) == 1:
        denom = expr.right
    elif isinstance(expr.operator, cst.Power) and D.number(expr.right) == -1:
        denom = expr.left
    else:
        return None
    if not isinstance(denom, cst.BinaryOperation) or not isinstance(denom.operator, cst.Add):
        return None
    for one, e in ((denom.left, denom.right), (denom.right, denom.left)):
        if D.number(one) == 1 and isinstance(e, cst.Call) and mod.qualify(e.func) in _EXP:
            inner = _positional(e)
            return _negated(inner) if inner is not None else None
    return None


class _Reader:
    """Recognises activations, derivative functions and the state of values, for one run."""

    def __init__(self, ctx: RuleContext) -> None:
        self.project = ctx.project
        self._fn_act: Dict[int, Optional[str]] = {}
        self._fn_deriv: Dict[int, Optional[Tuple[str, str]]] = {}

    # activations -----------------------------------------------------------------------

    def activation(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> Optional[_Act]:
        mod = scope.module
        inline = _inline_sigmoid(expr, mod)
        if inline is not None:
            return _Act(SIGMOID, inline, expr)
        if not isinstance(expr, cst.Call):
            return None
        arg = _positional(expr)
        if arg is None:
            return None
        kind = _LIBRARY.get(mod.qualify(expr.func) or "")
        if kind is None and depth == 0:
            fn = self.project.resolve_callee(expr.func, scope)
            if isinstance(fn, Scope):
                kind = self.function_activation(fn)
        return _Act(kind, arg, expr) if kind is not None else None

    def function_activation(self, fn: Scope) -> Optional[str]:
        """A project function whose body is `return <activation of its parameter>`."""
        if id(fn) not in self._fn_act:
            self._fn_act[id(fn)] = self._function_activation(fn)
        return self._fn_act[id(fn)]

    def _function_activation(self, fn: Scope) -> Optional[str]:
        body = _simple_body(fn)
        param = _single_param(fn)
        if body is None or param is None:
            return None
        ret = body[-1]
        expr = _local_value(fn, ret, ret.value) if isinstance(ret, cst.Return) and ret.value is not None else None
        act = self.activation(expr, fn, depth=1) if expr is not None else None
        if act is None or not _is_param(fn, act.arg, param, act.node):
            return None
        return act.kind

    # derivative functions --------------------------------------------------------------

    def derivative(self, fn: Scope) -> Optional[Tuple[str, str]]:
        """(activation kind, PRE or POST) for a project function that returns an activation's
        derivative of its parameter: `s * (1 - s)` with `s = sigmoid(x)` expects the
        pre-activation, `y * (1 - y)` the output (`1 - tanh(x) ** 2` / `1 - y ** 2` for tanh)."""
        if id(fn) not in self._fn_deriv:
            self._fn_deriv[id(fn)] = self._derivative(fn)
        return self._fn_deriv[id(fn)]

    def _derivative(self, fn: Scope) -> Optional[Tuple[str, str]]:
        body = _simple_body(fn)
        param = _single_param(fn)
        if body is None or param is None or self.function_activation(fn) is not None:
            return None
        ret = body[-1]
        if not isinstance(ret, cst.Return) or ret.value is None:
            return None
        value = _local_value(fn, ret, ret.value)

        def post_leaf(e: cst.BaseExpression) -> Optional[str]:
            return "param" if _is_param(fn, e, param, ret) else None

        def pre_leaf(e: cst.BaseExpression) -> Optional[str]:
            act = self.activation(_local_value(fn, ret, e), fn)
            return act.kind if act is not None and _is_param(fn, act.arg, param, ret) else None

        for kind, leaf in ((SIGMOID, pre_leaf), (TANH, pre_leaf)):
            found = _derivative_form(value, fn.module, leaf, kind)
            if found == kind:
                return kind, PRE
        for kind in (SIGMOID, TANH):
            if _derivative_form(value, fn.module, post_leaf, kind) == "param":
                return kind, POST
        return None

    # values ----------------------------------------------------------------------------

    def state(self, expr: cst.BaseExpression, scope: Scope, within: Optional[cst.CSTNode] = None) -> Optional[_State]:
        """Whether `expr` (a local name or `self.attr`) holds an activation's output or the
        pre-activation fed to one; None when unknown, or both (the activation applied twice).
        Activations inside `within` (the derivative being judged) do not count as a use."""
        skip = (scope, within) if within is not None else None
        if isinstance(expr, cst.Name):
            return self._name_state(expr, scope, skip)
        key = dotted(expr)
        if key is not None and key.startswith("self.") and key.count(".") == 1:
            if key in D.scope_index(scope).defs:
                return self._name_state(expr, scope, skip)
            cls = enclosing_class(scope)
            return self._attr_state(cls, key, skip) if cls is not None else None
        return None

    def _name_state(self, expr: cst.BaseExpression, scope: Scope, skip: _Skip) -> Optional[_State]:
        key = dotted(expr)
        assert key is not None
        idx = D.scope_index(scope)
        defs, open_before = idx.reaching(key, expr)
        if open_before or len(defs) != 1 or defs[0].how != "assign" or defs[0].path:
            return None
        d = defs[0]
        made = self.activation(d.value, scope)
        fed = self._fed_to(scope, key, lambda use: _only_def(idx.reaching(key, use), d), skip)
        return _one_state(made, fed, scope.module)

    def _attr_state(self, cls: ClassFacts, key: str, skip: _Skip) -> Optional[_State]:
        binds = [b for b in cls.attrs.get(key, []) if not _placeholder(b)]
        if not binds or any(b.index is not None or b.how != "assign" for b in binds):
            return None
        acts = [self.activation(b.value, b.scope) for b in binds]
        made: Optional[_Act] = None
        if all(a is not None for a in acts):
            kinds = {a.kind for a in acts if a is not None}
            made = acts[0] if len(kinds) == 1 else None
            if made is None:
                return None
        elif any(a is not None for a in acts):
            return None  # sometimes an activation output, sometimes not
        fed: Optional[Tuple[_Act, Scope]] = None
        for method in cls.methods.values():
            fed = fed or self._fed_to(method, key, lambda use: True, skip)
        module = binds[0].scope.module
        return _one_state(made, fed, module)

    def _fed_to(
        self, scope: Scope, key: str, same: Callable[[cst.CSTNode], bool], skip: _Skip
    ) -> Optional[Tuple[_Act, Scope]]:
        """An activation call of `scope` applied to `key` holding the same value (those inside
        `skip`, the derivative being judged, left out)."""
        for call in scope.calls:
            if skip is not None and scope is skip[0] and SC.inside(scope, skip[1], call):
                continue
            act = self.activation(call, scope)
            if act is not None and dotted(act.arg) == key and same(act.arg):
                return act, scope
        return None


def _only_def(found: Tuple[List[Def], bool], d: Def) -> bool:
    defs, open_before = found
    return not open_before and len(defs) == 1 and defs[0].stmt is d.stmt and defs[0].path == d.path


def _one_state(made: Optional[_Act], fed: Optional[Tuple[_Act, Scope]], module: ModuleFacts) -> Optional[_State]:
    if made is not None and fed is not None:
        return None  # an output fed to an activation again: on purpose, or another bug
    if made is not None:
        return _State(POST, made.kind, made.node, module)
    if fed is not None:
        return _State(PRE, fed[0].kind, fed[0].node, fed[1].module)
    return None


def _placeholder(b: Binding) -> bool:
    """`self.out = None` / `np.zeros(...)` in `__init__`, overwritten by the forward pass."""
    if b.scope.simple_name != "__init__":
        return False
    v = b.value
    if (isinstance(v, cst.Name) and v.value == "None") or D.number(v) is not None:
        return True
    if isinstance(v, (cst.List, cst.Tuple)) and not v.elements:
        return True
    if isinstance(v, cst.Call):
        q = b.scope.module.qualify(v.func) or ""
        return q.startswith(("numpy.", "torch.")) and q.rsplit(".", 1)[-1] in _PLACEHOLDERS
    return False


def _simple_body(fn: Scope) -> Optional[List[cst.BaseSmallStatement]]:
    """The small statements of a function made of simple lines only (a docstring skipped)."""
    if not isinstance(fn.node, cst.FunctionDef):
        return None
    out: List[cst.BaseSmallStatement] = []
    for line in fn.body:
        if not isinstance(line, cst.SimpleStatementLine):
            return None
        for s in line.body:
            if isinstance(s, cst.Expr) and isinstance(s.value, (cst.SimpleString, cst.ConcatenatedString)):
                continue
            if not isinstance(s, (cst.Assign, cst.Return)):
                return None
            out.append(s)
    return out or None


def _single_param(fn: Scope) -> Optional[str]:
    params = fn.params[1:] if C.is_method(fn) and "staticmethod" not in fn.decorators else fn.params
    return params[0] if len(params) == 1 else None


def _local_value(fn: Scope, at: cst.CSTNode, expr: cst.BaseExpression) -> cst.BaseExpression:
    """A local name's one assigned value (`s = sigmoid(x)`; `return s * (1 - s)`)."""
    if isinstance(expr, cst.Name):
        defs, open_before = D.scope_index(fn).reaching(expr.value, at)
        if len(defs) == 1 and not open_before and defs[0].how == "assign" and not defs[0].path:
            return defs[0].value
    return expr


def _is_param(fn: Scope, expr: cst.BaseExpression, param: str, at: cst.CSTNode) -> bool:
    """`expr` is the parameter, possibly clipped first (`x = np.clip(x, -500, 500)`)."""
    if not isinstance(expr, cst.Name) or expr.value != param:
        return False
    defs, _ = D.scope_index(fn).reaching(param, at)
    for d in defs:
        v = d.value
        if not (
            isinstance(v, cst.Call)
            and fn.module.qualify(v.func) in _CLIP
            and v.args
            and isinstance(v.args[0].value, cst.Name)
            and v.args[0].value.value == param
        ):
            return False
    return True


def _derivative_form(
    expr: cst.BaseExpression, mod: ModuleFacts, leaf: Callable[[cst.BaseExpression], Optional[str]], kind: str
) -> Optional[str]:
    """The leaf's answer when `expr` is `L * (1 - L)` (kind sigmoid) or `1 - L ** 2` (tanh)."""
    if kind == SIGMOID:
        factors = _factors(expr, mod)
        for b in factors:
            rest = _one_minus(b)
            if rest is not None and any(a is not b and _same(a, rest, mod) for a in factors):
                return leaf(rest)
        return None
    rest = _one_minus(expr)
    base = _square_of(rest, mod) if rest is not None else None
    return leaf(base) if base is not None else None


def _factors(expr: cst.BaseExpression, mod: ModuleFacts) -> List[cst.BaseExpression]:
    """The factors of a product (`g * s * (1 - s)`, `np.multiply(s, 1 - s)`); [] for no product."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
        parts = [expr.left, expr.right]
    elif isinstance(expr, cst.Call) and mod.qualify(expr.func) in _MULTIPLY and len(expr.args) == 2:
        parts = [expr.args[0].value, expr.args[1].value]
    else:
        return []
    out: List[cst.BaseExpression] = []
    for p in parts:
        out.extend(_factors(p, mod) or [p])
    return out


def _one_minus(expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Subtract) and D.number(expr.left) == 1:
        return expr.right
    return None


def _square_of(expr: cst.BaseExpression, mod: ModuleFacts) -> Optional[cst.BaseExpression]:
    if isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, cst.Power) and D.number(expr.right) == 2:
            return expr.left
        if isinstance(expr.operator, cst.Multiply) and _same(expr.left, expr.right, mod):
            return expr.left
    if isinstance(expr, cst.Call):
        q = mod.qualify(expr.func)
        if q in _SQUARE and len(expr.args) == 1:
            return expr.args[0].value
        if q in _POWER and len(expr.args) == 2 and D.number(expr.args[1].value) == 2:
            return expr.args[0].value
    return None


def _same(a: cst.BaseExpression, b: cst.BaseExpression, mod: ModuleFacts) -> bool:
    return _bare_code(mod, a) == _bare_code(mod, b)


def _bare_code(mod: ModuleFacts, e: cst.BaseExpression) -> str:
    """The code of an expression without its outer parentheses."""
    if getattr(e, "lpar", None):
        e = e.with_changes(lpar=(), rpar=())
    return compact_code(mod, e)


def _assigned_to(mod: ModuleFacts, node: cst.CSTNode) -> Optional[str]:
    """`a1` when the activation is `a1 = sigmoid(z1)`: the output to pass instead."""
    parent = parent_of(mod, node)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = dotted(parent.targets[0].target)
        if target is not None:
            return target
    return None


def activation_derivative_of_activated_value(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    reader = _Reader(ctx)
    for scope in mod.scopes:
        seen: Set[int] = set()
        for call in scope.calls:
            found = _called_derivative(reader, ctx, scope, call) or _inline_derivative(reader, scope, call)
            if found is None or id(found.node) in seen:
                continue
            seen.add(id(found.node))
            yield found


def _called_derivative(reader: _Reader, ctx: RuleContext, scope: Scope, call: cst.Call) -> Optional[Finding]:
    fn = ctx.project.resolve_callee(call.func, scope)
    if not isinstance(fn, Scope):
        return None
    form = reader.derivative(fn)
    param = _single_param(fn)
    if form is None or param is None:
        return None
    kind, expects = form
    value = C.bind(call, fn, param, bound=isinstance(call.func, cst.Attribute))
    if value is None:
        return None
    state = reader.state(value, scope)
    if state is None or state.kind != kind or state.state == expects:
        return None
    mod = scope.module
    v = compact_code(mod, value)
    name = fn.simple_name
    where = compact_code(state.module, state.where)
    if expects == PRE:
        message = (
            f"`{v}` is already a {kind} output (`{v} = {where}`), and `{name}` applies {kind} to its "
            f"argument again before differentiating, so this computes the derivative at {kind}({kind}(z)), "
            f"not at z: the gradient is wrong ({_DOUBLED[kind]}). "
            f"Use the output form on the output, `{_CORRECT[kind].format(a=v)}`, or call `{name}` on the "
            f"pre-activation that was fed to {kind}."
        )
        related = [(state.module, state.where, f"`{v}` is this {kind} output")]
    else:
        target = _assigned_to(state.module, state.where)
        out = target if target is not None else f"{kind}({v})"
        message = (
            f"`{v}` is the pre-activation fed to {kind} (`{where}`), but `{name}` expects the {kind} "
            f"output: it computes `{_CORRECT[kind].format(a=param)}`, which is the derivative only when "
            f"`{param}` is already {kind}(z), so the gradient is wrong ({_NEGATIVE[kind]}). Pass the "
            f"activation output instead (`{name}({out})`), or use a derivative that "
            f"applies {kind} to the pre-activation, `s * (1 - s)` with `s = {kind}({v})`"
            + ("." if kind == SIGMOID else f" (for tanh, `1 - np.tanh({v}) ** 2`).")
        )
        related = [(state.module, state.where, f"`{v}` is fed to {kind} here")]
    related.append((fn.module, fn.node, f"`{name}` expects the {'pre-activation' if expects == PRE else 'output'}"))
    return Finding("TL606", mod, call, message, related=related)


def _inline_derivative(reader: _Reader, scope: Scope, call: cst.Call) -> Optional[Finding]:
    """`sigmoid(a) * (1 - sigmoid(a))` or `1 - np.tanh(a) ** 2` where `a` is already an output."""
    act = reader.activation(call, scope)
    if act is None:
        return None
    mod = scope.module
    arg_code = compact_code(mod, act.arg)

    def leaf(e: cst.BaseExpression) -> Optional[str]:
        a = reader.activation(e, scope)
        return a.kind if a is not None and compact_code(mod, a.arg) == arg_code else None

    node: Optional[cst.CSTNode] = call
    for _ in range(3):  # the call, its square or `1 - s`, the product or difference
        node = parent_of(mod, node) if node is not None else None
        if not isinstance(node, cst.BaseExpression) and not isinstance(node, cst.Arg):
            return None
        if isinstance(node, cst.BaseExpression) and _derivative_form(node, mod, leaf, act.kind) == act.kind:
            break
    else:
        return None
    assert isinstance(node, cst.BaseExpression)
    state = reader.state(act.arg, scope, within=node)
    if state is None or state.state != POST or state.kind != act.kind:
        return None
    v = arg_code
    where = compact_code(state.module, state.where)
    k = act.kind
    return Finding(
        "TL606",
        mod,
        node,
        f"`{v}` is already a {k} output (`{v} = {where}`): `{compact_code(mod, node)}` applies {k} to it a second "
        f"time, so this is the derivative at {k}({k}(z)), not at z: the gradient is wrong ({_DOUBLED[k]}). The "
        f"derivative from the output is `{_CORRECT[k].format(a=v)}`.",
        related=[(state.module, state.where, f"`{v}` is this {k} output")],
    )


RULE = Rule(
    code="TL606",
    name="activation-derivative-of-activated-value",
    family="graph",
    severity=ERROR,
    summary="A hand-written sigmoid/tanh derivative is taken of the wrong value (activation applied twice).",
    check=activation_derivative_of_activated_value,
    no_runtime_check="hand-written backpropagation runs outside autograd, where the tracer's hooks see nothing",
)
