"""Runtime-only finding on custom autograd Functions: a backward that disagrees with finite
differences (TL913)."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt
from trainlint.runtime.judging.registry import finding


@finding("TL913")
def wrong_custom_gradient(c: Ctx) -> List[Diagnostic]:
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
