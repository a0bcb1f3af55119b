"""Distributed tracing on CPU: `trace --nproc-per-node N` (or the torchrun command line) runs
the ranks with the environment torchrun gives its workers, over gloo, and merges their
verdicts into one report; a rank that fails takes the others down with it, and nothing
outlives the trace."""

from __future__ import annotations

import json
import os
import time

import pytest

pytest.importorskip("torch")

from tests.runtime.tracer_helpers import run_cli  # noqa: E402
from trainlint.diagnostics import Diagnostic, Span, Status  # noqa: E402
from trainlint.runtime.judging.ranks import merge_ranks  # noqa: E402

DDP_NO_ZERO_GRAD = """\
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
with open(f"pid-{dist.get_rank()}", "w") as f:
    f.write(str(os.getpid()))
torch.manual_seed(0)
model = DDP(nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2)))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
FAIL
for step in range(5):
    x, y = torch.randn(8, 10), torch.randint(0, 2, (8,))
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
dist.destroy_process_group()
"""


def trace_json(tmp_path, args, fail: str = ""):
    (tmp_path / "train_ddp.py").write_text(DDP_NO_ZERO_GRAD.replace("FAIL\n", fail))
    started = time.monotonic()
    proc = run_cli(tmp_path, ["--output-format", "json", "-q", *args], timeout=180)
    return proc, json.loads(proc.stdout or b"{}"), time.monotonic() - started


def leftovers(folder) -> list:
    """The ranks' processes (each wrote its pid) that are still alive after the trace."""
    alive = []
    for path in folder.glob("pid-*"):
        pid = int(path.read_text())
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


def test_two_ranks_are_traced_and_their_verdicts_merged(tmp_path):
    proc, out, _ = trace_json(tmp_path, ["--nproc-per-node", "2", "train_ddp.py"])
    assert proc.returncode == 1, proc.stderr.decode()[-2000:]
    (finding,) = out["diagnostics"]
    assert finding["code"] == "TL101" and finding["status"] == "confirmed"
    assert finding["evidence"]["ranks"] == {"0": "confirmed", "1": "confirmed"}
    assert out["trace"]["ranks"] == ["stopped", "stopped"] and out["trace"]["steps_completed"] == 2
    assert len(list(tmp_path.glob("pid-*"))) == 2 and leftovers(tmp_path) == []


def test_the_torchrun_command_line_is_read_as_the_ranks_it_launches(tmp_path):
    launcher = ["-m", "torch.distributed.run", "--", "--standalone", "--nproc_per_node", "2", "train_ddp.py"]
    proc, out, _ = trace_json(tmp_path, launcher)
    assert proc.returncode == 1, proc.stderr.decode()[-2000:]
    assert [(d["code"], d["status"]) for d in out["diagnostics"]] == [("TL101", "confirmed")]
    assert out["trace"]["ranks"] == ["stopped", "stopped"]


def test_a_failing_rank_is_reported_as_its_own_and_the_run_ends(tmp_path):
    fail = 'if dist.get_rank() == 1:\n    raise RuntimeError("rank 1 lost its data")\n'
    proc, out, took = trace_json(tmp_path, ["--nproc-per-node", "2", "train_ddp.py"], fail=fail)
    script_errors = [d for d in out["diagnostics"] if d["code"] == "TL003"]
    assert any("rank 1 lost its data" in d["message"] and "rank 1 of 2 only" in d["message"] for d in script_errors)
    assert took < 120 and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "launcher_args, said",
    [
        (["--nnodes=2", "--nproc_per_node=2", "train_ddp.py"], "single-node"),
        (["--nproc_per_node=gpu", "train_ddp.py"], "number of processes"),
        (["--nproc_per_node=2", "missing.py"], "no such script"),
    ],
)
def test_launcher_command_lines_that_cannot_be_traced_are_refused_clearly(tmp_path, launcher_args, said):
    (tmp_path / "train_ddp.py").write_text(DDP_NO_ZERO_GRAD.replace("FAIL\n", ""))
    proc = run_cli(tmp_path, ["-m", "torch.distributed.run", "--", *launcher_args], timeout=60)
    assert proc.returncode == 2 and said in proc.stderr.decode()


def _finding(status: Status, line: int = 3) -> Diagnostic:
    return Diagnostic("TL901", "non-finite-values", None, "NaN in the loss", "t.py", Span(line, 1, line, 5), status)  # type: ignore[arg-type]


def test_ranks_that_disagree_keep_the_strongest_verdict_and_say_so():
    merged = merge_ranks([[_finding(Status.REFUTED)], [_finding(Status.CONFIRMED)]])
    (one,) = merged
    assert one.status == Status.CONFIRMED
    assert "rank 0 refuted, rank 1 confirmed" in one.message
    only = merge_ranks([[], [_finding(Status.CONFIRMED, line=7)]])
    assert "rank 1 of 2 only" in only[0].message


def test_a_ddp_model_with_an_unused_layer_is_reported_once_by_its_own_names(tmp_path):
    # The reducer's error comes at the second forward and names nothing; the finding names the
    # unused layer of the model inside the wrapper, and TL907 does not repeat it.
    script = DDP_NO_ZERO_GRAD.replace("FAIL\n", "").replace(
        "    loss.backward()", "    opt.zero_grad()\n    loss.backward()"
    )
    script = script.replace(
        "model = DDP(nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2)))",
        "class Net(nn.Sequential):\n"
        "    def forward(self, x):\n"
        "        return self[0](x)\n"
        "model = DDP(Net(nn.Linear(10, 2), nn.Linear(10, 2)))",
    )
    (tmp_path / "train_ddp.py").write_text(script)
    proc = run_cli(tmp_path, ["--output-format", "json", "-q", "--nproc-per-node", "2", "train_ddp.py"], timeout=180)
    out = json.loads(proc.stdout or b"{}")
    codes = sorted(d["code"] for d in out["diagnostics"])
    assert codes == ["TL003", "TL916"], proc.stderr.decode()[-2000:]
    (finding,) = [d for d in out["diagnostics"] if d["code"] == "TL916"]
    assert finding["evidence"]["parameters"] == ["Net.1.weight", "Net.1.bias"]
    assert finding["line"] == 15 and leftovers(tmp_path) == []
