"""TL003 script-error: The traced script raised or exited before the requested steps."""

from __future__ import annotations

from trainlint.rules.base import ERROR, Rule

RULE = Rule(
    code="TL003",
    name="script-error",
    family="tool",
    severity=ERROR,
    summary="The traced script raised or exited before the requested steps.",
    kind="tool",
)
