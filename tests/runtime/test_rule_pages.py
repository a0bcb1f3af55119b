"""The runtime examples of the TL003 and TL9xx rule pages: each `bad-runtime` script triggers its
rule when traced, each `good-runtime` script does not, and each page documents its thresholds."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

pytest.importorskip("torch")

from tests.runtime.tracer_helpers import REPO, settings, write  # noqa: E402
from trainlint import options  # noqa: E402
from trainlint.diagnostics import Status  # noqa: E402
from trainlint.registry import RULES  # noqa: E402
from trainlint.runtime.judging import thresholds  # noqa: E402,F401  (declares the options)
from trainlint.runtime.records import LrFindSettings, WatchSettings  # noqa: E402

RULES_DIR = REPO / "rules"
BLOCK = re.compile(r"```python (bad-runtime|good-runtime)\n(.*?)```", re.S)
RUNTIME_CODES = ["TL003"] + [c for c in RULES if c.startswith("TL9")]
SECTIONS = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix",
    "## Runtime evidence",
    "## Options",
    "## References",
]


def page(code: str) -> Path:
    found = sorted(RULES_DIR.glob(f"{code}-*.md"))
    assert found, f"no page for {code}"
    return found[0]


def examples() -> List[Tuple[str, str, int, str]]:
    out = []
    for code in RUNTIME_CODES:
        for n, (kind, body) in enumerate(BLOCK.findall(page(code).read_text())):
            out.append((code, kind, n, body))
    return out


def _trace_options(body: str) -> Tuple[int, int, int]:
    first = body.splitlines()[0]
    steps = re.search(r"--steps (\d+)", first)
    overfit = re.search(r"--overfit-batch (\d+)", first)
    nproc = re.search(r"--nproc-per-node (\d+)", first)
    return (
        int(steps.group(1)) if steps else 2,
        int(overfit.group(1)) if overfit else 0,
        int(nproc.group(1)) if nproc else 1,
    )


def _range_test(body: str) -> Optional[LrFindSettings]:
    """`--lr-find [--lr-min A --lr-max B --steps N]` on the example's first line: a range test."""
    first = body.splitlines()[0]
    if "--lr-find" not in first:
        return None
    found = {k: re.search(rf"--{k} (\S+)", first) for k in ("lr-min", "lr-max", "steps")}
    default = LrFindSettings()
    return LrFindSettings(
        min_lr=float(found["lr-min"].group(1)) if found["lr-min"] else default.min_lr,
        max_lr=float(found["lr-max"].group(1)) if found["lr-max"] else default.max_lr,
        steps=int(found["steps"].group(1)) if found["steps"] else default.steps,
    )


def _watch(body: str) -> Optional[WatchSettings]:
    """`--watch [--audit-every N]` on the example's first line: the run watcher."""
    first = body.splitlines()[0]
    if "--watch" not in first:
        return None
    every = re.search(r"--audit-every (\d+)", first)
    return WatchSettings(every=int(every.group(1)) if every else None)


def _trace_ranks(path: Path, steps: int, nproc: int):
    """A distributed example: its ranks traced as `trace --nproc-per-node` runs them."""
    from trainlint.runtime.api import run_trace
    from trainlint.runtime.parent.runner import Target

    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        return run_trace(
            Target(script=path.name), steps=steps, timeout=120, settings=settings(), run_static=False, nproc=nproc
        )
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(
    "code,kind,n,body",
    examples(),
    ids=lambda v: v if isinstance(v, str) and v.startswith(("TL", "bad", "good")) else None,
)
def test_runtime_example(tmp_path, code, kind, n, body):
    from trainlint.runtime.api import tracing

    steps, overfit, nproc = _trace_options(body)
    path = write(tmp_path, body)
    if nproc > 1:
        report = _trace_ranks(path, steps, nproc)
    else:
        compiled = compile(body, str(path), "exec")
        try:
            # paths=[]: runtime findings only, so no static finding can stand in for the rule.
            with tracing(
                steps=steps,
                overfit=overfit,
                paths=[],
                settings=settings(),
                lr_find=_range_test(body),
                watch=_watch(body),
            ) as report:
                exec(compiled, {"__name__": "__main__", "__file__": str(path)})
        except Exception:
            pass  # a failing script is TL003's own example; the report keeps its evidence
    found = [d for d in report.diagnostics if d.code == code]
    if kind == "bad-runtime":
        assert found, f"{code} not reported; got {[(d.code, d.message) for d in report.diagnostics]}"
        assert all(d.status == Status.CONFIRMED for d in found)
        assert all(d.evidence and d.evidence.get("observed") for d in found)
        assert any(os.path.basename(d.path) == path.name and d.line > 1 for d in found), "located at the script's code"
    else:
        assert not found, [d.message for d in found]
        assert report.outcome == ("finished" if _watch(body) else "stopped"), report.outcome


@pytest.mark.parametrize("code", RUNTIME_CODES)
def test_page_layout(code):
    text = page(code).read_text()
    info = RULES[code]
    assert text.startswith(f"# {code} {info.name}\n")
    assert f"**Severity:** {info.severity.value}" in text
    positions = [text.find(s) for s in SECTIONS]
    assert all(p >= 0 for p in positions), [s for s, p in zip(SECTIONS, positions) if p < 0]
    assert positions == sorted(positions), "sections out of order"
    kinds = [k for k, _ in BLOCK.findall(text)]
    assert "bad-runtime" in kinds and "good-runtime" in kinds


@pytest.mark.parametrize("code", sorted(c for c in options.all_defaults() if c in RUNTIME_CODES))
def test_page_documents_every_threshold(code):
    options_section = page(code).read_text().split("## Options", 1)[1].split("## References", 1)[0]
    for key, default in options.defaults_for(code).items():
        row = re.search(rf"\| `{key}` \| `([^`]+)` \|", options_section)
        assert row, f"{code}: option {key} missing from the page"
        assert float(row.group(1)) == float(default), f"{code}.{key}: page says {row.group(1)}, default is {default}"
