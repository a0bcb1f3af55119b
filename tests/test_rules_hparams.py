"""TL501: learning rates far outside the usual range of their optimizer's family."""

from __future__ import annotations

import textwrap
from typing import Dict, List

import pytest

from trainlint.config import Settings
from trainlint.engine import check_sources
from trainlint.testing import lint_files, lint_source

HEAD = """
import argparse
import torch
import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
"""


def findings(src: str, **options: float):  # type: ignore[no-untyped-def]
    src = textwrap.dedent(src)
    if options:
        settings = Settings(select=["TL501"], options={"TL501": dict(options)})
        return [d for d in check_sources({"train.py": src}, settings).diagnostics if d.code == "TL501"]
    return [d for d in lint_source(src, select=["TL501"]) if d.code == "TL501"]


def lines(src: str) -> List[int]:
    return [d.line for d in findings(src)]


FIRES = {
    "adam-keyword-too-high": HEAD + "opt = optim.Adam(model.parameters(), lr=1.0)\n",
    "adamw-too-low": HEAD + "opt = torch.optim.AdamW(model.parameters(), lr=1e-8)\n",
    "sgd-positional-too-high": HEAD + "opt = torch.optim.SGD(model.parameters(), 500.0, momentum=0.9)\n",
    "sgd-too-low": HEAD + "opt = torch.optim.SGD(model.parameters(), lr=1e-7)\n",
    "literal-arithmetic": HEAD + "opt = optim.Adam(model.parameters(), lr=5 * 1e-1 * 4)\n",
    "module-constant": HEAD + "LR = 3.0\n\ndef build(m):\n    return optim.NAdam(m.parameters(), lr=LR)\n\nopt = build(model)\n",
    "argparse-default-in-helper": HEAD + """
def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--learning-rate", type=float, default=2.0)
    return p.parse_args()

def main():
    args = parse()
    return optim.Adam(model.parameters(), lr=args.learning_rate)
""",
    "parameter-default-no-caller-overrides": HEAD + """
def make_optimizer(params, lr=2.0):
    return optim.RAdam(params, lr=lr)

opt = make_optimizer(model.parameters())
""",
    "call-site-literal": HEAD + """
def make_optimizer(params, lr):
    return optim.Adam(params, lr=lr)

opt = make_optimizer(model.parameters(), lr=5.0)
""",
    "trainer-init-default": HEAD + """
class Trainer:
    def __init__(self, model, lr=1.0):
        self.lr = lr
        self.optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)

Trainer(model)
""",
    "manual-decay-keeps-the-initial-rate": HEAD + """
opt = optim.Adam(model.parameters(), lr=10.0)
for epoch in range(30):
    if epoch % 10 == 9:
        for group in opt.param_groups:
            group["lr"] *= 0.1
""",
    "dict-config": HEAD + """
config = {"lr": 3.0, "epochs": 3}
opt = optim.Adam(model.parameters(), lr=config["lr"])
""",
}


@pytest.mark.parametrize("name", sorted(FIRES))
def test_tl501_fires(name: str) -> None:
    assert len(lines(FIRES[name])) == 1


def test_message_names_value_optimizer_range_and_fix() -> None:
    (d,) = findings(FIRES["adam-keyword-too-high"])
    assert "learning rate 1 " in d.message and "Adam" in d.message and "0.5" in d.message
    assert "range test" in d.message


def test_argparse_default_is_reported_on_the_optimizer_with_the_default_related() -> None:
    src = textwrap.dedent(FIRES["argparse-default-in-helper"])
    (d,) = findings(src)
    text = src.splitlines()
    assert "optim.Adam" in text[d.line - 1]
    assert any("default=2.0" in text[r.line - 1] for r in d.related)
    assert "command-line option's default" in d.message


def test_options_move_the_thresholds() -> None:
    assert findings(FIRES["adam-keyword-too-high"], adam_max=2.0) == []
    assert len(findings(HEAD + "opt = optim.Adam(model.parameters(), lr=3e-4)\n", adam_max=1e-4)) == 1


def test_cross_file_constant() -> None:
    files: Dict[str, str] = {
        "settings.py": "LEARNING_RATE = 200.0\n",
        "train.py": textwrap.dedent(HEAD) + "from settings import LEARNING_RATE\nopt = optim.SGD(model.parameters(), lr=LEARNING_RATE)\n",
    }
    diags = [d for d in lint_files(files, select=["TL501"]) if d.code == "TL501"]
    assert [d.path for d in diags] == ["train.py"]
    assert [(r.path, r.line) for r in diags[0].related] == [("settings.py", 1)]


SILENT = {
    "adam-default-range": HEAD + "opt = optim.Adam(model.parameters(), lr=3e-4)\n",
    "sgd-in-range": HEAD + "opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)\n",
    "library-default": HEAD + "opt = optim.Adam(model.parameters())\n",
    "argparse-default-in-range": FIRES["argparse-default-in-helper"].replace("default=2.0", "default=3e-4"),
    "argparse-required": FIRES["argparse-default-in-helper"].replace("default=2.0", "required=True"),
    "computed": HEAD + "base_lr, batch = 0.1, 1024\nopt = optim.Adam(model.parameters(), lr=base_lr * batch / 256)\n",
    "sweep": HEAD + "for lr in [1.0, 1e-3, 1e-8]:\n    opt = optim.Adam(model.parameters(), lr=lr)\n",
    "some-callers-in-range": FIRES["call-site-literal"] + "opt2 = make_optimizer(model.parameters(), lr=1e-3)\n",
    "environment": HEAD + "import os\nopt = optim.Adam(model.parameters(), lr=float(os.environ['LR']))\n",
    "noam-lambda-schedule": HEAD + """
opt = optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98))
sched = optim.lr_scheduler.LambdaLR(opt, lambda step: 512 ** -0.5 * min((step + 1) ** -0.5, (step + 1) * 4000 ** -1.5))
""",
    "one-cycle": HEAD + """
opt = optim.SGD(model.parameters(), lr=5.0)
sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100)
""",
    "manual-param-group-lr": HEAD + """
opt = optim.Adam(model.parameters(), lr=1.0)
for step in range(10):
    for group in opt.param_groups:
        group["lr"] = 1e-3 * min(1.0, step / 5)
""",
    "lr-range-test": HEAD + """
from torch_lr_finder import LRFinder
opt = optim.Adam(model.parameters(), lr=1e-7, weight_decay=1e-2)
finder = LRFinder(model, opt, nn.CrossEntropyLoss())
finder.range_test(loader, end_lr=100, num_iter=100)
""",
    "unchecked-family": HEAD + "opt = optim.Adadelta(model.parameters(), lr=1.0)\nopt2 = optim.LBFGS(model.parameters(), lr=1)\n",
    "custom-optimizer-class": HEAD + """
class MyAdam(torch.optim.Optimizer):
    pass

opt = MyAdam(model.parameters(), lr=0.5)
""",
    "dict-config-updated-from-file": HEAD + """
import json
config = {"lr": 0.3}
config.update(json.load(open("cfg.json")))
opt = optim.Adam(model.parameters(), lr=config["lr"])
""",
}


@pytest.mark.parametrize("name", sorted(SILENT))
def test_tl501_silent(name: str) -> None:
    assert lines(SILENT[name]) == []
