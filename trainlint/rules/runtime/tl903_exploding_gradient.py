"""TL903 exploding-gradient: Gradient norms are huge or grow sharply towards the input."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import WARNING, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    max_total_norm: float = 1000.0
    ratio: float = 100.0


RULE = Rule(
    code="TL903",
    name="exploding-gradient",
    family="runtime",
    severity=WARNING,
    summary="Gradient norms are huge or grow sharply towards the input.",
    kind="runtime",
    options=Options,
)
