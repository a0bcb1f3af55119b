"""TL911 label-out-of-range: A class target lies outside [0, num_classes)."""

from __future__ import annotations

from trainlint.rules.base import ERROR, Rule

RULE = Rule(
    code="TL911",
    name="label-out-of-range",
    family="runtime",
    severity=ERROR,
    summary="A class target lies outside [0, num_classes).",
    kind="runtime",
)
