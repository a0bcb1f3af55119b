"""Performance figures of `trainlint check` (issue targets in brackets), all measured in one run.

    python benchmarks/bench_perf.py [--torchfix PATH] [--quick] [extra folders...]

Corpus: the installed torch package's `nn/`, `optim/`, `utils/data/` sources and the quality
corpus; the extra folders (e.g. public training code fetched for measurement, never
committed) are the corpus of the independent-projects and memory figures. Figures:

- cold, 1 job, no cache / bare `libcst.parse_module` of the same files   [<= 1.5]
  (in CPU time of this process, which other programs loading the machine do not move, and
  in wall-clock time; the two sides are measured in alternation, best of N each)
- warm cache / cold                                                        [<= 0.10]
- cold with 2 jobs / 1 job, beside a machine check (two processes of pure CPU work / one:
  0.5 when both cores are free) and the cores other programs kept busy during the runs
  (from /proc/stat, less this process and its children): a figure taken while either is
  well above its free value is not the code's; repeat it.
  - one big component                                                    [<= 0.75]
    The torch sources import each other (and `torch.nn` imports link the corpus files that
    use it to them), so nearly all of this corpus is one import component, checked as one
    project. Its files are parsed by both processes (the worker sends its trees back
    pickled) and checked by the main one (`split.py`); the figure without that split is
    printed too, with what moving a libcst tree between processes costs (pickle, unpickle,
    relative to parsing it) and the best ratio one component can reach with that cost
    (see `split_bound`).
  - independent projects                                                 [<= 0.60]
    The extra folders (many real projects: each an import component or several, dealt to
    the workers by `pool.py`), or without them the quality corpus copied 8 times.
- TorchFix (`torchfix --select ALL`, separate venv) / trainlint cold       [>= 5]
- time at 1x, 2x, 4x the corpus (copies under new names)                   [4x <= 4.4x time]
- peak memory of a whole CLI run (`trainlint check` with the default `--jobs`, no cache) on
  the extra folders (a ~600k-line corpus of real training code for the target) [<= 300 MB]:
  the peak of the sum of the RSS of the run's processes (sampled every 20 ms from /proc;
  pages the workers share with the main process are counted in each), and the largest
  process's own peak RSS
- the tracer's per-step overhead (benchmarks/bench_tracer.py), when torch is installed
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

import libcst as cst

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_speed import best_of, corpus_files, time_parse  # noqa: E402

from trainlint import tree_transfer  # noqa: E402
from trainlint.config import Settings  # noqa: E402
from trainlint.pipeline import RunOptions, check_paths  # noqa: E402
from trainlint.plan import group_files  # noqa: E402
from trainlint.timing import Timings  # noqa: E402


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        gc.collect()  # every run starts from the same clean heap
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (Linux: /proc/stat; NaN elsewhere)."""
    try:
        with open("/proc/stat") as fh:
            v = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # less idle and iowait


def _own_seconds() -> float:
    t = os.times()  # with the children waited for: the worker processes, the CLI runs
    return t.user + t.system + t.children_user + t.children_system


class Elsewhere:
    """The cores other programs kept busy while the block ran (0.0: both cores were ours)."""

    def __enter__(self) -> "Elsewhere":
        self.busy, self.own, self.wall = _busy_seconds(), _own_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.wall
        others = (_busy_seconds() - self.busy) - (_own_seconds() - self.own)
        self.cores = max(0.0, others / wall) if wall > 0 else float("nan")


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
                blobs.append(tree_transfer.dump(tr))
            except RecursionError:  # too deep to pickle: the checker parses such a file itself
                pass
        t2 = time.process_time()
        for b in blobs:
            tree_transfer.load(b)
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


def _children(pid: int) -> List[int]:
    out: List[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mb(args: List[str]) -> Tuple[float, float, int]:
    """(peak of the sum of the RSS of the process tree of `args`, the largest process's peak
    RSS, the most processes seen at once), in MB. The sum is sampled from /proc (Linux); where
    there is none it is left at 0 and only the largest process is measured."""
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(p.pid, flush=True)\n"
        "p.wait()\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    pid = int(proc.stdout.readline())
    peak, most = 0, 0
    while proc.poll() is None:
        tree, todo = [], [pid]
        while todo:
            q = todo.pop()
            tree.append(q)
            todo += _children(q)
        peak = max(peak, sum(_rss_kb(q) for q in tree))
        most = max(most, len(tree))
        time.sleep(0.02)
    largest = int(proc.stdout.read().split()[-1])
    return peak / 1024, largest / 1024, most


def machine_check() -> str:
    return f"machine check {parallel_headroom():.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--torchfix", help="path of a torchfix executable installed in a separate venv")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="skip the scaling and memory figures")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()

    files = corpus_files([])  # the extra folders have figures of their own
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

    groups = group_files(files, [t.encode() for t in texts])
    share = max(sum(len(texts[i]) for i in g) for g in groups) / sum(len(t) for t in texts)
    print(f"components: {len(groups)}, the largest holds {share:.0%} of the bytes")
    check = machine_check()
    with Elsewhere() as busy:
        # (with the project context, as `check` runs: the figure above is without it)
        one = timed(cold, args.repeat)
        cold2 = timed(lambda: cold(2), args.repeat)
    print(
        f"one big component: 1 job {one:.2f} s, 2 jobs {cold2:.2f} s   ratio {cold2 / one:.2f}  [<= 0.75]   "
        f"({check}, 0.5 = two free cores; other programs used {busy.cores:.2f} cores meanwhile)"
    )
    nosplit = timed(
        lambda: check_paths(files, settings, options=RunOptions(jobs=2, use_cache=False, split=False)), args.repeat
    )
    print(f"  2 jobs, largest not split:     {nosplit:7.2f} s   ratio {nosplit / one:.2f}   ({machine_check()})")
    bound = split_bound(files, texts, settings)
    print(
        f"  moving a libcst tree between processes: pickle {bound['dump']:.2f}, unpickle {bound['load']:.2f} "
        f"(x parsing it); best 2-job ratio for one component with that cost: {bound['ratio']:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if args.extra:
            projects = corpus_files_only(args.extra)
        else:
            quality = [f for f in files if f.startswith(os.path.join(HERE, "quality"))]
            projects = copy_corpus(quality, os.path.join(tmp, "q"), 8)
        check = machine_check()
        with Elsewhere() as busy:
            p1 = timed(lambda: cold(1, projects), args.repeat)
            p2 = timed(lambda: cold(2, projects), args.repeat)
        print(
            f"independent projects ({len(projects)} files): 1 job {p1:.2f} s, 2 jobs {p2:.2f} s   "
            f"ratio {p2 / p1:.2f}  [<= 0.60]   ({check}, then {machine_check()}; "
            f"other programs used {busy.cores:.2f} cores meanwhile)"
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
    if args.extra:
        lines = sum(open(f, "rb").read().count(b"\n") for f in corpus_files_only(args.extra))
        cmd = [sys.executable, "-m", "trainlint", "check", "--no-cache", "--exit-zero", "-q", *args.extra]
        total, largest, procs = peak_rss_mb(cmd)
        print(
            f"peak memory, CLI with the default --jobs on the extra folders ({lines} lines): "
            f"sum of the processes' RSS {total:.0f} MB, largest process {largest:.0f} MB, "
            f"{procs} processes  [<= 300 MB]"
        )
    if not args.quick:
        total, largest, _ = peak_rss_mb(cli)
        print(f"peak RSS, CLI on the corpus, 1 job: {largest:5.0f} MB")
        with tempfile.TemporaryDirectory() as tmp:
            copies = copy_corpus(files, os.path.join(tmp, "x4m"), 4)
            _, rss4, _ = peak_rss_mb(
                [sys.executable, "-m", "trainlint", "check", "--no-cache", "-j1", "--exit-zero", "-q", *copies]
            )
            print(f"peak RSS, CLI on 4x the corpus, 1 job: {rss4:5.0f} MB")

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
