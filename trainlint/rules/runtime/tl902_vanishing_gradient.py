"""TL902 vanishing-gradient: Early layers receive vanishingly small gradients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import constant_input, grad_ratio, runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt, num


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    ratio: float = 100.0
    min_norm: float = 1e-7


def findings_tl902(c: Ctx) -> List[Diagnostic]:
    found = grad_ratio(c)
    if found is None:
        return []
    s, first, last, ratio = found
    o = c.opts("TL902")
    limit, min_norm = float(o.get("ratio", 100.0)), float(o.get("min_norm", 1e-7))
    g0, g1 = num(first[3].grad), num(last[3].grad)
    if not (ratio > limit or (g0 < min_norm and g1 >= min_norm)):
        return []
    if g0 == 0 and any(constant_input(rec) is not None for rec in c.ev.inputs):
        return []  # no signal at all: a constant input (TL919), not a gradient that faded
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


RULE = Rule(
    code="TL902",
    name="vanishing-gradient",
    family="runtime",
    severity=WARNING,
    summary="Early layers receive vanishingly small gradients.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl902,
)
