"""TL603 manual-update-no-grad-reset: A hand-written update loop never clears `.grad`."""

from __future__ import annotations

import re
from typing import Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import loops as L
from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.names import dotted
from trainlint.analysis.purpose import training_loops
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic, Fix
from trainlint.fixes.builders import update_line
from trainlint.fixes.core import UNSAFE, Changes, Locate, make_fix, parent_of
from trainlint.fixes.edits import (
    block_body,
    parse_statement,
)
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.graph.common import compact_code, grad_owners, is_data_or_grad
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted


def manual_update_no_grad_reset(ctx: RuleContext) -> Iterator[Finding]:
    reported: Set[int] = set()
    for lf in training_loops(ctx.loops, ctx.module):
        updates = [e for e in lf.events if _in_place_update(e)]
        if not updates or not lf.has(L.BACKWARD):
            continue
        if lf.has(L.STEP, L.SCALER_STEP, L.UNKNOWN_STEP, L.ENV_STEP, L.ZERO_GRAD):
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
        target = compact_code(first.module, first.arg) if first.arg is not None else "the parameter"
        yield Finding(
            "TL603",
            first.module,
            first.node,
            f"this loop updates `{target}` by hand from `.grad` but never clears the gradients: "
            "`backward()` adds to `.grad`, so each step applies the sum of all gradients so far and the "
            f"updates grow until training diverges. After the update, reset them (`{target}.grad.zero_()` "
            f"or `{target}.grad = None`) under `torch.no_grad()`.",
            related=[(backward.module, backward.node, "the backward that accumulates into .grad")] if backward else [],
            fix_builder=fixes.hook(fix_tl603, first.module, first.node),
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
    if isinstance(e.node, cst.Assign) and not is_data_or_grad(e.arg):
        return False  # rebinding makes a new tensor (TL602), it does not accumulate
    if _is_grad_only(e.arg):
        return False
    # `p -= lr * p.grad`, `p.data.sub_(lr * p.grad)`; not `norm += (p.grad ** 2).sum()`
    return compact_code(e.module, _strip_data(e.arg)) in grad_owners(e.node, e.module)


def _strip_data(target: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(target, cst.Attribute) and target.attr.value == "data":
        return target.value
    return target


def _is_grad_only(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Attribute) and target.attr.value == "grad"


def _loop_has_both(lf: LoopFacts, lid: int) -> bool:
    evs = [e for e in lf.events if lid in e.loops]
    return any(e.kind == L.BACKWARD for e in evs) and any(_in_place_update(e) for e in evs)


_INPLACE_METHODS = {"sub_", "add_", "copy_", "addcdiv_", "addcmul_", "mul_", "div_"}


def _mentions_grad(node: cst.CSTNode) -> bool:
    return any(isinstance(n, cst.Attribute) and n.attr.value == "grad" for n in walk(node))


def _is_update(stmt: cst.CSTNode) -> Optional[str]:
    """The target text of an in-place update from a gradient (`w -= lr * w.grad`,
    `p.sub_(lr * p.grad)`)."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    target_node: Optional[cst.BaseExpression] = None
    if isinstance(small, cst.AugAssign) and _mentions_grad(small.value):
        target_node = small.target
    elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        func = small.value.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _INPLACE_METHODS
            and any(_mentions_grad(a.value) for a in small.value.args)
        ):
            target_node = func.value
    if target_node is None:
        return None
    target = dotted(target_node) if isinstance(target_node, (cst.Name, cst.Attribute)) else None
    if target is None or target.endswith((".grad", ".data")):
        return None
    return target


def fix_tl603(locate: Locate, module: ModuleFacts, node: cst.CSTNode) -> Optional[Fix]:
    """After the run of hand-written updates holding `node`, clear each updated tensor's
    gradient (`w.grad = None`), unless the block reads a gradient after that point."""
    line = update_line(module, node)
    block = parent_of(module, line) if line is not None else None
    if line is None or block is None or _is_update(line) is None:
        return None
    body = list(block_body(block))
    i = body.index(line)
    start, end = i, i
    while start > 0 and _is_update(body[start - 1]):
        start -= 1
    while end + 1 < len(body) and _is_update(body[end + 1]):
        end += 1
    targets = list(dict.fromkeys(t for t in (_is_update(s) for s in body[start : end + 1]) if t))
    rest = body[end + 1 :]
    if any(isinstance(n, cst.Attribute) and n.attr.value == "grad" for s in rest for n in walk(s)):
        return None  # a gradient is read after the update: clearing it would break that read
    resets = [parse_statement(module, f"{t}.grad = None") for t in targets]
    changes: Changes = {body[end]: cst.FlattenSentinel([body[end], *resets])}  # type: ignore[list-item]
    names = ", ".join(f"`{t}.grad`" for t in targets)
    return make_fix(module, changes, UNSAFE, f"Clear {names} after the update")


def verdict_tl603(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    later = [m for m in c.ev.manual if m.backward >= 2 and m.stale_grad_norm is not None]
    if not later:
        return None
    stale = [m for m in later if num(m.stale_grad_norm, 0.0) > 0 or isinstance(m.stale_grad_norm, str)]
    if stale:
        m = stale[0]
        return confirmed(
            observed=f"before backward #{m.backward}, the trained tensors still held the previous "
            f"gradient (largest norm {fmt(m.stale_grad_norm)}), so the gradients accumulate",
            expected="`.grad` cleared after each update",
            backward=m.backward,
        )
    return refuted(observed=f"before backward #{later[0].backward} every trained tensor's gradient was cleared")


RULE = Rule(
    code="TL603",
    name="manual-update-no-grad-reset",
    family="graph",
    severity=ERROR,
    summary="A hand-written update loop never clears `.grad`.",
    fixable=True,
    check=manual_update_no_grad_reset,
    fixes=(fix_tl603,),
    verdict=verdict_tl603,
    confirmed_by_crash=True,
)
