"""One static suspicion against the run: its verdict, or why it stays unverified."""

from __future__ import annotations

from typing import Optional, Tuple

from trainlint.diagnostics import Diagnostic, Status
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed
from trainlint.runtime.judging.lr_find import verdict_by_range_test
from trainlint.runtime.judging.registry import confirmed_by_crash, no_runtime_check, verdict_of
from trainlint.runtime.records import ExitStatus


def crash_verdict(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    """The script failed at the suspected line with an autograd/loss error: that is the confirmation."""
    out = c.ev.outcome
    frames = out.frames if out is not None else []
    if not confirmed_by_crash(d.code) or out is None or out.status != ExitStatus.ERROR or not frames:
        return None
    frame = frames[-1]
    if not c.at(d, frame):
        return None
    first_line = (str(out.message or "").splitlines() or [""])[0]  # `raise E()` has no message
    return confirmed(
        observed=f"the script failed here: {out.error_type}: {first_line[:200]}",
        where=c.where(frame),
    )


def judge(c: Ctx, d: Diagnostic) -> Tuple[Optional[Verdict], Optional[str]]:
    """(verdict or None, reason when unverified)."""
    if c.ev.lr_find:
        return verdict_by_range_test(c, d)
    why_not = no_runtime_check(d.code)
    if why_not:
        return None, f"no runtime check for this rule ({why_not})"
    fn = verdict_of(d.code)
    if fn is None:
        return None, "no runtime check for this rule"
    v = fn(c, d)
    if v is not None and v.status == Status.UNVERIFIED:
        return None, str(v.evidence.get("reason", ""))
    if v is None or v.status.value == "refuted":
        crash = crash_verdict(c, d)
        if crash is not None:
            return crash, None
    if v is None:
        return None, "the traced run never produced the evidence this check needs"
    return v, None
