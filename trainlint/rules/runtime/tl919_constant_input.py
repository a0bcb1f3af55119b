"""TL919 constant-input: The first batch's main input holds one value everywhere."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import constant_input, runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt


def findings_tl919(c: Ctx) -> List[Diagnostic]:
    for rec in c.ev.inputs:
        t = constant_input(rec)
        if t is None:
            continue
        return [
            runtime_finding(
                c,
                "TL919",
                f"every value of the first batch fed to `{rec.model}` is {fmt(t.min)} (shape {t.shape}): the "
                "model sees the same input for every sample, so it can only learn the labels' average and its "
                "first layer gets no weight gradient. Check that the features are loaded and not overwritten "
                "(a tensor left at `torch.zeros`, a wrong column, a normalisation that divides by zero).",
                rec.site,
                {
                    "observed": f"min = max = {fmt(t.min)} over {t.shape}",
                    "expected": "inputs that vary between samples",
                    "input": t.name,
                    "shape": t.shape,
                },
            )
        ]
    return []


RULE = Rule(
    code="TL919",
    name="constant-input",
    family="runtime",
    severity=WARNING,
    summary="The first batch's main input holds one value everywhere.",
    kind="runtime",
    runtime_check=findings_tl919,
)
