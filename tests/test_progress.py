"""Progress on stderr while checking many files: only on a terminal, never on stdout."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

from trainlint.config import Settings
from trainlint.pipeline import check_paths
from trainlint.progress import DELAY_S, TerminalProgress, for_stderr

BUGGY = """\
import torch
model = torch.nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    loss = model(torch.randn(8, 4)).sum()
    loss.backward()
    optimizer.step()
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_check_paths_reports_every_file_in_both_stages(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.py").write_text(BUGGY)
    calls: List[Tuple[str, int, int]] = []
    result = check_paths([str(tmp_path)], Settings(root=str(tmp_path)), progress=lambda *a: calls.append(a))
    assert len(result.diagnostics) == 5
    assert calls and all(stage in ("reading", "checking") and total == 5 for stage, _, total in calls)
    checking = [done for stage, done, _ in calls if stage == "checking"]
    assert checking == sorted(checking) and checking[-1] == 5  # counts up to every file


def test_counter_waits_then_redraws_in_place_and_erases_itself() -> None:
    out, clock = io.StringIO(), FakeClock()
    bar = TerminalProgress(out, clock)
    bar("reading", 1, 10)
    assert out.getvalue() == ""  # a quick run shows nothing
    clock.now += DELAY_S + 0.01
    bar("reading", 2, 10)
    bar("reading", 3, 10)  # too soon after the last draw
    clock.now += 1
    bar("checking", 10, 10)
    assert out.getvalue() == "\rtrainlint: reading 2/10 files\rtrainlint: checking 10/10 files"
    bar.close()
    assert out.getvalue().endswith("\r" + " " * len("trainlint: checking 10/10 files") + "\r")


def test_no_counter_when_stderr_is_not_a_terminal() -> None:
    assert for_stderr(io.StringIO()) is None


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_cli_shows_progress_on_a_terminal_stderr_only(tmp_path: Path) -> None:
    # Enough files, in one process and without the cache, for the run to outlast the counter's delay.
    for i in range(600):
        (tmp_path / f"f{i:03d}.py").write_text(BUGGY)
    cmd = [
        sys.executable,
        "-m",
        "trainlint",
        "check",
        "--isolated",
        "--no-cache",
        "-j1",
        "--output-format",
        "json",
        ".",
    ]
    master, slave = os.openpty()
    try:
        proc = subprocess.run(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=slave, timeout=300)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.returncode == 1
    assert b"/600 files" in seen
    assert b"files" not in proc.stdout.replace(b'"files"', b"")  # stdout is the JSON alone
    piped = subprocess.run(cmd, cwd=tmp_path, capture_output=True, timeout=300)
    assert b"/150 files" not in piped.stderr


@pytest.mark.parametrize("jobs, split", [(1, None), (2, True)])
def test_the_counter_moves_inside_one_big_component(tmp_path: Path, jobs: int, split: object) -> None:
    """A repository whose files import each other is one component: the counter still
    counts its files as they are parsed, not all at once at the end."""
    from trainlint.pipeline import RunOptions

    (tmp_path / "common.py").write_text("import torch\n")
    for i in range(8):
        (tmp_path / f"f{i}.py").write_text("import common\n" + BUGGY)
    calls: List[Tuple[str, int, int]] = []
    opts = RunOptions(jobs=jobs, use_cache=False, split=split)  # type: ignore[arg-type]
    check_paths([str(tmp_path)], Settings(root=str(tmp_path)), progress=lambda *a: calls.append(a), options=opts)
    checking = [done for stage, done, _ in calls if stage == "checking"]
    assert checking == sorted(checking) and checking[-1] == 9
    assert set(range(1, 10)) <= set(checking)
