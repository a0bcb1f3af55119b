"""Lightning, with the real package (installed by CI's `frameworks` extra; skipped without
it): a LightningModule's own loop is checked and traced like a plain one."""

from __future__ import annotations

import json
import textwrap

import pytest

pytest.importorskip("torch")
pytest.importorskip("lightning")

from tests.runtime.tracer_helpers import run_cli, status_of, trace_child  # noqa: E402
from trainlint.config import Settings  # noqa: E402
from trainlint.diagnostics import Status  # noqa: E402
from trainlint.engine import check_sources  # noqa: E402

MODULE = textwrap.dedent(
    """\
    import lightning as L
    import torch
    import torch.nn as nn
    from torch.utils.data import DataLoader, TensorDataset


    class Regressor(L.LightningModule):
        def __init__(self, manual):
            super().__init__()
            self.automatic_optimization = not manual
            self.net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))

        def forward(self, x):
            return self.net(x)

    {STEP}
        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)


    if __name__ == "__main__":
        torch.manual_seed(0)
        data = TensorDataset(torch.randn(256, 10), torch.randn(256, 1))
        trainer = L.Trainer(
            max_epochs=1,
            accelerator="cpu",
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(Regressor(MANUAL), DataLoader(data, batch_size=32, shuffle=True))
    """
)
MANUAL_NO_CLEAR = """\
    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.manual_backward(loss)
        opt.step()
        self.log("train_loss", loss)
"""
MANUAL_CLEARED = MANUAL_NO_CLEAR.replace("        opt.step()\n", "        opt.step()\n        opt.zero_grad()\n")
AUTOMATIC = """\
    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss
"""


def program(step: str, manual: bool) -> str:
    body = textwrap.indent(textwrap.dedent(step), "    ")
    # (the module-level literal `automatic_optimization = False` the static check reads)
    source = MODULE.replace("{STEP}\n", body).replace("MANUAL", str(manual))
    return source.replace("self.automatic_optimization = not manual", f"self.automatic_optimization = {not manual}")


def codes(source: str) -> list:
    result = check_sources({"train.py": source}, Settings())
    return [(d.code, d.line) for d in result.diagnostics]


def test_manual_optimization_without_zero_grad_is_reported_and_confirmed(tmp_path):
    source = program(MANUAL_NO_CLEAR, manual=True)
    backward_line = source.splitlines().index("        self.manual_backward(loss)") + 1
    assert codes(source) == [("TL101", backward_line)]
    report = trace_child(tmp_path, source, steps=2, timeout=180)
    assert len(report.evidence.steps) == 2
    assert status_of(report, "TL101") == [Status.CONFIRMED]


@pytest.mark.parametrize("step, manual", [(MANUAL_CLEARED, True), (AUTOMATIC, False)], ids=["manual", "automatic"])
def test_clean_modules_are_silent_in_check_and_trace(tmp_path, step, manual):
    source = program(step, manual)
    assert codes(source) == []
    (tmp_path / "train.py").write_text(source)
    proc = run_cli(tmp_path, ["train.py", "--steps", "2", "--output-format", "json"], timeout=180)
    assert proc.returncode == 0, proc.stdout.decode()[-2000:] + proc.stderr.decode()[-2000:]


FABRIC = textwrap.dedent(
    """\
    import lightning as L
    import torch
    import torch.nn as nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.launch()
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4)HEAD)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer = fabric.setup(model, optimizer)
    data = TensorDataset(torch.randn(128, 10), torch.randint(0, 4, (128,)))
    loader = fabric.setup_dataloaders(DataLoader(data, batch_size=16, shuffle=True))
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            fabric.backward(loss)
            optimizer.step()
    """
)


@pytest.mark.parametrize("head, expected", [(", nn.Softmax(dim=1)", [("TL201", "confirmed")]), ("", [])])
def test_fabric_scripts_are_checked_and_traced(tmp_path, head, expected):
    source = FABRIC.replace("HEAD", head)
    assert [c for c, _ in codes(source)] == [c for c, _ in expected]
    (tmp_path / "train.py").write_text(source)
    proc = run_cli(tmp_path, ["--output-format", "json", "-q", "train.py", "--steps", "2"], timeout=180)
    out = json.loads(proc.stdout)
    assert [(d["code"], d["status"]) for d in out["diagnostics"]] == expected
    assert proc.returncode == (1 if expected else 0) and out["trace"]["steps_completed"] == 2
