"""TL913 wrong-custom-gradient: A custom autograd Function's backward disagrees with finite differences."""

from __future__ import annotations

from dataclasses import dataclass

from trainlint.rules.base import ERROR, Rule


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    atol: float = 1e-5
    rtol: float = 1e-3
    eps: float = 1e-6
    max_rows: int = 4


RULE = Rule(
    code="TL913",
    name="wrong-custom-gradient",
    family="runtime",
    severity=ERROR,
    summary="A custom autograd Function's backward disagrees with finite differences.",
    kind="runtime",
    options=Options,
)
