"""Runtime-only findings on the loss: an unexpected first value (TL910), class labels out of
range (TL911), no decrease on one repeated batch (TL912)."""

from __future__ import annotations

import math
from typing import List, Optional

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt, num
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.judging.registry import finding
from trainlint.runtime.records import BINARY_LOSSES, CLASS_LOSSES, BackwardCall, LossInputs


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


@finding("TL910")
def unexpected_initial_loss(c: Ctx) -> List[Diagnostic]:
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


@finding("TL911")
def label_out_of_range(c: Ctx) -> List[Diagnostic]:
    for r in c.ev.losses:
        t = r.target
        fn = r.fn
        if t is None:
            continue
        if fn in CLASS_LOSSES and str(t.dtype).startswith(("int", "uint")) and r.num_classes:
            lo, hi, n = t.min_valid, t.max, r.num_classes
            if (finite(lo) and lo < 0) or (finite(hi) and hi >= n):
                return [
                    runtime_finding(
                        c,
                        "TL911",
                        f"class targets of `{fn}` range over [{fmt(lo)}, {fmt(hi)}] but the input has {n} "
                        f"classes (valid targets 0..{n - 1}). Fix the label encoding or the size of the "
                        "output layer.",
                        r.site,
                        {
                            "observed": f"targets in [{fmt(lo)}, {fmt(hi)}]",
                            "expected": f"targets in [0, {n - 1}]",
                            "num_classes": n,
                            "step": r.step,
                        },
                    )
                ]
        if fn in BINARY_LOSSES and finite(t.min):
            if t.min < 0 or num(t.max, 0.0) > 1:
                return [
                    runtime_finding(
                        c,
                        "TL911",
                        f"targets of `{fn}` range over [{fmt(t.min)}, {fmt(t.max)}]; binary "
                        "cross-entropy needs targets in [0, 1].",
                        r.site,
                        {
                            "observed": f"targets in [{fmt(t.min)}, {fmt(t.max)}]",
                            "expected": "targets in [0, 1]",
                            "step": r.step,
                        },
                    )
                ]
    return []


@finding("TL912")
def loss_not_decreasing(c: Ctx) -> List[Diagnostic]:
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
