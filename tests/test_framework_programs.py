"""The framework-style programs of `benchmarks/frameworks/` (Lightning, Fabric, accelerate, the
Hugging Face Trainer, DDP, torch.compile), checked statically: each buggy program's defect is
reported near its labelled line, and the clean programs get no finding. (The benchmark script
also traces them; this keeps the static half from regressing.)"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from trainlint.testing import lint_source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11 only
    import tomli as tomllib

SETS = Path(__file__).resolve().parent.parent / "benchmarks" / "frameworks"
# Defects that only a run can show.
RUNTIME_ONLY = {"TL915", "TL916", "TL917"}


def _programs() -> List[Any]:
    out = []
    for labels in sorted(SETS.glob("*/labels.toml")):
        for p in tomllib.loads(labels.read_text(encoding="utf-8"))["program"]:
            out.append(pytest.param(labels.parent / p["file"], p, id=f"{labels.parent.name}/{p['file']}"))
    return out


@pytest.mark.parametrize("path, label", _programs())
def test_framework_program(path: Path, label: Dict[str, Any]) -> None:
    found = lint_source(path.read_text(encoding="utf-8"), path="train.py")
    # (a finding at the model's layer that names the loss call as a related location counts)
    reported = [(d.code, line) for d in found for line in [d.span.line, *(r.line for r in d.related)]]
    static = [c for c in label["expected"] if c not in RUNTIME_ONLY]
    if not label["expected"]:
        assert found == []
    for code in static:
        near = [line for c, line in reported if c == code and any(abs(line - ln) <= 10 for ln in label["lines"])]
        assert near, f"{code} not reported near lines {label['lines']}: {reported}"
