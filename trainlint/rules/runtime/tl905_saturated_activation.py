"""TL905 saturated-activation: Sigmoid/tanh outputs sit at their bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import act_layers, runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import Activation


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    epsilon: float = 0.01
    max_saturated_fraction: float = 0.5


def findings_tl905(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL905")
    limit, eps = float(o.get("max_saturated_fraction", 0.5)), float(o.get("epsilon", 0.01))
    out = []
    for layer in act_layers(c):
        frac = layer.saturated_fraction
        if layer.activation in (Activation.SIGMOID, Activation.TANH) and finite(frac) and frac > limit:
            bounds = "0 or 1" if layer.activation == Activation.SIGMOID else "-1 or 1"
            out.append(
                runtime_finding(
                    c,
                    "TL905",
                    f"{fmt(100 * frac)}% of the outputs of `{layer.name}` ({layer.activation}) are within "
                    f"{fmt(eps)} of {bounds}, where its derivative is nearly zero. Normalise the inputs "
                    "of the layer, use a smaller init, or a non-saturating activation.",
                    layer.site,
                    {
                        "observed": f"{fmt(100 * frac)}% saturated outputs",
                        "expected": f"at most {fmt(100 * limit)}%",
                        "saturated_fraction": frac,
                    },
                )
            )
    return out


RULE = Rule(
    code="TL905",
    name="saturated-activation",
    family="runtime",
    severity=WARNING,
    summary="Sigmoid/tanh outputs sit at their bounds.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl905,
)
