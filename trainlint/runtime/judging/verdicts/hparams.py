"""Verdicts on hyperparameters (TL5xx): the learning rate, by the updates it made."""

from __future__ import annotations

from typing import Optional

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import update_ratios
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted
from trainlint.runtime.judging.registry import verdict


@verdict("TL501")
def learning_rate_out_of_range(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    opts = [o for o in c.ev.optimizers.values() if c.at(d, o.site)]
    ratios = update_ratios(c, opts[0].optimizer if opts else None)
    if not ratios:
        return None
    o = c.opts("TL909")
    lo, hi = float(o.get("min_ratio", 1e-5)), float(o.get("max_ratio", 0.1))
    worst = max(ratios.items(), key=lambda kv: max(kv[1][0] / hi, lo / kv[1][0]))
    (opt, name), (ratio, _) = worst
    found = c.ev.optimizers.get(opt)
    lrs = found.lr if found is not None else None
    text = f"update/weight ratio of `{name}` was {fmt(ratio)} per step (lr {', '.join(fmt(x) for x in lrs or [])})"
    if ratio > hi or ratio < lo:
        return confirmed(
            observed=text, expected=f"about 1e-3, within [{fmt(lo)}, {fmt(hi)}]", parameter=name, ratio=ratio
        )
    return refuted(
        observed=f"{text}; all {len(ratios)} weight matrices stayed within [{fmt(lo)}, {fmt(hi)}]",
        parameter=name,
        ratio=ratio,
    )
