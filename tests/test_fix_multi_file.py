"""Fixes that edit another file than the finding's: the softmax (sigmoid) is in the model's
`forward` in `models.py` while the loss that it wrongly feeds is in `train.py`. The fix is
stated with a path on each edit (JSON), one SARIF `artifactChange` per file and one LSP
`WorkspaceEdit`; `--fix` applies it only when every file it edits is being fixed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from click.testing import CliRunner

from trainlint.cli import main
from trainlint.config import Settings
from trainlint.fixes.apply import FileState, FixRecord, FixRun, fix_sources, write_changes
from trainlint.testing import lint_files

MODELS = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)
"""

TRAIN = """\
import torch
import torch.nn as nn

from models import Net

model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = nn.CrossEntropyLoss()
for step in range(3):
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
"""

# The same shape for the two other losses whose activation the fix drops or changes.
CASES = {
    "TL201": (MODELS, TRAIN, "        return self.fc(x)\n"),
    "TL202": (
        MODELS.replace("F.softmax(self.fc(x), dim=1)", "torch.sigmoid(self.fc(x))").replace(
            "import torch.nn as nn", "import torch\nimport torch.nn as nn"
        ),
        TRAIN.replace("nn.CrossEntropyLoss()", "nn.BCEWithLogitsLoss()").replace(
            "torch.randint(0, 3, (8,))", "torch.rand(8, 3)"
        ),
        "        return self.fc(x)\n",
    ),
    "TL204": (
        MODELS,
        TRAIN.replace("nn.CrossEntropyLoss()", "nn.NLLLoss()"),
        "        return F.log_softmax(self.fc(x), dim=1)\n",
    ),
}


def _project(tmp_path: Path, models: str = MODELS, train: str = TRAIN) -> Path:
    (tmp_path / "models.py").write_text(models)
    (tmp_path / "train.py").write_text(train)
    return tmp_path


def _run(tmp_path: Path, *args: str) -> "object":
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(main, ["check", "--isolated", "--no-cache", *args])
    finally:
        os.chdir(old)


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_fix_edits_the_model_file_and_the_finding_goes(code: str) -> None:
    models, train, fixed_line = CASES[code]
    found = [d for d in lint_files({"models.py": models, "train.py": train}) if d.code == code]
    assert len(found) == 1 and found[0].path == "train.py"
    fix = found[0].fix
    assert fix is not None and fix.paths("train.py") == ["models.py"]
    assert all(e.path == "models.py" for e in fix.edits)

    run = fix_sources({"models.py": models, "train.py": train}, Settings(), unsafe=True)
    assert [r.code for r in run.applied] == [code] and run.applied[0].paths == ("models.py",)
    new_models = run.files["models.py"].data.decode()
    assert fixed_line in new_models
    assert run.files["train.py"].data.decode() == train
    assert code not in [d.code for d in run.result.diagnostics]


def test_json_puts_the_path_on_every_edit(tmp_path: Path) -> None:
    res = _run(_project(tmp_path), "--output-format", "json", ".")
    (d,) = [d for d in json.loads(res.stdout)["diagnostics"] if d["code"] == "TL201"]
    assert d["path"] == "train.py"
    assert d["fix"]["applicability"] == "unsafe"
    assert [e["path"] for e in d["fix"]["edits"]] == ["models.py"]
    assert d["fix"]["edits"][0]["line"] == 11


def test_cli_fix_writes_the_other_file(tmp_path: Path) -> None:
    _project(tmp_path)
    hint = _run(tmp_path, ".")
    assert "1 more with `--fix --unsafe-fixes`" in hint.stderr
    res = _run(tmp_path, "--fix", "--unsafe-fixes", ".")
    assert "Fixed 1 problem" in res.stderr
    assert (tmp_path / "models.py").read_text() == MODELS.replace("F.softmax(self.fc(x), dim=1)", "self.fc(x)")
    assert (tmp_path / "train.py").read_text() == TRAIN


def test_no_fix_offered_or_applied_when_the_other_file_is_only_context(tmp_path: Path) -> None:
    """`check train.py` analyses models.py (imported) but was not asked to change it."""
    _project(tmp_path)
    res = _run(tmp_path, "--output-format", "json", "train.py")
    (d,) = [d for d in json.loads(res.stdout)["diagnostics"] if d["code"] == "TL201"]
    assert d["fix"] is None
    assert "fixable" not in _run(tmp_path, "train.py").stderr
    res = _run(tmp_path, "--fix", "--unsafe-fixes", "train.py")
    assert "which is not among the files being fixed" in res.stderr
    assert (tmp_path / "models.py").read_text() == MODELS


def test_checking_the_model_file_alone_fixes_it(tmp_path: Path) -> None:
    """What pre-commit runs when only models.py changed: the loss's finding in train.py is
    reported for models.py, and its fix edits only models.py, so `--fix` applies it."""
    _project(tmp_path)
    res = _run(tmp_path, "--output-format", "json", "models.py")
    (d,) = [d for d in json.loads(res.stdout)["diagnostics"] if d["code"] == "TL201"]
    assert d["path"] == "train.py" and [e["path"] for e in d["fix"]["edits"]] == ["models.py"]
    res = _run(tmp_path, "--fix", "--unsafe-fixes", "models.py")
    assert "Fixed 1 problem" in res.stderr
    assert "F.softmax" not in (tmp_path / "models.py").read_text()
    assert (tmp_path / "train.py").read_text() == TRAIN


def test_sarif_has_one_artifact_change_per_edited_file(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
    res = _run(_project(tmp_path), "--output-format", "sarif", ".")
    doc = json.loads(res.stdout)
    assert not list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    (result,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "TL201"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "train.py"
    (change,) = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "models.py"
    assert change["replacements"][0]["deletedRegion"]["startLine"] == 11


def test_lsp_quick_fix_is_one_workspace_edit_over_both_files(tmp_path: Path) -> None:
    pytest.importorskip("pygls")
    from lsprotocol import types as lsp
    from pygls.workspace import TextDocument

    from trainlint.lsp import Published, code_actions, lint_text, to_lsp

    _project(tmp_path)
    path = str(tmp_path / "train.py")
    found, _ = lint_text(path, TRAIN, {})
    (d,) = [d for d in found if d.code == "TL201"]
    uri = Path(path).as_uri()
    doc = TextDocument(uri, TRAIN)
    ld = to_lsp(d, doc, uri)
    actions = code_actions(doc, Published(1, [(d, ld)]), uri, ld.range)
    fixes = [a for a in actions if "noqa" not in a.title]
    assert len(fixes) == 1 and fixes[0].edit is not None and fixes[0].edit.changes is not None
    models_uri = (tmp_path / "models.py").as_uri()
    assert list(fixes[0].edit.changes) == [models_uri]
    (edit,) = fixes[0].edit.changes[models_uri]
    assert edit.range.start == lsp.Position(line=10, character=0)
    assert edit.new_text == "        return self.fc(x)"


def test_files_one_fix_edits_are_written_together_or_not_at_all(tmp_path: Path) -> None:
    """If one of them changed on disk meanwhile, none is written."""
    a, b, c = (tmp_path / n for n in ("a.py", "b.py", "c.py"))
    for p in (a, b, c):
        p.write_text("x = 1\n")
    states: Dict[str, FileState] = {}
    for p in (a, b, c):
        st = os.stat(p)
        states[str(p)] = FileState(str(p), b"x = 1\n", b"x = 2\n", st.st_mtime_ns, st.st_size)
    run = FixRun(files=states)
    run.applied = [
        FixRecord(str(a), "TL201", "n", "d", "unsafe", paths=(str(a), str(b))),
        FixRecord(str(c), "TL101", "n", "d", "safe", paths=(str(c),)),
    ]
    b.write_text("x = 3  # saved in the editor meanwhile\n")
    warnings: List[str] = write_changes(run)
    assert a.read_text() == "x = 1\n"  # held back with b
    assert b.read_text().startswith("x = 3")
    assert c.read_text() == "x = 2\n"
    assert len(warnings) == 2 and any("fixed with a file that changed on disk" in w for w in warnings)


@pytest.mark.skipif(sys.platform == "win32", reason="paths in the messages are POSIX")
def test_the_dropped_reason_names_the_file(tmp_path: Path) -> None:
    _project(tmp_path)
    res = _run(tmp_path, "--fix", "--unsafe-fixes", "train.py")
    assert "it edits models.py" in res.stderr


# ---------------------------------------------------------------------------- unreachable code

DEAD = """\
def f(x):
    if False:
        x = 1
    if True:
        x = 2
    else:
        x = 3
    for i in range(3):
        continue
        x = 4
    return x
    x = 5
"""


def _facts():  # type: ignore[no-untyped-def]
    import libcst as cst

    from trainlint.analysis.facts import build_facts

    return build_facts("m.py", "m", DEAD, cst.parse_module(DEAD))


def _assignments(module):  # type: ignore[no-untyped-def]
    import libcst as cst

    from trainlint.analysis.walk import walk

    return {
        n.value.value: n for n in walk(module.tree) if isinstance(n, cst.Assign) and isinstance(n.value, cst.Integer)
    }


def test_no_fix_edits_code_that_never_runs() -> None:
    import libcst as cst

    from trainlint.fixes.core import SAFE, make_fix, unreachable

    module = _facts()
    by_value = _assignments(module)
    assert {v for v, n in by_value.items() if unreachable(module, n)} == {"1", "3", "4", "5"}
    for value, node in by_value.items():
        fix = make_fix(module, {node.value: cst.Integer("9")}, SAFE, "change it")
        assert (fix is None) == (value in {"1", "3", "4", "5"}), value


def test_no_fix_inserts_a_statement_after_a_return() -> None:
    import libcst as cst

    from trainlint.fixes.core import SAFE, make_fix

    module = _facts()
    ret = next(
        s
        for s in module.tree.body[0].body.body
        if isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Return)
    )
    new = cst.parse_statement("print(x)\n")
    assert make_fix(module, {ret: cst.FlattenSentinel([ret, new])}, SAFE, "after") is None
    assert make_fix(module, {ret: cst.FlattenSentinel([new, ret])}, SAFE, "before") is not None
