"""What each fix does to code: before/after pairs, the shapes of code that get no fix, and the
rule pages' `fixed` examples (fixing a page's first `bad` block gives its `fixed` block)."""

from __future__ import annotations

import re
import textwrap
from typing import List, Optional, Tuple

import pytest

from trainlint import registry
from trainlint.config import Settings
from trainlint.diagnostics import Fix
from trainlint.fixer import fix_sources
from trainlint.fixes import apply_edits
from trainlint.pages import page_paths
from trainlint.testing import lint_source

HEADER = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
sched = torch.optim.lr_scheduler.StepLR(opt, 10)
scaler = torch.amp.GradScaler()
crit = nn.CrossEntropyLoss()
"""


def src(body: str) -> str:
    return HEADER + textwrap.dedent(body)


def fixed(code: str, unsafe: bool = False) -> Tuple[str, List[str]]:
    """The file after `--fix` (and `--unsafe-fixes`), and the codes of the fixes applied."""
    run = fix_sources({"train.py": code}, Settings(), unsafe=unsafe)
    assert not run.dropped, [(r.code, r.reason) for r in run.dropped]
    return run.files["train.py"].data.decode("utf-8"), sorted(r.code for r in run.applied)


def fix_of(code: str, rule: str) -> Optional[Fix]:
    found = [d for d in lint_source(code) if d.code == rule]
    assert found, f"{rule} does not fire"
    return found[0].fix


def assert_fix(before: str, after: str, rule: str, applicability: str = "safe") -> None:
    fix = fix_of(before, rule)
    assert fix is not None, f"no fix offered for {rule}"
    assert fix.applicability == applicability
    assert apply_edits(before, fix.edits) == after
    assert rule not in [d.code for d in lint_source(after)]


# ---------------------------------------------------------------------------- TL101


def test_tl101_inserts_zero_grad_before_the_backward_statement():
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            loss = crit(model(x), y)
            # backprop
            loss.backward()
            opt.step()
        """
    )
    after = before.replace("    # backprop\n", "    opt.zero_grad()\n    # backprop\n")
    assert_fix(before, after, "TL101")


def test_tl101_with_accumulation_clears_right_after_the_conditional_step():
    before = src(
        """
        def train(loader):
            for i, (x, y) in enumerate(loader):
                loss = crit(model(x), y) / 4
                loss.backward()
                if (i + 1) % 4 == 0:
                    opt.step()
        """
    )
    after = before.replace("            opt.step()\n", "            opt.step()\n            opt.zero_grad()\n")
    assert_fix(before, after, "TL101")


def test_tl101_with_a_grad_scaler_clears_the_optimizer_it_steps():
    before = src(
        """
        def train(loader, optimizer):
            for x, y in loader:
                loss = crit(model(x), y)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()

        train([], opt)
        """
    )
    after = before.replace("        scaler.scale(loss)", "        optimizer.zero_grad()\n        scaler.scale(loss)")
    assert_fix(before, after, "TL101")


def test_tl101_no_fix_when_the_loop_body_is_on_the_header_line():
    code = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]: loss = crit(model(x), y); loss.backward(); opt.step()
        """
    )
    assert fix_of(code, "TL101") is None


def test_tl101_no_fix_when_step_and_backward_live_in_different_functions():
    code = src(
        """
        def do_step():
            opt.step()

        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            crit(model(x), y).backward()
            do_step()
        """
    )
    assert fix_of(code, "TL101") is None


# ---------------------------------------------------------------------------- TL102 / TL105 / TL106


def test_tl102_moves_zero_grad_after_the_step_with_its_comment():
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            loss = crit(model(x), y)
            loss.backward()
            # reset
            opt.zero_grad()  # here
            opt.step()
        """
    )
    after = before.replace("    # reset\n    opt.zero_grad()  # here\n    opt.step()\n", "    opt.step()\n    # reset\n    opt.zero_grad()  # here\n")
    assert_fix(before, after, "TL102")


def test_tl102_no_fix_for_statements_joined_by_semicolons():
    code = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            loss = crit(model(x), y)
            loss.backward()
            opt.zero_grad(); opt.step()
        """
    )
    assert fix_of(code, "TL102") is None


def test_tl105_moves_the_scheduler_after_the_step():
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            sched.step()
            opt.zero_grad()
            crit(model(x), y).backward()
            opt.step()
        """
    )
    after = before.replace("    sched.step()\n", "").replace("    opt.step()\n", "    opt.step()\n    sched.step()\n")
    assert_fix(before, after, "TL105")


def test_tl105_epoch_scheduler_moves_after_the_inner_loop():
    before = src(
        """
        def fit(loader):
            for epoch in range(3):
                sched.step()
                for x, y in loader:
                    opt.zero_grad()
                    crit(model(x), y).backward()
                    opt.step()
                print(epoch)
        """
    )
    after = before.replace("        sched.step()\n", "").replace(
        "            opt.step()\n", "            opt.step()\n        sched.step()\n"
    )
    assert_fix(before, after, "TL105")


def test_tl106_clip_before_backward_moves_before_the_step():
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            opt.zero_grad()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            crit(model(x), y).backward()
            opt.step()
        """
    )
    clip = "    norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"
    after = before.replace(clip, "").replace("    opt.step()\n", clip + "    opt.step()\n")
    assert_fix(before, after, "TL106")


def test_tl106_clip_after_a_scaler_step_moves_before_it_with_unscale():
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            opt.zero_grad()
            scaler.scale(crit(model(x), y)).backward()
            scaler.step(opt)
            scaler.update()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        """
    )
    clip = "    nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"
    after = before.replace(clip, "").replace("    scaler.step(opt)\n", "    scaler.unscale_(opt)\n" + clip + "    scaler.step(opt)\n")
    assert_fix(before, after, "TL106")
    assert "TL107" not in [d.code for d in lint_source(after)]


def test_tl106_no_fix_when_the_clipped_norm_is_read_before_the_new_place():
    code = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            opt.zero_grad()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            print(norm)
            crit(model(x), y).backward()
            opt.step()
        """
    )
    assert fix_of(code, "TL106") is None


# ---------------------------------------------------------------------------- TL107


AMP = """
for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
    opt.zero_grad()
    scaler.scale(crit(model(x), y)).backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(opt)
    scaler.update()
"""


def test_tl107_unscale_before_clipping():
    before = src(AMP)
    after = before.replace("    nn.utils.clip", "    scaler.unscale_(opt)\n    nn.utils.clip")
    assert_fix(before, after, "TL107")


def test_tl107_update_after_scaler_step():
    before = src(AMP.replace("    nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n", "").replace("    scaler.update()\n", ""))
    after = before.replace("    scaler.step(opt)\n", "    scaler.step(opt)\n    scaler.update()\n")
    assert_fix(before, after, "TL107")


def test_tl107_scales_a_plain_backward():
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            scaler.step(opt)
            scaler.update()
        """
    )
    after = before.replace("loss.backward()", "scaler.scale(loss).backward()")
    assert_fix(before, after, "TL107")


def test_several_fixes_in_one_file_all_apply():
    code = src(AMP.replace("    scaler.update()\n", "").replace("    opt.zero_grad()\n", ""))
    out, applied = fixed(code)
    assert applied == ["TL101", "TL107", "TL107"]
    assert not [d.code for d in lint_source(out) if d.code in ("TL101", "TL107")]
    assert fixed(out) == (out, [])


# ---------------------------------------------------------------------------- registry and pages

_BLOCK = re.compile(r"^```python (\S+)\n(.*?)^```\n", re.M | re.S)


def _pages_with_fixed_blocks() -> List[Tuple[str, str, str]]:
    out = []
    for code, path in sorted(page_paths().items()):
        with open(path, encoding="utf-8") as fh:
            blocks = [(m.group(1), m.group(2)) for m in _BLOCK.finditer(fh.read())]
        bad = [b for tag, b in blocks if tag == "bad"]
        fixed_blocks = [b for tag, b in blocks if tag == "fixed"]
        if fixed_blocks:
            out.append((code, bad[0], fixed_blocks[0]))
    return out


@pytest.mark.parametrize("code,bad,expected", _pages_with_fixed_blocks(), ids=lambda v: v if isinstance(v, str) and v.startswith("TL") else "")
def test_page_fixed_block_is_what_fix_makes_of_the_first_bad_block(code, bad, expected):
    out, applied = fixed(bad, unsafe=True)
    assert code in applied
    assert out == expected
    assert code not in [d.code for d in lint_source(expected)]


def test_fixable_rules_and_pages_with_fixed_examples_agree():
    with_examples = {code for code, _, _ in _pages_with_fixed_blocks()}
    with_pages = set(page_paths())
    fixable = {r.code for r in registry.all_rules() if r.fixable}
    assert with_examples <= fixable
    assert fixable & with_pages == with_examples
