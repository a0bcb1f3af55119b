"""What every verdict needs: the evidence, the thresholds, and location matching (no torch)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, TypeVar

from trainlint import suppressions
from trainlint.diagnostics import Diagnostic, Status
from trainlint.runtime.judging import thresholds
from trainlint.runtime.judging.evidence import Evidence, display_path, finite
from trainlint.runtime.records import CallEvent, CodeSite, LossInputs, StepRecord

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


def names_shown(names: List[str], most: int = 6) -> str:
    """`a`, `b` and 3 more: a list of names for a message."""
    shown = ", ".join(f"`{n}`" for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


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


class NoqaComments:
    """`# noqa: CODE` comments (and file-wide ones) of the files runtime-only findings point
    into, each file read once: a finding at such a line is not reported, as a static one is not."""

    def __init__(self) -> None:
        self._files: Dict[str, Optional[suppressions.Suppressions]] = {}

    def at(self, path: Optional[str], line: int, code: str) -> bool:
        """Does a comment at `path:line` suppress `code`?"""
        if not path:
            return False
        path = os.path.abspath(path)
        if not path.endswith(".py"):
            return False  # (a notebook's lines are not its JSON file's lines)
        if path not in self._files:
            try:
                with open(path, encoding="utf-8") as f:
                    self._files[path] = suppressions.parse(f.read())
            except (OSError, UnicodeDecodeError, ValueError):
                self._files[path] = None
        found = self._files[path]
        return found is not None and found.suppresses(code, line)

    def suppresses(self, d: Diagnostic) -> bool:
        return self.at(d.path, d.span.line, d.code)

    def at_site(self, site: Optional[CodeSite], code: str) -> bool:
        return site is not None and self.at(site.path, site.line, code)


class Ctx:
    def __init__(
        self, evidence: Evidence, script: Optional[str], settings: Any = None, static: Sequence[Diagnostic] = ()
    ) -> None:
        self.ev = evidence
        self.script = script
        self.settings = settings
        # The static findings being judged: a runtime finding may say which of them it confirms.
        self.static = list(static)
        self.noqa = NoqaComments()

    def opts(self, code: str) -> Dict[str, Any]:
        return thresholds.rule_options(code, self.settings)

    def where(self, site: Optional[CodeSite]) -> Optional[str]:
        if site is None or not site.path:
            return None
        return f"{display_path(site.path, self.script)}:{site.line}"

    def path_of(self, site: Optional[CodeSite]) -> str:
        if site is None or not site.path:
            return self.script or "<trace>"
        return display_path(site.path, self.script)

    @staticmethod
    def at(d: Diagnostic, site: Optional[CodeSite]) -> bool:
        """Is `site` (absolute path, line) the diagnostic's statement, or one of its related lines?"""
        if site is None or not site.path:
            return False
        path = os.path.abspath(site.path)
        line = site.line
        if os.path.abspath(d.path) == path:
            lo, hi = d.span.line, d.span.end_line
            if d.statement_lines:
                lo, hi = min(lo, d.statement_lines[0]), max(hi, d.statement_lines[1])
            if lo <= line <= hi:
                return True
        return any(os.path.abspath(r.path) == path and r.line == line for r in d.related)

    def prefer(self, d: Diagnostic, items: Iterable[T], site: Callable[[T], Optional[CodeSite]]) -> List[T]:
        """Items recorded at the diagnostic's line when there are any, else all of them."""
        items = list(items)
        here = [i for i in items if self.at(d, site(i))]
        return here or items

    def loss_records(self, d: Diagnostic, fns: Iterable[str]) -> List[LossInputs]:
        names = set(fns)
        recs = [r for r in self.ev.losses if r.fn in names]
        return self.prefer(d, recs, lambda r: r.site)

    def step_after(self, event: CallEvent) -> Optional[StepRecord]:
        """The optimizer step that followed an event."""
        n = event.step
        return next((s for s in self.ev.steps if s.step > n), None)


def num(value: Any, default: float = float("nan")) -> float:
    return float(value) if finite(value) else default
