"""Safe fixes change nothing but the buggy path: the fixed program is run beside the original
and what it computes elsewhere is compared (here: the mode each forward pass runs in), and
fixes that would change a path the finding is not about are not offered. The other fixable
rules' programs are in tests/fix_behaviour/, one module per family; the last test here holds
every fixable rule to having one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fix_behaviour import test_data_model, test_graph, test_loop, test_loss
from tests.fix_behaviour.common import Program, Runs, fix_and_run
from trainlint import registry
from trainlint.cli import main

pytest.importorskip("torch")

# Every forward records (phase, model.training); the evaluation runs in training mode (TL403).
EVAL_LOOP = """\
import json
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
phase = ["train"]
seen = []
model.register_forward_pre_hook(lambda m, a: seen.append((phase[0], m.training)))
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]


def evaluate(batches):
    phase[0] = "eval"
    total = 0.0
    with torch.no_grad():
        for x, y in batches:
            total += nn.functional.cross_entropy(model(x), y).item()
    phase[0] = "train"
    return total


for epoch in range(2):
    for x, y in data:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    evaluate(data)
print(json.dumps(seen))
"""

# The same, and then a caller that puts the model in eval mode on purpose before a last
# evaluation: the fixed helper must leave the model in the mode the caller chose.
EVAL_ON_PURPOSE = EVAL_LOOP.replace(
    "print(json.dumps(seen))",
    """

def report():
    for m in model.modules():  # (eval mode set by hand, as some inference code does)
        m.training = False
    evaluate(data)
    seen.append(["after", model.training])


report()
print(json.dumps(seen))""",
)

# The pass sits in a helper that training calls too: no fix may touch it.
SHARED_HELPER = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Runner:
    def __init__(self):
        self.model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def evaluate_batch(self, x, y):
        logits = self.model(x)
        return F.cross_entropy(logits, y)

    def fit(self, data):
        for x, y in data:
            self.opt.zero_grad()
            loss = self.evaluate_batch(x, y)
            loss.backward()
            self.opt.step()

    @torch.no_grad()
    def validate(self, data):
        return sum(self.evaluate_batch(x, y).item() for x, y in data)


data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]
r = Runner()
r.fit(data)
print(r.validate(data))
"""

# The pass is a `return`: a `.train()` after it would never run.
RETURNED_PASS = """\
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)


@torch.no_grad()
def predict(x):
    return model(x).argmax(1)


for step in range(3):
    x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
print(predict(torch.randn(8, 4)))
"""


# The evaluation loop can return from inside: the model would stay in eval mode on that path.
RETURN_INSIDE = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]


def evaluate(batches):
    total = 0.0
    with torch.no_grad():
        for x, y in batches:
            if not torch.isfinite(x).all():
                return float("nan")
            total += F.cross_entropy(model(x), y).item()
    return total


for epoch in range(2):
    for x, y in data:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    print(evaluate(data))
"""

# `.eval()` inside the training loop (in the evaluation helper), never undone (TL403).
NEVER_RESTORED = """\
import json
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
phase = ["train"]
seen = []
model.register_forward_pre_hook(lambda m, a: seen.append((phase[0], m.training)))
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]


def evaluate(batches):
    model.eval()
    phase[0] = "eval"
    with torch.no_grad():
        total = sum(nn.functional.cross_entropy(model(x), y).item() for x, y in batches)
    phase[0] = "train"
    return total


for epoch in range(2):
    for x, y in data:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    evaluate(data)
print(json.dumps(seen))
"""

# The same, with the batch norm frozen on purpose while fine-tuning: every forward records
# (phase, batch norm's mode, dropout's mode).
FROZEN_PART = """\
import json
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
phase = ["train"]
seen = []
model.register_forward_pre_hook(lambda m, a: seen.append((phase[0], m[1].training, m[3].training)))
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]


def freeze_batch_norm(net):
    for m in net.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.eval()


def evaluate(batches):
    model.eval()
    phase[0] = "eval"
    with torch.no_grad():
        total = sum(nn.functional.cross_entropy(model(x), y).item() for x, y in batches)
    phase[0] = "train"
    return total


model.train()
freeze_batch_norm(model)
for epoch in range(2):
    for x, y in data:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    evaluate(data)
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    programs = {
        "eval-loop": Program("TL403", EVAL_LOOP),
        "eval-on-purpose": Program("TL403", EVAL_ON_PURPOSE),
        "never-restored": Program("TL403", NEVER_RESTORED),
        "frozen-part": Program("TL403", FROZEN_PART, unsafe=True),
    }
    return fix_and_run(tmp_path_factory.mktemp("tl403"), programs)


def _fix(path: Path) -> str:
    res = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--fix", "--select", "TL403", str(path)])
    return res.stderr


def test_the_tl403_fix_puts_evaluation_in_eval_mode_and_leaves_training_as_it_was(runs: Runs) -> None:
    before, after = runs["eval-loop"].original, runs["eval-loop"].fixed
    assert len(before) == len(after) == 12
    assert [m for m in before if m[0] == "train"] == [m for m in after if m[0] == "train"] == [["train", True]] * 6
    assert [m for m in before if m[0] == "eval"] == [["eval", True]] * 6
    assert [m for m in after if m[0] == "eval"] == [["eval", False]] * 6


def test_the_tl403_fix_leaves_the_model_in_the_mode_its_caller_chose(runs: Runs) -> None:
    before, after = runs["eval-on-purpose"].original, runs["eval-on-purpose"].fixed
    assert before[-1] == after[-1] == ["after", False]
    assert [m for m in after if m[0] == "train"] == [["train", True]] * 6
    assert [m for m in after if m[0] == "eval"] == [["eval", False]] * 9


def test_the_tl403_fix_puts_training_back_in_training_mode_after_evaluating(runs: Runs) -> None:
    before, after = runs["never-restored"].original, runs["never-restored"].fixed
    # (a) The first epoch's training and every evaluation run in the modes they ran in.
    assert after[:6] == before[:6] == [["train", True]] * 3 + [["eval", False]] * 3
    assert after[9:] == before[9:] == [["eval", False]] * 3
    # (b) The second epoch trained in eval mode; fixed, in training mode.
    assert before[6:9] == [["train", False]] * 3
    assert after[6:9] == [["train", True]] * 3


def test_the_tl403_fix_is_unsafe_where_part_of_the_model_is_frozen(runs: Runs) -> None:
    before, after = runs["frozen-part"].original, runs["frozen-part"].fixed
    train = [i for i, m in enumerate(before) if m[0] == "train"]
    # (a) The evaluations are unchanged (all in eval mode).
    assert [m for m in after if m[0] == "eval"] == [m for m in before if m[0] == "eval"] == [["eval", False, False]] * 6
    # (b) Dropout trains in training mode in every epoch (it was off from the second on).
    assert [before[i][2] for i in train] == [True] * 3 + [False] * 3
    assert [after[i][2] for i in train] == [True] * 6
    # Beyond the bug (why the fix is unsafe): `model.train()` also unfreezes the batch norm.
    assert [before[i][1] for i in train] == [False] * 6
    assert [after[i][1] for i in train] == [True] * 6


@pytest.mark.parametrize(
    "source", [SHARED_HELPER, RETURNED_PASS, RETURN_INSIDE], ids=["shared-helper", "returned-pass", "return-inside"]
)
def test_no_tl403_fix_where_it_would_change_training_or_never_restore(tmp_path: Path, source: str) -> None:
    path = tmp_path / "train.py"
    path.write_text(source)
    res = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--output-format", "json", str(path)])
    found = [d for d in json.loads(res.stdout)["diagnostics"] if d["code"] == "TL403"]
    assert found and all(d["fix"] is None for d in found)
    _fix(path)
    assert path.read_text() == source


def test_every_fixable_rule_has_its_fixed_program_run() -> None:
    families = (test_loop, test_loss, test_data_model, test_graph)
    covered = {"TL403"} | {p.rule for family in families for p in family.PROGRAMS.values()}
    fixable = {r.code for r in registry.all_rules() if r.fixable}
    assert fixable <= covered, f"fixable rules with no behaviour test: {sorted(fixable - covered)}"
