"""Shared helpers for the tracer tests: write a small script, trace it, look at the verdicts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from trainlint.config import Settings
from trainlint.diagnostics import Diagnostic, Status

REPO = Path(__file__).resolve().parents[2]

# Building blocks for synthetic training scripts.
HEADER = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
"""


def script(body: str) -> str:
    return HEADER + textwrap.dedent(body)


def settings(select: Optional[Sequence[str]] = None) -> Settings:
    s = Settings()
    if select is not None:
        s.select = list(select)
    return s


def write(tmp_path: Path, source: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def trace_inline(
    tmp_path: Path,
    source: str,
    steps: int = 2,
    overfit: int = 0,
    select: Optional[Sequence[str]] = None,
    name: str = "train.py",
) -> Any:
    """Run `source` in this process under `tracing()` (fast: no child, torch already loaded)."""
    from trainlint.runtime.api import tracing

    path = write(tmp_path, source, name)
    code = compile(source, str(path), "exec")
    argv = sys.argv
    sys.argv = [str(path)]  # as if run directly: argparse must not see pytest's arguments
    try:
        with tracing(steps=steps, overfit=overfit, paths=[str(path)], settings=settings(select)) as report:
            exec(code, {"__name__": "__main__", "__file__": str(path)})
    except (Exception, SystemExit):
        pass  # the script's own failure: the report keeps what was gathered (and TL003)
    finally:
        sys.argv = argv
    return report


def trace_child(
    tmp_path: Path,
    source: str,
    steps: int = 2,
    timeout: float = 60.0,
    argv: Sequence[str] = (),
    select: Optional[Sequence[str]] = None,
    overfit: int = 0,
) -> Any:
    """Run `source` as a script in a child process, like `trainlint trace` does."""
    from trainlint.runtime.api import trace_script

    path = write(tmp_path, source)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return trace_script(
            path.name, argv=argv, steps=steps, timeout=timeout, overfit=overfit, settings=settings(select)
        )
    finally:
        os.chdir(cwd)


def run_cli(
    tmp_path: Path,
    args: List[str],
    stdin: Optional[bytes] = None,
    timeout: float = 120,
    env: Optional[Dict[str, str]] = None,
) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "trainlint", "trace", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )


def status_of(report: Any, code: str) -> List[Status]:
    return [d.status for d in report.diagnostics if d.code == code]


def only(report: Any, code: str) -> Diagnostic:
    found = [d for d in report.diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.status.value, d.message) for d in report.diagnostics]
    return found[0]


def describe(report: Any) -> List[Dict[str, Any]]:
    return [
        {"code": d.code, "status": d.status.value, "evidence": d.evidence, "line": d.line} for d in report.diagnostics
    ]


def marker_line(source: str, marker: str = "# <-") -> int:
    for i, line in enumerate(source.splitlines(), 1):
        if marker in line:
            return i
    raise AssertionError(f"no {marker!r} line in the script")


def judge_inline(tmp_path: Path, source: str, code: str, steps: int = 2, overfit: int = 0) -> Diagnostic:
    """Trace `source` in-process and judge a static `code` finding placed at its `# <-` line.

    The suspicion is made by hand so that the verdict is tested on its own, whatever the
    static rule reports.
    """
    from trainlint.diagnostics import Span
    from trainlint.registry import RULES
    from trainlint.runtime.api import tracing
    from trainlint.runtime.judging.merge import merge

    path = write(tmp_path, source)
    line = marker_line(source)
    info = RULES[code]
    suspicion = Diagnostic(code, info.name, info.severity, "suspicion under test", str(path), Span(line, 1, line, 1))
    code_obj = compile(source, str(path), "exec")
    try:
        with tracing(steps=steps, overfit=overfit, paths=[], settings=settings()) as report:
            exec(code_obj, {"__name__": "__main__", "__file__": str(path)})
    except Exception:
        pass  # the script's own failure; the report keeps what was gathered
    merged = merge([suspicion], report.evidence, str(path), settings(), report.steps_requested)
    return next(d for d in merged if d.code == code)
