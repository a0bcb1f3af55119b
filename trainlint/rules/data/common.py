"""Helpers shared by the data rules (TL3xx)."""

from __future__ import annotations

from typing import Callable, Iterator, List

from trainlint.rules.base import Finding, RuleContext


def cached_findings(ctx: RuleContext, build: Callable[[RuleContext], List[Finding]]) -> List[Finding]:
    """The findings `build` makes for the whole project, once per run."""
    return ctx.project.once(build, lambda: build(ctx))


def in_module(ctx: RuleContext, findings: List[Finding]) -> Iterator[Finding]:
    for f in findings:
        if f.module is ctx.module:
            yield f
