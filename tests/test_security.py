"""`check` never runs or imports the code it lints, configuration cannot make it run code, and
every output format escapes the strings that come from users (paths, messages)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Tuple
from urllib.parse import unquote

import pytest

from tests.conftest import BUGGY
from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic, Edit, Fix, Related, Severity, Span
from trainlint.pipeline import check_paths
from trainlint.report import formatters

ROOT = Path(__file__).resolve().parent.parent
TRAINLINT = Path(sys.executable).with_name("trainlint")

# ---------------------------------------------------------------------------- no execution


def _payload(marker: Path) -> str:
    """Top-level code that leaves a marker and kills the process, if it is ever run or imported."""
    return textwrap.dedent(
        f"""\
        import os
        with open({str(marker)!r}, "a") as _fh:
            _fh.write(__name__ + "\\n")
        os._exit(3)
        """
    )


# Names Python, pytest or packaging tools run by themselves, plus ordinary modules and a
# package that the training script imports (so the linter follows it across files).
EXECUTABLE_NAMES = [
    "train.py",
    "setup.py",
    "conftest.py",
    "sitecustomize.py",
    "usercustomize.py",
    "__main__.py",
    "torch.py",
    "click.py",
    "json.py",
    "pkg/__init__.py",
    "pkg/models.py",
    "pkg/__main__.py",
]


# A finding every analysed file gets, whatever its role (TL101 is not reported in test code
# such as conftest.py): it shows the file was read and analysed, not imported.
ANALYSED = "probs = torch.softmax(torch.randn(2, 3))\n"


def _armed_project(folder: Path, marker: Path, extra: int = 0) -> Path:
    payload = _payload(marker) + "import torch\n" + ANALYSED
    for name in EXECUTABLE_NAMES:
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        body = (
            BUGGY.replace("import torch.nn as nn\n", "import torch.nn as nn\nfrom pkg.models import Net\n")
            if name == "train.py"
            else BUGGY
        )
        p.write_text(payload + body)
    for i in range(extra):  # enough files for worker processes
        (folder / f"extra_{i}.py").write_text(payload + BUGGY)
    cell = {
        "cell_type": "code",
        "metadata": {},
        "outputs": [],
        "execution_count": None,
        "source": (payload + BUGGY).splitlines(True),
    }
    nb = {
        "cells": [cell],
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / "analysis.ipynb").write_text(json.dumps(nb))
    (folder / "pyproject.toml").write_text("[tool.trainlint]\nselect = ['ALL']\n")
    return folder


def _findings_in(stdout: str) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for d in json.loads(stdout)["diagnostics"]:
        out.setdefault(d["path"], []).append(d["code"])
    return out


@pytest.mark.parametrize("how", ["console-script", "python-m-from-elsewhere"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_check_never_runs_or_imports_the_linted_code(tmp_path: Path, how: str, jobs: str) -> None:
    marker = tmp_path / "EXECUTED"
    project = _armed_project(tmp_path / "project", marker, extra=16)
    args = ["check", "--no-cache", "--format", "json", "-j", jobs]
    if how == "console-script":
        if not TRAINLINT.exists():
            pytest.skip("the trainlint console script is not installed")
        # Run from inside the project, where its pyproject.toml is the configuration.
        proc = subprocess.run([str(TRAINLINT), *args, "."], cwd=project, capture_output=True, text=True, timeout=300)
        prefix = ""
    else:
        # `python -m` puts the working folder first on sys.path, so run it from elsewhere.
        proc = subprocess.run(
            [sys.executable, "-m", "trainlint", *args, "project"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        prefix = "project/"
    assert not marker.exists(), marker.read_text()
    assert proc.returncode == 1, proc.stderr
    found = _findings_in(proc.stdout)
    for name in [*EXECUTABLE_NAMES, "analysis.ipynb"]:
        if name == "conftest.py":
            continue  # (read, but pytest's own file is test code: no rule reports there)
        assert "TL207" in found.get(prefix + name, []), (name, found.get(prefix + name))
        assert name == "conftest.py" or "TL101" in found.get(prefix + name, []), (name, found.get(prefix + name))


def test_check_and_fix_in_process_import_nothing(tmp_path: Path) -> None:
    from trainlint.fixes.apply import fix_paths

    marker = tmp_path / "EXECUTED"
    project = _armed_project(tmp_path / "project", marker)
    before = set(sys.modules)
    result = check_paths([str(project)], Settings(select=["ALL"]))
    run = fix_paths([str(project)], Settings(select=["ALL"]), unsafe=True)
    assert not marker.exists()
    assert result.diagnostics and run.result.diagnostics is not None
    new = {m for m in set(sys.modules) - before if not m.startswith(("trainlint", "_"))}
    assert not new & {"pkg", "pkg.models", "conftest", "setup", "sitecustomize", "usercustomize", "train"}, new


def test_fix_writes_files_but_never_runs_them(tmp_path: Path) -> None:
    marker = tmp_path / "EXECUTED"
    project = _armed_project(tmp_path / "project", marker)
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--no-cache", "--fix", "--unsafe-fixes", "project"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert not marker.exists()
    assert "Traceback" not in proc.stderr
    assert "zero_grad()" in (project / "setup.py").read_text()  # the fix was applied, not run


SUSPICIOUS_CONFIG = [
    "[tool.trainlint]\nplugins = ['os:system']\n",
    '[tool.trainlint]\ninit-hook = "import os; os._exit(3)"\n',
    "[tool.trainlint]\nload-plugins = ['pkg']\n",
    "[tool.trainlint]\npython = 'python3 -c \"import os\"'\n",
    "[tool.trainlint.TL101]\ncommand = \"__import__('os')._exit(3)\"\n",
    "[tool.trainlint]\nselect = [\"__import__('os')._exit(3)\"]\n",
    '[tool.trainlint]\nexclude = ["$(touch EXECUTED)", "`touch EXECUTED`"]\nextend-select = [\'TL1\']\n',
]


@pytest.mark.parametrize("config", SUSPICIOUS_CONFIG)
def test_configuration_cannot_run_code(tmp_path: Path, config: str) -> None:
    marker = tmp_path / "EXECUTED"
    (tmp_path / "pyproject.toml").write_text(config)
    (tmp_path / "train.py").write_text(_payload(marker) + BUGGY)
    # The configuration is found from the working folder; the console script keeps that
    # folder off sys.path (`python -m` would put it first).
    command = [str(TRAINLINT)] if TRAINLINT.exists() else [sys.executable, "-P", "-m", "trainlint"]
    proc = subprocess.run(
        [*command, "check", "--no-cache", "train.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert not marker.exists()
    assert "Traceback" not in proc.stderr
    if "exclude" in config:
        assert proc.returncode == 1  # a glob is only ever matched against paths
    else:
        assert proc.returncode == 2 and "error" in proc.stderr


_RUNS_CODE = {
    "eval",
    "exec",
    "compile",
    "execfile",
    "runpy",
    "subprocess",
    "system",
    "popen",
    "spawnv",
    "execv",
    "execvp",
    "load_module",
    "exec_module",
    "run_path",
    "run_module",
    "loads",
}
_IMPORTS_BY_NAME = {"import_module", "__import__"}


def _static_modules() -> List[Path]:
    # The tracer (trainlint/runtime) runs the user's script on purpose, in a child process,
    # only for `trainlint trace`; everything else must never run or import user code.
    return [p for p in (ROOT / "trainlint").rglob("*.py") if "runtime" not in p.relative_to(ROOT / "trainlint").parts]


def test_static_code_has_no_way_to_run_or_import_user_code() -> None:
    offences: List[Tuple[str, int, str]] = []
    for path in _static_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + (
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                )
                # tree_transfer.py loads pickled syntax trees with a loader that only builds
                # libcst classes (tested below).
                banned = ("runpy", "subprocess", "marshal", "shelve", "ctypes") + (
                    () if path.name == "tree_transfer.py" else ("pickle",)
                )
                if any(n.split(".")[0] in banned for n in names):
                    offences.append((str(path), node.lineno, "imports " + ",".join(names)))
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if (
                name in _RUNS_CODE
                and not (name == "loads" and _is_json_or_toml(func))
                and not (name == "compile" and isinstance(func, ast.Attribute))
            ):
                offences.append((str(path), node.lineno, name))
            if name in _IMPORTS_BY_NAME:
                arg = node.args[0] if node.args else None
                # Only the package's own modules, by a name that starts with "trainlint.".
                literal = (
                    isinstance(arg, ast.JoinedStr)
                    and arg.values
                    and isinstance(arg.values[0], ast.Constant)
                    and str(arg.values[0].value).startswith("trainlint.")
                )
                if not literal and not (isinstance(arg, ast.Constant) and str(arg.value).startswith("trainlint.")):
                    offences.append((str(path), node.lineno, name))
    assert offences == []


def _is_json_or_toml(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("json", "tomllib", "tomli")
    )


# ---------------------------------------------------------------------------- escaping

NASTY_TEXT = "a \"quoted\" 'path' with :: and %25 and 100% , comma\nnew line\r\rcarriage ünïcødé 名前 \u2028 \t tab"
NASTY_FILE_NAMES = [
    "we\"ird'name.py",
    "new\nline.py",
    "a::b,c=d.py",
    "100%25%.py",
    "ünï 名前.py",
    "tab\tname.py",
    "carriage\rreturn.py",
]


def _synthetic_result() -> CheckResult:
    d = Diagnostic(
        code="TL101",
        name="missing-zero-grad",
        severity=Severity.ERROR,
        message="message with " + NASTY_TEXT,
        path="dir with space/" + NASTY_TEXT.replace("\r", "") + ".py",
        span=Span(3, 5, 3, 9),
        related=[Related("rel " + NASTY_TEXT + ".py", 7, 1, "related " + NASTY_TEXT)],
        fix=Fix("safe", "fix " + NASTY_TEXT, [Edit(3, 1, 3, 1, "x = 'a'\n# " + NASTY_TEXT + "\n")]),
    )
    nb = Diagnostic(
        "TL101",
        "missing-zero-grad",
        Severity.WARNING,
        "cell " + NASTY_TEXT,
        "nb " + NASTY_TEXT + ".ipynb",
        Span(2, 1, 2, 4),
        cell=3,
    )
    return CheckResult(diagnostics=[d, nb], files=2)


def _github_unescape(text: str, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
    for a, b in pairs:
        text = text.replace(a, b)
    return text.replace("%25", "%")


def test_text_format_keeps_one_finding_per_line() -> None:
    result = _synthetic_result()
    out = formatters()["text"](result)
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == sum(1 + len(d.related) for d in result.diagnostics)
    assert "\r" not in out
    assert lines[0].startswith("dir with space/a \"quoted\" 'path' with :: and %25 and 100% , comma\\nnew line")
    assert "ünïcødé 名前" in lines[0]
    assert lines[1].startswith("    rel a")


def test_json_format_round_trips_every_string() -> None:
    result = _synthetic_result()
    data = json.loads(formatters()["json"](result))
    got = data["diagnostics"]
    assert [g["path"] for g in got] == [d.path for d in result.diagnostics]
    assert [g["message"] for g in got] == [d.message for d in result.diagnostics]
    assert got[0]["related"][0]["message"] == result.diagnostics[0].related[0].message
    assert got[0]["fix"]["description"] == result.diagnostics[0].fix.description  # type: ignore[union-attr]
    assert got[0]["fix"]["edits"][0]["content"] == result.diagnostics[0].fix.edits[0].content  # type: ignore[union-attr]


def test_github_format_escapes_properties_and_data() -> None:
    if "github" not in formatters():
        pytest.skip("no github format in this build")
    result = _synthetic_result()
    out = formatters()["github"](result)
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == len(result.diagnostics)  # nothing can start a second command
    for line, d in zip(lines, result.diagnostics):
        assert line.startswith(("::error ", "::warning ", "::notice "))
        head, _, message = line.partition("::")[2].partition("::")
        props = dict(kv.split("=", 1) for kv in head.split(" ", 1)[1].split(","))
        assert _github_unescape(props["file"], prop=True) == d.path
        assert d.message in _github_unescape(message, prop=False)
        for r in d.related:
            assert r.message in _github_unescape(message, prop=False)


def test_sarif_format_escapes_uris_and_keeps_messages() -> None:
    if "sarif" not in formatters():
        pytest.skip("no sarif format in this build")
    result = _synthetic_result()
    data = json.loads(formatters()["sarif"](result))
    results = data["runs"][0]["results"]
    for res, d in zip(results, result.diagnostics):
        loc = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert " " not in loc and "\n" not in loc and '"' not in loc
        assert unquote(loc) == d.path
        assert d.message in res["message"]["text"]
    rel = results[0]["relatedLocations"][0]
    assert unquote(rel["physicalLocation"]["artifactLocation"]["uri"]) == result.diagnostics[0].related[0].path
    assert rel["message"]["text"] == result.diagnostics[0].related[0].message
    schema_path = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
    if schema_path.exists():
        jsonschema = pytest.importorskip("jsonschema")
        jsonschema.validate(data, json.loads(schema_path.read_text(encoding="utf-8")))


@pytest.fixture
def nasty_named_project(tmp_path: Path) -> Path:
    made = []
    for name in NASTY_FILE_NAMES:
        try:
            (tmp_path / name).write_text(BUGGY)
            made.append(name)
        except OSError:  # a file system that refuses the name
            continue
    if len(made) < 5:
        pytest.skip("this file system refuses most of the test's file names")
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_real_files_with_nasty_names(nasty_named_project: Path, fmt: str) -> None:
    if fmt not in formatters():
        pytest.skip(f"no {fmt} format in this build")
    names = sorted(p.name for p in nasty_named_project.iterdir() if p.suffix == ".py")
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--isolated", "--no-cache", "--format", fmt, "."],
        cwd=nasty_named_project,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr, proc.stderr
    out = proc.stdout.decode("utf-8")
    if fmt == "json":
        assert sorted({d["path"] for d in json.loads(out)["diagnostics"]}) == names
    elif fmt == "sarif":
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(out)["runs"][0]["results"]
        }
        assert sorted(unquote(u) for u in uris) == names
    elif fmt == "github":
        lines = out.rstrip("\n").split("\n")
        assert len(lines) == len(names)
        files = [
            dict(kv.split("=", 1) for kv in ln.partition("::")[2].partition("::")[0].split(" ", 1)[1].split(","))[
                "file"
            ]
            for ln in lines
        ]
        assert sorted(_github_unescape(f, prop=True) for f in files) == names
    else:
        findings = [ln for ln in out.rstrip("\n").split("\n") if not ln.startswith("    ")]
        assert len(findings) == len(names)
        assert all(": TL101 [missing-zero-grad] " in ln for ln in findings)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_undecodable_file_name(tmp_path: Path, fmt: str) -> None:
    if sys.platform == "win32" or sys.getfilesystemencoding().lower() != "utf-8":
        pytest.skip("needs a POSIX file system with UTF-8 names")
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff.py"), "w") as fh:
        fh.write(BUGGY)
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--isolated", "--no-cache", "--format", fmt, "."],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert b"Traceback" not in proc.stderr
    assert proc.returncode == 1
    out = proc.stdout.decode("utf-8")  # every format must be UTF-8
    assert "bad\\xff.py" in out.replace("\\\\", "\\") or "bad%FF.py" in out  # the byte shown, not lost


def test_diff_of_an_undecodable_file_name_is_utf8(tmp_path: Path) -> None:
    if sys.platform == "win32" or sys.getfilesystemencoding().lower() != "utf-8":
        pytest.skip("needs a POSIX file system with UTF-8 names")
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff.py"), "w") as fh:
        fh.write(BUGGY)
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--isolated", "--no-cache", "--diff", "."],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert b"Traceback" not in proc.stderr
    out = proc.stdout.decode("utf-8")
    assert "--- a/bad\\xff.py" in out and "+++ b/bad\\xff.py" in out


def test_syntax_trees_from_workers_cannot_carry_code(tmp_path: Path) -> None:
    import pickle

    import libcst as cst

    from trainlint import tree_transfer

    tree = cst.parse_module("import torch\nx = torch.zeros(3)  # kept\n")
    assert tree_transfer.load(tree_transfer.dump(tree)).code == tree.code
    marker = tmp_path / "EXECUTED"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for evil in (Payload(), [tree, Payload()], {"a": 1}):
        with pytest.raises(pickle.UnpicklingError):
            tree_transfer.load(pickle.dumps(evil))

    def text(x: str) -> bytes:
        return pickle.SHORT_BINUNICODE + bytes([len(x)]) + x.encode()

    # libcst's own modules import os and subprocess, and hold helpers that run commands.
    for module, name, args in [
        ("libcst.codemod._cli", "os.system", text(f"touch {marker}") + pickle.TUPLE1),
        (
            "libcst.codemod._cli",
            "invoke_formatter",
            pickle.MARK + text("touch") + text(str(marker)) + pickle.LIST + text("") + pickle.TUPLE2,
        ),
        ("libcst", "parse_module", text("x = 1") + pickle.TUPLE1),
    ]:
        payload = b"\x80\x04" + text(module) + text(name) + pickle.STACK_GLOBAL + args + pickle.REDUCE + pickle.STOP
        with pytest.raises(pickle.UnpicklingError):
            tree_transfer.load(payload)
    # The node builder only fills in the fields of a libcst node class, all of them.
    node = text("trainlint.tree_transfer") + text("_node") + pickle.STACK_GLOBAL
    for cls, values in [
        (text("libcst._maybe_sentinel") + text("MaybeSentinel"), pickle.EMPTY_TUPLE),
        (text("libcst._nodes.expression") + text("Name"), text("x") + pickle.TUPLE1),
        (text("libcst._nodes.expression") + text("Name"), text("x") + pickle.EMPTY_LIST + pickle.TUPLE2),
    ]:
        payload = b"\x80\x04" + node + cls + pickle.STACK_GLOBAL + values + pickle.TUPLE2 + pickle.REDUCE
        with pytest.raises(pickle.UnpicklingError):
            tree_transfer.load(payload + pickle.STOP)
    assert not marker.exists()


def test_python_m_inside_the_project_does_not_import_its_modules(tmp_path: Path) -> None:
    marker = tmp_path / "EXECUTED"
    (tmp_path / "click.py").write_text(_payload(marker))
    (tmp_path / "train.py").write_text(BUGGY)
    subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--no-cache", "."], cwd=tmp_path, capture_output=True, timeout=120
    )
    assert not marker.exists()
