"""`check --add-noqa`: a `# noqa: CODE` comment for every finding, where trainlint reads it."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import List

from click.testing import CliRunner, Result

from tests.conftest import BUGGY, CLEAN
from trainlint import suppressions
from trainlint.add_noqa import add_noqa
from trainlint.cli import main
from trainlint.diagnostics import Diagnostic, Severity, Span

SOFTMAX_LINE = "    loss = crit(torch.softmax(model(x), dim=1), y)"
TWO_BUGS = BUGGY.replace("    loss = crit(model(x), y)", SOFTMAX_LINE)


def run(args: List[str], cwd: Path) -> Result:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, ["check", "--no-cache", *args], catch_exceptions=False)
    finally:
        os.chdir(old)


def finding(path: Path, line: int, code: str = "TL101") -> Diagnostic:
    return Diagnostic(code, "missing-zero-grad", Severity.ERROR, "m", str(path), Span(line, 1, line, 2))


def notebook(*sources: object) -> str:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s} for s in sources
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


def test_comments_hide_every_finding_and_a_second_run_adds_none(write_tree):
    root = write_tree({"train.py": TWO_BUGS, "other.py": BUGGY})
    res = run(["--add-noqa"], root)
    assert res.exit_code == 0, res.output
    assert "Added 3 noqa directives to 2 files." in res.output
    text = (root / "train.py").read_text()
    assert f"{SOFTMAX_LINE}  # noqa: TL201\n" in text and "    loss.backward()  # noqa: TL101\n" in text
    ast.parse(text)
    after = run([], root)
    assert after.exit_code == 0, after.output
    assert "3 suppressed" in after.output
    again = run(["--add-noqa"], root)
    assert "Added 0 noqa directives to 0 files." in again.output
    assert (root / "train.py").read_text() == text


def test_an_existing_noqa_comment_gets_the_code_added(write_tree):
    root = write_tree({"train.py": BUGGY.replace("loss.backward()", "loss.backward()  # noqa: E501 (long)")})
    assert run(["--add-noqa"], root).exit_code == 0
    assert "    loss.backward()  # noqa: E501, TL101 (long)\n" in (root / "train.py").read_text()
    assert run([], root).exit_code == 0


def test_another_comment_is_kept_and_the_noqa_follows_it(write_tree):
    root = write_tree({"train.py": BUGGY.replace("loss.backward()", "loss.backward()  # type: ignore")})
    assert run(["--add-noqa"], root).exit_code == 0
    assert "    loss.backward()  # type: ignore  # noqa: TL101\n" in (root / "train.py").read_text()
    assert run([], root).exit_code == 0


def test_two_codes_on_one_line_share_a_comment(tmp_path: Path):
    path = tmp_path / "t.py"
    path.write_text("x = 1\n")
    report = add_noqa([finding(path, 1, "TL201"), finding(path, 1, "TL101")], [str(path)])
    assert report.added == 2 and report.left == []
    assert path.read_text() == "x = 1  # noqa: TL101, TL201\n"


def test_a_line_ending_inside_a_string_gets_no_comment_the_statement_end_does(tmp_path: Path):
    path = tmp_path / "t.py"
    path.write_text('x = f("""first\nsecond""",\n      3)\ny = 1 + \\\n    2\n')
    report = add_noqa([finding(path, 1), finding(path, 4)], [str(path)])
    assert report.left == []
    text = path.read_text()
    assert text == 'x = f("""first\nsecond""",\n      3)  # noqa: TL101\ny = 1 + \\\n    2  # noqa: TL101\n'
    ast.parse(text)
    sup = suppressions.parse(text)
    assert sup.suppresses("TL101", 1, 1, 3) and sup.suppresses("TL101", 4, 4, 5)


def test_a_noqa_inside_a_string_would_be_misread_so_the_file_is_left(tmp_path: Path):
    path = tmp_path / "t.py"
    original = 's = "# noqa: E1"; loss = 1\n'
    path.write_text(original)
    report = add_noqa([finding(path, 1)], [str(path)])
    assert report.added == 0 and len(report.left) == 1
    assert "would not be read" in report.left[0][1]
    assert path.read_text() == original


def test_encoding_bom_and_newlines_are_kept(tmp_path: Path):
    path = tmp_path / "t.py"
    path.write_bytes(b"\xef\xbb\xbf# caf\xc3\xa9\r\nx = 1\r\ny = 2\r\n")
    report = add_noqa([finding(path, 2)], [str(path)])
    assert report.added == 1
    assert path.read_bytes() == b"\xef\xbb\xbf# caf\xc3\xa9\r\nx = 1  # noqa: TL101\r\ny = 2\r\n"


def test_syntax_errors_and_files_not_checked_are_left(write_tree):
    root = write_tree({"broken.py": "def f(:\n"})
    res = run(["--add-noqa"], root)
    assert res.exit_code == 1
    assert "broken.py:1:7: TL001 left without a noqa comment" in res.output
    assert (root / "broken.py").read_text() == "def f(:\n"
    path = root / "elsewhere.py"
    path.write_text("x = 1\n")
    report = add_noqa([finding(path, 1)], [])
    assert report.left[0][1] == "the file was not among those checked"


def test_a_notebook_gets_the_comment_in_its_cell_and_nothing_else_changes(write_tree):
    setup, loop = CLEAN.split("for step")
    loop = "for step" + loop.replace("    opt.zero_grad()\n", "")
    one_line = loop.rstrip("\n").replace("loss.backward()\n    opt.step()", "loss.backward(); opt.step()")
    cases = [
        # the loop cell as a list of lines; as one string whose last line, reported, has no line end
        (loop.splitlines(True), r'"    loss.backward()\n"', r'"    loss.backward()  # noqa: TL101\n"'),
        (one_line, 'opt.step()"', 'opt.step()  # noqa: TL101"'),
    ]
    for source, old, new in cases:
        root = write_tree({"nb.ipynb": notebook(setup, "%matplotlib inline", source)})
        before = (root / "nb.ipynb").read_text()
        res = run(["--add-noqa"], root)
        assert res.exit_code == 0, res.output
        assert before.count(old) == 1
        assert (root / "nb.ipynb").read_text() == before.replace(old, new)
        assert run([], root).exit_code == 0


def test_with_a_baseline_only_the_new_findings_get_a_comment(write_tree):
    root = write_tree({"train.py": BUGGY})
    assert run(["--baseline", "b.json", "--update-baseline"], root).exit_code == 0
    (root / "train.py").write_text(TWO_BUGS)
    assert run(["--baseline", "b.json", "--add-noqa"], root).exit_code == 0
    text = (root / "train.py").read_text()
    assert "# noqa: TL201" in text and "TL101" not in text
    assert run(["--baseline", "b.json"], root).exit_code == 0


def test_add_noqa_with_fix_is_a_usage_error(write_tree):
    root = write_tree({"train.py": BUGGY})
    res = run(["--add-noqa", "--fix"], root)
    assert res.exit_code == 2 and "cannot be combined" in res.output
    assert (root / "train.py").read_text() == BUGGY
