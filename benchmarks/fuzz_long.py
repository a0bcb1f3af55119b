"""The long fuzz run of the static pipeline (the bounded one is tests/test_fuzz.py).

    python benchmarks/fuzz_long.py --programs 20000 --workers 2 --out fuzz-out

Uses the generators of tests/test_fuzz.py (grammar-generated programs, mutated training
scripts, notebooks, corrupted and random bytes, deep mixed nesting, autofix) with fresh random
seeds, in worker processes of `--chunk` programs each. Every input goes through the whole
`check` pipeline (every rule, every output format). A failure is an exception, a TL002, a
worker that dies (a native crash) or an input that takes longer than `--hang-s`; each one's
input files and traceback are saved under `--out/failures/`. Prints the count of programs run
and of failures, per generator; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent

# Relative weights of the generators.
WEIGHTS: Dict[str, int] = {
    "grammar": 22,
    "libcst_nodes": 4,
    "spliced": 14,
    "mutated": 25,
    "notebook": 8,
    "corrupted_bytes": 10,
    "random_bytes": 7,
    "nested": 6,
    "autofix": 4,
}


# ---------------------------------------------------------------------------- worker


def _save(out: Path, worker: int, kind: str, files: Dict[str, bytes]) -> None:
    data = {"kind": kind, "files": {p: base64.b64encode(d).decode("ascii") for p, d in files.items()}}
    tmp = out / f"current-{worker}.json.tmp"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, out / f"current-{worker}.json")


def _record_failure(out: Path, tag: str, kind: str, files: Dict[str, bytes], error: str) -> None:
    folder = out / "failures" / tag
    folder.mkdir(parents=True, exist_ok=True)
    for i, (path, data) in enumerate(files.items()):
        (folder / f"{i}-{os.path.basename(path) or 'file'}").write_bytes(data)
    (folder / "inputs.json").write_text(json.dumps({"kind": kind, "paths": list(files)}))
    (folder / "error.txt").write_text(error)


def worker(kind: str, seed: int, count: int, out: Path, index: int) -> None:
    sys.path.insert(0, str(ROOT))
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    import tests.test_fuzz as tf

    strategies: Dict[str, Any] = {
        "grammar": tf.GRAMMAR.map(lambda s: {"train.py": s.encode("utf-8")}),
        "libcst_nodes": tf.hypothesmith.from_node().map(lambda s: {"train.py": s.encode("utf-8")}),
        "spliced": tf.spliced_program(),
        "mutated": tf.mutated_project(),
        "notebook": tf.notebook_of(),
        "corrupted_bytes": tf.corrupted_bytes(),
        "random_bytes": st.tuples(st.binary(max_size=4000), st.sampled_from(["train.py", "nb.ipynb", "x.pyi"])).map(
            lambda t: {t[1]: t[0]}
        ),
        "nested": tf.nested_program(),
        "autofix": tf.mutated_project(),
    }
    check: Callable[[Dict[str, bytes]], Any] = tf.run_autofix if kind == "autofix" else tf.run_pipeline
    stats: Dict[str, List[int]] = {kind: [0, 0]}  # runs, failures
    progress = out / f"progress-{index}-{seed}.json"

    # One generator per worker process: the parent spreads the generators over the chunks.
    @hseed(seed)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategies[kind])
    def run_one(files: Dict[str, bytes]) -> None:
        _save(out, index, kind, files)
        stats[kind][0] += 1
        try:
            check(files)
        except Exception:  # noqa: BLE001 - every failure is recorded, and the run goes on
            stats[kind][1] += 1
            _record_failure(out, f"s{seed}-{sum(s[0] for s in stats.values())}", kind, files, traceback.format_exc())
        if sum(s[0] for s in stats.values()) % 25 == 0:
            progress.write_text(json.dumps(stats))

    run_one()
    progress.write_text(json.dumps(stats))


# ---------------------------------------------------------------------------- parent


def _totals(out: Path) -> Dict[str, List[int]]:
    total: Dict[str, List[int]] = {k: [0, 0] for k in WEIGHTS}
    for p in out.glob("progress-*.json"):
        try:
            for k, (n, f) in json.loads(p.read_text()).items():
                total.setdefault(k, [0, 0])
                total[k][0] += n
                total[k][1] += f
        except (ValueError, OSError):
            continue
    return total


def _crash(out: Path, index: int, why: str, tag: str) -> None:
    current = out / f"current-{index}.json"
    try:
        data = json.loads(current.read_text())
        files = {p: base64.b64decode(d) for p, d in data["files"].items()}
        kind = data["kind"]
    except (OSError, ValueError, KeyError):
        files, kind = {}, "unknown"
    _record_failure(out, tag, kind, files, why)


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--chunk", type=int, default=400, help="programs per worker process (one generator each)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--hang-s", type=float, default=120.0, help="an input running longer is a failure")
    ap.add_argument("--out", default="fuzz-out")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--kind", default="mutated", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        worker(args.kind, args.seed, args.chunk, out, args.index)
        return 0

    for old in out.glob("progress-*.json"):
        old.unlink()
    rng = random.Random(args.seed)
    start = time.monotonic()
    chunks = -(-args.programs // args.chunk)
    schedule = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=chunks)
    launched, crashes = 0, 0
    running: Dict[int, Tuple[subprocess.Popen, int]] = {}
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    while launched < chunks or running:
        for index in range(args.workers):
            if index not in running and launched < chunks:
                seed = rng.randrange(2**32)
                cmd = [
                    sys.executable,
                    __file__,
                    "--worker",
                    "--kind",
                    schedule[launched],
                    "--seed",
                    str(seed),
                    "--chunk",
                    str(args.chunk),
                    "--out",
                    str(out),
                    "--index",
                    str(index),
                ]
                log = open(out / f"worker-{index}.log", "wb")  # the child keeps its own copy of the handle
                running[index] = (subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), seed)
                log.close()
                launched += 1
        time.sleep(1.0)
        for index, (proc, seed) in list(running.items()):
            current = out / f"current-{index}.json"
            stuck = current.exists() and time.time() - current.stat().st_mtime > args.hang_s and proc.poll() is None
            if stuck:
                proc.kill()
                proc.wait()
                crashes += 1
                _crash(out, index, f"no progress for {args.hang_s:.0f} s (a hang)", f"hang-s{seed}")
            elif proc.poll() is None:
                continue
            elif proc.returncode != 0:
                crashes += 1
                try:
                    tail = (out / f"worker-{index}.log").read_text(errors="replace")[-3000:]
                except OSError:
                    tail = ""
                _crash(out, index, f"worker exited with {proc.returncode}\n{tail}", f"crash-s{seed}")
            del running[index]
            try:
                current.unlink()
            except OSError:
                pass
        total = _totals(out)
        done = sum(n for n, _ in total.values())
        sys.stderr.write(
            f"\r{done} programs, {sum(f for _, f in total.values()) + crashes} failures, {time.monotonic() - start:.0f} s "
        )
    sys.stderr.write("\n")
    total = _totals(out)
    runs = sum(n for n, _ in total.values())
    failures = sum(f for _, f in total.values()) + crashes
    print(f"programs run: {runs}")
    print(f"failures: {failures} (crashed or hung workers: {crashes})")
    for kind, (n, f) in sorted(total.items()):
        print(f"  {kind:<16} {n:>7} run  {f:>4} failed")
    print(f"time: {time.monotonic() - start:.0f} s; failures saved under {out / 'failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
