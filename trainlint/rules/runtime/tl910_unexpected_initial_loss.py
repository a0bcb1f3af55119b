"""TL910 unexpected-initial-loss: The first classification loss is far from ln(num_classes)."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import WARNING, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    max_ratio: float = 2.0
    min_ratio: float = 0.0


RULE = Rule(
    code="TL910",
    name="unexpected-initial-loss",
    family="runtime",
    severity=WARNING,
    summary="The first classification loss is far from ln(num_classes).",
    kind="runtime",
    options=Options,
)
