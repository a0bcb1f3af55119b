"""TL904 dead-relu: A ReLU layer outputs zero for most units."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import WARNING, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    max_dead_fraction: float = 0.5
    inactivity: float = 0.01
    min_samples: int = 16


RULE = Rule(
    code="TL904",
    name="dead-relu",
    family="runtime",
    severity=WARNING,
    summary="A ReLU layer outputs zero for most units.",
    kind="runtime",
    options=Options,
)
