"""Tracer overhead: a plain training step vs the same step under `trainlint trace`'s hooks.

    python benchmarks/bench_tracer.py [--steps 30] [--rounds 5]

Both models run on the CPU in this one process; plain and traced blocks alternate so that
load on the machine affects both alike, and the medians of per-step times are compared. By
default the clock is the process's CPU time, which other processes on a busy machine do not
inflate; `--clock wall` measures elapsed time instead. The tracer is
installed exactly as in the traced child process (same hooks, same JSON records, written to
/dev/null), with a step limit high enough that it never stops the loop. Start-up is measured
in fresh interpreters: importing and installing the tracer, beyond `import torch`.

Targets: traced/plain step time <= 1.5 for the CNN; start-up <= 0.5 s.

`--report` (the HTML page) only formats, after the run, what the trace collected: the last
lines time `trainlint trace` of the bundled example with and without it (the ratio is
printed), and the page's formatting alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from trainlint.runtime.child.sinks import FdSink  # noqa: E402
from trainlint.runtime.child.tracer import Tracer  # noqa: E402


def cnn() -> Tuple[nn.Module, torch.Tensor, torch.Tensor]:
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 8 * 8, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )
    return model, torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))


def mlp() -> Tuple[nn.Module, torch.Tensor, torch.Tensor]:
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    return model, torch.randn(128, 784), torch.randint(0, 10, (128,))


def make_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()

    return step


CLOCK: Callable[[], float] = time.process_time


def time_block(step: Callable[[], None], n: int) -> float:
    """Median seconds per step over `n` steps."""
    times = []
    for _ in range(n):
        t0 = CLOCK()
        step()
        times.append(CLOCK() - t0)
    return statistics.median(times)


def traced(step: Callable[[], None], n: int, sink: FdSink) -> Tuple[float, float]:
    """(first traced step, median of the following ones) under a freshly installed tracer."""
    tracer = Tracer(sink, steps=10**9, mode="child")
    tracer.install()
    try:
        t0 = CLOCK()
        step()
        first = CLOCK() - t0
        rest = time_block(step, n)
    finally:
        tracer.uninstall()
    return first, rest


def measure(
    name: str, build: Callable[[], Tuple[nn.Module, torch.Tensor, torch.Tensor]], steps: int, rounds: int, sink: FdSink
) -> Dict[str, float]:
    torch.manual_seed(0)
    model, x, y = build()
    step = make_step(model, x, y)
    time_block(step, 5)  # warm-up: allocator, kernels
    plain: List[float] = []
    traced_steps: List[float] = []
    firsts: List[float] = []
    for _ in range(rounds):
        plain.append(time_block(step, steps))
        first, rest = traced(step, steps, sink)
        firsts.append(first)
        traced_steps.append(rest)
    p, t, f = statistics.median(plain), statistics.median(traced_steps), statistics.median(firsts)
    return {"plain_ms": 1e3 * p, "traced_ms": 1e3 * t, "first_ms": 1e3 * f, "ratio": t / p, "first_ratio": f / p}


_STARTUP = """
import time, sys
sys.path.insert(0, {root!r})
import torch
t0 = time.perf_counter()
from trainlint.runtime.child.sinks import ListSink
from trainlint.runtime.child.tracer import Tracer
tracer = Tracer(ListSink(), steps=2, mode="child")
tracer.install()
print(time.perf_counter() - t0)
"""


def startup(runs: int = 3) -> float:
    root = os.path.dirname(HERE)
    out = []
    for _ in range(runs):
        res = subprocess.run(
            [sys.executable, "-c", _STARTUP.format(root=root)], capture_output=True, text=True, check=True
        )
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return statistics.median(out)


def report_overhead(runs: int = 3) -> Tuple[float, float, float]:
    """(trace without --report, with it, formatting the page alone), median wall seconds of
    `trainlint trace examples/train_buggy.py`, the two commands alternating."""
    root = os.path.dirname(HERE)
    env = dict(os.environ, PYTHONPATH=root)
    example = os.path.join(root, "examples", "train_buggy.py")
    out = os.path.join(HERE, ".bench_report.html")
    plain: List[float] = []
    with_report: List[float] = []
    for _ in range(runs):
        for extra, times in (([], plain), (["--report", out], with_report)):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "trainlint", "trace", example, "-q", *extra], env=env, capture_output=True
            )
            times.append(time.perf_counter() - t0)
    from trainlint.runtime.api import trace_script

    report = trace_script(example, steps=2)
    t0 = time.perf_counter()
    report.render("html")
    formatting = time.perf_counter() - t0
    if os.path.exists(out):
        os.unlink(out)
    return statistics.median(plain), statistics.median(with_report), formatting


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=5, help="plain/traced block pairs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 keeps timings stable)")
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: process CPU time (robust on a loaded machine); wall: elapsed time",
    )
    parser.add_argument(
        "--report-runs", type=int, default=3, help="runs of `trace` with and without --report (0: skip)"
    )
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    sink = FdSink(os.open(os.devnull, os.O_WRONLY))
    print(
        f"torch {torch.__version__}, {args.threads} CPU thread(s), {args.rounds} rounds x {args.steps} steps, "
        f"{args.clock} time"
    )
    ok = True
    for name, build in (("cnn", cnn), ("mlp", mlp)):
        r = measure(name, build, args.steps, args.rounds, sink)
        print(
            f"{name}: plain {r['plain_ms']:.2f} ms/step, traced {r['traced_ms']:.2f} ms/step, "
            f"ratio {r['ratio']:.2f}x (first traced step {r['first_ms']:.2f} ms, {r['first_ratio']:.2f}x)"
        )
        if name == "cnn" and r["ratio"] > 1.5:
            ok = False
    s = startup()
    print(f"tracer start-up beyond `import torch`: {s:.3f} s")
    ok = ok and s <= 0.5
    if args.report_runs:
        plain, reported, formatting = report_overhead(args.report_runs)
        print(
            f"trace of examples/train_buggy.py: {plain:.2f} s, with --report {reported:.2f} s, "
            f"ratio {reported / plain:.3f} (formatting the page: {1e3 * formatting:.1f} ms)"
        )
    print("targets (cnn ratio <= 1.5, start-up <= 0.5 s):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
