"""TL6xx: the gradient path (detached losses, hand-written updates, losses kept with their graph).

Whether a value still hangs on the autograd graph is `analysis/autograd.py`'s answer; the
rules here only decide what to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis import scopes as SC
from trainlint.analysis.autograd import CUT, CUT_METHODS, LIVE, Backward, GraphEval, GState, backward_calls, evaluator
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.gradmode import no_grad_nodes, scope_disables_grad
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.names import dotted
from trainlint.analysis.purpose import not_training, training_loops
from trainlint.analysis.symbols import is_none
from trainlint.analysis.walk import children, walk
from trainlint.rules import Finding, RuleContext, rule


def _code(module: ModuleFacts, node: cst.CSTNode) -> str:
    return " ".join(module.tree.code_for_node(node).split())


def _evaluator(ctx: RuleContext) -> GraphEval:
    return evaluator(ctx.project, ctx.resolver)


# ------------------------------------------------------------------------------ TL601


@rule("TL601")
def detached_loss(ctx: RuleContext) -> Iterator[Finding]:
    ev = _evaluator(ctx)
    for b in backward_calls(ctx.module):
        if not_training(b.scope):
            continue
        st = ev.state(b.arg, b.scope)
        if st.kind != CUT or st.node is None or st.module is None:
            continue
        what = _code(ctx.module, b.arg)
        yield Finding(
            "TL601",
            ctx.module,
            b.node,
            f"`backward()` runs on `{what}`, which was cut from the autograd graph by {st.how}: "
            "no gradient reaches the model's parameters (or autograd raises because nothing requires "
            "grad), so the optimizer never changes them. Compute the loss directly from the model's "
            "output tensor and call `backward()` on that; keep `.item()`/`.detach()` for logging only.",
            related=[(st.module, st.node, "the value leaves the graph here")],
        )
    yield from _detached_terms(ctx)
    yield from _loss_returned_without_grad(ctx)


def _loss_returned_without_grad(ctx: RuleContext) -> Iterator[Finding]:
    """`forward`/`__call__` of a loss class returning a value computed under `no_grad`: whoever
    adds that loss gets no gradient from it."""
    off = no_grad_nodes(ctx.module)
    if not off:
        return
    for scope in ctx.module.scopes:
        parts = scope.name.split(".")
        if len(parts) < 2 or parts[-1] not in ("forward", "__call__") or not parts[-2].lower().endswith("loss"):
            continue
        if not_training(scope):
            continue
        for ret in walk(scope.node):
            if not isinstance(ret, cst.Return) or ret.value is None or id(ret) not in off:
                continue
            if isinstance(ret.value, (cst.BaseNumber, cst.BaseString)) or is_none(ret.value):
                continue
            if SC.order(scope, ret) is None:
                continue  # (a nested function's return)
            yield Finding(
                "TL601",
                ctx.module,
                ret,
                f"`{parts[-2]}.{parts[-1]}` returns a loss computed under `torch.no_grad()`: the value carries no "
                "autograd graph, so this loss sends no gradient to the model it should train (and `backward()` on it "
                "alone raises). Compute the loss outside `no_grad`; to keep a part frozen, call "
                "`requires_grad_(False)` on its parameters instead.",
            )
            break


def _detached_terms(ctx: RuleContext) -> Iterator[Finding]:
    """A term cut from the graph (`.detach()`, `.item()`) added into an otherwise live loss:
    the loss value includes it, its gradient does not."""
    ev = _evaluator(ctx)
    seen: Set[int] = set()
    for b in backward_calls(ctx.module):
        if not_training(b.scope) or ev.state(b.arg, b.scope).kind != LIVE:
            continue  # a whole cut loss is the finding above
        for total, scope in _sums_behind(b.arg, b.scope):
            terms = [t for t in _cut_terms(ev, total, scope) if id(t) not in seen]
            if not terms:
                continue
            seen.update(id(t) for t in terms)
            texts = ", ".join(f"`{_code(scope.module, t)}`" for t in terms)
            related = []
            for t in terms:
                where = _cut_point(ev, t, scope)
                related.append(
                    (where.module or scope.module, where.node or t, f"`{_code(scope.module, t)}` leaves the graph here")
                )
            yield Finding(
                "TL601",
                ctx.module,
                b.node,
                f"the loss adds {texts}, cut from the autograd graph (`.detach()`/`.item()`): "
                f"{'it changes' if len(terms) == 1 else 'they change'} the loss value but send{'s' if len(terms) == 1 else ''} "
                "no gradient, so whatever those terms should train does not learn from them. Remove the cut, "
                "or leave the term out of the loss if it is only for logging.",
                related=related,
            )


def _cut_terms(ev: GraphEval, total: cst.BinaryOperation, scope: Scope) -> List[cst.BaseExpression]:
    """The terms of a live sum that are cut from the graph, unless the sum also holds the live
    value they were cut from (`y + x - x.detach()`: a straight-through estimator, on purpose)."""
    terms = _terms(total)
    state = {id(t): ev.state(t, scope) for t in terms}
    cut = [t for t in terms if state[id(t)].kind == CUT or _cut_coefficient_product(ev, t, scope)]
    live = [t for t in terms if t not in cut and state[id(t)].kind == LIVE]
    if not live:
        return []
    out = []
    for term in cut:
        where = state[id(term)]
        node = where.node
        source = node.func.value if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) else None
        source_text = (
            _code(where.module, source)
            if source is not None and where.module is not None
            else _code(scope.module, term)
        )
        if not any(source_text in _code(scope.module, t) for t in live):
            out.append(term)
    return out


def _cut_point(ev: GraphEval, term: cst.BaseExpression, scope: Scope) -> GState:
    """Where a cut term leaves the graph (through `x.detach() * beta` to the `.detach()`)."""
    st = ev.state(term, scope)
    defined = _defined_as(term, scope)
    if st.kind != CUT and isinstance(defined, cst.BinaryOperation):
        for side in (defined.left, defined.right):
            inner = ev.state(side, scope)
            if inner.kind == CUT:
                return inner
    return st


def _sums_behind(expr: cst.BaseExpression, scope: Scope, hops: int = 0) -> Iterator[Tuple[cst.BinaryOperation, Scope]]:
    """The `a + b - c` sums a backward's argument may hold, through a few local names."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
        yield expr, scope
    elif isinstance(expr, cst.Name) and hops < 3:
        owner, found = SC.visible(scope, expr)
        for b in found:
            if owner is not None and b.how == "assign" and b.index is None:
                yield from _sums_behind(b.value, owner, hops + 1)


def _defined_as(expr: cst.BaseExpression, scope: Scope) -> cst.BaseExpression:
    """The one expression a local name is bound to (`at_loss = crit(a, b).detach() * beta`)."""
    if isinstance(expr, cst.Name):
        owner, found = SC.visible(scope, expr)
        if owner is scope and len(found) == 1 and found[0].how == "assign" and found[0].index is None:
            return found[0].value
    return expr


def _terms(expr: cst.BaseExpression) -> List[cst.BaseExpression]:
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
        return _terms(expr.left) + _terms(expr.right)
    return [expr]


def _cut_coefficient_product(ev: GraphEval, term: cst.BaseExpression, scope: Scope) -> bool:
    """`aux.detach() * beta`: a cut factor scaled by a plain coefficient (a name or a number)."""
    term = _defined_as(term, scope)
    if not (isinstance(term, cst.BinaryOperation) and isinstance(term.operator, (cst.Multiply, cst.Divide))):
        return False
    sides = [term.left, term.right]
    cut = [x for x in sides if isinstance(x, cst.Call) and ev.state(x, scope).kind == CUT]
    plain = [x for x in sides if isinstance(x, (cst.Name, cst.Attribute, cst.Integer, cst.Float))]
    return len(cut) == 1 and len(plain) == 1


# ------------------------------------------------------------------------------ manual updates


@dataclass
class _Update:
    event: Event
    loops: List[LoopFacts]


def _manual_updates(ctx: RuleContext) -> Dict[int, _Update]:
    """Every hand-written update reached from a loop of the project, with the loops it is in."""
    cached = ctx.project.__dict__.get("_tl_manual_updates")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out: Dict[int, _Update] = {}
    for m in ctx.project.modules:
        for lf in ctx.loops.loops_of(m):
            for e in lf.events:
                if e.kind == L.MANUAL_UPDATE and e.arg is not None:
                    u = out.setdefault(id(e.node), _Update(e, []))
                    u.loops.append(lf)
                    if e.no_grad and not u.event.no_grad:
                        u.event = e
    ctx.project.__dict__["_tl_manual_updates"] = out
    return out


def _grad_owners(node: cst.CSTNode, module: ModuleFacts) -> List[str]:
    """Source text of X for every `X.grad` read in an update."""
    values: Sequence[cst.CSTNode]
    if isinstance(node, (cst.Assign, cst.AugAssign)):
        values = [node.value]
    elif isinstance(node, cst.Call):
        values = [a.value for a in node.args]
    else:
        values = []
    return [
        _code(module, n.value)
        for v in values
        for n in walk(v)
        if isinstance(n, cst.Attribute) and n.attr.value == "grad"
    ]


def _is_data_or_grad(target: cst.BaseExpression) -> bool:
    node: cst.BaseExpression = target
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Attribute) and node.attr.value in ("data", "grad"):
            return True
        node = node.value
    return False


def _update_value(node: cst.CSTNode) -> Optional[cst.BaseExpression]:
    if isinstance(node, (cst.Assign, cst.AugAssign)):
        return node.value
    if isinstance(node, cst.Call) and node.args:
        return node.args[0].value
    return None


def _direction(node: cst.CSTNode) -> Optional[int]:
    """+1 when an update moves the target along its gradient (ascent), -1 against it."""
    if isinstance(node, cst.AugAssign):
        s = _grad_sign(node.value)
        if s is None:
            return None
        if isinstance(node.operator, cst.AddAssign):
            return s
        if isinstance(node.operator, cst.SubtractAssign):
            return -s
        return None
    if isinstance(node, cst.Assign):
        return _grad_sign(node.value)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.args:
        m = node.func.attr.value
        first = node.args[0]
        if first.keyword is not None:
            return None
        s = _grad_sign(first.value)
        if s is None:
            return None
        alpha = C.arg(node, 1, "alpha", skip_star=True)
        if alpha is not None:
            a = _sign_of(alpha)
            if a is None:
                return None
            s *= a
        if m == "add_":
            return s
        if m == "sub_":
            return -s
        if m == "copy_":
            return s
    return None


def _grad_sign(expr: cst.BaseExpression) -> Optional[int]:
    """Sign of the gradient's coefficient in `expr` (None: no single gradient term / unknown)."""
    if isinstance(expr, cst.Attribute):
        if expr.attr.value == "grad":
            return 1
        if expr.attr.value == "data" and _has_grad(expr.value):
            return _grad_sign(expr.value)
        return None if _has_grad(expr) else 0
    if not _has_grad(expr):
        return 0
    if isinstance(expr, cst.UnaryOperation):
        inner = _grad_sign(expr.expression)
        if inner is None:
            return None
        return (
            -inner if isinstance(expr.operator, cst.Minus) else inner if isinstance(expr.operator, cst.Plus) else None
        )
    if isinstance(expr, cst.BinaryOperation):
        left_g, right_g = _has_grad(expr.left), _has_grad(expr.right)
        if left_g and right_g:
            return None
        op = expr.operator
        if isinstance(op, cst.Add):
            return _grad_sign(expr.left if left_g else expr.right)
        if isinstance(op, cst.Subtract):
            s = _grad_sign(expr.left if left_g else expr.right)
            return None if s is None else (s if left_g else -s)
        if isinstance(op, (cst.Multiply, cst.Divide)):
            if isinstance(op, cst.Divide) and right_g:
                return None
            s = _grad_sign(expr.left if left_g else expr.right)
            other = _sign_of(expr.right if left_g else expr.left)
            return None if s is None or other is None else s * other
        return None
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and _has_grad(func.value) and not any(_has_grad(a.value) for a in expr.args):
            if func.attr.value in ("sign", "clamp", "clip", "detach", "clone", "float", "to", "mul", "div", "__mul__"):
                s = _grad_sign(func.value)
                if s is not None and func.attr.value in ("mul", "div") and expr.args:
                    o = _sign_of(expr.args[0].value)
                    return None if o is None else s * o
                return s
        if isinstance(func, cst.Attribute) and func.attr.value in ("sign", "clamp", "clip") and expr.args:
            return _grad_sign(expr.args[0].value)
        return None
    return None


def _sign_of(expr: cst.BaseExpression) -> Optional[int]:
    """Sign of a coefficient: literals by value, names (a learning rate) assumed positive."""
    n = D.number(expr)
    if n is not None:
        return 0 if n == 0 else (1 if n > 0 else -1)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = _sign_of(expr.expression)
        return None if inner is None else -inner
    if isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)):
        return 1
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Multiply, cst.Divide)):
        a, b = _sign_of(expr.left), _sign_of(expr.right)
        return None if a is None or b is None else a * b
    return None


def _has_grad(node: cst.CSTNode) -> bool:
    return any(isinstance(n, cst.Attribute) and n.attr.value == "grad" for n in walk(node))


def _under_no_grad(u: _Update) -> bool:
    e = u.event
    if e.no_grad:
        return True
    if id(e.node) in no_grad_nodes(e.module):
        return True
    for caller, call in e.via:
        if id(call) in no_grad_nodes(caller.module):
            return True
    return False


def _rebind_restores_leaf(e: Event, target: str) -> bool:
    """`w = (w - lr * w.grad).detach().requires_grad_()`, or `w.requires_grad_()` later."""
    value = _update_value(e.node)
    node = value
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value in ("detach", "detach_", "requires_grad_", "retain_grad"):
            return True
        node = node.func.value
    if isinstance(value, cst.Call):
        q = e.module.qualify(value.func) or ""
        if q.endswith(("Parameter", "Variable")):
            return True
    for call in e.scope.calls:
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in (
            "requires_grad_",
            "retain_grad",
            "detach_",
        ):
            if _code(e.module, call.func.value) == target:
                return True
    for d in D.scope_index(e.scope).defs.get(target, []):
        if d.stmt is not e.node and isinstance(d.value, cst.Call) and _rebind_call_restores(d.value, e.module):
            return True
    return False


def _rebind_call_restores(call: cst.Call, module: ModuleFacts) -> bool:
    node: cst.BaseExpression = call
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value in ("detach", "requires_grad_"):
            return True
        node = node.func.value
    q = module.qualify(call.func) or ""
    return q.endswith(("Parameter", "Variable"))


_NOT_A_LOSS = (
    "objective",
    "reward",
    "return",
    "likelihood",
    "elbo",
    "score",
    "gain",
    "utility",
    "advantage",
    "log_prob",
    "logp",
    "acc",
)
_LOSS_WORDS = ("loss", "cost", "err", "mse", "nll", "risk")


def _descends_a_loss(u: _Update) -> bool:
    """The loops around the update call backward() on what is plainly a loss (to minimise)."""
    names = []
    for lf in u.loops:
        for e in lf.events:
            if e.kind == L.BACKWARD and e.arg is not None:
                names.append(_code(e.module, e.arg).lower())
    if not names:
        return False
    if any(any(w in n for w in _NOT_A_LOSS) for n in names):
        return False
    return all(any(w in n for w in _LOSS_WORDS) for n in names)


def _fed_to_model(u: _Update, target: str) -> bool:
    """The updated tensor is a model input (an adversarial example), not a weight."""
    for lf in u.loops:
        for e in lf.events:
            if e.kind == L.FORWARD and isinstance(e.node, cst.Call):
                for a in e.node.args:
                    if _mentions_text(a.value, target, e.module):
                        return True
    return False


def _mentions_text(node: cst.CSTNode, text: str, module: ModuleFacts) -> bool:
    return any(isinstance(n, (cst.Name, cst.Attribute)) and _code(module, n) == text for n in walk(node))


@rule("TL602")
def manual_update_wrong(ctx: RuleContext) -> Iterator[Finding]:
    # Updates with the same problem in the same loop (`w` and `b` together) make one finding.
    groups: Dict[Tuple[str, Tuple[int, ...]], List[Tuple[Event, str]]] = {}
    for u in _manual_updates(ctx).values():
        e = u.event
        if e.module is not ctx.module or e.arg is None or _is_data_or_grad(e.arg):
            continue
        problem = _update_problem(u)
        if problem is None:
            continue
        loops = tuple(sorted(id(lf.node) for lf in u.loops))
        groups.setdefault((problem, loops), []).append((e, _code(e.module, e.arg)))
    for (problem, _), items in groups.items():
        e, target = items[0]
        others = [(o.module, o.node, f"`{t}` is updated the same way") for o, t in items[1:]]
        yield Finding(
            "TL602",
            e.module,
            e.node,
            _TL602_TEXT[problem].format(t=target),
            related=others,
            fix_builder=fixes.hook(fixes.fix_tl602, problem, [o for o, _ in items]),
        )


_TL602_TEXT = {
    "rebind": (
        "`{t} = ...{t}.grad...` rebinds `{t}` to a new tensor computed from the old one: the result is "
        "not a leaf (or, under `no_grad`, no longer requires grad), so the next `backward()` leaves "
        "`{t}.grad` as None and the real parameter stops training. Update in place under "
        "`torch.no_grad()`: `{t} -= lr * {t}.grad`."
    ),
    "ascent": (
        "this update moves `{t}` along its gradient (`+ lr * {t}.grad`), i.e. gradient ascent: every "
        "step increases the loss it just differentiated. Subtract the gradient: `{t} -= lr * {t}.grad`."
    ),
    "grad-enabled": (
        "`{t}` is updated in place while autograd is recording: a leaf that requires grad cannot be "
        "modified in place (PyTorch raises), and otherwise the update itself joins the graph. Wrap the "
        "update in `with torch.no_grad():`."
    ),
}


def _update_problem(u: _Update) -> Optional[str]:
    e = u.event
    assert e.arg is not None
    target = _code(e.module, e.arg)
    if target not in _grad_owners(e.node, e.module):
        return None  # updates another tensor (a momentum buffer...) from this gradient
    value = _update_value(e.node)
    if value is not None and _uses_sign(value):
        return None  # `x += eps * x.grad.sign()`: an adversarial step, ascent on purpose
    if isinstance(e.node, cst.Assign):
        return None if _rebind_restores_leaf(e, target) else "rebind"
    if _direction(e.node) == 1 and _descends_a_loss(u) and not _fed_to_model(u, target):
        return "ascent"
    if not _under_no_grad(u):
        return "grad-enabled"
    return None


def _uses_sign(value: cst.BaseExpression) -> bool:
    return any(isinstance(n, cst.Attribute) and n.attr.value == "sign" for n in walk(value))


@rule("TL603")
def manual_update_no_grad_reset(ctx: RuleContext) -> Iterator[Finding]:
    reported: Set[int] = set()
    for lf in training_loops(ctx.loops, ctx.module):
        updates = [e for e in lf.events if _in_place_update(e)]
        if not updates or not lf.has(L.BACKWARD):
            continue
        if lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.ZERO_GRAD):
            continue
        # The innermost loop that both differentiates and updates is the iteration.
        inner = {lid for e in lf.events for lid in e.loops}
        if any(_loop_has_both(lf, lid) for lid in inner):
            continue
        first = updates[0]
        if id(first.node) in reported or _resets_grad_otherwise(lf):
            continue
        reported.add(id(first.node))
        backward = lf.first(L.BACKWARD)
        target = _code(first.module, first.arg) if first.arg is not None else "the parameter"
        yield Finding(
            "TL603",
            first.module,
            first.node,
            f"this loop updates `{target}` by hand from `.grad` but never clears the gradients: "
            "`backward()` adds to `.grad`, so each step applies the sum of all gradients so far and the "
            f"updates grow until training diverges. After the update, reset them (`{target}.grad.zero_()` "
            f"or `{target}.grad = None`) under `torch.no_grad()`.",
            related=[(backward.module, backward.node, "the backward that accumulates into .grad")] if backward else [],
            fix_builder=fixes.hook(fixes.fix_tl603, first.module, first.node),
        )


# `w.grad = torch.zeros_like(w)`, `w.grad.fill_(0)`, `w.grad *= 0`, `w.grad[:] = 0`
_OTHER_RESETS = re.compile(
    r"\.grad(?:\.data)?\s*(?:\[[^\]]*\]\s*)?(?:=(?!=)|\*=\s*0\b)|\.grad(?:\.data)?\.(?:fill_|mul_)\(\s*0"
    # a helper of some library that clears them: `zero_grads(params)`, `reset_grad(model)`
    r"|\b\w*(?:zero_grads?|clear_grads?|reset_grads?|grads_to_zero)\w*\s*\("
)


def _resets_grad_otherwise(lf: LoopFacts) -> bool:
    """Gradient resets the loop events do not name, in the loop or the helpers it calls."""
    nodes: List[Tuple[ModuleFacts, cst.CSTNode]] = [(lf.scope.module, lf.node)]
    for e in lf.events:
        if e.via:
            nodes.append((e.module, e.scope.node))
    seen: Set[int] = set()
    for mod, node in nodes:
        if id(node) in seen:
            continue
        seen.add(id(node))
        if _OTHER_RESETS.search(mod.tree.code_for_node(node)):
            return True
    return False


def _in_place_update(e: Event) -> bool:
    if e.kind != L.MANUAL_UPDATE or e.arg is None:
        return False
    if isinstance(e.node, cst.Assign) and not _is_data_or_grad(e.arg):
        return False  # rebinding makes a new tensor (TL602), it does not accumulate
    if _is_grad_only(e.arg):
        return False
    # `p -= lr * p.grad`, `p.data.sub_(lr * p.grad)`; not `norm += (p.grad ** 2).sum()`
    return _code(e.module, _strip_data(e.arg)) in _grad_owners(e.node, e.module)


def _strip_data(target: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(target, cst.Attribute) and target.attr.value == "data":
        return target.value
    return target


def _is_grad_only(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Attribute) and target.attr.value == "grad"


def _loop_has_both(lf: LoopFacts, lid: int) -> bool:
    evs = [e for e in lf.events if lid in e.loops]
    return any(e.kind == L.BACKWARD for e in evs) and any(_in_place_update(e) for e in evs)


# ------------------------------------------------------------------------------ TL604


@rule("TL604")
def loss_accumulated_with_graph(ctx: RuleContext) -> Iterator[Finding]:
    # Only scopes that hold a training loop can accumulate a loss that carries a graph.
    training = {id(lf.scope) for lf in training_loops(ctx.loops, ctx.module) if lf.has(L.BACKWARD)}
    if not training:
        return
    no_grad = no_grad_nodes(ctx.module)
    for scope in ctx.module.scopes:
        if id(scope) not in training:
            continue
        idx = D.scope_index(scope)
        backwards = [b for b in backward_calls(ctx.module) if b.scope is scope]
        for node, acc, inc in _accumulations(scope, idx):
            pos = idx.position(node)
            if pos is None or id(node) in no_grad or scope_disables_grad(scope):
                continue
            if not acc.startswith("self.") and (
                not pos.loops or not _initialised_outside(idx, acc, pos.loops[-1], node)
            ):
                continue
            carrying = _graph_carrying(_names_in(inc), scope, idx, backwards, pos.loops, ctx, node)
            if not carrying or not _bare_ref(inc, carrying):
                continue  # `.item()`, `.detach()`, `float()`: no graph is kept
            if _backwarded(acc, scope, backwards, ctx):
                continue  # summed on purpose to differentiate once (multi-task, accumulation)
            what = _code(ctx.module, inc)
            appended = isinstance(node, cst.Call)
            fix = f"`{acc}.append({what}.item())`" if appended else f"`{acc} += {what}.item()`"
            yield Finding(
                "TL604",
                ctx.module,
                node,
                f"`{acc}` {'collects' if appended else 'accumulates'} `{what}`, a tensor that still carries its "
                "autograd graph: every iteration's graph stays referenced from it, so memory grows step "
                f"after step. Keep a number instead: {fix} (or `.detach()`).",
                fix_builder=fixes.hook(fixes.fix_tl604, ctx.module, scope, node, acc, inc),
            )


def _accumulations(scope: Scope, idx: D.ScopeIndex) -> Iterator[Tuple[cst.CSTNode, str, cst.BaseExpression]]:
    """`acc += x`, `acc = acc + x` and `acc.append(x)` statements of a scope."""
    for name, defs in idx.defs.items():
        for d in defs:
            if d.path:
                continue
            if d.how == "aug" and isinstance(d.op, cst.AddAssign):
                yield d.stmt, name, d.value
            elif (
                d.how == "assign" and isinstance(d.value, cst.BinaryOperation) and isinstance(d.value.operator, cst.Add)
            ):
                left, right = d.value.left, d.value.right
                if _is_ref(left, name):
                    yield d.stmt, name, right
                elif _is_ref(right, name):
                    yield d.stmt, name, left
    for call in scope.calls:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "append" and len(call.args) == 1:
            key = dotted(func.value)
            if key is not None and (key.count(".") == 0 or (key.startswith("self.") and key.count(".") == 1)):
                yield call, key, call.args[0].value


def _is_ref(expr: cst.BaseExpression, key: str) -> bool:
    return dotted(expr) == key


def _initialised_outside(idx: D.ScopeIndex, acc: str, loop_id: int, node: cst.CSTNode) -> bool:
    """The accumulator is set up before the innermost loop around the accumulation."""
    for d in idx.defs.get(acc, []):
        if d.how == "assign" and d.stmt is not node and loop_id not in d.loops:
            return True
    return False


def _names_in(expr: cst.BaseExpression) -> List[str]:
    """Names (and `self.x` attributes) an expression reads."""
    out: List[str] = []
    stack: List[cst.CSTNode] = [expr]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.append(n.value)
            continue
        if isinstance(n, cst.Attribute):
            d = dotted(n)
            if d is not None and d.startswith("self.") and d.count(".") == 1:
                out.append(d)
                continue
            stack.append(n.value)  # not the attribute's own name
            continue
        stack.extend(children(n))
    return out


def _graph_carrying(
    names: List[str],
    scope: Scope,
    idx: D.ScopeIndex,
    backwards: List[Backward],
    loops: Tuple[int, ...],
    ctx: RuleContext,
    node: cst.CSTNode,
) -> Set[str]:
    """Those of `names` that hold the very loss this loop differentiates, or a loss output."""
    out: Set[str] = set()
    if not loops:
        return out
    inner = loops[-1]  # the same iteration as the accumulation, not just a shared epoch loop
    for b in backwards:
        bpos = idx.position(b.node)
        if bpos is None or inner not in bpos.loops:
            continue
        out.update(n for n in names if n in _names_in(b.arg))
    if _in_training_loop(ctx, scope, (inner,)):
        out.update(n for n in names if _is_loss_output(n, scope, idx, node, ctx))
    return {n for n in out if not _cut_where_used(n, scope, idx, node, ctx) and not _cut_in_place(n, scope, node, ctx)}


def _cut_in_place(name: str, scope: Scope, use: cst.CSTNode, ctx: RuleContext) -> bool:
    """`out["loss"] = out["loss"].detach()` before `outputs.append(out)`: the graph-carrying
    entry of a dict was replaced by a cut copy."""
    ev = _evaluator(ctx)
    return any(
        b.stmt is not None and SC.follows(scope, b.stmt, use) and ev.state(b.value, scope).kind == CUT
        for b in scope.stores.get(name, [])
    )


def _cut_where_used(name: str, scope: Scope, idx: D.ScopeIndex, use: cst.CSTNode, ctx: RuleContext) -> bool:
    """Every definition reaching the use leaves no graph (`loss = loss.detach().item()` after
    its backward, or a plain number on the other path)."""
    defs, open_before = idx.reaching(name, use)
    if not defs or open_before:
        return False
    ev = _evaluator(ctx)
    return all(d.how == "assign" and not d.path and ev.state(d.value, scope).kind != LIVE for d in defs)


def _bare_ref(expr: cst.BaseExpression, names: Set[str]) -> bool:
    """`expr` uses one of `names` as a tensor (not through `.item()`, `.detach()`, `float()`...)."""
    if isinstance(expr, cst.Name):
        return expr.value in names
    if isinstance(expr, cst.Attribute):
        if expr.attr.value == "data":
            return False
        d = dotted(expr)
        if d is not None and d in names:
            return True
        return _bare_ref(expr.value, names)
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Name) and func.value in ("float", "int", "len", "str", "round"):
            return False
        if isinstance(func, cst.Attribute):
            if func.attr.value in CUT_METHODS:
                return False
            if _bare_ref(func.value, names):
                return True
        return any(_bare_ref(a.value, names) for a in expr.args)
    if isinstance(expr, cst.BinaryOperation):
        return _bare_ref(expr.left, names) or _bare_ref(expr.right, names)
    if isinstance(expr, cst.UnaryOperation):
        return _bare_ref(expr.expression, names)
    if isinstance(expr, cst.Subscript):
        return _bare_ref(expr.value, names)
    if isinstance(expr, cst.IfExp):
        return _bare_ref(expr.body, names) or _bare_ref(expr.orelse, names)
    if isinstance(expr, (cst.Tuple, cst.List)):
        return any(_bare_ref(e.value, names) for e in expr.elements)
    return False


def _is_loss_output(name: str, scope: Scope, idx: D.ScopeIndex, use: cst.CSTNode, ctx: RuleContext) -> bool:
    defs, _ = idx.reaching(name, use)
    if not defs:
        return False
    for d in defs:
        if d.how != "assign" or d.path or not isinstance(d.value, cst.Call):
            return False
        call = d.value
        qual = scope.module.qualify(call.func)
        if K.is_functional_loss(qual):
            continue
        if isinstance(call.func, (cst.Name, cst.Attribute)):
            v = ctx.resolver.value_of(call.func, scope)
            if v is not None and v.kind == K.LOSS:
                continue
        return False
    return True


def _in_training_loop(ctx: RuleContext, scope: Scope, loops: Tuple[int, ...]) -> bool:
    for lf in ctx.loops.loops_of(scope.module):
        if id(lf.node) in loops and lf.has(L.BACKWARD):
            return True
    return False


def _backwarded(acc: str, scope: Scope, backwards: List[Backward], ctx: RuleContext) -> bool:
    """The accumulated total is itself differentiated (here, or by a caller it is returned to)."""
    for b in backwards:
        if acc in _names_in(b.arg) or _derived_from(acc, b, ctx):
            return True
    for rv in D.return_values(scope):
        if acc in _names_in(rv):
            for caller, call in ctx.project.callers(scope):
                for cb in backward_calls(caller.module):
                    if cb.scope is caller and (
                        _mentions_node(cb.arg, call) or _bound_name_backwarded(call, caller, cb)
                    ):
                        return True
    return False


def _derived_from(acc: str, b: Backward, ctx: RuleContext) -> bool:
    """`loss = total / n; loss.backward()`: the backward target is built from the total."""
    idx = D.scope_index(b.scope)
    frontier = _names_in(b.arg)
    seen: Set[str] = set()
    while frontier:
        n = frontier.pop()
        if n in seen:
            continue
        seen.add(n)
        if n == acc:
            return True
        defs, _ = idx.reaching(n, b.node)
        for d in defs:
            frontier.extend(_names_in(d.value))
        if len(seen) > 40:
            break
    return False


def _mentions_node(expr: cst.CSTNode, target: cst.CSTNode) -> bool:
    return any(n is target for n in walk(expr))


def _bound_name_backwarded(call: cst.Call, caller: Scope, cb: Backward) -> bool:
    idx = D.scope_index(caller)
    for name in _names_in(cb.arg):
        defs, _ = idx.reaching(name, cb.node)
        if any(d.value is call or _mentions_node(d.value, call) for d in defs):
            return True
    return False
