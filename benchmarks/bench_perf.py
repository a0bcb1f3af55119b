"""Performance figures of `trainlint check` (issue targets in brackets), all measured in one run.

    python benchmarks/bench_perf.py [--torchfix PATH] [--quick] [extra folders...]

Corpus: the installed torch package's `nn/`, `optim/`, `utils/data/` sources, the quality
corpus, and any extra folders (e.g. public training code fetched for measurement; it is never
committed). Figures:

- cold, 1 job, no cache / bare `libcst.parse_module` of the same files   [<= 1.5]
  (in CPU time of this process, which other programs loading the machine do not move, and
  in wall-clock time; the two sides are measured in alternation, best of N each)
- warm cache / cold                                                        [<= 0.10]
- cold with 2 jobs / 1 job                                                 [<= 0.6 on 2 cores]
  Files linked by imports form one component, checked in one process: the torch sources
  import each other (and `torch.nn` imports link the corpus files that use it to them), so
  nearly all of this corpus is one component. Its files are parsed by both processes (the
  worker sends its trees back pickled) and checked by the main one; the figure without that
  split is printed too, and the figure on a corpus of many independent projects (the
  quality corpus copied 8 times, plus the extra folders). Also printed: what moving a libcst
  tree between processes costs (pickle, unpickle, relative to parsing it) and the best ratio
  one component can reach with that cost (see `split_bound`).
- TorchFix (`torchfix --select ALL`, separate venv) / trainlint cold       [>= 5]
- time at 1x, 2x, 4x the corpus (copies under new names)                   [4x <= 4.4x time]
- peak RSS of a whole CLI run on the corpus                                [<= 300 MB]
- the tracer's per-step overhead (benchmarks/bench_tracer.py), when torch is installed
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import libcst as cst

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_speed import best_of, corpus_files, time_parse  # noqa: E402

from trainlint.analysis.depgraph import components  # noqa: E402
from trainlint.config import Settings  # noqa: E402
from trainlint.pipeline import RunOptions, check_paths  # noqa: E402
from trainlint.timing import Timings  # noqa: E402


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        gc.collect()  # every run starts from the same clean heap
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def copy_corpus(files: List[str], dest: str, times: int) -> List[str]:
    """`times` copies of every file under new folder names (each copy its own project)."""
    common = os.path.commonpath(files)
    out = []
    for k in range(times):
        for f in files:
            target = os.path.join(dest, f"copy{k}", os.path.relpath(f, common))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(f, target)
            out.append(target)
    return out


def corpus_files_only(folders: List[str]) -> List[str]:
    out: List[str] = []
    for root in folders:
        for dirpath, _, names in os.walk(root):
            out += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".py")]
    return sorted(out)


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def parallel_headroom(n: int = 4_000_000) -> float:
    """Two processes of pure CPU work / the same work in one: what this machine gives two
    jobs right now (0.5 on two idle cores; near 1.0 when other programs hold a core)."""
    import concurrent.futures
    import multiprocessing

    t0 = time.perf_counter()
    _burn(n)
    _burn(n)
    serial = time.perf_counter() - t0
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        pool.submit(_burn, 1).result()  # workers started
        t0 = time.perf_counter()
        list(pool.map(_burn, [n, n]))
        parallel = time.perf_counter() - t0
    return parallel / serial


def split_bound(files: List[str], texts: List[str], settings: Settings) -> Dict[str, float]:
    """The best 2-job / 1-job ratio a component can reach when its trees must be pickled to
    move between processes (libcst's trees are Python objects), from this run's own costs.

    Phases of a 1-job run (`--profile`): read (decoding, nesting guard) R, parse P, facts F,
    rules and positions Q. A worker parsing a share x of the bytes costs x(R + P + pickle);
    the main process parses the rest, unpickles the worker's trees and alone builds the
    facts and runs the rules: (1 - x)(R + P) + x unpickle + F + Q. The best x balances them."""
    timings = Timings()
    check_paths(files, settings, options=RunOptions(jobs=1, use_cache=False, timings=timings))
    ph = timings.phases
    r, p, f, q = (
        ph.get("read", 0.0),
        ph.get("parse", 0.0),
        ph.get("facts", 0.0),
        ph.get("rules", 0.0) + ph.get("positions", 0.0),
    )
    total = sum(ph.values())
    gc.collect()
    gc.disable()
    try:
        t0 = time.process_time()
        trees = [cst.parse_module(t) for t in texts]
        t1 = time.process_time()
        blobs = []
        for tr in trees:
            try:
                blobs.append(pickle.dumps(tr, protocol=pickle.HIGHEST_PROTOCOL))
            except RecursionError:  # too deep to pickle: the checker parses such a file itself
                pass
        t2 = time.process_time()
        for b in blobs:
            pickle.loads(b)
        t3 = time.process_time()
    finally:
        gc.enable()
    dump, load = (t2 - t1) / (t1 - t0), (t3 - t2) / (t1 - t0)
    best = min(
        max(x * (r + p * (1 + dump)), (1 - x) * (r + p) + x * p * load + f + q) for x in (i / 100 for i in range(101))
    )
    return {"dump": dump, "load": load, "ratio": best / total}


def cli_run(args: List[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def peak_rss_mb(args: List[str]) -> float:
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--torchfix", help="path of a torchfix executable installed in a separate venv")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="skip the scaling and memory figures")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()

    files = corpus_files(args.extra)
    texts = [open(f, encoding="utf-8").read() for f in files]
    lines = sum(t.count("\n") for t in texts)
    print(f"corpus: {len(files)} files, {lines} lines; cores: {os.cpu_count()}")
    settings = Settings()

    def cold(jobs: int = 1, paths: List[str] = files) -> None:
        check_paths(paths, settings, options=RunOptions(jobs=jobs, use_cache=False))

    time_parse(texts[:3])
    cold(1, files[:3])
    (parse, parse_cpu), (cold1, cold1_cpu) = best_of(args.repeat, texts, files)
    print(f"bare libcst.parse_module:        {parse:7.2f} s   ({parse_cpu:.2f} s CPU)")
    print(
        f"cold, 1 job, no cache:           {cold1:7.2f} s   ({cold1_cpu:.2f} s CPU)   "
        f"ratio {cold1_cpu / parse_cpu:.2f} CPU, {cold1 / parse:.2f} wall  [<= 1.5]"
    )

    with tempfile.TemporaryDirectory() as cache_dir:
        opts = RunOptions(jobs=1, use_cache=True, cache_dir=cache_dir)
        check_paths(files, settings, options=opts)
        warm = timed(lambda: check_paths(files, settings, options=opts), args.repeat)
    print(f"warm cache:                      {warm:7.2f} s   ratio {warm / cold1:.3f} [<= 0.10]")

    print(f"machine check: 2 processes of pure CPU work / 1 = {parallel_headroom():.2f}  (0.5 = two free cores)")
    groups = components(files, texts)
    share = max(sum(len(texts[i]) for i in g) for g in groups) / sum(len(t) for t in texts)
    print(f"components: {len(groups)}, the largest holds {share:.0%} of the bytes")
    cold2 = timed(lambda: cold(2), args.repeat)
    print(f"cold, 2 jobs:                    {cold2:7.2f} s   ratio {cold2 / cold1:.2f}  [<= 0.6 on 2 cores]")
    nosplit = timed(
        lambda: check_paths(files, settings, options=RunOptions(jobs=2, use_cache=False, split=False)), args.repeat
    )
    print(f"cold, 2 jobs, largest not split: {nosplit:7.2f} s   ratio {nosplit / cold1:.2f}")
    bound = split_bound(files, texts, settings)
    print(
        f"  moving a libcst tree between processes: pickle {bound['dump']:.2f}, unpickle {bound['load']:.2f} "
        f"(x parsing it); best 2-job ratio for one component with that cost: {bound['ratio']:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        quality = [f for f in files if f.startswith(os.path.join(HERE, "quality"))]
        projects = copy_corpus(quality, os.path.join(tmp, "q"), 8) + corpus_files_only(args.extra)
        p1 = timed(lambda: cold(1, projects), args.repeat)
        p2 = timed(lambda: cold(2, projects), args.repeat)
        print(
            f"independent projects ({len(projects)} files): 1 job {p1:.2f} s, 2 jobs {p2:.2f} s   "
            f"ratio {p2 / p1:.2f}  [<= 0.6 on 2 cores]"
        )

    folders = sorted({os.path.dirname(f) for f in files})
    cli = [sys.executable, "-m", "trainlint", "check", "--no-cache", "-j1", "--exit-zero", "-q", *files]
    tl_cli = cli_run(cli)
    if args.torchfix:
        tf = cli_run([args.torchfix, "--select", "ALL", *files])
        print(
            f"torchfix --select ALL:           {tf:7.2f} s vs trainlint CLI {tl_cli:.2f} s   ratio {tf / tl_cli:.1f}  [>= 5]"
        )
    else:
        print(f"trainlint CLI, cold, 1 job:      {tl_cli:7.2f} s   (pass --torchfix PATH to compare)")
    del folders

    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            base = None
            for times in (1, 2, 4):
                copies = copy_corpus(files, os.path.join(tmp, f"x{times}"), times)
                t = timed(lambda c=copies: cold(1, c), 1)
                base = base or t
                print(f"scaling {times}x corpus:              {t:7.2f} s   {t / base:.2f}x  [4x <= 4.4x]")
            rss = peak_rss_mb(cli)
            print(f"peak RSS, CLI on the corpus:     {rss:7.0f} MB  [<= 300 MB]")
            copies = copy_corpus(files, os.path.join(tmp, "x4m"), 4)
            rss4 = peak_rss_mb(
                [sys.executable, "-m", "trainlint", "check", "--no-cache", "-j1", "--exit-zero", "-q", *copies]
            )
            print(f"peak RSS, CLI on 4x the corpus:  {rss4:7.0f} MB")

    tracer = os.path.join(HERE, "bench_tracer.py")
    if os.path.exists(tracer):
        try:
            import torch  # noqa: F401
        except ImportError:
            print("tracer overhead: skipped (torch not installed)")
        else:
            print("tracer overhead (benchmarks/bench_tracer.py):")
            subprocess.run([sys.executable, tracer], check=False)


if __name__ == "__main__":
    main()
