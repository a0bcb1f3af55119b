"""Rule fixtures: every rule is tested by small programs under `tests/rules/<CODE>/`.

Layout and format:

- `tests/rules/TL101/<case>.py` is one program, checked as `train.py` (a neutral name: the
  fixture's own file name, `ok_benchmark_step.py` say, must not change what the rules see).
- `tests/rules/TL101/<case>/` is a project: every `*.py` under it, checked together by their
  paths relative to the case folder (`engine.py`, `train.py`, `pkg/models.py`).
- A comment made only of rule codes ends a line that must get exactly those findings of the
  folder's rule: `loss.backward()  # TL101`; `# TL101 TL101` for two on one line. Codes of
  other rules may be listed too (they document the line) but are not checked: only the
  folder's rule runs.
- A case without a marker of the folder's rule must stay silent; by convention it is named
  `ok_*`. A comment `# ok` (or `# ok: why`) documents a line that must stay silent.
- Any finding of the folder's rule on a line without its marker fails the case, as does a
  marker on a line that gets no finding: the test fails both ways.
- A fixture may start with a docstring saying what real code it stands for.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import pytest

from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic
from trainlint.engine import check_sources
from trainlint.registry import RULES

RULES_DIR = Path(__file__).resolve().parent / "rules"
REPO = RULES_DIR.parent.parent

# The path a single-file fixture is checked under.
SINGLE_FILE_PATH = "train.py"

_CODE = re.compile(r"^TL\d{3}$")
# A comment that starts like a rule code is meant as a marker (and `# TL1O1` is a typo).
_LOOKS_LIKE_MARKER = re.compile(r"^#\s*TL\d", re.IGNORECASE)

# (path as checked, line, code)
Expectation = Tuple[str, int, str]


class FixtureError(Exception):
    """A fixture that does not follow the format (an unknown code, a malformed marker)."""


@dataclass(frozen=True)
class Fixture:
    code: str
    name: str
    location: Path  # the fixture file, or the case folder of a project
    files: Dict[str, str]  # path as checked -> source text

    @property
    def id(self) -> str:
        return f"{self.code}/{self.name}"

    @property
    def is_ok_case(self) -> bool:
        return self.name.startswith("ok_")

    def shown_path(self, checked: str) -> str:
        """Where the user finds a checked file: its path in the repository when it is there."""
        real = self.location if self.location.is_file() else self.location / checked
        try:
            return str(real.relative_to(REPO))
        except ValueError:
            return str(real)


@dataclass(frozen=True)
class Marker:
    line: int
    codes: Tuple[str, ...]


def load_fixture(code: str, entry: Path) -> Fixture:
    if entry.is_dir():
        files = {p.relative_to(entry).as_posix(): p.read_text(encoding="utf-8") for p in sorted(entry.rglob("*.py"))}
        return Fixture(code, entry.name, entry, files)
    return Fixture(code, entry.stem, entry, {SINGLE_FILE_PATH: entry.read_text(encoding="utf-8")})


def _is_tool_folder(path: Path) -> bool:
    # `__pycache__`, `.ruff_cache` and the like: never a rule or a case.
    return path.name.startswith((".", "_"))


def fixture_entries(folder: Path) -> List[Path]:
    """The cases of one rule folder: `*.py` files and case folders."""
    return sorted(
        p for p in folder.iterdir() if (p.is_file() and p.suffix == ".py") or (p.is_dir() and not _is_tool_folder(p))
    )


def rule_folders(root: Path = RULES_DIR) -> List[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not _is_tool_folder(p))


def load_fixtures(root: Path = RULES_DIR) -> List[Fixture]:
    return [load_fixture(folder.name, entry) for folder in rule_folders(root) for entry in fixture_entries(folder)]


def _comments(text: str) -> Iterable[Tuple[int, str]]:
    """(line, comment) for every comment token: text inside strings is never a marker."""
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string


def markers(text: str) -> List[Marker]:
    out: List[Marker] = []
    for line, comment in _comments(text):
        if not _LOOKS_LIKE_MARKER.match(comment):
            continue
        words = comment.lstrip("#").split()
        if not all(_CODE.match(w) for w in words):
            raise FixtureError(f"line {line}: a marker holds only rule codes, got {comment!r}")
        unknown = [w for w in words if w not in RULES]
        if unknown:
            raise FixtureError(f"line {line}: unknown rule code(s) {', '.join(unknown)} in {comment!r}")
        out.append(Marker(line, tuple(words)))
    return out


def expected_findings(fixture: Fixture) -> Counter[Expectation]:
    """The findings of the folder's rule the markers ask for, with their multiplicity."""
    expected: Counter[Expectation] = Counter()
    for path, text in fixture.files.items():
        for marker in markers(text):
            expected[(path, marker.line, fixture.code)] += marker.codes.count(fixture.code)
    return +expected  # drops the lines that only name other rules


def run_fixture(fixture: Fixture) -> CheckResult:
    """Lint the fixture with the real checker, only the folder's rule enabled. In memory, so
    that a case is never mixed with the files around it (this repository, other cases)."""
    for path, text in fixture.files.items():
        # A syntax error would leave only TL001, and a must-not-fire case would pass for nothing.
        compile(text, fixture.shown_path(path), "exec")
    return check_sources(fixture.files, Settings(select=[fixture.code]))


def _describe(fixture: Fixture, where: Expectation, detail: str = "") -> str:
    path, line, code = where
    lines = fixture.files[path].splitlines()
    source = lines[line - 1].strip() if 0 < line <= len(lines) else "<no such line>"
    note = f" -- {detail}" if detail else ""
    return f"  {fixture.shown_path(path)}:{line} {code}: {source}{note}"


def _listing(fixture: Fixture, findings: Counter[Expectation]) -> str:
    """`[(line, code), ...]`; with the file first in a project case."""
    if len(fixture.files) == 1:
        return str(sorted((line, code) for _, line, code in findings.elements()))
    return str(sorted(findings.elements()))


def check_expectations(fixture: Fixture, result: CheckResult) -> None:
    """Fail unless the folder's rule reported exactly the marked lines (other codes ignored)."""
    crashed = [d for d in result.diagnostics if d.code == "TL002"]
    assert not crashed and not result.internal_errors, f"{fixture.id}: the rule failed: " + "; ".join(
        d.message for d in crashed
    )
    expected = expected_findings(fixture)
    findings: List[Diagnostic] = [d for d in result.diagnostics if d.code == fixture.code]
    got: Counter[Expectation] = Counter((d.path, d.line, d.code) for d in findings)
    missing, unexpected = expected - got, got - expected
    if not missing and not unexpected:
        return
    messages = {(d.path, d.line, d.code): d.message for d in findings}
    report = [f"{fixture.id}: findings differ from the markers"]
    report.append(f"expected: {_listing(fixture, expected)}")
    report.append(f"got:      {_listing(fixture, got)}")
    if missing:
        report.append("marked but not reported:")
        report += [_describe(fixture, where) for where in sorted(missing.elements())]
    if unexpected:
        # The source line is shown whole: an `# ok` note on it says why it was meant to be silent.
        report.append("reported on a line without its marker:")
        report += [_describe(fixture, where, messages[where]) for where in sorted(unexpected.elements())]
    raise AssertionError("\n".join(report))


FIXTURES = load_fixtures()


@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.id) for f in FIXTURES])
def test_rule_fixture(fixture: Fixture) -> None:
    check_expectations(fixture, run_fixture(fixture))


# --------------------------------------------------------------------------- the fixture tree


def test_every_rule_folder_is_a_known_code_with_firing_and_ok_cases() -> None:
    folders = rule_folders()
    assert folders, f"no rule folders under {RULES_DIR}"
    for folder in folders:
        assert folder.name in RULES, f"{folder.name}: not a rule code of trainlint.registry.RULES"
        cases = [load_fixture(folder.name, entry) for entry in fixture_entries(folder)]
        assert any(expected_findings(c) for c in cases), f"{folder.name}: no case where the rule must fire"
        assert any(c.is_ok_case for c in cases), f"{folder.name}: no ok_* case where the rule must stay silent"


def test_fixture_names_match_their_markers() -> None:
    # `ok_*` must mean "must not fire", and any other name "fires somewhere": a reader can
    # then trust the name, and a forgotten marker does not turn a bad case into a silent one.
    marked_ok = [f.id for f in FIXTURES if f.is_ok_case and expected_findings(f)]
    unmarked = [f.id for f in FIXTURES if not f.is_ok_case and not expected_findings(f)]
    assert not marked_ok, f"ok_* cases with a marker of their folder's rule: {marked_ok}"
    assert not unmarked, f"cases without a marker of their folder's rule (name them ok_*): {unmarked}"


def test_fixture_ids_are_unique() -> None:
    # `case.py` beside a `case/` folder would give two tests one id.
    ids = Counter(f.id for f in FIXTURES)
    assert not [i for i, n in ids.items() if n > 1]


def test_fixture_files_are_not_collected_by_pytest() -> None:
    # A fixture named like a test module would be imported and run by pytest.
    for path in RULES_DIR.rglob("*.py"):
        assert not (path.name.startswith("test_") or path.name.endswith("_test.py") or path.name == "conftest.py"), path


def test_multi_file_cases_hold_several_files() -> None:
    for fixture in FIXTURES:
        if fixture.location.is_dir():
            assert len(fixture.files) >= 2, f"{fixture.id}: a case folder is for several files; use {fixture.name}.py"


# --------------------------------------------------------------------------- the runner itself

# Gradients are never cleared: TL101 is reported on the backward() line.
NEVER_CLEARED = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(3):
    loss = model(torch.randn(8, 4)).sum()
    loss.backward(){backward_marker}
    opt.step(){step_marker}
"""


def _synthetic(tmp_path: Path, name: str, text: str, code: str = "TL101") -> Fixture:
    folder = tmp_path / code
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(text, encoding="utf-8")
    [fixture] = [f for f in load_fixtures(tmp_path) if f.name == name]
    return fixture


def test_runner_passes_when_markers_match(tmp_path: Path) -> None:
    fixture = _synthetic(tmp_path, "never_cleared", NEVER_CLEARED.format(backward_marker="  # TL101", step_marker=""))
    assert expected_findings(fixture) == Counter({("train.py", 8, "TL101"): 1})
    check_expectations(fixture, run_fixture(fixture))


def test_runner_fails_when_a_marker_is_missing(tmp_path: Path) -> None:
    fixture = _synthetic(tmp_path, "ok_never_cleared", NEVER_CLEARED.format(backward_marker="", step_marker=""))
    with pytest.raises(AssertionError, match=r"reported on a line without its marker:\n.*:8 TL101"):
        check_expectations(fixture, run_fixture(fixture))


def test_runner_fails_when_a_marker_is_extra(tmp_path: Path) -> None:
    text = NEVER_CLEARED.format(backward_marker="  # TL101", step_marker="  # TL101")
    fixture = _synthetic(tmp_path, "never_cleared", text)
    with pytest.raises(AssertionError, match=r"marked but not reported:\n.*:9 TL101") as failure:
        check_expectations(fixture, run_fixture(fixture))
    assert "expected: [(8, 'TL101'), (9, 'TL101')]" in str(failure.value)
    assert "got:      [(8, 'TL101')]" in str(failure.value)


def test_runner_fails_when_a_line_expects_more_findings_than_it_gets(tmp_path: Path) -> None:
    fixture = _synthetic(
        tmp_path, "never_cleared", NEVER_CLEARED.format(backward_marker="  # TL101 TL101", step_marker="")
    )
    with pytest.raises(AssertionError, match=r"marked but not reported:\n.*:8 TL101"):
        check_expectations(fixture, run_fixture(fixture))


def test_runner_ignores_markers_and_findings_of_other_rules(tmp_path: Path) -> None:
    # Only TL102 runs in the TL102 folder: the TL101 marker documents the line, nothing more.
    text = NEVER_CLEARED.format(backward_marker="  # TL101", step_marker="")
    fixture = _synthetic(tmp_path, "ok_never_cleared", text, code="TL102")
    assert not expected_findings(fixture)
    check_expectations(fixture, run_fixture(fixture))


def test_runner_fails_when_a_line_noted_ok_fires(tmp_path: Path) -> None:
    text = NEVER_CLEARED.format(backward_marker="  # ok: claimed silent", step_marker="")
    fixture = _synthetic(tmp_path, "ok_never_cleared", text)
    with pytest.raises(AssertionError, match=r":8 TL101: loss.backward\(\)  # ok: claimed silent -- gradients"):
        check_expectations(fixture, run_fixture(fixture))


def test_runner_checks_every_file_of_a_project_case(tmp_path: Path) -> None:
    case = tmp_path / "TL101" / "helper_never_clears"
    case.mkdir(parents=True)
    (case / "engine.py").write_text(
        "def fit(model, loader, opt):\n"
        "    for x in loader:\n"
        "        model(x).sum().backward()  # TL101\n"
        "        opt.step()\n",
        encoding="utf-8",
    )
    (case / "train.py").write_text(
        "import torch\n"
        "import torch.nn as nn\n"
        "from engine import fit\n\n"
        "model = nn.Linear(4, 2)\n"
        "fit(model, [torch.randn(8, 4)] * 3, torch.optim.SGD(model.parameters(), lr=0.1))\n",
        encoding="utf-8",
    )
    [fixture] = load_fixtures(tmp_path)
    assert fixture.id == "TL101/helper_never_clears"
    assert expected_findings(fixture) == Counter({("engine.py", 3, "TL101"): 1})
    check_expectations(fixture, run_fixture(fixture))
    # The same finding counts as unexpected once its marker is gone.
    (case / "engine.py").write_text(fixture.files["engine.py"].replace("  # TL101", ""), encoding="utf-8")
    [fixture] = load_fixtures(tmp_path)
    with pytest.raises(AssertionError, match=r"helper_never_clears/engine.py:3 TL101") as failure:
        check_expectations(fixture, run_fixture(fixture))
    assert "got:      [('engine.py', 3, 'TL101')]" in str(failure.value)


@pytest.mark.parametrize(
    "comment, problem",
    [("# TL1O1", "only rule codes"), ("# TL101 fires here", "only rule codes"), ("# TL999", "unknown rule code")],
)
def test_malformed_markers_are_rejected(comment: str, problem: str) -> None:
    with pytest.raises(FixtureError, match=problem):
        markers(f"x = 1  {comment}\n")


def test_markers_are_read_from_comments_only() -> None:
    text = 'label = "# TL101"\ny = 2  # TL101 TL102\nz = 3  # ok: a note, not a marker\n'
    assert markers(text) == [Marker(2, ("TL101", "TL102"))]
