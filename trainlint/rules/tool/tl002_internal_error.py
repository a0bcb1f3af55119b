"""TL002 internal-error: A rule failed on this file; always a defect of trainlint."""

from __future__ import annotations

from trainlint.rules.base import ERROR, Rule

RULE = Rule(
    code="TL002",
    name="internal-error",
    family="tool",
    severity=ERROR,
    summary="A rule failed on this file; always a defect of trainlint.",
    kind="tool",
)
