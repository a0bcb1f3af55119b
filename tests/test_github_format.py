"""`--output-format github`: one workflow command per finding, escaped the way the runner expects."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple

from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic, Related, Severity, Span
from trainlint.pipeline import check_paths
from trainlint.report import github

BUGGY = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    loss = model(torch.randn(8, 4)).sum()
    loss.backward()
    optimizer.step()
"""

_COMMAND = re.compile(r"^::(?P<cmd>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


def _unescape(text: str) -> str:
    for code, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        text = text.replace(code, char)
    return text


def parse(line: str) -> Tuple[str, Dict[str, str], str]:
    """Read a workflow command back the way the Actions runner does."""
    m = _COMMAND.match(line)
    assert m is not None, line
    props = dict(p.split("=", 1) for p in m.group("props").split(","))
    return m.group("cmd"), {k: _unescape(v) for k, v in props.items()}, _unescape(m.group("data"))


def test_real_finding_becomes_an_error_annotation(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUGGY)
    result = check_paths([str(tmp_path / "train.py")], Settings(root=str(tmp_path)))
    (line,) = github.render(result).splitlines()
    cmd, props, data = parse(line)
    assert cmd == "error"
    assert props == {
        "file": str(tmp_path / "train.py"),
        "line": "8",
        "col": "5",
        "endLine": "8",
        "endColumn": "20",
        "title": "trainlint (TL101)",
    }
    assert data.startswith("TL101 [missing-zero-grad] ")
    assert f"{tmp_path / 'train.py'}:9:5: " in data  # the related location, on its own line


def test_severities_map_to_error_warning_notice() -> None:
    diags = [Diagnostic("TL101", "n", sev, "m", "a.py", Span(1, 1, 1, 2)) for sev in Severity]
    cmds = [parse(line)[0] for line in github.render(CheckResult(diagnostics=diags)).splitlines()]
    assert cmds == ["error", "warning", "notice"]


def test_data_and_properties_are_escaped() -> None:
    message = "100% wrong:\r\nsee, this"
    d = Diagnostic("TL101", "n", Severity.ERROR, message, "dir:1,2/100%.py", Span(3, 4, 3, 9))
    d.related = [Related("x.py", 1, 1, "a\nb")]
    (line,) = github.render(CheckResult(diagnostics=[d])).splitlines()
    assert "\r" not in line and line.count("::") == 2  # one command, one line
    assert "file=dir%3A1%2C2/100%25.py," in line
    assert "::TL101 [n] 100%25 wrong:%0D%0Asee, this%0A" in line
    cmd, props, data = parse(line)
    assert props["file"] == "dir:1,2/100%.py" and props["line"] == "3"
    assert data.startswith("TL101 [n] " + message) and data.endswith("x.py:1:1: a\nb")


def test_notebook_annotation_names_the_cell_instead_of_a_json_line() -> None:
    d = Diagnostic("TL101", "n", Severity.ERROR, "m", "nb.ipynb", Span(4, 5, 4, 20), cell=3)
    _, props, data = parse(github.render(CheckResult(diagnostics=[d])).strip())
    assert props == {"file": "nb.ipynb", "title": "trainlint (TL101)"}
    assert data.startswith("cell 3, line 4, column 5: TL101")


def test_no_findings_no_output() -> None:
    assert github.render(CheckResult()) == ""


def test_cli_github_format(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUGGY)
    nb = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": BUGGY}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--isolated", "--output-format", "github", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert [parse(line)[1]["file"] for line in lines] == ["nb.ipynb", "train.py"]
    assert proc.stderr == ""  # no summary line mixed into the annotations' stream either
