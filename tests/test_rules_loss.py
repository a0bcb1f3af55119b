"""TL2xx: what the loss is fed (softmax/sigmoid before the loss, raw scores to BCE/NLL,
class labels to a regression loss, squashing last layers) and softmax without dim."""

from __future__ import annotations

import textwrap
from typing import Dict, List, Union

import pytest

from trainlint.diagnostics import Diagnostic, Severity
from trainlint.testing import lint_files

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def run(code: str, src: Union[str, Dict[str, str]]) -> List[Diagnostic]:
    files = {"train.py": src} if isinstance(src, str) else src
    files = {path: HEADER + textwrap.dedent(text) for path, text in files.items()}
    return [d for d in lint_files(files, select=[code]) if d.code == code]


def lines(diags: List[Diagnostic]) -> List[int]:
    return [d.span.line for d in diags]


def line_of(src: str, needle: str) -> int:
    """1-based line of `needle` in a test source once HEADER is prepended."""
    text = HEADER + textwrap.dedent(src)
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


LOOP = """
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
"""

SOFTMAX_MODEL = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 32)
        self.out = nn.Linear(32, 3)

    def forward(self, x):
        h = F.relu(self.hidden(x))
        return F.softmax(self.out(h), dim=1)
"""

TRAIN_WITH_HELPER = """
from models import Net


def train_one_epoch(model, loader, optimizer, criterion):
    for x, y in loader:
        optimizer.zero_grad()
        outputs = model(x)
        loss = criterion(outputs, y)
        loss.backward()
        optimizer.step()


def main():
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.{loss}()
    loader = [(torch.randn(8, 10), torch.randint(0, 3, (8,)))]
    for epoch in range(2):
        train_one_epoch(model, loader, optimizer, criterion)


main()
"""


# ---------------------------------------------------------------------------- TL201


def test_tl201_model_in_another_file_loss_built_in_main_and_passed_as_argument() -> None:
    files = {"models.py": SOFTMAX_MODEL, "train.py": TRAIN_WITH_HELPER.format(loss="CrossEntropyLoss")}
    (d,) = run("TL201", files)
    assert d.path == "train.py" and d.span.line == line_of(files["train.py"], "loss = criterion(outputs, y)")
    softmax_line = line_of(SOFTMAX_MODEL, "F.softmax")
    # The message names both ends and says how to fix it; the model end is a related location.
    assert "CrossEntropyLoss" in d.message and f"`Net.forward` (models.py:{softmax_line})" in d.message
    assert "raw" in d.message and "logits" in d.message
    assert ("models.py", softmax_line) in [(r.path, r.line) for r in d.related]
    assert any(r.path == "train.py" and "built here" in r.message for r in d.related)
    assert d.severity == Severity.ERROR


def test_tl201_inline_softmax_is_reported_at_the_softmax_call() -> None:
    src = "model = nn.Linear(10, 3)\nx, y = torch.randn(4, 10), torch.randint(0, 3, (4,))\nout = model(x)\nloss = F.cross_entropy(F.softmax(out, 1), y)\n"
    (d,) = run("TL201", src)
    assert d.span.line == line_of(src, "loss =") and d.span.column == len("loss = F.cross_entropy(") + 1


def test_tl201_softmax_computed_earlier_in_the_function() -> None:
    src = """
    class Trainer:
        def __init__(self, model):
            self.model = model
            self.criterion = nn.CrossEntropyLoss()

        def step(self, x, y):
            logits = self.model(x)
            probs = logits.softmax(dim=-1)
            loss = self.criterion(probs, y)
            return loss, (probs.argmax(-1) == y).float().mean()

    Trainer(nn.Linear(4, 3)).step(torch.randn(2, 4), torch.tensor([0, 1]))
    """
    (d,) = run("TL201", src)
    assert d.span.line == line_of(src, "loss = self.criterion")
    assert "logits.softmax(dim=-1)" in d.message


def test_tl201_sequential_ending_in_softmax_layer() -> None:
    src = "model = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1))\ncriterion = nn.CrossEntropyLoss()\n" + LOOP
    (d,) = run("TL201", src)
    assert "nn.Softmax(dim=1)" in d.message and "last layer" in d.message


def test_tl201_log_softmax_before_cross_entropy_is_a_warning() -> None:
    src = "model = nn.Sequential(nn.Linear(10, 3), nn.LogSoftmax(dim=1))\ncriterion = nn.CrossEntropyLoss()\n" + LOOP
    (d,) = run("TL201", src)
    assert d.severity == Severity.WARNING and "NLLLoss" in d.message


def test_tl201_model_calling_itself_in_a_training_step() -> None:
    src = """
    class Lit(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return torch.softmax(self.fc(x), dim=-1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return F.cross_entropy(self(x), y)
    """
    assert len(run("TL201", src)) == 1


@pytest.mark.parametrize(
    "src",
    [
        # softmax only for metrics
        "model = nn.Linear(10, 3)\ncriterion = nn.CrossEntropyLoss()\nx, y = torch.randn(4, 10), torch.randint(0, 3, (4,))\n"
        "logits = model(x)\nloss = criterion(logits, y)\nprobs = F.softmax(logits, dim=1)\nacc = (probs.argmax(1) == y).float().mean()\n",
        # log_softmax + NLLLoss
        "model = nn.Sequential(nn.Linear(10, 3), nn.LogSoftmax(dim=1))\ncriterion = nn.NLLLoss()\n" + LOOP,
        # a loss known only from its name
        "def step(model, criterion, x, y):\n    return criterion(F.softmax(model(x), 1), y)\n",
        # the value is turned into probabilities only after the loss
        "model = nn.Linear(10, 3)\nx, y = torch.randn(4, 10), torch.randint(0, 3, (4,))\nout = model(x)\n"
        "loss = F.cross_entropy(out, y)\nout = F.softmax(out, dim=1)\n",
        # forward returns probabilities only in eval mode
        """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 3)

    def forward(self, x):
        if self.training:
            return self.fc(x)
        return F.softmax(self.fc(x), dim=1)


model = Net()
criterion = nn.CrossEntropyLoss()
""" + LOOP,
    ],
    ids=["metrics-only", "log-softmax-nll", "name-guess", "after-loss", "returns-disagree"],
)
def test_tl201_must_not_fire(src: str) -> None:
    assert run("TL201", src) == []


# ---------------------------------------------------------------------------- TL202


SIGMOID_MODEL = """
class FraudNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(10, 16), nn.ReLU())
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        return torch.sigmoid(self.out(self.hidden(x)))
"""


def test_tl202_cross_file_sigmoid_model_with_bce_with_logits() -> None:
    train = """
    from models import FraudNet

    model = FraudNet()
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters())
    for step in range(3):
        x, y = torch.randn(8, 10), torch.rand(8, 1).round()
        scores = model(x)
        loss = criterion(scores, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """
    (d,) = run("TL202", {"models.py": SIGMOID_MODEL, "train.py": train})
    assert d.path == "train.py" and "`FraudNet.forward` (models.py:" in d.message
    assert any(r.path == "models.py" for r in d.related)


def test_tl202_sequential_ending_in_sigmoid_and_inline_sigmoid() -> None:
    seq = "model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())\ncriterion = nn.BCEWithLogitsLoss()\n" + LOOP
    assert len(run("TL202", seq)) == 1
    inline = "model = nn.Linear(10, 1)\nx, y = torch.randn(4, 10), torch.rand(4, 1)\nloss = F.binary_cross_entropy_with_logits(torch.sigmoid(model(x)), y)\n"
    assert len(run("TL202", inline)) == 1


@pytest.mark.parametrize(
    "src",
    [
        "model = nn.Linear(10, 1)\ncriterion = nn.BCEWithLogitsLoss()\nx, y = torch.randn(4, 10), torch.rand(4, 1)\n"
        "logits = model(x)\nloss = criterion(logits, y)\npreds = (torch.sigmoid(logits) > 0.5).float()\n",
        "model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())\ncriterion = nn.BCELoss()\n" + LOOP,
    ],
    ids=["sigmoid-for-metrics", "sigmoid-with-bceloss"],
)
def test_tl202_must_not_fire(src: str) -> None:
    assert run("TL202", src) == []


# ---------------------------------------------------------------------------- TL203


def test_tl203_cross_file_functional_bce_on_a_linear_head() -> None:
    models = """
    class ClickModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(6, 16)
            self.head = nn.Linear(16, 1)

        def forward(self, items):
            return self.head(torch.relu(self.proj(items))).squeeze(-1)
    """
    train = """
    from models import ClickModel

    model = ClickModel()
    items, clicked = torch.randn(8, 6), torch.rand(8).round()
    pred = model(items)
    loss = F.binary_cross_entropy(pred, clicked)
    """
    (d,) = run("TL203", {"models.py": models, "train.py": train})
    assert "BCEWithLogitsLoss" in d.message and "ClickModel.forward" in d.message


def test_tl203_sequential_without_sigmoid() -> None:
    src = "model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 1))\ncriterion = nn.BCELoss()\n" + LOOP
    assert len(run("TL203", src)) == 1


@pytest.mark.parametrize(
    "src",
    [
        "model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())\ncriterion = nn.BCELoss()\n" + LOOP,
        "model = nn.Linear(10, 1)\nx, y = torch.randn(4, 10), torch.rand(4, 1)\nloss = nn.BCELoss()(torch.sigmoid(model(x)), y)\n",
        "import timm\nmodel = timm.create_model('resnet18', num_classes=1)\ncriterion = nn.BCELoss()\n" + LOOP,
        "model = nn.Linear(10, 1)\nx, y = torch.randn(4, 10), torch.rand(4, 1)\nloss = F.binary_cross_entropy(model(x).clamp(0, 1), y)\n",
    ],
    ids=["sigmoid-layer", "inline-sigmoid", "library-model", "unknown-op"],
)
def test_tl203_must_not_fire(src: str) -> None:
    assert run("TL203", src) == []


# ---------------------------------------------------------------------------- TL204


def test_tl204_raw_scores_and_softmax_to_nll() -> None:
    raw = "model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 3))\ncriterion = nn.NLLLoss()\n" + LOOP
    (d,) = run("TL204", raw)
    assert "log_softmax" in d.message and "raw scores" in d.message
    probs = "model = nn.Linear(10, 3)\nx, y = torch.randn(4, 10), torch.randint(0, 3, (4,))\nloss = F.nll_loss(F.softmax(model(x), dim=1), y)\n"
    (d,) = run("TL204", probs)
    assert "probabilities" in d.message


def test_tl204_cross_file_softmax_forward_with_nll() -> None:
    files = {"models.py": SOFTMAX_MODEL, "train.py": TRAIN_WITH_HELPER.format(loss="NLLLoss")}
    (d,) = run("TL204", files)
    assert d.path == "train.py" and "Net.forward" in d.message


@pytest.mark.parametrize(
    "src",
    [
        "model = nn.Sequential(nn.Linear(10, 3), nn.LogSoftmax(dim=1))\ncriterion = nn.NLLLoss()\n" + LOOP,
        "model = nn.Linear(10, 3)\nx, y = torch.randn(4, 10), torch.randint(0, 3, (4,))\nloss = F.nll_loss(torch.log(F.softmax(model(x), 1)), y)\n",
        "model = nn.Linear(10, 3)\nx, y = torch.randn(4, 10), torch.randint(0, 3, (4,))\nloss = F.nll_loss(torch.log(model(x).clamp(min=1e-6)), y)\n",
    ],
    ids=["log-softmax", "log-of-softmax", "log-of-unknown"],
)
def test_tl204_must_not_fire(src: str) -> None:
    assert run("TL204", src) == []


# ---------------------------------------------------------------------------- TL205


def test_tl205_one_hot_target_and_integer_labels() -> None:
    onehot = (
        "model = nn.Linear(10, 5)\ncriterion = nn.MSELoss()\nx, y = torch.randn(8, 10), torch.randn(8)\n"
        "labels = torch.randint(0, 5, (8,))\nloss = criterion(model(x), F.one_hot(labels, 5).float())\n"
    )
    (d,) = run("TL205", onehot)
    assert "one-hot" in d.message and "CrossEntropyLoss" in d.message
    ints = "model = nn.Linear(4, 1)\nx = torch.randn(6, 4)\nspecies = torch.tensor([0, 1, 2, 0, 1, 2])\nloss = F.l1_loss(model(x).squeeze(1), species.float())\n"
    assert len(run("TL205", ints)) == 1
    casts = "model = nn.Linear(4, 1)\nx = torch.randn(6, 4)\ny = (x[:, 0] > 0).long()\nloss = nn.SmoothL1Loss()(model(x).squeeze(1), y.float())\n"
    assert len(run("TL205", casts)) == 1


def test_tl205_argmax_accuracy_on_the_same_outputs() -> None:
    src = """
    def fit(model, loader):
        criterion = nn.MSELoss()
        for xb, yb in loader:
            scores = model(xb)
            loss = criterion(scores.squeeze(1), yb.float())
            correct = (scores.squeeze(1).round() == yb).sum()
    """
    (d,) = run("TL205", src)
    assert "class predictions" in d.message


def test_tl205_criterion_built_in_main_and_passed_as_argument() -> None:
    src = """
    from torch.utils.data import DataLoader, TensorDataset


    def train_one_epoch(model, loader, optimizer, criterion):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x).squeeze(1), y.float())
            loss.backward()
            optimizer.step()


    def main():
        data = TensorDataset(torch.randn(64, 4), torch.randint(0, 3, (64,)))
        loader = DataLoader(data, batch_size=8, shuffle=True)
        model = nn.Linear(4, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        criterion = nn.MSELoss()
        train_one_epoch(model, loader, optimizer, criterion)


    main()
    """
    (d,) = run("TL205", src)
    assert "randint" in d.message and d.span.line == line_of(src, "loss = criterion")


@pytest.mark.parametrize(
    "src",
    [
        "model = nn.Linear(2, 1)\nx = torch.rand(64, 2)\ny = torch.sin(3 * x[:, :1])\nloss = nn.MSELoss()(model(x), y)\n",
        "emb = nn.Embedding(10, 1)\nusers = torch.randint(0, 10, (64,))\nratings = torch.randint(1, 6, (64,)).float()\n"
        "loss = F.mse_loss(emb(users).squeeze(1), ratings)\n",
        "ae = nn.Sequential(nn.Linear(8, 2), nn.Linear(2, 8))\nx = torch.randn(16, 8)\nloss = F.mse_loss(ae(x), x)\n",
        "def step(model, criterion, x, y):\n    return criterion(model(x), F.one_hot(y, 3).float())\n",
    ],
    ids=["real-regression", "ratings-from-one", "autoencoder", "name-guess"],
)
def test_tl205_must_not_fire(src: str) -> None:
    assert run("TL205", src) == []


# ---------------------------------------------------------------------------- TL206


def test_tl206_relu_sigmoid_tanh_last_layers() -> None:
    relu = "model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 3), nn.ReLU())\ncriterion = nn.CrossEntropyLoss()\n" + LOOP
    (d,) = run("TL206", relu)
    assert "ReLU" in d.message and "nn.Linear" in d.message
    tanh = "model = nn.Linear(10, 3)\nx, y = torch.randn(4, 10), torch.randint(0, 3, (4,))\nloss = F.cross_entropy(torch.tanh(model(x)), y)\n"
    assert len(run("TL206", tanh)) == 1


def test_tl206_cross_file_sigmoid_head() -> None:
    models = """
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(16, 32, 3, padding=1)
            self.classifier = nn.Sequential(nn.Linear(32, 6), nn.Sigmoid())

        def forward(self, spec):
            return self.classifier(F.relu(self.conv(spec)).mean(-1))
    """
    train = """
    from models import Tagger

    model = Tagger()
    s, t = torch.randn(4, 16, 20), torch.randint(0, 6, (4,))
    loss = F.cross_entropy(model(s), t)
    """
    (d,) = run("TL206", {"models.py": models, "train.py": train})
    assert d.path == "train.py" and "Tagger.forward" in d.message and "nn.Sigmoid()" in d.message


@pytest.mark.parametrize(
    "src",
    [
        "model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 3))\ncriterion = nn.CrossEntropyLoss()\n" + LOOP,
        "model = nn.Sequential(nn.Linear(10, 8), nn.Tanh(), nn.Linear(8, 3), nn.Dropout(0.1))\ncriterion = nn.CrossEntropyLoss()\n" + LOOP,
        # a softmax last layer is TL201's
        "model = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1))\ncriterion = nn.CrossEntropyLoss()\n" + LOOP,
        # ReLU before BCEWithLogits / MSE is not about cross-entropy
        "model = nn.Sequential(nn.Linear(10, 1), nn.ReLU())\ncriterion = nn.MSELoss()\n" + LOOP,
    ],
    ids=["hidden-relu", "hidden-tanh-dropout-last", "softmax-last", "not-cross-entropy"],
)
def test_tl206_must_not_fire(src: str) -> None:
    assert run("TL206", src) == []


# ---------------------------------------------------------------------------- TL207


@pytest.mark.parametrize(
    "expr",
    [
        "F.softmax(x)",
        "F.log_softmax(x)",
        "torch.softmax(x)",
        "nn.Softmax()",
        "nn.LogSoftmax()",
        "F.softmax(x, dim=None)",
        "x.softmax()",
    ],
)
def test_tl207_fires_without_dim(expr: str) -> None:
    src = f"x = torch.randn(4, 3)\ny = {expr}\n"
    (d,) = run("TL207", src)
    assert d.span.line == 5 and "dim=" in d.message


def test_tl207_through_a_from_import() -> None:
    src = "from torch.nn.functional import softmax\nprobs = softmax(torch.randn(2, 3))\n"
    assert len(run("TL207", src)) == 1


@pytest.mark.parametrize(
    "expr",
    [
        "F.softmax(x, dim=-1)",
        "F.softmax(x, 1)",
        "torch.log_softmax(x, 1)",
        "nn.Softmax(dim=1)",
        "nn.Softmax(1)",
        "x.softmax(-1)",
        "F.softmax(x, *args)",
    ],
)
def test_tl207_explicit_dim_is_fine(expr: str) -> None:
    src = f"args = (1,)\nx = torch.randn(4, 3)\ny = {expr}\n"
    assert run("TL207", src) == []


def test_tl207_other_libraries_and_layer_attributes_are_not_reported() -> None:
    src = """
    from scipy.special import softmax as sp_softmax

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.softmax = nn.Softmax(dim=1)

        def forward(self, x):
            return self.softmax(x)

    probs = sp_softmax([1.0, 2.0])
    """
    assert run("TL207", src) == []
