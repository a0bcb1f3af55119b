from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Callable, Dict

import pytest

# Tests start `python -m trainlint` in temporary folders: this checkout must be importable
# there without an editable install.
ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH", "")) if p)

BUGGY = textwrap.dedent(
    """\
    import torch
    import torch.nn as nn

    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    crit = nn.CrossEntropyLoss()
    for step in range(3):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
    """
)
# Line of `loss.backward()` in BUGGY, where TL101 is reported.
BUGGY_LINE = 10

CLEAN = BUGGY.replace("    loss = crit", "    opt.zero_grad()\n    loss = crit")


@pytest.fixture
def write_tree(tmp_path: Path) -> Callable[[Dict[str, str]], Path]:
    def write(files: Dict[str, str]) -> Path:
        for rel, text in files.items():
            p = tmp_path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        return tmp_path

    return write
