"""Does `trainlint trace --lr-find` suggest rates at which the script's loss then falls?

    python benchmarks/lr_find/bench_lr_find.py [--only NAME] [--threads 1] [--repeat 3]

For each script (three here, with badly configured rates, and the bundled example) it runs
`trainlint trace --lr-find --format json`, then trains the same script, unmodified, for the
same number of steps twice: at the geometric middle of the suggested range and at the
configured rate (`measure.py`, through the script's `--lr` option, or by setting the rate when
the optimizer is built for a script without one). It prints one table: the suggested range,
TL914 and TL501, the mean loss over the first and the last tenth of each run, and the overhead
ratio: the median wall time of a step under the range test's instrumentation over that of a
plain step, from a third run at the suggested rate in which blocks of 8 plain steps and 8
instrumented steps alternate (so both see the same load on the machine; see `measure.py`),
repeated three times (`--repeat`), medians shown.

Every process gets one CPU thread (`--threads`), so that the timings are not at the mercy of
thread oversubscription on a shared machine. Figures only: nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@dataclass
class Case:
    name: str
    script: str  # relative to the repository root
    lr_option: Optional[str]  # the script's learning-rate option; None: set when the optimizer is built
    steps: int  # of the comparison runs
    lr_find: List[str] = field(default_factory=list)  # extra `trace --lr-find` options


CASES = [
    Case("CNN, synthetic images", "benchmarks/lr_find/cnn_images.py", "--lr", 300),
    Case("LSTM LM, synthetic tokens", "benchmarks/lr_find/lstm_lm.py", "--lr", 300),
    Case("MLP, synthetic tabular", "benchmarks/lr_find/tabular_mlp.py", "--lr", 300),
    # The example runs 48 steps in all (3 epochs of 16 batches): the range test takes 45 of them,
    # over rates from 1e-3 to 1e3, and the comparison runs take all 48.
    Case(
        "bundled example",
        "examples/train_buggy.py",
        None,
        48,
        ["--steps", "45", "--lr-min", "1e-3", "--lr-max", "1000"],
    ),
]


# Steps per block when plain steps and range-test steps alternate (the overhead's measure).
BLOCK = 8


def _env(threads: int) -> Dict[str, str]:
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def range_test(case: Case, threads: int) -> Dict[str, Any]:
    cmd = [sys.executable, "-m", "trainlint", "trace", "--lr-find", *case.lr_find, "--format", "json", "-q"]
    proc = subprocess.run([*cmd, case.script], cwd=ROOT, env=_env(threads), capture_output=True, text=True, timeout=900)
    if not proc.stdout.strip():
        raise RuntimeError(f"{case.script}: no report\n{proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout))


def train(case: Case, lr: float, threads: int, lr_find_every: int = 0) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json")
        cmd = [sys.executable, os.path.join(HERE, "measure.py"), "--steps", str(case.steps), "--out", out]
        if lr_find_every:
            cmd += ["--lr-find-every", str(lr_find_every)]
        if case.lr_option is None:
            cmd += ["--set-lr", repr(lr), case.script]
        else:
            cmd += [case.script, "--", case.lr_option, repr(lr)]
        subprocess.run(cmd, cwd=ROOT, env=_env(threads), capture_output=True, text=True, timeout=900, check=True)
        with open(out) as handle:
            return dict(json.load(handle))


def tenth_means(losses: List[Optional[float]]) -> tuple:
    """Mean loss over the first and the last tenth of a run (NaN/Inf count as such)."""
    vals = [v if v is not None else math.nan for v in losses]
    k = max(3, len(vals) // 10)
    return statistics.fmean(vals[:k]), statistics.fmean(vals[-k:])


def status(report: Dict[str, Any], code: str) -> str:
    found = [d["status"] for d in report["diagnostics"] if d["code"] == code]
    return ",".join(found) if found else "-"


def fmt(x: Optional[float]) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else "inf"
    return f"{x:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=None, help="Run only the cases whose name contains this.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="Timing runs per script (medians are shown).")
    args = parser.parse_args()
    rows = []
    for case in CASES:
        if args.only and args.only.lower() not in case.name.lower():
            continue
        print(f"{case.name}: range test ...", file=sys.stderr, flush=True)
        report = range_test(case, args.threads)
        lf = report["trace"]["lr_find"]
        s = lf["suggested"]
        configured = lf["configured"]
        row: Dict[str, Any] = {"case": case, "lf": lf, "report": report}
        if s is None:
            print(f"  no suggestion: {lf.get('message')}", file=sys.stderr)
            rows.append(row)
            continue
        pick = math.sqrt(s["low"] * s["high"])
        print(f"  suggested {fmt(s['low'])} to {fmt(s['high'])}; training at {fmt(pick)} ...", file=sys.stderr)
        row["pick"] = pick
        row["at_pick"] = train(case, pick, args.threads)
        print(f"  training at the configured {fmt(configured)} ...", file=sys.stderr, flush=True)
        row["at_configured"] = train(case, configured, args.threads)
        print("  timing plain and range-test steps in alternating blocks ...", file=sys.stderr, flush=True)
        runs = [train(case, pick, args.threads, lr_find_every=BLOCK) for _ in range(args.repeat)]
        row["timing"] = {
            key: statistics.median(r[key] for r in runs if r.get(key)) for key in ("plain_seconds", "lr_find_seconds")
        }
        rows.append(row)
    print_table(rows)


def print_table(rows: List[Dict[str, Any]]) -> None:
    head = (
        "| script | configured lr | range test | suggested range | TL914 | TL501 | steps | "
        "loss at suggested (lr) first -> last | loss at configured first -> last | "
        "plain step ms | range-test step ms | overhead |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for row in rows:
        case, lf, report = row["case"], row["lf"], row["report"]
        s = lf["suggested"]
        tested = f"{lf['steps_done']}/{lf['steps']} steps, {lf['stopped']}"
        suggested = f"{fmt(s['low'])} to {fmt(s['high'])}" if s else f"none ({lf.get('message')})"
        if "at_pick" not in row:
            print(f"| {case.name} | {fmt(lf['configured'])} | {tested} | {suggested} | - | - | - | - | - | - | - | - |")
            continue
        p0, p1 = tenth_means(row["at_pick"]["losses"])
        c0, c1 = tenth_means(row["at_configured"]["losses"])
        timing = row["timing"]
        plain_ms = timing["plain_seconds"] * 1000 if timing.get("plain_seconds") else None
        lf_ms = timing["lr_find_seconds"] * 1000 if timing.get("lr_find_seconds") else None
        ratio = lf_ms / plain_ms if lf_ms and plain_ms else None
        print(
            f"| {case.name} | {fmt(lf['configured'])} | {tested} | {suggested} | {status(report, 'TL914')} | "
            f"{status(report, 'TL501')} | {row['at_pick']['steps']} | {fmt(p0)} -> {fmt(p1)} ({fmt(row['pick'])}) | "
            f"{fmt(c0)} -> {fmt(c1)} | {fmt(plain_ms)} | {fmt(lf_ms)} | {fmt(ratio)} |"
        )


if __name__ == "__main__":
    main()
