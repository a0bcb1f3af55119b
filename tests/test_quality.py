"""The detection-quality benchmark (benchmarks/quality) as tests.

`test_detection_quality` holds the checker to its targets on the labelled corpus;
the other tests keep the corpus itself honest: labels that name real static rules
and point at real lines, every static rule covered, clean cases present.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from trainlint.registry import RULES

SCORE_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "quality" / "score.py"

MIN_RECALL = 0.90
MIN_PRECISION = 0.97
MIN_RULE_RECALL = 0.8


def _load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quality_score", SCORE_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


scorer = _load_scorer()


def _static_codes() -> set:
    # The corpus measures the default configuration: rules off by default are left to their fixtures.
    return {
        code for code, info in RULES.items() if info.kind == "static" and code[2] in "123456" and info.default_enabled
    }


@pytest.mark.quality
def test_detection_quality() -> None:
    result = scorer.score(backend="engine")
    report = scorer.render(result)
    assert not result.errors, f"the checker failed on some cases:\n{report}"
    assert result.recall is not None and result.recall >= MIN_RECALL, report
    assert result.precision is not None and result.precision >= MIN_PRECISION, report
    weak = {
        code: r.recall
        for code, r in result.per_rule.items()
        if r.expected and r.recall is not None and r.recall < MIN_RULE_RECALL
    }
    assert not weak, f"rules below {MIN_RULE_RECALL:.0%} recall: {weak}\n{report}"
    assert not result.clean_findings, f"findings on clean cases:\n{report}"


def test_corpus_labels_are_consistent() -> None:
    cases = scorer.load_cases()
    static = _static_codes()
    problems = []
    for case in cases:
        if case.runnable and not os.path.isfile(os.path.join(case.path, case.entry)):
            problems.append(f"{case.name}: entry point {case.entry} is missing")
        for e in case.expects:
            if e.code not in static:
                problems.append(f"{case.name}: {e.code} is not a static rule of trainlint.registry.RULES")
            path = os.path.join(case.path, e.file)
            if not os.path.isfile(path):
                problems.append(f"{case.name}: labelled file {e.file} does not exist")
                continue
            with open(path, encoding="utf-8") as fh:
                n_lines = len(fh.read().splitlines())
            if e.line is not None and not 1 <= e.line <= n_lines:
                problems.append(f"{case.name}: {e.code} labelled on line {e.line} of a {n_lines}-line {e.file}")
    assert not problems, "\n".join(problems)


def test_corpus_covers_every_static_rule() -> None:
    cases = scorer.load_cases()
    counts = Counter(e.code for case in cases for e in case.expects)
    thin = {code: counts[code] for code in sorted(_static_codes()) if counts[code] < 2}
    assert not thin, f"static rules with fewer than 2 labelled occurrences: {thin}"
    clean = [c for c in cases if c.clean]
    assert len(cases) >= 48 and len(clean) >= 16, (len(cases), len(clean))


def test_scoring_matches_by_case_file_and_code() -> None:
    """The scorer's own arithmetic, on a hand-made corpus of three cases."""
    case = scorer.Case
    exp = scorer.Expectation
    find = scorer.Finding
    cases = [
        case(
            "a", "a", "", True, True, "train.py", [exp("a", "train.py", "TL101", 5), exp("a", "models.py", "TL207", 3)]
        ),
        case("b", "b", "", True, True, "train.py", [exp("b", "train.py", "TL201", 9)]),
        case("c", "c", "", True, True, "train.py", []),
    ]
    findings = [
        find("a", "train.py", "TL101", 7),  # right pair, other line: still a true positive
        find("a", "train.py", "TL207", 3),  # right code, wrong file: a false positive...
        find("c", "train.py", "TL201", 2),  # ...as is anything on a clean case
        find("c", "train.py", "TL201", 4),  # the same pair twice counts once
    ]
    per_rule, fns, fps, moved = scorer.tally(cases, findings)
    assert (per_rule["TL101"].tp, per_rule["TL101"].fp, per_rule["TL101"].fn) == (1, 0, 0)
    assert (per_rule["TL207"].tp, per_rule["TL207"].fp, per_rule["TL207"].fn) == (0, 1, 1)
    assert (per_rule["TL201"].tp, per_rule["TL201"].fp, per_rule["TL201"].fn) == (0, 1, 1)
    assert {(m.case, m.file, m.code) for m in fns} == {("a", "models.py", "TL207"), ("b", "train.py", "TL201")}
    assert {(m.case, m.file, m.code) for m in fps} == {("a", "train.py", "TL207"), ("c", "train.py", "TL201")}
    assert [(m.case, m.code, m.lines) for m in moved] == [("a", "TL101", [7])]


@pytest.mark.slow
def test_runnable_cases_behave_as_labelled() -> None:
    """Every `runnable = true` case runs on CPU (or raises, where `runs_ok = false` says the bug makes torch raise)."""
    pytest.importorskip("torch")
    outcomes = scorer.run_cases(scorer.load_cases(), jobs=os.cpu_count() or 1, timeout=180)
    wrong = [o for o in outcomes if not o.as_labelled]
    assert not wrong, scorer.render_runs(wrong)
