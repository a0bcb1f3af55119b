"""TL902 vanishing-gradient: Early layers receive vanishingly small gradients."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import WARNING, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    ratio: float = 100.0
    min_norm: float = 1e-7


RULE = Rule(
    code="TL902",
    name="vanishing-gradient",
    family="runtime",
    severity=WARNING,
    summary="Early layers receive vanishingly small gradients.",
    kind="runtime",
    options=Options,
)
