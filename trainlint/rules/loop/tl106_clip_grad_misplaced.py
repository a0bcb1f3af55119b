"""TL106 clip-grad-misplaced: Gradient clipping runs before `backward()` or after `step()`, so it clips nothing that matters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import libcst as cst

from trainlint import fixes
from trainlint.analysis import loops as L
from trainlint.analysis.loops import Event
from trainlint.diagnostics import Fix
from trainlint.fixes.builders import move_stmt, scaler_parts
from trainlint.fixes.core import SAFE, Locate, make_fix
from trainlint.fixes.edits import (
    parse_statement,
)
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, iterations


@dataclass(frozen=True)
class Options:
    """Thresholds of the tracer's verdict on this rule's findings."""

    tolerance: float = 1e-3


def clip_grad_misplaced(ctx: RuleContext) -> Iterator[Finding]:
    for lf in iterations(ctx):
        evs = [e for e in lf.events if e.kind in (L.BACKWARD, L.CLIP) or e.kind in STEPS]
        for i, c in enumerate(evs):
            if c.kind != L.CLIP:
                continue
            prev = next((e for e in reversed(evs[:i]) if e.kind != L.CLIP), None)
            nxt = next((e for e in evs[i + 1 :] if e.kind != L.CLIP), None)
            before_backward = (prev is None or prev.kind in STEPS) and nxt is not None and nxt.kind == L.BACKWARD
            after_step = prev is not None and prev.kind in STEPS and (nxt is None or nxt.kind == L.BACKWARD)
            if not (before_backward or after_step) or _measures_only(c):
                continue
            where = "before `backward()`" if before_backward and not after_step else "after `optimizer.step()`"
            # The step the clip belongs before: the one after the backward, or the one it follows.
            target = prev if after_step else next((e for e in evs[i + 1 :] if e.kind in STEPS), None)
            unscale = target is not None and target.kind == L.SCALER_STEP and not lf.has(L.SCALER_UNSCALE)
            yield Finding(
                "TL106",
                c.module,
                c.node,
                f"gradient clipping runs {where}, so the gradients the optimizer uses are never clipped. "
                "Clip between `backward()` and `optimizer.step()`.",
                fix_builder=fixes.hook(fix_tl106, c, target, unscale) if target is not None else None,
            )


def _measures_only(clip: Event) -> bool:
    """`clip_grad_norm_(params, max_norm=float("inf"))` clips nothing: it measures the norm."""
    call = clip.node
    if not isinstance(call, cst.Call):
        return False
    args = [a for a in call.args if a.keyword is None]
    bound = next(
        (a.value for a in call.args if a.keyword is not None and a.keyword.value in ("max_norm", "clip_value")), None
    )
    if bound is None and len(args) >= 2:
        bound = args[1].value
    if bound is None:
        return False
    code = clip.module.tree.code_for_node(bound).replace(" ", "")
    return code in ('float("inf")', "float('inf')", "math.inf", "torch.inf", "np.inf", "numpy.inf", "inf")


def fix_tl106(locate: Locate, clip: Event, step: Event, unscale: bool = False) -> Optional[Fix]:
    """Move the clipping statement to just before the optimizer step that follows `backward()`
    (with a GradScaler that does not unscale yet, `scaler.unscale_(opt)` goes first)."""
    module = clip.module
    lead = None
    if unscale:
        parts = scaler_parts(module, step)
        if parts is None:
            return None
        lead = parse_statement(module, f"{parts[0]}.unscale_({parts[1]})")
    # Only a step written in the clip's own block: clipping inside an accumulation branch is
    # a different computation from clipping every micro-batch.
    changes = move_stmt(clip, step, after=False, allow_assign=True, same_block_only=True, lead=lead)
    return make_fix(module, changes, SAFE, "Clip between `backward()` and the optimizer step")


RULE = Rule(
    code="TL106",
    name="clip-grad-misplaced",
    family="loop",
    severity=WARNING,
    summary="Gradient clipping runs before `backward()` or after `step()`, so it clips nothing that matters.",
    fixable=True,
    options=Options,
    check=clip_grad_misplaced,
    fixes=(fix_tl106,),
)
