"""TL912 loss-not-decreasing: Repeating one batch, the loss does not fall."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import BackwardCall


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    min_relative_decrease: float = 0.1


def findings_tl912(c: Ctx) -> List[Diagnostic]:
    if c.ev.start is None or not c.ev.start.overfit:
        return []
    losses = [v for s in c.ev.steps for v in s.losses if finite(v)]
    if len(losses) < 2:
        return []
    drop = float(c.opts("TL912").get("min_relative_decrease", 0.1))
    first, best = losses[0], min(losses[1:])
    if best <= first - drop * abs(first):
        return []
    back = c.ev.events_of(BackwardCall)
    site = next((r.site for r in c.ev.losses), back[0].site if back else None)
    return [
        runtime_finding(
            c,
            "TL912",
            f"on one repeated batch the loss went from {fmt(first)} to at best {fmt(best)} in "
            f"{len(losses)} steps; a working model and loop overfits a single batch quickly. Check the "
            "loss inputs, the learning rate and that the optimizer updates the model.",
            site,
            {
                "observed": f"loss {fmt(first)} -> best {fmt(best)} over {len(losses)} steps",
                "expected": f"a drop of at least {fmt(100 * drop)}%",
                "losses": losses[:50],
            },
        )
    ]


RULE = Rule(
    code="TL912",
    name="loss-not-decreasing",
    family="runtime",
    severity=WARNING,
    summary="Repeating one batch, the loss does not fall.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl912,
)
