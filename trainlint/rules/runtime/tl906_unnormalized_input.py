"""TL906 unnormalized-input: The first batch's float inputs are far from zero mean and unit scale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import input_normaliser, input_scale_problem, runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt


@dataclass(frozen=True)
class Options:
    """Thresholds of this tracer check."""

    max_abs_mean: float = 3.0
    max_std: float = 5.0
    max_abs_value: float = 10.0


def findings_tl906(c: Ctx) -> List[Diagnostic]:
    for rec in c.ev.inputs:
        if input_normaliser(c, rec.model) is not None:
            continue  # the model's first layer normalises the batch itself
        for t in rec.tensors:
            if not str(t.dtype).startswith(("float", "bfloat")) or t.mean is None:
                continue
            problem = input_scale_problem(c, t)
            if problem:
                return [
                    runtime_finding(
                        c,
                        "TL906",
                        f"the first batch fed to `{rec.model}` is far from zero mean and unit "
                        f"scale ({problem}); large inputs give large activations and gradients in the "
                        "first layer. Normalise with the dataset's mean and std.",
                        rec.site,
                        {
                            "observed": f"mean {fmt(t.mean)}, std {fmt(t.std)}, range [{fmt(t.min)}, {fmt(t.max)}]",
                            "expected": "roughly zero mean and unit std",
                            "input": t.name,
                            "shape": t.shape,
                        },
                    )
                ]
    return []


RULE = Rule(
    code="TL906",
    name="unnormalized-input",
    family="runtime",
    severity=WARNING,
    summary="The first batch's float inputs are far from zero mean and unit scale.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl906,
)
