"""Fragments: pasted snippets and lone cells without imports, and indented excerpts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst

from tests.conftest import BUGGY, BUGGY_LINE
from trainlint.analysis.facts import build_facts
from trainlint.config import Settings
from trainlint.diagnostics import Severity
from trainlint.engine import check_sources, conventional_names
from trainlint.fixes.apply import fix_sources
from trainlint.pipeline import RunOptions, check_paths
from trainlint.source import dedent_excerpt

REPO = Path(__file__).resolve().parent.parent
NOTE = " (assuming `nn` is `torch.nn`: this file does not import it)"

FRAGMENT = """\
model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
loss = nn.CrossEntropyLoss()(model(x), y)
"""
IMPORTED = "import torch.nn as nn\n\n" + FRAGMENT


def check(sources):
    return check_sources(sources, Settings(select=["ALL"])).diagnostics


def names(text):
    return conventional_names(build_facts("m.py", "m", text, cst.parse_module(text)))


# ---------------------------------------------------------------------------- assumed names


def test_a_fragment_without_imports_gets_its_finding_as_a_lowered_guess():
    [d] = check({"frag.py": FRAGMENT})
    assert (d.code, d.line) == ("TL201", 1)  # at the model's softmax
    assert d.severity == Severity.WARNING  # TL201 is an error when nothing is assumed
    assert d.guess and d.message.endswith(NOTE)
    assert d.to_json()["guess"] is True


def test_with_the_import_the_finding_is_normal():
    [d] = check({"full.py": IMPORTED})
    assert (d.code, d.line, d.severity) == ("TL201", 3, Severity.ERROR)
    assert not d.guess and "assuming" not in d.message and "guess" not in d.to_json()


def test_the_guess_through_the_command_line(tmp_path):
    (tmp_path / "frag.py").write_text(FRAGMENT)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "frag.py", "--output-format", "json", "--no-cache", "--isolated"],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    [d] = json.loads(proc.stdout)["diagnostics"]
    assert (d["code"], d["severity"], d["guess"]) == ("TL201", "warning", True) and d["message"].endswith(NOTE)
    assert proc.returncode == 1


def test_only_the_findings_resting_on_the_assumption_are_guesses():
    """`torch` is imported, `nn` and `F` are not: the missing zero_grad() (found through
    `torch.optim`) stays an error; the softmax fed to `nn.CrossEntropyLoss` is a guess."""
    src = textwrap.dedent(
        """\
        import torch
        model = torch.nn.Linear(4, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in data:
            out = F.softmax(model(x), dim=1)
            loss = nn.CrossEntropyLoss()(out, y)
            loss.backward()
            opt.step()
        """
    )
    got = {d.code: d for d in check({"a.py": src})}
    assert got["TL101"].severity == Severity.ERROR and not got["TL101"].guess
    assert got["TL201"].severity == Severity.WARNING and got["TL201"].guess
    assert got["TL201"].message.endswith(
        "(assuming `F` is `torch.nn.functional` and `nn` is `torch.nn`: this file does not import them)"
    )


def test_severity_goes_down_one_step():
    src = "model = nn.Linear(4, 2)\noptimizer = optim.Adam(model.parameters(), lr=3.0)\n"
    [d] = [d for d in check({"lr.py": src}) if d.code == "TL501"]
    assert d.severity == Severity.INFO and d.guess  # TL501 is a warning otherwise
    assert d.message.endswith(
        "(assuming `nn` is `torch.nn` and `optim` is `torch.optim`: this file does not import them)"
    )
    plain = [
        d for d in check({"lr.py": "import torch.nn as nn\nimport torch.optim as optim\n" + src}) if d.code == "TL501"
    ]
    assert [d.severity for d in plain] == [Severity.WARNING]


LOSS_OF_F = """\
import torch.nn as nn
{binding}
model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))


def step({param}x, y):
    return F.cross_entropy(model(x), y)
"""


def test_a_name_the_file_binds_itself_is_not_assumed():
    unbound = LOSS_OF_F.format(binding="", param="")
    [d] = check({"unbound.py": unbound})
    assert (
        d.code == "TL201"
        and d.guess
        and d.message.endswith("(assuming `F` is `torch.nn.functional`: this file does not import it)")
    )
    for binding, param in (
        ("import mylib as F", ""),  # an import of something else
        ("F = make_losses()", ""),  # an assignment
        ("", "F, "),  # a parameter
        ("from mylib import *", ""),  # a star import may bind it
        ("class F:\n    pass", ""),
    ):
        assert check({"own.py": LOSS_OF_F.format(binding=binding, param=param)}) == [], (binding, param)


def test_which_names_are_assumed():
    assert names("x = nn.Linear(1, 1)\ny = torch.zeros(1)\n") == {"nn": "torch.nn", "torch": "torch"}
    assert names("import torch\nx = torch.nn.Linear(1, 1)\n") == {}  # `nn` only as an attribute
    assert names("# nn and F in a comment\ns = 'optim'\n") == {}
    for binding in (
        "try:\n    pass\nexcept E as nn:\n    pass",
        "for nn in xs:\n    pass",
        "with a as nn:\n    pass",
        "lam = lambda nn: nn",
        "(nn := 3)",
        "def nn():\n    pass",
        "global nn",
        "import torch.nn.functional as nn",
        "from torch import nn",
    ):
        assert names(binding + "\nx = nn.Linear(1, 1)\n") == {}, binding
    # `from torch import nn as tnn` binds tnn, not nn.
    assert names("from torch import nn as tnn\nx = nn.Linear(1, 1)\n") == {"nn": "torch.nn"}


def test_a_guess_can_come_from_another_file_of_the_project(tmp_path):
    """A model defined in a fragment without imports, trained in a proper script."""
    (tmp_path / "models.py").write_text(
        "class Net(nn.Module):\n    def forward(self, x):\n        return F.softmax(x, dim=1)\n"
    )
    (tmp_path / "train.py").write_text(
        "import torch.nn as nn\nfrom models import Net\n\nmodel = Net()\nloss = nn.CrossEntropyLoss()(model(x), y)\n"
    )
    result = check_paths([str(tmp_path / "train.py")], Settings(), options=RunOptions(jobs=1, use_cache=False))
    [d] = result.diagnostics
    assert (d.code, d.severity, d.guess) == ("TL201", Severity.WARNING, True)
    assert d.message.endswith(
        f"(assuming `F` is `torch.nn.functional` and `nn` is `torch.nn` in {tmp_path / 'models.py'}, where it is not imported)"
    )


# ---------------------------------------------------------------------------- indented excerpts


def _positions(diags):
    return [
        (d.code, d.line, d.column, d.end_line, d.end_column, [(r.line, r.column) for r in d.related]) for d in diags
    ]


def test_an_indented_excerpt_is_linted_at_its_own_lines_and_columns(tmp_path):
    indent = " " * 8
    excerpt = "".join(indent + line if line.strip() else line for line in BUGGY.splitlines(True))
    (tmp_path / "plain.py").write_text(BUGGY)
    (tmp_path / "excerpt.py").write_text(excerpt)
    opts = RunOptions(jobs=1, use_cache=False)
    [plain] = check_paths([str(tmp_path / "plain.py")], Settings(), options=opts).diagnostics
    [d] = check_paths([str(tmp_path / "excerpt.py")], Settings(), options=opts).diagnostics
    assert (d.code, d.line) == ("TL101", BUGGY_LINE) and d.severity == plain.severity
    # Columns count the indentation that was removed before parsing.
    assert (d.column, d.span.end_column) == (plain.column + 8, plain.span.end_column + 8)
    assert [(r.line, r.column - 8) for r in d.related] == [(r.line, r.column) for r in plain.related]
    line = excerpt.splitlines()[d.line - 1]
    assert (
        line[d.column - 1 : d.span.end_column - 1]
        == BUGGY.splitlines()[plain.line - 1][plain.column - 1 : plain.span.end_column - 1]
    )


def test_an_excerpt_with_tabs_comments_and_blank_lines():
    src = (
        "# pasted from train()\n\n\tmodel = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n  # a stray comment\n\n"
        "\tloss = nn.CrossEntropyLoss()(model(x), y)\n"
    )
    [d] = check({"tabs.py": src})
    assert (d.code, d.line, d.column) == ("TL201", 3, 41) and d.guess  # the softmax, after the tab
    assert src.splitlines()[2][d.column - 1 :].startswith("nn.Softmax(dim=1)")


def test_the_fix_of_an_indented_excerpt_keeps_its_indentation():
    excerpt = textwrap.indent(BUGGY, "    ")
    run = fix_sources({"excerpt.py": excerpt}, Settings())
    [state] = run.changed_files()
    fixed = state.data.decode()
    assert "    for step in range(3):\n" in fixed
    assert [(r.code, r.path) for r in run.applied] == [("TL101", "excerpt.py")]
    assert check({"excerpt.py": fixed}) == []
    # The fix is the plain file's fix, indented.
    plain = fix_sources({"plain.py": BUGGY}, Settings())
    assert fixed == textwrap.indent(plain.changed_files()[0].data.decode(), "    ")


def test_dedent_excerpt():
    assert dedent_excerpt("x = 1\n    # c\n") is None
    assert dedent_excerpt("    x = 1\ny = 2\n") is None  # not uniformly indented
    d = dedent_excerpt("\n    if a:\n        b()\n  # short comment\n    c()\n")
    assert d is not None and d.text == "\nif a:\n    b()\n# short comment\nc()\n"
    assert d.removed == {2: 4, 3: 4, 4: 2, 5: 4} and d.column(3, 5) == 9
    # A string's line less indented than the code: not an excerpt.
    assert dedent_excerpt('    s = """\nat the margin\n    """\n') is None


def test_genuinely_broken_syntax_is_still_reported():
    for src, line in (
        ("    x = (\n    y = 1\n", None),  # broken once dedented too
        ("    x = 1\n  y = 2\n", 1),  # a line less indented than the first: Python's "unexpected indent"
        ("def f(:\n    pass\n", 1),
    ):
        [d] = check({"bad.py": src})
        assert d.code == "TL001", src
        if line is not None:
            assert d.line == line, src


def test_a_broken_excerpt_reports_the_error_where_it_is():
    [d] = check({"bad.py": "    x = 1\n    y = = 2\n"})
    assert d.code == "TL001" and d.line == 2 and d.column > 4  # past the removed indentation


def test_an_indented_notebook_cell(tmp_path):
    cells = [
        "import torch\nimport torch.nn as nn\n",
        # Copied from inside a function: indented as a whole.
        "    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n    loss = nn.CrossEntropyLoss()(model(x), y)\n",
    ]
    nb = {
        "cells": [
            {"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None} for c in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    result = check_paths([str(tmp_path / "nb.ipynb")], Settings(), options=RunOptions(jobs=1, use_cache=False))
    [d] = result.diagnostics
    assert (d.code, d.cell, d.line, d.severity) == ("TL201", 2, 1, Severity.ERROR)
    assert cells[1].splitlines()[0][d.column - 1 :].startswith("nn.Softmax(dim=1)")
    where = (str(tmp_path / "nb.ipynb"), 2, 2, 12)
    assert where in [(r.path, r.cell, r.line, r.column) for r in d.related]  # where the loss is built
    assert cells[1].splitlines()[1][11:].startswith("nn.CrossEntropyLoss()")


def test_a_fragment_without_findings_is_checked_once(monkeypatch):
    # The run without the assumed names only sorts findings into guesses and sure ones:
    # with no finding there is nothing to sort, and the component is not checked twice.
    from trainlint import engine

    runs = []
    real = engine._run_rules

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "_run_rules", counting)
    quiet = "model = nn.Sequential(nn.Linear(4, 3))\nprint(model(x).shape)\n"
    assert not check_sources({"cell.py": quiet}, Settings()).diagnostics
    assert len(runs) == 1
    assert check_sources({"cell.py": FRAGMENT}, Settings()).diagnostics
    assert len(runs) == 3
