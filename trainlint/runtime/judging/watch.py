"""`trace --watch`: the symptoms the watcher sent, as findings (no torch)."""

from __future__ import annotations

from typing import Dict, List

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx
from trainlint.runtime.records import WatchAlert

# What to do about each symptom, after the watcher's own description of it.
ADVICE: Dict[str, str] = {
    "TL901": "From there on every update is NaN or Inf and the weights are lost: lower the learning rate, "
    "clip gradients, and look for a log or a division by zero (run `trainlint trace` for the first "
    "layer that produces it).",
    "TL903": "An update this large throws the weights far from where they were: clip gradients "
    "(`torch.nn.utils.clip_grad_norm_`), lower the learning rate or warm it up.",
    "TL912": "Check the learning rate (`trainlint trace --lr-find`), that gradients reach the weights, and "
    "that the model can overfit one batch (`--overfit-batch`).",
    "TL918": "A spike often precedes divergence: lower the learning rate, clip gradients, or look for a bad "
    "batch (outliers, wrong labels) at that step.",
}


def findings(c: Ctx, code: str) -> List[Diagnostic]:
    """One finding per code: its first alert, with how many more the run showed."""
    ev = c.ev
    alerts: List[WatchAlert] = [a for a in ev.watch_alerts if a.code == code]
    if not alerts:
        return []
    first = alerts[0]
    evidence = {
        "observed": first.message,
        "step": first.step,
        "value": first.value,
        "compared_with": first.reference,
        "audited_every": ev.watch_audits[-1].every if ev.watch_audits else None,
    }
    return [runtime_finding(c, code, f"{first.message}. {ADVICE.get(code, '')}".strip(), first.site, evidence)]
