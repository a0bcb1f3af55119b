"""TL301-TL303: unnormalised inputs, unshuffled training loaders, NaN-prone tabular data.

Which lines fire, and which code must stay silent, is tested by the fixtures under
`tests/rules/TL301` ... `tests/rules/TL303` (run by `tests/test_rule_fixtures.py`). Here the
same fixtures are checked for what a line number cannot show: what the messages say, the
related locations and the severity.
"""

from __future__ import annotations

import textwrap
from typing import List

from tests.test_rule_fixtures import RULES_DIR, load_fixture
from trainlint.diagnostics import Diagnostic, Severity
from trainlint.testing import lint_source


def fixture_source(code: str, name: str) -> str:
    return load_fixture(code, RULES_DIR / code / f"{name}.py").files["train.py"]


def _diags(src: str, code: str) -> List[Diagnostic]:
    return [d for d in lint_source(textwrap.dedent(src), select=[code]) if d.code == code]


# A training loop over `loader`.
LOOP = """
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
"""

HEAD = """
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
"""

# ------------------------------------------------------------------------------ TL301


def test_tl301_reports_the_float_conversion_with_the_source_related() -> None:
    text = fixture_source("TL301", "uint8_array_from_helper")
    diags = _diags(text, "TL301")
    assert len(diags) == 1
    src = text.splitlines()
    assert "torch.from_numpy(pixels).float()" in src[diags[0].line - 1]
    assert any("astype(np.uint8)" in src[r.line - 1] for r in diags[0].related)
    assert "255" in diags[0].message


# ------------------------------------------------------------------------------ TL302


def test_tl302_reports_the_loader_and_names_the_loop() -> None:
    text = fixture_source("TL302", "unshuffled_loader_top_level")
    diags = _diags(text, "TL302")
    src = text.splitlines()
    assert "DataLoader(" in src[diags[0].line - 1]
    assert diags[0].severity == Severity.WARNING
    assert any("for xb, yb in loader" in src[r.line - 1] for r in diags[0].related)
    assert "shuffle=True" in diags[0].message


def test_tl302_names_the_call_that_builds_a_loader_in_a_helper() -> None:
    # The loader is made in `create_dataloader`; its options are chosen at that call.
    text = fixture_source("TL302", "unshuffled_when_the_sampler_is_optional")
    (diag,) = _diags(text, "TL302")
    src = text.splitlines()
    assert "sampler=sampler" in src[diag.line - 1]
    assert "`None` on some runs" in diag.message
    made = [r for r in diag.related if "builds this training loader" in r.message]
    assert [src[r.line - 1].strip() for r in made] == ['train_loader, _ = create_dataloader("train.pt", 32)']


def test_tl302_store_true_flag_names_the_option() -> None:
    (diag,) = _diags(fixture_source("TL302", "shuffle_behind_a_store_true_flag"), "TL302")
    assert "unless the command line passes `-s`" in diag.message


def test_tl302_unknown_dataset_is_reported_at_lower_severity() -> None:
    src = (
        HEAD
        + """
from somewhere import build_dataset
loader = DataLoader(build_dataset(), batch_size=8)
"""
        + LOOP
    )
    diags = _diags(src, "TL302")
    assert len(diags) == 1 and diags[0].severity == Severity.INFO


# ------------------------------------------------------------------------------ TL303


def test_tl303_reports_the_first_conversion_once_per_read() -> None:
    text = fixture_source("TL303", "read_csv_top_level")
    diags = _diags(text, "TL303")
    src = text.splitlines()
    assert len(diags) == 1
    assert "features = torch.tensor(X" in src[diags[0].line - 1]
    assert any("pd.read_csv" in src[r.line - 1] for r in diags[0].related)
