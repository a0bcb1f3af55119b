"""`trainlint trace` on the static rules' own examples: each `bad` script's suspicion is confirmed
by the run (or left unverified with a reason), never refuted; each `good` script's is never
confirmed. This ties the verdicts to what the real static checker reports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

pytest.importorskip("torch")

from tests.runtime.tracer_helpers import REPO, trace_inline  # noqa: E402
from trainlint.diagnostics import Status  # noqa: E402
from trainlint.registry import RULES  # noqa: E402

BLOCK = re.compile(r"```python (bad|good)\n(.*?)```", re.S)


def examples() -> List[Tuple[str, str, int, str]]:
    out = []
    for page in sorted((REPO / "rules").glob("TL[1-6]*.md")):
        code = page.name[:5]
        if RULES[code].verdict is None:
            continue
        for n, (kind, body) in enumerate(BLOCK.findall(page.read_text())):
            out.append((code, kind, n, body))
    return out


CONFIRMED: Dict[str, bool] = {}


@pytest.mark.parametrize("code,kind,n,body", examples(), ids=[f"{c}-{k}-{n}" for c, k, n, _ in examples()])
def test_static_example_verdict(tmp_path: Path, code: str, kind: str, n: int, body: str) -> None:
    report = trace_inline(tmp_path, body, select=[code])
    found = [d for d in report.diagnostics if d.code == code]
    if kind == "bad":
        assert not [d for d in found if d.status == Status.REFUTED], [d.evidence for d in found]
        for d in found:
            assert d.status in (Status.CONFIRMED, Status.UNVERIFIED)
            assert d.evidence and (d.evidence.get("observed") or d.evidence.get("reason"))
        if any(d.status == Status.CONFIRMED for d in found):
            CONFIRMED[code] = True
    else:
        assert not [d for d in found if d.status == Status.CONFIRMED], [d.evidence for d in found]


def test_every_rule_with_a_runtime_check_is_confirmed_by_one_of_its_examples() -> None:
    codes = {c for c, k, _, _ in examples() if k == "bad" and not RULES[c].no_runtime_check}
    if len(CONFIRMED) == 0:
        pytest.skip("run together with test_static_example_verdict")
    # Examples that need missing packages or data files (pandas, torchvision, CSVs) cannot run
    # here; every TL1xx example runs.
    missing = sorted(c for c in codes if c.startswith("TL1") and c not in CONFIRMED)
    assert not missing, missing
