"""What `trainlint trace` says about a run holds: a script error is a problem with the run, not a
finding the run confirmed; a clean run says what it checked; a loop without an optimizer is
counted in update steps on both streams; `print(report)` prints the readable report."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from tests.runtime.tracer_helpers import run_cli, write  # noqa: E402
from trainlint.runtime.api import trace_script  # noqa: E402

CLEAN = """\
import torch
import torch.nn as nn

torch.manual_seed(0)
x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for step in range(5):
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
RAISE
"""

BY_HAND = """\
import torch

torch.manual_seed(0)
x = torch.randn(64, 3)
y = x @ torch.tensor([1.0, -2.0, 0.5])
w = torch.zeros(3, requires_grad=True)
for step in range(20):
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
"""


def test_a_clean_run_says_what_it_checked(tmp_path):
    write(tmp_path, CLEAN.replace("RAISE\n", ""))
    proc = run_cli(tmp_path, ["--isolated", "train.py"])
    out = proc.stdout.decode()
    assert proc.returncode == 0, out
    assert "nothing found:" in out and "runtime checks (TL901-" in out and "watched 2 optimizer step(s)" in out


def test_a_script_error_is_a_problem_with_the_run_not_a_confirmed_finding(tmp_path):
    write(
        tmp_path,
        CLEAN.replace("for step in range(5):", "for step in range(1):").replace(
            "RAISE", 'raise ValueError("bad shard")'
        ),
    )
    proc = run_cli(tmp_path, ["--isolated", "train.py"])
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert "problems with the run (1)" in out and "TL003" in out and "bad shard" in out
    assert "confirmed by the run" not in out and "0 confirmed" in out


def test_updates_by_hand_are_counted_the_same_on_both_streams(tmp_path):
    write(tmp_path, BY_HAND)
    proc = run_cli(tmp_path, ["--isolated", "train.py"])
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert "stopping the script after 2 update step(s) by hand" in err
    assert "2 update step(s) by hand, 3 backward pass(es)" in out and "optimizer step" not in out


def test_printing_a_report_from_the_api_prints_the_readable_report(tmp_path):
    path = write(tmp_path, CLEAN.replace("RAISE\n", ""))
    report = trace_script(str(path))
    assert str(report).startswith(f"trainlint trace {report.target}: stopped after 2 of 2 step(s)")
    assert "TraceReport(" not in str(report)
