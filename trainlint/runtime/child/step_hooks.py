"""The light hooks that the range test (`trace --lr-find`) and the run watcher (`trace --watch`)
share, in the traced process: one call before and after each optimizer step, the losses given
to `backward` (unscaled when a GradScaler scaled them), and where each optimizer was built.

Nothing else is patched, so a step costs a plain step plus two hook calls and a detach of the
loss. Subclasses decide what happens at a step (`on_step_start`, `on_step_end`) and say what
they are in `what` (for the messages of their own defects).
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch.optim import optimizer as optim_hooks

from trainlint.runtime.child import sites
from trainlint.runtime.child.patching import Patcher, patch_backward
from trainlint.runtime.child.sinks import Sink
from trainlint.runtime.child.tracer import TraceMode, TraceStop, end_after_swallowed_stop
from trainlint.runtime.records import Record, RunNote, TracerError, TracerStopped

# Losses kept between two steps (gradient accumulation); more are left out of the step's mean.
MAX_LOSSES = 256


class StepHooks:
    """Installs the hooks; the same interface as the `Tracer` for `child/main.py` and the API."""

    what = "step hooks"

    def __init__(self, sink: Sink, steps: int, mode: TraceMode = TraceMode.CHILD) -> None:
        self.sink = sink
        self.steps = steps
        self.overfit = 0
        self.mode = mode
        self.active = False
        self.stopped = False
        self.finished = False
        self.pid = os.getpid()
        self.total_steps = 0  # steps of the reference optimizer
        self.backward_count = 0
        self.reference: Optional[int] = None  # id() of the optimizer whose steps are counted
        # id(optimizer) -> (its step calls under way (nested: a subclass's), backward passes then)
        self.depth: Dict[int, Tuple[int, int]] = {}
        self.opt_site: "weakref.WeakKeyDictionary[Any, Optional[sites.Site]]" = weakref.WeakKeyDictionary()
        self.losses: List[torch.Tensor] = []
        self.scaled: Dict[int, torch.Tensor] = {}  # id(scaler.scale(loss)) -> the loss it scaled
        self.scaler_noted = False
        self.in_backward = threading.local()  # inside a wrapped backward on this thread
        self.handles: List[Any] = []
        self.patcher = Patcher()
        self._fork_registered = False

    # ------------------------------------------------------------------ what subclasses add
    def on_install(self) -> None:
        """Right after the hooks are in place."""

    def on_step_start(self, opt: Any) -> None:
        """Before an optimizer's step (the outer call of a nested one)."""

    def on_step_end(self, opt: Any) -> None:
        """After an optimizer's step (the outer call of a nested one)."""

    def send(self) -> None:
        """Records held back for batching: send them now."""

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
        except Exception as exc:  # defects of the hooks are reported, never raised into the script
            self.emit(TracerError(where=f"{self.what} {where}", error=f"{type(exc).__name__}: {exc}"))
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
        sites.reset_roots()
        self.handles.append(optim_hooks.register_optimizer_step_pre_hook(self._step_pre))
        self.handles.append(optim_hooks.register_optimizer_step_post_hook(self._step_post))
        self._patch_optimizer_init()
        self._patch_backward()
        self._patch_scaler()
        if not self._fork_registered:
            ref = weakref.ref(self)

            def after_fork() -> None:
                hooks = ref()
                if hooks is not None:
                    hooks.active = False  # DataLoader workers inherit the hooks

            os.register_at_fork(after_in_child=after_fork)
            self._fork_registered = True
        self.on_install()

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
        """Where each optimizer is built: findings point at that line."""
        hooks = self

        def make(original: Callable[..., None]) -> Callable[..., None]:
            @functools.wraps(original)
            def init(opt: Any, *args: Any, **kwargs: Any) -> None:
                original(opt, *args, **kwargs)
                if hooks.active:
                    try:
                        hooks.opt_site[opt] = sites.user_site(skip_self_of=opt)
                    except Exception:
                        pass

            return init

        self.patcher.replace(torch.optim.Optimizer, "__init__", make)

    def _patch_backward(self) -> None:
        hooks = self

        def run(original: Callable[..., Any], loss: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            # `Tensor.backward` calls `torch.autograd.backward`: one backward pass, counted once.
            calls = hooks.in_backward
            if getattr(calls, "on", False) or not isinstance(loss, torch.Tensor):
                return original(*args, **kwargs)
            hooks.before_backward(loss)
            calls.on = True
            try:
                return original(*args, **kwargs)
            finally:
                calls.on = False

        patch_backward(self.patcher, run)

    def _patch_scaler(self) -> None:
        scaler_cls = getattr(getattr(torch, "amp", None), "GradScaler", None)
        if scaler_cls is None:
            return
        hooks = self

        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def scale(scaler: Any, outputs: Any, *args: Any, **kwargs: Any) -> Any:
                out = original(scaler, outputs, *args, **kwargs)
                if hooks.active and isinstance(out, torch.Tensor) and isinstance(outputs, torch.Tensor):
                    hooks.scaled[id(out)] = outputs
                    if len(hooks.scaled) > 64:
                        hooks.scaled.pop(next(iter(hooks.scaled)))
                    if not hooks.scaler_noted and scaler.is_enabled():
                        hooks.scaler_noted = True
                        hooks.emit(RunNote(message=f"a GradScaler scaled the loss: the {hooks.what} read it unscaled"))
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
        if len(self.losses) < MAX_LOSSES and value.numel() >= 1 and value.is_floating_point():
            # Kept on its device, read back later. The usual scalar loss is kept as it is: a
            # reduction per step would cost as much as the rest of the hooks' work.
            value = value.detach()
            self.losses.append(value if value.dim() == 0 else value.float().mean())

    def take_losses(self) -> List[torch.Tensor]:
        losses, self.losses = self.losses, []
        return losses

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
            if self.reference is None:
                self.reference = id(opt)
            self.guarded("step", self.on_step_start, opt)

    def _step_post(self, opt: Any, args: Any, kwargs: Any) -> None:
        if not self.active or self.stopped:
            return
        depth, backwards = self.depth.pop(id(opt), (1, self.backward_count))
        if depth > 1:
            self.depth[id(opt)] = (depth - 1, backwards)
            return
        self.on_step_end(opt)

    def stop(self, reason: str, message: str) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.send()
        self.emit(TracerStopped(reason=reason, steps=self.total_steps, backwards=self.backward_count))
        if self.mode is TraceMode.API_PASSIVE:
            self.active = False
            return
        raise TraceStop(f"trainlint: {message}")
