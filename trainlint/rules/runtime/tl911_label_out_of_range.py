"""TL911 label-out-of-range: A class target lies outside [0, num_classes)."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt, num
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.records import BINARY_LOSSES, CLASS_LOSSES


def findings_tl911(c: Ctx) -> List[Diagnostic]:
    for r in c.ev.losses:
        t = r.target
        fn = r.fn
        if t is None:
            continue
        if fn in CLASS_LOSSES and str(t.dtype).startswith(("int", "uint")) and r.num_classes:
            lo, hi, n = t.min_valid, t.max, r.num_classes
            if (finite(lo) and lo < 0) or (finite(hi) and hi >= n):
                return [
                    runtime_finding(
                        c,
                        "TL911",
                        f"class targets of `{fn}` range over [{fmt(lo)}, {fmt(hi)}] but the input has {n} "
                        f"classes (valid targets 0..{n - 1}). Fix the label encoding or the size of the "
                        "output layer.",
                        r.site,
                        {
                            "observed": f"targets in [{fmt(lo)}, {fmt(hi)}]",
                            "expected": f"targets in [0, {n - 1}]",
                            "num_classes": n,
                            "step": r.step,
                        },
                    )
                ]
        if fn in BINARY_LOSSES and finite(t.min):
            if t.min < 0 or num(t.max, 0.0) > 1:
                return [
                    runtime_finding(
                        c,
                        "TL911",
                        f"targets of `{fn}` range over [{fmt(t.min)}, {fmt(t.max)}]; binary "
                        "cross-entropy needs targets in [0, 1].",
                        r.site,
                        {
                            "observed": f"targets in [{fmt(t.min)}, {fmt(t.max)}]",
                            "expected": "targets in [0, 1]",
                            "step": r.step,
                        },
                    )
                ]
    return []


RULE = Rule(
    code="TL911",
    name="label-out-of-range",
    family="runtime",
    severity=ERROR,
    summary="A class target lies outside [0, num_classes).",
    kind="runtime",
    runtime_check=findings_tl911,
)
