"""The learning-rate range test (`trace --lr-find`), in the traced process.

The user's script runs unmodified; at each optimizer step the rate of every param group is
replaced, right before the step, by one that rises exponentially from `min_lr` to `max_lr`.
Setting it inside the step's pre-hook means that whatever a scheduler did since the previous
step is overwritten. The loss of a step is the one given to `backward` since the previous
step (the unscaled loss when a GradScaler scaled it), as the instrumented trace reads it. The
test stops after `steps` steps, or as soon as the smoothed loss diverges.

Nothing else is watched: a range-test step costs a plain step plus two hook calls and one
read-back of the loss. Nothing is restored either: the traced process is thrown away (the
in-process API leaves the model as the test left it).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import torch

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.sinks import Sink
from trainlint.runtime.child.step_hooks import StepHooks
from trainlint.runtime.child.tracer import TraceMode
from trainlint.runtime.records import (
    LrFindOptimizer,
    LrFindPoint,
    LrFindSettings,
    LrFindStart,
    LrFindSteps,
    Number,
    StopReason,
)

DIVERGENCE_FACTOR = 4.0  # Smith's (and fastai's) stopping rule: 4x the best loss so far
# Losses kept between two steps (gradient accumulation); more are left out of the step's mean.
_MAX_LOSSES = 256
# Steps are sent in batches: at the latest after this many seconds or this many steps, and
# when the test stops or the script ends. A script killed outright loses at most that much.
_SEND_SECONDS = 0.25
_SEND_STEPS = 50


def smoothing_beta(steps: int) -> float:
    """The EMA's beta for a test of `steps` steps. A bias-corrected EMA lags a trend by about
    beta/(1-beta) steps; fastai's 0.98 (a lag of ~50 steps) suits its long runs but would shift
    a 100-step test's steepest point by half the tested range. 1 - 20/steps keeps the lag near 5%
    of the run (beta 0.8 for 100 steps) and still averages about ten losses, clamped to
    [0.5, 0.98]."""
    return min(0.98, max(0.5, 1.0 - 20.0 / max(1, steps)))


def schedule(settings: LrFindSettings, k: int) -> float:
    """The rate of the k-th step (from 0): geometric from min_lr to max_lr over `steps` steps."""
    n = settings.steps
    if n <= 1:
        return settings.min_lr
    return settings.min_lr * (settings.max_lr / settings.min_lr) ** (min(k, n - 1) / (n - 1))


def diverged(smoothed: float, best: float, factor: float) -> bool:
    """The smoothed loss is above `factor` times its minimum so far. For a loss that can go
    negative (a log-likelihood), "factor times" reads as "risen by (factor - 1) times the
    minimum's magnitude", which is the same thing for a positive minimum."""
    return smoothed > best + (factor - 1.0) * abs(best)


def _rate(value: Any) -> Optional[float]:
    if isinstance(value, torch.Tensor):
        value = float(value.detach().reshape(-1)[0])
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass
class _Opt:
    index: int
    scales: List[Optional[float]]  # per group: its rate relative to the test's rate (None: leave it)


class LrFinder(StepHooks):
    """Installs the range test; the same interface as the `Tracer` for `child/main.py` and the API."""

    what = "range test"

    def __init__(
        self,
        sink: Sink,
        settings: LrFindSettings,
        options: Optional[Dict[str, Dict[str, Any]]] = None,
        mode: TraceMode = TraceMode.CHILD,
    ) -> None:
        super().__init__(sink, settings.steps, mode)
        self.settings = settings
        self.beta = smoothing_beta(settings.steps)
        self.factor = float((options or {}).get("TL914", {}).get("divergence_factor", DIVERGENCE_FACTOR))
        self.lr = settings.min_lr
        self.ref_base: Optional[float] = None  # the configured rate of the reference's first group
        self.opts: Dict[int, _Opt] = {}
        self.avg = 0.0
        self.finite_losses = 0
        self.best = math.inf
        self.last_time = time.perf_counter()
        self.unsent: List[LrFindPoint] = []
        self.sent_at = self.last_time

    def on_install(self) -> None:
        self.last_time = self.sent_at = time.perf_counter()
        s = self.settings
        self.emit(
            LrFindStart(min_lr=s.min_lr, max_lr=s.max_lr, steps=s.steps, beta=self.beta, divergence_factor=self.factor)
        )

    def on_step_start(self, opt: Any) -> None:
        self._set_rates(opt)

    def _set_rates(self, opt: Any) -> None:
        info = self.opts.get(id(opt))
        if info is None:
            info = self._first_step(opt)
        if id(opt) == self.reference:
            self.lr = schedule(self.settings, self.total_steps)
        for group, scale in zip(opt.param_groups, info.scales):
            if scale is None:
                continue
            value = self.lr * scale
            current = group.get("lr")
            if isinstance(current, torch.Tensor):
                current.fill_(value)  # a tensor rate (capturable, fused) keeps its identity
            else:
                group["lr"] = value

    def _first_step(self, opt: Any) -> _Opt:
        """Read the rates the script configured, before the first replacement."""
        groups = opt.param_groups
        configured = [_rate(g.get("lr")) for g in groups]
        initial = [_rate(g.get("initial_lr")) for g in groups] if any("initial_lr" in g for g in groups) else []
        # A scheduler's `initial_lr` is the rate the script gave; the first step's may be a
        # warm-up's fraction of it. The groups keep the ratios the script set between them.
        base = [i if i is not None else c for i, c in zip(initial, configured)] if initial else list(configured)
        if id(opt) == self.reference:
            self.ref_base = base[0] if base else None
        ref = self.ref_base
        if ref is not None and ref > 0:
            scales: List[Optional[float]] = [b / ref if b is not None else None for b in base]
        else:
            scales = [1.0 if b is not None else None for b in base]  # no ratio to keep: one rate for all
        info = _Opt(index=len(self.opts) + 1, scales=scales)
        self.opts[id(opt)] = info
        self.emit(
            LrFindOptimizer(
                optimizer=info.index,
                name=type(opt).__name__,
                site=sites.code_site(self.opt_site.get(opt)),
                configured=[_number(c) for c in configured],
                initial=[_number(i) for i in initial],
                scale=[_number(s) for s in scales],
                reference=id(opt) == self.reference,
            )
        )
        return info

    def on_step_end(self, opt: Any) -> None:
        if id(opt) != self.reference:
            return
        point = self.guarded("point", self._record)
        if point is None:
            return
        loss, smoothed = point
        if isinstance(loss, float) and not math.isfinite(loss):
            self.stop(StopReason.DIVERGED)
        elif isinstance(smoothed, float):
            if self.finite_losses > 1 and diverged(smoothed, self.best, self.factor):
                self.stop(StopReason.DIVERGED)
            self.best = min(self.best, smoothed)
        if not self.stopped and self.total_steps >= self.steps:
            self.stop(StopReason.STEPS)

    def _record(self) -> Tuple[Optional[float], Optional[float]]:
        losses = self.take_losses()
        if len(losses) == 1:
            loss: Optional[float] = float(losses[0])  # one read-back, no stacking
        else:
            values = probes.read(losses) if losses else []
            loss = sum(values) / len(values) if values else None
        smoothed: Optional[float] = None
        if loss is not None and math.isfinite(loss):
            self.finite_losses += 1
            self.avg = self.beta * self.avg + (1.0 - self.beta) * loss
            smoothed = self.avg / (1.0 - self.beta**self.finite_losses)  # bias correction
        elif loss is not None:
            smoothed = loss
        now = time.perf_counter()
        self.total_steps += 1
        self.unsent.append(
            LrFindPoint(
                step=self.total_steps,
                lr=self.lr,
                loss=_number(loss),
                smoothed=_number(smoothed),
                seconds=now - self.last_time,
            )
        )
        self.last_time = now
        if len(self.unsent) >= _SEND_STEPS or now - self.sent_at >= _SEND_SECONDS:
            self.send()
        return loss, smoothed

    def send(self) -> None:
        """The steps not sent yet, in one record."""
        if self.unsent:
            points, self.unsent = self.unsent, []
            self.emit(LrFindSteps(points=points))
        self.sent_at = time.perf_counter()

    def stop(self, reason: str, message: str = "") -> None:
        super().stop(reason, message or f"range test stopped after {self.total_steps} step(s) ({reason})")


def _number(value: Optional[float]) -> Optional[Number]:
    return None if value is None else probes.number(float(value))
