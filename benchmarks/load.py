"""Load test: `trainlint check` over many generated small files; wall time and peak memory.

    python benchmarks/load.py                  # 20,000 files, default jobs
    python benchmarks/load.py --files 2000 --jobs 1 --json

The files are small training scripts, model modules and helpers (about 30 lines each), in
folders of 100, where training scripts import their folder's model module, so the run sees
components of several files as real projects have. About one script in four has a bug.
Each run is measured in a child process: the wall time, and the peak resident memory of the
`trainlint` process and its worker processes (`resource.getrusage(RUSAGE_CHILDREN)`; on
Linux `ru_maxrss` is in KiB, the maximum over the processes, not their sum).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List

TRAIN = """\
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from {pkg}.models_{m} import Net{m}

def make_loader(n={n}):
    x = torch.randn(n, {d})
    y = torch.randint(0, {c}, (n,))
    return DataLoader(TensorDataset(x, y), batch_size={bs}, shuffle=True)

def train_{i}(epochs={ep}):
    model = Net{m}()
    opt = torch.optim.{opt}(model.parameters(), lr={lr})
    crit = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        for x, y in make_loader():
{clear}            loss = crit(model(x), y)
            loss.backward()
            opt.step()
    return model

if __name__ == "__main__":
    train_{i}()
"""

MODELS = """\
import torch.nn as nn
import torch.nn.functional as F

class Net{m}(nn.Module):
    def __init__(self, d={d}, h={h}, c={c}):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.drop = nn.Dropout({p})
        self.fc2 = nn.Linear(h, c)

    def forward(self, x):
        x = self.drop(F.relu(self.fc1(x)))
        return {head}
"""

HELPER = """\
import os
import math


def moving_average(values, k={k}):
    out = []
    for i in range(len(values)):
        window = values[max(0, i - k + 1) : i + 1]
        out.append(sum(window) / len(window))
    return out


def cosine(step, total={total}):
    return 0.5 * (1 + math.cos(math.pi * step / total))


def checkpoint_path(root, epoch):
    return os.path.join(root, f"epoch_{{epoch:04d}}.pt")
"""


def generate(root: str, files: int, seed: int = 0) -> int:
    """Write `files` modules (plus each folder's `__init__.py`); returns how many files in all."""
    rng = random.Random(seed)
    written = 0
    per_folder = 100
    for i in range(files):
        folder = os.path.join(root, f"pkg_{i // per_folder:04d}")
        if i % per_folder == 0:
            os.makedirs(folder, exist_ok=True)
            open(os.path.join(folder, "__init__.py"), "w").close()
            written += 1
        pkg, m, kind = os.path.basename(folder), i // 10, i % 10
        params = dict(
            pkg=pkg,
            m=m,
            i=i,
            d=rng.choice([8, 16, 32]),
            c=rng.choice([2, 3, 10]),
            h=rng.choice([32, 64]),
            n=rng.choice([128, 256]),
            bs=rng.choice([16, 32]),
            ep=rng.randint(1, 5),
            opt=rng.choice(["SGD", "Adam", "AdamW"]),
            lr=rng.choice([0.1, 0.01, 1e-3, 3e-4]),
            p=rng.choice([0.0, 0.1, 0.5]),
            k=rng.randint(2, 9),
            total=rng.randint(100, 1000),
        )
        if kind == 0:
            name = f"models_{m}.py"
            params["head"] = rng.choice(["self.fc2(x)", "self.fc2(x)", "F.softmax(self.fc2(x), dim=1)"])
            text = MODELS.format(**params)
        elif kind < 7:
            name = f"train_{i}.py"
            params["clear"] = "" if rng.random() < 0.25 else "            opt.zero_grad()\n"
            text = TRAIN.format(**params)
        else:
            name = f"helpers_{i}.py"
            text = HELPER.format(**params)
        with open(os.path.join(folder, name), "w", encoding="utf-8") as fh:
            fh.write(text)
        written += 1
    return written


MEASURE = """\
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.write(json.dumps({"wall_s": wall, "maxrss_kib": usage.ru_maxrss, "cpu_s": usage.ru_utime + usage.ru_stime,
                             "returncode": proc.returncode, "stderr": proc.stderr.decode("utf-8", "replace")[-2000:]}))
sys.stdout.write("\\n")
sys.stdout.buffer.write(proc.stdout)
"""


def measure(folder: str, jobs: int) -> Dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "trainlint",
        "check",
        folder,
        "--isolated",
        "--no-cache",
        "--select",
        "ALL",
        "--format",
        "json",
        "-j",
        str(jobs),
    ]
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, check=True).stdout
    head, _, body = out.partition(b"\n")
    stats: Dict[str, Any] = json.loads(head)
    try:
        report = json.loads(body)
        stats["files_checked"] = report["summary"]["files"]
        stats["diagnostics"] = report["summary"]["diagnostics"]
        stats["internal_errors"] = sum(1 for d in report["diagnostics"] if d["code"] == "TL002")
        stats["by_code"] = _count(d["code"] for d in report["diagnostics"])
    except (ValueError, KeyError):
        stats["files_checked"] = None
    return stats


def _count(codes: Any) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for c in codes:
        out[c] = out.get(c, 0) + 1
    return dict(sorted(out.items()))


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, nargs="*", default=[0], help="worker counts to measure (0: one per CPU)")
    ap.add_argument("--keep", help="generate into this folder and keep it")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    root = args.keep or tempfile.mkdtemp(prefix="trainlint-load-")
    try:
        t = time.perf_counter()
        total = generate(root, args.files)
        gen_s = time.perf_counter() - t
        runs = []
        for jobs in args.jobs:
            stats = measure(root, jobs)
            stats["jobs"] = jobs
            runs.append(stats)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    figures = {"files": total, "generate_s": round(gen_s, 1), "cpus": os.cpu_count(), "runs": runs}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{total} files generated in {gen_s:.1f} s ({os.cpu_count()} CPUs)")
        for r in runs:
            print(
                f"  jobs={r['jobs'] or 'auto'}: wall {r['wall_s']:.1f} s, cpu {r['cpu_s']:.1f} s, "
                f"peak RSS {r['maxrss_kib'] / 1024:.0f} MiB, exit {r['returncode']}, files checked {r['files_checked']}, "
                f"diagnostics {r.get('diagnostics')}, TL002 {r.get('internal_errors')}"
            )
            print(f"    by code: {r.get('by_code')}")
    ok = all(r["returncode"] in (0, 1) and r["files_checked"] == total and not r.get("internal_errors") for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
