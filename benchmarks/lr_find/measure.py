"""Run a training script for N optimizer steps and record its loss and step times.

    python benchmarks/lr_find/measure.py --steps N --out FILE [--set-lr LR] SCRIPT [-- SCRIPT_ARGS...]

The script runs unmodified, as `python SCRIPT SCRIPT_ARGS` would run it, in this process. The
loss of a step is the mean of the losses given to `backward()` since the previous step (read
back once at the end, so nothing synchronises during the run); its time is the wall time
between two steps of the first optimizer that steps. After N steps the script is stopped.
`--set-lr LR` sets the first param group's rate to LR when each optimizer is built (every other
group keeps its ratio to the first), for scripts without a learning-rate option; a scheduler
built afterwards starts from it.

`--lr-find-every K` measures what the range test's instrumentation costs, in this same run:
blocks of K steps alternate between plain steps and steps under the range test's hooks
(`trainlint.runtime.child.lr_find.LrFinder`, its records written to /dev/null), with the test's
rate held at the rate the run already has, so that the training itself is unchanged.
Alternating blocks share whatever load the machine is under.

Writes {"losses": [...], "steps": n, "step_seconds": median, "plain_seconds": median,
"lr_find_seconds": median} to FILE (the last two with --lr-find-every).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import runpy
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import torch
from torch.optim import optimizer as optim_hooks


class _Enough(BaseException):
    """Raised into the script after the requested steps (a BaseException: `except Exception` in
    the script does not catch it)."""


def _finder() -> Any:
    """The range test's instrumentation, as `trace --lr-find` installs it in the traced process,
    writing its records to /dev/null; never stopping, the rate set per block."""
    from trainlint.runtime.child.lr_find import LrFinder
    from trainlint.runtime.child.sinks import FdSink
    from trainlint.runtime.child.tracer import TraceMode
    from trainlint.runtime.records import LrFindSettings

    sink = FdSink(os.open(os.devnull, os.O_WRONLY))
    never = {"TL914": {"divergence_factor": math.inf}}
    return LrFinder(sink, LrFindSettings(steps=10**9), options=never, mode=TraceMode.API_PASSIVE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("script")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--set-lr", type=float, default=None)
    parser.add_argument("--lr-find-every", type=int, default=0)
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    script_args = [a for a in args.script_args if a != "--"]

    pending: List[torch.Tensor] = []
    losses: List[Optional[torch.Tensor]] = []
    times: List[float] = []
    state: Dict[str, Any] = {"ref": None, "rate": None, "last": time.perf_counter(), "inside": False}

    finder = _finder() if args.lr_find_every else None
    modes: List[bool] = []  # per step: under the range test's hooks

    def toggle() -> None:
        """At a block boundary, install or remove the range test's hooks (never from inside
        an optimizer hook: torch iterates over them there)."""
        if finder is None:
            return
        on = (len(losses) // args.lr_find_every) % 2 == 1
        if on and not finder.active:
            rate = float(state["rate"]) if state["rate"] is not None else 0.0
            finder.settings.min_lr = finder.settings.max_lr = rate
            finder.install()
        elif not on and finder.active:
            finder.uninstall()

    def wrap_backward(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def backward(tensor: torch.Tensor, *a: Any, **k: Any) -> Any:
            if not state["inside"]:
                toggle()
            if not state["inside"] and tensor.is_floating_point() and tensor.numel():
                pending.append(tensor.detach().float().mean())
            state["inside"] = True
            try:
                return original(tensor, *a, **k)
            finally:
                state["inside"] = False

        return backward

    def after_step(opt: Any, *_: Any) -> None:
        if state["ref"] is None:
            state["ref"] = id(opt)
            state["rate"] = opt.param_groups[0]["lr"]
        if id(opt) != state["ref"]:
            return
        modes.append(finder is not None and finder.active)
        now = time.perf_counter()
        times.append(now - state["last"])
        state["last"] = now
        losses.append(torch.stack(pending).mean() if pending else None)
        pending.clear()
        if len(losses) >= args.steps:
            raise _Enough()

    torch.Tensor.backward = wrap_backward(torch.Tensor.backward)  # type: ignore[method-assign]
    optim_hooks.register_optimizer_step_post_hook(after_step)
    if args.set_lr is not None:
        init = torch.optim.Optimizer.__init__

        def set_lr(self: Any, *a: Any, **k: Any) -> None:
            init(self, *a, **k)
            groups = self.param_groups
            first = float(groups[0]["lr"])
            for g in groups:
                g["lr"] = args.set_lr * (float(g["lr"]) / first if first > 0 else 1.0)

        torch.optim.Optimizer.__init__ = set_lr  # type: ignore[method-assign]

    sys.argv = [args.script, *script_args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
    try:
        runpy.run_path(args.script, run_name="__main__")
    except _Enough:
        pass
    if finder is not None and finder.active:
        finder.uninstall()
    values = [float(v) if v is not None else None for v in losses]
    result: Dict[str, Any] = {
        "losses": values,
        "steps": len(values),
        "step_seconds": statistics.median(times[1:]) if len(times) > 1 else None,
    }
    if finder is not None:
        # The first step of each block straddles the switch: left out, with the run's first.
        k = args.lr_find_every
        timed = [(t, m) for i, (t, m) in enumerate(zip(times, modes)) if i > 0 and i % k != 0]
        plain = [t for t, m in timed if not m]
        hooked = [t for t, m in timed if m]
        result["plain_seconds"] = statistics.median(plain) if plain else None
        result["lr_find_seconds"] = statistics.median(hooked) if hooked else None
    with open(args.out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
