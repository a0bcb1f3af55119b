"""Evidence records from a traced run, sorted by kind (parent side; no torch).

The child streams one JSON object per line; `Evidence.add` files each one. Whatever arrived
before a crash or a kill is all there is, and every verdict must cope with missing parts.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple

if TYPE_CHECKING:
    from typing_extensions import TypeGuard


@dataclass
class Evidence:
    start: Optional[Dict[str, Any]] = None
    outcome: Optional[Dict[str, Any]] = None
    ended: bool = False
    stop: Optional[Dict[str, Any]] = None
    stop_swallowed: bool = False
    fatal: Optional[Dict[str, Any]] = None
    inputs: List[Dict[str, Any]] = field(default_factory=list)
    losses: List[Dict[str, Any]] = field(default_factory=list)
    loss_values: Dict[Tuple[str, int, str, int], Any] = field(default_factory=dict)
    events: List[Dict[str, Any]] = field(default_factory=list)
    optimizers: Dict[int, Dict[str, Any]] = field(default_factory=dict)
    models: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    steps: List[Dict[str, Any]] = field(default_factory=list)
    activations: Optional[Dict[str, Any]] = None
    act_std: List[Dict[str, Any]] = field(default_factory=list)
    passes: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    nonfinite: Optional[Dict[str, Any]] = None
    functions: List[Dict[str, Any]] = field(default_factory=list)
    manual: List[Dict[str, Any]] = field(default_factory=list)
    no_step: Optional[Dict[str, Any]] = None
    wait: Optional[Dict[str, Any]] = None
    internal: List[Dict[str, Any]] = field(default_factory=list)
    # filled in by the runner
    returncode: Optional[int] = None
    timed_out: bool = False
    duration: float = 0.0
    records: int = 0

    def add(self, rec: Dict[str, Any]) -> None:
        self.records += 1
        kind = rec.get("kind")
        if kind == "start":
            self.start = rec
        elif kind == "exit":
            self.outcome = rec
        elif kind == "end":
            self.ended = True
        elif kind == "stop":
            self.stop = rec
        elif kind == "stop_swallowed":
            self.stop_swallowed = True
        elif kind == "fatal":
            self.fatal = rec
        elif kind == "input":
            self.inputs.append(rec)
        elif kind == "loss":
            self.losses.append(rec)
        elif kind == "loss_value":
            site = rec.get("site") or {}
            self.loss_values[(site.get("path", ""), site.get("line", 0), rec.get("fn", ""), rec.get("call", 0))] = (
                rec.get("value")
            )
        elif kind == "event":
            self.events.append(rec)
        elif kind == "optimizer":
            self.optimizers[rec["optimizer"]] = rec
        elif kind == "model":
            self.models[rec["model"]] = rec
        elif kind == "step":
            self.steps.append(rec)
        elif kind == "activations":
            self.activations = rec
        elif kind == "act_std":
            self.act_std.append(rec)
        elif kind == "passes":
            self.passes[rec["model"]] = rec
        elif kind == "nonfinite":
            if self.nonfinite is None:
                self.nonfinite = rec
        elif kind == "function":
            self.functions.append(rec)
        elif kind == "manual":
            self.manual.append(rec)
        elif kind == "no_step":
            self.no_step = rec
        elif kind == "wait":
            self.wait = rec
        elif kind == "internal":
            if len(self.internal) < 50:
                self.internal.append(rec)

    def extend(self, records: Iterable[Dict[str, Any]]) -> None:
        for rec in records:
            self.add(rec)

    # ------------------------------------------------------------------ views
    @property
    def started(self) -> bool:
        return self.start is not None

    @property
    def backwards(self) -> int:
        return sum(1 for e in self.events if e.get("ev") == "backward")

    @property
    def total_steps(self) -> int:
        if self.steps:
            return max(s.get("step", 0) for s in self.steps)
        # Without an optimizer, each update by hand sits between two backward passes.
        return max((m.get("backward", 0) - 1 for m in self.manual), default=0)

    @property
    def reached_training(self) -> bool:
        return bool(self.steps or self.backwards or self.manual)

    @property
    def eval_passes(self) -> int:
        """Forward passes counted as evaluation (no backward used them, or gradients were off)."""
        return sum(n for p in self.passes.values() for k, n in p.get("passes", {}).items() if k.startswith("eval"))

    def wait_note(self) -> Optional[str]:
        """What became of the wait for an evaluation pass past the requested steps, if there was one."""
        if self.wait is None:
            return None
        stop = self.stop or {}
        start = self.wait.get("steps")
        if "waited_steps" in stop:
            extra = stop["waited_steps"]
            found = "until one ran" if stop.get("eval_seen") else "without reaching one"
            return (
                f"no evaluation pass ran in the first {start} step(s): the run went on {extra} more "
                f"step(s), watching forward passes only, {found}"
            )
        return (
            f"no evaluation pass ran in the first {start} step(s): the run went on, watching forward "
            "passes only, until the script ended"
        )

    def events_of(self, ev: str) -> List[Dict[str, Any]]:
        return [e for e in self.events if e.get("ev") == ev]

    def loss_value(self, rec: Dict[str, Any]) -> Any:
        site = rec.get("site") or {}
        return self.loss_values.get((site.get("path", ""), site.get("line", 0), rec.get("fn", ""), rec.get("call", 0)))

    def param(self, optimizer: int, index: int) -> Dict[str, Any]:
        opt = self.optimizers.get(optimizer) or {}
        params = opt.get("params") or []
        if 0 <= index < len(params):
            return params[index]
        return {"i": index, "name": f"param[{index}]"}

    def stop_reason(self) -> str:
        """How the run ended: stopped, finished, exit, error, timeout, crashed, not-started."""
        if self.fatal is not None or not self.started:
            return "timeout" if self.timed_out and self.started else "not-started"
        if self.outcome is not None:
            return str(self.outcome.get("status", "finished"))
        if self.stop is not None and self.stop_swallowed:
            return "stopped"
        if self.timed_out:
            return "timeout"
        return "crashed"


def finite(value: Any) -> "TypeGuard[float]":
    """A real, finite number (records spell NaN and infinities as strings)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def display_path(path: str, script: Optional[str] = None, cwd: Optional[str] = None) -> str:
    """A path as users see it: the script as given, else relative to the working folder."""
    if not path:
        return script or ""
    if script is not None and os.path.abspath(script) == os.path.abspath(path):
        return script
    base = cwd or os.getcwd()
    try:
        rel = os.path.relpath(path, base)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def where(site: Optional[Dict[str, Any]], script: Optional[str] = None) -> Optional[str]:
    if not site or not site.get("path"):
        return None
    return f"{display_path(site['path'], script)}:{site.get('line', 1)}"
