"""Detection-quality benchmark: lint every case of the corpus and score the findings.

Each folder under `cases/` is one small training project with an `expected.toml`
listing the bugs it holds (none for a clean case). Scoring is by (case, file, code):
an expected pair that is reported is a true positive, one that is not is a false
negative, and a reported pair that nobody expected is a false positive. Lines are
kept for the report only; they do not take part in the matching.

    python benchmarks/quality/score.py            # table
    python benchmarks/quality/score.py --json     # machine-readable
    python benchmarks/quality/score.py --run      # also run every runnable case

As a library: `score(cases_dir) -> Result`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))

Pair = Tuple[str, str, str]  # (case, file, code)


@dataclass(frozen=True)
class Expectation:
    case: str
    file: str
    code: str
    line: Optional[int] = None


@dataclass
class Case:
    name: str
    path: str
    description: str
    runnable: bool
    runs_ok: bool
    entry: str
    expects: List[Expectation]

    @property
    def clean(self) -> bool:
        return not self.expects


@dataclass(frozen=True)
class Finding:
    case: str
    file: str
    code: str
    line: int
    message: str = ""


@dataclass
class Miss:
    """A false negative or a false positive, with the lines that locate it."""

    case: str
    file: str
    code: str
    lines: List[int]


@dataclass
class RuleScore:
    code: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def expected(self) -> int:
        return self.tp + self.fn

    @property
    def recall(self) -> Optional[float]:
        return self.tp / self.expected if self.expected else None

    @property
    def precision(self) -> Optional[float]:
        reported = self.tp + self.fp
        return self.tp / reported if reported else None


@dataclass
class Result:
    cases: List[Case]
    findings: List[Finding]
    per_rule: Dict[str, RuleScore]
    false_negatives: List[Miss]
    false_positives: List[Miss]
    clean_findings: List[Finding]
    # True positives reported on other lines than the label's (informative: lines are not matched).
    other_lines: List[Miss] = field(default_factory=list)
    # Cases the checker could not be run on (crash, bad output): case -> reason.
    errors: Dict[str, str] = field(default_factory=dict)
    backend: str = ""
    seconds: float = 0.0

    @property
    def tp(self) -> int:
        return sum(r.tp for r in self.per_rule.values())

    @property
    def fp(self) -> int:
        return sum(r.fp for r in self.per_rule.values())

    @property
    def fn(self) -> int:
        return sum(r.fn for r in self.per_rule.values())

    @property
    def recall(self) -> Optional[float]:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def precision(self) -> Optional[float]:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def to_json(self) -> Dict[str, Any]:
        return {
            "backend": self.backend,
            "seconds": round(self.seconds, 2),
            "cases": len(self.cases),
            "clean_cases": sum(c.clean for c in self.cases),
            "expected": self.tp + self.fn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "recall": self.recall,
            "precision": self.precision,
            "per_rule": {
                code: {"tp": r.tp, "fp": r.fp, "fn": r.fn, "recall": r.recall, "precision": r.precision}
                for code, r in sorted(self.per_rule.items())
            },
            "false_negatives": [asdict(m) for m in self.false_negatives],
            "false_positives": [asdict(m) for m in self.false_positives],
            "clean_findings": [asdict(f) for f in self.clean_findings],
            "other_lines": [asdict(m) for m in self.other_lines],
            "errors": self.errors,
        }


# ---------------------------------------------------------------------------- corpus


def load_case(path: str) -> Case:
    name = os.path.basename(os.path.normpath(path))
    with open(os.path.join(path, "expected.toml"), "rb") as fh:
        data = tomllib.load(fh)
    expects = [Expectation(name, _norm(e["file"]), str(e["code"]), e.get("line")) for e in data.get("expect", [])]
    return Case(
        name=name,
        path=path,
        description=str(data.get("description", "")),
        runnable=bool(data.get("runnable", True)),
        runs_ok=bool(data.get("runs_ok", True)),
        entry=str(data.get("entry", "train.py")),
        expects=expects,
    )


def load_cases(cases_dir: str = CASES_DIR, only: Optional[Sequence[str]] = None) -> List[Case]:
    names = sorted(n for n in os.listdir(cases_dir) if os.path.isfile(os.path.join(cases_dir, n, "expected.toml")))
    if only:
        unknown = set(only) - set(names)
        if unknown:
            raise ValueError(f"unknown cases: {', '.join(sorted(unknown))}")
        names = [n for n in names if n in set(only)]
    return [load_case(os.path.join(cases_dir, n)) for n in names]


def _norm(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


# ---------------------------------------------------------------------------- running the checker


def _engine_available() -> bool:
    try:
        import trainlint.config  # noqa: F401
        import trainlint.engine  # noqa: F401
    except ImportError:
        return False
    return True


def _check_engine(case: Case) -> List[Dict[str, Any]]:
    """In-process: default settings (no config file), one process, no cache."""
    from trainlint.config import Settings
    from trainlint.pipeline import check_paths

    result = check_paths([case.path], Settings(root=case.path))
    return [d.to_json() for d in result.diagnostics]


def _check_cli(case: Case) -> List[Dict[str, Any]]:
    """As a user would: `trainlint check .` from inside the case folder, ignoring config files."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [
        sys.executable,
        "-m",
        "trainlint",
        "check",
        ".",
        "--output-format",
        "json",
        "--exit-zero",
        "--isolated",
        "--no-cache",
        "--jobs",
        "1",
    ]
    proc = subprocess.run(cmd, cwd=case.path, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    diags: List[Dict[str, Any]] = json.loads(proc.stdout)["diagnostics"]
    return diags


def _relative(path: str, case: Case) -> str:
    """Diagnostic paths are as given (absolute, or relative to the checker's cwd); make them case-relative."""
    full = path if os.path.isabs(path) else os.path.join(case.path, path)
    rel = os.path.relpath(full, case.path)
    if rel.startswith(".."):  # the engine was given an absolute case path but reported cwd-relative ones
        rel = os.path.relpath(os.path.abspath(path), case.path)
    return _norm(rel)


def check_case(case: Case, backend: str) -> List[Finding]:
    raw = _check_engine(case) if backend == "engine" else _check_cli(case)
    return [
        Finding(
            case.name,
            _relative(str(d["path"]), case),
            str(d["code"]),
            int(d.get("line") or 0),
            str(d.get("message", "")),
        )
        for d in raw
    ]


# ---------------------------------------------------------------------------- scoring


def tally(
    cases: List[Case], findings: List[Finding]
) -> Tuple[Dict[str, RuleScore], List[Miss], List[Miss], List[Miss]]:
    """Per-rule counts, false negatives, false positives, and true positives found on other lines."""
    expected: Dict[Pair, List[int]] = {}
    for c in cases:
        for e in c.expects:
            expected.setdefault((e.case, e.file, e.code), []).extend([e.line] if e.line else [])
    reported: Dict[Pair, List[int]] = {}
    for f in findings:
        reported.setdefault((f.case, f.file, f.code), []).append(f.line)

    per_rule: Dict[str, RuleScore] = {}
    fns: List[Miss] = []
    fps: List[Miss] = []
    moved: List[Miss] = []
    for pair in sorted(set(expected) | set(reported)):
        score = per_rule.setdefault(pair[2], RuleScore(pair[2]))
        if pair in expected and pair in reported:
            score.tp += 1
            if expected[pair] and not set(expected[pair]) & set(reported[pair]):
                moved.append(Miss(*pair, lines=sorted(set(reported[pair]))))
        elif pair in expected:
            score.fn += 1
            fns.append(Miss(*pair, lines=sorted(expected[pair])))
        else:
            score.fp += 1
            fps.append(Miss(*pair, lines=sorted(set(reported[pair]))))
    return per_rule, fns, fps, moved


def score(
    cases_dir: str = CASES_DIR,
    backend: str = "auto",
    only: Optional[Sequence[str]] = None,
    jobs: int = 1,
) -> Result:
    """Lint every case with trainlint's static checker and score it against the labels.

    backend: "engine" (in-process `trainlint.engine.check_paths`), "cli" (a `python -m
    trainlint check` subprocess per case) or "auto" (engine when importable).
    """
    if backend == "auto":
        backend = "engine" if _engine_available() else "cli"
    if backend not in ("engine", "cli"):
        raise ValueError(f"unknown backend {backend!r}")
    cases = load_cases(cases_dir, only)
    start = time.perf_counter()

    def one(case: Case) -> Tuple[Case, List[Finding], Optional[str]]:
        try:
            return case, check_case(case, backend), None
        except Exception as exc:  # a checker crash is a result to report, not a reason to stop
            return case, [], f"{type(exc).__name__}: {exc}"

    # The in-process engine is not meant to be shared across threads; subprocesses are.
    workers = max(1, jobs) if backend == "cli" else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(one, cases))

    findings = [f for _, fs, _ in outcomes for f in fs]
    errors = {c.name: err for c, _, err in outcomes if err}
    per_rule, fns, fps, moved = tally(cases, findings)
    clean = {c.name for c in cases if c.clean}
    return Result(
        cases=cases,
        findings=findings,
        per_rule=per_rule,
        false_negatives=fns,
        false_positives=fps,
        clean_findings=[f for f in findings if f.case in clean],
        other_lines=moved,
        errors=errors,
        backend=backend,
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------- running the cases


@dataclass
class RunOutcome:
    case: str
    returncode: int
    seconds: float
    expected_ok: bool
    tail: str

    @property
    def as_labelled(self) -> bool:
        return (self.returncode == 0) == self.expected_ok


def run_case(case: Case, timeout: float = 120.0) -> RunOutcome:
    """Run the case's entry point from inside its folder, the way its labels promise it runs."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # many tiny scripts side by side: avoid oversubscription
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, case.entry], cwd=case.path, env=env, capture_output=True, text=True, timeout=timeout
        )
        rc, out = proc.returncode, (proc.stdout + proc.stderr)
    except subprocess.TimeoutExpired:
        rc, out = 124, f"timed out after {timeout:.0f}s"
    lines = out.strip().splitlines()
    return RunOutcome(case.name, rc, time.perf_counter() - start, case.runs_ok, lines[-1] if lines else "")


def run_cases(cases: List[Case], jobs: int = 2, timeout: float = 120.0) -> List[RunOutcome]:
    runnable = [c for c in cases if c.runnable]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda c: run_case(c, timeout), runnable))


# ---------------------------------------------------------------------------- report


def _pct(x: Optional[float]) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def render(result: Result) -> str:
    out: List[str] = []
    n_clean = sum(c.clean for c in result.cases)
    out.append(
        f"{len(result.cases)} cases ({len(result.cases) - n_clean} buggy, {n_clean} clean), "
        f"backend {result.backend}, {result.seconds:.1f}s"
    )
    out.append("")
    out.append(f"{'rule':<7} {'exp':>4} {'TP':>4} {'FP':>4} {'FN':>4} {'recall':>7} {'precision':>9}")
    for code in sorted(result.per_rule):
        r = result.per_rule[code]
        out.append(
            f"{code:<7} {r.expected:>4} {r.tp:>4} {r.fp:>4} {r.fn:>4} {_pct(r.recall):>7} {_pct(r.precision):>9}"
        )
    out.append(
        f"{'all':<7} {result.tp + result.fn:>4} {result.tp:>4} {result.fp:>4} {result.fn:>4} "
        f"{_pct(result.recall):>7} {_pct(result.precision):>9}"
    )

    def misses(title: str, items: List[Miss]) -> None:
        out.append("")
        out.append(f"{title} ({len(items)})")
        for m in items:
            where = ",".join(str(n) for n in m.lines) or "?"
            out.append(f"  {m.code}  {m.case}/{m.file}:{where}")

    misses("false negatives", result.false_negatives)
    misses("false positives", result.false_positives)
    out.append("")
    out.append(f"findings on clean cases ({len(result.clean_findings)})")
    for f in result.clean_findings:
        out.append(f"  {f.code}  {f.case}/{f.file}:{f.line}  {f.message[:90]}")
    if result.other_lines:
        misses("found on another line than labelled (not an error)", result.other_lines)
    if result.errors:
        out.append("")
        out.append(f"checker errors ({len(result.errors)})")
        for name, err in sorted(result.errors.items()):
            out.append(f"  {name}: {err}")
    return "\n".join(out)


def render_runs(outcomes: List[RunOutcome]) -> str:
    out = ["", f"runs ({len(outcomes)} runnable cases)"]
    for o in sorted(outcomes, key=lambda o: o.case):
        mark = "ok " if o.as_labelled else "BAD"
        want = "runs" if o.expected_ok else "raises"
        out.append(f"  {mark} {o.case:<45} rc={o.returncode:<4} {o.seconds:5.1f}s  ({want})  {o.tail[:70]}")
    bad = [o for o in outcomes if not o.as_labelled]
    out.append(f"  {len(outcomes) - len(bad)}/{len(outcomes)} behave as labelled")
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=CASES_DIR, help="corpus folder (default: the one next to this script)")
    ap.add_argument("--case", action="append", default=None, help="score only this case (repeatable)")
    ap.add_argument("--backend", choices=["auto", "engine", "cli"], default="auto")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel subprocesses (cli backend, --run)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--run", action="store_true", help="also run every runnable case and compare with runs_ok")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per case with --run")
    args = ap.parse_args(argv)

    result = score(args.cases, backend=args.backend, only=args.case, jobs=args.jobs)
    runs = run_cases(result.cases, jobs=args.jobs, timeout=args.timeout) if args.run else None
    if args.json:
        data = result.to_json()
        if runs is not None:
            data["runs"] = [dict(asdict(o), as_labelled=o.as_labelled) for o in runs]
        print(json.dumps(data, indent=2))
    else:
        print(render(result))
        if runs is not None:
            print(render_runs(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
