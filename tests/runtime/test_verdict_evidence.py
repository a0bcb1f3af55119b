"""Verdicts that need evidence beyond the first steps, or more context than one layer's numbers.

Each test pairs the situation that used to get a wrong or missing verdict with a control
that shows the check still fires where it should.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from tests.runtime.tracer_helpers import judge_inline, only, script, trace_inline  # noqa: E402
from trainlint.diagnostics import Status  # noqa: E402

C, R, U = Status.CONFIRMED, Status.REFUTED, Status.UNVERIFIED

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
DROPOUT_MLP = (
    DATA
    + """
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
crit = nn.CrossEntropyLoss()
"""
)


# ---------------------------------------------------------------------- TL103: a run that ends early
def test_missing_step_is_confirmed_when_the_script_ends_before_the_backward_limit(tmp_path):
    # 6 backward passes, far fewer than the 32 after which the tracer gives up waiting for a
    # step: the script ends on its own, and the unchanged parameters are the evidence.
    body = (
        MLP
        + """
for i in range(6):
    opt.zero_grad()
    loss = crit(model(X), y)
    loss.backward()  # <-
"""
    )
    d = judge_inline(tmp_path, script(body), "TL103")
    assert d.status == C, d.evidence
    assert "never did" in d.evidence["observed"]


def test_missing_step_after_a_single_backward_is_not_judged(tmp_path):
    body = (
        MLP
        + """
opt.zero_grad()
loss = crit(model(X), y)
loss.backward()  # <-
"""
    )
    d = judge_inline(tmp_path, script(body), "TL103")
    assert d.status == U, d.evidence


# ---------------------------------------------------------------------- TL403-TL405: evaluation per epoch
EVAL_EACH_EPOCH = (
    DROPOUT_MLP
    + """

@torch.no_grad()
def evaluate():
    return (model(X).argmax(1) == y).float().mean().item()


for epoch in range(3):
    model.train()
    for i in range(EPOCH_STEPS):
        opt.zero_grad()
        crit(model(X), y).backward()
        opt.step()
    print(evaluate())
"""
)


def _eval_each_epoch(epoch_steps: int) -> str:
    return script(EVAL_EACH_EPOCH.replace("EPOCH_STEPS", str(epoch_steps)))


def test_run_goes_on_to_the_first_evaluation_pass(tmp_path):
    report = trace_inline(tmp_path, _eval_each_epoch(6), steps=2, select=["TL403"])
    d = only(report, "TL403")
    assert d.status == C, d.evidence
    # What the other checks measure is still the two requested steps.
    assert report.steps_completed == 2
    assert any("went on 5 more step(s)" in n and "until one ran" in n for n in report.all_notes())


def test_wait_for_an_evaluation_pass_is_bounded(tmp_path):
    from tests.runtime.tracer_helpers import settings, write
    from trainlint.runtime.api import tracing

    source = _eval_each_epoch(50)
    path = write(tmp_path, source)
    with tracing(steps=2, paths=[str(path)], settings=settings(["TL403"]), eval_wait=4) as report:
        exec(compile(source, str(path), "exec"), {"__name__": "__main__", "__file__": str(path)})
    d = only(report, "TL403")
    assert d.status == U
    assert "went on 4 more step(s)" in d.evidence["reason"] and "--eval-wait" in d.evidence["reason"]


def test_without_a_wait_an_unreached_evaluation_says_why(tmp_path):
    from tests.runtime.tracer_helpers import settings, write
    from trainlint.runtime.api import tracing

    source = _eval_each_epoch(6)
    path = write(tmp_path, source)
    with tracing(steps=2, paths=[str(path)], settings=settings(["TL403"]), eval_wait=0) as report:
        exec(compile(source, str(path), "exec"), {"__name__": "__main__", "__file__": str(path)})
    d = only(report, "TL403")
    assert d.status == U
    assert "no evaluation pass" in d.evidence["reason"] and "--steps" in d.evidence["reason"]


def test_eval_mode_never_restored_is_seen_on_the_next_epoch(tmp_path):
    body = (
        DROPOUT_MLP
        + """
model.train()
for epoch in range(3):
    for i in range(5):
        opt.zero_grad()
        crit(model(X), y).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        print((model(X).argmax(1) == y).float().mean().item())
"""
    )
    d = only(trace_inline(tmp_path, script(body), steps=2, select=["TL403"]), "TL403")
    assert d.status == C, d.evidence
    assert "training pass(es) in eval mode" in d.evidence["observed"]


def test_validation_with_gradients_after_the_epoch_is_confirmed(tmp_path):
    body = (
        MLP
        + """
for epoch in range(2):
    model.train()
    for i in range(5):
        opt.zero_grad()
        crit(model(X), y).backward()
        opt.step()
    model.eval()
    correct = 0
    for j in range(2):
        logits = model(X)
        correct += (logits.argmax(1) == y).sum().item()
    print(correct)
"""
    )
    d = only(trace_inline(tmp_path, script(body), steps=2, select=["TL404"]), "TL404")
    assert d.status == C, d.evidence


def test_functional_dropout_is_judged_on_the_evaluation_after_the_epoch(tmp_path):
    body = (
        DATA
        + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(8, 16), nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(F.dropout(F.relu(self.fc1(x)), 0.5))


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for epoch in range(2):
    model.train()
    for i in range(5):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        model(X)
"""
    )
    d = only(trace_inline(tmp_path, script(body), steps=2, select=["TL405"]), "TL405")
    assert d.status == C, d.evidence


# ---------------------------------------------------------------------- TL402: saturated, not vanishing
SATURATING_STACK = (
    DATA
    + """
layers = [nn.Linear(8, 64), nn.Tanh()]
for _ in range(4):
    layers += [nn.Linear(64, 64), nn.Tanh()]
model = nn.Sequential(*layers, nn.Linear(64, 3))  # <-
for m in model:
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=STD)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for i in range(10):
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    opt.step()
"""
)


def test_saturated_stack_with_large_weights_is_confirmed_not_refuted(tmp_path):
    # With std-1 weights the tanh units sit at +-1, yet the large weights make the gradient
    # grow towards the input: the gradient ratio alone would have looked healthy.
    d = judge_inline(tmp_path, script(SATURATING_STACK.replace("STD", "1.0")), "TL402")
    assert d.status == C, d.evidence
    assert "of their bounds" in d.evidence["observed"]
    assert d.evidence.get("saturated_fraction", 0) > 0.5


def test_unsaturated_tanh_stack_with_healthy_gradients_is_refuted(tmp_path):
    d = judge_inline(tmp_path, script(SATURATING_STACK.replace("STD", "0.1")), "TL402")
    assert d.status == R, d.evidence


def test_confirmed_saturating_stack_absorbs_the_saturation_finding(tmp_path):
    from tests.runtime.tracer_helpers import marker_line, settings
    from trainlint.diagnostics import Diagnostic, Span
    from trainlint.registry import RULES
    from trainlint.runtime.judging.merge import merge

    source = script(SATURATING_STACK.replace("STD", "1.0"))
    alone = trace_inline(tmp_path, source, steps=2, select=["TL905"])
    assert "TL905" in alone.codes(), "alone, the run reports the saturated layers"
    info = RULES["TL402"]
    line = marker_line(source)
    static = Diagnostic(
        "TL402", info.name, info.severity, "suspicion", str(tmp_path / "train.py"), Span(line, 1, line, 1)
    )
    merged = merge([static], alone.evidence, str(tmp_path / "train.py"), settings())
    codes = [(d.code, d.status) for d in merged]
    assert ("TL402", C) in codes and not any(code == "TL905" for code, _ in codes)


# ---------------------------------------------------------------------- TL302: mixed labels, fixed order
def test_interleaved_labels_from_an_unshuffled_loader_are_not_refuted(tmp_path):
    # Labels stored 0, 1, 2, 0, 1, 2, ...: the first batch looks mixed, but the loader still
    # serves the same fixed order every epoch, so nothing shows the suspicion is wrong.
    body = (
        MLP
        + """
from torch.utils.data import DataLoader, TensorDataset
labels = torch.arange(32) % 3
loader = DataLoader(TensorDataset(X, labels), batch_size=8)  # <-
for xb, yb in loader:
    opt.zero_grad()
    crit(model(xb), yb).backward()
    opt.step()
"""
    )
    d = judge_inline(tmp_path, script(body), "TL302")
    assert d.status == U, d.evidence
    assert "SequentialSampler" in d.evidence["reason"]


def test_loader_with_a_random_sampler_refutes_the_suspicion(tmp_path):
    body = (
        MLP
        + """
from torch.utils.data import DataLoader, RandomSampler, TensorDataset
order = torch.argsort(y)
data = TensorDataset(X[order], y[order])
loader = DataLoader(data, batch_size=8, sampler=RandomSampler(data))  # <-
for xb, yb in loader:
    opt.zero_grad()
    crit(model(xb), yb).backward()
    opt.step()
"""
    )
    d = judge_inline(tmp_path, script(body), "TL302")
    assert d.status == R, d.evidence
    assert "RandomSampler" in d.evidence["observed"]


# ---------------------------------------------------------------------- TL301 / TL906: a normalising first layer
RAW_TABLE = """
X = torch.randn(64, 3) * torch.tensor([15000.0, 4000.0, 12.0]) + torch.tensor([55000.0, 4000.0, 40.0])  # <-
y = torch.randint(0, 2, (64,))
model = nn.Sequential(FIRST nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for i in range(5):
    opt.zero_grad()
    F.cross_entropy(model(X), y).backward()
    opt.step()
"""


@pytest.mark.parametrize("first", ["nn.LayerNorm(3),", "nn.BatchNorm1d(3),"])
def test_input_normalised_by_the_first_layer_refutes_missing_normalisation(tmp_path, first):
    source = script(RAW_TABLE.replace("FIRST", first))
    d = judge_inline(tmp_path, source, "TL301")
    assert d.status == R, d.evidence
    assert "normalises it" in d.evidence["observed"]
    assert "TL906" not in trace_inline(tmp_path, source, select=["TL906"]).codes()


def test_raw_input_into_a_linear_layer_is_still_confirmed(tmp_path):
    source = script(RAW_TABLE.replace("FIRST", ""))
    assert judge_inline(tmp_path, source, "TL301").status == C
    assert "TL906" in trace_inline(tmp_path, source, select=["TL906"]).codes()


# ---------------------------------------------------------------------- TL902: the first layer must take the input
SIDE_BRANCH = """
tokens = torch.randint(0, 50, (32, 6))
X = torch.randn(32, 8)
y = torch.randint(0, 3, (32,))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(50, 8)
        self.score = nn.Linear(8, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        h = INPUT
        # a side branch whose output is scaled down: its gradient is tiny by design
        h = h + 1e-4 * self.score(h)
        return self.out(h)


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(5):
    opt.zero_grad()
    F.cross_entropy(model(DATA), y).backward()
    opt.step()
"""


def test_small_gradient_of_a_layer_after_an_embedding_is_not_a_vanishing_gradient(tmp_path):
    source = script(SIDE_BRANCH.replace("INPUT", "self.embedding(x).mean(1)").replace("DATA", "tokens"))
    assert "TL902" not in trace_inline(tmp_path, source, select=["TL902"]).codes()


def test_small_gradient_of_the_input_layer_is_still_reported(tmp_path):
    # The same side branch fed the input itself: the tracer cannot tell it from the input layer
    # of a deep stack, so the ratio is judged as before.
    source = script(SIDE_BRANCH.replace("INPUT", "x").replace("DATA", "X"))
    assert "TL902" in trace_inline(tmp_path, source, select=["TL902"]).codes()


# ---------------------------------------------------------------------- TL902: repeated blocks
BLOCKS = """
X = torch.randn(64, 16)
y = torch.randint(0, 3, (64,))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.act = nn.Sigmoid()

    def forward(self, h):
        return RESIDUAL


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block() for _ in range(12)])
        self.head = nn.Linear(16, 3)

    def forward(self, h):
        for block in self.blocks:
            h = block(h)
        return self.head(HEAD_INPUT)


model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for i in range(5):
    opt.zero_grad()
    F.cross_entropy(model(X), y).backward()
    opt.step()
"""


def test_a_sigmoid_stack_of_blocks_is_judged_block_against_block(tmp_path):
    """The first block's weight against the same weight twelve blocks deeper: the gradient fades."""
    source = script(BLOCKS.replace("RESIDUAL", "self.act(self.fc(h))").replace("HEAD_INPUT", "h"))
    assert "TL902" in trace_inline(tmp_path, source, select=["TL902"]).codes()


def test_residual_blocks_with_a_scaled_down_stream_are_not_a_vanishing_gradient(tmp_path):
    """Residual blocks keep the gradient level over depth; the head sees the stream scaled down
    by 1e-3 (as a normalised transformer's pooler and head differ from its blocks), so its
    gradient dwarfs every block's. Block against block, nothing fades."""
    source = script(BLOCKS.replace("RESIDUAL", "h + self.act(self.fc(h))").replace("HEAD_INPUT", "1e3 * h"))
    assert "TL902" not in trace_inline(tmp_path, source, select=["TL902"]).codes()


# ---------------------------------------------------------------------- TL909: scale-invariant weights
NORMED_LAYER = """
X = torch.randn(64, 8)
y = torch.randint(0, 3, (64,))
model = nn.Sequential(nn.Linear(8, 32, bias=False), NORM nn.ReLU(), nn.Linear(32, 3))
opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 30.0},
                       {"params": model[-1].parameters(), "lr": 1e-3}])
for i in range(5):
    opt.zero_grad()
    F.cross_entropy(model(X), y).backward()
    opt.step()
"""


def test_large_update_of_a_weight_followed_by_batch_norm_is_not_reported(tmp_path):
    source = script(NORMED_LAYER.replace("NORM", "nn.BatchNorm1d(32),"))
    assert "TL909" not in trace_inline(tmp_path, source, select=["TL909"]).codes()


def test_large_update_of_a_plain_weight_is_still_reported(tmp_path):
    source = script(NORMED_LAYER.replace("NORM", ""))
    assert "TL909" in trace_inline(tmp_path, source, select=["TL909"]).codes()


def test_a_loss_input_is_credited_to_a_layer_only_if_it_is_that_layers_output():
    # Outputs are looked up by id; a freed output's id handed to a new tensor must not count.
    import weakref

    import torch

    from trainlint.runtime.child.sinks import ListSink
    from trainlint.runtime.child.tracer import Tracer

    models = Tracer(ListSink()).models
    out, other = torch.zeros(2), torch.ones(2)
    models.producer[id(other)] = (weakref.ref(out), "Sequential.0", "Linear")  # as if `other` took the id
    assert models.producer_of(other) is None
    models.producer[id(out)] = (weakref.ref(out), "Sequential.0", "Linear")
    assert models.producer_of(out) == ("Sequential.0", "Linear")


def test_a_crash_with_an_empty_message_still_confirms(tmp_path):
    # `assert` and `raise E()` carry no message; the crash at the suspected line is the evidence.
    body = script("""
    model = nn.Linear(4, 2)
    out = model(torch.randn(8, 4))
    assert out.shape == (8, 3)  # <-
    """)
    d = judge_inline(tmp_path, body, "TL601")
    assert d.status == C and d.evidence["observed"] == "the script failed here: AssertionError: "
