"""TL903 exploding-gradient: Gradient norms are huge or grow sharply towards the input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import grad_ratio, runtime_finding, weighted_layers
from trainlint.runtime.judging.context import Ctx, fmt, num
from trainlint.runtime.judging.evidence import finite


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    max_total_norm: float = 1000.0
    ratio: float = 100.0


def findings_tl903(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL903")
    max_total, limit = float(o.get("max_total_norm", 1000.0)), float(o.get("ratio", 100.0))
    for s in c.ev.steps:
        total = s.grad_total
        if finite(total) and total > max_total:
            layers = [x for x in weighted_layers(c, s) if finite(x[3].grad)]
            top = max(layers, key=lambda x: num(x[3].grad)) if layers else None
            opt = c.ev.optimizers.get(s.optimizer)
            site = top[2].site if top else (opt.site if opt is not None else None)
            largest = f"; largest at `{top[1]}` ({fmt(top[3].grad)})" if top else ""
            return [
                runtime_finding(
                    c,
                    "TL903",
                    f"the total gradient norm reached {fmt(total)} at step {s.opt_step}{largest}; steps "
                    "this large throw the weights far from where the gradient was measured. Normalise "
                    "the inputs, lower the learning rate, or clip gradients.",
                    site,
                    {
                        "observed": f"total grad norm {fmt(total)}",
                        "expected": f"below {fmt(max_total)}",
                        "step": s.opt_step,
                        "grad_total": total,
                    },
                )
            ]
    found = grad_ratio(c)
    if found is not None:
        s, first, last, ratio = found
        if ratio > 0 and 1 / ratio > limit:
            return [
                runtime_finding(
                    c,
                    "TL903",
                    f"the gradient grows {fmt(1 / ratio)}x from the last layer `{last[1]}` to the first "
                    f"layer `{first[1]}` (norm {fmt(first[3].grad)}); early layers take huge steps. "
                    "Normalise the inputs, check the init, or clip gradients.",
                    first[2].site,
                    {
                        "observed": f"grad norm {fmt(first[3].grad)} at `{first[1]}` vs {fmt(last[3].grad)} "
                        f"at `{last[1]}`",
                        "expected": f"growth below {fmt(limit)}x",
                        "step": s.opt_step,
                        "ratio": 1 / ratio,
                    },
                )
            ]
    return []


RULE = Rule(
    code="TL903",
    name="exploding-gradient",
    family="runtime",
    severity=WARNING,
    summary="Gradient norms are huge or grow sharply towards the input.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl903,
)
