"""`trainlint check --profile`: where the time went, on stderr, without changing the findings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List

from tests.conftest import BUGGY, CLEAN
from trainlint.timing import PHASES, Timings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _check(args: List[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _phase_seconds(stderr: str) -> dict:
    out = {}
    for line in stderr.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) >= 2 and parts[0] in PHASES + ("total",):
            out[parts[0]] = float(parts[1])
    return out


def test_profile_prints_phases_and_rules_on_stderr_and_keeps_stdout(write_tree):
    root = write_tree({"train.py": BUGGY, "models.py": "import torch\n"})
    plain = _check(["-j1", "--output-format", "json", "train.py", "models.py"], root)
    profiled = _check(["-j1", "--output-format", "json", "--profile", "train.py", "models.py"], root)
    assert profiled.returncode == plain.returncode == 1
    assert profiled.stdout == plain.stdout  # the report itself is untouched
    phases = _phase_seconds(profiled.stderr)
    for phase in ("read", "parse", "facts", "rules", "positions", "output", "total"):
        assert phase in phases, profiled.stderr
    assert phases["parse"] > 0 and phases["rules"] > 0
    assert "TL101 missing-zero-grad" in profiled.stderr  # per rule, by code and name


def test_profile_with_workers_sums_the_workers(write_tree):
    files = {f"proj{i}/train.py": (BUGGY if i % 2 else CLEAN) for i in range(20)}
    root = write_tree(files)
    res = _check(["-j2", "--profile", "-q", "."], root)
    assert res.returncode == 1
    assert "summed over 2 processes" in res.stderr
    assert _phase_seconds(res.stderr)["parse"] > 0


def test_timings_merge_and_render():
    a, b = Timings(), Timings()
    a.add("parse", 1.0)
    a.add_rule("TL101", 0.5)
    b.merge({"phases": {"parse": 2.0, "rules": 0.25}, "rules": {"TL101": 0.25, "TL102": 1.0}})
    b.merge(a.to_json())
    assert b.phases == {"parse": 3.0, "rules": 0.25} and b.rules == {"TL101": 0.75, "TL102": 1.0}
    text = b.render()
    assert "summed over 2 processes" in text
    rules = [line.split()[0] for line in text.splitlines() if line.strip().startswith("TL")]
    assert rules == ["TL102", "TL101"]  # slowest first
