"""TL501: learning rates far outside the usual range of their optimizer's family.

Which lines fire, and which code must stay silent, is tested by the fixtures under
`tests/rules/TL501` (run by `tests/test_rule_fixtures.py`). Here the same fixtures are checked
for what a line number cannot show: what the message says, the related locations, and the
options that move the thresholds.
"""

from __future__ import annotations

import textwrap
from typing import Dict, List

from tests.test_rule_fixtures import RULES_DIR, load_fixture
from trainlint.config import Settings
from trainlint.diagnostics import Diagnostic
from trainlint.engine import check_sources
from trainlint.testing import lint_files, lint_source

HEAD = """
import argparse
import torch
import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
"""


def fixture_source(name: str) -> str:
    return load_fixture("TL501", RULES_DIR / "TL501" / f"{name}.py").files["train.py"]


def findings(src: str, **options: float) -> List[Diagnostic]:
    src = textwrap.dedent(src)
    if options:
        settings = Settings(select=["TL501"], options={"TL501": dict(options)})
        return [d for d in check_sources({"train.py": src}, settings).diagnostics if d.code == "TL501"]
    return [d for d in lint_source(src, select=["TL501"]) if d.code == "TL501"]


def test_message_names_value_optimizer_range_and_fix() -> None:
    (d,) = findings(fixture_source("adam_lr_too_high"))
    assert "learning rate 1 " in d.message and "Adam" in d.message and "0.5" in d.message
    assert "range test" in d.message


def test_argparse_default_is_reported_on_the_optimizer_with_the_default_related() -> None:
    src = fixture_source("argparse_default_too_high")
    (d,) = findings(src)
    text = src.splitlines()
    assert "optim.Adam" in text[d.line - 1]
    assert any("default=2.0" in text[r.line - 1] for r in d.related)
    assert "command-line option's default" in d.message


def test_options_move_the_thresholds() -> None:
    assert findings(fixture_source("adam_lr_too_high"), adam_max=2.0) == []
    assert len(findings(HEAD + "opt = optim.Adam(model.parameters(), lr=3e-4)\n", adam_max=1e-4)) == 1


def test_cross_file_constant() -> None:
    files: Dict[str, str] = {
        "settings.py": "LEARNING_RATE = 200.0\n",
        "train.py": textwrap.dedent(HEAD)
        + "from settings import LEARNING_RATE\nopt = optim.SGD(model.parameters(), lr=LEARNING_RATE)\n",
    }
    diags = [d for d in lint_files(files, select=["TL501"]) if d.code == "TL501"]
    assert [d.path for d in diags] == ["train.py"]
    assert [(r.path, r.line) for r in diags[0].related] == [("settings.py", 1)]


ADAM_L2 = """\
import torch

model = torch.nn.Linear(4, 2)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)
"""


def test_tl502_is_off_by_default_and_on_when_selected() -> None:
    off = check_sources({"train.py": ADAM_L2}, Settings()).diagnostics
    assert [d.code for d in off] == []
    on = check_sources({"train.py": ADAM_L2}, Settings(extend_select=["TL502"])).diagnostics
    assert [d.code for d in on] == ["TL502"]
    assert on[0].severity.value == "info"
    assert "torch.optim.AdamW" in on[0].message


def test_tl503_names_the_layers_the_decay_reaches_and_the_fix() -> None:
    src = load_fixture("TL503", RULES_DIR / "TL503" / "adamw_default_decay.py").files["train.py"]
    (d,) = [d for d in lint_source(src, select=["TL503"]) if d.code == "TL503"]
    assert "weight_decay=0.01 (AdamW's default)" in d.message
    assert "`tok` (Embedding)" in d.message and "`norm` (LayerNorm)" in d.message
    assert "weight_decay=0.0" in d.message and "parameter groups" in d.message


def test_tl503_is_off_by_default_and_reads_a_sequential_by_the_name_the_code_uses() -> None:
    src = load_fixture("TL503", RULES_DIR / "TL503" / "sgd_positional_decay_on_batchnorm.py").files["train.py"]
    assert [d for d in lint_source(src) if d.code == "TL503"] == []
    found = [d for d in lint_source(src, select=["TL503"]) if d.code == "TL503"]
    assert len(found) == 2 and "`net[1]` (BatchNorm2d)" in found[0].message and "0.0005" in found[0].message
