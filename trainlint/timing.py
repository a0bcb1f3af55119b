"""`check --profile`: where the time of a run goes, per phase and per rule.

Phases are timed with the wall clock of the process that runs them; with worker processes
the figures are summed over the workers (so they add up to more than the elapsed time).
A rule's time includes the shared facts it is the first to ask for (loop events, data flow),
which are built lazily and then reused by the other rules.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

from trainlint import registry

# Phases in the order a file goes through them.
PHASES = (
    "discover",  # walking folders for Python files and notebooks
    "read",  # reading files, decoding, the nesting guard
    "context",  # the project plan: linked project files (`context.py`) and import components (`plan.py`)
    "plan",  # prefilter and cache lookups
    "parse",  # libcst.parse_module (in workers, for a split component: and pickling the trees)
    "unpickle",  # loading the trees workers parsed for a component too big for one process
    "facts",  # one pass per module (imports, scopes, bindings) and the project index
    "rules",  # every rule, per module (detailed below)
    "positions",  # line/column of reported nodes, and their fixes
    "suppressions",  # `# trainlint: noqa` comments, ignores, de-duplication
    "output",  # formatting the report
)


class Timings:
    def __init__(self) -> None:
        self.phases: Dict[str, float] = {}
        self.rules: Dict[str, float] = {}
        self.workers = 0  # processes whose timings were merged in

    def add(self, phase: str, seconds: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds

    def add_rule(self, code: str, seconds: float) -> None:
        self.rules[code] = self.rules.get(code, 0.0) + seconds

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0)

    def to_json(self) -> Dict[str, Dict[str, float]]:
        return {"phases": dict(self.phases), "rules": dict(self.rules)}

    def merge(self, data: Dict[str, Dict[str, float]], worker: bool = True) -> None:
        for k, v in data.get("phases", {}).items():
            self.add(k, v)
        for k, v in data.get("rules", {}).items():
            self.add_rule(k, v)
        if worker:
            self.workers += 1

    def render(self, elapsed: Optional[float] = None) -> str:
        lines: List[str] = []
        where = f"summed over {self.workers} processes" if self.workers > 1 else "one process"
        lines.append(f"trainlint profile (seconds, {where}):")
        known = [p for p in PHASES if p in self.phases] + sorted(p for p in self.phases if p not in PHASES)
        total = sum(self.phases.values())
        for p in known:
            v = self.phases[p]
            lines.append(f"  {p:<13}{v:9.3f}  {100 * v / total if total else 0:5.1f}%")
        lines.append(f"  {'total':<13}{total:9.3f}")
        if elapsed is not None:
            lines.append(f"  {'elapsed':<13}{elapsed:9.3f}")
        if self.rules:
            lines.append("rules (slowest first; a rule's time includes the shared facts it builds first):")
            for code, v in sorted(self.rules.items(), key=lambda kv: (-kv[1], kv[0])):
                info = registry.RULES.get(code)
                name = info.name if info is not None else ""
                lines.append(f"  {code} {name:<40}{v:9.3f}")
        return "\n".join(lines) + "\n"
