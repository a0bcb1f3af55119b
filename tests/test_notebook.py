"""Jupyter notebooks: code cells linted as one program, findings placed by cell and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainlint.config import Settings
from trainlint.notebook import notebook_source
from trainlint.pipeline import check_paths
from trainlint.source import SourceError

SETUP_CELL = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.MSELoss()"""

LOOP_CELL = """\
for step in range(10):
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()"""


def code(source: Union[str, List[str]]) -> Dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def markdown(source: str) -> Dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def as_lines(text: str) -> List[str]:
    """The list-of-strings form Jupyter itself writes."""
    return text.splitlines(keepends=True)


def notebook(*cells: Dict[str, Any], language: str = "python") -> Dict[str, Any]:
    return {
        "cells": list(cells),
        "metadata": {"kernelspec": {"name": "python3", "language": language}, "language_info": {"name": language}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write(tmp_path: Path, nb: Dict[str, Any], name: str = "nb.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(nb, indent=1))
    return path


def check(path: Path, **kw: Any):
    return check_paths([str(path)], Settings(root=str(path.parent)), **kw)


def test_cross_cell_finding_gets_the_loops_cell_and_line(tmp_path: Path) -> None:
    nb = write(
        tmp_path, notebook(code(as_lines(SETUP_CELL)), markdown("# Training\nThe loop."), code(as_lines(LOOP_CELL)))
    )
    (d,) = check(nb).diagnostics
    assert d.code == "TL101" and d.cell == 3
    assert (d.span.line, d.span.column) == (4, 5)  # `loss.backward()` is line 4 of cell 3
    assert [(r.path, r.cell, r.line) for r in d.related] == [(str(nb), 3, 5)]


def test_text_output_names_the_cell(tmp_path: Path) -> None:
    write(tmp_path, notebook(code(SETUP_CELL), markdown("text"), code(LOOP_CELL)))
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "nb.ipynb", "--isolated"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith("nb.ipynb:cell 3:4:5: TL101")


def test_string_and_list_sources_are_the_same_program() -> None:
    as_str = notebook_source(json.dumps(notebook(code(SETUP_CELL), code(LOOP_CELL))).encode())
    as_list = notebook_source(json.dumps(notebook(code(as_lines(SETUP_CELL)), code(as_lines(LOOP_CELL)))).encode())
    assert as_str[0] == as_list[0] == SETUP_CELL + "\n" + LOOP_CELL + "\n"


def test_markdown_and_raw_cells_add_no_lines() -> None:
    nb = notebook(
        markdown("# title\nmore"), {"cell_type": "raw", "metadata": {}, "source": "x y z"}, code("a = 1\nb = 2")
    )
    text, line_map = notebook_source(json.dumps(nb).encode())
    assert text == "a = 1\nb = 2\n"
    assert line_map(1) == (3, 1) and line_map(2) == (3, 2)


def test_magics_and_shell_escapes_keep_every_other_line_in_place(tmp_path: Path) -> None:
    loop = "%load_ext autoreload\n!nvidia-smi\nfiles = !ls\nmodel?\n??optimizer\n%time x = 1\n" + LOOP_CELL
    nb = write(tmp_path, notebook(code("%pip install torch\n" + SETUP_CELL + "\n%matplotlib inline"), code(loop)))
    (d,) = check(nb).diagnostics
    assert d.code == "TL101" and (d.cell, d.span.line) == (2, 10)


def test_cell_magic_neutralises_the_whole_cell_but_time_keeps_python(tmp_path: Path) -> None:
    bash = code("%%bash\nfor f in *.py; do\n  echo $f\ndone")
    timed = code("%%time\n" + LOOP_CELL)
    nb = write(tmp_path, notebook(code(SETUP_CELL), bash, timed))
    (d,) = check(nb).diagnostics
    assert d.code == "TL101" and (d.cell, d.span.line) == (3, 5)
    text, _ = notebook_source(nb.read_bytes())
    assert "echo" not in text


def test_percent_and_bang_inside_python_are_left_alone() -> None:
    src = "x = (10\n% 3)\ns = '''\n%not a magic\n!nor this\n'''\ny = x \\\n% 2\nok = x != 1\n"
    text, _ = notebook_source(json.dumps(notebook(code(src))).encode())
    assert text == src
    compile(text, "nb", "exec")


def test_magic_inside_an_indented_block_stays_valid_python() -> None:
    src = "for i in range(3):\n    !echo $i\n    %time f(i)\n"
    text, _ = notebook_source(json.dumps(notebook(code(src))).encode())
    compile(text, "nb", "exec")
    assert text.splitlines()[0] == "for i in range(3):" and len(text.splitlines()) == 3


def test_noqa_in_a_cell_suppresses_its_finding(tmp_path: Path) -> None:
    loop = LOOP_CELL.replace("loss.backward()", "loss.backward()  # noqa: TL101")
    nb = write(tmp_path, notebook(code(SETUP_CELL), markdown("x"), code(loop)))
    result = check(nb)
    assert result.diagnostics == []
    assert [d.code for d in result.suppressed] == ["TL101"]


def test_syntax_error_is_placed_in_its_cell(tmp_path: Path) -> None:
    nb = write(tmp_path, notebook(code(SETUP_CELL), markdown("x"), code("a = 1\ndef broken(:\n    pass")))
    (d,) = check(nb).diagnostics
    assert d.code == "TL001" and d.cell == 3 and d.span.line == 2


@pytest.mark.parametrize(
    "content",
    [
        '{"cells": [',  # truncated
        "not json at all",
        '["a", "list"]',
        '{"metadata": {}}',
        '{"cells": [{"cell_type": "code", "source": 42}]}',
        '{"cells": [{"cell_type": "code", "source": ["ok", 1]}]}',
        '{"cells": ["not a cell"]}',
        "[" * 100_000,
    ],
)
def test_invalid_notebooks_are_tl001_not_a_crash(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(content)
    result = check(path)
    assert [d.code for d in result.diagnostics] == ["TL001"]
    assert result.internal_errors == 0


def test_invalid_json_position_is_reported() -> None:
    with pytest.raises(SourceError) as exc:
        notebook_source(b'{\n "cells": [\n  {"cell_type": "code",,}\n ]\n}')
    assert (exc.value.line, exc.value.column) == (3, 24)


def test_notebooks_are_found_when_walking_folders(tmp_path: Path) -> None:
    write(tmp_path, notebook(code(SETUP_CELL), code(LOOP_CELL)), "a.ipynb")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write(tmp_path / ".ipynb_checkpoints", notebook(code(SETUP_CELL), code(LOOP_CELL)), "a-checkpoint.ipynb")
    result = check_paths([str(tmp_path)], Settings(root=str(tmp_path)))
    assert [(Path(d.path).name, d.cell) for d in result.diagnostics] == [("a.ipynb", 2)]


def test_other_kernel_languages_are_skipped(tmp_path: Path) -> None:
    nb = write(tmp_path, notebook(code("library(ggplot2)\nx <- c(1, 2)"), language="R"))
    assert check(nb).diagnostics == []


def test_empty_notebook_and_crlf_sources() -> None:
    assert notebook_source(json.dumps(notebook()).encode())[0] == ""
    text, line_map = notebook_source(json.dumps(notebook(code("a = 1\r\nb = 2\r\n"), code("c = 3\rd = 4"))).encode())
    assert text == "a = 1\nb = 2\nc = 3\nd = 4\n"
    assert [line_map(i) for i in range(1, 5)] == [(1, 1), (1, 2), (2, 1), (2, 2)]


_LINES = st.sampled_from(
    ["x = 1", "y = x + 2", "", "# comment", "print(x)", "if x:", "    z = 3", "%time f()", "    !ls", "x?"]
)
_CELLS = st.lists(
    st.tuples(st.sampled_from(["code", "code", "markdown", "raw"]), st.lists(_LINES, max_size=6)), max_size=8
)


@settings(max_examples=200, deadline=None)
@given(_CELLS)
def test_every_program_line_maps_back_to_the_same_text_in_its_cell(cells: List[Any]) -> None:
    nb = notebook(
        *[{"cell_type": kind, "metadata": {}, "source": "".join(s + "\n" for s in lines)} for kind, lines in cells]
    )
    text, line_map = notebook_source(json.dumps(nb).encode())
    program = text.splitlines()
    assert len(program) == sum(len(lines) for kind, lines in cells if kind == "code")
    for n, line in enumerate(program, start=1):
        cell, within = line_map(n)
        assert cell is not None and cells[cell - 1][0] == "code"
        original = cells[cell - 1][1][within - 1]
        if original.lstrip().startswith(("%", "!")) or original.endswith("?"):
            # IPython syntax becomes `pass` at the same indentation.
            assert line == original[: len(original) - len(original.lstrip())] + "pass"
        else:
            assert line == original


def test_every_format_places_a_notebook_finding_on_its_cell_line_in_the_ipynb_text(tmp_path: Path) -> None:
    """JSON gives the cell and the line within it (for related locations too); SARIF and
    GitHub annotations give the line and column in the `.ipynb` file's own text, which is
    what a viewer opens: there they land on the cell's source, at the finding's code."""
    write(tmp_path, notebook(code(as_lines(SETUP_CELL)), markdown("# Training\nThe loop."), code(as_lines(LOOP_CELL))))
    raw = (tmp_path / "nb.ipynb").read_text().splitlines()

    def cli(fmt: str) -> str:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "trainlint",
                "check",
                "--isolated",
                "--no-cache",
                "--output-format",
                fmt,
                "nb.ipynb",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return proc.stdout

    (d,) = json.loads(cli("json"))["diagnostics"]
    assert (d["path"], d["cell"], d["line"], d["column"]) == ("nb.ipynb", 3, 4, 5)
    assert [(r["path"], r["cell"], r["line"]) for r in d["related"]] == [("nb.ipynb", 3, 5)]
    cell_line = LOOP_CELL.splitlines()[3]
    (res,) = json.loads(cli("sarif"))["runs"][0]["results"]
    region = res["locations"][0]["physicalLocation"]["region"]
    at = raw[region["startLine"] - 1]
    assert cell_line.strip() in at and at[region["startColumn"] - 1 :].startswith("loss.backward()")
    assert region["properties"] == {"cell": 3, "cellLine": 4, "cellColumn": 5}
    related = res["relatedLocations"][0]["physicalLocation"]["region"]
    assert raw[related["startLine"] - 1][related["startColumn"] - 1 :].startswith(LOOP_CELL.splitlines()[4].strip())
    annotation = cli("github")
    line = int(annotation.split(",line=")[1].split(",")[0])
    col = int(annotation.split(",col=")[1].split(",")[0])
    assert raw[line - 1][col - 1 :].startswith("loss.backward()")
