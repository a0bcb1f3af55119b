"""Compiled models under the tracer: a script that calls `torch.compile` is traced to its
steps (not stopped by TorchDynamo failing on the tracer's hooks), and the report says the
traced steps ran eagerly."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from tests.runtime.tracer_helpers import script, status_of, trace_child  # noqa: E402
from trainlint.diagnostics import Status  # noqa: E402

COMPILED_SOFTMAX_HEAD = script(
    """
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3), nn.Softmax(dim=1))
    model = torch.compile(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    crit = nn.CrossEntropyLoss()
    x, y = torch.randn(64, 10), torch.randint(0, 3, (64,))
    for step in range(5):
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
    """
)

MODULE_COMPILE_AND_DECORATOR = script(
    """
    @torch.compile(mode="reduce-overhead")
    def scaled(t):
        return t * 2.0

    @torch.compile
    def shifted(t):
        return t + 1.0

    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1))
    model.compile()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(32, 10), torch.randn(32, 1)
    for step in range(5):
        opt.zero_grad()
        loss = F.mse_loss(model(shifted(scaled(x))), y)
        loss.backward()
        opt.step()
    """
)


def test_a_compiled_model_is_traced_and_its_defect_confirmed(tmp_path):
    report = trace_child(tmp_path, COMPILED_SOFTMAX_HEAD, steps=2, timeout=120)
    assert len(report.evidence.steps) == 2
    assert status_of(report, "TL003") == []  # the script did not fail under the tracer
    assert status_of(report, "TL201") == [Status.CONFIRMED]
    assert any("torch.compile was skipped" in n for n in report.all_notes())


def test_module_compile_and_compiled_functions_run_eagerly(tmp_path):
    report = trace_child(tmp_path, MODULE_COMPILE_AND_DECORATOR, steps=2, timeout=120)
    assert len(report.evidence.steps) == 2 and status_of(report, "TL003") == []
    assert [n for n in report.all_notes() if "torch.compile was skipped" in n]


def test_a_script_without_compile_gets_no_note(tmp_path):
    report = trace_child(tmp_path, COMPILED_SOFTMAX_HEAD.replace("model = torch.compile(model)\n", ""), steps=2)
    assert not [n for n in report.all_notes() if "torch.compile" in n]
