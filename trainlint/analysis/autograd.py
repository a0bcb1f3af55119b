"""Does a value still hang on the autograd graph? `GraphEval` walks the definitions that
reach an expression (through helpers and call-site arguments) and answers CUT only on
positive evidence (`.item()`, `.detach()`, `.data`, `float()`, a fresh `torch.tensor(...)`)
with nothing graph-carrying mixed in; anything it cannot see counts as LIVE, so unknown code
never produces a finding. Also here: the `backward()` calls of a module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import derived as DV
from trainlint.analysis import gradmode as GM
from trainlint.analysis import kinds as K
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope, module_calls
from trainlint.analysis.names import dotted
from trainlint.analysis.project import Project
from trainlint.analysis.symbols import Resolver

# ------------------------------------------------------------------------------ graph state

CUT, NOGRAPH, LIVE = "cut", "nograph", "live"


@dataclass(frozen=True)
class GState:
    kind: str
    node: Optional[cst.CSTNode] = None  # where the value left the graph
    module: Optional[ModuleFacts] = None
    how: str = ""


# How a tensor rebuilt from graph values left the graph.
NEW_LEAF = "(a new leaf: the values, not their history)"
# How a value computed inside `torch.no_grad()` (or `inference_mode`) left the graph.
NO_GRAD_CUT = "`torch.no_grad()` (computed with gradients off)"
_LIVE = GState(LIVE)
_NOGRAPH = GState(NOGRAPH)
CUT_METHODS = {
    "item": "`.item()`",
    "tolist": "`.tolist()`",
    "detach": "`.detach()`",
    "detach_": "`.detach_()`",
    "numpy": "`.numpy()`",
}
_FRESH = {
    "torch.tensor",
    "torch.Tensor",
    "torch.FloatTensor",
    "torch.from_numpy",
    "torch.scalar_tensor",
    "torch.DoubleTensor",
}
# Constructors that copy their content into a new tensor (`torch.as_tensor` keeps a tensor
# argument as it is, with its graph).
_COPIES = {"torch.tensor", "torch.Tensor", "torch.FloatTensor", "torch.DoubleTensor"}
# Tensor methods whose result hangs on the graph through the receiver alone.
_SAME_GRAPH_METHODS = {"to", "cuda", "cpu", "float", "double", "half", "type", "view", "reshape", "contiguous"}
# What a tensor says about its shape or type: Python numbers and flags, never on a graph.
SHAPE_METHODS = {"size", "dim", "ndimension", "numel", "nelement", "element_size", "is_contiguous"}
SHAPE_ATTRS = {"shape", "ndim", "dtype", "device", "requires_grad", "is_leaf", "is_cuda"}
_ENGINE_NAMES = {"accelerator", "fabric", "engine", "model_engine", "deepspeed_engine", "trainer"}


def _combine(states: Sequence[GState]) -> GState:
    if not states:
        return _LIVE
    if any(s.kind == LIVE for s in states):
        return _LIVE
    cut = next((s for s in states if s.kind == CUT), None)
    return cut if cut is not None else _NOGRAPH


@dataclass(frozen=True)
class _CallFrame:
    callee: Scope
    call: cst.Call
    caller: Scope
    bound: bool


class GraphEval:
    """Whether an expression's value is cut from the autograd graph."""

    def __init__(self, project: Project, resolver: Resolver) -> None:
        self.project = project
        self.resolver = resolver
        self._budget = 0

    def state(self, expr: cst.BaseExpression, scope: Scope) -> GState:
        self._budget = 600
        return self._eval(expr, scope, (), 0, frozenset())

    def _eval(
        self, expr: cst.BaseExpression, scope: Scope, frames: Tuple[_CallFrame, ...], depth: int, seen: frozenset
    ) -> GState:
        self._budget -= 1
        key = (id(expr), id(scope))
        if depth > 24 or self._budget <= 0 or key in seen:
            return _LIVE
        seen = seen | {key}
        nxt = depth + 1
        if isinstance(
            expr, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)
        ):
            return _NOGRAPH
        if isinstance(expr, cst.Name):
            if expr.value in ("None", "True", "False"):
                return _NOGRAPH
            return self._name(expr, scope, frames, nxt, seen)
        if isinstance(expr, cst.Attribute):
            if expr.attr.value == "data" and not _is_self_attr(expr):
                recv = self._eval(expr.value, scope, frames, nxt, seen)
                return _NOGRAPH if recv.kind == NOGRAPH else GState(CUT, expr, scope.module, "`.data`")
            if expr.attr.value in SHAPE_ATTRS:
                return _NOGRAPH
            if _is_self_attr(expr):
                return _LIVE
            return self._eval(expr.value, scope, frames, nxt, seen)
        if isinstance(expr, cst.Subscript):
            return self._eval(expr.value, scope, frames, nxt, seen)
        if isinstance(expr, cst.BinaryOperation):
            return _combine(
                [self._eval(expr.left, scope, frames, nxt, seen), self._eval(expr.right, scope, frames, nxt, seen)]
            )
        if isinstance(expr, cst.UnaryOperation):
            return self._eval(expr.expression, scope, frames, nxt, seen)
        if isinstance(expr, cst.IfExp):
            arms = [self._eval(expr.body, scope, frames, nxt, seen), self._eval(expr.orelse, scope, frames, nxt, seen)]
            # (a new leaf made from the values on one arm cuts that path: nobody freezes that way)
            leaf = next((a for a in arms if a.kind == CUT and a.how.endswith(NEW_LEAF)), None)
            return leaf or _combine(arms)
        if isinstance(expr, cst.Call):
            return self._call(expr, scope, frames, nxt, seen)
        if isinstance(expr, (cst.Tuple, cst.List)) and expr.elements:
            # `(8,)` as a size: what its elements are (a starred element may be anything)
            if any(isinstance(e, cst.StarredElement) for e in expr.elements):
                return _LIVE
            return _combine([self._eval(e.value, scope, frames, nxt, seen) for e in expr.elements])
        return _LIVE

    def _call(
        self, call: cst.Call, scope: Scope, frames: Tuple[_CallFrame, ...], depth: int, seen: frozenset
    ) -> GState:
        mod = scope.module
        func = call.func
        qual = mod.qualify(func)
        args = [a.value for a in call.args if not a.star and a.keyword is None]
        requires_grad = D.is_true(C.arg(call, None, "requires_grad", skip_star=True))
        if qual in _FRESH or qual in ("torch.as_tensor", "torch.autograd.Variable", "torch.nn.Parameter"):
            # A new tensor holds the numbers, not the history: it is cut exactly when its
            # content already was (`torch.tensor(loss.item(), requires_grad=True)`).
            content = self._eval(args[0], scope, frames, depth, seen) if args else _NOGRAPH
            if content.kind == CUT:
                return content
            if (
                (qual == "torch.autograd.Variable" or (requires_grad and qual in _COPIES))
                and content.kind == LIVE
                and (self._computed(args[0], scope) or self._computed_tensors(args[0], scope, frames, depth, seen))
            ):
                # `Variable(loss, requires_grad=True)`: the legacy constructor makes a new leaf
                # from the values, whatever `requires_grad` says; so does `torch.tensor(losses,
                # requires_grad=True)`, the usual way to silence "does not require grad".
                return GState(CUT, call, mod, f"`{dotted(func) or qual}(...)` {NEW_LEAF}")
            if requires_grad or qual == "torch.nn.Parameter":
                return _LIVE
            if qual in _COPIES and args and self._computed_tensors(args[0], scope, frames, depth, seen):
                # `torch.tensor(losses)` over a list of graph tensors: a copy of their values.
                return GState(
                    CUT, call, mod, f"`{dotted(func) or qual}(...)` (a copy of the values, without their history)"
                )
            return content
        if isinstance(func, cst.Name):
            got = self._builtin_call(call, func, args, scope, frames, depth, seen)
            if got is not None:
                return got
        if isinstance(func, cst.Attribute):
            got = self._method_call(call, func, args, scope, frames, depth, seen)
            if got is not None:
                return got
        callee = self.project.resolve_callee(func, scope)
        if isinstance(callee, Scope):
            if any(f.callee is callee for f in frames):
                return _LIVE
            fr = _CallFrame(callee, call, scope, isinstance(func, cst.Attribute))
            rets = D.return_values(callee)
            return _combine([self._eval(r, callee, frames + (fr,), depth, seen) for r in rets])
        if isinstance(callee, ClassFacts):
            return _LIVE
        if qual is not None:
            if requires_grad:
                return _LIVE  # a new leaf that requires grad: a parameter
            if K.is_functional_loss(qual) or qual.startswith("torch."):
                return _combine([self._eval(a, scope, frames, depth, seen) for a in args])
            return _LIVE
        if isinstance(func, (cst.Name, cst.Attribute)):
            v = self.resolver.value_of(func, scope)
            if v is not None and v.kind == K.MODEL:
                return _LIVE
            if v is not None and v.kind == K.LOSS:
                return _combine([self._eval(a, scope, frames, depth, seen) for a in args])
        if isinstance(func, cst.Attribute):
            # A tensor method: the result hangs on the graph through its receiver and arguments.
            return _combine(
                [
                    self._eval(func.value, scope, frames, depth, seen),
                    *[self._eval(a, scope, frames, depth, seen) for a in args],
                ]
            )
        return _LIVE

    def _builtin_call(
        self,
        call: cst.Call,
        func: cst.Name,
        args: List[cst.BaseExpression],
        scope: Scope,
        frames: Tuple[_CallFrame, ...],
        depth: int,
        seen: frozenset,
    ) -> Optional[GState]:
        """`float(x)`, `int(x)`, `len(x)`, `sum(xs)`...; None for any other name."""
        if func.value in ("float", "int") and args:
            inner = self._eval(args[0], scope, frames, depth, seen)
            # A number made from a constant (`int(16 / 0.1)`) is no cut; one made from a tensor is.
            return _NOGRAPH if inner.kind == NOGRAPH else GState(CUT, call, scope.module, f"`{func.value}()`")
        if func.value in ("len", "range", "isinstance", "str", "enumerate"):
            return _NOGRAPH
        if func.value in ("sum", "max", "min", "abs") and args:
            return _combine([self._eval(a, scope, frames, depth, seen) for a in args])
        return None

    def _method_call(
        self,
        call: cst.Call,
        func: cst.Attribute,
        args: List[cst.BaseExpression],
        scope: Scope,
        frames: Tuple[_CallFrame, ...],
        depth: int,
        seen: frozenset,
    ) -> Optional[GState]:
        """Methods that cut the graph (`.item()`, `.detach()`...), `.requires_grad_()` and a
        scaler's `.scale(loss)`; None for any other method."""
        m = func.attr.value
        if m in SHAPE_METHODS:
            return _NOGRAPH
        if m in CUT_METHODS:
            recv = self._eval(func.value, scope, frames, depth, seen)
            return _NOGRAPH if recv.kind == NOGRAPH else GState(CUT, call, scope.module, CUT_METHODS[m])
        if m in _SAME_GRAPH_METHODS:
            # (`t.to(self.device)`: the arguments say where or how, they add no graph)
            return self._eval(func.value, scope, frames, depth, seen)
        if m == "requires_grad_":
            recv = self._eval(func.value, scope, frames, depth, seen)
            return recv if recv.kind == CUT else _LIVE
        if m == "scale" and args:
            recv_v = self.resolver.value_of(func.value, scope)
            if recv_v is not None and recv_v.kind == K.SCALER:
                return self._eval(args[0], scope, frames, depth, seen)
        return None

    def _name(
        self, expr: cst.Name, scope: Scope, frames: Tuple[_CallFrame, ...], depth: int, seen: frozenset
    ) -> GState:
        s: Optional[Scope] = scope
        use: cst.CSTNode = expr
        while s is not None:
            defs, open_before = D.scope_index(s).reaching(expr.value, use)
            states = [self._def(d, s, frames, depth, seen) for d in defs]
            if open_before:
                if expr.value in s.params:
                    states.append(self._param(expr.value, s, frames, depth, seen))
                elif not defs:
                    use = s.node
                    s = s.parent
                    continue
                else:
                    states.append(_LIVE)
            return _combine(states)
        return _LIVE  # a builtin, an import, a global we do not see

    def _def(self, d: D.Def, scope: Scope, frames: Tuple[_CallFrame, ...], depth: int, seen: frozenset) -> GState:
        if d.how == "for":
            it = d.value
            if isinstance(it, cst.Call) and isinstance(it.func, cst.Name):
                if it.func.value == "range" or (it.func.value == "enumerate" and d.path[:1] == (0,)):
                    return _NOGRAPH  # loop counters
            loaders = D.loader_origins(self.project, it, scope)
            return _NOGRAPH if loaders else _LIVE  # batches of data carry no graph
        if d.how == "with":
            return _LIVE
        value = d.value
        if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp, cst.GeneratorExp)):
            return _LIVE  # a container filled elsewhere
        if (
            d.how == "assign"
            and isinstance(value, (cst.Call, cst.BinaryOperation))
            and id(d.stmt) in GM.no_grad_nodes(scope.module)
        ):
            # Computed with gradients off: a result without history (a bare name or attribute
            # there is only another reference to a tensor that may still require grad).
            inner = self._eval(value, scope, frames, depth, seen)
            return inner if inner.kind != LIVE else GState(CUT, d.stmt, scope.module, NO_GRAD_CUT)
        if d.path:
            if isinstance(value, (cst.Tuple, cst.List)) and len(d.path) == 1 and d.path[0] < len(value.elements):
                return self._eval(value.elements[d.path[0]].value, scope, frames, depth, seen)
            if isinstance(value, cst.Call):
                callee = self.project.resolve_callee(value.func, scope)
                if not isinstance(callee, Scope):
                    callee = self.resolver.forward_of(value.func, scope)  # `out, ratio = model(x)`
                if isinstance(callee, Scope) and len(d.path) == 1:
                    fr = _CallFrame(callee, value, scope, isinstance(value.func, cst.Attribute))
                    states = []
                    for r in D.return_values(callee):
                        if isinstance(r, cst.Tuple) and d.path[0] < len(r.elements):
                            states.append(self._eval(r.elements[d.path[0]].value, callee, frames + (fr,), depth, seen))
                        else:
                            return _LIVE
                    return _combine(states)
            return _LIVE
        return self._eval(value, scope, frames, depth, seen)

    def _param(self, name: str, fn: Scope, frames: Tuple[_CallFrame, ...], depth: int, seen: frozenset) -> GState:
        if fn.params and fn.params[0] in ("self", "cls") and fn.cls is not None and name == fn.params[0]:
            return _LIVE
        for i in range(len(frames) - 1, -1, -1):
            fr = frames[i]
            if fr.callee is fn:
                arg = C.bind_default(fr.call, fn, name, fr.bound)
                if arg is None:
                    return _LIVE
                default = fn.param_nodes[fn.params.index(name)].default
                where = fn if arg is default else fr.caller
                return self._eval(arg, where, frames[:i], depth, seen)
        sites = self.project.callers(fn)
        if not sites:
            return _LIVE
        states = []
        for caller, call in sites[:8]:
            arg = C.bind_default(call, fn, name, isinstance(call.func, cst.Attribute))
            if arg is None:
                return _LIVE
            default = fn.param_nodes[fn.params.index(name)].default
            states.append(self._eval(arg, fn if arg is default else caller, (), depth, seen))
        return _combine(states)

    def _computed_tensors(
        self, expr: cst.BaseExpression, scope: Scope, frames: Tuple[_CallFrame, ...], depth: int, seen: frozenset
    ) -> bool:
        """A list whose elements are computed by torch (or by a loss or model of the project)
        from values that still carry the graph: `[a.mean(), b.mean()]`, or a name bound to
        `[]` in this function and filled with `.append(torch.mean(...))`."""
        elements: List[cst.BaseExpression] = []
        if isinstance(expr, (cst.List, cst.Tuple)):
            elements = [e.value for e in expr.elements if not isinstance(e, cst.StarredElement)]
        elif isinstance(expr, cst.ListComp):
            elements = [expr.elt]
        elif isinstance(expr, cst.Name):
            defs, open_before = D.scope_index(scope).reaching(expr.value, expr)
            if open_before or not defs or not all(isinstance(d.value, cst.List) and not d.path for d in defs):
                return False
            elements = [e.value for d in defs for e in d.value.elements if not isinstance(e, cst.StarredElement)]  # type: ignore[attr-defined]
            elements += [
                c.args[0].value
                for c in scope.calls
                if isinstance(c.func, cst.Attribute)
                and c.func.attr.value == "append"
                and isinstance(c.func.value, cst.Name)
                and c.func.value.value == expr.value
                and c.args
            ]
        return bool(elements) and all(
            self._tensor_op(e, scope) and self._eval(e, scope, frames, depth, seen).kind == LIVE for e in elements
        )

    def _computed(self, expr: cst.BaseExpression, scope: Scope, hops: int = 3) -> bool:
        """`expr` is a tensor this code computed with torch, a loss or a model (`model(x).loss /
        k`, through names assigned in this function), not data that arrived from elsewhere. A
        call of a function out of sight on such a tensor counts too (`loss_fn(model(x), y)`)."""
        if isinstance(expr, cst.Call):
            return self._tensor_op(expr, scope) or (
                hops > 0 and any(self._computed(a.value, scope, hops - 1) for a in expr.args if a.keyword is None)
            )
        if isinstance(expr, cst.Attribute):
            return isinstance(expr.value, cst.Call) and self._tensor_op(expr.value, scope)
        if isinstance(expr, cst.BinaryOperation):
            return self._computed(expr.left, scope, hops) or self._computed(expr.right, scope, hops)
        if isinstance(expr, cst.Name) and hops > 0:
            defs, open_before = D.scope_index(scope).reaching(expr.value, expr)
            return (
                bool(defs)
                and not open_before
                and all(d.how == "assign" and not d.path and self._computed(d.value, scope, hops - 1) for d in defs)
            )
        return False

    def _tensor_op(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """A call whose result is a tensor computed by torch, a torch loss or a model."""
        if not isinstance(expr, cst.Call):
            return False
        qual = scope.module.qualify(expr.func)
        if qual is not None and qual.startswith("torch.") and qual not in _FRESH and qual not in _COPIES:
            return True
        if isinstance(expr.func, (cst.Name, cst.Attribute)):
            v = self.resolver.value_of(expr.func, scope)
            return v is not None and v.kind in (K.LOSS, K.MODEL)
        return False


def _is_self_attr(expr: cst.BaseExpression) -> bool:
    d = dotted(expr)
    return d is not None and d.startswith("self.") and d.count(".") == 1


# ------------------------------------------------------------------------------ shared facts


@dataclass(frozen=True)
class Backward:
    node: cst.Call
    arg: cst.BaseExpression
    scope: Scope


def backward_calls(module: ModuleFacts) -> List[Backward]:
    """Every `x.backward()` / `engine.backward(x)` / `torch.autograd.backward(x)` of a module."""

    def pick(call: cst.Call, scope: Scope) -> Optional[Backward]:
        arg = _backward_arg(call, module)
        return Backward(call, arg, scope) if arg is not None else None

    return module_calls(module, backward_calls, pick)


def _backward_arg(call: cst.Call, module: ModuleFacts) -> Optional[cst.BaseExpression]:
    func = call.func
    if module.qualify(func) == "torch.autograd.backward":
        return call.args[0].value if call.args else None
    if not isinstance(func, cst.Attribute):
        return None
    name = func.attr.value
    if name == "manual_backward":
        return call.args[0].value if call.args else None
    if name != "backward":
        return None
    recv = func.value
    recv_name = (dotted(recv) or "").rsplit(".", 1)[-1].lower()
    if recv_name in _ENGINE_NAMES or recv_name.endswith("accelerator"):
        return call.args[0].value if call.args else None
    if (
        isinstance(recv, cst.Call)
        and isinstance(recv.func, cst.Attribute)
        and recv.func.attr.value == "scale"
        and recv.args
    ):
        return recv.args[0].value  # scaler.scale(loss).backward()
    return recv


def evaluator(project: Project, resolver: Resolver) -> GraphEval:
    """The run's evaluator (kept on the project: its memo follows the project's trees)."""
    ev = project.once(evaluator, lambda: GraphEval(project, resolver))
    return ev if ev.resolver is resolver else GraphEval(project, resolver)


def input_gradients_only(scope: Scope) -> bool:
    """The function differentiates its loss with respect to data, not to trained weights: it
    calls `torch.autograd.grad(cost, inputs)` on something other than parameters and never
    steps an optimizer or calls `backward()` (an adversarial attack, a saliency map): its
    "loss" is an objective over inputs, not a training loss."""
    asked = False
    for call in scope.calls:
        f = call.func
        if isinstance(f, cst.Attribute) and f.attr.value in ("step", "backward"):
            return False
        if scope.module.qualify(f) == "torch.autograd.grad":
            wrt = C.arg(call, 1, "inputs")
            if wrt is None or "param" in scope.module.tree.code_for_node(wrt):
                return False
            asked = True
    return asked


def backward_for_inputs(scope: Scope) -> bool:
    """The function backpropagates to get the gradient of a tensor it made to require one
    (`inputs = Variable(img, requires_grad=True)`, then `loss.backward()` and `inputs.grad`),
    and steps nothing: an adversarial example or a saliency map, not a training step."""
    if any(isinstance(c.func, cst.Attribute) and c.func.attr.value == "step" for c in scope.calls):
        return False
    read = {
        n.value.value
        for n in DV.own_nodes(scope.node)
        if isinstance(n, cst.Attribute) and n.attr.value == "grad" and isinstance(n.value, cst.Name)
    }
    if not read:
        return False
    return all(
        any(
            isinstance(b.value, cst.Call) and D.is_true(C.arg(b.value, None, "requires_grad"))
            for b in scope.bindings.get(name, [])
        )
        for name in read
    )
