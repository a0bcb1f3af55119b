"""`trace --watch` overhead: a CNN's training steps plain vs under the run watcher.

    python benchmarks/bench_watch.py [--steps 500] [--blocks 5] [--clock wall|cpu]

The CNN runs on the CPU in this one process. The watched steps run under the watcher exactly
as in a traced child (same hooks, same records, written to /dev/null), with its adaptive
audit interval; plain and watched blocks alternate so that load on the machine affects both
alike. Audits come every N steps, so the figure is the mean time per step over all the
watched steps (`--steps` of them, 500 by default), against the plain steps' mean.

It then runs `trainlint trace --watch --stop-on error` on a script that feeds a NaN at step
250 and prints the step the run stopped at, with the audit interval in force.

Targets: watched/plain mean step time <= 1.05; the NaN run stops within one audit interval.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable, List

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from trainlint.runtime.child.sinks import FdSink  # noqa: E402
from trainlint.runtime.child.watch import Watcher  # noqa: E402
from trainlint.runtime.records import WatchSettings  # noqa: E402

CLOCK: Callable[[], float] = time.perf_counter


def cnn_step() -> Callable[[], None]:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 8 * 8, 10),
    )
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def block(step: Callable[[], None], n: int) -> float:
    """Seconds for `n` steps."""
    t0 = CLOCK()
    for _ in range(n):
        step()
    return CLOCK() - t0


NAN_SCRIPT = """\
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16 * 16, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(32, 3, 16, 16), torch.randint(0, 10, (32,))
for step in range(1, 501):
    xb = x.clone()
    if step == 250:
        xb[0, 0, 0, 0] = float("nan")
    opt.zero_grad()
    nn.functional.cross_entropy(model(xb), y).backward()
    opt.step()
"""


def nan_run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.py")
        with open(path, "w") as handle:
            handle.write(NAN_SCRIPT)
        env = dict(os.environ, PYTHONPATH=ROOT)
        proc = subprocess.run(
            [sys.executable, "-m", "trainlint", "trace", "--watch", "--stop-on", "error", "--format", "json", path],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
        )
        trace = json.loads(proc.stdout)["trace"]
        watch = trace["watch"]
        alert = watch["alerts"][0] if watch["alerts"] else None
        print(
            f"NaN fed at step 250: alert at step {alert['step'] if alert else '-'}, the run stopped after "
            f"{trace['steps_completed']} step(s), audit interval then {watch['every_last']} "
            f"({'within' if trace['steps_completed'] - 250 <= watch['every_last'] else 'NOT within'} one interval)"
        )


def main() -> None:
    global CLOCK
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500, help="watched steps in all")
    parser.add_argument("--blocks", type=int, default=5, help="plain/watched block pairs")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="cpu")
    args = parser.parse_args()
    if args.clock == "cpu":
        CLOCK = time.process_time
    torch.set_num_threads(1)
    step = cnn_step()
    block(step, 10)  # warm-up
    per_block = max(1, args.steps // args.blocks)
    plain: List[float] = []
    watched: List[float] = []
    fd = os.open(os.devnull, os.O_WRONLY)
    watcher = Watcher(FdSink(fd), WatchSettings())
    watcher.install()
    watcher.active = False  # installed once, switched on for the watched blocks only
    try:
        for _ in range(args.blocks):
            plain.append(block(step, per_block))
            watcher.active = True
            watched.append(block(step, per_block))
            watcher.active = False
    finally:
        watcher.uninstall()
        os.close(fd)
    n = per_block * args.blocks
    p, w = sum(plain) / n, sum(watched) / n
    print(
        f"CNN, {n} watched steps ({args.clock} clock): plain {1e3 * p:.2f} ms/step, watched {1e3 * w:.2f} ms/step, "
        f"ratio {w / p:.3f} (target <= 1.05); {watcher.audits} audits, last interval {watcher.every}"
    )
    nan_run()


if __name__ == "__main__":
    main()
