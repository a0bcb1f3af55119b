"""TL907 parameter-without-gradient: A trainable parameter receives no gradient."""

from __future__ import annotations

from trainlint.rules.base import WARNING, Rule

RULE = Rule(
    code="TL907",
    name="parameter-without-gradient",
    family="runtime",
    severity=WARNING,
    summary="A trainable parameter receives no gradient.",
    kind="runtime",
)
