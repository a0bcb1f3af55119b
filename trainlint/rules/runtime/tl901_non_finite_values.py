"""TL901 non-finite-values: A NaN or Inf appeared during the traced steps."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx
from trainlint.runtime.records import NonFiniteAt


def findings_tl901(c: Ctx) -> List[Diagnostic]:
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


RULE = Rule(
    code="TL901",
    name="non-finite-values",
    family="runtime",
    severity=ERROR,
    summary="A NaN or Inf appeared during the traced steps.",
    kind="runtime",
    runtime_check=findings_tl901,
)
