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

import functools
import math
import os
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch.optim import optimizer as optim_hooks

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.child.sinks import Sink
from trainlint.runtime.child.tracer import TraceMode, TraceStop, end_after_swallowed_stop
from trainlint.runtime.records import (
    LrFindOptimizer,
    LrFindPoint,
    LrFindSettings,
    LrFindStart,
    LrFindSteps,
    Number,
    Record,
    RunNote,
    StopReason,
    TracerError,
    TracerStopped,
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


class LrFinder:
    """Installs the range test; the same interface as the `Tracer` for `child/main.py` and the API."""

    def __init__(
        self,
        sink: Sink,
        settings: LrFindSettings,
        options: Optional[Dict[str, Dict[str, Any]]] = None,
        mode: TraceMode = TraceMode.CHILD,
    ) -> None:
        self.sink = sink
        self.settings = settings
        self.steps = settings.steps
        self.overfit = 0
        self.mode = mode
        self.beta = smoothing_beta(settings.steps)
        self.factor = float((options or {}).get("TL914", {}).get("divergence_factor", DIVERGENCE_FACTOR))
        self.active = False
        self.stopped = False
        self.finished = False
        self.pid = os.getpid()
        self.total_steps = 0  # steps of the reference optimizer: the test's steps
        self.backward_count = 0
        self.lr = settings.min_lr
        self.reference: Optional[int] = None  # id() of the optimizer whose first group sets the pace
        self.ref_base: Optional[float] = None
        self.opts: Dict[int, _Opt] = {}
        # id(optimizer) -> (its step calls under way (nested: a subclass's), backward passes then)
        self.depth: Dict[int, Tuple[int, int]] = {}
        self.opt_site: "weakref.WeakKeyDictionary[Any, Optional[sites.Site]]" = weakref.WeakKeyDictionary()
        self.losses: List[torch.Tensor] = []
        self.scaled: Dict[int, torch.Tensor] = {}  # id(scaler.scale(loss)) -> the loss it scaled
        self.scaler_noted = False
        self.in_backward = threading.local()  # inside a wrapped backward on this thread
        self.avg = 0.0
        self.finite_losses = 0
        self.best = math.inf
        self.last_time = time.perf_counter()
        self.unsent: List[LrFindPoint] = []
        self.sent_at = self.last_time
        self.handles: List[Any] = []
        self.patcher = Patcher()
        self._fork_registered = False

    # ------------------------------------------------------------------ plumbing
    def emit(self, record: Record) -> None:
        if os.getpid() != self.pid:
            return
        try:
            self.sink.emit(record)
        except Exception:  # a broken channel must not break the user's script
            pass

    def guarded(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except TraceStop:
            raise
        except Exception as exc:  # defects of the test are reported, never raised into the script
            self.emit(TracerError(where=f"lr-find {where}", error=f"{type(exc).__name__}: {exc}"))
            return None

    def check_stopped(self) -> None:
        """The script caught the stop and went on: end it (child) or stop watching (API)."""
        if self.mode is TraceMode.CHILD:
            end_after_swallowed_stop(self.emit)
        self.active = False

    # ------------------------------------------------------------------ install
    def install(self) -> None:
        self.active = True
        self.pid = os.getpid()
        self.last_time = self.sent_at = time.perf_counter()
        sites.reset_roots()
        self.handles.append(optim_hooks.register_optimizer_step_pre_hook(self._step_pre))
        self.handles.append(optim_hooks.register_optimizer_step_post_hook(self._step_post))
        self._patch_optimizer_init()
        self._patch_backward()
        self._patch_scaler()
        if not self._fork_registered:
            ref = weakref.ref(self)

            def after_fork() -> None:
                finder = ref()
                if finder is not None:
                    finder.active = False  # DataLoader workers inherit the hooks

            os.register_at_fork(after_in_child=after_fork)
            self._fork_registered = True
        s = self.settings
        self.emit(
            LrFindStart(min_lr=s.min_lr, max_lr=s.max_lr, steps=s.steps, beta=self.beta, divergence_factor=self.factor)
        )

    def uninstall(self) -> None:
        self.active = False
        for handle in self.handles:
            try:
                handle.remove()
            except Exception:
                pass
        self.handles.clear()
        self.patcher.restore()

    def finish(self) -> None:
        self.finished = True
        self.send()

    def _patch_optimizer_init(self) -> None:
        """Where each optimizer is built: TL914 points at that line."""
        finder = self

        def make(original: Callable[..., None]) -> Callable[..., None]:
            @functools.wraps(original)
            def init(opt: Any, *args: Any, **kwargs: Any) -> None:
                original(opt, *args, **kwargs)
                if finder.active:
                    try:
                        finder.opt_site[opt] = sites.user_site(skip_self_of=opt)
                    except Exception:
                        pass

            return init

        self.patcher.replace(torch.optim.Optimizer, "__init__", make)

    def _patch_backward(self) -> None:
        finder = self

        def run(original: Callable[..., Any], loss: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            # `Tensor.backward` calls `torch.autograd.backward`: one backward pass, counted once.
            calls = finder.in_backward
            if getattr(calls, "on", False) or not isinstance(loss, torch.Tensor):
                return original(*args, **kwargs)
            finder.before_backward(loss)
            calls.on = True
            try:
                return original(*args, **kwargs)
            finally:
                calls.on = False

        def tensor_backward(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def backward(loss: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
                return run(original, loss, (loss,) + args, kwargs)

            return backward

        def autograd_backward(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
                first = tensors if isinstance(tensors, torch.Tensor) else probes.first_tensor(tensors)
                return run(original, first, (tensors,) + args, kwargs)

            return backward

        self.patcher.replace(torch.Tensor, "backward", tensor_backward)
        self.patcher.replace(torch.autograd, "backward", autograd_backward)

    def _patch_scaler(self) -> None:
        scaler_cls = getattr(getattr(torch, "amp", None), "GradScaler", None)
        if scaler_cls is None:
            return
        finder = self

        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def scale(scaler: Any, outputs: Any, *args: Any, **kwargs: Any) -> Any:
                out = original(scaler, outputs, *args, **kwargs)
                if finder.active and isinstance(out, torch.Tensor) and isinstance(outputs, torch.Tensor):
                    finder.scaled[id(out)] = outputs
                    if len(finder.scaled) > 64:
                        finder.scaled.pop(next(iter(finder.scaled)))
                    if not finder.scaler_noted and scaler.is_enabled():
                        finder.scaler_noted = True
                        finder.emit(
                            RunNote(message="a GradScaler scaled the loss: the range test recorded it unscaled")
                        )
                return out

            return scale

        self.patcher.replace(scaler_cls, "scale", make)

    # ------------------------------------------------------------------ the loss
    def before_backward(self, loss: torch.Tensor) -> None:
        if not self.active:
            return
        if self.stopped:
            self.check_stopped()
            return
        self.backward_count += 1
        value = self.scaled.get(id(loss), loss)
        if len(self.losses) < _MAX_LOSSES and value.numel() >= 1 and value.is_floating_point():
            # Kept on its device, read back once per step. The usual scalar loss is kept as it
            # is: a reduction per step would cost as much as the rest of the test's work.
            value = value.detach()
            self.losses.append(value if value.dim() == 0 else value.float().mean())

    # ------------------------------------------------------------------ the steps
    def _step_pre(self, opt: Any, args: Any, kwargs: Any) -> None:
        if not self.active:
            return
        if self.stopped:
            self.check_stopped()
            return
        # A subclass whose `step` calls `super().step()` runs the global hooks twice, nested:
        # only the outer call is the script's step. A step that raised never reached its
        # post-hook: a backward pass since then shows that its depth is stale.
        depth, backwards = self.depth.get(id(opt), (0, self.backward_count))
        if backwards != self.backward_count:
            depth = 0
        self.depth[id(opt)] = (depth + 1, self.backward_count)
        if depth == 0:
            self.guarded("step", self._set_rates, opt)

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
        if self.reference is None:
            self.reference = id(opt)
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

    def _step_post(self, opt: Any, args: Any, kwargs: Any) -> None:
        if not self.active or self.stopped:
            return
        depth, backwards = self.depth.pop(id(opt), (1, self.backward_count))
        if depth > 1:
            self.depth[id(opt)] = (depth - 1, backwards)
            return
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
        losses, self.losses = self.losses, []
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

    def stop(self, reason: str) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.send()
        self.emit(TracerStopped(reason=reason, steps=self.total_steps, backwards=self.backward_count))
        if self.mode is TraceMode.API_PASSIVE:
            self.active = False
            return
        raise TraceStop(f"trainlint: range test stopped after {self.total_steps} step(s) ({reason})")


def _number(value: Optional[float]) -> Optional[Number]:
    return None if value is None else probes.number(float(value))
