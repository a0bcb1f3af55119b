"""Safe fixes change nothing but the buggy path: the fixed program is run beside the original
and what it computes elsewhere is compared (here: the mode each forward pass runs in), and
fixes that would change a path the finding is not about are not offered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from click.testing import CliRunner

from trainlint.cli import main

pytest.importorskip("torch")

# Every forward records (phase, model.training); the evaluation runs in training mode (TL403).
EVAL_LOOP = """\
import json
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
phase = ["train"]
seen = []
model.register_forward_pre_hook(lambda m, a: seen.append((phase[0], m.training)))
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]


def evaluate(batches):
    phase[0] = "eval"
    total = 0.0
    with torch.no_grad():
        for x, y in batches:
            total += nn.functional.cross_entropy(model(x), y).item()
    phase[0] = "train"
    return total


for epoch in range(2):
    for x, y in data:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    evaluate(data)
print(json.dumps(seen))
"""

# The pass sits in a helper that training calls too: no fix may touch it.
SHARED_HELPER = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Runner:
    def __init__(self):
        self.model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def evaluate_batch(self, x, y):
        logits = self.model(x)
        return F.cross_entropy(logits, y)

    def fit(self, data):
        for x, y in data:
            self.opt.zero_grad()
            loss = self.evaluate_batch(x, y)
            loss.backward()
            self.opt.step()

    @torch.no_grad()
    def validate(self, data):
        return sum(self.evaluate_batch(x, y).item() for x, y in data)


data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]
r = Runner()
r.fit(data)
print(r.validate(data))
"""

# The pass is a `return`: a `.train()` after it would never run.
RETURNED_PASS = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)


@torch.no_grad()
def predict(x):
    return model(x).argmax(1)


for step in range(3):
    x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
print(predict(torch.randn(8, 4)))
"""


def _modes(path: Path) -> List[List]:
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def _fix(path: Path) -> str:
    res = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--fix", "--select", "TL403", str(path)])
    return res.stderr


def test_the_tl403_fix_puts_evaluation_in_eval_mode_and_leaves_training_as_it_was(tmp_path: Path) -> None:
    original, fixed = tmp_path / "original.py", tmp_path / "fixed.py"
    original.write_text(EVAL_LOOP)
    fixed.write_text(EVAL_LOOP)
    assert "Fixed 1 problem" in _fix(fixed)
    before, after = _modes(original), _modes(fixed)
    assert len(before) == len(after) == 12
    assert [m for m in before if m[0] == "train"] == [m for m in after if m[0] == "train"] == [["train", True]] * 6
    assert [m for m in before if m[0] == "eval"] == [["eval", True]] * 6
    assert [m for m in after if m[0] == "eval"] == [["eval", False]] * 6


@pytest.mark.parametrize("source", [SHARED_HELPER, RETURNED_PASS], ids=["shared-helper", "returned-pass"])
def test_no_tl403_fix_where_it_would_change_training_or_never_restore(tmp_path: Path, source: str) -> None:
    path = tmp_path / "train.py"
    path.write_text(source)
    res = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--output-format", "json", str(path)])
    found = [d for d in json.loads(res.stdout)["diagnostics"] if d["code"] == "TL403"]
    assert found and all(d["fix"] is None for d in found)
    _fix(path)
    assert path.read_text() == source
