"""TL916 ddp-unused-parameters: A DistributedDataParallel model has parameters its forward leaves out of the loss."""

from __future__ import annotations

from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, names_shown


def findings_tl916(c: Ctx) -> List[Diagnostic]:
    strict = c.ev.strict_ddp_models()
    if not strict or not c.ev.steps:
        return []
    without = [p.name for _, _, missing in c.ev.params_without_gradient() for p in missing]
    out = []
    for model in strict:
        own = {p.name for p in model.params}
        unused = [name for name in without if name in own]
        if not unused:
            continue
        out.append(
            runtime_finding(
                c,
                "TL916",
                f"{len(unused)} parameter(s) of the DistributedDataParallel model `{model.model}` took "
                f"no part in the loss: {names_shown(unused)}. DDP waits for a gradient of every "
                'parameter before it averages them, so the next forward fails with "Expected to have '
                'finished reduction in the prior iteration" (and the gradients of the step before '
                "are not averaged across ranks). Remove the unused layers or make the loss use "
                "them; if the forward skips them on purpose, pass `find_unused_parameters=True` "
                "(or `static_graph=True` when the same ones are skipped every step).",
                model.site,
                {
                    "observed": f"`.grad` None after the backward for {len(unused)} parameter(s) of the wrapped model",
                    "expected": "a gradient for every parameter, as find_unused_parameters=False requires",
                    "parameters": unused[:20],
                },
            )
        )
    return out


RULE = Rule(
    code="TL916",
    name="ddp-unused-parameters",
    family="runtime",
    severity=ERROR,
    summary="A DistributedDataParallel model has parameters its forward leaves out of the loss.",
    kind="runtime",
    runtime_check=findings_tl916,
)
