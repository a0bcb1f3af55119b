"""TL909 update-ratio-out-of-range: Per-layer update/weight ratio far from about 1e-3."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import WARNING, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    min_ratio: float = 1e-5
    max_ratio: float = 0.1


RULE = Rule(
    code="TL909",
    name="update-ratio-out-of-range",
    family="runtime",
    severity=WARNING,
    summary="Per-layer update/weight ratio far from about 1e-3.",
    kind="runtime",
    options=Options,
)
