"""The `trainlint check` command as a user drives it: exit codes, selection, config, output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import BUGGY, BUGGY_LINE, CLEAN
from trainlint import __version__, registry
from trainlint.cli import main


def run(args, cwd: Path):
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_buggy_file_reports_and_exits_1(write_tree):
    root = write_tree({"train.py": BUGGY})
    res = run(["check", "train.py"], root)
    assert res.exit_code == 1
    assert f"train.py:{BUGGY_LINE}:5: TL101 [missing-zero-grad]" in res.output
    assert "zero_grad()" in res.output


def test_clean_file_exits_0(write_tree):
    root = write_tree({"train.py": CLEAN})
    res = run(["check", "train.py"], root)
    assert res.exit_code == 0, res.output
    assert "TL1" not in res.output


def test_bare_paths_mean_check_and_no_path_means_cwd(write_tree):
    root = write_tree({"pkg/train.py": BUGGY})
    assert run(["pkg"], root).exit_code == 1
    res = run([], root)
    assert res.exit_code == 1
    assert os.path.join("pkg", "train.py") in res.output


def test_exit_zero(write_tree):
    root = write_tree({"train.py": BUGGY})
    assert run(["check", "--exit-zero", "train.py"], root).exit_code == 0


@pytest.mark.parametrize(
    "args, fires",
    [
        (["--select", "TL1"], True),
        (["--select", "TL10"], True),
        (["--select", "TL101"], True),
        (["--select", "ALL"], True),
        (["--select", "TL2"], False),
        (["--ignore", "TL101"], False),
        (["--ignore", "TL1"], False),
        (["--select", "TL1", "--ignore", "TL101"], False),
        (["--select", "TL101", "--ignore", "TL1"], True),  # the more specific selector wins
        (["--select", "TL2", "--extend-select", "TL101"], True),
        (["--select", "TL102,TL101"], True),
    ],
)
def test_select_and_ignore_with_prefixes(write_tree, args, fires):
    root = write_tree({"train.py": BUGGY})
    res = run(["check", *args, "train.py"], root)
    assert ("TL101" in res.output) is fires
    assert res.exit_code == (1 if fires else 0)


def test_unknown_code_in_select_is_a_usage_error(write_tree):
    root = write_tree({"train.py": BUGGY})
    res = run(["check", "--select", "TL999", "train.py"], root)
    assert res.exit_code == 2
    assert "TL999" in res.output


def test_config_select_ignore_and_cli_override(write_tree):
    root = write_tree({"train.py": BUGGY, "pyproject.toml": '[tool.trainlint]\nignore = ["TL101"]\n'})
    assert run(["check", "train.py"], root).exit_code == 0
    assert run(["check", "--isolated", "train.py"], root).exit_code == 1
    # the command line's select replaces the file's; the file's ignore still applies
    assert run(["check", "--select", "TL1", "train.py"], root).exit_code == 0


def test_trainlint_toml_and_explicit_config(write_tree, tmp_path):
    root = write_tree({"train.py": BUGGY, "trainlint.toml": 'select = ["TL2"]\n', "other.toml": "[tool.trainlint]\n"})
    assert run(["check", "train.py"], root).exit_code == 0
    assert run(["check", "--config", "other.toml", "train.py"], root).exit_code == 1


@pytest.mark.parametrize(
    "toml, needle",
    [
        ('[tool.trainlint]\nselct = ["TL1"]\n', "selct"),
        ('[tool.trainlint]\nselect = "TL1"\n', "select"),
        ('[tool.trainlint]\nselect = ["TL777"]\n', "TL777"),
        ('[tool.trainlint]\nper-file-ignores = { "a.py" = ["XX1"] }\n', "XX1"),
        ("[tool.trainlint\n", "invalid TOML"),
    ],
)
def test_bad_config_exits_2_naming_key_and_file(write_tree, toml, needle):
    root = write_tree({"train.py": BUGGY, "pyproject.toml": toml})
    res = run(["check", "train.py"], root)
    assert res.exit_code == 2
    assert needle in res.output
    assert "pyproject.toml" in res.output


def test_per_file_ignores(write_tree):
    root = write_tree(
        {
            "scripts/train.py": BUGGY,
            "src/train.py": BUGGY,
            "pyproject.toml": '[tool.trainlint]\nper-file-ignores = { "scripts/*" = ["TL1"] }\n',
        }
    )
    res = run(["check", "."], root)
    assert "src/train.py" in res.output
    assert "scripts/train.py" not in res.output


def test_exclude_and_force_exclude(write_tree):
    root = write_tree(
        {
            "gen/train.py": BUGGY,
            "ok.py": CLEAN,
            ".venv/lib/train.py": BUGGY,
            "pyproject.toml": '[tool.trainlint]\nextend-exclude = ["gen"]\n',
        }
    )
    assert run(["check", "."], root).exit_code == 0  # gen/ and .venv/ skipped when walking
    assert run(["check", "gen/train.py"], root).exit_code == 1  # named explicitly: checked
    assert run(["check", "--force-exclude", "gen/train.py"], root).exit_code == 0


def test_noqa_suppresses_and_is_counted(write_tree):
    src = BUGGY.replace("loss.backward()", "loss.backward()  # noqa: TL101")
    root = write_tree({"train.py": src})
    res = run(["check", "--output-format", "json", "train.py"], root)
    data = json.loads(res.stdout)
    assert data["diagnostics"] == []
    assert data["summary"]["suppressed"] == 1
    stats = run(["check", "--statistics", "train.py"], root)
    assert "TL101" in stats.output and "1 suppressed" in stats.output
    assert stats.output.splitlines()[-1].split() == ["0", "problems", "in", "total", "(1", "suppressed)"]


def test_statistics_end_with_the_total(write_tree):
    root = write_tree({"train.py": BUGGY, "other.py": BUGGY})
    lines = run(["check", "--statistics", "."], root).output.splitlines()
    assert lines[-1].split() == ["2", "problems", "in", "total"]


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.replace("loss.backward()", "loss.backward()  # noqa"),
        lambda s: s.replace("loss.backward()", "loss.backward()  # noqa: TL102, TL101"),
        lambda s: "# trainlint: noqa\n" + s,
        lambda s: "# trainlint: noqa: TL101\n" + s,
    ],
)
def test_noqa_forms(write_tree, edit):
    root = write_tree({"train.py": edit(BUGGY)})
    assert run(["check", "train.py"], root).exit_code == 0


def test_noqa_for_other_code_does_not_suppress(write_tree):
    root = write_tree({"train.py": BUGGY.replace("loss.backward()", "loss.backward()  # noqa: TL102")})
    assert run(["check", "train.py"], root).exit_code == 1


def test_noqa_on_last_line_of_multiline_statement(write_tree):
    src = BUGGY.replace("loss.backward()", "loss.backward(\n        )  # noqa: TL101")
    root = write_tree({"train.py": src})
    assert run(["check", "train.py"], root).exit_code == 0


def test_json_output_follows_the_contract(write_tree):
    root = write_tree({"train.py": BUGGY})
    res = run(["check", "--output-format", "json", "train.py"], root)
    data = json.loads(res.stdout)
    assert data["version"] == __version__
    assert set(data["summary"]) >= {"files", "diagnostics", "errors"}
    assert data["summary"]["files"] == 1
    (d,) = data["diagnostics"]
    assert set(d) >= {
        "code",
        "name",
        "severity",
        "message",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "status",
        "related",
        "fix",
        "evidence",
    }
    assert (d["code"], d["name"], d["severity"], d["status"]) == ("TL101", "missing-zero-grad", "error", "suspected")
    assert (d["path"], d["line"], d["column"], d["end_line"]) == ("train.py", BUGGY_LINE, 5, BUGGY_LINE)
    assert d["end_column"] == 5 + len("loss.backward()")
    assert d["related"] and d["related"][0]["line"] == BUGGY_LINE + 1
    assert d["evidence"] is None


def test_syntax_error_is_a_diagnostic_and_run_goes_on(write_tree):
    root = write_tree({"a_broken.py": "def f(:\n    pass\n", "train.py": BUGGY})
    res = run(["check", "--output-format", "json", "."], root)
    assert res.exit_code == 1
    found = {(d["path"], d["code"]) for d in json.loads(res.stdout)["diagnostics"]}
    assert ("a_broken.py", "TL001") in found
    assert ("train.py", "TL101") in found
    tl001 = next(d for d in json.loads(res.stdout)["diagnostics"] if d["code"] == "TL001")
    assert tl001["line"] == 1


def test_non_utf8_with_and_without_cookie(write_tree, tmp_path):
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n" + BUGGY.encode())
    (tmp_path / "bad.py").write_bytes(b"name = '\xe9t\xe9'\n")
    res = run(["check", "--output-format", "json", "."], tmp_path)
    diags = json.loads(res.stdout)["diagnostics"]
    assert {(d["path"], d["code"]) for d in diags} == {("latin.py", "TL101"), ("bad.py", "TL001")}


def test_empty_file_and_empty_folder(write_tree, tmp_path):
    (tmp_path / "empty.py").write_text("")
    assert run(["check", "empty.py"], tmp_path).exit_code == 0
    (tmp_path / "nothing").mkdir()
    assert run(["check", "nothing"], tmp_path).exit_code == 0


def test_a_missing_path_is_a_usage_error(tmp_path):
    (tmp_path / "train.py").write_text(BUGGY)
    res = run(["check", "train.py", "nope.py"], tmp_path)
    assert res.exit_code == 2
    assert "no such file or folder: nope.py" in res.output and "TL101" not in res.output


def test_folder_of_2000_files(tmp_path):
    for i in range(2000):
        (tmp_path / f"m{i:04d}.py").write_text(CLEAN if i % 500 else BUGGY)
    res = run(["check", "--output-format", "json", "."], tmp_path)
    data = json.loads(res.stdout)
    assert data["summary"]["files"] == 2000
    assert sorted(d["path"] for d in data["diagnostics"]) == ["m0000.py", "m0500.py", "m1000.py", "m1500.py"]


def test_checker_never_executes_linted_code(tmp_path):
    marker = tmp_path / "EXECUTED"
    payload = f"import pathlib, sys\npathlib.Path({str(marker)!r}).write_text('x')\nsys.exit(7)\n"
    for name in ("train.py", "__init__.py", "setup.py", "conftest.py", "__main__.py"):
        (tmp_path / name).write_text(payload + BUGGY)
    res = run(["check", "."], tmp_path)
    assert res.exit_code == 1
    assert not marker.exists()


def test_rules_command_lists_every_rule():
    res = CliRunner().invoke(main, ["rules", "--output-format", "json"])
    rows = json.loads(res.output)
    assert [r["code"] for r in rows] == list(registry.RULES)
    assert all({"code", "name", "family", "default", "fixable", "summary"} <= set(r) for r in rows)
    text = CliRunner().invoke(main, ["rules"]).output
    assert "TL101  missing-zero-grad" in text


def test_explain_by_code_and_name_and_unknown():
    res = CliRunner().invoke(main, ["explain", "TL101"])
    assert res.exit_code == 0 and "# TL101 missing-zero-grad" in res.output
    assert CliRunner().invoke(main, ["explain", "missing-zero-grad"]).output == res.output
    bad = CliRunner().invoke(main, ["explain", "TL999"])
    assert bad.exit_code == 2 and "unknown rule" in bad.output


def test_no_color_when_piped_or_no_color(write_tree):
    root = write_tree({"train.py": BUGGY})
    env = dict(os.environ, FORCE_COLOR="1")
    colored = subprocess.run(
        [sys.executable, "-m", "trainlint", "train.py"], cwd=root, capture_output=True, text=True, env=env
    )
    assert "\033[" in colored.stdout
    env["NO_COLOR"] = "1"
    plain = subprocess.run(
        [sys.executable, "-m", "trainlint", "train.py"], cwd=root, capture_output=True, text=True, env=env
    )
    assert plain.returncode == 1 and "\033[" not in plain.stdout
    assert "Found 1 problem" in plain.stderr


def test_version():
    res = CliRunner().invoke(main, ["--version"])
    assert __version__ in res.output


def test_unknown_output_format(write_tree):
    root = write_tree({"train.py": BUGGY})
    res = run(["check", "--output-format", "xml", "train.py"], root)
    assert res.exit_code == 2
