"""The tracer on a sample of the labelled quality corpus (benchmarks/quality/trace_score.py).

Every labelled bug is real, so the tracer must never refute one; the bugs chosen here are
ones a two-step run can show, so each must come back confirmed. The clean case must get no
confirmed finding at all. Each case is a real `trainlint trace` child process (a few seconds).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("torch")

TRACE_SCORE_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "quality" / "trace_score.py"

# (case, code) pairs that the run must confirm, one or two per family of rules, including
# those whose evidence comes only after the requested steps (the end of the script, the
# evaluation after an epoch).
CONFIRMABLE = {
    ("plain_mlp_no_zero_grad", "TL101"),  # stale gradients before the second backward
    ("tqdm_loop_no_step", "TL103"),  # the script ends with no step and unchanged weights
    ("trainer_clip_after_step_unshuffled", "TL106"),
    ("crossfile_softmax_forward_ce", "TL201"),  # probabilities into cross-entropy, across files
    ("crossfile_deep_tanh_normal_init", "TL401"),
    ("crossfile_deep_tanh_normal_init", "TL402"),  # saturated tanh units, with large weights
    ("evaluate_without_eval_mode", "TL403"),  # evaluation after the epoch, in training mode
    ("manual_sgd_gradient_ascent", "TL602"),
}
CLEAN = "clean_grad_accumulation"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quality_trace_score", TRACE_SCORE_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result():
    scorer = _load()
    cases = sorted({case for case, _ in CONFIRMABLE} | {CLEAN})
    return scorer.trace_score(only=cases, steps=2, timeout=120.0)


@pytest.mark.slow
def test_every_case_was_traced(result):
    assert not result.errors
    assert len(result.runs) == len({case for case, _ in CONFIRMABLE}) + 1


@pytest.mark.slow
def test_no_true_finding_is_refuted(result):
    refuted = [(j.case, j.code, j.reason) for j in result.judged if j.status == "refuted"]
    assert not refuted


@pytest.mark.slow
def test_confirmable_true_findings_are_confirmed(result):
    status = {(j.case, j.code): (j.status, j.reason) for j in result.judged}
    assert CONFIRMABLE <= set(status), "the static checker must report every chosen bug"
    not_confirmed = {pair: status[pair] for pair in CONFIRMABLE if status[pair][0] != "confirmed"}
    assert not not_confirmed


@pytest.mark.slow
def test_nothing_is_confirmed_on_the_clean_case(result):
    assert not [r for r in result.clean_confirmed if r.case == CLEAN]
