"""`check --fix` / `--diff` keep files safe: only checked fixes are written, atomically, with
the file's encoding, BOM, newlines and permissions, and never over a file changed meanwhile."""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Optional, Tuple

import pytest
from click.testing import CliRunner

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

from tests.conftest import BUGGY, CLEAN
from trainlint.cli import main
from trainlint.config import Settings
from trainlint.diagnostics import Edit, Fix
from trainlint.fixes.apply import EditError, check_outside_unchanged, fix_paths, write_changes
from trainlint.rules.loop import tl101_missing_zero_grad as tl101
from trainlint.testing import lint_source

FIXED = CLEAN.replace(
    "    opt.zero_grad()\n    loss = crit(model(x), y)\n    loss.backward()",
    "    loss = crit(model(x), y)\n    opt.zero_grad()\n    loss.backward()",
)


def run_cli(*args: str) -> "object":
    return CliRunner().invoke(main, ["check", "--isolated", *args])


def test_fix_writes_the_fixed_file_and_reports_what_remains(tmp_path: Path):
    f = tmp_path / "train.py"
    f.write_text(BUGGY, encoding="utf-8")
    res = run_cli("--fix", "--show-fixes", str(f))
    assert res.exit_code == 0, res.output
    assert f.read_text(encoding="utf-8") == FIXED
    assert "1 × TL101 (missing-zero-grad)" in res.stderr
    assert not lint_source(FIXED)


def test_second_fix_is_a_no_op(tmp_path: Path):
    f = tmp_path / "train.py"
    f.write_text(BUGGY, encoding="utf-8")
    run_cli("--fix", str(f))
    first = f.read_bytes()
    mtime = f.stat().st_mtime_ns
    res = run_cli("--fix", str(f))
    assert f.read_bytes() == first and f.stat().st_mtime_ns == mtime
    assert "Fixed" not in res.stderr


def test_diff_prints_and_writes_nothing(tmp_path: Path):
    f = tmp_path / "train.py"
    f.write_text(BUGGY, encoding="utf-8")
    res = run_cli("--diff", str(f))
    assert res.exit_code == 1
    assert f.read_text(encoding="utf-8") == BUGGY
    assert "+    opt.zero_grad()\n" in res.stdout and res.stdout.startswith(f"--- a/{f}\n+++ b/{f}\n")
    clean = tmp_path / "clean.py"
    clean.write_text(CLEAN, encoding="utf-8")
    res = run_cli("--diff", str(clean))
    assert res.exit_code == 0 and res.stdout == ""


def test_without_fix_the_hint_and_json_carry_the_fix(tmp_path: Path):
    f = tmp_path / "train.py"
    f.write_text(BUGGY, encoding="utf-8")
    res = run_cli(str(f))
    assert "1 fixable with `--fix`" in res.stderr
    out = json.loads(run_cli("--format", "json", str(f)).stdout)
    fix = out["diagnostics"][0]["fix"]
    assert fix["applicability"] == "safe"
    assert fix["edits"] == [
        {"path": str(f), "line": 10, "column": 1, "end_line": 10, "end_column": 1, "content": "    opt.zero_grad()\n"}
    ]
    assert f.read_text(encoding="utf-8") == BUGGY


def test_unsafe_fixes_need_the_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    real = tl101.fix_tl101

    def unsafe(*args: object) -> Optional[Fix]:
        fix = real(*args)  # type: ignore[arg-type]
        return Fix("unsafe", fix.description, fix.edits) if fix else None

    monkeypatch.setattr(tl101, "fix_tl101", unsafe)
    f = tmp_path / "train.py"
    f.write_text(BUGGY, encoding="utf-8")
    res = run_cli(str(f))
    assert "1 more with `--fix --unsafe-fixes`" in res.stderr
    assert "1 fixable with `--fix --unsafe-fixes`" in run_cli("--unsafe-fixes", str(f)).stderr
    assert run_cli("--fix", str(f)).exit_code == 1
    assert f.read_text(encoding="utf-8") == BUGGY
    assert run_cli("--fix", "--unsafe-fixes", str(f)).exit_code == 0
    assert f.read_text(encoding="utf-8") == FIXED


# ---------------------------------------------------------------------------- bytes on disk


def test_crlf_bom_and_permissions_are_kept(tmp_path: Path):
    f = tmp_path / "train.py"
    f.write_bytes(b"\xef\xbb\xbf" + BUGGY.replace("\n", "\r\n").encode("utf-8"))
    os.chmod(f, 0o640)
    assert run_cli("--fix", str(f)).exit_code == 0
    data = f.read_bytes()
    assert data == b"\xef\xbb\xbf" + FIXED.replace("\n", "\r\n").encode("utf-8")
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]  # no temporary file left behind


def test_declared_encoding_is_kept(tmp_path: Path):
    f = tmp_path / "train.py"
    text = "# -*- coding: latin-1 -*-\n# café\n" + BUGGY
    f.write_bytes(text.encode("latin-1"))
    assert run_cli("--fix", str(f)).exit_code == 0
    assert f.read_bytes() == ("# -*- coding: latin-1 -*-\n# café\n" + FIXED).encode("latin-1")


def test_symlink_stays_a_link_to_the_fixed_file(tmp_path: Path):
    real = tmp_path / "real.py"
    real.write_text(BUGGY, encoding="utf-8")
    link = tmp_path / "train.py"
    link.symlink_to(real)
    run_cli("--fix", str(link))
    assert link.is_symlink() and real.read_text(encoding="utf-8") == FIXED


def test_file_changed_on_disk_is_not_overwritten(tmp_path: Path):
    f = tmp_path / "train.py"
    f.write_text(BUGGY, encoding="utf-8")
    run = fix_paths([str(f)], Settings())
    assert run.changed_files()
    f.write_text(BUGGY + "# edited meanwhile\n", encoding="utf-8")
    warnings = write_changes(run)
    assert warnings and "changed on disk" in warnings[0]
    assert f.read_text(encoding="utf-8").endswith("# edited meanwhile\n")


# ---------------------------------------------------------------------------- fixes that fail a check


def _patch_tl101(monkeypatch: pytest.MonkeyPatch, edits: List[Edit]) -> None:
    monkeypatch.setattr(tl101, "fix_tl101", lambda *args: Fix("safe", "a broken fix", edits))


@pytest.mark.parametrize(
    "edits,reason",
    [
        ([Edit(10, 1, 10, 1, "    opt.zero_grad(\n")], "would not parse"),
        ([Edit(10, 1, 10, 1, "    # nothing\n")], "still reports TL101"),
        # Clearing between backward and step silences TL101 but is TL102.
        ([Edit(11, 1, 11, 1, "    opt.zero_grad()\n")], "new finding: TL102"),
        ([Edit(99, 1, 99, 1, "x")], "outside the file"),
    ],
)
def test_a_fix_failing_a_check_is_dropped_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits, reason):
    _patch_tl101(monkeypatch, edits)
    f = tmp_path / "train.py"
    f.write_text(BUGGY, encoding="utf-8")
    res = run_cli("--fix", str(f))
    assert res.exit_code == 1
    assert f.read_text(encoding="utf-8") == BUGGY
    assert "fix for TL101 not applied (a broken fix)" in res.stderr and reason in res.stderr


def test_text_outside_the_edits_must_not_change():
    old = "a = 1\nb = 2\n"
    edits = [Edit(1, 5, 1, 6, "3")]
    check_outside_unchanged(old, "a = 3\nb = 2\n", edits)
    with pytest.raises(EditError):
        check_outside_unchanged(old, "a = 3\nb = 9\n", edits)


def test_overlapping_fixes_wait_for_the_next_pass(tmp_path: Path):
    # TL102 moves zero_grad after the scaler step, TL107 inserts update() there too: the two
    # insertions at one place are applied in two passes, in a definite order.
    code = BUGGY.replace(
        "crit = nn.CrossEntropyLoss()\n", "crit = nn.CrossEntropyLoss()\nscaler = torch.amp.GradScaler()\n"
    ).replace(
        "    loss.backward()\n    opt.step()\n",
        "    scaler.scale(loss).backward()\n    opt.zero_grad()\n    scaler.step(opt)\n",
    )
    f = tmp_path / "train.py"
    f.write_text(code, encoding="utf-8")
    res = run_cli("--fix", "--show-fixes", str(f))
    assert res.exit_code == 0, res.output + res.stderr
    assert "1 × TL102" in res.stderr and "1 × TL107" in res.stderr
    tail = f.read_text(encoding="utf-8").split("backward()\n")[1]
    assert tail in (
        "    scaler.step(opt)\n    scaler.update()\n    opt.zero_grad()\n",
        "    scaler.step(opt)\n    opt.zero_grad()\n    scaler.update()\n",
    )


# ---------------------------------------------------------------------------- notebooks


def _notebook(cells: List[dict]) -> str:
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _code_cell(source: str, cell_id: str, outputs: Optional[list] = None) -> dict:
    return {
        "cell_type": "code",
        "execution_count": 3,
        "id": cell_id,
        "metadata": {"tags": ["keep"]},
        "outputs": outputs or [],
        "source": source.splitlines(keepends=True),
    }


def test_notebook_fix_edits_the_cell_and_keeps_everything_else(tmp_path: Path):
    setup, loop = BUGGY.split("for step")
    output = [{"name": "stdout", "output_type": "stream", "text": ["épreuve 1\n"]}]
    cells = [
        _code_cell("%matplotlib inline\n" + setup, "a1"),
        {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Train"]},
        _code_cell(("for step" + loop).rstrip("\n"), "b2", output),
    ]
    f = tmp_path / "nb.ipynb"
    f.write_text(_notebook(cells), encoding="utf-8")
    res = run_cli("--fix", str(f))
    assert res.exit_code == 0, res.output + res.stderr
    fixed_cells = json.loads(f.read_text(encoding="utf-8"))["cells"]
    expected = [dict(c) for c in cells]
    expected[2] = dict(
        cells[2], source=("for step" + FIXED.split("for step")[1]).rstrip("\n").splitlines(keepends=True)
    )
    assert fixed_cells == expected
    assert f.read_text(encoding="utf-8") == _notebook(expected)


# ---------------------------------------------------------------------------- the quality corpus

CASES = Path(__file__).resolve().parents[1] / "benchmarks" / "quality" / "cases"


def _cases() -> List[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "expected.toml").is_file()) if CASES.is_dir() else []


@pytest.fixture(scope="module")
def fixed_corpus(tmp_path_factory: pytest.TempPathFactory):
    """The corpus twice: as it is, and after `--fix --unsafe-fixes` (each case its own project)."""
    if not _cases():
        pytest.skip("no quality corpus in this checkout")
    base = tmp_path_factory.mktemp("corpus")
    shutil.copytree(CASES, base / "before")
    shutil.copytree(CASES, base / "after")
    dropped, changed = [], []
    for case in sorted((base / "after").iterdir()):
        run = fix_paths([str(case)], Settings(), unsafe=True)
        dropped += [(case.name, r.code, r.reason) for r in run.dropped]
        assert not write_changes(run)
        if run.changed_files():
            changed.append(case.name)
    return base, changed, dropped


def test_fixing_the_corpus_keeps_every_file_valid_and_settles(fixed_corpus):
    base, changed, dropped = fixed_corpus
    assert changed, "no fix applied anywhere in the corpus"
    assert not dropped, f"fixes that failed their checks: {dropped}"
    for path in (base / "after").rglob("*"):
        if path.suffix == ".py":
            ast.parse(path.read_bytes(), filename=str(path))
        elif path.suffix == ".ipynb":
            json.loads(path.read_bytes())
    for name in changed:
        again = fix_paths([str(base / "after" / name)], Settings(), unsafe=True)
        assert not again.changed_files(), f"{name}: a second --fix changes the file again"


def _run(folder: Path, entry: str) -> int:
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    try:
        return subprocess.run([sys.executable, entry], cwd=folder, env=env, capture_output=True, timeout=240).returncode
    except subprocess.TimeoutExpired:
        return 124


@pytest.mark.slow
def test_fixed_corpus_cases_still_run(fixed_corpus):
    base, changed, _ = fixed_corpus
    jobs = []
    for name in changed:
        with open(base / "before" / name / "expected.toml", "rb") as fh:
            meta = tomllib.load(fh)
        if meta.get("runnable", True):
            jobs.append((name, str(meta.get("entry", "train.py"))))

    def broken(job: Tuple[str, str]) -> bool:
        name, entry = job
        # The original only needs running when the fixed case fails: did it run before?
        return _run(base / "after" / name, entry) != 0 and _run(base / "before" / name, entry) == 0

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        flags = list(pool.map(broken, jobs))
    broken_cases = [name for (name, _), bad in zip(jobs, flags) if bad]
    assert not broken_cases, f"cases that ran before the fixes and fail after them: {broken_cases}"


@pytest.mark.parametrize(
    "content,before_line,reason",
    [
        ("    opt.zero_grad(\n", "    loss.backward()", "would not parse"),
        ("    # nothing\n", "    loss.backward()", "still reports TL101"),
        ("    opt.zero_grad()\n", "    opt.step()", "new finding: TL102"),
    ],
)
def test_a_notebook_fix_failing_a_check_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, before_line: str, reason: str
):
    """Notebook fixes go through the same checks as a file's: re-parsed, re-linted."""
    from trainlint.notebook import notebook_source

    setup, loop = BUGGY.split("for step")
    f = tmp_path / "nb.ipynb"
    f.write_text(_notebook([_code_cell(setup, "a1"), _code_cell("for step" + loop, "b2")]), encoding="utf-8")
    before = f.read_bytes()
    program, _ = notebook_source(before)
    line = program.splitlines().index(before_line) + 1  # fixes are built in program lines
    _patch_tl101(monkeypatch, [Edit(line, 1, line, 1, content)])
    res = run_cli("--fix", str(f))
    assert res.exit_code == 1
    assert f.read_bytes() == before
    assert "fix for TL101 not applied (a broken fix)" in res.stderr and reason in res.stderr


def test_notebook_fix_over_an_ipython_line_is_refused(tmp_path: Path):
    setup = "import torch\nimport torch.nn as nn\nnet = nn.Sequential(nn.Linear(4, 2), nn.Dropout(0.5))\ncrit = nn.CrossEntropyLoss()\ndata = [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]\n"
    # (the forward shares its line, so the fix would wrap the whole loop, IPython line included)
    evaluation = "net.eval()\nfor x, y in data:\n    !nvidia-smi\n    out = net(x); print(crit(out, y).item())\n"
    f = tmp_path / "nb.ipynb"
    f.write_text(_notebook([_code_cell(setup, "a"), _code_cell(evaluation, "b")]), encoding="utf-8")
    before = f.read_bytes()
    out = json.loads(run_cli("--format", "json", str(f)).stdout)
    # The fixer refuses it, so the report does not offer it either.
    assert [d["fix"] for d in out["diagnostics"] if d["code"] == "TL404"] == [None]
    res = run_cli("--fix", str(f))
    assert res.exit_code == 1 and f.read_bytes() == before
    assert "cell 2, line 3 is IPython syntax" in res.stderr


def test_suppressed_findings_are_not_fixed(tmp_path: Path):
    f = tmp_path / "train.py"
    code = BUGGY.replace("    loss.backward()\n", "    loss.backward()  # noqa: TL101\n")
    f.write_text(code, encoding="utf-8")
    res = run_cli("--fix", str(f))
    assert res.exit_code == 0 and f.read_text(encoding="utf-8") == code
