"""Runtime-only findings on gradient norms: vanishing (TL902) and exploding (TL903)."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import grad_ratio, runtime_finding, weighted_layers
from trainlint.runtime.judging.context import Ctx, fmt, num
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.judging.registry import finding


@finding("TL902")
def vanishing_gradient(c: Ctx) -> List[Diagnostic]:
    found = grad_ratio(c)
    if found is None:
        return []
    s, first, last, ratio = found
    o = c.opts("TL902")
    limit, min_norm = float(o.get("ratio", 100.0)), float(o.get("min_norm", 1e-7))
    g0, g1 = num(first[3].grad), num(last[3].grad)
    if not (ratio > limit or (g0 < min_norm and g1 >= min_norm)):
        return []
    return [
        runtime_finding(
            c,
            "TL902",
            f"the gradient reaching the first layer `{first[1]}` (norm {fmt(first[3].grad)}) is {fmt(ratio)}x smaller "
            f"than at the last layer `{last[1]}` (norm {fmt(last[3].grad)}), so early layers barely learn. Use "
            "ReLU-family activations, normalisation or residual connections, and a suitable init.",
            first[2].site,
            {
                "observed": f"grad norm {fmt(first[3].grad)} at `{first[1]}` vs {fmt(last[3].grad)} at `{last[1]}` "
                f"(ratio {fmt(ratio)})",
                "expected": f"ratio below {fmt(limit)} and norms above {fmt(min_norm)}",
                "step": s.opt_step,
                "first_layer_grad_norm": first[3].grad,
                "last_layer_grad_norm": last[3].grad,
                "ratio": ratio,
            },
        )
    ]


@finding("TL903")
def exploding_gradient(c: Ctx) -> List[Diagnostic]:
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
