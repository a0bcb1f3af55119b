"""`trace --watch`: the whole run under sampled audits, in the traced process.

Every step costs the shared step hooks (two hook calls and a detach of the loss). Every
`every` steps an audit reads the losses since the previous one back in one transfer, with
the gradient norm of the reference optimizer's parameters measured before that step, and
looks for four symptoms:

* a non-finite loss or gradient norm (TL901);
* a loss spike: a loss more than `spike_factor` times the median of the last 100 (TL918);
* a gradient explosion: a norm more than `explode_factor` times the median of the earlier
  audits' norms (TL903);
* a stalled loss: after `stall_steps` steps, the median of the last 20 losses is not 1%
  below that of the first 20 (TL912).

Each symptom is sent as soon as an audit finds it (once per code: later ones are counted).
Without a given interval, the audit interval adapts so that audits cost about 2% of the
steps' time, between every step and every 100th.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from typing import Any, Deque, Dict, List, Optional

import torch

from trainlint.runtime.child import probes, sites
from trainlint.runtime.child.sinks import Sink
from trainlint.runtime.child.step_hooks import StepHooks
from trainlint.runtime.child.tracer import TraceMode
from trainlint.runtime.records import CodeSite, Number, StopReason, WatchAlert, WatchAudit, WatchSettings, WatchStart

FIRST_EVERY = 10  # the interval until the first audit has measured the cost of one
MAX_EVERY = 100
AUDIT_SHARE = 0.02  # of a step's time, spent on audits on average
HISTORY = 100  # finite losses the running median is taken over
WINDOW = 20  # losses at the start and at the end compared for a stall
MIN_HISTORY = 20  # losses seen before a spike can be judged
MIN_AUDITS = 3  # gradient norms seen before an explosion can be judged


class Watcher(StepHooks):
    what = "watch"

    def __init__(self, sink: Sink, settings: WatchSettings, mode: TraceMode = TraceMode.CHILD) -> None:
        super().__init__(sink, 0, mode)
        self.settings = settings
        self.every = settings.every or FIRST_EVERY
        self.next_audit = self.every  # the step the next audit follows
        self.audited_step = 0  # the step the last audit followed
        self.window: List[torch.Tensor] = []  # one loss per step since the last audit (a mean)
        self.window_steps: List[int] = []
        self.norm: Optional[torch.Tensor] = None
        self.norm_seconds = 0.0
        self.history: Deque[float] = deque(maxlen=HISTORY)
        self.first: List[float] = []  # the first finite losses (for a stall)
        self.norms: List[float] = []
        self.alerted: Dict[str, int] = {}  # code -> alerts (only the first is sent)
        self.loss_site: Optional[CodeSite] = None
        self.stalled_checked = False
        self.audits = 0
        self.last_audit = time.perf_counter()

    def on_install(self) -> None:
        s = self.settings
        self.last_audit = time.perf_counter()
        self.emit(
            WatchStart(
                every=s.every, spike_factor=s.spike_factor, explode_factor=s.explode_factor, stall_steps=s.stall_steps
            )
        )

    def before_backward(self, loss: torch.Tensor) -> None:
        if self.loss_site is None and self.active and not self.stopped:
            self.loss_site = self.guarded("site", lambda: sites.code_site(sites.user_site()))
        super().before_backward(loss)

    # ------------------------------------------------------------------ the steps
    def on_step_start(self, opt: Any) -> None:
        if id(opt) == self.reference and self.total_steps + 1 == self.next_audit:
            started = time.perf_counter()
            self.norm = _grad_norm(opt)
            self.norm_seconds = time.perf_counter() - started  # (part of the audit's cost)

    def on_step_end(self, opt: Any) -> None:
        if id(opt) != self.reference:
            return
        self.total_steps += 1
        losses = self.take_losses()
        if losses:
            self.window.append(losses[0] if len(losses) == 1 else torch.stack([x.float() for x in losses]).mean())
            self.window_steps.append(self.total_steps)
        if self.total_steps == self.next_audit:
            self.guarded("audit", self.audit)

    def finish(self) -> None:
        if self.window and not self.stopped:
            self.guarded("audit", self.audit)  # the steps since the last audit, at the script's end
        super().finish()

    # ------------------------------------------------------------------ the audit
    def audit(self) -> None:
        started = time.perf_counter()
        tensors = self.window + ([self.norm] if self.norm is not None else [])
        values = probes.read(tensors) if tensors else []
        losses = list(zip(self.window_steps, values[: len(self.window)]))
        norm = values[len(self.window)] if self.norm is not None else None
        self.window, self.window_steps, self.norm = [], [], None
        for step, loss in losses:
            self._check_loss(step, loss)
        if norm is not None:
            self._check_norm(norm)
        self._check_stall()
        median = statistics.median(self.history) if self.history else None
        steps = self.total_steps - self.audited_step  # (fewer than `every` in the script's last window)
        step_seconds = (started - self.last_audit) / steps if steps > 0 else None
        audit_seconds = time.perf_counter() - started
        self.emit(
            WatchAudit(
                step=self.total_steps,
                every=self.every,
                loss=_number(losses[-1][1]) if losses else None,
                median=_number(median),
                grad_norm=_number(norm),
                step_seconds=step_seconds,
                audit_seconds=audit_seconds,
            )
        )
        spent = time.perf_counter() - started + self.norm_seconds  # (the norm and the record included)
        self.norm_seconds = 0.0
        if self.settings.every is None and step_seconds and self.audits > 0:
            # About AUDIT_SHARE of the steps' time on audits, within [1, MAX_EVERY]. (The
            # first window also holds the script's start-up: it measures nothing.)
            wanted = math.ceil(spent / (AUDIT_SHARE * step_seconds))
            self.every = max(1, min(MAX_EVERY, wanted))
        self.next_audit = self.total_steps + self.every
        self.audited_step = self.total_steps
        self.audits += 1
        self.last_audit = time.perf_counter()

    def _check_loss(self, step: int, loss: float) -> None:
        s = self.settings
        if not math.isfinite(loss):
            self.alert("TL901", step, f"the loss given to backward at step {step} is {_word(loss)}", loss)
            return
        if len(self.history) >= MIN_HISTORY:
            median = statistics.median(self.history)
            if median > 0 and loss > s.spike_factor * median:
                self.alert(
                    "TL918",
                    step,
                    f"the loss jumped to {_fmt(loss)} at step {step}, {_fmt(loss / median)}x the median of the "
                    f"last {len(self.history)} steps ({_fmt(median)})",
                    loss,
                    median,
                )
        self.history.append(loss)
        if len(self.first) < WINDOW:
            self.first.append(loss)

    def _check_norm(self, norm: float) -> None:
        step = self.total_steps
        if not math.isfinite(norm):
            self.alert("TL901", step, f"the gradient norm before step {step} is {_word(norm)}", norm)
            return
        if len(self.norms) >= MIN_AUDITS:
            median = statistics.median(self.norms)
            if median > 0 and norm > self.settings.explode_factor * median:
                self.alert(
                    "TL903",
                    step,
                    f"the gradient norm before step {step} is {_fmt(norm)}, {_fmt(norm / median)}x the median of "
                    f"the earlier audits ({_fmt(median)})",
                    norm,
                    median,
                )
        self.norms.append(norm)

    def _check_stall(self) -> None:
        if self.stalled_checked or self.total_steps < self.settings.stall_steps or len(self.first) < WINDOW:
            return
        self.stalled_checked = True
        start = statistics.median(self.first)
        recent = statistics.median(list(self.history)[-WINDOW:])
        if recent >= start - 0.01 * abs(start):
            self.alert(
                "TL912",
                self.total_steps,
                f"the loss has not fallen in {self.total_steps} steps: median {_fmt(recent)} over the last "
                f"{WINDOW} steps, {_fmt(start)} over the first {WINDOW}",
                recent,
                start,
            )

    def alert(self, code: str, step: int, message: str, value: float, reference: Optional[float] = None) -> None:
        self.alerted[code] = self.alerted.get(code, 0) + 1
        if self.alerted[code] > 1:
            return
        self.emit(
            WatchAlert(
                code=code,
                step=step,
                message=message,
                value=_number(value),
                reference=_number(reference),
                site=self.loss_site,
            )
        )
        if code in self.settings.stop_codes:
            self.stop(StopReason.ALERT, f"run stopped at step {step}: {code} ({message})")


def _grad_norm(opt: Any) -> Optional[torch.Tensor]:
    grads = [p.grad for group in opt.param_groups for p in group["params"] if getattr(p, "grad", None) is not None]
    if not grads:
        return None
    with torch.no_grad():
        norms = torch._foreach_norm([g.detach() for g in grads if not g.is_sparse])
        return torch.linalg.vector_norm(torch.stack([n.float() for n in norms])) if norms else None


def _number(value: Optional[float]) -> Optional[Number]:
    return None if value is None else probes.number(float(value))


def _word(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def _fmt(value: float) -> str:
    return f"{value:.3g}"
