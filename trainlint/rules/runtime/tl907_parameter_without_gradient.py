"""TL907 parameter-without-gradient: A trainable parameter receives no gradient."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx
from trainlint.runtime.records import BackwardCall


def findings_tl907(c: Ctx) -> List[Diagnostic]:
    if not c.ev.steps or not c.ev.events_of(BackwardCall):
        return []
    out = []
    for opt_index, opt in c.ev.optimizers.items():
        steps = [s for s in c.ev.steps if s.optimizer == opt_index]
        if not steps:
            continue
        got = {p.i for s in steps for p in s.params if p.received or p.grad is not None}
        seen = {p.i for s in steps for p in s.params}
        missing = [opt.params[i] for i in sorted(seen - got) if 0 <= i < len(opt.params)]
        if not missing:
            continue
        names = [p.name for p in missing]
        shown = ", ".join(f"`{n}`" for n in names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        out.append(
            runtime_finding(
                c,
                "TL907",
                f"{len(names)} trainable parameter(s) held by {opt.name} never received a gradient "
                f"in {len(steps)} step(s): {shown}. The loss does not depend on them (an unused "
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
