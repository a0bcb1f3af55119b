"""TL907 parameter-without-gradient: A trainable parameter receives no gradient."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, names_shown
from trainlint.runtime.records import BackwardCall, ParamInfo


def findings_tl907(c: Ctx) -> List[Diagnostic]:
    if not c.ev.steps or not c.ev.events_of(BackwardCall):
        return []
    out = []
    strict_ddp = c.ev.strict_ddp_params()  # TL916 reports those, with what DDP does about them
    for opt, steps, missing in c.ev.params_without_gradient():
        missing = [p for p in missing if p.name not in strict_ddp]
        if not missing:
            continue
        names = [p.name for p in missing]
        shown = names_shown(names)
        idle = _layers_not_called(c, missing)
        why = (
            f"{names_shown(idle)} {'was' if len(idle) == 1 else 'were'} not called in the first training pass "
            "(defined in `__init__` but left out of `forward`?)"
            if idle
            else "The loss does not depend on them (an unused layer, a detach, or an output that is not used)"
        )
        out.append(
            runtime_finding(
                c,
                "TL907",
                f"{len(names)} trainable parameter(s) held by {opt.name} never received a gradient "
                f"in {steps} step(s): {shown}. {why}; freeze or remove them, or fix the graph.",
                missing[0].site,
                {
                    "observed": f"`.grad` None after every backward for {len(names)} parameter(s)",
                    "expected": "a gradient for every trainable parameter",
                    "parameters": names[:20],
                    "layers_not_called": idle[:20] or None,
                },
            )
        )
    return out


def _layers_not_called(c: Ctx, missing: List[ParamInfo]) -> List[str]:
    """The Linear/Conv layers among `missing`'s that the first training pass did not run: their
    weight has no forward order while other layers' weights have one."""
    held = [p for o in c.ev.optimizers.values() for p in o.params]
    if not any(p.weighted and p.order is not None for p in held):
        return []  # (no forward order was recorded at all: nothing to tell from)
    ran = {p.module for p in held if p.order is not None} | {a.module for a in c.ev.act_std}
    out: List[str] = []
    for p in missing:
        if p.weighted and p.order is None and p.module and p.module not in ran and p.module not in out:
            out.append(p.module)
    return out


RULE = Rule(
    code="TL907",
    name="parameter-without-gradient",
    family="runtime",
    severity=WARNING,
    summary="A trainable parameter receives no gradient.",
    kind="runtime",
    runtime_check=findings_tl907,
)
