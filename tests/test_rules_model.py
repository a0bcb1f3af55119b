"""TL4xx: weight init, saturating stacks, eval mode, evaluation without no_grad, functional dropout.

Which lines fire, and which code must stay silent, is tested by the fixtures under
`tests/rules/TL401` ... `tests/rules/TL405` (run by `tests/test_rule_fixtures.py`). Here the
same fixtures are checked for what a line number cannot show (what the messages say), along with
the related locations and the options that move the thresholds.
"""

from __future__ import annotations

import textwrap
from typing import Any, Dict, List, Optional, Union

import pytest

from tests.test_rule_fixtures import RULES_DIR, load_fixture, run_fixture
from trainlint.config import Settings
from trainlint.diagnostics import Diagnostic
from trainlint.engine import check_sources
from trainlint.testing import lint_files, lint_source

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def run(code: str, src: Union[str, Dict[str, str]], options: Optional[Dict[str, Any]] = None) -> List[Diagnostic]:
    files = {"train.py": src} if isinstance(src, str) else src
    files = {path: HEADER + textwrap.dedent(text) for path, text in files.items()}
    settings = Settings()
    settings.select = [code]
    if options:
        settings.options[code] = options
    return [d for d in check_sources(files, settings).diagnostics if d.code == code]


def line_of(src: str, needle: str) -> int:
    text = HEADER + textwrap.dedent(src)
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def fixture_findings(code: str, name: str) -> List[Diagnostic]:
    fixture = load_fixture(code, RULES_DIR / code / f"{name}.py")
    return [d for d in run_fixture(fixture).diagnostics if d.code == code]


# ---------------------------------------------------------------------------- TL401

TL401_INIT_FIXTURES = [
    "normal_std_one_over_modules",
    "constant_weights_over_layers",
    "fill_weight_data_in_isinstance_guard",
    "ones_on_hidden_layer",
    "uniform_default_range",
    "tensor_normal_method_std_2_5",
]


@pytest.mark.parametrize("name", TL401_INIT_FIXTURES)
def test_tl401_message_suggests_kaiming(name: str) -> None:
    (d,) = fixture_findings("TL401", name)
    assert "kaiming" in d.message


INIT_MODEL = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 48)
        self.bn = nn.BatchNorm1d(48)
        self.fc2 = nn.Linear(48, 48)
        self.embed = nn.Embedding(100, 48)
        self.head = nn.Linear(48, 2)
{init}

    def forward(self, x):
        return self.head(F.relu(self.fc2(self.bn(self.fc1(x)))))
"""


def _init(body: str) -> str:
    return INIT_MODEL.format(init=textwrap.indent(textwrap.dedent(body), " " * 8))


def test_tl401_apply_callback_setting_zeros() -> None:
    src = """
    def init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.weight)
            nn.init.zeros_(module.bias)

    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 3))
    model.apply(init_weights)
    """
    (d,) = run("TL401", src)
    assert d.span.line == line_of(src, "zeros_(module.weight)") and "same value" in d.message


def test_tl401_max_scale_option() -> None:
    src = _init("nn.init.normal_(self.fc1.weight, std=1.5)")
    assert len(run("TL401", src)) == 1
    assert run("TL401", src, options={"max_scale": 2.0}) == []


# ---------------------------------------------------------------------------- TL402

SIGMOID_STACK = """
model = nn.Sequential(
    nn.Linear(16, 64), nn.Sigmoid(),
    nn.Linear(64, 64), nn.Sigmoid(),
    nn.Linear(64, 64), nn.Sigmoid(),
    nn.Linear(64, 64), nn.Sigmoid(),
    nn.Linear(64, 64), nn.Sigmoid(),
    nn.Linear(64, 2),
)
"""


def test_tl402_sequential_reported_at_the_sequential() -> None:
    (d,) = run("TL402", SIGMOID_STACK)
    assert d.span.line == line_of(SIGMOID_STACK, "model = nn.Sequential") and "5 sigmoid/tanh" in d.message
    text = (HEADER + textwrap.dedent(SIGMOID_STACK)).splitlines()
    last_sigmoid = max(n for n, line in enumerate(text, start=1) if "nn.Sigmoid()" in line)
    assert [r.line for r in d.related] == [last_sigmoid]


def test_tl402_min_depth_option() -> None:
    assert run("TL402", SIGMOID_STACK, options={"min_depth": 6}) == []


def test_tl402_functional_chain_in_forward() -> None:
    src = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 8)
            self.fc3 = nn.Linear(8, 8)
            self.fc4 = nn.Linear(8, 8)
            self.out = nn.Linear(8, 1)

        def forward(self, x):
            h = torch.tanh(self.fc1(x))
            h = torch.sigmoid(self.fc2(h))
            h = torch.tanh(self.fc3(h))
            h = self.fc4(h).tanh()
            return self.out(h)
    """
    (d,) = run("TL402", src)
    assert "Net.forward" in d.message


# ---------------------------------------------------------------------------- TL403

DROPOUT_MODEL = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 4))

    def forward(self, x):
        return self.net(x)
"""


TRAIN_EVAL = """
{model}

def train_one_epoch(model, loader, optimizer, criterion):
    {train_mode}
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def evaluate(model, loader):
    {eval_mode}
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct


def main():
    loader = [(torch.randn(8, 20), torch.randint(0, 4, (8,)))]
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        train_one_epoch(model, loader, optimizer, criterion)
        print(evaluate(model, loader))


main()
"""


def test_tl403_evaluation_in_training_mode() -> None:
    src = TRAIN_EVAL.format(model=DROPOUT_MODEL, train_mode="model.train()", eval_mode="pass")
    (d,) = run("TL403", src)
    assert d.span.line == line_of(src, "correct += (model(x)")
    assert "nn.Dropout(0.5)" in d.message and "model.eval()" in d.message
    assert any("Dropout" in r.message for r in d.related)


def test_tl403_eval_in_the_epoch_loop_never_restored() -> None:
    src = """
    model = nn.Sequential(nn.Linear(10, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    x, y = torch.randn(64, 10), torch.randint(0, 2, (64,))

    model.train()
    for epoch in range(3):
        for i in range(0, 64, 16):
            optimizer.zero_grad()
            loss = criterion(model(x[i:i + 16]), y[i:i + 16])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x).argmax(1) == y).float().mean()
    """
    (d,) = run("TL403", src)
    assert d.span.line == line_of(src, "model.eval()") and "model.train()" in d.message
    restored = src.replace("    for i in range(0, 64, 16):", "    model.train()\n    for i in range(0, 64, 16):")
    assert run("TL403", restored) == []


def test_tl403_cross_file_trainer_class() -> None:
    models = """
    class WideDeep(nn.Module):
        def __init__(self):
            super().__init__()
            self.deep = nn.Sequential(nn.Linear(10, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))

        def forward(self, x):
            return self.deep(x)
    """
    train = """
    from models import WideDeep


    class Trainer:
        def __init__(self, model, loader):
            self.model = model
            self.loader = loader
            self.optimizer = torch.optim.Adam(model.parameters())
            self.criterion = nn.CrossEntropyLoss()

        def validate(self):
            with torch.no_grad():
                for x, y in self.loader:
                    preds = self.model(x).argmax(dim=1)

        def fit(self, epochs):
            for epoch in range(epochs):
                self.model.train()
                for x, y in self.loader:
                    self.optimizer.zero_grad()
                    self.criterion(self.model(x), y).backward()
                    self.optimizer.step()
                self.validate()


    Trainer(WideDeep(), [(torch.randn(4, 10), torch.randint(0, 3, (4,)))]).fit(2)
    """
    (d,) = run("TL403", {"models.py": models, "train.py": train})
    assert d.path == "train.py" and d.span.line == line_of(train, "preds = self.model(x)")
    assert "models.py" in d.message


# ---------------------------------------------------------------------------- TL404

VAL_LOOP = """
model = nn.Sequential(nn.Linear(14, 64), nn.ReLU(), nn.Linear(64, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(100, 14), torch.randint(0, 2, (100,))
for epoch in range(2):
    model.train()
    for i in range(0, 100, 20):
        optimizer.zero_grad()
        loss = criterion(model(x[i:i + 20]), y[i:i + 20])
        loss.backward()
        optimizer.step()
    model.eval()
    for i in range(0, 100, 50):
        logits = model(x[i:i + 50])
        val_loss = criterion(logits, y[i:i + 50]).item()
"""


def test_tl404_validation_loop_with_gradients() -> None:
    (d,) = run("TL404", VAL_LOOP)
    assert d.span.line == line_of(VAL_LOOP, "logits = model(") and "no_grad" in d.message


SHARED_EPOCH = """
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.2), nn.Linear(16, 2))
criterion = nn.CrossEntropyLoss()
opt = torch.optim.Adam(model.parameters())
x, y = torch.randn(64, 8), torch.randint(0, 2, (64,))


def run_epoch(compute):
    total = 0.0
    for i in range(0, 64, 16):
        out = model(x[i:i + 16])
        total += compute(out, y[i:i + 16])
    return total


def train_compute(out, target):
    loss = criterion(out, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def val_compute(out, target):
    return criterion(out, target).item()


for epoch in range(3):
    model.train()
    run_epoch(train_compute)
    model.eval()
    val = run_epoch(val_compute)
"""


def test_tl404_a_shared_epoch_function_is_reported_at_its_evaluating_call() -> None:
    # run_epoch also trains (through the callback), so no_grad belongs around the evaluating call
    (d,) = run("TL404", SHARED_EPOCH)
    assert d.span.line == line_of(SHARED_EPOCH, "val = run_epoch(")
    assert "wrap this call in `with torch.no_grad():`" in d.message
    assert [r.line for r in d.related] == [line_of(SHARED_EPOCH, "out = model(")]
    fixed = SHARED_EPOCH.replace(
        "    val = run_epoch(val_compute)", "    with torch.no_grad():\n        val = run_epoch(val_compute)"
    )
    assert fixed != SHARED_EPOCH and run("TL404", fixed) == []


ONE_EVAL_CALLER = """
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.2), nn.Linear(16, 2))
x = torch.randn(64, 8)


def score_all():
    preds = []
    for i in range(0, 64, 16):
        preds.append(model(x[i:i + 16]).argmax(1))
    return preds


model.eval()
preds = score_all()
"""


def test_tl404_a_function_run_only_for_evaluation_points_at_the_callers_eval() -> None:
    (d,) = run("TL404", ONE_EVAL_CALLER)
    assert d.span.line == line_of(ONE_EVAL_CALLER, "preds.append(model(")
    assert [r.line for r in d.related] == [line_of(ONE_EVAL_CALLER, "model.eval()")]


# ---------------------------------------------------------------------------- TL405


TL405_FIXTURES = [
    "functional_dropout_positional_p",
    "functional_dropout_keyword_p",
    "functional_dropout2d_in_helper_method",
]


@pytest.mark.parametrize("name", TL405_FIXTURES)
def test_tl405_message_gives_the_training_argument(name: str) -> None:
    (d,) = fixture_findings("TL405", name)
    assert "training=self.training" in d.message


def test_tl405_cross_file_and_imported_alias() -> None:
    models = """
    from torch.nn.functional import dropout

    class TextCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)

        def forward(self, h):
            return F.log_softmax(self.fc(dropout(h, p=0.5)), dim=1)
    """
    (d,) = run("TL405", {"models.py": models, "train.py": "from models import TextCNN\nTextCNN()\n"})
    assert d.path == "models.py" and "TextCNN.forward" in d.message


# ---------------------------------------------------------------------------- TL405 messages


@pytest.mark.parametrize(
    "call,says",
    [
        ("F.dropout(h, 0.2)", "keeps dropping units after `model.eval()`"),
        ("F.alpha_dropout(h, 0.2)", "never drops anything, not even while training"),
        ("F.feature_alpha_dropout(h, 0.2)", "never drops anything, not even while training"),
    ],
)
def test_tl405_message_says_which_way_the_default_is_wrong(call: str, says: str) -> None:
    src = f"""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            h = self.fc(x)
            return {call}
    """
    (d,) = run("TL405", src)
    assert says in d.message


def test_tl407_names_both_orders_and_writes_the_transpose() -> None:
    src = load_fixture("TL407", RULES_DIR / "TL407" / "view_swaps_time_and_channels.py").files["train.py"]
    (d,) = [d for d in lint_source(src, select=["TL407"]) if d.code == "TL407"]
    assert "sizes (batch, channels, steps)" in d.message and "read as (batch, steps, channels)" in d.message
    assert "Use `x.transpose(1, 2)`" in d.message
    assert [src.splitlines()[r.line - 1].strip() for r in d.related] == ["batch, steps, channels = x.size()"]


def test_tl407_writes_a_permute_when_more_than_two_axes_move() -> None:
    src = load_fixture("TL407", RULES_DIR / "TL407" / "reshape_channels_last.py").files["train.py"]
    found = [d for d in lint_source(src, select=["TL407"]) if d.code == "TL407"]
    assert len(found) == 2 and all("Use `feats.permute(0, 2, 3, 1)`" in d.message for d in found)


def test_tl407_moves_the_axes_before_a_merging_reshape() -> None:
    src = load_fixture("TL407", RULES_DIR / "TL407" / "view_with_minus_one_or_merge.py").files["train.py"]
    found = {d.line: d.message for d in lint_source(src, select=["TL407"]) if d.code == "TL407"}
    lines = src.splitlines()
    (merge,) = [m for n, m in found.items() if "heads.view" in lines[n - 1]]
    assert "read as (self.n_heads, batch_size, length, self.value_dim)" in merge
    assert "Use `heads.permute(1, 2, 0, 3).reshape(batch_size, length, -1)`" in merge
    (minus_one,) = [m for n, m in found.items() if "queries.view" in lines[n - 1]]
    assert "Use `queries.transpose(1, 2).reshape(B, H, L_Q, -1)`" in minus_one


def test_tl403_asks_for_the_wrappers_own_train_method_again_and_offers_no_edit() -> None:
    folder = RULES_DIR / "TL403" / "wrapper_methods_switch_modes"
    files = {p.name: p.read_text() for p in folder.glob("*.py")}
    (d,) = [d for d in lint_files(files, select=["TL403"]) if d.code == "TL403"]
    assert d.path.endswith("model.py") and "`self.img_enc.eval()`" in d.message
    assert "Call `model.train_start()` again right after evaluating" in d.message
    assert d.fix is None
    assert any(r.path.endswith("train.py") for r in d.related)
