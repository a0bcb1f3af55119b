"""TL102 zero-grad-before-step: `zero_grad()` runs between `backward()` and `step()`, so the step sees no gradient."""

from __future__ import annotations

from typing import Iterator, Optional

from trainlint import fixes
from trainlint.analysis import kinds as K
from trainlint.analysis import loops as L
from trainlint.analysis.loops import Event
from trainlint.diagnostics import Fix
from trainlint.fixes.builders import move_stmt
from trainlint.fixes.core import SAFE, Locate, make_fix
from trainlint.fixes.edits import (
    source_of,
)
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.rules.loop.common import STEPS, iterations


def zero_grad_before_step(ctx: RuleContext) -> Iterator[Finding]:
    for lf in iterations(ctx):
        evs = [e for e in lf.events if e.kind in (L.BACKWARD, L.ZERO_GRAD) or e.kind in STEPS]
        for i, z in enumerate(evs):
            if z.kind != L.ZERO_GRAD or i == 0:
                continue
            prev = evs[i - 1]
            nxt = next((e for e in evs[i + 1 :] if e.kind != L.ZERO_GRAD), None)
            if prev.kind != L.BACKWARD or nxt is None or nxt.kind not in STEPS:
                continue
            if z.conds and z.conds != nxt.conds[: len(z.conds)]:
                continue  # a clear on a branch the step is not on (e.g. skipping a bad batch)
            zr, sr = z.receiver, nxt.receiver
            if zr is not None and sr is not None and zr.kind == K.OPTIMIZER and sr.kind == K.OPTIMIZER:
                if zr.origin is not None and sr.origin is not None and zr.origin is not sr.origin:
                    continue  # another optimizer's gradients (e.g. a GAN's other network)
            yield Finding(
                "TL102",
                z.module,
                z.node,
                "`zero_grad()` runs after `backward()` and before `step()`, so the optimizer steps on "
                "cleared gradients and the parameters never change. Move `zero_grad()` before "
                "`backward()` (start of the iteration) or after `step()`.",
                related=[
                    (prev.module, prev.node, "the backward whose gradients are cleared"),
                    (nxt.module, nxt.node, "the step that then sees no gradient"),
                ],
                fix_builder=fixes.hook(fix_tl102, z, nxt),
            )


def fix_tl102(locate: Locate, zero: Event, step: Event) -> Optional[Fix]:
    """Move `zero_grad()` from between `backward()` and `step()` to just after the step."""
    changes = move_stmt(zero, step, after=True)
    what = source_of(zero.module, zero.node)
    return make_fix(zero.module, changes, SAFE, f"Move `{what}` after `{source_of(step.module, step.node)}`")


RULE = Rule(
    code="TL102",
    name="zero-grad-before-step",
    family="loop",
    severity=ERROR,
    summary="`zero_grad()` runs between `backward()` and `step()`, so the step sees no gradient.",
    fixable=True,
    check=zero_grad_before_step,
    fixes=(fix_tl102,),
)
