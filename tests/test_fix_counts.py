"""The fix counts a report promises are what `--fix` then does: on the quality corpus, the "N
fixable" hint equals the problems `--fix` resolves (and likewise with `--unsafe-fixes`), and a
fix that resolves several findings counts each of them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Tuple

from click.testing import CliRunner

from trainlint.cli import main
from trainlint.diagnostics import CheckResult

CORPUS = Path(__file__).resolve().parent.parent / "benchmarks" / "quality" / "cases"


def _cli(*args: str) -> Tuple[int, str]:
    res = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", *args])
    return res.exit_code, res.stderr


def _hint(stderr: str) -> Tuple[int, int]:
    safe = re.search(r"(\d+) fixable with `--fix`", stderr)
    more = re.search(r"(\d+) more with `--fix --unsafe-fixes`", stderr)
    return (int(safe.group(1)) if safe else 0), (int(more.group(1)) if more else 0)


def _fixed(stderr: str) -> int:
    found = re.search(r"Fixed (\d+) problems?", stderr)
    return int(found.group(1)) if found else 0


def test_the_fixable_counts_are_what_fix_resolves(tmp_path: Path) -> None:
    for name in ("check", "safe", "unsafe"):
        shutil.copytree(CORPUS, tmp_path / name)
    _, stderr = _cli(str(tmp_path / "check"))
    safe, more = _hint(stderr)
    assert safe > 0 and more > 0
    assert _fixed(_cli("--fix", str(tmp_path / "safe"))[1]) == safe
    assert _fixed(_cli("--fix", "--unsafe-fixes", str(tmp_path / "unsafe"))[1]) == safe + more


# TL201 and TL207 on one layer: removing the softmax resolves both.
SOFTMAX_WITHOUT_DIM = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 3), nn.Softmax())
criterion = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = [(torch.randn(8, 4), torch.randint(0, 3, (8,)))]
for x, y in data:
    opt.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    opt.step()
"""


def test_one_fix_for_two_findings_counts_both(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SOFTMAX_WITHOUT_DIM)
    _, stderr = _cli(str(tmp_path))
    findings = int(re.search(r"Found (\d+) problems?", stderr).group(1))  # type: ignore[union-attr]
    assert findings == 2 and sum(_hint(stderr)) == findings
    _, stderr = _cli("--fix", "--unsafe-fixes", str(tmp_path))
    assert _fixed(stderr) == findings and "All checks passed" in stderr


def test_a_failure_while_verifying_fixes_leaves_the_findings_and_the_exit_code(tmp_path: Path, monkeypatch) -> None:
    import trainlint.fixes.apply as apply

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("verifier defect")

    monkeypatch.setattr(apply, "fix_paths", broken)
    (tmp_path / "train.py").write_text(SOFTMAX_WITHOUT_DIM)
    code, stderr = _cli(str(tmp_path))
    assert code == 1 and "Found 2 problems" in stderr
    assert "fixes not verified (RuntimeError: verifier defect)" in stderr


def test_two_findings_with_one_message_keep_only_the_fix_that_was_applied() -> None:
    """Two `nn.Softmax()` without `dim`, in two branches, give the same message; the fixer
    applied the fix at one and dropped the other (seen on real code, where the dropped one
    also changed a cross-file loss finding). Only the applied one is offered."""
    from trainlint.diagnostics import Diagnostic, Edit, Fix, Severity, Span
    from trainlint.fixes.apply import FixRecord, FixRun, _identity, keep_verified_fixes

    def finding(line: int) -> Diagnostic:
        fix = Fix("unsafe", "Pass `dim=-1`", [Edit(line, 30, line, 30, "dim=-1")])
        return Diagnostic(
            "TL207", "softmax-without-dim", Severity.WARNING, "no dim", "m.py", Span(line, 17, line, 29), fix=fix
        )

    first, second = finding(17), finding(29)
    run = FixRun()
    run.applied.append(FixRecord("m.py", "TL207", "n", "d", "unsafe", identity=_identity(second), where=(0, 29, 17)))
    run.dropped.append(
        FixRecord("m.py", "TL207", "n", "d", "unsafe", "new finding", _identity(first), where=(0, 17, 17))
    )
    result = CheckResult(diagnostics=[first, second])
    keep_verified_fixes(result, run)
    assert first.fix is None and second.fix is not None


# A TL404 fix (`@torch.no_grad()` on the evaluation) also ends the graph that TL604 sees kept
# in `total`, a finding with no fix of its own (`out["loss"]` may not be a tensor).
EVAL_KEEPS_GRAPH = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x, y):
        logits = self.fc(x)
        return {"loss": F.cross_entropy(logits, y), "logits": logits}


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]


def evaluate(loader):
    model.eval()
    total = 0.0
    for x, y in loader:
        out = model(x, y)
        total += out["loss"]
    model.train()
    return total


for epoch in range(2):
    for x, y in data:
        opt.zero_grad()
        model(x, y)["loss"].backward()
        opt.step()
    print(evaluate(data))
"""


def test_a_fix_that_also_resolves_another_finding_says_how_many_fixes_it_applied(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(EVAL_KEEPS_GRAPH)
    _, stderr = _cli(str(path))
    assert _hint(stderr) == (1, 0)
    code, stderr = _cli("--fix", str(path))
    assert "Fixed 2 problems (1 fix applied)." in stderr
    assert code == 0
