"""The Python API, overfit-one-batch mode, and the torch-free import path of the command."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from tests.runtime.tracer_helpers import REPO, settings, trace_child, trace_inline  # noqa: E402
from trainlint.diagnostics import Status  # noqa: E402


def _patched_objects():
    from torch.nn.modules import module as module_hooks
    from torch.optim import optimizer as optim_hooks

    return {
        "backward": torch.Tensor.backward,
        "autograd.backward": torch.autograd.backward,
        "cross_entropy": F.cross_entropy,
        "dropout": F.dropout,
        "zero_grad": torch.optim.Optimizer.zero_grad,
        "module_init": nn.Module.__init__,
        "apply": torch.autograd.Function.__dict__["apply"],
        "clip": torch.nn.utils.clip_grad_norm_,
        "sched": torch.optim.lr_scheduler.LRScheduler.step,
        "forward_hooks": len(module_hooks._global_forward_hooks),
        "pre_hooks": len(module_hooks._global_forward_pre_hooks),
        "opt_pre": len(optim_hooks._global_optimizer_pre_hooks),
        "opt_post": len(optim_hooks._global_optimizer_post_hooks),
    }


def _train(model, opt, steps=5, zero=True):
    X, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    for _ in range(steps):
        if zero:
            opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()


def test_tracing_stops_the_block_and_restores_everything():
    from trainlint.runtime.api import tracing

    before = _patched_objects()
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    steps_run = []
    with tracing(steps=2, paths=[], settings=settings()) as report:
        for i in range(10):
            _train(model, opt, steps=1, zero=False)  # gradients never cleared
            steps_run.append(i)
    assert steps_run == [0], "the block is left at the second step"
    assert report.outcome == "stopped" and report.steps_completed == 2
    assert _patched_objects() == before
    # Once tracing is over, nothing stops or records anything any more.
    _train(model, opt, steps=3)
    assert report.steps_completed == 2


def test_tracing_without_stop_keeps_running_and_reports_runtime_findings():
    from trainlint.runtime.api import tracing

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.Adam(model[2].parameters(), lr=1e-3)  # the first layer is never trained
    with tracing(steps=2, stop=False, paths=[], settings=settings()) as report:
        _train(model, opt, steps=5)
    assert report.steps_completed == 2, "tracing ends after the requested steps"
    first = next(iter(opt.state.values()))
    assert int(first["step"]) == 5, "the code itself ran to the end"
    assert [d.status for d in report.find("TL908")] == [Status.CONFIRMED]
    assert report.exit_code == 1


def test_lazy_reexport_from_the_package():
    import trainlint
    from trainlint.runtime import api

    assert trainlint.tracing is api.tracing
    assert trainlint.trace_script is api.trace_script


def test_trace_script_api_runs_a_child(tmp_path):
    source = textwrap.dedent("""\
        import torch, torch.nn as nn
        model = nn.Linear(4, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        X, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
        for i in range(10):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(X), y)
            loss.backward()
            opt.step()
        """)
    report = trace_child(tmp_path, source, steps=3)
    assert report.outcome == "stopped" and report.steps_completed == 3
    assert report.evidence.start is not None and report.evidence.start.pid != __import__("os").getpid()
    assert report.to_dict()["trace"]["steps_completed"] == 3


def test_overfit_without_a_dataloader_repeats_the_first_inputs_and_targets(tmp_path):
    # Mini-batches sliced by hand: the tracer replaces each new batch by the first one.
    body = """
import torch, torch.nn as nn
torch.manual_seed(0)
X, y = torch.randn(256, 8), torch.randint(0, 3, (256,))
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for i in range(0, 256, 16):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X[i:i + 16]), y[i:i + 16])
    loss.backward()
    opt.step()
"""
    report = trace_inline(tmp_path, body, overfit=12, select=["TL9"])
    losses = [v for s in report.evidence.steps for v in s.losses]
    assert len(losses) == 12
    assert losses[-1] < 0.7 * losses[0], "one batch repeated is quickly memorised"
    assert not report.find("TL912")
    broken = body.replace("lr=1e-2", "lr=0.0")
    report = trace_inline(tmp_path, broken, overfit=12, select=["TL9"])
    assert [d.status for d in report.find("TL912")] == [Status.CONFIRMED]


def test_command_module_imports_without_torch():
    code = (
        "import sys; import trainlint.runtime.parent.command, trainlint.runtime.judging.report, "
        "trainlint.runtime.judging.thresholds; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_missing_torch_exits_2_with_install_hint(monkeypatch, tmp_path):
    from trainlint.runtime.parent import command

    monkeypatch.setattr(command, "_torch_available", lambda: False)
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    result = CliRunner().invoke(command.trace, [str(script)])
    assert result.exit_code == 2
    assert "install trainlint[trace]" in result.output


def test_multiple_optimizers_are_judged_separately(tmp_path):
    # A GAN-like loop: each network's gradients are cleared right before its own backward.
    body = """
import torch, torch.nn as nn
torch.manual_seed(0)
G, D = nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 1))
opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
bce = nn.BCEWithLogitsLoss()
real = torch.randn(16, 4)
for i in range(10):
    fake = G(torch.randn(16, 4))
    D.zero_grad()
    loss_d = bce(D(real), torch.ones(16, 1)) + bce(D(fake.detach()), torch.zeros(16, 1))
    loss_d.backward()
    opt_d.step()
    G.zero_grad()
    loss_g = bce(D(fake), torch.ones(16, 1))
    loss_g.backward()  # <-
    opt_g.step()
"""
    report = trace_inline(tmp_path, body)
    assert report.steps_completed >= 4, "each optimizer is traced for the requested steps"
    assert not [d for d in report.diagnostics if d.status == Status.CONFIRMED], [
        (d.code, d.evidence) for d in report.diagnostics
    ]


def test_selection_filters_static_and_runtime_findings(tmp_path):
    body = """
import torch, torch.nn as nn
torch.manual_seed(0)
pixels = torch.randint(0, 256, (32, 8)).float()
y = torch.randint(0, 3, (32,))
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for i in range(10):
    loss = nn.functional.cross_entropy(model(pixels), y)
    loss.backward()
    opt.step()
"""
    everything = trace_inline(tmp_path, body)
    assert "TL101" in everything.codes() and any(c.startswith("TL9") for c in everything.codes())
    only = trace_inline(tmp_path, body, select=["TL101"])
    assert only.codes() == ["TL101"]
    runtime = trace_inline(tmp_path, body, select=["TL9"])
    assert "TL906" in runtime.codes() and all(c.startswith("TL9") for c in runtime.codes())


def test_text_output_groups_by_status_with_compact_evidence(tmp_path):
    body = """
import torch, torch.nn as nn
torch.manual_seed(0)
X, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    opt.step()
    opt.zero_grad()  # harmless second clear: not a bug at runtime
"""
    report = trace_inline(tmp_path, body)
    text = report.render("text")
    assert text.splitlines()[0].startswith(f"trainlint trace {tmp_path / 'train.py'}: stopped after 2 of 2")
    for d in report.diagnostics:
        assert d.code in text
    if report.by_status(Status.REFUTED):
        section = text.split("refuted by the run", 1)[1]
        assert "observed:" in section
