"""TL907 parameter-without-gradient: A trainable parameter receives no gradient."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, names_shown
from trainlint.runtime.records import BackwardCall


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
        out.append(
            runtime_finding(
                c,
                "TL907",
                f"{len(names)} trainable parameter(s) held by {opt.name} never received a gradient "
                f"in {steps} step(s): {shown}. The loss does not depend on them (an unused "
                "layer, a detach, or an output that is not used); freeze or remove them, or fix the "
                "graph.",
                missing[0].site,
                {
                    "observed": f"`.grad` None after every backward for {len(names)} parameter(s)",
                    "expected": "a gradient for every trainable parameter",
                    "parameters": names[:20],
                },
            )
        )
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
