"""TL921 batchnorm-reused: one BatchNorm layer normalises successive stages of a forward pass."""

from __future__ import annotations

from typing import List, Set

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx


def findings_tl921(c: Ctx) -> List[Diagnostic]:
    out: List[Diagnostic] = []
    done: Set[str] = set()
    for r in c.ev.norm_reuse:
        # (a suppression comment at the reported line is applied with every runtime finding's;
        # this rule also honours one at the line of the repeated call)
        if r.layer in done or c.noqa.at_site(r.called_at, "TL921"):
            continue
        done.add(r.layer)
        again = f" (again at {c.where(r.called_at)})" if c.where(r.called_at) else ""
        out.append(
            runtime_finding(
                c,
                "TL921",
                f"`{r.layer}` ({r.layer_type}) is called {r.calls} times in one training forward pass of "
                f"`{r.model}`, each call on a feature map computed from its previous output{again}: the "
                "successive stages share one set of running statistics (a mix of them, so evaluation "
                "normalises each stage with the wrong mean and variance) and one scale and shift. Give each "
                "stage its own BatchNorm layer (`self.bn1`, `self.bn2`, ...); for a recurrent cell, keep "
                "statistics per time step.",
                r.site or r.called_at,
                {
                    "observed": f"`{r.layer}` applied {r.calls} times in a chain in one forward pass",
                    "expected": "one BatchNorm layer per normalised stage",
                    "layer": r.layer,
                    "calls": r.calls,
                    "called_at": c.where(r.called_at),
                },
            )
        )
    return out


RULE = Rule(
    code="TL921",
    name="batchnorm-reused",
    family="runtime",
    severity=WARNING,
    summary="One BatchNorm layer normalises successive stages of the same forward pass.",
    kind="runtime",
    runtime_check=findings_tl921,
)
