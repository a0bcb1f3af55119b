"""TL915 ranks-out-of-sync: In a distributed run, the ranks step their model copies with different gradients."""

from __future__ import annotations

from typing import List, Optional, Tuple

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt
from trainlint.runtime.judging.evidence import Evidence, finite
from trainlint.runtime.records import ParamInfo

# Averaged gradients are equal on every rank up to float rounding in the reduction.
RELATIVE_TOLERANCE = 1e-3


def findings_tl915(c: Ctx) -> List[Diagnostic]:
    for peer in c.ev.peers:
        found = _first_difference(c.ev, peer)
        if found is None:
            continue
        step, param, mine, theirs = found
        return [
            runtime_finding(
                c,
                "TL915",
                f"at optimizer step {step} the ranks step `{param.name}` with different gradients (norm "
                f"{fmt(mine)} here, {fmt(theirs)} on another rank): gradients are not averaged across "
                "ranks, so each rank trains its own copy of the model on its own shard and the copies "
                "drift apart. Wrap the model in `DistributedDataParallel` before training (or all-reduce "
                "the gradients before `step()`), and step the wrapped model.",
                param.site,
                {
                    "observed": f"gradient norm of `{param.name}` at step {step}: {fmt(mine)} vs {fmt(theirs)}",
                    "expected": "the same averaged gradient on every rank",
                    "step": step,
                    "parameter": param.name,
                },
            )
        ]
    return []


def _first_difference(mine: Evidence, theirs: Evidence) -> Optional[Tuple[int, ParamInfo, float, float]]:
    """The first step and parameter whose gradient differs between two ranks. Only parameters
    both ranks hold by the same name and shape count (sharded training, FSDP or ZeRO, hands
    each rank different pieces)."""
    for a, b in zip(mine.steps, theirs.steps):
        if (a.optimizer, a.opt_step) != (b.optimizer, b.opt_step):
            return None
        opt_a, opt_b = mine.optimizers.get(a.optimizer), theirs.optimizers.get(b.optimizer)
        if opt_a is None or opt_b is None:
            return None
        held_b = {(p.name, tuple(p.shape)): p.i for p in opt_b.params}
        grads_b = {p.i: p.grad for p in b.params}
        for p in a.params:
            if not (0 <= p.i < len(opt_a.params)):
                continue
            info = opt_a.params[p.i]
            j = held_b.get((info.name, tuple(info.shape)))
            g_b = grads_b.get(j) if j is not None else None
            if not (finite(p.grad) and finite(g_b)):
                continue
            scale = max(abs(p.grad), abs(g_b), 1e-12)
            if abs(p.grad - g_b) > RELATIVE_TOLERANCE * scale:
                return a.opt_step, info, p.grad, g_b
    return None


RULE = Rule(
    code="TL915",
    name="ranks-out-of-sync",
    family="runtime",
    severity=ERROR,
    summary="In a distributed run, the ranks step their model copies with different gradients.",
    kind="runtime",
    runtime_check=findings_tl915,
)
