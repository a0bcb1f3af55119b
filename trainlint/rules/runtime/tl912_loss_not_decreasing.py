"""TL912 loss-not-decreasing: Repeating one batch, the loss does not fall."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import WARNING, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    min_relative_decrease: float = 0.1


RULE = Rule(
    code="TL912",
    name="loss-not-decreasing",
    family="runtime",
    severity=WARNING,
    summary="Repeating one batch, the loss does not fall.",
    kind="runtime",
    options=Options,
)
