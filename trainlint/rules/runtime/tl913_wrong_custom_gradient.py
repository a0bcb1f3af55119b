"""TL913 wrong-custom-gradient: A custom autograd Function's backward disagrees with finite differences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    atol: float = 1e-5
    rtol: float = 1e-3
    eps: float = 1e-6
    max_rows: int = 4


def findings_tl913(c: Ctx) -> List[Diagnostic]:
    out = []
    for f in c.ev.functions:
        if f.checked and f.passed is False:
            out.append(
                runtime_finding(
                    c,
                    "TL913",
                    f"the backward of custom autograd Function `{f.name}` disagrees with finite "
                    f"differences on inputs it saw in the run (directional derivative: backward "
                    f"{fmt(f.analytic)}, numeric {fmt(f.numeric)}). Fix its `backward` "
                    "formula.",
                    f.site,
                    {
                        "observed": f"backward {fmt(f.analytic)} vs finite differences {fmt(f.numeric)}",
                        "expected": "agreement within gradcheck tolerances",
                        "gradcheck": f.message,
                        "input_shapes": f.shapes,
                    },
                )
            )
    return out


RULE = Rule(
    code="TL913",
    name="wrong-custom-gradient",
    family="runtime",
    severity=ERROR,
    summary="A custom autograd Function's backward disagrees with finite differences.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl913,
)
