"""Helpers shared by the loop rules (TL1xx)."""

from __future__ import annotations

from collections import Counter
from typing import Dict, Iterator, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis.facts import Scope
from trainlint.analysis.loops import Event, LoopFacts
from trainlint.analysis.purpose import training_loops
from trainlint.analysis.symbols import Value
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Severity
from trainlint.rules.base import RuleContext

STEPS = (L.STEP, L.SCALER_STEP)


def iterations(ctx: RuleContext) -> Iterator[LoopFacts]:
    """Loops that are one training iteration: backward and step inside, and no inner loop
    (lexical or in a helper) that is itself a whole iteration."""
    for lf in training_loops(ctx.loops, ctx.module):
        if not (lf.has(L.BACKWARD) and lf.has(*STEPS)):
            continue
        if inner_iteration(lf):
            continue
        yield lf


def inner_iteration(lf: LoopFacts) -> bool:
    """A loop inside `lf` (lexical or in a helper) that is a whole iteration: backward and step."""
    return any(L.BACKWARD in ks and (L.STEP in ks or L.SCALER_STEP in ks) for ks in lf.inner_loop_kinds().values())


def called_names(scope: Scope) -> "Counter[str]":
    """How often the function's own calls name each method or function (`x.step()` and
    `step()` both count as `step`): a cheap filter before following any call. Kept per
    module, since several rules ask about the same functions."""
    known: Dict[int, Counter[str]] = scope.module.memo(called_names, dict)
    names: Optional[Counter[str]] = known.get(id(scope))
    if names is None:
        names = known[id(scope)] = Counter(
            c.func.attr.value if isinstance(c.func, cst.Attribute) else c.func.value
            for c in scope.calls
            if isinstance(c.func, (cst.Attribute, cst.Name))
        )
    return names


def guessed(*events: Optional[Event]) -> bool:
    return any(e is not None and e.receiver is not None and e.receiver.guess for e in events)


def opt_name(e: Optional[Event]) -> str:
    if e is None:
        return "optimizer"
    node = e.node
    if (
        isinstance(node, cst.Call)
        and node.args
        and (
            e.kind == L.SCALER_STEP
            or (isinstance(node.func, cst.Attribute) and node.func.attr.value == "optimizer_step")
        )
    ):
        return e.module.tree.code_for_node(node.args[0].value)  # `scaler.step(opt)`, `xm.optimizer_step(opt)`
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return e.module.tree.code_for_node(node.func.value)
    return "optimizer"


def nodes_of_loops_with(ctx: RuleContext, node_kinds: Tuple[str, ...], loop_kinds: Tuple[str, ...]) -> Set[int]:
    """Ids of the event nodes of `node_kinds` in every loop of the project that also has an
    event of `loop_kinds` (computed once per run for each pair)."""

    def build() -> Set[int]:
        out: Set[int] = set()
        for m in ctx.project.modules:
            for lf in ctx.loops.loops_of(m):
                if lf.has(*loop_kinds):
                    out.update(id(e.node) for e in lf.events if e.kind in node_kinds)
        return out

    return ctx.project.once((nodes_of_loops_with, node_kinds, loop_kinds), build)


def guess_severity(guess: bool) -> Optional[Severity]:
    return Severity.WARNING if guess else None


def optimizer_origin(step: Event) -> Optional[object]:
    """The optimizer object a step updates (its constructor call), when resolved."""
    r = step.receiver
    if step.kind == L.SCALER_STEP:
        return None
    return optimizer_identity(r) if r is not None and r.kind == K.OPTIMIZER and not r.guess else None


def optimizer_identity(r: Value) -> Optional[object]:
    """What tells one optimizer from another: its constructor call, or for one built on either
    arm of an `if` (`opt = SGD(mlp) if tpu else SGD(all)`), the first of its constructions."""
    if r.origin is not None:
        return r.origin
    origins = [a.origin for a in r.alts]
    return origins[0] if origins and all(o is not None for o in origins) else None


def counting_test(test: cst.BaseExpression) -> bool:
    """A test that counts iterations: `(i + 1) % accum == 0`, `batch_idx % 100 == 0`."""
    return any(isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Modulo) for n in walk(test))


def accumulation_test(test: cst.BaseExpression) -> bool:
    """A test that counts micro-batches: a counting test, or one that names an accumulation
    (`not is_grad_accumulation_step`)."""
    return counting_test(test) or any(isinstance(n, cst.Name) and "accum" in n.value.lower() for n in walk(test))
