"""Accelerate, with the real package (CI's `frameworks` extra; skipped without it): a script
whose objects go through `accelerator.prepare` is checked and traced like a plain loop."""

from __future__ import annotations

import json
import textwrap

import pytest

pytest.importorskip("torch")
pytest.importorskip("accelerate")

from tests.runtime.tracer_helpers import run_cli  # noqa: E402
from trainlint.config import Settings  # noqa: E402
from trainlint.engine import check_sources  # noqa: E402

SCRIPT = textwrap.dedent(
    """\
    import torch
    import torch.nn as nn
    from accelerate import Accelerator
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4)HEAD)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    data = TensorDataset(torch.randn(256, 10), torch.randint(0, 4, (256,)))
    loader = DataLoader(data, batch_size=32, shuffle=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
    """
)


def trace(tmp_path, source):
    (tmp_path / "train.py").write_text(source)
    proc = run_cli(tmp_path, ["--output-format", "json", "-q", "train.py", "--steps", "2"], timeout=180)
    return proc.returncode, json.loads(proc.stdout)


def test_a_softmax_head_after_prepare_is_reported_and_confirmed(tmp_path):
    source = SCRIPT.replace("HEAD", ", nn.Softmax(dim=1)")
    found = check_sources({"train.py": source}, Settings()).diagnostics
    assert [d.code for d in found] == ["TL201"]
    rc, out = trace(tmp_path, source)
    assert rc == 1
    assert [(d["code"], d["status"]) for d in out["diagnostics"]] == [("TL201", "confirmed")]


def test_the_clean_script_is_silent_in_check_and_trace(tmp_path):
    source = SCRIPT.replace("HEAD", "")
    assert check_sources({"train.py": source}, Settings()).diagnostics == []
    rc, out = trace(tmp_path, source)
    assert rc == 0 and out["diagnostics"] == [] and out["trace"]["steps_completed"] == 2
