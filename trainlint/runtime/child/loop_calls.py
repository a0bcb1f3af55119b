"""The training loop's calls whose order is evidence: scheduler steps, gradient clipping and
the GradScaler's methods. Each wrapper records an event and calls the original unchanged.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

import torch

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.child.probes import Measure
from trainlint.runtime.records import CLIP_NORM, CLIP_VALUE, ClipCall, ScalerCall, ScalerMethod, SchedulerStep

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer


class LoopCallWatch:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.sched_last: Dict[int, int] = {}  # id(scheduler) -> its optimizer's steps at its last step
        self.sched_constructing = 0
        self.scaled: Dict[int, Any] = {}  # id(scaler.scale(loss)) -> the loss it scaled


def install(tracer: Tracer, patcher: Patcher) -> None:
    _schedulers(tracer, patcher)
    _clipping(tracer, patcher)
    _scaler(tracer, patcher)


def _scheduler_classes() -> list[type]:
    base = torch.optim.lr_scheduler.LRScheduler
    out, todo = [base], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in out:
                out.append(sub)
                todo.append(sub)
    return [c for c in out if "step" in c.__dict__]


def _schedulers(tracer: Tracer, patcher: Patcher) -> None:
    base = torch.optim.lr_scheduler.LRScheduler
    watch = tracer.loop_calls

    def sched_init(original: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            # A scheduler steps once while it is built: that step is not the loop's.
            watch.sched_constructing += 1
            try:
                original(self, *args, **kwargs)
            finally:
                watch.sched_constructing -= 1
            opt = getattr(self, "optimizer", None)
            if tracer.active and opt is not None:
                watch.sched_last[id(self)] = tracer.optim.info(opt).steps

        return init

    def sched_step(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def step(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not tracer.recording or watch.sched_constructing or tracer.in_call("sched"):
                return original(self, *args, **kwargs)
            tracer.set_in_call("sched", True)
            try:
                opt = getattr(self, "optimizer", None)
                if opt is not None:
                    info = tracer.optim.info(opt)
                    last = watch.sched_last.get(id(self), 0)
                    watch.sched_last[id(self)] = info.steps
                    tracer.event(
                        SchedulerStep(
                            scheduler=type(self).__name__,
                            optimizer=info.index,
                            opt_steps=info.steps,
                            since=info.steps - last,
                            site=sites.code_site(sites.user_site()),
                        )
                    )
                return original(self, *args, **kwargs)
            finally:
                tracer.set_in_call("sched", False)

        return step

    patcher.replace(base, "__init__", sched_init)
    for cls in _scheduler_classes():
        patcher.replace(cls, "step", sched_step)


def _clipping(tracer: Tracer, patcher: Patcher) -> None:
    import torch.nn.utils as utils
    import torch.nn.utils.clip_grad as clip_mod

    def clip(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def wrapper(parameters: Any, *args: Any, **kwargs: Any) -> Any:
                if not tracer.recording or tracer.in_call("clip"):
                    return original(parameters, *args, **kwargs)
                tracer.set_in_call("clip", True)
                try:
                    out = original(parameters, *args, **kwargs)
                finally:
                    tracer.set_in_call("clip", False)
                limit = args[0] if args else kwargs.get("max_norm", kwargs.get("clip_value"))
                try:
                    tracer.event(
                        ClipCall(
                            fn=kind,
                            limit=float(limit) if limit is not None else None,
                            site=sites.code_site(sites.user_site()),
                        )
                    )
                    if isinstance(out, torch.Tensor):
                        # The norm the clip saw, read back with the next step.
                        tracer.deferred.add((Measure.CLIP_NORM,), out.detach().float())
                except Exception as exc:
                    tracer.internal("clip", exc)
                return out

            return wrapper

        return make

    for owner in (utils, clip_mod):
        patcher.replace(owner, CLIP_NORM, clip(CLIP_NORM))
        patcher.replace(owner, CLIP_VALUE, clip(CLIP_VALUE))


def _scaler(tracer: Tracer, patcher: Patcher) -> None:
    scaler_cls = getattr(getattr(torch, "amp", None), "GradScaler", None)
    if scaler_cls is None:
        return
    scaled = tracer.loop_calls.scaled

    def method(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
                # `step` may be where the tracer stops the script (inside optimizer.step), so it is
                # recorded before the call; `scale` and `update` after, to see their results.
                if name in (ScalerMethod.STEP, ScalerMethod.UNSCALE):
                    note(self, args, None)
                    return original(self, *args, **kwargs)
                out = original(self, *args, **kwargs)
                note(self, args, out)
                return out

            def note(self: Any, args: Any, out: Any) -> None:
                if not tracer.recording:
                    return
                try:
                    site = sites.code_site(sites.user_site())
                    enabled = bool(self.is_enabled())
                    optimizer: Optional[int] = None
                    scale = None
                    if (
                        name == ScalerMethod.SCALE
                        and isinstance(out, torch.Tensor)
                        and args
                        and isinstance(args[0], torch.Tensor)
                    ):
                        scaled[id(out)] = args[0]
                        if len(scaled) > 64:
                            scaled.pop(next(iter(scaled)))
                    if name in (ScalerMethod.UNSCALE, ScalerMethod.STEP) and args:
                        optimizer = tracer.optim.info(args[0]).index
                    if name == ScalerMethod.UPDATE and self.is_enabled():
                        scale = probes.number(float(self.get_scale()))
                    tracer.event(ScalerCall(method=name, site=site, enabled=enabled, optimizer=optimizer, scale=scale))
                except Exception as exc:
                    tracer.internal("scaler", exc)

            return wrapper

        return make

    for name in (ScalerMethod.SCALE, ScalerMethod.UNSCALE, ScalerMethod.STEP, ScalerMethod.UPDATE):
        patcher.replace(scaler_cls, name, method(name))
