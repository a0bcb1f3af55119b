"""Runtime symptoms benchmark: `trainlint trace` on correct training programs and on their
fault-injected twins, scored per runtime rule (TL901-TL918).

    python benchmarks/runtime/runtime_bench.py [--steps 10] [--jobs 2] [--json FILE] [--only NAME]

`programs/manifest.toml` lists every program: `kind = "ok"` (a correct program: no TL9xx
finding should be reported) or `kind = "bad"` with the fault injected and the catalog codes
a runtime checker should report for it (`expected`). Each program is traced alone with
`--no-static` (runtime findings only). Scores:

* false alarms: TL9xx findings on correct programs (each rule's count, and the programs with
  any), which the calibration must bring to zero;
* recall: twins where at least one expected code is reported;
* precision: TL9xx findings that are expected (on a twin) over those and the false alarms;
  "strict" also counts as false the findings on a twin that are neither in its `expected` nor
  in its `acceptable` list (a knock-on symptom the manifest judged defensible is not false).

Standard library only; trainlint runs as a subprocess with the running interpreter, so use the
project's virtual environment (with torch installed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11 only
    import tomli as tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "programs")
REPO = os.path.dirname(os.path.dirname(HERE))


@dataclass
class Program:
    file: str
    kind: str  # "ok" | "bad"
    shape: str
    fault: str
    expected: List[str]
    acceptable: List[str] = field(default_factory=list)  # also defensible: not counted false


@dataclass
class Outcome:
    program: Program
    codes: List[str] = field(default_factory=list)  # TL9xx reported (confirmed or unverified, not refuted)
    messages: List[str] = field(default_factory=list)
    rc: Optional[int] = None
    seconds: float = 0.0
    error: str = ""


def load(path: str = os.path.join(PROGRAMS, "manifest.toml")) -> List[Program]:
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return [
        Program(
            file=p["file"],
            kind=p["kind"],
            shape=p.get("shape", ""),
            fault=p.get("fault", ""),
            expected=list(p.get("expected", [])),
            acceptable=list(p.get("acceptable", [])),
        )
        for p in data["program"]
    ]


def trace(program: Program, steps: int, timeout: float) -> Outcome:
    out = Outcome(program)
    cmd = [
        sys.executable,
        "-m",
        "trainlint",
        "trace",
        "--no-static",
        "--isolated",
        "--format",
        "json",
        "--steps",
        str(steps),
        "--timeout",
        str(timeout),
        program.file,
    ]
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=PROGRAMS, capture_output=True, text=True, env=env, timeout=timeout + 60)
    out.seconds = time.perf_counter() - start
    out.rc = proc.returncode
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        out.error = (proc.stderr or proc.stdout)[-400:]
        return out
    for d in report.get("diagnostics", []):
        code = d.get("code", "")
        if code.startswith("TL9") and d.get("status") != "refuted":
            out.codes.append(code)
            out.messages.append(f"{code}: {d.get('message', '')[:200]}")
    return out


def score(outcomes: List[Outcome]) -> Dict[str, Any]:
    ok = [o for o in outcomes if o.program.kind == "ok"]
    bad = [o for o in outcomes if o.program.kind == "bad"]
    per_rule: Dict[str, Dict[str, int]] = {}

    def bump(code: str, key: str) -> None:
        row = per_rule.setdefault(code, {"on_ok": 0, "expected": 0, "acceptable": 0, "other_on_twin": 0, "missed": 0})
        row[key] += 1

    for o in ok:
        for code in set(o.codes):
            bump(code, "on_ok")
    hits = 0
    expected_findings = 0
    other = 0
    for o in bad:
        found = set(o.codes)
        if found & set(o.program.expected):
            hits += 1
        for code in found:
            if code in o.program.expected:
                expected_findings += 1
                bump(code, "expected")
            elif code in o.program.acceptable:
                bump(code, "acceptable")
            else:
                other += 1
                bump(code, "other_on_twin")
        if not found & set(o.program.expected):
            for code in o.program.expected:
                bump(code, "missed")
    false_alarms = sum(len(set(o.codes)) for o in ok)
    all_findings = false_alarms + expected_findings + other
    return {
        "programs": len(ok),
        "twins": len(bad),
        "ok_with_findings": sum(1 for o in ok if o.codes),
        "false_alarms": false_alarms,
        "recall": hits / len(bad) if bad else None,
        "twins_found": hits,
        "precision": expected_findings / (expected_findings + false_alarms)
        if expected_findings + false_alarms
        else None,
        "precision_strict": expected_findings / all_findings if all_findings else None,
        "per_rule": per_rule,
        "errors": [o.program.file for o in outcomes if o.error],
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10, help="optimizer steps traced per program")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", metavar="FILE", help="write every outcome and the scores here")
    parser.add_argument("--only", metavar="NAME", help="only the programs whose file contains NAME")
    args = parser.parse_args(argv)
    programs = [p for p in load() if args.only is None or args.only in p.file]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda p: trace(p, args.steps, args.timeout), programs))
    s = score(outcomes)
    for o in outcomes:
        p = o.program
        tag = "ok " if p.kind == "ok" else "bad"
        want = ",".join(p.expected) or "-"
        got = ",".join(sorted(set(o.codes))) or "-"
        flag = ""
        if p.kind == "ok" and o.codes:
            flag = "  FALSE ALARM"
        elif p.kind == "bad" and not set(o.codes) & set(p.expected):
            flag = "  MISSED"
        print(f"{tag} {p.file:48} want {want:24} got {got:24} {o.seconds:5.1f}s{flag}{'  ERROR' if o.error else ''}")
        if flag or o.error:
            for m in o.messages:
                print(f"      {m}")
            if o.error:
                print(f"      {o.error}")
    print()
    print(f"{s['programs']} correct programs, {s['twins']} fault-injected twins, {args.steps} traced steps each")
    print(f"false alarms: {s['false_alarms']} TL9xx finding(s) on {s['ok_with_findings']} correct program(s)")
    recall = s["recall"]
    print(f"recall: {s['twins_found']}/{s['twins']} twins" + (f" ({recall:.2f})" if recall is not None else ""))
    if s["precision"] is not None:
        print(
            f"precision: {s['precision']:.2f} (expected findings over expected + false alarms); "
            f"strict {s['precision_strict']:.2f} (counting unexpected findings on twins as false)"
        )
    print("per rule (on correct programs / expected on twins / acceptable / other on twins / twins missed):")
    for code, row in sorted(s["per_rule"].items()):
        print(
            f"  {code}: {row['on_ok']} / {row['expected']} / {row['acceptable']} / {row['other_on_twin']} / {row['missed']}"
        )
    print(f"wall time {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "scores": s,
                    "outcomes": [
                        {"file": o.program.file, "codes": o.codes, "messages": o.messages, "rc": o.rc, "error": o.error}
                        for o in outcomes
                    ],
                },
                handle,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
