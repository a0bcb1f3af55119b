"""`trainlint trace`'s progress lines on stderr, from the records as they arrive."""

from __future__ import annotations

import click

from trainlint.runtime.judging.context import fmt
from trainlint.runtime.records import (
    EvalWait,
    LrFindSteps,
    ManualUpdate,
    Record,
    RunStart,
    StepRecord,
    StopReason,
    TracerStopped,
    WatchAlert,
    WatchAudit,
)

# A range test has a hundred steps or so: a line every tenth of them.
_RANGE_TEST_LINES = 10


class Progress:
    """One line per milestone on stderr: start, each step, stop."""

    def __init__(self, steps: int, quiet: bool) -> None:
        self.steps = steps
        self.quiet = quiet
        self.updates_by_hand = 0  # without an optimizer
        self.next_line = 0  # `trace --watch`: the step after which the next audit line is shown

    def say(self, text: str) -> None:
        if not self.quiet:
            click.echo(f"trainlint: {text}", err=True)

    def __call__(self, rec: Record) -> None:
        if isinstance(rec, RunStart):
            self.say(f"script started (pid {rec.pid}, torch {rec.torch})")
        elif isinstance(rec, StepRecord):
            losses = rec.losses or []
            loss = f", loss {fmt(losses[-1])}" if losses else ""
            norm = f", grad norm {fmt(rec.grad_total)}" if rec.grad_total is not None else ""
            self.say(f"step {rec.step}/{self.steps}{loss}{norm}")
        elif isinstance(rec, LrFindSteps):
            every = max(1, self.steps // _RANGE_TEST_LINES)
            for p in rec.points:
                if p.step % every == 0 or p.step == 1:
                    self.say(f"range test step {p.step}/{self.steps}, lr {fmt(p.lr)}, loss {fmt(p.loss)}")
        elif isinstance(rec, ManualUpdate):
            self.updates_by_hand = max(self.updates_by_hand, rec.updates_done)
            self.say(f"backward pass {rec.backward} (no optimizer: watching the trained tensors)")
        elif isinstance(rec, EvalWait):
            self.say(
                f"no evaluation pass in {rec.steps} step(s): going on for up to {rec.max_steps} more, "
                "watching forward passes only"
            )
        elif isinstance(rec, WatchAlert):
            # A symptom is a result, not progress: shown even with -q, as it happens.
            click.echo(f"trainlint: watch: step {rec.step}: {rec.code} {rec.message}", err=True)
        elif isinstance(rec, WatchAudit):
            if rec.step >= self.next_line:
                self.next_line = rec.step * 2  # lines at steps ~10, 20, 40, 80...: few, however long the run
                norm = f", grad norm {fmt(rec.grad_norm)}" if rec.grad_norm is not None else ""
                self.say(f"watch: step {rec.step}, loss {fmt(rec.loss)}{norm} (audit every {rec.every} step(s))")
        elif isinstance(rec, TracerStopped):
            if rec.reason == StopReason.ALERT:
                self.say(f"stopping the script at step {rec.steps}, as --stop-on asks")
            elif rec.reason == StopReason.INTERRUPTED:
                self.say(f"the script was interrupted after {rec.steps} step(s)")
            elif rec.reason == StopReason.DIVERGED:
                self.say(f"the loss diverged at range test step {rec.steps}: stopping the script")
            elif rec.steps == 0 and self.updates_by_hand:
                self.say(f"stopping the script after {self.updates_by_hand} update step(s) by hand")
            else:
                self.say(f"stopping the script after {rec.steps} step(s)")
