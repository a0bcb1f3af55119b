"""TL905 saturated-activation: Sigmoid/tanh outputs sit at their bounds."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import WARNING, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    epsilon: float = 0.01
    max_saturated_fraction: float = 0.5


RULE = Rule(
    code="TL905",
    name="saturated-activation",
    family="runtime",
    severity=WARNING,
    summary="Sigmoid/tanh outputs sit at their bounds.",
    kind="runtime",
    options=Options,
)
