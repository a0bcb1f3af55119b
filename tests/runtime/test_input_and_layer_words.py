"""What the run says when the input is constant (TL919, not a vanishing gradient) and when a
layer is never called (TL907 names it)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.runtime.tracer_helpers import script, trace_inline  # noqa: E402

LOOP = """\
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(4):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
"""


def test_an_all_zero_input_is_a_constant_input_not_a_vanishing_gradient(tmp_path: Path) -> None:
    source = script(
        "model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))\n"
        "x, y = torch.zeros(32, 8), torch.randint(0, 2, (32,))\n" + LOOP
    )
    report = trace_inline(tmp_path, source, steps=3)
    assert report.codes() == ["TL919"], [d.message for d in report.diagnostics]
    assert "every value of the first batch fed to `Sequential` is 0" in report.find("TL919")[0].message


def test_a_layer_left_out_of_forward_is_named_as_not_called(tmp_path: Path) -> None:
    source = script(
        """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 16)
        self.out = nn.Linear(16, 2)

    def forward(self, x):
        return self.out(torch.relu(self.fc1(x)))


model = Net()
x, y = torch.randn(32, 8), torch.randint(0, 2, (32,))
"""
        + LOOP
    )
    report = trace_inline(tmp_path, source, steps=3)
    found = report.find("TL907")
    assert len(found) == 1
    assert "`Net.fc2` was not called in the first training pass" in found[0].message
    assert found[0].evidence["layers_not_called"] == ["Net.fc2"]
