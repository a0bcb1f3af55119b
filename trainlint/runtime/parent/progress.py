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
)

# A range test has a hundred steps or so: a line every tenth of them.
_RANGE_TEST_LINES = 10


class Progress:
    """One line per milestone on stderr: start, each step, stop."""

    def __init__(self, steps: int, quiet: bool) -> None:
        self.steps = steps
        self.quiet = quiet
        self.updates_by_hand = 0  # without an optimizer

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
        elif isinstance(rec, TracerStopped):
            if rec.reason == StopReason.DIVERGED:
                self.say(f"the loss diverged at range test step {rec.steps}: stopping the script")
            elif rec.steps == 0 and self.updates_by_hand:
                self.say(f"stopping the script after {self.updates_by_hand} update step(s) by hand")
            else:
                self.say(f"stopping the script after {rec.steps} step(s)")
