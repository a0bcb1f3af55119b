"""The tracer: global hooks and thin wrappers that watch a training run without editing it.

`Tracer.install()` registers global module forward hooks and optimizer step hooks, and wraps
the few torch functions whose call order matters. Each concern is watched by its own object
(models and their forward passes, activations, optimizer steps, gradients, backward, losses,
...); the tracer holds them, the counters they share, and the run's course: when to stop,
whether to wait for an evaluation pass. Everything observed goes to a sink as records, as it is
gathered, so a script that dies still leaves its evidence behind. `uninstall()` puts back every
hook and original function.
"""

from __future__ import annotations

import enum
import math
import os
import threading
import time
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch.nn.modules import module as module_hooks
from torch.optim import optimizer as optim_hooks

from trainlint.runtime.child import (
    activations,
    backward,
    compiled,
    data,
    flow,
    functions,
    gradients,
    loop_calls,
    losses,
    modules,
    optimizer,
    passes,
    probes,
    sites,
    views,
)
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.child.probes import Deferred, Measure
from trainlint.runtime.child.sinks import Sink
from trainlint.runtime.records import (
    ActivationStd,
    CallEvent,
    EvalWait,
    FirstNonFinite,
    NonFiniteAt,
    Record,
    StopSwallowed,
    TracerError,
    TracerStopped,
)

_MAX_EVENTS = 4000


class TraceStop(BaseException):
    """Raised into the traced script once the requested steps are done.

    Derived from BaseException so that a script's `except Exception:` does not swallow it.
    """


class TraceMode(enum.Enum):
    """What happens when the tracer has seen enough steps."""

    CHILD = "child"  # a traced script in its own process: a swallowed stop ends the process
    API = "api"  # `trainlint.trace()` in the user's process: stop the script, then go passive
    API_PASSIVE = "api_passive"  # the same, but never stop the script: only stop watching


class Tracer:
    def __init__(
        self,
        sink: Sink,
        steps: int = 2,
        overfit: int = 0,
        options: Optional[Dict[str, Dict[str, Any]]] = None,
        mode: TraceMode = TraceMode.API,
        eval_wait: int = 0,
        eval_wait_seconds: Optional[float] = None,
    ) -> None:
        self.sink = sink
        self.overfit = overfit
        self.steps = overfit if overfit else steps
        self.options = options or {}
        self.mode = mode
        self.active = False
        self.stopped = False
        self.finished = False
        # Waiting for an evaluation pass: some suspicions (eval mode, no_grad, functional dropout)
        # can only be judged on one, and scripts often evaluate once per epoch. Past the
        # requested steps the run may go on for up to `eval_wait` optimizer steps (and until
        # `eval_wait_seconds` after install) watching only forward passes, until one is seen.
        self.eval_wait = 0 if overfit else max(0, eval_wait)
        self.eval_wait_seconds = eval_wait_seconds
        self.eval_seen = False
        self.waiting = False
        self.wait_steps = 0
        self.installed_at = time.monotonic()
        self.pid = os.getpid()
        self.handles: List[Any] = []
        self.grad_handles: List[Any] = []
        self.patcher = Patcher()
        self.deferred = Deferred()
        self.events = 0
        self.total_steps = 0
        self.backward_count = 0
        self.backward_since_step = 0
        self.nonfinite_reported = False
        self.loader_used = False  # overfit mode: a DataLoader hands out the repeated batch
        self._in_call = threading.local()
        self._fork_registered = False
        # One watcher per concern; they reach each other through the tracer.
        self.models = modules.ModelWatch(self)
        self.flow = flow.FlowWatch(self)
        self.acts = activations.ActivationWatch(self)
        self.passes = passes.PassWatch(self)
        self.optim = optimizer.OptimizerWatch(self)
        self.grads = gradients.GradientWatch(self)
        self.backward = backward.BackwardWatch(self)
        self.losses = losses.LossWatch(self)
        self.loop_calls = loop_calls.LoopCallWatch(self)
        self.functions = functions.FunctionWatch(self)
        self.views = views.ViewWatch(self)  # wraps view/reshape during first training passes only

    # ------------------------------------------------------------------ plumbing
    @property
    def recording(self) -> bool:
        """Call-order evidence is gathered: active, not stopped, not just waiting for an evaluation pass."""
        return self.active and not self.stopped and not self.waiting

    def opt(self, code: str, key: str, default: Any) -> Any:
        return self.options.get(code, {}).get(key, default)

    def in_call(self, name: str) -> bool:
        """Inside a wrapped call of this name on this thread (its inner calls are not recorded again)."""
        return bool(getattr(self._in_call, name, False))

    def set_in_call(self, name: str, value: bool) -> None:
        setattr(self._in_call, name, value)

    def emit(self, record: Record) -> None:
        if os.getpid() != self.pid:
            return
        try:
            self.sink.emit(record)
        except Exception:  # a broken channel must not break the user's script
            pass

    def event(self, event: CallEvent) -> None:
        self.events += 1
        if self.events > _MAX_EVENTS:
            return
        event.seq, event.step, event.backward = self.events, self.total_steps, self.backward_count
        self.emit(event)

    def internal(self, where: str, exc: BaseException) -> None:
        self.emit(TracerError(where=where, error=f"{type(exc).__name__}: {exc}"))

    def guarded(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except TraceStop:
            raise
        except Exception as exc:  # tracer defects are reported, never raised into the script
            self.internal(where, exc)
            return None

    def check_stopped(self) -> None:
        """The script caught the stop and kept going: end it (child) or stop watching (API)."""
        if not self.stopped:
            return
        if self.mode is TraceMode.CHILD:
            end_after_swallowed_stop(self.emit)
        self.active = False

    def _after_fork(self) -> None:
        # DataLoader workers and other forked children inherit the hooks; they must not
        # count steps or send evidence.
        self.active = False

    # ------------------------------------------------------------------ install
    def install(self) -> None:
        self.active = True
        self.pid = os.getpid()
        self.installed_at = time.monotonic()
        sites.reset_roots()
        h = self.handles
        h.append(module_hooks.register_module_forward_pre_hook(self.models.pre_hook))
        h.append(module_hooks.register_module_forward_hook(self.models.post_hook, always_call=True))
        h.append(optim_hooks.register_optimizer_step_pre_hook(self.optim.step_pre))
        h.append(optim_hooks.register_optimizer_step_post_hook(self.optim.step_post))
        for install in (
            modules.install,
            optimizer.install,
            gradients.install,
            backward.install,
            loop_calls.install,
            losses.install,
            passes.install,
            functions.install,
            data.install,
            compiled.install,
        ):
            install(self, self.patcher)
        if not self._fork_registered:
            ref = weakref.ref(self)

            def after_fork() -> None:
                tracer = ref()
                if tracer is not None:
                    tracer._after_fork()

            os.register_at_fork(after_in_child=after_fork)
            self._fork_registered = True

    def uninstall(self) -> None:
        self.active = False
        for handle in self.handles + self.grad_handles:
            try:
                handle.remove()
            except Exception:
                pass
        self.handles.clear()
        self.grad_handles.clear()
        self.views.stop()
        self.patcher.restore()

    # ------------------------------------------------------------------ values read back
    def resolve(self, blocks: Sequence[torch.Tensor] = ()) -> Tuple[List[float], List[Tuple[Any, float]]]:
        """Read back `blocks` and every deferred value in one transfer.

        Returns the numbers of `blocks`, and the deferred (key, value) pairs that callers
        handle themselves (the rest are acted on here).
        """
        keys, stacked = self.deferred.take()
        parts = list(blocks) + ([stacked] if stacked is not None else [])
        flat = probes.read_blocks(parts)
        cut = sum(b.numel() for b in blocks)
        head, tail = flat[:cut], flat[cut:]
        values = list(zip(keys, tail))
        rest: List[Tuple[Any, float]] = []
        means: Dict[Tuple[int, int], float] = {}  # a layer's output mean, until its std comes
        for key, val in values:
            tag = key[0]
            if tag == Measure.FINITE:
                if not math.isfinite(val) and not self.nonfinite_reported:
                    mod = self.models.module_by_id(key[1])
                    self.nonfinite(
                        NonFiniteAt.MODULE_OUTPUT,
                        self.models.names.get(key[1], "?"),
                        self.models.site_of(mod) if mod is not None else None,
                        step=key[2],
                    )
            elif tag == Measure.ACT_MEAN:
                means[(key[1], key[2])] = val
            elif tag == Measure.ACT_STD:
                mean = means.pop((key[1], key[2]), None)
                self.emit(
                    ActivationStd(
                        module=self.models.names.get(key[1], "?"),
                        order=key[2],
                        std=probes.number(val),
                        mean=probes.number(mean) if mean is not None else None,
                    )
                )
            elif tag == Measure.LOSS_VALUE:
                if not self.nonfinite_reported and isinstance(probes.number(val), str):
                    self.nonfinite(NonFiniteAt.LOSS, key[1], (key[2], key[3]), value=probes.number(val), step=key[4])
                rest.append(((Measure.LOSS,), val))
            else:
                rest.append((key, val))
        return head, rest

    def nonfinite(
        self,
        where: str,
        name: str,
        site: Optional[sites.Site],
        step: Optional[int] = None,
        value: Optional[Any] = None,
    ) -> None:
        """The first NaN/Inf of the run (only the first is reported)."""
        if self.nonfinite_reported:
            return
        self.nonfinite_reported = True
        self.emit(
            FirstNonFinite(
                where=where,
                name=name,
                site=sites.code_site(site),
                step=self.total_steps if step is None else step,
                value=value,
            )
        )

    # ------------------------------------------------------------------ stop / wait / finish
    def target_reached(self) -> bool:
        counts = [i.steps for i in self.optim.opts.values() if i.steps > 0]
        if not counts:
            return False
        return min(counts) >= self.steps or sum(counts) >= 4 * self.steps

    def wait_expired(self) -> bool:
        limit = self.eval_wait_seconds
        return limit is not None and time.monotonic() - self.installed_at >= limit

    def start_wait(self) -> None:
        """The requested steps are done but no evaluation pass ran yet: keep going, watching passes only.

        What is measured per step (gradients, updates, losses, call order) stays that of the
        requested steps; the extra steps only count forward passes and their modes.
        """
        self.waiting = True
        self.wait_steps = 0
        self.emit(EvalWait(steps=self.total_steps, max_steps=self.eval_wait))

    def stop(self, reason: str) -> None:
        if self.stopped:
            return
        self.guarded("finish", self.finish)
        self.stopped = True
        rec = TracerStopped(reason=reason, steps=self.total_steps, backwards=self.backward_count)
        if self.waiting:
            rec.waited_steps, rec.eval_seen = self.wait_steps, self.eval_seen
        self.emit(rec)
        if self.mode is TraceMode.API_PASSIVE:
            self.active = False
            return
        raise TraceStop(f"trainlint: stopping after {self.total_steps} optimizer step(s)")

    def finish(self) -> None:
        """Read back what is still pending and run the end-of-run checks (once)."""
        if self.finished:
            return
        self.finished = True
        was = self.active
        self.active = False
        try:
            self.passes.flush()  # forward passes with a graph that no backward ever used
            if self.total_steps == 0 and self.backward_count >= 2:
                # The run ended (on its own, or by an error) after backward passes but before any
                # optimizer step: whether the parameters moved is the evidence for TL103.
                self.backward.report_no_step()
            self.resolve()
            if not self.waiting:  # else already sent when the wait began, and unchanged since
                self.acts.emit()
            self.passes.emit_all()
            self.functions.check()
        finally:
            self.active = was


def end_after_swallowed_stop(emit: Callable[[Any], None]) -> None:
    """The script caught the stop and went on: say so, flush what it printed, and end the
    child process (what it would do next is not part of the trace)."""
    import sys

    emit(StopSwallowed())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(0)
