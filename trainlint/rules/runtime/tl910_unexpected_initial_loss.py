"""TL910 unexpected-initial-loss: The first classification loss is far from ln(num_classes)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt, num
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import BINARY_LOSSES, CLASS_LOSSES, LossInputs


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    max_ratio: float = 2.0
    min_ratio: float = 0.0


def _expected_initial_loss(r: LossInputs) -> Optional[float]:
    """The loss of a model that guesses uniformly, when the function and input tell it."""
    fn = r.fn
    if r.reduction != "mean":
        return None
    if fn == "cross_entropy" and r.num_classes is not None and r.num_classes >= 2:
        return math.log(r.num_classes)
    if fn == "nll_loss" and r.num_classes is not None and r.num_classes >= 2:
        rows = r.rows
        lse_max, lse_min = (rows.lse_max, rows.lse_min) if rows is not None else (None, None)
        if abs(num(lse_max, 1.0)) < 0.1 and abs(num(lse_min, 1.0)) < 0.1:
            return math.log(r.num_classes)
    if fn in BINARY_LOSSES:
        return math.log(2.0)
    return None


def findings_tl910(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL910")
    hi, lo = float(o.get("max_ratio", 2.0)), float(o.get("min_ratio", 0.0))
    for r in c.ev.losses:
        if r.call != 1:
            continue
        expected = _expected_initial_loss(r)
        value = c.ev.loss_value(r)
        if expected is None or not finite(value):
            continue
        ratio = value / expected
        if ratio > hi or ratio < lo:
            classes = f"ln({r.num_classes})" if r.fn in CLASS_LOSSES else "ln(2)"
            return [
                runtime_finding(
                    c,
                    "TL910",
                    f"the first {r.fn} loss is {fmt(value)}, {fmt(ratio)}x the {fmt(expected)} "
                    f"(= {classes}) of a model that starts out guessing uniformly. The output layer's "
                    "init or the input scale is off (or the loss is fed the wrong thing).",
                    r.site,
                    {
                        "observed": f"initial loss {fmt(value)}",
                        "expected": f"about {fmt(expected)}",
                        "step": r.step,
                        "ratio": ratio,
                    },
                )
            ]
    return []


RULE = Rule(
    code="TL910",
    name="unexpected-initial-loss",
    family="runtime",
    severity=WARNING,
    summary="The first classification loss is far from ln(num_classes).",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl910,
)
