"""Text output of `trainlint trace`: findings grouped by status, each with compact evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List

from trainlint.diagnostics import Diagnostic, Status
from trainlint.runtime.judging.context import fmt
from trainlint.runtime.judging.lr_find import text_lines
from trainlint.runtime.records import StopReason

if TYPE_CHECKING:
    from trainlint.runtime.judging.report import TraceReport

_TITLES = {
    Status.CONFIRMED: "confirmed by the run",
    Status.SUSPECTED: "suspected",
    Status.UNVERIFIED: "unverified (the run did not reach or measure it)",
    Status.REFUTED: "refuted by the run",
}
_OUTCOMES = {
    "stopped": "stopped after {done} of {steps} step(s) as requested",
    "finished": "the script finished on its own after {done} step(s)",
    "exit": "the script exited early after {done} of {steps} step(s)",
    "error": "the script raised after {done} of {steps} step(s)",
    "timeout": "timed out after {done} of {steps} step(s)",
    "crashed": "the script died after {done} of {steps} step(s)",
    "aborted": "stopped after {done} of {steps} step(s), when another rank had ended",
    "not-started": "the script could not be started",
}


_WATCH_ENDS = {"finished": "the script finished", "exit": "the script exited early", "error": "the script raised"}


def evidence_lines(ev: Dict[str, Any]) -> List[str]:
    lines = []
    if "observed" in ev:
        lines.append(f"observed: {ev['observed']}")
    if "expected" in ev:
        lines.append(f"expected: {ev['expected']}")
    where = ev.get("where")
    step = ev.get("step")
    if where and step is not None:
        lines.append(f"where: {where} (step {step})")
    elif where:
        lines.append(f"where: {where}")
    elif step is not None:
        lines.append(f"step: {step}")
    if "reason" in ev:
        lines.append(ev["reason"])
    return lines


def _one(d: Diagnostic) -> List[str]:
    head = f"  {d.path}:{d.span.line}:{d.span.column}: {d.code} {d.name} {d.message}"
    out = [head]
    for line in evidence_lines(d.evidence or {}):
        out.append(f"      {line}")
    return out


def outcome_line(report: "TraceReport") -> str:
    """How the run went, in words: "stopped after 2 of 2 step(s) as requested"."""
    ev = report.evidence
    outcome = _OUTCOMES.get(report.outcome, report.outcome).format(
        done=report.steps_completed, steps=report.steps_requested
    )
    stop = ev.stop
    if stop is not None and stop.reason == StopReason.NO_OPTIMIZER_STEP:
        outcome = f"stopped after {stop.backwards} backward passes without any optimizer step"
    if ev.watching:
        done = report.steps_completed
        if stop is not None and stop.reason == StopReason.ALERT:
            outcome = f"watched {done} step(s), then stopped at the first symptom (--stop-on)"
        elif ev.interrupted or (stop is not None and stop.reason == StopReason.INTERRUPTED):
            outcome = f"watched {done} step(s) until interrupted (Ctrl-C)"
        elif report.outcome in _WATCH_ENDS:
            outcome = f"watched the whole run: {_WATCH_ENDS[report.outcome]} after {done} step(s)"
    if stop is not None and stop.reason == StopReason.DIVERGED and report.outcome == "stopped":
        outcome = (
            f"the range test stopped when the loss diverged, after {report.steps_completed} of "
            f"{report.steps_requested} step(s)"
        )
    return outcome


def render_text(report: "TraceReport") -> str:
    lines: List[str] = []
    ev = report.evidence
    lines.append(f"trainlint trace {report.target}: {outcome_line(report)} ({fmt(round(ev.duration, 1))} s)")
    if ev.fatal:
        lines.append(f"  {ev.fatal.message}")
    # The script's own failures (TL003) and the tool's are about the run, not findings it confirmed.
    run_problems = [d for d in report.diagnostics if about_the_run(d)]
    if run_problems:
        lines.append("")
        lines.append(f"problems with the run ({len(run_problems)})")
        for d in run_problems:
            lines.extend(_one(d))
    findings = [d for d in report.diagnostics if not about_the_run(d)]
    for status in (Status.CONFIRMED, Status.SUSPECTED, Status.UNVERIFIED, Status.REFUTED):
        group = [d for d in findings if d.status == status]
        if not group:
            continue
        lines.append("")
        lines.append(f"{_TITLES[status]} ({len(group)})")
        for d in group:
            lines.extend(_one(d))
    if ev.started and not any(d.status != Status.REFUTED for d in report.diagnostics):
        lines.append("")
        lines.append(_nothing_found(report))
    if report.range_test is not None:
        lines.append("")
        lines.extend(text_lines(report.range_test, report.where, report.range_factor))
    if report.comparison is not None:
        lines.append("")
        lines.extend(report.comparison.lines())
    losses = report.losses()
    lines.append("")
    summary = f"{report.steps_completed} {_steps_noun(report)}, {ev.backwards} backward pass(es)"
    if losses:
        summary += f", loss {fmt(losses[0])} -> {fmt(losses[-1])}"
    counts = ", ".join(
        f"{sum(1 for d in findings if d.status == s)} {s.value}"
        for s in (Status.CONFIRMED, Status.UNVERIFIED, Status.REFUTED)
    )
    lines.append(f"{summary}; {counts}")
    for note in report.all_notes():
        lines.append(f"note: {note}")
    for rec in ev.internal[:3]:
        lines.append(f"note: tracer problem in {rec.where}: {rec.error}")
    return "\n".join(lines) + "\n"


def about_the_run(d: Diagnostic) -> bool:
    return d.code.startswith("TL0")


def _nothing_found(report: "TraceReport") -> str:
    """What a run without findings was checked for."""
    ev = report.evidence
    checked = report.checked
    if len(checked) == 1:
        rules = f"the runtime check {checked[0]}"
    else:
        rules = f"{len(checked)} runtime checks ({checked[0]}-{checked[-1]})" if checked else "the runtime checks"
    refuted = len(report.by_status(Status.REFUTED))
    static = f", and the static suspicions were tested against it ({refuted} refuted)" if refuted else ""
    return (
        f"nothing found: {rules} watched {report.steps_completed} {_steps_noun(report)} and "
        f"{ev.backwards} backward pass(es){static}"
    )


def _steps_noun(report: "TraceReport") -> str:
    ev = report.evidence
    return "update step(s) by hand" if not ev.steps and ev.manual else "optimizer step(s)"
