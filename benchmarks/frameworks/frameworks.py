"""Framework-style programs benchmark: `check` and `trace` on small training programs written in
the idioms of Lightning, Fabric, accelerate, the Hugging Face Trainer, DDP under torchrun and
torch.compile, each labelled buggy (with the catalog code a correct linter reports) or clean.

    python benchmarks/frameworks/frameworks.py [--set heldout1] [--no-trace] [--json FILE]

Each program is copied alone to a scratch folder as `train.py` (so its file name gives
nothing away) and checked with `trainlint check --isolated`, then traced with
`trainlint trace` (`--nproc-per-node 2` for programs launched with torchrun). Scores:

* recall: buggy programs whose code is reported by `check` (near a labelled line) or by
  `trace`; and, of those, how many `trace` confirms;
* precision: reported findings that are true (the labelled ones, and the others judged true
  in the set's `verdicts.csv`) over all judged findings;
* clean programs that `trace` ends with a non-zero exit status.

Standard library only; trainlint runs as a subprocess with the running interpreter, so use
the project's virtual environment (with torch and the `frameworks` extra installed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11 only
    import tomli as tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
WINDOW = 10  # lines between a finding (or a related location) and a labelled line
TRACE_TIMEOUT = 300


@dataclass
class Program:
    file: str
    style: str
    launch: str
    expected: List[str]
    lines: List[int]
    summary: str


@dataclass
class Result:
    program: Program
    static: List[Dict[str, Any]] = field(default_factory=list)
    traced: List[Dict[str, Any]] = field(default_factory=list)
    trace_rc: Optional[int] = None
    trace_outcome: str = ""
    seconds: float = 0.0

    def near(self, d: Dict[str, Any]) -> bool:
        lines = [d.get("line", 0)] + [r.get("line", 0) for r in d.get("related", [])]
        return not self.program.lines or any(abs(a - b) <= WINDOW for a in lines for b in self.program.lines)

    def found_static(self) -> bool:
        return any(d["code"] in self.program.expected and self.near(d) for d in self.static)

    def confirmed(self) -> bool:
        return any(d["code"] in self.program.expected and d.get("status") == "confirmed" for d in self.traced)

    def reported(self) -> List[Tuple[str, str, int]]:
        """(where, code, line) of every finding a user would act on: `check`'s findings and
        `trace`'s confirmed or runtime ones (a refuted suspicion is not reported)."""
        out = [("check", d["code"], d.get("line", 0)) for d in self.static]
        out += [
            ("trace", d["code"], d.get("line", 0))
            for d in self.traced
            if d.get("status") == "confirmed" and d["code"] != "TL003"
        ]
        return out


def load(set_dir: str) -> List[Program]:
    with open(os.path.join(set_dir, "labels.toml"), "rb") as f:
        data = tomllib.load(f)
    return [Program(**p) for p in data["program"]]


def load_verdicts(set_dir: str) -> Dict[Tuple[str, str, str, int], str]:
    path = os.path.join(set_dir, "verdicts.csv")
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {(r["file"], r["where"], r["code"], int(r["line"])): r["verdict"] for r in csv.DictReader(f)}


def trainlint(args: List[str], cwd: str, timeout: float) -> Tuple[int, Dict[str, Any]]:
    cmd = [sys.executable, "-m", "trainlint", *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, {}
    try:
        return proc.returncode, json.loads(proc.stdout or b"{}")
    except json.JSONDecodeError:
        return proc.returncode, {}


def run_one(set_dir: str, p: Program, trace: bool) -> Result:
    started = time.monotonic()
    res = Result(p)
    with tempfile.TemporaryDirectory(prefix="tl-fw-") as scratch:
        shutil.copy(os.path.join(set_dir, p.file), os.path.join(scratch, "train.py"))
        _, out = trainlint(["check", "--isolated", "--output-format", "json", "train.py"], scratch, 120)
        res.static = out.get("diagnostics", [])
        if trace:
            ranks = ["--nproc-per-node", "2"] if p.launch == "torchrun2" else []
            rc, out = trainlint(
                ["trace", "--isolated", "--output-format", "json", "-q", *ranks, "train.py"],
                scratch,
                TRACE_TIMEOUT + 30,
            )
            res.trace_rc, res.traced = rc, out.get("diagnostics", [])
            res.trace_outcome = str(out.get("trace", {}).get("outcome", "no report"))
    res.seconds = time.monotonic() - started
    return res


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default="heldout1", help="folder under benchmarks/frameworks/ (default heldout1)")
    ap.add_argument("--no-trace", action="store_true", help="run `check` only")
    ap.add_argument("--only", help="run only the programs whose file name contains this")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)
    set_dir = os.path.join(HERE, args.set)
    programs = [p for p in load(set_dir) if not args.only or args.only in p.file]
    verdicts = load_verdicts(set_dir)
    results = []
    for p in programs:
        r = run_one(set_dir, p, trace=not args.no_trace)
        results.append(r)
        found = "found" if r.found_static() or r.confirmed() else ("MISS " if p.expected else "clean")
        how = ("check" if r.found_static() else "") + ("+trace" if r.confirmed() else "")
        extra = [f"{w}:{c}@{ln}" for w, c, ln in r.reported() if c not in p.expected]
        trace = f"trace rc {r.trace_rc} ({r.trace_outcome})" if r.trace_rc is not None else ""
        print(
            f"{found} {p.file:44} {','.join(p.expected) or '-':7} {how:12} {trace:28} {' '.join(extra)}  {r.seconds:.0f}s"
        )
    return report(results, verdicts, args.json, traced=not args.no_trace)


def report(
    results: List[Result], verdicts: Dict[Tuple[str, str, str, int], str], json_path: Optional[str], traced: bool
) -> int:
    buggy = [r for r in results if r.program.expected]
    clean = [r for r in results if not r.program.expected]
    found = [r for r in buggy if r.found_static() or r.confirmed()]
    confirmed = [r for r in buggy if r.confirmed()]
    true = false = 0
    unjudged = []
    for r in results:
        for where, code, line in r.reported():
            if code in r.program.expected:
                true += 1
                continue
            verdict = verdicts.get((r.program.file, where, code, line))
            if verdict == "true":
                true += 1
            elif verdict == "false":
                false += 1
            else:
                unjudged.append(f"{r.program.file},{where},{code},{line}")
    failing_clean = [r.program.file for r in clean if traced and r.trace_rc not in (0,)]
    print()
    print(
        f"buggy: {len(buggy)}   found: {len(found)}   recall: {len(found) / max(len(buggy), 1):.3f}"
        + (f"   confirmed by trace: {len(confirmed)}" if traced else "")
    )
    print(
        f"findings: {true + false + len(unjudged)}   true: {true}   false: {false}   unjudged: {len(unjudged)}"
        f"   precision: {true / max(true + false, 1):.3f}"
    )
    if traced:
        print(f"clean programs: {len(clean)}   traced with a non-zero exit: {len(failing_clean)} {failing_clean}")
    by_style: Dict[str, List[int]] = {}
    for r in buggy:
        s = by_style.setdefault(r.program.style, [0, 0])
        s[0] += 1
        s[1] += int(r in found)
    print("by style (found/buggy): " + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in sorted(by_style.items())))
    if unjudged:
        print("unjudged findings (add file,where,code,line,verdict,reason to verdicts.csv):")
        for u in unjudged:
            print("  " + u)
    if json_path:
        with open(json_path, "w") as f:
            json.dump(
                [
                    {
                        "file": r.program.file,
                        "expected": r.program.expected,
                        "found_by_check": r.found_static(),
                        "confirmed_by_trace": r.confirmed(),
                        "reported": r.reported(),
                        "trace_rc": r.trace_rc,
                    }
                    for r in results
                ],
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
