"""TL909 update-ratio-out-of-range: Per-layer update/weight ratio far from about 1e-3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding, update_ratios
from trainlint.runtime.judging.context import Ctx, fmt


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    min_ratio: float = 1e-5
    max_ratio: float = 0.5


def findings_tl909(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL909")
    lo, hi = float(o["min_ratio"]), float(o["max_ratio"])
    out = []
    for opt_index, opt in c.ev.optimizers.items():
        ratios = update_ratios(c, opt_index)
        bad = {k: v for k, v in ratios.items() if v[0] > hi or v[0] < lo}
        if not bad:
            continue
        (_, name), (ratio, _) = max(bad.items(), key=lambda kv: max(kv[1][0] / hi, lo / kv[1][0]))
        lrs = ", ".join(fmt(x) for x in opt.lr or [])
        direction = (
            "too large: the learning rate is likely too high"
            if ratio > hi
            else "tiny: the learning rate is likely too low"
        )
        out.append(
            runtime_finding(
                c,
                "TL909",
                f"each {opt.name} step changes `{name}` by {fmt(ratio)} of its norm ({direction}; "
                f"lr {lrs}); {len(bad)} of {len(ratios)} weight matrices are outside [{fmt(lo)}, {fmt(hi)}]. "
                "Aim for an update/weight ratio around 1e-3.",
                opt.site,
                {
                    "observed": f"||dw||/||w|| = {fmt(ratio)} for `{name}`",
                    "expected": f"within [{fmt(lo)}, {fmt(hi)}], about 1e-3",
                    "layers_out_of_range": len(bad),
                    "ratio": ratio,
                    "parameter": name,
                },
            )
        )
    return out


RULE = Rule(
    code="TL909",
    name="update-ratio-out-of-range",
    family="runtime",
    severity=WARNING,
    summary="Per-layer update/weight ratio far from about 1e-3.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl909,
)
