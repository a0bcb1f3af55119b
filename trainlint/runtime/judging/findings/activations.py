"""Runtime-only findings on activation layers: dead ReLU units (TL904), saturated sigmoid/tanh
outputs (TL905)."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.judging.registry import finding
from trainlint.runtime.records import Activation, ActivationLayer


def _act_layers(c: Ctx) -> List[ActivationLayer]:
    return list(c.ev.activations.layers) if c.ev.activations is not None else []


@finding("TL904")
def dead_relu(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL904")
    limit, min_samples = float(o.get("max_dead_fraction", 0.5)), int(o.get("min_samples", 16))
    out = []
    for layer in _act_layers(c):
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


@finding("TL905")
def saturated_activation(c: Ctx) -> List[Diagnostic]:
    o = c.opts("TL905")
    limit, eps = float(o.get("max_saturated_fraction", 0.5)), float(o.get("epsilon", 0.01))
    out = []
    for layer in _act_layers(c):
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
