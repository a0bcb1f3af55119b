"""The optimisation-loop rules TL101-TL108: what their findings say and where they point.

Which lines fire, and which code must stay silent, is tested by the fixtures under
`tests/rules/TL101` ... `tests/rules/TL108` (run by `tests/test_rule_fixtures.py`). Here the
same fixtures are checked for what a line number cannot show: every message tells the user how
to fix the problem, and TL105 points at the optimizer step it should follow.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import pytest

from tests.test_rule_fixtures import FIXTURES, RULES_DIR, Fixture, expected_findings, load_fixture, run_fixture
from trainlint.diagnostics import Diagnostic
from trainlint.testing import lint_source

LOOP_CODES = ["TL101", "TL102", "TL103", "TL104", "TL105", "TL106", "TL107", "TL108"]

# Word groups a message must contain (case-insensitive): at least one word of every group.
Words = Tuple[Tuple[str, ...], ...]

FIX_WORDS: Dict[str, Words] = {
    "TL101": (("zero_grad",),),
    "TL102": (("zero_grad",), ("before", "after")),
    "TL103": (("step",),),
    "TL104": (("backward",),),
    "TL105": (("after",),),
    "TL106": (("backward",), ("step",)),
    "TL107": (("scale",),),
    "TL108": (("outside", "out of", "enable", "remove", "move"),),
}

# TL107 reports three different mistakes, each with its own fix: by fixture name (a prefix
# ending in `_` covers every shape of a case).
TL107_FIX_WORDS: Dict[str, Words] = {
    "clip_without_unscale_": (("unscale_",),),
    "clip_per_optimizer_in_step_method": (("unscale_",),),
    "step_helper_clips_the_named_scaled_loss": (("unscale_",),),
    "legacy_cuda_amp_clip_without_unscale": (("unscale_",),),
    "scaler_step_without_update_": (("update",),),
    "scaler_update_once_per_epoch_": (("update",),),
    "unscaled_backward_": (("scale(",),),
    "gan_amp_unscaled_generator_backward": (("scale(",),),
    "update_skipped_with_the_step": (("update()",), ("step(optimizer)",)),
    "update_skipped_on_the_else_arm": (("update()",), ("step(optimizer)",)),
    "scaled_backward_then_plain_step": (("step(optimizer)",), ("update()",)),
    "scaler_updated_only_every_hundred_steps": (("update()",), ("step(optimizer)",)),
}


def _fix_words(fixture: Fixture) -> Words:
    if fixture.code != "TL107":
        return FIX_WORDS[fixture.code]
    for name, words in TL107_FIX_WORDS.items():
        if fixture.name == name or (name.endswith("_") and fixture.name.startswith(name)):
            return words
    raise AssertionError(f"{fixture.id}: say in TL107_FIX_WORDS which fix its message must name")


def _findings(fixture: Fixture) -> List[Diagnostic]:
    return [d for d in run_fixture(fixture).diagnostics if d.code == fixture.code]


FIRING_LOOP_FIXTURES = [f for f in FIXTURES if f.code in LOOP_CODES and expected_findings(f)]


def test_every_loop_rule_has_firing_fixtures() -> None:
    assert {f.code for f in FIRING_LOOP_FIXTURES} == set(LOOP_CODES)


@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.id) for f in FIRING_LOOP_FIXTURES])
def test_message_names_the_fix(fixture: Fixture) -> None:
    findings = _findings(fixture)
    # Which lines fire is the fixture test's business; here only that there is a message to read.
    assert findings, f"{fixture.id}: no {fixture.code} finding"
    for found in findings:
        message = found.message.lower()
        for group in _fix_words(fixture):
            assert any(w.lower() in message for w in group), (
                f"{fixture.id}: the message should name the fix (one of {group}): {found.message!r}"
            )


def test_tl105_points_at_the_optimizer_step() -> None:
    fixture = load_fixture("TL105", RULES_DIR / "TL105" / "scheduler_before_optimizer_script.py")
    lines = fixture.files["train.py"].splitlines()
    [step_line] = [n for n, text in enumerate(lines, start=1) if text.strip() == "optimizer.step()"]
    [found] = _findings(fixture)
    assert step_line in {r.line for r in found.related}, found.related


def test_tl107_an_update_skipped_with_the_step_names_the_condition_and_the_unscale() -> None:
    src = load_fixture("TL107", RULES_DIR / "TL107" / "update_skipped_with_the_step.py").files["train.py"]
    (d,) = [d for d in lint_source(src, select=["TL107"]) if d.code == "TL107"]
    assert "only runs when `not skip`" in d.message and "next iteration's `unscale_()` raises" in d.message
    assert "Skip only `scaler.step(optimizer)`" in d.message
    assert [src.splitlines()[r.line - 1].strip() for r in d.related] == ["scaler.unscale_(optimizer)"]


def test_tl107_an_update_on_an_else_arm_is_said_to_be_skipped_by_the_test() -> None:
    src = load_fixture("TL107", RULES_DIR / "TL107" / "update_skipped_on_the_else_arm.py").files["train.py"]
    (d,) = [d for d in lint_source(src, select=["TL107"]) if d.code == "TL107"]
    assert "is skipped when `norm > 100.0`" in d.message, d.message


def test_tl101_a_step_helper_in_another_file_points_at_the_loop_that_runs_it() -> None:
    fixture = load_fixture("TL101", RULES_DIR / "TL101" / "step_helper_in_a_shared_engine_module")
    [found] = _findings(fixture)
    assert found.path.endswith("engine.py")
    lines = fixture.files["train.py"].splitlines()
    [call_line] = [n for n, text in enumerate(lines, start=1) if "engine.step(" in text]
    assert (call_line, "train.py") in {(r.line, r.path.rsplit("/", 1)[-1]) for r in found.related}, found.related


def test_tl103_a_micro_batch_loop_that_clears_each_pass_keeps_only_the_last() -> None:
    src = load_fixture("TL103", RULES_DIR / "TL103" / "micro_batch_loop_clears_before_each_pass.py").files["train.py"]
    (d,) = [d for d in lint_source(src, select=["TL103"]) if d.code == "TL103"]
    assert "only the last pass's gradients reach the `optimizer.step()` after the loop" in d.message, d.message
    assert "never learn" not in d.message
