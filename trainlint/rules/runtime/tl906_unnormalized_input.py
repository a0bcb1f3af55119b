"""TL906 unnormalized-input: The first batch's float inputs are far from zero mean and unit scale."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import input_normaliser, input_scale_problem, runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt, num


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
        if _first_layer_sees_it_scaled(c, rec.model):
            continue  # the model rescales it before its first layer (`log1p`, a fixed standardisation)
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


def _first_layer_sees_it_scaled(c: Ctx, model: Optional[str]) -> bool:
    """The first Linear/Conv layer of the first training pass puts out values of ordinary
    scale: whatever the raw batch looks like, the model brought it to scale before any weight
    met it. Raw pixels or counts fed straight to a layer give outputs hundreds of times larger."""
    o = c.opts("TL906")
    mine = [a for a in c.ev.act_std if model and a.module.startswith(f"{model}.")] or list(c.ev.act_std)
    if not mine:
        return False
    first = min(mine, key=lambda a: a.order)
    std, mean = num(first.std), num(first.mean, 0.0)
    return math.isfinite(std) and std <= float(o["max_std"]) and abs(mean) <= float(o["max_abs_mean"])


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
