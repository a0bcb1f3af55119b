"""TL602 manual-update-wrong: A hand-written parameter update ascends, rebinds, or runs with grad enabled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import data as D
from trainlint.analysis import gradmode as GM
from trainlint.analysis import loops as L
from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.gradmode import no_grad_nodes
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import update_line
from trainlint.fixes.core import UNSAFE, Changes, Locate, make_fix, parent_of
from trainlint.fixes.edits import (
    ancestors,
    block_body,
    parse_expression,
    source_of,
    torch_alias,
)
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.graph.common import compact_code, grad_owners, is_data_or_grad
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted


@dataclass
class _Update:
    event: Event
    loops: List[LoopFacts]


def _manual_updates(ctx: RuleContext) -> Dict[int, _Update]:
    """Every hand-written update reached from a loop of the project, with the loops it is in."""
    return ctx.project.once(_manual_updates, lambda: _find_manual_updates(ctx))


def _find_manual_updates(ctx: RuleContext) -> Dict[int, _Update]:
    out: Dict[int, _Update] = {}
    for m in ctx.project.modules:
        for lf in ctx.loops.loops_of(m):
            for e in lf.events:
                if e.kind == L.MANUAL_UPDATE and e.arg is not None:
                    u = out.setdefault(id(e.node), _Update(e, []))
                    u.loops.append(lf)
                    if e.no_grad and not u.event.no_grad:
                        u.event = e
    return out


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
            if compact_code(e.module, call.func.value) == target:
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
                names.append(compact_code(e.module, e.arg).lower())
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
    return any(isinstance(n, (cst.Name, cst.Attribute)) and compact_code(module, n) == text for n in walk(node))


def manual_update_wrong(ctx: RuleContext) -> Iterator[Finding]:
    # Updates with the same problem in the same loop (`w` and `b` together) make one finding.
    groups: Dict[Tuple[str, Tuple[int, ...]], List[Tuple[Event, str]]] = {}
    for u in _manual_updates(ctx).values():
        e = u.event
        if e.module is not ctx.module or e.arg is None or is_data_or_grad(e.arg):
            continue
        problem = _update_problem(u)
        if problem is None:
            continue
        loops = tuple(sorted(id(lf.node) for lf in u.loops))
        groups.setdefault((problem, loops), []).append((e, compact_code(e.module, e.arg)))
    for (problem, _), items in groups.items():
        e, target = items[0]
        others = [(o.module, o.node, f"`{t}` is updated the same way") for o, t in items[1:]]
        yield Finding(
            "TL602",
            e.module,
            e.node,
            _TL602_TEXT[problem].format(t=target),
            related=others,
            fix_builder=fixes.hook(fix_tl602, problem, [o for o, _ in items]),
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
    target = compact_code(e.module, e.arg)
    if target not in grad_owners(e.node, e.module):
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


def _lexically_no_grad(module: ModuleFacts, node: cst.CSTNode) -> bool:
    """Inside `with torch.no_grad():` (or inference_mode), or a function decorated with it."""
    for a in ancestors(module, node):
        if isinstance(a, cst.With) and any(GM.disables_grad(item.item, module) for item in a.items):
            return True
        if isinstance(a, cst.FunctionDef):
            return GM.function_disables_grad(a, module)
    return False


def _in_place(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.AugAssign]:
    """`w = w - lr * w.grad` -> `w -= lr * w.grad`, or None for any other shape."""
    if not isinstance(node, cst.Assign) or len(node.targets) != 1:
        return None
    target, value = node.targets[0].target, node.value
    if not isinstance(value, cst.BinaryOperation) or not isinstance(value.operator, cst.Subtract) or value.lpar:
        return None
    if source_of(module, value.left).strip() != source_of(module, target).strip():
        return None
    return cst.AugAssign(target=target, operator=cst.SubtractAssign(), value=value.right, semicolon=node.semicolon)


def _wrap_group(
    module: ModuleFacts, lines: List[cst.SimpleStatementLine], replaced: Dict[int, cst.SimpleStatementLine]
) -> Optional[Changes]:
    """One `with torch.no_grad():` around consecutive statements of a block (each run of
    consecutive ones gets its own)."""
    alias = torch_alias(module)
    block = parent_of(module, lines[0])
    if alias is None or block is None or any(parent_of(module, ln) is not block for ln in lines):
        return None
    body = list(block_body(block))
    order = sorted(lines, key=body.index)
    runs: List[List[cst.SimpleStatementLine]] = []
    for ln in order:
        if runs and body.index(ln) == body.index(runs[-1][-1]) + 1:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    changes: Changes = {}
    for run in runs:
        inner = [replaced.get(id(ln), ln) for ln in run]
        inner = [inner[0].with_changes(leading_lines=[])] + inner[1:]
        changes[run[0]] = cst.With(
            items=[cst.WithItem(item=parse_expression(module, f"{alias}.no_grad()"))],
            body=cst.IndentedBlock(body=inner),
            leading_lines=run[0].leading_lines,
        )
        for ln in run[1:]:
            changes[ln] = cst.RemovalSentinel.REMOVE
    return changes


def fix_tl602(locate: Locate, problem: str, events: Sequence[Event]) -> Optional[Fix]:
    """Hand-written updates made right: `w -= lr * w.grad` (descent, in place) under
    `torch.no_grad()`; `problem` is the rule's: "rebind", "ascent" or "grad-enabled"."""
    if not events or any(e.module is not events[0].module for e in events):
        return None
    module = events[0].module
    lines = []
    for e in events:
        line = update_line(module, e.node)
        if line is None:
            return None
        lines.append(line)
    names = ", ".join(f"`{source_of(module, e.arg).strip()}`" for e in events if e.arg is not None)
    if problem == "ascent":
        changes: Changes = {}
        for e in events:
            node = e.node
            if not isinstance(node, cst.AugAssign) or not isinstance(node.operator, cst.AddAssign):
                return None
            op = node.operator
            changes[node] = node.with_changes(
                operator=cst.SubtractAssign(
                    whitespace_before=op.whitespace_before, whitespace_after=op.whitespace_after
                )
            )
        return make_fix(module, changes, UNSAFE, f"Subtract the gradient from {names} (descent) instead of adding it")
    if problem == "rebind":
        replaced: Dict[int, cst.SimpleStatementLine] = {}
        for e, line in zip(events, lines):
            aug = _in_place(module, e.node)
            if aug is None:
                return None
            replaced[id(line)] = line.with_changes(body=[aug])
        loose = [ln for ln in lines if not _lexically_no_grad(module, ln)]
        wrapped = _wrap_group(module, loose, replaced) if loose else {}
        if wrapped is None:
            return None
        changes = {ln: replaced[id(ln)] for ln in lines if ln not in loose}
        changes.update(wrapped)
        return make_fix(module, changes, UNSAFE, f"Update {names} in place under `torch.no_grad()`")
    if problem == "grad-enabled":
        return make_fix(
            module, _wrap_group(module, lines, {}), UNSAFE, f"Run the update of {names} under `torch.no_grad()`"
        )
    return None


def verdict_tl602(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    pairs = [m for m in c.ev.manual if m.delta_dot_grad is not None]
    if not pairs:
        return None
    for m in pairs:
        if m.same_leaves is False:
            return confirmed(
                observed="the tensors trained by the next backward were different objects: the update "
                "rebound the names instead of updating the leaves in place",
                expected="in-place update under `torch.no_grad()`",
                backward=m.backward,
            )
        if num(m.delta_dot_grad, 0.0) > 0:
            return confirmed(
                observed=f"the update moved the parameters along the gradient (update . gradient = "
                f"{fmt(m.delta_dot_grad)} > 0): gradient ascent",
                expected="update . gradient < 0",
                backward=m.backward,
            )
    m = pairs[0]
    if num(m.delta_dot_grad, 0.0) < 0:
        return refuted(
            observed=f"the update moved against the gradient (update . gradient = {fmt(m.delta_dot_grad)})",
            backward=m.backward,
        )
    return None


RULE = Rule(
    code="TL602",
    name="manual-update-wrong",
    family="graph",
    severity=ERROR,
    summary="A hand-written parameter update ascends, rebinds, or runs with grad enabled.",
    fixable=True,
    check=manual_update_wrong,
    fixes=(fix_tl602,),
    verdict=verdict_tl602,
    confirmed_by_crash=True,
)
