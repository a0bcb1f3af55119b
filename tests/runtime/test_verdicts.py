"""Each static suspicion is confirmed by a run that shows the bug and refuted by one that does not.

The suspicion is placed by hand at the script's `# <-` line, so these tests exercise the
verdicts themselves; tests/runtime/test_cli.py checks them with the real static checker.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from tests.runtime.tracer_helpers import judge_inline, script  # noqa: E402
from trainlint.diagnostics import Status  # noqa: E402

DATA = """
X = torch.randn(32, 8)
y = torch.randint(0, 3, (32,))
"""
MLP = (
    DATA
    + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
crit = nn.CrossEntropyLoss()
"""
)

C, R, U = Status.CONFIRMED, Status.REFUTED, Status.UNVERIFIED

CASES = {
    # ------------------------------------------------------------------ TL1xx
    "TL101-bad": (
        "TL101",
        C,
        MLP
        + """
for i in range(10):
    loss = crit(model(X), y)
    loss.backward()  # <-
    opt.step()
""",
    ),
    "TL101-good": (
        "TL101",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()  # <-
    opt.step()
""",
    ),
    "TL101-accumulation-good": (
        "TL101",
        R,
        MLP
        + """
for i in range(20):
    loss = crit(model(X[i % 4 * 8:(i % 4 + 1) * 8]), y[i % 4 * 8:(i % 4 + 1) * 8]) / 4
    loss.backward()  # <-
    if (i + 1) % 4 == 0:
        opt.step()
        opt.zero_grad()
""",
    ),
    "TL102-bad": (
        "TL102",
        C,
        MLP
        + """
for i in range(10):
    loss = crit(model(X), y)
    loss.backward()
    opt.zero_grad()  # <-
    opt.step()
""",
    ),
    "TL102-good": (
        "TL102",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()  # <-
    loss = crit(model(X), y)
    loss.backward()
    opt.step()
""",
    ),
    "TL103-bad": (
        "TL103",
        C,
        MLP
        + """
for i in range(100):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()  # <-
""",
    ),
    "TL103-good": (
        "TL103",
        R,
        MLP
        + """
def update():
    opt.step()

for i in range(100):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()  # <-
    update()
""",
    ),
    "TL104-bad": (
        "TL104",
        C,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = crit(model(X), y)
    opt.step()  # <-
""",
    ),
    "TL104-good": (
        "TL104",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()
    opt.step()  # <-
""",
    ),
    "TL105-bad": (
        "TL105",
        C,
        MLP
        + """
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
for i in range(10):
    sched.step()  # <-
    opt.zero_grad()
    crit(model(X), y).backward()
    opt.step()
""",
    ),
    "TL105-good": (
        "TL105",
        R,
        MLP
        + """
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
for i in range(10):
    opt.zero_grad()
    crit(model(X), y).backward()
    opt.step()
    sched.step()  # <-
""",
    ),
    "TL106-bad": (
        "TL106",
        C,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    crit(model(X * 50), y).backward()
    opt.step()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.01)  # <-
""",
    ),
    "TL106-good": (
        "TL106",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    crit(model(X * 50), y).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.01)  # <-
    opt.step()
""",
    ),
    "TL107-no-update-bad": (
        "TL107",
        C,
        MLP
        + """
scaler = torch.amp.GradScaler("cpu")
for i in range(10):
    opt.zero_grad()
    scaler.scale(crit(model(X), y)).backward()
    scaler.step(opt)  # <-
""",
    ),
    "TL107-clip-bad": (
        "TL107",
        C,
        MLP
        + """
scaler = torch.amp.GradScaler("cpu")
for i in range(10):
    opt.zero_grad()
    scaler.scale(crit(model(X), y)).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # <-
    scaler.step(opt)
    scaler.update()
""",
    ),
    "TL107-unscaled-bad": (
        "TL107",
        C,
        MLP
        + """
scaler = torch.amp.GradScaler("cpu")
for i in range(10):
    opt.zero_grad()
    crit(model(X), y).backward()  # <-
    scaler.step(opt)
    scaler.update()
""",
    ),
    "TL107-good": (
        "TL107",
        R,
        MLP
        + """
scaler = torch.amp.GradScaler("cpu")
for i in range(10):
    opt.zero_grad()
    scaler.scale(crit(model(X), y)).backward()
    scaler.unscale_(opt)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # <-
    scaler.step(opt)
    scaler.update()
""",
    ),
    "TL108-bad": (
        "TL108",
        C,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    with torch.no_grad():
        loss = crit(model(X), y)
    loss.backward()  # <-
    opt.step()
""",
    ),
    "TL108-good": (
        "TL108",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()  # <-
    opt.step()
""",
    ),
    # ------------------------------------------------------------------ TL2xx
    "TL201-bad": (
        "TL201",
        C,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = crit(F.softmax(model(X), dim=1), y)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL201-good": (
        "TL201",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = crit(model(X), y)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL202-bad": (
        "TL202",
        C,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
opt = torch.optim.SGD(model.parameters(), lr=0.05)
t = (y > 0).float().unsqueeze(1)
for i in range(10):
    opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(X), t)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL202-good": (
        "TL202",
        R,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
t = (y > 0).float().unsqueeze(1)
for i in range(10):
    opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(X), t)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL203-bad": (
        "TL203",
        C,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
t = (y > 0).float().unsqueeze(1)
for i in range(10):
    opt.zero_grad()
    loss = nn.BCELoss()(model(X), t)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL203-good": (
        "TL203",
        R,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
opt = torch.optim.SGD(model.parameters(), lr=0.05)
t = (y > 0).float().unsqueeze(1)
for i in range(10):
    opt.zero_grad()
    loss = nn.BCELoss()(model(X), t)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL204-bad": (
        "TL204",
        C,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = F.nll_loss(model(X), y)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL204-good": (
        "TL204",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = F.nll_loss(F.log_softmax(model(X), dim=1), y)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL205-bad": (
        "TL205",
        C,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    opt.zero_grad()
    loss = F.mse_loss(model(X).squeeze(1), y.float())  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL205-good": (
        "TL205",
        R,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
target = X.sum(dim=1) * 0.5
for i in range(10):
    opt.zero_grad()
    loss = F.mse_loss(model(X).squeeze(1), target)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL206-bad": (
        "TL206",
        C,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3), nn.ReLU())
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    opt.zero_grad()
    loss = nn.CrossEntropyLoss()(model(X), y)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL206-good": (
        "TL206",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = nn.CrossEntropyLoss()(model(X), y)  # <-
    loss.backward()
    opt.step()
""",
    ),
    "TL207-no-runtime-check": (
        "TL207",
        U,
        MLP
        + """
probs = F.softmax(torch.randn(2, 3))  # <-
for i in range(10):
    opt.zero_grad()
    crit(model(X), y).backward()
    opt.step()
""",
    ),
    # ------------------------------------------------------------------ TL3xx
    "TL301-bad": (
        "TL301",
        C,
        MLP
        + """
images = torch.randint(0, 256, (32, 8)).float()  # <-
for i in range(10):
    opt.zero_grad()
    crit(model(images), y).backward()
    opt.step()
""",
    ),
    "TL301-good": (
        "TL301",
        R,
        MLP
        + """
images = torch.randint(0, 256, (32, 8)).float() / 255.0  # <-
for i in range(10):
    opt.zero_grad()
    crit(model(images), y).backward()
    opt.step()
""",
    ),
    "TL302-bad": (
        "TL302",
        C,
        MLP
        + """
from torch.utils.data import DataLoader, TensorDataset
order = torch.argsort(y)
loader = DataLoader(TensorDataset(X[order], y[order]), batch_size=16)  # <-
for xb, yb in loader:
    opt.zero_grad()
    crit(model(xb), yb).backward()
    opt.step()
""",
    ),
    "TL302-good": (
        "TL302",
        R,
        MLP
        + """
from torch.utils.data import DataLoader, TensorDataset
loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)  # <-
for xb, yb in loader:
    opt.zero_grad()
    crit(model(xb), yb).backward()
    opt.step()
""",
    ),
    "TL303-bad": (
        "TL303",
        C,
        MLP
        + """
features = X.clone()
features[3, 2] = float("nan")  # <-
for i in range(10):
    opt.zero_grad()
    crit(model(features), y).backward()
    opt.step()
""",
    ),
    "TL303-good": (
        "TL303",
        R,
        MLP
        + """
features = torch.nan_to_num(X.clone())  # <-
for i in range(10):
    opt.zero_grad()
    crit(model(features), y).backward()
    opt.step()
""",
    ),
    # ------------------------------------------------------------------ TL4xx
    "TL401-bad": (
        "TL401",
        C,
        MLP
        + """
for layer in model:
    if isinstance(layer, nn.Linear):
        nn.init.constant_(layer.weight, 0.5)  # <-
for i in range(10):
    opt.zero_grad()
    crit(model(X), y).backward()
    opt.step()
""",
    ),
    "TL401-good": (
        "TL401",
        R,
        MLP
        + """
for layer in model:
    if isinstance(layer, nn.Linear):
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")  # <-
for i in range(10):
    opt.zero_grad()
    crit(model(X), y).backward()
    opt.step()
""",
    ),
    "TL402-bad": (
        "TL402",
        C,
        DATA
        + """
layers = [nn.Linear(8, 16), nn.Sigmoid()]
for _ in range(6):
    layers += [nn.Linear(16, 16), nn.Sigmoid()]
model = nn.Sequential(*layers, nn.Linear(16, 3))  # <-
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
""",
    ),
    "TL402-good": (
        "TL402",
        R,
        DATA
        + """
layers = [nn.Linear(8, 16), nn.ReLU()]
for _ in range(6):
    layers += [nn.Linear(16, 16), nn.ReLU()]
model = nn.Sequential(*layers, nn.Linear(16, 3))  # <-
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
""",
    ),
    "TL403-bad": (
        "TL403",
        C,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    model.train()
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
    with torch.no_grad():
        accuracy = (model(X).argmax(1) == y).float().mean()  # <-
""",
    ),
    "TL403-good": (
        "TL403",
        R,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    model.train()
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(X).argmax(1) == y).float().mean()  # <-
""",
    ),
    "TL404-bad": (
        "TL404",
        C,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    crit(model(X), y).backward()
    opt.step()
    accuracy = (model(X).argmax(1) == y).float().mean()  # <-
""",
    ),
    "TL404-good": (
        "TL404",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    crit(model(X), y).backward()
    opt.step()
    with torch.no_grad():
        accuracy = (model(X).argmax(1) == y).float().mean()  # <-
""",
    ),
    "TL405-bad": (
        "TL405",
        C,
        DATA
        + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(8, 16), nn.Linear(16, 3)
    def forward(self, x):
        return self.fc2(F.dropout(F.relu(self.fc1(x)), 0.5))  # <-
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    model.train()
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        model(X)
""",
    ),
    "TL405-good": (
        "TL405",
        R,
        DATA
        + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(8, 16), nn.Linear(16, 3)
    def forward(self, x):
        return self.fc2(F.dropout(F.relu(self.fc1(x)), 0.5, training=self.training))  # <-
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(10):
    model.train()
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        model(X)
""",
    ),
    # ------------------------------------------------------------------ TL5xx
    "TL501-bad": (
        "TL501",
        C,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=50.0)  # <-
for i in range(10):
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
""",
    ),
    "TL501-good": (
        "TL501",
        R,
        DATA
        + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)  # <-
for i in range(10):
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
""",
    ),
    # ------------------------------------------------------------------ TL6xx
    "TL601-bad": (
        "TL601",
        C,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = torch.tensor(crit(model(X), y).item(), requires_grad=True)
    loss.backward()  # <-
    opt.step()
""",
    ),
    "TL601-good": (
        "TL601",
        R,
        MLP
        + """
for i in range(10):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()  # <-
    opt.step()
""",
    ),
    "TL602-bad": (
        "TL602",
        C,
        DATA
        + """
w = torch.randn(8, 3, requires_grad=True)
for i in range(10):
    loss = F.cross_entropy(X @ w, y)
    loss.backward()
    with torch.no_grad():
        w += 0.1 * w.grad  # <-
        w.grad.zero_()
""",
    ),
    "TL602-error-bad": (
        "TL602",
        C,
        DATA
        + """
w = torch.randn(8, 3, requires_grad=True)
for i in range(10):
    loss = F.cross_entropy(X @ w, y)
    loss.backward()
    w -= 0.1 * w.grad  # <-
    w.grad.zero_()
""",
    ),
    "TL602-good": (
        "TL602",
        R,
        DATA
        + """
w = torch.randn(8, 3, requires_grad=True)
for i in range(10):
    loss = F.cross_entropy(X @ w, y)
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad  # <-
        w.grad.zero_()
""",
    ),
    "TL603-bad": (
        "TL603",
        C,
        DATA
        + """
w = torch.randn(8, 3, requires_grad=True)
for i in range(10):
    loss = F.cross_entropy(X @ w, y)
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad  # <-
""",
    ),
    "TL603-good": (
        "TL603",
        R,
        DATA
        + """
w = torch.randn(8, 3, requires_grad=True)
for i in range(10):
    loss = F.cross_entropy(X @ w, y)
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad  # <-
        w.grad = None
""",
    ),
    "TL604-no-runtime-check": (
        "TL604",
        U,
        MLP
        + """
total = 0
for i in range(10):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()
    opt.step()
    total += loss  # <-
""",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_verdict(tmp_path, name):
    code, expected, body = CASES[name]
    d = judge_inline(tmp_path, script(body), code)
    assert d.status == expected, d.evidence
    assert d.evidence, "every verdict carries its evidence"
    if expected in (C, R):
        assert d.evidence.get("observed"), "a verdict says what was observed"
    else:
        assert d.evidence.get("reason")


def test_unreached_suspicion_is_unverified_not_dropped(tmp_path):
    # The training loop is behind a flag the run never sets: nothing can be measured.
    body = (
        MLP
        + """
import os
if os.environ.get("TRAINLINT_TEST_NEVER_SET"):
    for i in range(10):
        loss = crit(model(X), y)
        loss.backward()  # <-
        opt.step()
"""
    )
    d = judge_inline(tmp_path, script(body), "TL101")
    assert d.status == U
    assert "never reached" in d.evidence["reason"]


# Raw 0-255 inputs: the run reports TL906 (unnormalised input) at the line marked `# <-`.
RAW_INPUT = (
    MLP
    + """
images = torch.randint(0, 256, (32, 8)).float()  # <-
for i in range(10):
    opt.zero_grad()
    crit(model(images), y).backward()
    opt.step()
"""
)


def _traced_raw_input(tmp_path):
    from tests.runtime.tracer_helpers import settings, write
    from trainlint.runtime.api import tracing

    source = script(RAW_INPUT)
    path = write(tmp_path, source)
    with tracing(paths=[], settings=settings()) as report:
        exec(compile(source, str(path), "exec"), {"__name__": "__main__"})
    return source, path, report


def test_confirmed_static_finding_absorbs_the_runtime_finding_it_explains(tmp_path):
    from tests.runtime.tracer_helpers import marker_line, settings
    from trainlint.diagnostics import Diagnostic, Span
    from trainlint.registry import RULES
    from trainlint.runtime.judging.merge import merge

    source, path, report = _traced_raw_input(tmp_path)
    assert "TL906" in report.codes(), "alone, the run reports the raw-scale input"
    line = marker_line(source)
    info = RULES["TL301"]
    static = Diagnostic("TL301", info.name, info.severity, "suspicion", str(path), Span(line, 1, line, 1))
    merged = merge([static], report.evidence, str(path), settings())
    codes = [d.code for d in merged]
    assert "TL301" in codes and "TL906" not in codes


def test_noqa_at_its_line_silences_a_runtime_only_finding(tmp_path):
    from tests.runtime.tracer_helpers import settings
    from trainlint.runtime.judging.merge import merge

    source, path, report = _traced_raw_input(tmp_path)
    (found,) = [d for d in merge([], report.evidence, str(path), settings()) if d.code == "TL906"]
    lines = source.splitlines()
    lines[found.span.line - 1] += "  # noqa: TL906"
    path.write_text("\n".join(lines) + "\n")
    codes = [d.code for d in merge([], report.evidence, str(path), settings())]
    assert "TL906" not in codes
    lines[found.span.line - 1] = lines[found.span.line - 1].replace("TL906", "TL904")
    path.write_text("\n".join(lines) + "\n")
    assert "TL906" in [d.code for d in merge([], report.evidence, str(path), settings())], "another code's noqa"
