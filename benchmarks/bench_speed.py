"""Speed of `trainlint check` against a bare libcst parse of the same files, in one run.

Corpus: real code nobody here wrote — the installed torch package's `nn/`, `optim/` and
`utils/data/` sources — plus the project's quality corpus. Prints the ratio
(trainlint cold, one process, no cache) / (libcst.parse_module alone).

    python benchmarks/bench_speed.py [--repeat 3] [extra folders...]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from typing import List

import libcst as cst

HERE = os.path.dirname(os.path.abspath(__file__))


def corpus_files(extra: List[str]) -> List[str]:
    roots: List[str] = []
    spec = importlib.util.find_spec("torch")
    if spec is not None and spec.origin:
        torch_dir = os.path.dirname(spec.origin)
        roots += [os.path.join(torch_dir, d) for d in ("nn", "optim", os.path.join("utils", "data"))]
    roots.append(os.path.join(HERE, "quality", "cases"))
    roots += extra
    files: List[str] = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".py")]
    return sorted(files)


def time_parse(texts: List[str]) -> float:
    t0 = time.perf_counter()
    for t in texts:
        cst.parse_module(t)
    return time.perf_counter() - t0


def time_check(files: List[str]) -> float:
    from trainlint.config import Settings
    from trainlint.engine import check_paths

    t0 = time.perf_counter()
    check_paths(files, Settings())
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("extra", nargs="*", help="more folders of Python files to include")
    args = ap.parse_args()
    files = corpus_files(args.extra)
    if not files:
        sys.exit("no files found (is torch installed?)")
    texts = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            texts.append(fh.read())
    lines = sum(t.count("\n") for t in texts)
    # Warm imports and caches of both sides once, then take the best of N runs.
    time_parse(texts[:5])
    time_check(files[:5])
    parse = min(time_parse(texts) for _ in range(args.repeat))
    check = min(time_check(files) for _ in range(args.repeat))
    print(f"files: {len(files)}  lines: {lines}  cores: {os.cpu_count()}")
    print(f"libcst.parse_module: {parse:.2f} s")
    print(f"trainlint check (cold, 1 process, no cache): {check:.2f} s")
    print(f"ratio check / parse: {check / parse:.2f}  (target <= 1.5; core issue <= 3)")


if __name__ == "__main__":
    main()
