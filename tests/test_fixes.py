"""What each fix does to code: before/after pairs, the shapes of code that get no fix, and the
rule pages' `fixed` examples (fixing a page's first `bad` block gives its `fixed` block)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from trainlint import registry
from trainlint.config import Settings
from trainlint.diagnostics import Fix
from trainlint.fixes import apply_edits
from trainlint.fixes.apply import fix_sources
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


def test_tl101_clears_before_the_first_of_the_backwards_a_step_sums():
    """`real.backward(); fake.backward(); step()`: clearing between the two would drop the
    first one's gradient."""
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            real = crit(model(x), y)
            real.backward()
            fake = crit(model(-x), y)
            fake.backward()
            opt.step()
        """
    )
    after = before.replace("    real.backward()\n", "    opt.zero_grad()\n    real.backward()\n")
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
    after = before.replace(
        "    # reset\n    opt.zero_grad()  # here\n    opt.step()\n",
        "    opt.step()\n    # reset\n    opt.zero_grad()  # here\n",
    )
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
    after = before.replace(clip, "").replace(
        "    scaler.step(opt)\n", "    scaler.unscale_(opt)\n" + clip + "    scaler.step(opt)\n"
    )
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
    before = src(
        AMP.replace("    nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n", "").replace("    scaler.update()\n", "")
    )
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


@pytest.mark.parametrize(
    "code,bad,expected",
    _pages_with_fixed_blocks(),
    ids=lambda v: v if isinstance(v, str) and v.startswith("TL") else "",
)
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


# ---------------------------------------------------------------------------- TL2xx


def test_tl201_drops_an_inline_softmax_in_forward_unsafe():
    before = src(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)

            def forward(self, x):
                return F.softmax(
                    self.fc(x),
                    dim=1,
                )

        net = Net()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        for x, y in [(torch.randn(8, 4), torch.randint(0, 3, (8,)))]:
            optimizer.zero_grad()
            crit(net(x), y).backward()
            optimizer.step()
        """
    )
    after = before.replace(
        "return F.softmax(\n            self.fc(x),\n            dim=1,\n        )", "return self.fc(x)"
    )
    assert_fix(before, after, "TL201", "unsafe")


def test_tl201_unwraps_a_softmax_layer_called_in_forward():
    before = src(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.act = nn.Softmax(dim=1)

            def forward(self, x):
                return self.act(self.fc(x) + 1)

        net = Net()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        for x, y in [(torch.randn(8, 4), torch.randint(0, 3, (8,)))]:
            optimizer.zero_grad()
            crit(net(x), y).backward()
            optimizer.step()
        """
    )
    after = before.replace("return self.act(self.fc(x) + 1)", "return self.fc(x) + 1")
    assert_fix(before, after, "TL201", "unsafe")


def test_tl202_removes_the_last_sigmoid_layer_keeping_the_layout():
    before = src(
        """
        disc = nn.Sequential(
            nn.Linear(4, 8),
            nn.Sigmoid(),
        )
        bce = nn.BCEWithLogitsLoss()
        optimizer = torch.optim.SGD(disc.parameters(), lr=0.1)
        for x, y in [(torch.randn(8, 4), torch.rand(8, 8))]:
            optimizer.zero_grad()
            bce(disc(x), y).backward()
            optimizer.step()
        """
    )
    after = before.replace("    nn.Sigmoid(),\n", "")
    assert_fix(before, after, "TL202", "unsafe")


def test_tl202_drops_an_inline_sigmoid():
    before = src(
        """
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in [(torch.randn(8, 4), torch.rand(8, 2))]:
            optimizer.zero_grad()
            F.binary_cross_entropy_with_logits(torch.sigmoid(model(x)), y).backward()
            optimizer.step()
        """
    )
    after = before.replace("torch.sigmoid(model(x))", "model(x)")
    assert_fix(before, after, "TL202", "unsafe")


def test_tl203_renames_the_loss_constructor_and_the_functional_form():
    before = src(
        """
        bce = nn.BCELoss()
        for x, y in [(torch.randn(8, 4), torch.rand(8, 2))]:
            opt.zero_grad()
            bce(model(x), y).backward()
            opt.step()
        """
    )
    assert_fix(before, before.replace("nn.BCELoss()", "nn.BCEWithLogitsLoss()"), "TL203", "unsafe")
    functional = before.replace("bce(model(x), y)", "F.binary_cross_entropy(model(x), y)")
    assert_fix(
        functional,
        functional.replace("F.binary_cross_entropy(", "F.binary_cross_entropy_with_logits("),
        "TL203",
        "unsafe",
    )


def test_tl203_no_fix_when_the_same_loss_also_gets_probabilities():
    code = src(
        """
        bce = nn.BCELoss()
        for x, y in [(torch.randn(8, 4), torch.rand(8, 2))]:
            opt.zero_grad()
            bce(model(x), y).backward()
            opt.step()
        print(bce(torch.sigmoid(model(x)), y))
        """
    )
    assert fix_of(code, "TL203") is None


def test_tl204_softmax_becomes_log_softmax():
    before = src(
        """
        nll = nn.NLLLoss()
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            opt.zero_grad()
            nll(F.softmax(model(x), dim=1), y).backward()
            opt.step()
        """
    )
    assert_fix(
        before, before.replace("F.softmax(model(x), dim=1)", "F.log_softmax(model(x), dim=1)"), "TL204", "unsafe"
    )


def test_tl204_raw_scores_switch_to_cross_entropy():
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            opt.zero_grad()
            F.nll_loss(model(x), y).backward()
            opt.step()
        """
    )
    assert_fix(before, before.replace("F.nll_loss(", "F.cross_entropy("), "TL204", "unsafe")


def test_tl207_passes_dim_and_says_which():
    before = src("probs = F.softmax(model(torch.randn(2, 4)))\n")
    fix = fix_of(before, "TL207")
    assert fix is not None and "dim=-1" in fix.description
    assert_fix(
        before, before.replace("model(torch.randn(2, 4)))", "model(torch.randn(2, 4)), dim=-1)"), "TL207", "unsafe"
    )
    layer = src("act = nn.Softmax()\n")
    assert_fix(layer, layer.replace("nn.Softmax()", "nn.Softmax(dim=-1)"), "TL207", "unsafe")


# ---------------------------------------------------------------------------- TL302, TL4xx


LOADER_LOOP = """
for x, y in loader:
    opt.zero_grad()
    crit(model(x), y).backward()
    opt.step()
"""


def test_tl302_adds_shuffle_following_a_one_argument_per_line_call():
    before = src(
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "loader = DataLoader(\n    TensorDataset(torch.randn(64, 4), torch.arange(64) // 32),\n    batch_size=8\n)\n"
        + LOADER_LOOP
    )
    after = before.replace("    batch_size=8\n)", "    batch_size=8,\n    shuffle=True\n)")
    assert_fix(before, after, "TL302")


def test_tl302_explicit_shuffle_false_is_an_unsafe_fix():
    before = src(
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "loader = DataLoader(TensorDataset(torch.randn(64, 4), torch.arange(64) // 32), batch_size=8, shuffle=False)\n"
        "for epoch in range(3):\n" + textwrap.indent(LOADER_LOOP, "    ")
    )
    assert_fix(before, before.replace("shuffle=False", "shuffle=True"), "TL302", "unsafe")


EVAL_MODEL = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.fc(self.drop(x))


net = Net()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
val = [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]
"""


def test_tl403_evaluation_function_restores_the_mode_it_was_called_in():
    before = src(
        EVAL_MODEL
        + """
def validate():
    correct = 0
    with torch.no_grad():
        for x, y in val:
            correct += (net(x).argmax(1) == y).sum().item()
    return correct


for epoch in range(2):
    for x, y in val:
        optimizer.zero_grad()
        crit(net(x), y).backward()
        optimizer.step()
    print(validate())
"""
    )
    after = before.replace(
        "        for x, y in val:\n            correct += (net(x).argmax(1) == y).sum().item()\n",
        "        was_training = net.training\n        net.eval()\n        for x, y in val:\n"
        "            correct += (net(x).argmax(1) == y).sum().item()\n        net.train(was_training)\n",
    )
    assert_fix(before, after, "TL403")


def test_tl403_evaluation_inside_the_training_function_trains_again_after_it():
    before = src(
        EVAL_MODEL
        + """
for epoch in range(2):
    for x, y in val:
        optimizer.zero_grad()
        crit(net(x), y).backward()
        optimizer.step()
    correct = 0
    with torch.no_grad():
        for x, y in val:
            correct += (net(x).argmax(1) == y).sum().item()
"""
    )
    after = before.replace(
        "        for x, y in val:\n            correct += (net(x).argmax(1) == y).sum().item()\n",
        "        net.eval()\n        for x, y in val:\n            correct += (net(x).argmax(1) == y).sum().item()\n"
        "        net.train()\n",
    )
    assert_fix(before, after, "TL403")


def test_tl403_training_mode_restored_each_epoch():
    before = src(
        EVAL_MODEL
        + """
for epoch in range(2):
    for x, y in val:
        optimizer.zero_grad()
        crit(net(x), y).backward()
        optimizer.step()
    net.eval()
"""
    )
    after = before.replace("for epoch in range(2):\n", "for epoch in range(2):\n    net.train()\n")
    assert_fix(before, after, "TL403")


def test_tl404_decorates_an_evaluation_function():
    before = src(
        EVAL_MODEL
        + """
def evaluate(loader):
    net.eval()
    total = 0.0
    for x, y in loader:
        total += crit(net(x), y).item()
    return total
"""
    )
    assert_fix(before, before.replace("def evaluate(loader):", "@torch.no_grad()\ndef evaluate(loader):"), "TL404")


def test_tl404_wraps_the_forward_with_the_module_alias_for_torch():
    before = textwrap.dedent(
        """\
        import torch as tt
        from torch import nn

        net = nn.Sequential(nn.Linear(4, 2), nn.Dropout(0.5))
        optimizer = tt.optim.SGD(net.parameters(), lr=0.1)
        crit = nn.CrossEntropyLoss()
        data = [(tt.randn(8, 4), tt.randint(0, 2, (8,)))]


        def fit():
            for x, y in data:
                optimizer.zero_grad()
                crit(net(x), y).backward()
                optimizer.step()
            net.eval()
            # held-out pass
            for x, y in data:
                print(crit(net(x), y).item())
            net.train()
        """
    )
    # The smallest edit: the forward's statement, not the whole loop.
    body = "    for x, y in data:\n        print(crit(net(x), y).item())\n"
    after = before.replace(
        body,
        "    for x, y in data:\n        with tt.no_grad():\n            print(crit(net(x), y).item())\n",
    )
    assert_fix(before, after, "TL404")


def test_tl404_wraps_a_long_loop_only_as_an_unsafe_fix():
    # The forward shares its line with another statement, so the loop is what gets wrapped,
    # and a loop of more than 15 lines is re-indented only with --unsafe-fixes.
    logging = "".join(f"            print('batch', {i})\n" for i in range(16))
    before = src(
        f"""
        net = nn.Sequential(nn.Linear(4, 2), nn.Dropout(0.5))
        data = [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]
        net.eval()
        for x, y in data:
            out = net(x); print(out.argmax(1))
{logging}        """
    )
    (finding,) = [d for d in lint_source(before) if d.code == "TL404"]
    assert finding.fix is not None and finding.fix.applicability == "unsafe"
    assert "re-indents 18 lines" in finding.fix.description


def test_tl405_passes_training_flag():
    before = src(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(F.dropout(x, 0.5))
        """
    )
    assert_fix(before, before.replace("F.dropout(x, 0.5)", "F.dropout(x, 0.5, training=self.training)"), "TL405")


# ---------------------------------------------------------------------------- TL6xx

MANUAL = """
w = torch.randn(4, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
x, y = torch.randn(16, 4), torch.randn(16)
lr = 0.1
"""


def test_tl602_rebinding_becomes_an_in_place_update_under_no_grad():
    before = src(
        MANUAL
        + """
for step in range(5):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    w = w - lr * w.grad
    w.grad = None
"""
    )
    after = before.replace("    w = w - lr * w.grad\n", "    with torch.no_grad():\n        w -= lr * w.grad\n")
    assert_fix(before, after, "TL602", "unsafe")


def test_tl602_update_outside_no_grad_wraps_both_updates_once():
    before = src(
        MANUAL
        + """
for step in range(5):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    w -= lr * w.grad
    b -= lr * b.grad
    w.grad = None
    b.grad = None
"""
    )
    after = before.replace(
        "    w -= lr * w.grad\n    b -= lr * b.grad\n",
        "    with torch.no_grad():\n        w -= lr * w.grad\n        b -= lr * b.grad\n",
    )
    assert_fix(before, after, "TL602", "unsafe")


def test_tl603_clears_after_the_run_of_updates():
    before = src(
        MANUAL
        + """
for step in range(5):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
"""
    )
    after = before.replace(
        "        b -= lr * b.grad\n", "        b -= lr * b.grad\n        w.grad = None\n        b.grad = None\n"
    )
    assert_fix(before, after, "TL603", "unsafe")


def test_tl604_item_for_a_local_total_detach_when_it_is_returned():
    loop = """
def train(loader):
    total = 0.0
    for x, y in loader:
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        total += loss
    {tail}
"""
    printed = src(loop.format(tail='print(f"{total:.3f}")'))
    assert_fix(printed, printed.replace("total += loss\n", "total += loss.item()\n"), "TL604")
    returned = src(loop.format(tail="return total / 2"))
    assert_fix(returned, returned.replace("total += loss\n", "total += loss.detach()\n"), "TL604")


def test_no_fix_builder_crashes_on_the_pages_and_the_corpus(monkeypatch: pytest.MonkeyPatch):
    # The engine drops a fix whose builder raises (the finding stays); here any raise fails.
    from trainlint import fixes
    from trainlint.pipeline import check_paths

    real_hook = fixes.hook
    crashes: List[str] = []

    def hook(fn, *args):  # type: ignore[no-untyped-def]
        build = real_hook(fn, *args)

        def checked(locate):  # type: ignore[no-untyped-def]
            try:
                return build(locate)
            except Exception as exc:  # collected and reported below
                crashes.append(f"{fn.__name__}: {type(exc).__name__}: {exc}")
                raise

        return checked

    monkeypatch.setattr(fixes, "hook", hook)
    offered = 0
    for path in page_paths().values():
        with open(path, encoding="utf-8") as fh:
            for m in _BLOCK.finditer(fh.read()):
                offered += sum(1 for d in lint_source(m.group(2)) if d.fix is not None)
    cases = Path(__file__).resolve().parents[1] / "benchmarks" / "quality" / "cases"
    if cases.is_dir():
        for case in sorted(cases.iterdir()):
            offered += sum(1 for d in check_paths([str(case)], Settings()).diagnostics if d.fix is not None)
    assert offered and not crashes, crashes


def test_tl101_on_an_optimizer_known_only_by_its_name_is_unsafe():
    before = src(
        """
        def train(net, loader, optimizer):
            for x, y in loader:
                loss = crit(net(x), y)
                loss.backward()
                optimizer.step()
        """
    )
    after = before.replace("        loss.backward()", "        optimizer.zero_grad()\n        loss.backward()")
    assert_fix(before, after, "TL101", "unsafe")
