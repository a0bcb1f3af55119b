"""Helpers shared by the data rules (TL3xx)."""

from __future__ import annotations

from typing import Callable, Iterator, List

from trainlint.rules.base import Finding, RuleContext


def cached_findings(ctx: RuleContext, key: str, build: Callable[[RuleContext], List[Finding]]) -> List[Finding]:
    cache = ctx.project.__dict__.setdefault("_tl_data_findings", {})
    if key not in cache:
        cache[key] = build(ctx)
    return cache[key]  # type: ignore[no-any-return]


def in_module(ctx: RuleContext, findings: List[Finding]) -> Iterator[Finding]:
    for f in findings:
        if f.module is ctx.module:
            yield f
