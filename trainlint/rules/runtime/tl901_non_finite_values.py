"""TL901 non-finite-values: A NaN or Inf appeared during the traced steps."""

from __future__ import annotations

from trainlint.rules.base import ERROR, Rule

RULE = Rule(
    code="TL901",
    name="non-finite-values",
    family="runtime",
    severity=ERROR,
    summary="A NaN or Inf appeared during the traced steps.",
    kind="runtime",
)
