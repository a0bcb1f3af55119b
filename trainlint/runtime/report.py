"""Merge static suspicions with runtime evidence into one report (no torch)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set

from trainlint.diagnostics import Diagnostic, Status
from trainlint.runtime.context import Ctx
from trainlint.runtime.evidence import Evidence
from trainlint.runtime.findings import FINDINGS, script_error
from trainlint.runtime.verdicts import NO_RUNTIME_CHECK, judge

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
EXIT_CLEAN, EXIT_FINDINGS, EXIT_NOT_STARTED = 0, 1, 2
ORDER = (Status.CONFIRMED, Status.SUSPECTED, Status.UNVERIFIED, Status.REFUTED)


@dataclass
class TraceReport:
    """What `trainlint trace` found: every finding with its status and evidence, and how the run went."""

    diagnostics: List[Diagnostic] = field(default_factory=list)
    evidence: Evidence = field(default_factory=Evidence)
    target: str = ""
    steps_requested: int = 2
    timeout: float = 300.0
    files: int = 0
    notes: List[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return self.evidence.stop_reason()

    @property
    def steps_completed(self) -> int:
        return self.evidence.total_steps

    @property
    def exit_code(self) -> int:
        if not self.evidence.started:
            return EXIT_NOT_STARTED
        if any(d.status != Status.REFUTED for d in self.diagnostics):
            return EXIT_FINDINGS
        return EXIT_CLEAN

    def by_status(self, status: Status) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.status == status]

    def codes(self, status: Optional[Status] = None) -> List[str]:
        return [d.code for d in self.diagnostics if status is None or d.status == status]

    def find(self, code: str) -> List[Diagnostic]:
        return [d for d in self.diagnostics if d.code == code]

    def run_summary(self) -> Dict[str, Any]:
        ev = self.evidence
        losses = [v for s in ev.steps for v in s.get("losses", [])]
        out: Dict[str, Any] = {
            "target": self.target,
            "outcome": self.outcome,
            "steps_requested": self.steps_requested,
            "steps_completed": self.steps_completed,
            "backward_passes": ev.backwards,
            "duration_s": round(ev.duration, 3),
            "losses": losses[:50],
        }
        if ev.returncode is not None:
            out["returncode"] = ev.returncode
        if ev.fatal:
            out["error"] = ev.fatal.get("message")
        if ev.internal:
            out["tracer_errors"] = [f"{r.get('where')}: {r.get('error')}" for r in ev.internal[:5]]
        notes = self.all_notes()
        if notes:
            out["notes"] = notes
        return out

    def all_notes(self) -> List[str]:
        """The report's notes, with what became of a wait for an evaluation pass."""
        wait = self.evidence.wait_note()
        return list(self.notes) + ([wait] if wait else [])

    def to_dict(self) -> Dict[str, Any]:
        try:
            from trainlint.diagnostics import CheckResult
            from trainlint.report.json_format import as_dict

            body = as_dict(CheckResult(diagnostics=self.diagnostics, files=self.files))
        except ImportError:  # the static side is not installed: same contract, built here
            from trainlint import __version__

            body = {
                "version": __version__,
                "diagnostics": [d.to_json() for d in self.diagnostics],
                "summary": {
                    "files": self.files,
                    "diagnostics": len(self.diagnostics),
                    "errors": sum(1 for d in self.diagnostics if d.severity.value == "error"),
                },
            }
        body["summary"]["by_status"] = {s.value: len(self.by_status(s)) for s in ORDER}
        body["trace"] = self.run_summary()
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def render(self, fmt: str = "text") -> str:
        if fmt == "json":
            return self.to_json()
        from trainlint.runtime.render import render_text

        return render_text(self)


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
    c = Ctx(evidence, script, settings)
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
                if not evidence.reached_training and d.code not in NO_RUNTIME_CHECK:
                    reason = "the traced run never reached a training step"
                d.evidence = {"reason": reason}
            else:
                d.status, d.evidence = v.status, v.evidence
        if d.status == Status.CONFIRMED:
            confirmed.add(d.code)
        out.append(d)
    if started:
        hidden = set().union(*(SUBSUMES.get(code, set()) for code in confirmed)) if confirmed else set()
        for code, fn in FINDINGS.items():
            if code in hidden:
                continue
            try:
                out.extend(fn(c))
            except Exception as exc:  # a defect in one check must not lose the others
                evidence.internal.append({"where": f"finding {code}", "error": f"{type(exc).__name__}: {exc}"})
        out.extend(script_error(c, steps, timeout))
    if enabled is not None:
        out = [d for d in out if d.code in enabled]
    out.sort(key=lambda d: (ORDER.index(d.status) if d.status in ORDER else 9, d.sort_key()))
    return out
