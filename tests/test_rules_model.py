"""TL4xx: weight init, saturating stacks, eval mode, evaluation without no_grad, functional dropout."""

from __future__ import annotations

import textwrap
from typing import Any, Dict, List, Optional, Union

import pytest

from trainlint.config import Settings
from trainlint.diagnostics import Diagnostic
from trainlint.engine import check_sources

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


# ---------------------------------------------------------------------------- TL401

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


@pytest.mark.parametrize(
    "body, needle",
    [
        (
            """
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, mean=0.0, std=1.0)
            """,
            "normal_",
        ),
        (
            """
            for layer in (self.fc1, self.fc2, self.head):
                nn.init.constant_(layer.weight, 0.05)
                nn.init.zeros_(layer.bias)
            """,
            "constant_(layer.weight",
        ),
        (
            """
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Conv2d)):
                    m.weight.data.fill_(0.5)
            """,
            "fill_",
        ),
        ("nn.init.ones_(self.fc2.weight)", "ones_"),
        ("nn.init.uniform_(self.fc1.weight)", "uniform_"),
        ("self.fc1.weight.data.normal_(0, 2.5)", "normal_"),
    ],
    ids=["normal-std-1", "constant-over-layers", "fill-in-guard", "ones-single", "uniform-default", "method-normal"],
)
def test_tl401_fires(body: str, needle: str) -> None:
    src = _init(body)
    (d,) = run("TL401", src)
    assert d.span.line == line_of(src, needle)
    assert "kaiming" in d.message


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


def test_tl401_cross_file_model() -> None:
    models = _init(
        """
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=1.0)
        """
    )
    train = "from models import Net\nmodel = Net()\n"
    (d,) = run("TL401", {"models.py": models, "train.py": train})
    assert d.path == "models.py"


@pytest.mark.parametrize(
    "body",
    [
        """
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.ones_(m.weight)
                nn.init.constant_(m.bias, 0.0)
        """,
        "nn.init.xavier_uniform_(self.fc1.weight)\nnn.init.orthogonal_(self.fc2.weight)",
        "nn.init.zeros_(self.head.weight)  # zero-init of the output layer is deliberate",
        "nn.init.normal_(self.embed.weight, std=1.0)",
        "nn.init.normal_(self.fc1.weight, std=0.02)\nnn.init.trunc_normal_(self.fc2.weight, std=0.02)",
        "nn.init.uniform_(self.fc1.weight, -0.1, 0.1)",
        "nn.init.normal_(self.fc1.weight, std=1.0 / 12 ** 0.5)",
        """
        for name, param in self.named_parameters():
            if "weight" in name:
                nn.init.normal_(param)
        """,
        """
        for m in self.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.weight.data.fill_(1.0)
        """,
    ],
    ids=["kaiming-bn", "xavier-orthogonal", "zero-output-layer", "embedding-default", "small-std", "small-uniform",
         "computed-std", "unknown-tensors", "bn-fill"],
)
def test_tl401_must_not_fire(body: str) -> None:
    assert run("TL401", _init(body)) == []


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


def test_tl402_cross_file_nested_sequential_in_a_class() -> None:
    models = """
    class DeepTanh(nn.Module):
        def __init__(self):
            super().__init__()
            block = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
            self.net = nn.Sequential(
                nn.Linear(2, 8), nn.Tanh(),
                nn.Sequential(nn.Linear(8, 8), nn.Tanh()),
                nn.Linear(8, 8), nn.Tanh(),
                nn.Linear(8, 8), nn.Tanh(),
                nn.Linear(8, 1),
            )

        def forward(self, x):
            return self.net(x)
    """
    (d,) = run("TL402", {"models.py": models, "train.py": "from models import DeepTanh\nmodel = DeepTanh()\n"})
    assert d.path == "models.py" and d.span.line == line_of(models, "self.net = nn.Sequential")


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


@pytest.mark.parametrize(
    "src",
    [
        "model = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid())\n",
        "model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.LayerNorm(4), nn.Tanh(),\n"
        "                      nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Tanh())\n",
        "model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(),\n"
        "                      nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh())\n",
        "rnn = nn.LSTM(8, 8, num_layers=6)\ngru = nn.GRU(8, 8, num_layers=6)\n",
        """
class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.g1, self.g2, self.g3, self.g4 = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x):
        x = torch.sigmoid(self.g1(x)) * x
        x = torch.sigmoid(self.g2(x)) * x
        x = x + torch.tanh(self.g3(x))
        return torch.tanh(self.g4(x))
""",
        "layers = []\nfor i in range(6):\n    layers += [nn.Linear(4, 4), nn.Sigmoid()]\nmodel = nn.Sequential(*layers)\n",
    ],
    ids=["three-only", "normalised", "relu-between", "recurrent", "gates-and-residuals", "dynamic-list"],
)
def test_tl402_must_not_fire(src: str) -> None:
    assert run("TL402", src) == []


# ---------------------------------------------------------------------------- TL403

DROPOUT_MODEL = """
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 4))

    def forward(self, x):
        return self.net(x)
"""

PLAIN_MODEL = DROPOUT_MODEL.replace("nn.Dropout(0.5), ", "")

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


@pytest.mark.parametrize(
    "model, train_mode, eval_mode",
    [
        (DROPOUT_MODEL, "model.train()", "model.eval()"),
        (PLAIN_MODEL, "model.train()", "pass"),
        (DROPOUT_MODEL, "model.train()", "model.train(False)"),
    ],
    ids=["eval-in-helper", "no-dropout-or-bn", "train-false"],
)
def test_tl403_must_not_fire(model: str, train_mode: str, eval_mode: str) -> None:
    assert run("TL403", TRAIN_EVAL.format(model=model, train_mode=train_mode, eval_mode=eval_mode)) == []


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


def test_tl403_train_restored_in_a_helper_the_loop_calls() -> None:
    src = TRAIN_EVAL.format(model=DROPOUT_MODEL, train_mode="model.train()", eval_mode="model.eval()")
    assert run("TL403", src) == []
    # evaluate() switches to eval mode and nothing switches back: the second epoch trains in eval mode
    broken = TRAIN_EVAL.format(model=DROPOUT_MODEL, train_mode="pass", eval_mode="model.eval()")
    (d,) = run("TL403", broken)
    assert d.span.line == line_of(broken, "model.eval()")


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


def test_tl403_deliberate_train_mode_without_training_is_left_alone() -> None:
    src = DROPOUT_MODEL + """
    model = MLP()
    x = torch.randn(8, 20)
    model.train()  # Monte-Carlo dropout: sample with dropout on purpose
    with torch.no_grad():
        samples = []
        for _ in range(20):
            samples.append(model(x))
    """
    assert run("TL403", src) == []


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


def test_tl404_wrapped_loop_is_fine() -> None:
    wrapped = VAL_LOOP.replace(
        "    for i in range(0, 100, 50):\n        logits",
        "    with torch.no_grad():\n      for i in range(0, 100, 50):\n        logits",
    )
    assert "with torch.no_grad()" in wrapped
    assert run("TL404", wrapped) == []


def test_tl404_a_single_prediction_outside_any_loop_is_not_worth_a_finding() -> None:
    # One forward after training records one graph: real code does this everywhere (a final
    # prediction, an attack or explainer step), and the "evaluation loop" wording would be wrong.
    src = VAL_LOOP.split("    model.eval()")[0] + "model.eval()\ntest_pred = model(torch.randn(5, 14)).argmax(dim=1)\n"
    assert run("TL404", src) == []


def test_tl404_project_decorator_factory_that_wraps_inference_mode() -> None:
    src = VAL_LOOP.replace("    model.eval()\n", "").replace("    for i in range(0, 100, 50):", "    evaluate()\n\n@smart_inference_mode()\ndef evaluate():\n    model.eval()\n    for i in range(0, 100, 50):")
    factory = """
def smart_inference_mode(fast=True):
    def decorate(fn):
        return (torch.inference_mode if fast else torch.no_grad)()(fn)
    return decorate
"""
    assert "def evaluate" in src
    assert run("TL404", factory + src) == []
    assert len(run("TL404", src.replace("@smart_inference_mode()\n", ""))) == 1


@pytest.mark.parametrize(
    "src",
    [
        """
        model = nn.Linear(4, 2)

        @torch.no_grad()
        def evaluate(model, batches):
            model.eval()
            return [model(x).argmax(1) for x in batches] + [model(b) for b in batches[:1]]

        @torch.inference_mode()
        def predict(model, x):
            model.eval()
            for _ in range(2):
                out = model(x)
            return out

        evaluate(model, [torch.randn(2, 4)])
        predict(model, torch.randn(2, 4))
        """,
        """
        model = nn.Linear(4, 2)

        def validate(model, batches):
            model.eval()
            for x in batches:
                out = model(x)
            return out

        with torch.no_grad():
            validate(model, [torch.randn(2, 4)])
        """,
        """
        policy = nn.Linear(4, 2)
        opt = torch.optim.Adam(policy.parameters())
        for episode in range(3):
            policy.eval()
            log_probs = []
            for t in range(5):
                log_probs.append(F.log_softmax(policy(torch.randn(1, 4)), -1)[0, 0])
            loss = -torch.stack(log_probs).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        """,
        """
        model = nn.Linear(4, 2)

        def evaluate_robustness(model, batches):
            model.eval()
            for x in batches:
                x.requires_grad_(True)
                loss = model(x).sum()
                grad, = torch.autograd.grad(loss, x)
        """,
    ],
    ids=["decorated", "caller-no-grad", "rollout-feeds-backward", "input-gradients"],
)
def test_tl404_must_not_fire(src: str) -> None:
    assert run("TL404", src) == []


# ---------------------------------------------------------------------------- TL405

DROPOUT_FORWARD = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        {body}
"""


@pytest.mark.parametrize(
    "body",
    [
        "return F.dropout(self.fc(x), 0.5)",
        "return F.dropout(self.fc(x), p=0.5)",
        "return self._encode(x)\n\n    def _encode(self, x):\n        return F.dropout2d(self.fc(x), 0.1)",
    ],
    ids=["positional-p", "keyword-p", "helper-method"],
)
def test_tl405_fires(body: str) -> None:
    (d,) = run("TL405", DROPOUT_FORWARD.format(body=body))
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


@pytest.mark.parametrize(
    "body",
    [
        "return F.dropout(self.fc(x), 0.5, training=self.training)",
        "return F.dropout(self.fc(x), 0.5, self.training)",
        "return F.dropout(self.fc(x), 0.5, training=True)  # Monte-Carlo dropout on purpose",
        "return self.drop(self.fc(x))",
        "x = self.fc(x)\n        if self.training and self.p > 0:\n            x = F.dropout(x, p=self.p)\n        return x",
        "return F.dropout(self.fc(x), 0.5) if self.training else self.fc(x)",
    ],
    ids=["keyword-training", "positional-training", "explicit-true", "module", "if-training", "ternary-training"],
)
def test_tl405_must_not_fire(body: str) -> None:
    assert run("TL405", DROPOUT_FORWARD.format(body=body)) == []


def test_tl405_outside_a_module_is_not_reported() -> None:
    src = "def augment(x):\n    return F.dropout(x, 0.1)\n"
    assert run("TL405", src) == []
