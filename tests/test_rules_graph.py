"""TL601-TL604: detached losses, hand-written updates, losses kept with their graph."""

from __future__ import annotations

import textwrap
from typing import Dict, List, Tuple

import pytest

from trainlint.testing import lint_files, lint_source


def _diags(src: str, code: str):  # type: ignore[no-untyped-def]
    return [d for d in lint_source(textwrap.dedent(src), select=[code]) if d.code == code]


def hits(src: str, code: str) -> List[int]:
    return [d.line for d in _diags(src, code)]


def line_of(src: str, line: int) -> str:
    return textwrap.dedent(src).splitlines()[line - 1]


def file_hits(files: Dict[str, str], code: str) -> List[Tuple[str, int]]:
    files = {k: textwrap.dedent(v) for k, v in files.items()}
    return [(d.path, d.span.line) for d in lint_files(files, select=[code]) if d.code == code]


HEAD = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
"""

# ------------------------------------------------------------------------------ TL601

TL601_FIRES = {
    "rewrapped-item": HEAD + """
for xb, yb in loader:
    optimizer.zero_grad()
    loss = torch.tensor(criterion(model(xb), yb).item(), requires_grad=True)
    loss.backward()
    optimizer.step()
""",
    "detached-predictions": HEAD + """
for xb, yb in loader:
    optimizer.zero_grad()
    preds = model(xb).detach()
    loss = criterion(preds, yb)
    loss.backward()
    optimizer.step()
""",
    "dot-data": HEAD + """
for xb, yb in loader:
    optimizer.zero_grad()
    loss = F.cross_entropy(model(xb).data, yb)
    loss.backward()
    optimizer.step()
""",
    "helper-returns-rewrapped-value": HEAD + """
def weighted(criterion, logits, targets, weight):
    value = criterion(logits, targets).item() * weight
    return torch.tensor(value, requires_grad=True)

def main():
    for epoch in range(2):
        w = 0.5 + 0.5 * epoch
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = weighted(criterion, model(xb), yb, w)
            loss.backward()
            optimizer.step()

main()
""",
    "trainer-method-and-argument": HEAD + """
class Trainer:
    def __init__(self, model):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def apply(self, loss):
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def fit(self):
        for xb, yb in loader:
            out = self.model(xb)
            self.apply(torch.tensor(F.cross_entropy(out, yb).item(), requires_grad=True))

Trainer(model).fit()
""",
    "scaled-backward": HEAD + """
scaler = torch.cuda.amp.GradScaler()
for xb, yb in loader:
    optimizer.zero_grad()
    loss = criterion(model(xb).detach(), yb)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
""",
}


@pytest.mark.parametrize("name", sorted(TL601_FIRES))
def test_tl601_fires(name: str) -> None:
    diags = _diags(TL601_FIRES[name], "TL601")
    assert len(diags) == 1
    assert "backward" in line_of(TL601_FIRES[name], diags[0].line)
    assert diags[0].related  # where the value left the graph


def test_tl601_cross_file_helper() -> None:
    files = {
        "losses.py": """
            import torch

            def smooth_loss(criterion, out, y):
                return torch.tensor(criterion(out, y).item(), requires_grad=True)
        """,
        "train.py": HEAD + """
from losses import smooth_loss
for xb, yb in loader:
    loss = smooth_loss(criterion, model(xb), yb)
    loss.backward()
""",
    }
    assert file_hits(files, "TL601") == [("train.py", 15)]


TL601_SILENT = {
    "detach-for-logging": HEAD + """
history = []
for xb, yb in loader:
    optimizer.zero_grad()
    loss = criterion(model(xb), yb)
    history.append(loss.detach().cpu().item())
    print(float(loss))
    loss.backward()
    optimizer.step()
""",
    "detached-target": HEAD + """
target_net = nn.Linear(8, 2)
for xb, yb in loader:
    optimizer.zero_grad()
    target = target_net(xb).max(1)[0].detach()
    loss = F.mse_loss(model(xb).max(1)[0], target)
    loss.backward()
    optimizer.step()
""",
    "gan-detached-fake": HEAD + """
gen = nn.Linear(4, 8)
for xb, yb in loader:
    fake = gen(torch.randn(8, 4))
    d_loss = criterion(model(xb), yb) + criterion(model(fake.detach()), torch.zeros(8, dtype=torch.long))
    d_loss.backward()
""",
    "sum-starting-from-a-constant-tensor": HEAD + """
for xb, yb in loader:
    total = torch.tensor(0.0)
    for k in range(3):
        total = total + criterion(model(xb + k), yb)
    total.backward()
""",
    "loss-from-raw-parameters": """
import torch
X = torch.randn(100, 3)
y = X @ torch.tensor([[2.0], [-1.0], [0.5]])
w = torch.zeros(3, 1, requires_grad=True)
for step in range(10):
    loss = ((X @ w - y) ** 2).mean()
    loss.backward()
""",
    "external-helper": HEAD + """
from mylib import compute_loss
for xb, yb in loader:
    loss = compute_loss(model, xb, yb)
    loss.backward()
""",
}


@pytest.mark.parametrize("name", sorted(TL601_SILENT))
def test_tl601_silent(name: str) -> None:
    assert hits(TL601_SILENT[name], "TL601") == []


# ------------------------------------------------------------------------------ TL602

RAW = """
import torch
X = torch.randn(200, 3)
y = X @ torch.tensor([[1.5], [-2.0], [0.5]])
w = torch.zeros(3, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05
"""

CORRECT = RAW + """
for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
"""

TL602_FIRES = {
    "ascent": CORRECT.replace("w -= lr", "w += lr").replace("b -= lr", "b += lr"),
    "ascent-add-with-alpha": CORRECT.replace("w -= lr * w.grad", "w.add_(w.grad, alpha=lr)"),
    "outside-no-grad": RAW + """
for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    for p in (w, b):
        p -= lr * p.grad
        p.grad = None
""",
    "rebinding-in-function": """
import torch

def fit(x, y, lr=0.1):
    w = torch.randn(2, requires_grad=True)
    for _ in range(100):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w, y)
        loss.backward()
        w = w - lr * w.grad
    return w
""",
    "rebinding-loop-variable": RAW + """
params = [w, b]
for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for p in params:
            p = p - lr * p.grad
""",
    "helper-called-with-grad-enabled": RAW + """
def update(params, lr):
    for p in params:
        p.sub_(lr * p.grad)
        p.grad = None

for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    update([w, b], lr)
""",
    "trainer-attribute": """
import torch

class Regressor:
    def __init__(self):
        self.w = torch.zeros(3, requires_grad=True)

    def fit(self, x, y, lr=0.1):
        for _ in range(10):
            loss = ((x @ self.w - y) ** 2).mean()
            loss.backward()
            self.w -= lr * self.w.grad
            self.w.grad = None
""",
}


@pytest.mark.parametrize("name", sorted(TL602_FIRES))
def test_tl602_fires(name: str) -> None:
    assert len(hits(TL602_FIRES[name], "TL602")) == 1


def test_tl602_groups_parameters_updated_the_same_way() -> None:
    (d,) = _diags(TL602_FIRES["ascent"], "TL602")
    assert "w += lr" in line_of(TL602_FIRES["ascent"], d.line)
    assert [line_of(TL602_FIRES["ascent"], r.line).strip() for r in d.related] == ["b += lr * b.grad"]
    assert "ascent" in d.message and "-=" in d.message


def test_tl602_messages_differ_by_problem() -> None:
    (rebind,) = _diags(TL602_FIRES["rebinding-in-function"], "TL602")
    (grad_on,) = _diags(TL602_FIRES["outside-no-grad"], "TL602")
    assert "leaf" in rebind.message and "no_grad" in grad_on.message


TL602_SILENT = {
    "correct": CORRECT,
    "dot-data": RAW + """
for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    for p in (w, b):
        p.data -= lr * p.grad
        p.data.add_(p.grad, alpha=-lr)
        p.grad.zero_()
""",
    "decorated-helper": RAW + """
@torch.no_grad()
def update(params, lr):
    for p in params:
        p -= lr * p.grad
        p.grad = None

for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    update([w, b], lr)
""",
    "helper-called-under-no-grad": TL602_FIRES["helper-called-with-grad-enabled"].replace(
        "    update([w, b], lr)", "    with torch.no_grad():\n        update([w, b], lr)"
    ),
    "rebinding-restores-a-leaf": TL602_FIRES["rebinding-in-function"].replace(
        "w = w - lr * w.grad", "w = (w - lr * w.grad).detach().requires_grad_()"
    ),
    "fgsm-sign-step": """
import torch
import torch.nn as nn
model = nn.Linear(4, 2)
x = torch.randn(8, 4, requires_grad=True)
for _ in range(5):
    loss = nn.functional.cross_entropy(model(x), torch.zeros(8, dtype=torch.long))
    loss.backward()
    with torch.no_grad():
        x += 0.01 * x.grad.sign()
        x.grad.zero_()
""",
    "maximising-an-objective": """
import torch
theta = torch.zeros(4, requires_grad=True)
for _ in range(10):
    objective = -(theta - 1.0).pow(2).sum()
    objective.backward()
    with torch.no_grad():
        theta += 0.1 * theta.grad
        theta.grad.zero_()
""",
    "copy-descent": RAW + """
for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for p in (w, b):
            p.copy_(p - lr * p.grad)
            p.grad = None
""",
    "momentum-buffer": RAW + """
v = torch.zeros_like(w)
for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        v = 0.9 * v + w.grad
        w -= lr * v
        w.grad.zero_()
""",
}


@pytest.mark.parametrize("name", sorted(TL602_SILENT))
def test_tl602_silent(name: str) -> None:
    assert hits(TL602_SILENT[name], "TL602") == []


# ------------------------------------------------------------------------------ TL603

TL603_FIRES = {
    "top-level": CORRECT.replace("        w.grad.zero_()\n        b.grad.zero_()\n", ""),
    "helper-update": RAW + """
def sgd_update(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)

def main():
    for epoch in range(2):
        for i in range(0, 200, 20):
            loss = ((X[i:i + 20] @ w + b - y[i:i + 20]) ** 2).mean()
            loss.backward()
            sgd_update([w, b], lr)

main()
""",
    "trainer-class": """
import torch
import torch.nn as nn

class Trainer:
    def __init__(self, model, lr):
        self.model, self.lr = model, lr

    def step(self, x, y):
        loss = nn.functional.mse_loss(self.model(x), y)
        loss.backward()
        for p in self.model.parameters():
            p.data.add_(p.grad, alpha=-self.lr)

    def fit(self, x, y):
        for _ in range(100):
            self.step(x, y)

Trainer(nn.Linear(3, 1), 0.1).fit(torch.randn(10, 3), torch.randn(10, 1))
""",
    "cleared-once-per-epoch-only": RAW + """
for epoch in range(5):
    for i in range(0, 200, 20):
        loss = ((X[i:i + 20] @ w + b - y[i:i + 20]) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    w.grad = None
    b.grad = None
""",
}


@pytest.mark.parametrize("name", sorted(TL603_FIRES))
def test_tl603_fires(name: str) -> None:
    diags = _diags(TL603_FIRES[name], "TL603")
    assert len(diags) == 1
    assert ".grad" in line_of(TL603_FIRES[name], diags[0].line)


TL603_SILENT = {
    "zeroed": CORRECT,
    "set-to-none-in-helper": TL603_FIRES["helper-update"].replace(
        "            p.sub_(lr * p.grad)", "            p.sub_(lr * p.grad)\n            p.grad = None"
    ),
    "module-zero-grad": TL603_FIRES["trainer-class"].replace(
        "        loss = nn.functional", "        self.model.zero_grad()\n        loss = nn.functional"
    ),
    "fill-zero": CORRECT.replace("w.grad.zero_()", "w.grad.fill_(0)").replace("b.grad.zero_()", "b.grad[:] = 0"),
    "rebinding-only": TL602_FIRES["rebinding-in-function"],
    "optimizer-loop-is-tl101s": """
import torch
import torch.nn as nn
model = nn.Linear(3, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(10):
    loss = model(torch.randn(4, 3)).sum()
    loss.backward()
    for p in model.parameters():
        p.grad /= 4
    opt.step()
""",
    "autograd-grad": RAW + """
for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    gw, gb = torch.autograd.grad(loss, [w, b])
    with torch.no_grad():
        w -= lr * gw
        b -= lr * gb
""",
}


@pytest.mark.parametrize("name", sorted(TL603_SILENT))
def test_tl603_silent(name: str) -> None:
    assert hits(TL603_SILENT[name], "TL603") == []


# ------------------------------------------------------------------------------ TL604

TRAIN = HEAD + """
for epoch in range(2):
    running = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss
    print(running / len(loader))
"""

TL604_FIRES = {
    "top-level": TRAIN,
    "rebinding-sum": TRAIN.replace("running += loss", "running = running + loss * xb.size(0)"),
    "list-append": TRAIN.replace("running += loss", "history.append(loss)").replace("running = 0.0", "history = []"),
    "helper-returns-total": HEAD + """
def train_one_epoch(model, loader, optimizer, criterion):
    total_loss = 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total_loss += loss
    return total_loss / len(loader)

def main():
    for epoch in range(2):
        print(float(train_one_epoch(model, loader, optimizer, criterion)))

main()
""",
    "trainer-attribute": HEAD + """
class Trainer:
    def __init__(self):
        self.epoch_loss = 0.0

    def fit(self):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            self.epoch_loss += loss
""",
}


@pytest.mark.parametrize("name", sorted(TL604_FIRES))
def test_tl604_fires(name: str) -> None:
    diags = _diags(TL604_FIRES[name], "TL604")
    assert len(diags) == 1
    assert "loss" in line_of(TL604_FIRES[name], diags[0].line)
    assert ".item()" in diags[0].message


TL604_SILENT = {
    "item": TRAIN.replace("running += loss", "running += loss.item()"),
    "item-times-batch": TRAIN.replace("running += loss", "running += loss.item() * len(yb)"),
    "detach": TRAIN.replace("running += loss", "running += loss.detach().float()"),
    "float": TRAIN.replace("running += loss", "running += float(loss)"),
    "under-no-grad": HEAD + """
val_loss = 0.0
with torch.no_grad():
    for xb, yb in loader:
        val_loss += criterion(model(xb), yb)
""",
    "summed-then-differentiated": HEAD + """
for xb, yb in loader:
    optimizer.zero_grad()
    total = 0.0
    for k in range(3):
        part = criterion(model(xb * k), yb)
        total += part
    total.backward()
    optimizer.step()
""",
    "returned-and-differentiated-by-caller": HEAD + """
def multitask(xb, yb):
    total = 0
    for head in range(3):
        total += criterion(model(xb + head), yb)
    return total

for xb, yb in loader:
    optimizer.zero_grad()
    loss = multitask(xb, yb)
    loss.backward()
    optimizer.step()
""",
    "teacher-forcing-sum-then-backward": HEAD + """
for xb, yb in loader:
    optimizer.zero_grad()
    loss = 0
    out = model(xb)
    for t in range(2):
        loss += criterion(out, yb)
    loss.backward()
    optimizer.step()
""",
    "policy-gradient-terms": HEAD + """
for xb, yb in loader:
    terms = []
    for log_prob, ret in zip(model(xb).log_softmax(1)[:, 0], yb.float()):
        terms.append(-log_prob * ret)
    loss = torch.stack(terms).sum()
    loss.backward()
""",
    "reset-each-iteration": HEAD + """
for xb, yb in loader:
    step_total = 0.0
    loss = criterion(model(xb), yb)
    step_total += loss
    loss.backward()
""",
}


@pytest.mark.parametrize("name", sorted(TL604_SILENT))
def test_tl604_silent(name: str) -> None:
    assert hits(TL604_SILENT[name], "TL604") == []
