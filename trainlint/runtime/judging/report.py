"""What a trace found: the findings with their status and evidence, and how the run went (no torch)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from trainlint.diagnostics import Diagnostic, Status
from trainlint.runtime.judging import lr_find, run_compare
from trainlint.runtime.judging.evidence import Evidence, display_path
from trainlint.runtime.judging.merge import ORDER
from trainlint.runtime.records import CodeSite

EXIT_CLEAN, EXIT_FINDINGS, EXIT_NOT_STARTED = 0, 1, 2


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
    ranks: List[str] = field(default_factory=list)  # how each rank ended, in a distributed trace
    checked: List[str] = field(default_factory=list)  # the runtime-only rules that looked at the run
    # `trace --lr-find`: the range test read back, and how far outside its range a rate may be.
    range_test: Optional[lr_find.RangeTest] = None
    range_factor: float = lr_find.OUTSIDE_FACTOR
    # TL909's thresholds on ||dw||/||w||, for the HTML report's update-ratio plot.
    update_band: Tuple[float, float] = (1e-5, 0.5)
    # `trace --baseline run.json`: this run compared with a saved one, layer by layer.
    comparison: Optional[run_compare.Comparison] = None

    def saved_run(self) -> run_compare.SavedRun:
        """What `--save` writes: the run's per-step, per-layer evidence."""
        return run_compare.saved_run(self.evidence, self.target)

    def saved_run_json(self) -> str:
        return json.dumps(self.saved_run().to_json(), indent=1) + "\n"

    def compare_with(self, baseline: run_compare.SavedRun, path: str) -> run_compare.Comparison:
        self.comparison = run_compare.compare(self.saved_run(), baseline, path)
        return self.comparison

    def __str__(self) -> str:
        return self.render()

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

    def where(self, site: Optional[CodeSite]) -> Optional[str]:
        """A line of the user's code as the report shows it."""
        if site is None or not site.path:
            return None
        return f"{display_path(site.path, self.target)}:{site.line}"

    def losses(self) -> List[Any]:
        """The loss of each step (of each range-test step with `--lr-find`)."""
        ev = self.evidence
        if ev.lr_find:
            return [p.loss for p in ev.lr_points if p.loss is not None]
        return [v for s in ev.steps for v in s.losses]

    def run_summary(self) -> Dict[str, Any]:
        ev = self.evidence
        losses = self.losses()
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
        if self.ranks:
            out["ranks"] = list(self.ranks)
        if ev.fatal:
            out["error"] = ev.fatal.message
        if ev.internal:
            out["tracer_errors"] = [f"{r.where}: {r.error}" for r in ev.internal[:5]]
        notes = self.all_notes()
        if notes:
            out["notes"] = notes
        if self.range_test is not None:
            out["lr_find"] = lr_find.to_json(self.range_test, self.where, self.range_factor)
        seed = ev.start.seed if ev.start is not None else None
        out["seed"] = seed
        if self.comparison is not None:
            out["baseline"] = self.comparison.to_json()
        if ev.watching:
            out["watch"] = self.watch_summary()
        return out

    def watch_summary(self) -> Dict[str, Any]:
        """`trace --watch`: how often it audited, what the audits cost, what it saw."""
        ev = self.evidence
        audits = ev.watch_audits
        # Audit time over the steps' time since the first audit: what the audits added to the
        # run (the first window also holds the script's start-up).
        pairs = [
            (b.audit_seconds, b.step_seconds * (b.step - a.step)) for a, b in zip(audits, audits[1:]) if b.step_seconds
        ]
        spent = sum(s for _, s in pairs)
        cost = sum(a for a, _ in pairs) / spent if spent > 0 else None
        return {
            "audits": len(audits),
            "every_last": audits[-1].every if audits else None,
            "audit_overhead": round(cost, 4) if cost is not None else None,
            "alerts": [
                {"code": a.code, "step": a.step, "message": a.message, "value": a.value, "reference": a.reference}
                for a in ev.watch_alerts
            ],
        }

    def all_notes(self) -> List[str]:
        """The report's notes, with what became of a wait for an evaluation pass."""
        wait = self.evidence.wait_note()
        tested = self.range_test.notes if self.range_test is not None else []
        return list(self.notes) + list(self.evidence.notes) + ([wait] if wait else []) + tested

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
        """The report as `text`, `json` or `html` (a self-contained page with its plots)."""
        if fmt == "json":
            return self.to_json()
        if fmt == "html":
            from trainlint.report.trace_html import render_html

            return render_html(self)
        from trainlint.report.trace_text import render_text

        return render_text(self)
