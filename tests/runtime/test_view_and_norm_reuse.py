"""What the first training pass says about a `view` that swaps axes (TL920) and a BatchNorm layer
applied to successive stages (TL921), and what it leaves alone: a permute, a head split, a view
marked `noqa`, a siamese encoder with BatchNorm applied to two inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.runtime.tracer_helpers import marker_line, script, trace_inline, write  # noqa: E402

LOOP = """
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(8, 5, 4), torch.randint(0, 2, (8,))
for step in range(4):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
"""

VIEWS = script(
    """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(4, 16)
        self.conv = nn.Conv1d(16, 16, 3, padding=1)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        b, t, _ = x.shape
        h = self.embed(x)
        heads = h.view(b, t, 4, 4).permute(0, 2, 1, 3)  # a head split and a permute: fine
        flat = h.reshape(b, 16, t)  # noqa: TL920
        h = h.view(b, 16, t)  # <- meant h.transpose(1, 2)
        return self.head(self.conv(h + flat).mean(-1) + heads.mean((1, 2)))
"""
    + LOOP
)

NORMS = script(
    """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(5, 8, 3, padding=1)
        self.conv2 = nn.Conv1d(8, 8, 3, padding=1)
        self.bn = nn.BatchNorm1d(8)  # <- one layer after conv1 and conv2
        self.enc = nn.Sequential(nn.Conv1d(5, 8, 3, padding=1), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1))
        self.head = nn.Linear(24, 2)

    def forward(self, x):
        h = F.relu(self.bn(self.conv1(x)))
        h = F.relu(self.bn(self.conv2(h)))
        z1, z2 = self.enc(x), self.enc(x.flip(-1))  # a siamese encoder on two inputs: fine
        return self.head(torch.cat([h.mean(-1), z1.mean(-1), z2.mean(-1)], 1))
"""
    + LOOP
)


def test_a_view_that_swaps_two_axes_is_reported_at_its_line(tmp_path: Path) -> None:
    report = trace_inline(tmp_path, VIEWS, steps=2)
    found = report.find("TL920")
    assert len(found) == 1, [(d.code, d.line, d.message) for d in report.diagnostics]
    d = found[0]
    assert d.line == marker_line(VIEWS)
    assert d.evidence["input_shape"] == [8, 5, 16] and d.evidence["output_shape"] == [8, 16, 5]
    assert "turned a tensor of shape (8, 5, 16) into (8, 16, 5)" in d.message
    assert "Use `.transpose(1, 2)`" in d.message and "# noqa: TL920" in d.message
    assert "view" not in torch.Tensor.__dict__ and "reshape" not in torch.Tensor.__dict__  # patch undone
    assert not hasattr(torch.reshape, "__wrapped__")


def test_view_and_reshape_are_wrapped_in_the_first_training_pass_only(tmp_path: Path) -> None:
    from trainlint.runtime.api import tracing

    source = script(
        """
wrapped = []


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        wrapped.append("view" in torch.Tensor.__dict__)
        return self.fc(x).view(-1, 2)


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
for step in range(3):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
"""
    )
    path = write(tmp_path, source)
    scope = {"__name__": "__main__", "__file__": str(path)}
    try:
        with tracing(steps=3, paths=[]):
            exec(compile(source, str(path), "exec"), scope)
    except Exception:
        pass
    assert scope["wrapped"] == [True, False, False]


def test_a_batchnorm_applied_to_successive_stages_is_reported_and_a_siamese_encoder_is_not(tmp_path: Path) -> None:
    report = trace_inline(tmp_path, NORMS, steps=2)
    found = report.find("TL921")
    assert len(found) == 1, [(d.code, d.line, d.message) for d in report.diagnostics]
    d = found[0]
    assert d.line == marker_line(NORMS)  # where the layer was built
    assert d.evidence["layer"] == "Net.bn" and d.evidence["calls"] == 2
    assert "`Net.bn` (BatchNorm1d) is called 2 times in one training forward pass" in d.message
    assert "its own BatchNorm layer" in d.message


def test_a_noqa_at_the_repeated_call_silences_the_batchnorm_reuse(tmp_path: Path) -> None:
    marked = NORMS.replace("h = F.relu(self.bn(self.conv2(h)))", "h = F.relu(self.bn(self.conv2(h)))  # noqa: TL921", 1)
    assert marked != NORMS
    report = trace_inline(tmp_path, marked, steps=2)
    assert report.find("TL921") == [], [(d.code, d.line) for d in report.diagnostics]


STATIC_VIEW = script(
    """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3, padding=1)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        b, t, c = x.shape
        x = x.view(b, c, t)  # <- meant x.transpose(1, 2)
        return self.head(self.conv(x).mean(-1))
"""
    + LOOP
)


def test_the_static_finding_is_confirmed_by_the_traced_reshape_and_not_reported_twice(tmp_path: Path) -> None:
    report = trace_inline(tmp_path, STATIC_VIEW, steps=2)
    (d,) = report.find("TL407")
    assert d.line == marker_line(STATIC_VIEW)
    assert d.status.value == "confirmed", d.evidence
    assert "(8, 5, 4)" in d.evidence["observed"] and "(8, 4, 5)" in d.evidence["observed"]
    assert d.evidence["runtime_finding"] == "TL920"
    assert report.find("TL920") == []  # the same line, said once
