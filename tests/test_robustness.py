"""Nasty inputs: each has a defined outcome (a diagnostic, or exit 2 with a message), never a
traceback, never a hang, and never hides the real findings of the other files."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

from tests.conftest import BUGGY, BUGGY_LINE, CLEAN
from trainlint import engine, pipeline
from trainlint.config import Settings
from trainlint.diagnostics import Diagnostic
from trainlint.engine import check_sources
from trainlint.pipeline import check_paths
from trainlint.report import formatters
from trainlint.source import MAX_DEPTH, complexity_problem

ROOT = Path(__file__).resolve().parent.parent
DEEP = 5000

# Expression forms that nest the syntax tree without (or besides) brackets. Each takes a depth.
DEEP_FORMS: Dict[str, Callable[[int], str]] = {
    "parens": lambda n: "(" * n + "x" + ")" * n,
    "lists": lambda n: "[" * n + "]" * n,
    "dicts": lambda n: "{1: " * n + "1" + "}" * n,
    "calls_nested": lambda n: "f(" * n + ")" * n,
    "not_chain": lambda n: "not " * n + "x",
    "negated_parens": lambda n: "-(" * n + "x" + ")" * n,
    "unary_chain": lambda n: "-" * n + "x",
    "invert_chain": lambda n: "~" * n + "x",
    "attribute_chain": lambda n: "a" + ".b" * n,
    "call_chain": lambda n: "f" + "()" * n,
    "subscript_chain": lambda n: "a" + "[0]" * n,
    "plus_chain": lambda n: "+".join(["x"] * n),
    "power_chain": lambda n: "**".join(["2"] * n),
    "and_chain": lambda n: " and ".join(["x"] * n),
    "lambda_chain": lambda n: "lambda: " * n + "x",
    "conditional_chain": lambda n: "x if c else " * n + "x",
    "string_concatenation": lambda n: " ".join(["'s'"] * n),
    "nested_fstrings": lambda n: "f'{" * n + "x" + "}'" * n,
}


def deep_module(form: str, n: int) -> str:
    return f"import torch\nvalue = {DEEP_FORMS[form](n)}\n"


def largest_accepted(form: str) -> int:
    lo, hi = 1, DEEP
    assert complexity_problem(deep_module(form, hi)) is not None
    while lo < hi - 1:
        mid = (lo + hi) // 2
        if complexity_problem(deep_module(form, mid)) is None:
            lo = mid
        else:
            hi = mid
    return lo


# ---------------------------------------------------------------------------- the catalogue


@dataclass
class Nasty:
    name: str  # the file (or folder) created in the test folder
    make: Callable[[Path], None]
    code: Optional[str]  # the one code reported for it, or None for nothing at all
    fragment: str = ""  # part of the message
    line: Optional[int] = None
    outcome: str = ""  # the outcome, in words (for the record)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def _text(text: str) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(text.encode("utf-8"))


def _binary(p: Path) -> None:
    rng = random.Random(1234)
    p.write_bytes(rng.randbytes(3000) + b"\x00" + rng.randbytes(1000))


def _dir_named_py(p: Path) -> None:
    p.mkdir()
    (p / "inner.py").write_text(CLEAN)


def _symlink_loop(p: Path) -> None:
    other = p.with_name("loop_b.py")
    os.symlink(other.name, p)
    os.symlink(p.name, other)


def _folder_loop(p: Path) -> None:
    p.mkdir()
    os.symlink("..", p / "up")  # a folder that contains itself, if links were followed
    (p / "ok.py").write_text(CLEAN)


def _fifo(p: Path) -> None:
    os.mkfifo(p)


def _notebook(cells: List[dict]) -> bytes:
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb).encode("utf-8")


LATIN1_BUGGY = "# -*- coding: latin-1 -*-\n# réglages: café\n" + BUGGY
MIXED_NEWLINES = "".join(line + ("\r\n", "\n", "\r")[i % 3] for i, line in enumerate(BUGGY.splitlines()))
GOOD_NB = _notebook(
    [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": BUGGY.splitlines(True)}]
)

NASTY: List[Nasty] = [
    Nasty("binary.py", _binary, "TL001", "NUL byte", outcome="TL001 at the first NUL byte"),
    Nasty("binary_no_nul.py", _bytes(bytes(range(128, 256)) * 8), "TL001", "encoding", 1, "TL001: not decodable"),
    Nasty("nul.py", _bytes(b"import torch\nx = 1\x00\n"), "TL001", "NUL byte", 2, "TL001 at line 2"),
    Nasty(
        "latin1_no_cookie.py",
        _bytes("import torch\n# café\n".encode("latin-1")),
        "TL001",
        "not valid utf-8",
        2,
        "TL001 at line 2",
    ),
    Nasty(
        "latin1_with_cookie.py",
        _bytes(LATIN1_BUGGY.encode("latin-1")),
        "TL101",
        "",
        BUGGY_LINE + 2,
        "decoded as latin-1, TL101 found",
    ),
    Nasty(
        "unknown_cookie.py", _bytes(b"# coding: no-such-codec\nimport torch\n"), "TL001", "unknown encoding", 1, "TL001"
    ),
    Nasty(
        "utf8_bom.py",
        _bytes(b"\xef\xbb\xbf" + BUGGY.encode()),
        "TL101",
        "",
        BUGGY_LINE,
        "TL101, same position as without BOM",
    ),
    Nasty(
        "bom_and_latin1_cookie.py",
        _bytes(b"\xef\xbb\xbf# coding: latin-1\n" + BUGGY.encode()),
        "TL001",
        "encoding",
        1,
        "TL001",
    ),
    Nasty("crlf.py", _bytes(BUGGY.replace("\n", "\r\n").encode()), "TL101", "", BUGGY_LINE, "TL101, same line"),
    Nasty("lone_cr.py", _bytes(BUGGY.replace("\n", "\r").encode()), "TL101", "", BUGGY_LINE, "TL101, same line"),
    Nasty("mixed_newlines.py", _bytes(MIXED_NEWLINES.encode()), "TL101", "", BUGGY_LINE, "TL101, same line"),
    Nasty(
        "form_feeds.py", _text("\f\n" + BUGGY.replace("for step", "\ffor step")), "TL101", "", BUGGY_LINE + 1, "TL101"
    ),
    Nasty("tabs.py", _text(BUGGY.replace("    ", "\t")), "TL101", "", BUGGY_LINE, "TL101"),
    Nasty(
        "tabs_mixed_with_spaces.py",
        _text(BUGGY.replace("    loss.backward()", "\tloss.backward()")),
        "TL001",
        "inconsistent use of tabs",
        BUGGY_LINE,
        "TL001 syntax error",
    ),
    Nasty(
        "invalid_utf8_surrogate.py",
        _bytes(b"import torch\nx = '\xed\xa0\x80'\n"),
        "TL001",
        "not valid utf-8",
        2,
        "TL001",
    ),
    Nasty("utf16.py", _bytes("import torch\n".encode("utf-16")), "TL001", "UTF-16 text", 1, "TL001: UTF-16"),
    *[
        Nasty(
            f"deep_{form}.py", _text(deep_module(form, DEEP)), "TL001", "nested too deeply", 2, f"TL001 ({DEEP} deep)"
        )
        for form in DEEP_FORMS
    ],
    Nasty(
        "literal_300k.py",
        _text("import torch\nvalues = [" + ", ".join(str(i) for i in range(300_000)) + "]\n"),
        "TL001",
        "too large",
        1,
        "TL001 too large (tokens)",
    ),
    Nasty(
        "lines_50k.py",
        _text("import torch\n" + "".join(f"loss_{i} = {i} * lr\n" for i in range(50_000))),
        "TL001",
        "too large",
        1,
        "TL001 too large (tokens)",
    ),
    Nasty("empty.py", _bytes(b""), None, outcome="nothing reported"),
    Nasty("bom_only.py", _bytes(b"\xef\xbb\xbf"), None, outcome="nothing reported"),
    Nasty("x.py", _dir_named_py, None, outcome="walked as a folder; its clean file is checked"),
    Nasty("loop_a.py", _symlink_loop, "TL001", "symbolic links", 1, "TL001 cannot read (both links)"),
    Nasty("folder_loop", _folder_loop, None, outcome="link not followed; contents checked once"),
    Nasty("fifo.py", _fifo, "TL001", "not a regular file", 1, "TL001, never opened"),
    Nasty(
        "bad_json.ipynb",
        _bytes(b'{"cells": [{"cell_type": "code", "source": ['),
        "TL001",
        "invalid notebook JSON",
        1,
        "TL001",
    ),
    Nasty("truncated.ipynb", _bytes(GOOD_NB[: len(GOOD_NB) // 2]), "TL001", "invalid notebook JSON", 1, "TL001"),
    Nasty("not_a_notebook.ipynb", _bytes(b"[1, 2, 3]"), "TL001", "not a Jupyter notebook", 1, "TL001"),
    Nasty(
        "no_code_cells.ipynb",
        _bytes(_notebook([{"cell_type": "markdown", "metadata": {}, "source": ["# notes"]}])),
        None,
        outcome="nothing reported",
    ),
    Nasty(
        "pyproject.toml", _bytes(b"[tool.trainlint\nselect = [\n"), None, outcome="not a config of this run; not linted"
    ),
]
BY_NAME = {n.name: n for n in NASTY}


def _outcome_ok(n: Nasty, diags: List[Diagnostic], path: str) -> None:
    mine = [d for d in diags if d.path == path]
    if n.code is None:
        assert mine == [], [(d.code, d.message) for d in mine]
        return
    assert [d.code for d in mine] == [n.code], [(d.code, d.message) for d in mine]
    assert n.fragment in mine[0].message, mine[0].message
    if n.line is not None:
        assert mine[0].span.line == n.line, (mine[0].span, mine[0].message)


@pytest.mark.parametrize("name", [n.name for n in NASTY if not n.name.endswith(".toml")])
def test_nasty_input_has_its_defined_outcome(tmp_path: Path, name: str) -> None:
    n = BY_NAME[name]
    n.make(tmp_path / n.name)
    result = check_paths([str(tmp_path / n.name)], Settings(select=["ALL"]))
    assert result.internal_errors == 0
    _outcome_ok(n, result.diagnostics, str(tmp_path / n.name))
    for fmt, render in formatters().items():
        if fmt == "sarif" and name == "fifo.py":
            continue  # see test_sarif_output_does_not_open_a_fifo
        render(result)


def test_one_run_over_every_nasty_input_still_reports_the_real_bug(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    for n in NASTY:
        n.make(folder / n.name)
    (folder / "real_bug.py").write_text(BUGGY)
    cmd = [
        sys.executable,
        "-m",
        "trainlint",
        "check",
        "project",
        "--select",
        "ALL",
        "--no-cache",
        "--no-prefilter",
        "--format",
        "json",
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    assert elapsed < 60, f"the run took {elapsed:.0f} s"
    diags = json.loads(proc.stdout)["diagnostics"]
    by_path: Dict[str, List[dict]] = {}
    for d in diags:
        by_path.setdefault(d["path"], []).append(d)
    assert [d["code"] for d in by_path["project/real_bug.py"]] == ["TL101"]
    assert by_path["project/real_bug.py"][0]["line"] == BUGGY_LINE
    for n in NASTY:
        got = by_path.get(f"project/{n.name}", [])
        if n.code is None:
            assert got == [], (n.name, got)
        else:
            assert [d["code"] for d in got] == [n.code], (n.name, got)
            assert n.fragment in got[0]["message"], (n.name, got[0]["message"])
    assert [d["code"] for d in by_path["project/loop_b.py"]] == ["TL001"]
    assert by_path.get("project/x.py/inner.py", []) == []
    assert not any("folder_loop/up" in p for p in by_path)
    assert "TL002" not in {d["code"] for d in diags}


def test_deep_nesting_never_crashes_the_process(tmp_path: Path) -> None:
    """The native parser would overflow its stack on these: run them in a child process, so a
    regression fails this test instead of killing the test run."""
    for form in DEEP_FORMS:
        for n in (DEEP, 100_000):
            (tmp_path / f"{form}_{n}.py").write_text(deep_module(form, n))
    cmd = [
        sys.executable,
        "-m",
        "trainlint",
        "check",
        ".",
        "--isolated",
        "--select",
        "ALL",
        "--no-cache",
        "--no-prefilter",
        "-j",
        "1",
        "--format",
        "json",
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    diags = json.loads(proc.stdout)["diagnostics"]
    assert len(diags) == 2 * len(DEEP_FORMS)
    assert all(d["code"] == "TL001" and "nested too deeply" in d["message"] for d in diags), diags


@pytest.mark.parametrize("form", sorted(DEEP_FORMS))
def test_deepest_accepted_code_is_analysed(form: str) -> None:
    """Right under the guard's limit, the whole pipeline copes: the guard refuses no more than it must."""
    n = largest_accepted(form)
    assert n >= 60  # far deeper than real code nests
    src = deep_module(form, n) + BUGGY
    result = check_sources({"train.py": src}, Settings(select=["ALL"]))
    assert result.internal_errors == 0
    assert "TL101" in [d.code for d in result.diagnostics], [(d.code, d.message) for d in result.diagnostics]
    for render in formatters().values():
        render(result)


def test_guard_does_not_refuse_real_code() -> None:
    """Every rule page example and corpus file passes the guard, as do long but flat lines."""
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "benchmarks" / "quality" / "cases").rglob("*.py")]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "trainlint").rglob("*.py")]
    texts.append("x = [" + ", ".join(f"a.b.c[{i}] * 2 + 1" for i in range(5000)) + "]\n")
    texts.append("s = (\n" + "".join(f"    'line {i}'\n" for i in range(150)) + ")\n")
    texts.append("f'{x!r:>{width}} {y:#x} {{literal}} {d[\"k\"]}'\n" * 100)
    for text in texts:
        assert complexity_problem(text) is None, text[:200]


def test_guard_sees_through_strings_and_comments() -> None:
    brackets = "(" * 500
    assert complexity_problem(f"x = '{brackets}'\n# {brackets}\ny = '''\n{brackets}\n'''\n") is None
    assert complexity_problem(f"x = f'{{a}} {brackets}'\n") is None
    # ...but not through an f-string's replacement fields.
    assert complexity_problem("x = f'{" + "(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH + "}'\n") is not None


def test_indentation_depth(tmp_path: Path) -> None:
    """99 nested blocks are analysed; Python's own limit of 100 is a syntax error, not a crash."""
    for depth, expect in ((60, "TL101"), (150, "TL001")):
        body = "".join(" " * i + "if x:\n" for i in range(depth)) + " " * depth + "pass\n"
        result = check_sources({"train.py": body + BUGGY}, Settings(select=["ALL"]))
        assert result.internal_errors == 0
        assert expect in [d.code for d in result.diagnostics]


def test_unreadable_file(tmp_path: Path) -> None:
    p = tmp_path / "secret.py"
    p.write_text(BUGGY)
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): chmod 000 does not stop reading")
        result = check_paths([str(tmp_path)], Settings(select=["ALL"]))
        assert [(d.code, d.path) for d in result.diagnostics] == [("TL001", str(p))]
        assert "Permission denied" in result.diagnostics[0].message
    finally:
        p.chmod(0o644)


def test_file_deleted_between_discovery_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gone.py").write_text(BUGGY)
    (tmp_path / "stays.py").write_text(BUGGY)
    found = pipeline.discover

    def discover_then_delete(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = found(*args, **kwargs)
        (tmp_path / "gone.py").unlink()
        return out

    monkeypatch.setattr(pipeline, "discover", discover_then_delete)
    result = check_paths([str(tmp_path)], Settings(select=["ALL"]))
    got = {(Path(d.path).name, d.code) for d in result.diagnostics}
    assert got == {("gone.py", "TL001"), ("stays.py", "TL101")}
    gone = next(d for d in result.diagnostics if d.path.endswith("gone.py"))
    assert "No such file" in gone.message


def test_file_replaced_by_a_fifo_after_discovery_is_not_opened_blocking(tmp_path: Path) -> None:
    p = tmp_path / "train.py"
    os.mkfifo(p)
    lf = engine.load_file(str(p))  # would block forever with a plain open()
    assert lf.error is not None and "not a regular file" in lf.error.message


def test_sarif_output_does_not_open_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "train.py")
    try:
        proc = _cli(["check", "--isolated", "--no-cache", "--format", "sarif", "."], tmp_path, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("trainlint check --format sarif hung on a FIFO")
    assert proc.returncode == 1


@pytest.mark.parametrize("flags", [["--fix"], ["--diff"], ["-j2"]])
def test_fix_diff_and_workers_do_not_open_a_fifo(tmp_path: Path, flags: list) -> None:
    os.mkfifo(tmp_path / "train.py")
    for i in range(20):  # enough files for worker processes
        (tmp_path / f"other{i}.py").write_text("import torch\n")
    try:
        proc = _cli(["check", "--isolated", "--no-cache", *flags, "."], tmp_path, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"trainlint check {' '.join(flags)} hung on a FIFO")
    assert "Traceback" not in proc.stderr


def _cli(args: List[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trainlint", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("[tool.trainlint\nselect = [\n", "invalid TOML"),
        ('[tool.trainlint]\nselect = "TL1"\n', "must be a list of strings"),
        ('[tool.trainlint]\nselect = ["TL999"]\n', "unknown rule code"),
        ("[tool.trainlint.TL101]\nno_such_option = 1\n", "unknown option"),
        ("[tool.trainlint]\nplugins = ['os.system']\n", "unknown key"),
    ],
)
def test_invalid_pyproject_exits_2_with_a_message(tmp_path: Path, content: str, fragment: str) -> None:
    (tmp_path / "pyproject.toml").write_text(content)
    (tmp_path / "train.py").write_text(BUGGY)
    proc = _cli(["check", "train.py"], tmp_path)
    assert proc.returncode == 2
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("select", ["TL999", "XYZ", "TL1,nope", "TL101,,TL9999"])
def test_unknown_codes_in_select_exit_2_with_a_message(tmp_path: Path, select: str) -> None:
    (tmp_path / "train.py").write_text(BUGGY)
    proc = _cli(["check", "--isolated", "train.py", "--select", select], tmp_path)
    assert proc.returncode == 2
    assert "unknown rule code" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_path_and_missing_config(tmp_path: Path) -> None:
    proc = _cli(["check", "--isolated", "nowhere.py"], tmp_path)
    assert proc.returncode == 2 and "no such file or folder: nowhere.py" in proc.stderr and proc.stdout == ""
    proc = _cli(["check", "--config", "missing.toml", "."], tmp_path)
    assert proc.returncode == 2 and "no such config file" in proc.stderr and "Traceback" not in proc.stderr


def test_load_of_two_thousand_small_files() -> None:
    """The load benchmark, small: every file is checked, nothing fails, memory stays modest."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--files", "2000", "--jobs", "0", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    figures = json.loads(proc.stdout)
    run = figures["runs"][0]
    assert run["files_checked"] == figures["files"] >= 2000
    assert run["internal_errors"] == 0 and run["by_code"].get("TL101", 0) > 100
    assert run["maxrss_kib"] < 1024 * 1024  # well under a GiB


def test_a_finding_that_cannot_be_placed_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule yielding a node outside the module's tree fails alone (TL002); the run goes on."""
    import libcst as cst

    from trainlint.rules import Finding

    real = engine.load_rules

    def with_a_broken_rule():  # type: ignore[no-untyped-def]
        rules = dict(real())

        def broken(ctx):  # type: ignore[no-untyped-def]
            yield Finding("TL102", ctx.module, cst.Name("nowhere"), "placed nowhere")

        rules["TL102"] = broken
        return rules

    monkeypatch.setattr(engine, "load_rules", with_a_broken_rule)
    result = check_sources({"train.py": BUGGY}, Settings(select=["ALL"]))
    assert sorted(d.code for d in result.diagnostics) == ["TL002", "TL101"]
    assert result.internal_errors == 1


def test_without_the_guard_deep_code_fails_per_rule_not_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Second line of defence: if the guard let through code too deep for the Python side
    (here, positions of a finding in a module with 400 nested lists), the rule that reported
    it fails alone (TL002, a defect to report) and the run still returns every other result."""
    monkeypatch.setattr(engine, "complexity_problem", lambda text: None)
    deep = "import torch\nvalue = " + "[" * 400 + "]" * 400 + "\n"
    result = check_sources({"deep.py": deep + BUGGY, "train.py": BUGGY}, Settings(select=["ALL"]))
    assert [d.code for d in result.diagnostics if d.path == "train.py"] == ["TL101"]
    deep_codes = [d.code for d in result.diagnostics if d.path == "deep.py"]
    assert deep_codes in (["TL002"], ["TL101"])  # today TL002 (RecursionError in positions)
