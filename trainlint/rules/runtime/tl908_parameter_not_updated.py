"""TL908 parameter-not-updated: A trainable parameter is not updated by any optimizer step."""

from __future__ import annotations

from trainlint.rules.base import WARNING, Rule

RULE = Rule(
    code="TL908",
    name="parameter-not-updated",
    family="runtime",
    severity=WARNING,
    summary="A trainable parameter is not updated by any optimizer step.",
    kind="runtime",
)
