"""The records of a traced run, filed by kind (parent side; no torch).

The child streams records as it gathers them; `Evidence.add` files each one. Whatever arrived
before a crash or a kill is all there is, and every verdict must cope with missing parts.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Set, Tuple, Type, TypeVar

from trainlint.runtime.records import (
    ActivationLayers,
    ActivationStd,
    BackwardCall,
    CallEvent,
    CodeSite,
    EvalWait,
    ExitStatus,
    FirstNonFinite,
    ForwardPasses,
    FunctionGradcheck,
    InputBatch,
    LossInputs,
    LossValue,
    LrFindOptimizer,
    LrFindPoint,
    LrFindStart,
    LrFindSteps,
    ManualUpdate,
    ModelParams,
    NoOptimizerStep,
    NormBatch,
    NormReuse,
    OptimizerParams,
    ParamInfo,
    Record,
    RunEnd,
    RunExit,
    RunNote,
    RunStart,
    StartFailed,
    StepRecord,
    StopSwallowed,
    TracerError,
    TracerStopped,
    ViewPermute,
    WatchAlert,
    WatchAudit,
    WatchStart,
)

if TYPE_CHECKING:
    from typing_extensions import TypeGuard

E = TypeVar("E", bound=CallEvent)
LossKey = Tuple[str, int, str, int]  # (path, line, function, n-th call)


def _loss_key(site: Optional[CodeSite], fn: str, call: int) -> LossKey:
    return (site.path, site.line, fn, call) if site is not None else ("", 0, fn, call)


@dataclass
class Evidence:
    start: Optional[RunStart] = None
    outcome: Optional[RunExit] = None
    ended: bool = False
    stop: Optional[TracerStopped] = None
    stop_swallowed: bool = False
    fatal: Optional[StartFailed] = None
    inputs: List[InputBatch] = field(default_factory=list)
    losses: List[LossInputs] = field(default_factory=list)
    loss_values: Dict[LossKey, Any] = field(default_factory=dict)
    events: List[CallEvent] = field(default_factory=list)
    optimizers: Dict[int, OptimizerParams] = field(default_factory=dict)
    models: Dict[str, ModelParams] = field(default_factory=dict)
    steps: List[StepRecord] = field(default_factory=list)
    activations: Optional[ActivationLayers] = None
    act_std: List[ActivationStd] = field(default_factory=list)
    norm_batches: Dict[str, NormBatch] = field(default_factory=dict)  # by layer: the largest batch
    norm_reuse: List[NormReuse] = field(default_factory=list)
    views: List[ViewPermute] = field(default_factory=list)
    passes: Dict[str, ForwardPasses] = field(default_factory=dict)
    nonfinite: Optional[FirstNonFinite] = None
    functions: List[FunctionGradcheck] = field(default_factory=list)
    manual: List[ManualUpdate] = field(default_factory=list)
    no_step: Optional[NoOptimizerStep] = None
    wait: Optional[EvalWait] = None
    # `trace --lr-find`: the range test's schedule, the optimizers as configured, its steps.
    lr_start: Optional[LrFindStart] = None
    lr_optimizers: Dict[int, LrFindOptimizer] = field(default_factory=dict)
    lr_points: List[LrFindPoint] = field(default_factory=list)
    # `trace --watch`: its thresholds, its audits (the last 1000) and what it saw.
    watch_start: Optional[WatchStart] = None
    watch_audits: List[WatchAudit] = field(default_factory=list)
    watch_alerts: List[WatchAlert] = field(default_factory=list)
    internal: List[TracerError] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    # In a distributed trace: the evidence of the other ranks of the same run.
    peers: List["Evidence"] = field(default_factory=list)
    # filled in by the runner
    returncode: Optional[int] = None
    timed_out: bool = False
    aborted: bool = False  # another rank of a distributed trace ended, and this one was stopped
    interrupted: bool = False  # `trace --watch`: the user pressed Ctrl-C, passed on to the script
    duration: float = 0.0
    records: int = 0

    def add(self, rec: Record) -> None:
        self.records += 1
        if not self._file_run_record(rec) and not self._file_range_test(rec):
            self._file_measurement(rec)

    def _file_run_record(self, rec: Record) -> bool:
        """How the run started, waited, stopped and ended, and the tracer's own errors."""
        if isinstance(rec, RunStart):
            self.start = rec
        elif isinstance(rec, RunExit):
            self.outcome = rec
        elif isinstance(rec, RunEnd):
            self.ended = True
        elif isinstance(rec, TracerStopped):
            self.stop = rec
        elif isinstance(rec, StopSwallowed):
            self.stop_swallowed = True
        elif isinstance(rec, StartFailed):
            self.fatal = rec
        elif isinstance(rec, EvalWait):
            self.wait = rec
        elif isinstance(rec, TracerError):
            if len(self.internal) < 50:
                self.internal.append(rec)
        elif isinstance(rec, RunNote):
            if rec.message not in self.notes:
                self.notes.append(rec.message)
        else:
            return False
        return True

    def _file_range_test(self, rec: Record) -> bool:
        """The learning-rate range test's records (`trace --lr-find`), and the watcher's."""
        if isinstance(rec, WatchAudit):
            self.watch_audits.append(rec)
            del self.watch_audits[:-1000]
        elif isinstance(rec, WatchAlert):
            self.watch_alerts.append(rec)
        elif isinstance(rec, WatchStart):
            self.watch_start = rec
        elif isinstance(rec, LrFindSteps):
            self.lr_points.extend(rec.points)
        elif isinstance(rec, LrFindOptimizer):
            self.lr_optimizers[rec.optimizer] = rec
        elif isinstance(rec, LrFindStart):
            self.lr_start = rec
        else:
            return False
        return True

    def _file_measurement(self, rec: Record) -> None:
        """What the script did and the values it produced."""
        if isinstance(rec, CallEvent):
            self.events.append(rec)
        elif isinstance(rec, InputBatch):
            self.inputs.append(rec)
        elif isinstance(rec, LossInputs):
            self.losses.append(rec)
        elif isinstance(rec, LossValue):
            self.loss_values[_loss_key(rec.site, rec.fn, rec.call)] = rec.value
        elif isinstance(rec, OptimizerParams):
            self.optimizers[rec.optimizer] = rec
        elif isinstance(rec, ModelParams):
            self.models[rec.model] = rec
        elif isinstance(rec, StepRecord):
            self.steps.append(rec)
        elif isinstance(rec, ActivationLayers):
            self.activations = rec
        elif isinstance(rec, ActivationStd):
            self.act_std.append(rec)
        elif isinstance(rec, NormBatch):
            seen = self.norm_batches.get(rec.layer)
            if seen is None or rec.batch > seen.batch:
                self.norm_batches[rec.layer] = rec
        elif isinstance(rec, NormReuse):
            self.norm_reuse.append(rec)
        elif isinstance(rec, ViewPermute):
            self.views.append(rec)
        elif isinstance(rec, ForwardPasses):
            self.passes[rec.model] = rec
        elif isinstance(rec, FirstNonFinite):
            if self.nonfinite is None:
                self.nonfinite = rec
        elif isinstance(rec, FunctionGradcheck):
            self.functions.append(rec)
        elif isinstance(rec, ManualUpdate):
            self.manual.append(rec)
        elif isinstance(rec, NoOptimizerStep):
            self.no_step = rec

    def extend(self, records: Iterable[Record]) -> None:
        for rec in records:
            self.add(rec)

    # ------------------------------------------------------------------ views
    @property
    def started(self) -> bool:
        return self.start is not None

    @property
    def backwards(self) -> int:
        if self.lr_find or self.watching:  # no call events were recorded, only their count
            counted = self.outcome.backwards if self.outcome is not None else None
            if counted is None and self.stop is not None:
                counted = self.stop.backwards
            return counted or 0
        return len(self.events_of(BackwardCall))

    @property
    def lr_find(self) -> bool:
        """The run was a learning-rate range test (`trace --lr-find`), not the instrumented steps."""
        return self.lr_start is not None

    @property
    def watching(self) -> bool:
        """The run was watched to its end (`trace --watch`), not the instrumented steps."""
        return self.watch_start is not None

    @property
    def total_steps(self) -> int:
        if self.steps:
            return max(s.step for s in self.steps)
        if self.lr_points:
            return max(p.step for p in self.lr_points)
        if self.watching:
            counted = self.outcome.steps if self.outcome is not None else None
            return counted or (self.watch_audits[-1].step if self.watch_audits else 0)
        return max((m.updates_done for m in self.manual), default=0)

    @property
    def reached_training(self) -> bool:
        return bool(self.steps or self.backwards or self.manual or self.lr_points or self.watch_audits)

    @property
    def eval_passes(self) -> int:
        """Forward passes counted as evaluation (no backward used them, or gradients were off)."""
        return sum(pc.count for p in self.passes.values() for pc in p.counts if pc.is_eval)

    def wait_note(self) -> Optional[str]:
        """What became of the wait for an evaluation pass past the requested steps, if there was one."""
        if self.wait is None:
            return None
        start = self.wait.steps
        if self.stop is not None and self.stop.waited_steps is not None:
            extra = self.stop.waited_steps
            found = "until one ran" if self.stop.eval_seen else "without reaching one"
            return (
                f"no evaluation pass ran in the first {start} step(s): the run went on {extra} more "
                f"step(s), watching forward passes only, {found}"
            )
        return (
            f"no evaluation pass ran in the first {start} step(s): the run went on, watching forward "
            "passes only, until the script ended"
        )

    def events_of(self, kind: Type[E]) -> List[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def loss_value(self, rec: LossInputs) -> Any:
        return self.loss_values.get(_loss_key(rec.site, rec.fn, rec.call))

    def param(self, optimizer: int, index: int) -> ParamInfo:
        opt = self.optimizers.get(optimizer)
        params = opt.params if opt is not None else []
        if 0 <= index < len(params):
            return params[index]
        return ParamInfo(i=index, name=f"param[{index}]")

    def params_without_gradient(self) -> List[Tuple[OptimizerParams, int, List[ParamInfo]]]:
        """(optimizer, steps it took, its parameters that had no gradient at any of them)."""
        out = []
        for opt_index, opt in self.optimizers.items():
            steps = [s for s in self.steps if s.optimizer == opt_index]
            got = {p.i for s in steps for p in s.params if p.received or p.grad is not None}
            seen = {p.i for s in steps for p in s.params}
            missing = [opt.params[i] for i in sorted(seen - got) if 0 <= i < len(opt.params)]
            if missing:
                out.append((opt, len(steps), missing))
        return out

    def strict_ddp_models(self) -> List[ModelParams]:
        """Models wrapped in DDP that must use every parameter in each forward (no
        `find_unused_parameters`, no `static_graph`)."""
        return [
            m
            for m in self.models.values()
            if m.wrapper == "DistributedDataParallel" and not (m.find_unused_parameters or m.static_graph)
        ]

    def strict_ddp_params(self) -> Set[str]:
        """The parameter names of the `strict_ddp_models`."""
        return {p.name for m in self.strict_ddp_models() for p in m.params}

    def stop_reason(self) -> str:
        """How the run ended: stopped, finished, exit, error, timeout, aborted (another rank
        ended first), crashed, not-started."""
        if self.fatal is not None or not self.started:
            return "timeout" if self.timed_out and self.started else "not-started"
        if self.outcome is not None:
            return str(self.outcome.status)
        if self.stop is not None and self.stop_swallowed:
            return ExitStatus.STOPPED
        if self.timed_out:
            return "timeout"
        if self.aborted:
            return "aborted"
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
