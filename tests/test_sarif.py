"""`--output-format sarif`: valid SARIF 2.1.0 that code scanning can track across commits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from trainlint import __version__, registry
from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic, Edit, Fix, Related, Severity, Span
from trainlint.pages import page_for
from trainlint.pipeline import check_paths
from trainlint.report import sarif

jsonschema = pytest.importorskip("jsonschema")

# The official OASIS schema (2.1.0 with errata 01), kept next to the tests.
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

BUGGY = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.MSELoss()

for step in range(10):
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
"""

SETUP_CELL = "\n".join(BUGGY.splitlines()[:6])
LOOP_CELL = "\n".join(BUGGY.splitlines()[7:])


def _schema() -> Dict[str, Any]:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _validate(doc: Dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def _notebook(*sources: str) -> str:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s} for s in sources
    ]
    cells.insert(1, {"cell_type": "markdown", "metadata": {}, "source": "## Training"})
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(BUGGY)
    (tmp_path / "nb.ipynb").write_text(_notebook(SETUP_CELL, LOOP_CELL))
    (tmp_path / "broken.py").write_text("def broken(:\n")
    return tmp_path


def _run(paths: List[str]) -> CheckResult:
    return check_paths(paths, Settings(root=os.getcwd()))


def _with_fix(result: CheckResult) -> CheckResult:
    """Make sure at least one finding carries a fix, whatever the rules offer today."""
    d = next(d for d in result.diagnostics if d.code == "TL101" and d.cell is None)
    if d.fix is None:
        line = d.span.line
        d.fix = Fix(
            "safe", "clear the gradients before backward()", [Edit(line, 5, line, 5, "optimizer.zero_grad()\n    ")]
        )
    return result


def test_real_run_validates_against_the_sarif_schema(project: Path) -> None:
    doc = sarif.as_dict(_with_fix(_run(["."])))
    _validate(doc)
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"TL001", "TL101"}
    assert any("fixes" in r for r in results)
    assert any("relatedLocations" in r for r in results)
    assert any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "nb.ipynb" for r in results)


def test_driver_describes_every_rule_with_its_page(project: Path) -> None:
    driver = sarif.as_dict(_run(["train.py"]))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "trainlint" and driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    by_id = {r["id"]: r for r in driver["rules"]}
    assert set(by_id) == set(registry.RULES)
    for code, info in registry.RULES.items():
        rule = by_id[code]
        assert rule["name"] == info.name
        assert rule["shortDescription"]["text"] == info.summary
        page = page_for(code)
        if page is not None:
            assert rule["help"]["markdown"] == page
        assert rule["help"]["text"]


def test_result_location_level_and_related(project: Path) -> None:
    doc = sarif.as_dict(_run(["train.py"]))
    run = doc["runs"][0]
    (res,) = run["results"]
    assert res["ruleId"] == "TL101" and res["level"] == "error"
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == "TL101"
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 11, "startColumn": 5, "endLine": 11, "endColumn": 20}
    (rel,) = res["relatedLocations"]
    assert rel["physicalLocation"]["region"]["startLine"] == 12 and rel["message"]["text"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path.cwd().as_uri() + "/"


def test_notebook_results_name_their_cell(project: Path) -> None:
    (res,) = sarif.as_dict(_run(["nb.ipynb"]))["runs"][0]["results"]
    region = res["locations"][0]["physicalLocation"]["region"]
    # The region is in the notebook's JSON text (here all on one line); the cell position is kept.
    raw = (project / "nb.ipynb").read_text().splitlines()
    assert raw[region["startLine"] - 1][region["startColumn"] - 1 :].startswith("loss.backward()")
    assert region["properties"] == {"cell": 3, "cellLine": 4, "cellColumn": 5}
    assert res["properties"]["cell"] == 3
    assert "cell 3" in res["message"]["text"]
    rel_region = res["relatedLocations"][0]["physicalLocation"]
    assert rel_region["artifactLocation"]["uri"] == "nb.ipynb" and rel_region["region"]["properties"]["cell"] == 3


def test_fix_becomes_a_sarif_fix_with_the_same_edits(project: Path) -> None:
    d = Diagnostic("TL101", "missing-zero-grad", Severity.ERROR, "m", "train.py", Span(11, 5, 11, 20))
    d.fix = Fix("safe", "add zero_grad", [Edit(11, 5, 11, 5, "optimizer.zero_grad()\n    "), Edit(12, 1, 13, 1, "")])
    (res,) = sarif.as_dict(CheckResult(diagnostics=[d], files=1))["runs"][0]["results"]
    (fix,) = res["fixes"]
    assert fix["description"]["text"] == "add zero_grad"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "train.py"
    got = [(r["deletedRegion"], r["insertedContent"]["text"]) for r in change["replacements"]]
    assert got == [
        ({"startLine": 11, "startColumn": 5, "endLine": 11, "endColumn": 5}, "optimizer.zero_grad()\n    "),
        ({"startLine": 12, "startColumn": 1, "endLine": 13, "endColumn": 1}, ""),
    ]


def test_levels_follow_severity() -> None:
    diags = [
        Diagnostic("TL101", "missing-zero-grad", sev, "m", "a.py", Span(1, 1, 1, 2))
        for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    ]
    results = sarif.as_dict(CheckResult(diagnostics=diags))["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]


def _fingerprints(path: str = "train.py") -> Dict[int, str]:
    results = sarif.as_dict(_run([path]))["runs"][0]["results"]
    return {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]: r["partialFingerprints"][sarif.FINGERPRINT_KEY]
        for r in results
    }


def test_fingerprint_survives_code_inserted_above(project: Path) -> None:
    before = _fingerprints()
    (project / "train.py").write_text('"""Train a tiny model."""\n\nimport os\n' + BUGGY)
    after = _fingerprints()
    assert list(before) != list(after)  # the finding moved...
    assert list(before.values()) == list(after.values())  # ...and is still the same alert


def test_identical_findings_get_distinct_fingerprints(project: Path) -> None:
    loop = BUGGY.split("\n\n")[-1]
    (project / "train.py").write_text(BUGGY + "\n" + loop)
    prints = _fingerprints()
    assert len(prints) == 2 and len(set(prints.values())) == 2
    (project / "other.py").write_text(BUGGY)
    assert set(_fingerprints("other.py").values()).isdisjoint(prints.values())


def test_cli_sarif_output(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--isolated", "--output-format", "sarif", "train.py", "nb.ipynb"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    _validate(doc)
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["TL101", "TL101"]


def test_paths_become_uri_references(tmp_path: Path) -> None:
    weird = "dir with space/a#b.py"
    d = Diagnostic("TL101", "missing-zero-grad", Severity.ERROR, "m", weird, Span(1, 1, 1, 2))
    absolute = Diagnostic("TL101", "missing-zero-grad", Severity.ERROR, "m", str(tmp_path / "x.py"), Span(1, 1, 1, 2))
    doc = sarif.as_dict(CheckResult(diagnostics=[d, absolute]))
    _validate(doc)
    locs = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in doc["runs"][0]["results"]]
    assert locs[0] == {"uri": "dir%20with%20space/a%23b.py", "uriBaseId": "%SRCROOT%"}
    assert locs[1] == {"uri": (tmp_path / "x.py").as_uri()}


def test_a_notebook_position_that_cannot_be_found_keeps_its_cell_and_no_region() -> None:
    # (the notebook is not on disk: no region is better than a cell line read as a file line)
    d = Diagnostic("TL101", "missing-zero-grad", Severity.ERROR, "m", "missing.ipynb", Span(2, 1, 2, 3), cell=4)
    d.related = [Related("missing.ipynb", 3, 1, "the optimizer", cell=1)]
    doc = sarif.as_dict(CheckResult(diagnostics=[d]))
    _validate(doc)
    (res,) = doc["runs"][0]["results"]
    phys = res["relatedLocations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "missing.ipynb" and "region" not in phys
    assert phys["properties"] == {"cell": 1, "cellLine": 3, "cellColumn": 1}


def _cli_fingerprints(*paths: str) -> Dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--isolated", "--output-format", "sarif", *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = json.loads(proc.stdout)["runs"][0]["results"]
    out = {}
    for r in results:
        region = r["locations"][0]["physicalLocation"]["region"]
        in_cell = region.get("properties", {})
        out[f"{in_cell.get('cell')}:{in_cell.get('cellLine', region['startLine'])}"] = r["partialFingerprints"][
            sarif.FINGERPRINT_KEY
        ]
    return out


def test_notebook_fingerprint_survives_a_cell_inserted_above(project: Path) -> None:
    before = _cli_fingerprints("nb.ipynb")
    (project / "nb.ipynb").write_text(_notebook("import os\nprint(os.getcwd())", SETUP_CELL, LOOP_CELL))
    after = _cli_fingerprints("nb.ipynb")
    assert list(before) == ["3:4"] and list(after) == ["4:4"]
    assert list(before.values()) == list(after.values())
    # The same loop in a .py file is another alert.
    assert set(_cli_fingerprints("train.py").values()).isdisjoint(after.values())
