"""TL001 syntax-error: The file or notebook could not be read or parsed."""

from __future__ import annotations

from trainlint.rules.base import ERROR, Rule

RULE = Rule(
    code="TL001",
    name="syntax-error",
    family="tool",
    severity=ERROR,
    summary="The file or notebook could not be read or parsed.",
    kind="tool",
)
