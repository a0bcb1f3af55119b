"""TL914 learning-rate-outside-range-test: The configured learning rate is far outside the range a range test suggests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging import lr_find
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt


@dataclass(frozen=True)
class Options:
    """Thresholds of the range test (`trace --lr-find`)."""

    outside_factor: float = lr_find.OUTSIDE_FACTOR
    min_points: int = lr_find.MIN_POINTS
    min_fall: float = lr_find.MIN_FALL
    divergence_factor: float = 4.0


def findings_tl914(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL914")
    factor = float(o["outside_factor"])
    rt = lr_find.range_test(c.ev, o)
    ref = rt.reference if rt is not None else None
    if rt is None or ref is None or rt.suggestion is None:
        return []
    cmp = lr_find.compare(rt, ref, factor)
    if cmp is None or not cmp.outside:
        return []
    advice = (
        "steps this large overshoot: the loss oscillates or diverges"
        if cmp.side == "above"
        else "steps this small barely move the weights: training crawls"
    )
    others = len(rt.optimizers) - 1
    together = (
        f" The {others} other optimizer(s) were scaled with it, so their rates are off by the same factor."
        if others
        else ""
    )
    # The static suspicion on the same optimizer, which the range test confirms (its verdict
    # says so too): named here so that the two findings are read together.
    static = [
        f"{d.code} at {d.path}:{d.line}"
        for d in c.static
        if d.code == lr_find.JUDGED and lr_find.optimizer_at(c, rt, d) is ref
    ]
    confirms = f" This confirms {', '.join(static)}." if static else ""
    evidence = {
        "observed": f"{lr_find.describe(cmp)}; {lr_find.what_the_loss_did(rt)}",
        "expected": f"within {fmt(factor)}x of {fmt(cmp.low)} to {fmt(cmp.high)}",
        "configured_lr": cmp.configured,
        "suggested_low": cmp.low,
        "suggested_high": cmp.high,
        "times_outside": cmp.times,
        "confirms": ", ".join(static) or None,
    }
    return [
        runtime_finding(
            c,
            "TL914",
            f"the learning rate of {ref.name}, {fmt(cmp.configured)}, is {fmt(cmp.times)}x {cmp.side} the range "
            f"a learning-rate range test suggests for this script ({fmt(cmp.low)} to {fmt(cmp.high)}): {advice}. "
            f"Train at a rate inside the range.{together}{confirms}",
            ref.site,
            evidence,
        )
    ]


RULE = Rule(
    code="TL914",
    name="learning-rate-outside-range-test",
    family="runtime",
    severity=WARNING,
    summary="The configured learning rate is far outside the range a learning-rate range test suggests.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl914,
)
