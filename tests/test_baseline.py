"""`check --baseline`: record today's findings, then fail only on new ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from click.testing import CliRunner, Result

from tests.conftest import BUGGY, BUGGY_LINE, CLEAN
from trainlint import baseline
from trainlint.cli import main

# A second training loop with the same bug: its finding's line reads like the first one's.
SECOND_LOOP = """\
for epoch in range(2):
    loss = crit(model(x), y)
    loss.backward()
    opt.step()
"""
# A softmax fed to the loss (TL201), in an otherwise clean file.
SOFTMAX = CLEAN.replace("loss = crit(model(x), y)", "loss = crit(torch.softmax(model(x), dim=1), y)")


def run(args: List[str], cwd: Path) -> Result:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, ["check", "--no-cache", *args], catch_exceptions=False)
    finally:
        os.chdir(old)


def json_output(args: List[str], cwd: Path) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(proc.stdout)


def entries(path: Path) -> List[Dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["findings"]  # type: ignore[no-any-return]


def record(root: Path, *args: str) -> Result:
    res = run(["--baseline", "baseline.json", "--update-baseline", *args], root)
    assert res.exit_code == 0, res.output
    return res


def reported(res: Result) -> List[str]:
    """The finding lines of text output (`path:line:col: CODE ...`)."""
    return [line for line in res.output.splitlines() if ": TL" in line and not line.startswith(" ")]


# ---------------------------------------------------------------------------- recording


def test_update_writes_a_sorted_versioned_file_relative_to_its_folder(write_tree):
    root = write_tree({"src/b.py": BUGGY, "src/a.py": BUGGY + "\n" + SECOND_LOOP})
    res = record(root)
    assert "3 findings recorded (3 added, 0 removed)" in res.output
    text = (root / "baseline.json").read_text(encoding="utf-8")
    assert json.loads(text)["version"] == baseline.VERSION
    assert entries(root / "baseline.json") == [
        {"path": "src/a.py", "code": "TL101", "line": "loss.backward()", "occurrence": 0},
        {"path": "src/a.py", "code": "TL101", "line": "loss.backward()", "occurrence": 1},
        {"path": "src/b.py", "code": "TL101", "line": "loss.backward()", "occurrence": 0},
    ]
    # One finding a line: a change to the baseline reads as a one-line diff.
    assert text.count("\n") == 3 + 5
    record(root)
    assert (root / "baseline.json").read_text(encoding="utf-8") == text  # stable


def test_update_exits_0_and_prints_no_findings(write_tree):
    root = write_tree({"train.py": BUGGY})
    res = record(root)
    assert reported(res) == []


def test_a_recorded_finding_is_hidden_and_the_run_passes(write_tree):
    root = write_tree({"train.py": BUGGY})
    record(root)
    res = run(["--baseline", "baseline.json"], root)
    assert res.exit_code == 0, res.output
    assert reported(res) == []
    assert "All checks passed (1 file); 1 finding in the baseline not shown." in res.output


def test_an_edit_above_the_finding_keeps_it_baselined(write_tree):
    root = write_tree({"train.py": BUGGY})
    record(root)
    before = (root / "baseline.json").read_bytes()
    (root / "train.py").write_text('"""Train a tiny model."""\nimport os\n\nprint(os.getcwd())\n' + BUGGY)
    res = run(["--baseline", "baseline.json"], root)
    assert res.exit_code == 0, res.output
    assert (root / "baseline.json").read_bytes() == before


def test_a_new_bug_fails_with_exactly_one_finding(write_tree):
    root = write_tree({"train.py": BUGGY})
    record(root)
    (root / "train.py").write_text(BUGGY + SECOND_LOOP)
    res = run(["--baseline", "baseline.json"], root)
    assert res.exit_code == 1
    # The same line text twice: the second occurrence is the new one.
    assert [line.split(": ")[0] for line in reported(res)] == [f"train.py:{BUGGY_LINE + 4}:5"]
    assert "Found 1 problem in 1 file; 1 finding in the baseline not shown." in res.output


def test_a_new_finding_of_another_rule_in_a_baselined_file_is_reported(write_tree):
    root = write_tree({"train.py": BUGGY})
    record(root)
    (root / "train.py").write_text(BUGGY.replace("crit(model(x), y)", "crit(torch.softmax(model(x), dim=1), y)"))
    res = run(["--baseline", "baseline.json"], root)
    assert res.exit_code == 1
    assert [line.split(" ")[1] for line in reported(res)] == ["TL201"]


def test_the_paths_are_relative_to_the_baseline_not_to_the_working_folder(write_tree):
    root = write_tree({"pkg/train.py": BUGGY})
    record(root)
    res = run(["--baseline", "../baseline.json", "train.py"], root / "pkg")
    assert res.exit_code == 0, res.output
    assert "1 finding in the baseline not shown" in res.output


def test_a_notebook_finding_survives_a_cell_inserted_above(write_tree):
    def notebook(*sources: str) -> str:
        cells = [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s} for s in sources
        ]
        return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

    root = write_tree({"nb.ipynb": notebook(BUGGY)})
    record(root)
    assert entries(root / "baseline.json")[0]["line"] == "loss.backward()"
    (root / "nb.ipynb").write_text(notebook("import os\nprint(os.getcwd())", BUGGY))
    assert run(["--baseline", "baseline.json"], root).exit_code == 0
    (root / "nb.ipynb").write_text(notebook("import os", BUGGY, SECOND_LOOP))
    res = run(["--baseline", "baseline.json"], root)
    assert [line.split(": ")[0] for line in reported(res)] == ["nb.ipynb:cell 3:3:5"]


# ---------------------------------------------------------------------------- shrinking


def test_a_fixed_finding_leaves_the_baseline(write_tree):
    root = write_tree({"a.py": BUGGY, "b.py": BUGGY})
    record(root)
    (root / "a.py").write_text(CLEAN)
    res = run(["--baseline", "baseline.json"], root)
    assert res.exit_code == 0, res.output
    assert "Baseline baseline.json: 1 entry removed (their findings are gone)." in res.output
    assert [e["path"] for e in entries(root / "baseline.json")] == ["b.py"]
    # Nothing more to remove: the file is left alone.
    mtime = (root / "baseline.json").stat().st_mtime_ns
    res = run(["--baseline", "baseline.json"], root)
    assert "removed" not in res.output and (root / "baseline.json").stat().st_mtime_ns == mtime


def test_entries_of_files_not_checked_stay(write_tree):
    """pre-commit passes only the changed files: the others' entries must survive."""
    root = write_tree({"a.py": BUGGY, "b.py": BUGGY})
    record(root)
    (root / "b.py").write_text(CLEAN)  # fixed, but not checked below
    res = run(["--baseline", "baseline.json", "a.py"], root)
    assert res.exit_code == 0, res.output
    assert [e["path"] for e in entries(root / "baseline.json")] == ["a.py", "b.py"]


def test_update_of_some_files_keeps_the_entries_of_the_others(write_tree):
    root = write_tree({"a.py": BUGGY, "b.py": BUGGY})
    record(root)
    (root / "a.py").write_text(BUGGY + SECOND_LOOP)
    record(root, "a.py")
    assert [(e["path"], e["occurrence"]) for e in entries(root / "baseline.json")] == [
        ("a.py", 0),
        ("a.py", 1),
        ("b.py", 0),
    ]


def test_the_entries_of_a_deleted_file_are_dropped(write_tree):
    root = write_tree({"a.py": BUGGY, "b.py": BUGGY})
    record(root)
    (root / "b.py").unlink()
    res = run(["--baseline", "baseline.json", "a.py"], root)
    assert "1 entry removed" in res.output
    assert [e["path"] for e in entries(root / "baseline.json")] == ["a.py"]


def test_no_shrink_baseline_leaves_the_file_as_it_is(write_tree):
    root = write_tree({"a.py": BUGGY})
    record(root)
    before = (root / "baseline.json").read_bytes()
    (root / "a.py").write_text(CLEAN)
    res = run(["--baseline", "baseline.json", "--no-shrink-baseline"], root)
    assert res.exit_code == 0 and "removed" not in res.output
    assert (root / "baseline.json").read_bytes() == before


def test_rules_not_run_do_not_shrink_their_entries(write_tree):
    root = write_tree({"a.py": BUGGY, "pyproject.toml": "[tool.trainlint]\nper-file-ignores = {}\n"})
    record(root)
    for args in (["--select", "TL2"], ["--ignore", "TL101"]):
        res = run(["--baseline", "baseline.json", *args], root)
        assert res.exit_code == 0 and "removed" not in res.output, res.output
    (root / "pyproject.toml").write_text('[tool.trainlint]\nper-file-ignores = { "a.py" = ["TL101"] }\n')
    run(["--baseline", "baseline.json"], root)
    assert len(entries(root / "baseline.json")) == 1


def test_a_file_that_does_not_parse_keeps_its_entries(write_tree):
    root = write_tree({"a.py": BUGGY})
    record(root)
    (root / "a.py").write_text(BUGGY + "def broken(:\n")
    res = run(["--baseline", "baseline.json"], root)
    assert res.exit_code == 1 and "TL001" in res.output
    assert len(entries(root / "baseline.json")) == 1


def test_fix_with_a_baseline_drops_the_entries_of_what_it_fixed(write_tree):
    root = write_tree({"a.py": BUGGY})
    record(root)
    res = run(["--baseline", "baseline.json", "--fix"], root)
    assert res.exit_code == 0, res.output
    assert "zero_grad" in (root / "a.py").read_text()
    assert entries(root / "baseline.json") == []


# ---------------------------------------------------------------------------- configuration and errors


def test_the_configured_baseline_is_relative_to_the_config_file(write_tree):
    root = write_tree(
        {
            "pyproject.toml": '[tool.trainlint]\nbaseline = "lint/baseline.json"\n',
            "src/train.py": BUGGY,
            "lint/.keep": "",
        }
    )
    res = run(["--update-baseline"], root)
    assert res.exit_code == 0, res.output
    assert entries(root / "lint" / "baseline.json")[0]["path"] == "../src/train.py"
    assert run([], root / "src").exit_code == 0
    res = run(["--no-baseline"], root / "src")
    assert res.exit_code == 1 and "TL101" in res.output


@pytest.mark.parametrize(
    "files, args, message",
    [
        ({}, ["--baseline", "missing.json"], "missing.json: no such baseline file"),
        ({"pyproject.toml": '[tool.trainlint]\nbaseline = "missing.json"\n'}, [], "no such baseline file"),
        ({}, ["--update-baseline"], "--update-baseline needs a baseline file"),
        ({"b.json": "{}"}, ["--baseline", "b.json", "--no-baseline"], "contradict"),
        ({"b.json": "{}"}, ["--baseline", "b.json", "--update-baseline", "--fix"], "cannot be combined"),
        ({"b.json": "{not json"}, ["--baseline", "b.json"], "b.json: not a trainlint baseline (invalid JSON"),
        ({"b.json": '{"version": 1}'}, ["--baseline", "b.json"], "no `findings` list"),
        ({"b.json": '{"version": 9, "findings": []}'}, ["--baseline", "b.json"], "baseline version 9 is not supported"),
        ({"b.json": '{"version": 1, "findings": [{"path": 1}]}'}, ["--baseline", "b.json"], "`path` must be a string"),
        ({"b.json": "<<<<<<< HEAD\n"}, ["--baseline", "b.json", "--update-baseline"], "not a trainlint baseline"),
        ({"pyproject.toml": "[tool.trainlint]\nbaseline = 3\n"}, [], "`baseline` must be the path of a file"),
    ],
)
def test_bad_baselines_and_options_exit_2_with_a_message(write_tree, files, args, message):
    root = write_tree({"train.py": BUGGY, **files})
    res = run(args, root)
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_json_and_sarif_leave_baselined_findings_out(write_tree):
    root = write_tree({"train.py": BUGGY})
    record(root)
    data = json_output(["--baseline", "baseline.json", "--output-format", "json"], root)
    assert data["diagnostics"] == [] and data["summary"]["baselined"] == 1
    sarif = json_output(["--baseline", "baseline.json", "--output-format", "sarif"], root)
    assert sarif["runs"][0]["results"] == []
    stats = json_output(["--baseline", "baseline.json", "--statistics", "--output-format", "json"], root)
    assert stats == [{"code": "TL101", "name": "missing-zero-grad", "count": 0, "suppressed": 0, "baselined": 1}]


def test_entries_match_on_rule_path_line_text_and_occurrence(tmp_path: Path):
    (tmp_path / "t.py").write_text("a = 1\n  a   =  1\nb = 2\n")
    from trainlint.diagnostics import Diagnostic, Severity, Span

    diags = [
        Diagnostic("TL101", "missing-zero-grad", Severity.ERROR, "m", str(tmp_path / "t.py"), Span(n, 1, n, 2))
        for n in (1, 2, 3)
    ]
    got = baseline.entries_of(diags, str(tmp_path))
    assert got == [
        baseline.Entry("t.py", "TL101", "a = 1", 0),
        baseline.Entry("t.py", "TL101", "a = 1", 1),  # whitespace does not count
        baseline.Entry("t.py", "TL101", "b = 2", 0),
    ]
