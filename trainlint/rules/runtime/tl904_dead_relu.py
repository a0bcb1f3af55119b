"""TL904 dead-relu: A ReLU layer outputs zero for most units."""

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

    max_dead_fraction: float = 0.5
    inactivity: float = 0.01
    min_samples: int = 16


def findings_tl904(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL904")
    limit, min_samples = float(o.get("max_dead_fraction", 0.5)), int(o.get("min_samples", 16))
    out = []
    for layer in act_layers(c):
        dead = layer.dead_fraction
        samples = layer.samples or 0
        if layer.activation == Activation.RELU and finite(dead) and dead > limit and samples >= min_samples:
            out.append(
                runtime_finding(
                    c,
                    "TL904",
                    f"{fmt(100 * dead)}% of the units of `{layer.name}` output zero for every one of "
                    f"{layer.samples} samples, so they pass no gradient and never recover. Check the "
                    "init and bias of the layer before it, lower the learning rate, or use LeakyReLU.",
                    layer.site,
                    {
                        "observed": f"{fmt(100 * dead)}% dead units of {layer.units}",
                        "expected": f"at most {fmt(100 * limit)}%",
                        "samples": layer.samples,
                        "dead_fraction": dead,
                    },
                )
            )
    return out


RULE = Rule(
    code="TL904",
    name="dead-relu",
    family="runtime",
    severity=WARNING,
    summary="A ReLU layer outputs zero for most units.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl904,
)
