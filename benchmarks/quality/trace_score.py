"""Runtime-tracer benchmark: trace every runnable case and see what becomes of each true finding.

For each runnable case of the corpus, `trainlint trace` runs the case's entry point from
inside its folder for a few optimizer steps (one case at a time: each run is a child
process that trains a small model). Every labelled bug (case, file, code) then gets the
status the tracer gave the static finding that reports it:

    confirmed    the run produced the evidence of the bug
    refuted      the run produced evidence against it (a wrong verdict: labels are true)
    unverified   the run could not judge it (the tracer says why)
    missing      the static checker did not report it, so there was nothing to judge

Targets: at least 80% of the true findings confirmed, none refuted, and nothing confirmed
on a clean case (a static finding the run confirmed, or a runtime-only TL9xx finding: either
is a false confirmation).

    python benchmarks/quality/trace_score.py                  # per-rule table and lists
    python benchmarks/quality/trace_score.py --json           # machine-readable
    python benchmarks/quality/trace_score.py --case onecycle_before_step --steps 4

As a library: `trace_score(cases_dir, only=[...]) -> TraceResult`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any, Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_corpus_module() -> ModuleType:
    """score.py (next to this file) reads the corpus; load it by path so any cwd works."""
    name = "quality_score"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "score.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus_module()
CASES_DIR: str = corpus.CASES_DIR
REPO_ROOT: str = corpus.REPO_ROOT

STATUSES = ("confirmed", "refuted", "unverified", "missing")
TARGET_CONFIRMED = 0.80
# Best first: when the static checker reports a labelled pair more than once, the pair counts
# as confirmed if any report is; a refutation still shows up in `refuted_reports`.
RANK = {"confirmed": 0, "refuted": 1, "unverified": 2, "suspected": 3}


@dataclass
class Judged:
    """One labelled true finding and what the tracer made of it."""

    case: str
    file: str
    code: str
    line: Optional[int]
    status: str
    reported_lines: List[int] = field(default_factory=list)
    reason: str = ""  # the tracer's stated reason (unverified) or observation (refuted/confirmed)


@dataclass
class Reported:
    """A diagnostic of a traced run that is not a labelled true finding."""

    case: str
    file: str
    code: str
    line: int
    status: str
    text: str = ""


@dataclass
class RunInfo:
    case: str
    outcome: str
    steps_completed: int
    seconds: float
    runs_ok: bool = True  # the label: False where the bug itself makes torch raise
    error: str = ""

    @property
    def unexpected(self) -> bool:
        """The script failed under the tracer although it runs on its own."""
        return self.runs_ok and self.outcome not in ("stopped", "finished")


@dataclass
class TraceResult:
    steps: int
    judged: List[Judged]
    runs: List[RunInfo]
    # Findings confirmed on clean cases, static or runtime-only (false confirmations; target: none).
    clean_confirmed: List[Reported]
    # Static findings on clean cases that the run did not confirm (false positives of the
    # static checker, refuted or left unverified): informative.
    clean_static: List[Reported]
    # Unlabelled static findings confirmed on buggy cases (false positives that the run backed).
    other_confirmed: List[Reported]
    # Refuted reports of a labelled pair that also has a better-judged report (informative).
    refuted_reports: List[Reported]
    # Cases whose trace could not be run or read: case -> reason.
    errors: Dict[str, str]
    seconds: float = 0.0

    def counts(self, code: Optional[str] = None) -> Dict[str, int]:
        rows = [j for j in self.judged if code is None or j.code == code]
        return {s: sum(1 for j in rows if j.status == s) for s in STATUSES}

    @property
    def codes(self) -> List[str]:
        return sorted({j.code for j in self.judged})

    @property
    def confirmed_rate(self) -> Optional[float]:
        return self.counts()["confirmed"] / len(self.judged) if self.judged else None

    @property
    def meets_targets(self) -> bool:
        rate = self.confirmed_rate
        return (
            rate is not None
            and rate >= TARGET_CONFIRMED
            and self.counts()["refuted"] == 0
            and not self.clean_confirmed
            and not self.errors
        )

    def to_json(self) -> Dict[str, Any]:
        total = self.counts()
        n = len(self.judged)
        return {
            "steps": self.steps,
            "seconds": round(self.seconds, 1),
            "cases_traced": len(self.runs),
            "true_findings": n,
            "counts": total,
            "rates": {s: (total[s] / n if n else None) for s in STATUSES},
            "meets_targets": self.meets_targets,
            "per_rule": {code: self.counts(code) for code in self.codes},
            "judged": [asdict(j) for j in self.judged],
            "clean_confirmed": [asdict(r) for r in self.clean_confirmed],
            "clean_static": [asdict(r) for r in self.clean_static],
            "other_confirmed": [asdict(r) for r in self.other_confirmed],
            "refuted_reports": [asdict(r) for r in self.refuted_reports],
            "runs": [dict(asdict(r), unexpected=r.unexpected) for r in self.runs],
            "errors": self.errors,
        }


# ---------------------------------------------------------------------------- tracing one case


def trace_case(case: Any, steps: int = 2, timeout: float = 120.0) -> Dict[str, Any]:
    """`python -m trainlint trace <entry> --output-format json` from inside the case folder."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")  # tiny models: threads only add contention
    cmd = [
        sys.executable,
        "-m",
        "trainlint",
        "trace",
        case.entry,
        "--output-format",
        "json",
        "--steps",
        str(steps),
        "--timeout",
        str(timeout),
        "--isolated",
        "--quiet",
    ]
    # The tracer kills the script at --timeout; the margin covers the static pass and start-up.
    proc = subprocess.run(cmd, cwd=case.path, env=env, capture_output=True, text=True, timeout=timeout + 60)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    data: Dict[str, Any] = json.loads(proc.stdout)
    return data


def _text(d: Dict[str, Any]) -> str:
    ev = d.get("evidence") or {}
    return str(ev.get("reason") or ev.get("observed") or d.get("message", ""))


def judge_case(case: Any, data: Dict[str, Any]) -> tuple:
    """(judged true findings, other reported diagnostics, refuted duplicates) of one traced case."""
    diags = list(data.get("diagnostics", []))
    by_pair: Dict[tuple, List[Dict[str, Any]]] = {}
    for d in diags:
        by_pair.setdefault((corpus._relative(str(d["path"]), case), str(d["code"])), []).append(d)

    judged: List[Judged] = []
    dupes: List[Reported] = []
    seen = set()
    for e in case.expects:
        pair = (e.file, e.code)
        if pair in seen:  # a pair labelled on two lines counts once, as in score.py
            continue
        seen.add(pair)
        found = by_pair.get(pair, [])
        if not found:
            judged.append(Judged(case.name, e.file, e.code, e.line, "missing"))
            continue
        found = sorted(found, key=lambda d: RANK.get(str(d.get("status")), 9))
        best = found[0]
        status = str(best.get("status"))
        judged.append(
            Judged(
                case.name,
                e.file,
                e.code,
                e.line,
                status if status in STATUSES else "unverified",
                sorted({int(d.get("line") or 0) for d in found}),
                _text(best),
            )
        )
        dupes += [
            Reported(case.name, e.file, e.code, int(d.get("line") or 0), "refuted", _text(d))
            for d in found[1:]
            if d.get("status") == "refuted" and status != "refuted"
        ]
    labelled = {(e.file, e.code) for e in case.expects}
    others = [
        Reported(case.name, f, code, int(d.get("line") or 0), str(d.get("status")), _text(d))
        for (f, code), ds in sorted(by_pair.items())
        if (f, code) not in labelled
        for d in ds
    ]
    return judged, others, dupes


# ---------------------------------------------------------------------------- the corpus


def trace_score(
    cases_dir: str = CASES_DIR,
    only: Optional[Sequence[str]] = None,
    steps: int = 2,
    timeout: float = 120.0,
    progress: bool = False,
) -> TraceResult:
    """Trace every runnable case (sequentially) and judge each labelled true finding."""
    cases = [c for c in corpus.load_cases(cases_dir, only) if c.runnable]
    result = TraceResult(steps, [], [], [], [], [], [], {})
    start = time.perf_counter()
    for i, case in enumerate(cases, 1):
        t0 = time.perf_counter()
        try:
            data = trace_case(case, steps, timeout)
        except Exception as exc:  # one broken case is a result to report, not a reason to stop
            result.errors[case.name] = f"{type(exc).__name__}: {str(exc)[:400]}"
            result.judged += [
                Judged(case.name, e.file, e.code, e.line, "unverified", reason="trace failed")
                for e in _unique(case.expects)
            ]
            continue
        seconds = time.perf_counter() - t0
        run = data.get("trace") or {}
        result.runs.append(
            RunInfo(
                case.name,
                str(run.get("outcome", "?")),
                int(run.get("steps_completed") or 0),
                round(seconds, 1),
                case.runs_ok,
                str(run.get("error") or "")[:200],
            )
        )
        judged, others, dupes = judge_case(case, data)
        result.judged += judged
        result.refuted_reports += dupes
        if case.clean:
            result.clean_confirmed += [r for r in others if r.status == "confirmed"]
            result.clean_static += [r for r in others if r.status != "confirmed" and not _runtime_only(r.code)]
        else:
            result.other_confirmed += [r for r in others if r.status == "confirmed" and not _runtime_only(r.code)]
        if progress:
            summary = " ".join(f"{j.code}:{j.status}" for j in judged) or "clean"
            print(f"[{i}/{len(cases)}] {case.name} ({seconds:.1f}s) {summary}", file=sys.stderr, flush=True)
    result.seconds = time.perf_counter() - start
    return result


def _runtime_only(code: str) -> bool:
    return code.startswith("TL9") or code.startswith("TL0")


def _unique(expects: Sequence[Any]) -> List[Any]:
    seen, out = set(), []
    for e in expects:
        if (e.file, e.code) not in seen:
            seen.add((e.file, e.code))
            out.append(e)
    return out


# ---------------------------------------------------------------------------- report


def _pct(part: int, whole: int) -> str:
    return "   -  " if not whole else f"{100 * part / whole:5.1f}%"


def render(result: TraceResult) -> str:
    out: List[str] = []
    n = len(result.judged)
    out.append(
        f"{len(result.runs)} runnable cases traced ({result.steps} steps each), {n} true findings, "
        f"{result.seconds:.0f}s"
    )
    out.append("")
    out.append(f"{'rule':<7} {'true':>4} {'conf':>5} {'refut':>5} {'unver':>5} {'miss':>5} {'confirmed':>9}")
    for code in result.codes:
        c = result.counts(code)
        total = sum(c.values())
        out.append(
            f"{code:<7} {total:>4} {c['confirmed']:>5} {c['refuted']:>5} {c['unverified']:>5} "
            f"{c['missing']:>5} {_pct(c['confirmed'], total):>9}"
        )
    c = result.counts()
    out.append(
        f"{'all':<7} {n:>4} {c['confirmed']:>5} {c['refuted']:>5} {c['unverified']:>5} {c['missing']:>5} "
        f"{_pct(c['confirmed'], n):>9}"
    )
    out.append("")
    out.append(
        f"confirmed {_pct(c['confirmed'], n).strip()} (target >= {TARGET_CONFIRMED:.0%}), "
        f"refuted {c['refuted']} (target 0), false confirmations on clean cases {len(result.clean_confirmed)} "
        f"(target 0): {'targets met' if result.meets_targets else 'TARGETS NOT MET'}"
    )

    def judged(title: str, status: str) -> None:
        rows = [j for j in result.judged if j.status == status]
        out.append("")
        out.append(f"{title} ({len(rows)})")
        for j in rows:
            lines = ",".join(str(x) for x in j.reported_lines) or str(j.line or "?")
            out.append(f"  {j.code}  {j.case}/{j.file}:{lines}  {j.reason[:160]}")

    def reported(title: str, rows: List[Reported]) -> None:
        out.append("")
        out.append(f"{title} ({len(rows)})")
        for r in rows:
            out.append(f"  {r.code}  {r.case}/{r.file}:{r.line}  {r.status}  {r.text[:140]}")

    judged("refuted true findings", "refuted")
    judged("unverified true findings", "unverified")
    judged("true findings the static checker missed", "missing")
    reported("false confirmations: findings confirmed on clean cases", result.clean_confirmed)
    reported("static findings on clean cases, not confirmed", result.clean_static)
    reported("unlabelled static findings confirmed on buggy cases", result.other_confirmed)
    if result.refuted_reports:
        reported("refuted duplicate reports of a confirmed/unverified true finding", result.refuted_reports)
    odd = [r for r in result.runs if r.unexpected]
    if odd:
        out.append("")
        out.append(f"runs that failed under the tracer although the case runs on its own ({len(odd)})")
        for r in odd:
            out.append(f"  {r.case:<45} {r.outcome:<10} steps={r.steps_completed}  {r.error[:80]}")
    if result.errors:
        out.append("")
        out.append(f"trace errors ({len(result.errors)})")
        for name, err in sorted(result.errors.items()):
            out.append(f"  {name}: {err}")
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=CASES_DIR, help="corpus folder (default: the one next to this script)")
    ap.add_argument("--case", action="append", default=None, help="trace only this case (repeatable)")
    ap.add_argument("--steps", type=int, default=2, help="optimizer steps per traced run (default 2)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per traced run (default 120)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("-q", "--quiet", action="store_true", help="no per-case progress on stderr")
    args = ap.parse_args(argv)

    result = trace_score(args.cases, only=args.case, steps=args.steps, timeout=args.timeout, progress=not args.quiet)
    print(json.dumps(result.to_json(), indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
