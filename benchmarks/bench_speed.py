"""Speed of `trainlint check` against a bare libcst parse of the same files, in one run.

Corpus: real code nobody here wrote — the installed torch package's `nn/`, `optim/` and
`utils/data/` sources — plus the project's quality corpus. Prints the ratio
(trainlint cold, one process, no cache) / (libcst.parse_module alone), in CPU time of this
process (the figure the target is about: it does not move when other programs load the
machine) and in wall-clock time. The two sides are measured in alternation, best of N each.

    python benchmarks/bench_speed.py [--repeat 3] [extra folders...]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys
import time
from typing import List, Tuple

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


class Clock:
    """Wall-clock and CPU seconds of a block (CPU of this process only)."""

    def __enter__(self) -> "Clock":
        gc.collect()  # each side starts from the same clean heap
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def parse_all(texts: List[str]) -> None:
    for t in texts:
        cst.parse_module(t)


def check_all(files: List[str], context: bool = False) -> None:
    """One process, no cache. Without `context`, exactly the files given are analysed (the
    ratio's target); with it, also the project files they import or are imported by."""
    from trainlint.config import Settings
    from trainlint.pipeline import RunOptions, check_paths

    check_paths(files, Settings(), options=RunOptions(jobs=1, use_cache=False, context=context))


def time_parse(texts: List[str]) -> float:
    with Clock() as c:
        parse_all(texts)
    return c.wall


def time_check(files: List[str]) -> float:
    with Clock() as c:
        check_all(files)
    return c.wall


def best_of(repeat: int, texts: List[str], files: List[str]) -> Tuple[Tuple[float, float], Tuple[float, float]]:
    """((parse wall, parse cpu), (check wall, check cpu)), best of `repeat` alternated runs."""
    parse = [float("inf")] * 2
    check = [float("inf")] * 2
    for _ in range(repeat):
        with Clock() as c:
            parse_all(texts)
        parse = [min(parse[0], c.wall), min(parse[1], c.cpu)]
        with Clock() as c:
            check_all(files)
        check = [min(check[0], c.wall), min(check[1], c.cpu)]
    return (parse[0], parse[1]), (check[0], check[1])


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
    (parse_wall, parse_cpu), (check_wall, check_cpu) = best_of(args.repeat, texts, files)
    print(f"files: {len(files)}  lines: {lines}  cores: {os.cpu_count()}")
    print(f"libcst.parse_module:                         {parse_cpu:6.2f} s CPU  {parse_wall:6.2f} s wall")
    print(f"trainlint check (cold, 1 process, no cache): {check_cpu:6.2f} s CPU  {check_wall:6.2f} s wall")
    print(f"ratio check / parse: {check_cpu / parse_cpu:.2f} CPU, {check_wall / parse_wall:.2f} wall  (target <= 1.5)")
    # With project context (the default of `trainlint check`): the linked files are parsed too.
    from trainlint.config import Settings
    from trainlint.context import find_context

    linked = find_context(files, [t.encode() for t in texts], Settings())
    linked_texts = [c.decode("utf-8", "replace") for c in linked.contents if c is not None]
    with Clock() as p:
        parse_all(texts + linked_texts)
    with Clock() as c:
        check_all(files, context=True)
    print(
        f"with project context (+{len(linked_texts)} linked files): check {c.cpu:.2f} s CPU; "
        f"ratio to parsing the files and their context: {c.cpu / p.cpu:.2f}"
    )


if __name__ == "__main__":
    main()
