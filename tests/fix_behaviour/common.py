"""Run a synthetic program beside its fixed version and compare what they compute.

Each program prints, as the last line of its output, a JSON record of what it computes on
every path it exercises (the parameters after N steps, the learning rate of each step, the
mode of each forward...). `fix_and_run` fixes every program of a family with `check --fix`
(and `--unsafe-fixes` for an unsafe fix), checks that the fix was applied, and runs all the
originals and fixed versions in one subprocess (torch is imported once)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import pytest
from click.testing import CliRunner

from trainlint.cli import main

# Runs each program given on the command line in this one interpreter and prints
# {path: {"record": <its last line, as JSON>} or {"error": ...}}. One thread, so that float
# reductions happen in the same order in the original and in the fixed run.
_RUNNER = textwrap.dedent(
    """\
    import contextlib, io, json, runpy, sys, traceback
    import torch
    torch.set_num_threads(1)
    out = {}
    for path in sys.argv[1:]:
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                runpy.run_path(path, run_name="__main__")
            out[path] = {"record": json.loads(buf.getvalue().strip().splitlines()[-1])}
        except BaseException:
            out[path] = {"error": traceback.format_exc(limit=-3)}
        torch.set_grad_enabled(True)
    print(json.dumps(out))
    """
)


@dataclass(frozen=True)
class Program:
    """A synthetic program with one rule's bug; `unsafe`: the rule's fix needs `--unsafe-fixes`."""

    rule: str
    source: str
    unsafe: bool = False


@dataclass(frozen=True)
class Run:
    original: Any  # (the records, as the programs print them)
    fixed: Any
    fixed_source: str


class Runs:
    """The runs of a family's programs by name; a program that could not be fixed or run fails
    only the tests that read it."""

    def __init__(self, runs: Dict[str, Run], failures: Dict[str, str]) -> None:
        self._runs, self._failures = runs, failures

    def __getitem__(self, name: str) -> Run:
        if name in self._failures:
            pytest.fail(f"{name}: {self._failures[name]}")
        return self._runs[name]


def check(path: Path, rule: str, *flags: str) -> Any:
    return CliRunner().invoke(main, ["check", "--isolated", "--no-cache", *flags, "--select", rule, str(path)])


def _fix(path: Path, program: Program) -> None:
    """Apply the rule's fix; a safe fix needs nothing more than `--fix`, an unsafe one is
    left alone without `--unsafe-fixes`."""
    before = path.read_text(encoding="utf-8")
    if program.unsafe:
        check(path, program.rule, "--fix")
        assert path.read_text(encoding="utf-8") == before, "an unsafe fix was applied without --unsafe-fixes"
        res = check(path, program.rule)
        assert "more with `--fix --unsafe-fixes`" in res.stderr, res.stderr
    res = check(path, program.rule, "--fix", *(["--unsafe-fixes"] if program.unsafe else []))
    assert "Fixed" in res.stderr, res.stderr + res.stdout
    assert path.read_text(encoding="utf-8") != before, "the fix changed nothing"


def fix_and_run(root: Path, programs: Dict[str, Program]) -> Runs:
    failures: Dict[str, str] = {}
    paths: Dict[str, Path] = {}
    for name, program in programs.items():
        original, fixed = root / f"{name}-original.py", root / f"{name}-fixed.py"
        original.write_text(program.source, encoding="utf-8")
        fixed.write_text(program.source, encoding="utf-8")
        try:
            _fix(fixed, program)
        except AssertionError as e:
            failures[name] = f"{program.rule} fix: {e}"
            continue
        paths[name] = original
    files = [str(p) for name in paths for p in (paths[name], root / f"{name}-fixed.py")]
    out = subprocess.run(
        [sys.executable, "-c", _RUNNER, *files], capture_output=True, text=True, timeout=300, check=True
    ).stdout
    results = json.loads(out.splitlines()[-1])
    runs: Dict[str, Run] = {}
    for name, original in paths.items():
        fixed = root / f"{name}-fixed.py"
        before, after = results[str(original)], results[str(fixed)]
        if "error" in before or "error" in after:
            failures[name] = f"original: {before.get('error', 'ran')}\nfixed: {after.get('error', 'ran')}"
            continue
        runs[name] = Run(before["record"], after["record"], fixed.read_text(encoding="utf-8"))
    return Runs(runs, failures)


def assert_no_fix(path: Path, rule: str, source: str) -> None:
    """The rule fires on `source`, and offers no fix, safe or unsafe."""
    path.write_text(source, encoding="utf-8")
    res = check(path, rule, "--output-format", "json")
    found = [d for d in json.loads(res.stdout)["diagnostics"] if d["code"] == rule]
    assert found, f"{rule} does not fire"
    assert all(d["fix"] is None for d in found), [d["fix"]["description"] for d in found if d["fix"]]
    check(path, rule, "--fix", "--unsafe-fixes")
    assert path.read_text(encoding="utf-8") == source


def close(a: Any, b: Any, rel: float = 1e-5, abs_: float = 1e-7) -> bool:
    """Nested lists and dicts of numbers equal up to float rounding."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], rel, abs_) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, rel, abs_) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
        )
    return bool(a == b)


def flat(values: Any) -> List[float]:
    if isinstance(values, list):
        return [x for v in values for x in flat(v)]
    return [float(values)]
