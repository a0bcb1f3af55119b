"""What every verdict needs: the evidence, the thresholds, and location matching (no torch)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, TypeVar

from trainlint.diagnostics import Diagnostic, Status
from trainlint.runtime import thresholds
from trainlint.runtime.evidence import Evidence, display_path, finite

T = TypeVar("T")


@dataclass
class Verdict:
    status: Status
    evidence: Dict[str, Any]


def confirmed(**evidence: Any) -> Verdict:
    return Verdict(Status.CONFIRMED, {k: v for k, v in evidence.items() if v is not None})


def unverified(reason: str) -> Verdict:
    """The run reached the code but could not judge it; `reason` says why."""
    return Verdict(Status.UNVERIFIED, {"reason": reason})


def refuted(**evidence: Any) -> Verdict:
    return Verdict(Status.REFUTED, {k: v for k, v in evidence.items() if v is not None})


def fmt(value: Any) -> str:
    """Numbers for messages: 3 significant digits, NaN/Inf spelled out."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return f"{value:.3g}"
    return str(value)


class Ctx:
    def __init__(self, evidence: Evidence, script: Optional[str], settings: Any = None) -> None:
        self.ev = evidence
        self.script = script
        self.settings = settings

    def opts(self, code: str) -> Dict[str, Any]:
        return thresholds.rule_options(code, self.settings)

    def where(self, site: Optional[Dict[str, Any]]) -> Optional[str]:
        if not site or not site.get("path"):
            return None
        return f"{display_path(site['path'], self.script)}:{site.get('line', 1)}"

    def path_of(self, site: Optional[Dict[str, Any]]) -> str:
        if not site or not site.get("path"):
            return self.script or "<trace>"
        return display_path(site["path"], self.script)

    @staticmethod
    def at(d: Diagnostic, site: Optional[Dict[str, Any]]) -> bool:
        """Is `site` (absolute path, line) the diagnostic's statement, or one of its related lines?"""
        if not site or not site.get("path"):
            return False
        path = os.path.abspath(site["path"])
        line = site.get("line", 0)
        if os.path.abspath(d.path) == path:
            lo, hi = d.span.line, d.span.end_line
            if d.statement_lines:
                lo, hi = min(lo, d.statement_lines[0]), max(hi, d.statement_lines[1])
            if lo <= line <= hi:
                return True
        return any(os.path.abspath(r.path) == path and r.line == line for r in d.related)

    def prefer(self, d: Diagnostic, items: Iterable[T], site: Callable[[T], Optional[Dict[str, Any]]]) -> List[T]:
        """Items recorded at the diagnostic's line when there are any, else all of them."""
        items = list(items)
        here = [i for i in items if self.at(d, site(i))]
        return here or items

    def loss_records(self, d: Diagnostic, fns: Iterable[str]) -> List[Dict[str, Any]]:
        names = set(fns)
        recs = [r for r in self.ev.losses if r.get("fn") in names and "input" in r]
        return self.prefer(d, recs, lambda r: r.get("site"))

    def step_after(self, event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The optimizer step that followed an event."""
        n = event.get("step", 0)
        return next((s for s in self.ev.steps if s.get("step", 0) > n), None)


def num(value: Any, default: float = float("nan")) -> float:
    return float(value) if finite(value) else default
