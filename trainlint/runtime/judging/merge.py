"""Static suspicions with their verdicts, plus the runtime-only findings: one list (no torch)."""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterable, List, Optional, Set

from trainlint.diagnostics import Diagnostic, Status
from trainlint.runtime.judging import watch
from trainlint.runtime.judging.context import Ctx
from trainlint.runtime.judging.evidence import Evidence
from trainlint.runtime.judging.findings import script_error
from trainlint.runtime.judging.judge import judge
from trainlint.runtime.judging.lr_find import CHECKS as RANGE_TEST_CHECKS
from trainlint.runtime.judging.registry import no_runtime_check, runtime_checks
from trainlint.runtime.records import TracerError

# A confirmed static finding already explains these runtime observations; reporting both would
# say the same thing twice.
SUBSUMES: Dict[str, Set[str]] = {
    "TL104": {"TL907"},
    "TL108": {"TL907"},
    "TL601": {"TL907"},
    "TL402": {"TL902", "TL905"},
    "TL303": {"TL901"},
    "TL301": {"TL906"},
    "TL501": {"TL909"},
}
ORDER = (Status.CONFIRMED, Status.SUSPECTED, Status.UNVERIFIED, Status.REFUTED)


def merge(
    static: Iterable[Diagnostic],
    evidence: Evidence,
    script: Optional[str],
    settings: Any = None,
    steps: int = 2,
    timeout: float = 300.0,
    enabled: Optional[Set[str]] = None,
) -> List[Diagnostic]:
    """Static findings with their verdicts, then the runtime-only findings, filtered by `enabled`."""
    static = list(static)
    c = Ctx(evidence, script, settings, static)
    out: List[Diagnostic] = []
    confirmed: Set[str] = set()
    started = evidence.started
    for d in static:
        if d.code.startswith("TL0"):
            out.append(d)
            continue
        if not started:
            d.status = Status.UNVERIFIED
            d.evidence = {"reason": "the script could not be started"}
        else:
            v, reason = judge(c, d)
            if v is None:
                d.status = Status.UNVERIFIED
                if not evidence.reached_training and not no_runtime_check(d.code):
                    reason = "the traced run never reached a training step"
                d.evidence = {"reason": reason}
            else:
                d.status, d.evidence = v.status, v.evidence
        if d.status == Status.CONFIRMED:
            confirmed.add(d.code)
        out.append(d)
    if started:
        hidden = set().union(*(SUBSUMES.get(code, set()) for code in confirmed)) if confirmed else set()
        for code, fn in runtime_checks():
            if code in hidden or (evidence.lr_find and code not in RANGE_TEST_CHECKS):
                continue
            if evidence.watching:
                fn = functools.partial(watch.findings, code=code)  # what the watcher saw, nothing else
            try:
                out.extend(d for d in fn(c) if not c.noqa.suppresses(d))
            except Exception as exc:  # a defect in one check must not lose the others
                evidence.internal.append(TracerError(where=f"finding {code}", error=f"{type(exc).__name__}: {exc}"))
        out.extend(script_error(c, steps, timeout))
    if enabled is not None:
        out = [d for d in out if d.code in enabled]
    out.sort(key=lambda d: (ORDER.index(d.status) if d.status in ORDER else 9, d.sort_key()))
    return out
