"""TL906 unnormalized-input: The first batch's float inputs are far from zero mean and unit scale."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import WARNING, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    max_abs_mean: float = 3.0
    max_std: float = 5.0
    max_abs_value: float = 10.0


RULE = Rule(
    code="TL906",
    name="unnormalized-input",
    family="runtime",
    severity=WARNING,
    summary="The first batch's float inputs are far from zero mean and unit scale.",
    kind="runtime",
    options=Options,
)
