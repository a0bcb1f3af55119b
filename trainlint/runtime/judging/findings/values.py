"""Runtime-only findings on the values of a run: the first NaN/Inf (TL901), an input batch far
from unit scale (TL906)."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import input_normaliser, input_scale_problem, runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt
from trainlint.runtime.judging.registry import finding
from trainlint.runtime.records import NonFiniteAt


@finding("TL901")
def non_finite(c: Ctx) -> List[Diagnostic]:
    for rec in c.ev.inputs:
        for t in rec.tensors:
            if t.finite is False:
                return [
                    runtime_finding(
                        c,
                        "TL901",
                        f"the first batch fed to `{rec.model}` contains NaN or Inf (input "
                        f"{t.name}); every output and gradient computed from it is NaN. Clean "
                        "or impute missing values before training.",
                        rec.site,
                        {
                            "observed": f"NaN/Inf in the input batch (shape {t.shape})",
                            "expected": "finite values",
                            "step": rec.step + 1,
                            "appeared_in": "input batch",
                        },
                    )
                ]
    nf = c.ev.nonfinite
    if nf is not None:
        where = nf.where
        name = nf.name
        subject = "the loss" if where == NonFiniteAt.LOSS else f"{where} `{name}`"
        return [
            runtime_finding(
                c,
                "TL901",
                f"the first NaN/Inf of the run appeared in {subject} at step {nf.step}; from there "
                "it spreads to every parameter. Look for a division by zero, log of 0, an exploding "
                "learning rate or overflow in half precision at this point.",
                nf.site,
                {
                    "observed": f"first non-finite value in {subject}",
                    "expected": "finite values",
                    "step": nf.step,
                    "appeared_in": where,
                    "name": name,
                },
            )
        ]
    for r in c.ev.losses:
        value = c.ev.loss_value(r)
        if isinstance(value, str):
            return [
                runtime_finding(
                    c,
                    "TL901",
                    f"the loss `{r.fn}` returned {value} at step {r.step}. Look for a "
                    "log of 0, an exploding learning rate or invalid targets.",
                    r.site,
                    {"observed": f"loss = {value}", "expected": "a finite loss", "step": r.step},
                )
            ]
    return []


@finding("TL906")
def unnormalized_input(c: Ctx) -> List[Diagnostic]:
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
