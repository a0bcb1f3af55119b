"""The graph rules' fixes (TL602, TL603, TL604), run: hand-written updates and loss
accumulators, compared with the original on what they compute besides the bug."""

from __future__ import annotations

from typing import Dict

import pytest

from tests.fix_behaviour.common import Program, Runs, close, fix_and_run

pytest.importorskip("torch")

HEADER = """\
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


def leaves():
    torch.manual_seed(0)
    return torch.randn(4, 1, requires_grad=True), torch.zeros(1, requires_grad=True)


def batches():
    torch.manual_seed(1)
    return [(torch.randn(16, 4), torch.randn(16, 1)) for _ in range(5)]


def values(*tensors):
    return [t.detach().flatten().tolist() for t in tensors]


"""

# A hand-written update that adds the gradient (TL602, ascent).
TL602_ASCENT = (
    HEADER
    + """\
w, b = leaves()
init = values(w, b)
losses, after = [], []
for x, y in batches():
    loss = F.mse_loss(x @ w + b, y)
    losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        w += 0.05 * w.grad
        b += 0.05 * b.grad
    after.append(values(w, b))
    w.grad = None
    b.grad = None
print(json.dumps({"init": init, "losses": losses, "after": after}))
"""
)

# An update that rebinds the names to new tensors (TL602, rebind): the next backward leaves
# `.grad` None on them.
TL602_REBIND = (
    HEADER
    + """\
w, b = leaves()
kept = w  # another reference to the parameter (what an optimizer or a checkpoint holds)
init = values(w, b)
losses, after = [], []
try:
    for x, y in batches():
        loss = F.mse_loss(x @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        w = w - 0.05 * w.grad
        b = b - 0.05 * b.grad
        after.append(values(w, b))
        w.grad = None
        b.grad = None
    error = None
except TypeError as e:
    error = str(e)
record = {"init": init, "losses": losses, "after": after, "error": error}
record.update(leaf=w.is_leaf and w.requires_grad, kept_follows=bool(torch.equal(kept, w)))
print(json.dumps(record))
"""
)

# An in-place update while autograd records (TL602, grad enabled): torch raises on a leaf.
TL602_GRAD_ENABLED = (
    HEADER
    + """\
def reference():
    w, b = leaves()
    opt = torch.optim.SGD([w, b], lr=0.05)
    for x, y in batches():
        opt.zero_grad()
        F.mse_loss(x @ w + b, y).backward()
        opt.step()
    return values(w, b)


w, b = leaves()
losses = []
try:
    for x, y in batches():
        loss = F.mse_loss(x @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        w -= 0.05 * w.grad
        b -= 0.05 * b.grad
        w.grad = None
        b.grad = None
    error = None
except RuntimeError as e:
    error = str(e)
print(json.dumps({"losses": losses, "error": error, "final": values(w, b), "reference": reference()}))
"""
)

# A hand-written update loop that never clears `.grad` (TL603).
TL603_PROGRAM = (
    HEADER
    + """\
def reference():
    w, b = leaves()
    for x, y in batches():
        F.mse_loss(x @ w + b, y).backward()
        with torch.no_grad():
            w -= 0.05 * w.grad
            b -= 0.05 * b.grad
        w.grad = None
        b.grad = None
    return values(w, b)


w, b = leaves()
after = []
for x, y in batches():
    loss = F.mse_loss(x @ w + b, y)
    loss.backward()
    with torch.no_grad():
        w -= 0.05 * w.grad
        b -= 0.05 * b.grad
    after.append(values(w, b))
print(json.dumps({"after": after, "reference": reference(), "grad_after_loop": w.grad is not None}))
"""
)

# Loss tensors accumulated with their graphs (TL604): a total that is only read as a number
# (`.item()`), a total returned to the caller (`.detach()`), and a history list (`.detach()`).
TL604_PROGRAM = """\
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(4)]


def epoch_printed():
    total = 0.0
    for x, y in data:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        total += loss
    return {"value": float(total), "text": str(total)}


def epoch_returned():
    total = 0.0
    for x, y in data:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        total += loss
    return total / len(data)


def epoch_history():
    history = []
    for x, y in data:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        history.append(loss)
    return torch.stack(history)


record = {"printed": epoch_printed()}
mean = epoch_returned()
record["returned"] = {"value": mean.item(), "graph": mean.requires_grad}
history = epoch_history()
record["history"] = {"values": history.tolist(), "graph": history.requires_grad}
record["params"] = [p.detach().flatten().tolist() for p in model.parameters()]
print(json.dumps(record))
"""

# The first layer is meant to be frozen, but the flag is misspelt (TL605): it keeps training.
TL605_PROGRAM = """\
import json

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
for p in model[0].parameters():
    p.require_grad = False
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
first = [p.detach().clone() for p in model[0].parameters()]
losses = []
for _ in range(3):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    losses.append(loss.item())
    loss.backward()
    opt.step()
moved = [bool((p.detach() - f).abs().sum() > 0) for p, f in zip(model[0].parameters(), first)]
print(json.dumps({"first_loss": losses[0], "first_layer_moved": moved}))
"""


PROGRAMS: Dict[str, Program] = {
    "tl602-ascent": Program("TL602", TL602_ASCENT, unsafe=True),
    "tl602-rebind": Program("TL602", TL602_REBIND, unsafe=True),
    "tl602-grad-enabled": Program("TL602", TL602_GRAD_ENABLED, unsafe=True),
    "tl603": Program("TL603", TL603_PROGRAM, unsafe=True),
    "tl604": Program("TL604", TL604_PROGRAM),
    "tl605": Program("TL605", TL605_PROGRAM),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return fix_and_run(tmp_path_factory.mktemp("graph"), PROGRAMS)


def _delta(before: list, after: list) -> list:
    return [[a - b for a, b in zip(xs, ys)] for xs, ys in zip(after, before)]


def test_tl602_ascent_becomes_descent_of_the_same_size(runs: Runs) -> None:
    run = runs["tl602-ascent"]
    # (a) The first loss and the gradient it gives are the same: the first update has the same
    # size, in the other direction. (Unsafe: an ascent can be deliberate.)
    assert run.fixed["losses"][0] == run.original["losses"][0]
    up, down = _delta(run.original["init"], run.original["after"][0]), _delta(run.fixed["init"], run.fixed["after"][0])
    assert close(down, [[-d for d in row] for row in up])
    # (b) The original climbs the loss; the fixed one descends it.
    assert run.original["losses"][-1] > run.original["losses"][0]
    assert run.fixed["losses"][-1] < run.fixed["losses"][0]


def test_tl602_rebind_becomes_an_in_place_update(runs: Runs) -> None:
    run = runs["tl602-rebind"]
    # (a) The first update computes the same values.
    assert run.fixed["losses"][0] == run.original["losses"][0]
    assert run.fixed["after"][0] == run.original["after"][0]
    # (b) The original's second backward leaves `.grad` None on the rebound tensors; the fixed
    # parameters stay leaves and train through every batch.
    assert run.original["error"] is not None and len(run.original["after"]) == 1
    assert run.fixed["error"] is None and len(run.fixed["after"]) == 5 and run.fixed["leaf"]
    # Beyond the bug (why the fix is unsafe): the update is in place, so every other reference
    # to the parameter now sees it change.
    assert not run.original["kept_follows"] and run.fixed["kept_follows"]


def test_tl602_update_under_no_grad_trains_like_sgd(runs: Runs) -> None:
    run = runs["tl602-grad-enabled"]
    # (a) The first loss is the same.
    assert run.fixed["losses"][0] == run.original["losses"][0]
    # (b) torch refuses the in-place update of a leaf that requires grad; under no_grad it is
    # plain SGD.
    assert "in-place operation" in run.original["error"]
    assert run.fixed["error"] is None
    assert close(run.fixed["final"], run.fixed["reference"])


def test_tl603_each_update_applies_its_own_gradient(runs: Runs) -> None:
    run = runs["tl603"]
    # (a) The first update is the same.
    assert run.fixed["after"][0] == run.original["after"][0]
    # (b) Later updates no longer apply the sum of all gradients so far: the fixed loop is
    # exactly SGD with the gradients cleared.
    assert run.original["after"][-1] != run.original["reference"]
    assert run.fixed["after"][-1] == run.fixed["reference"]
    # Beyond the bug (why the fix is unsafe): after the loop `.grad` is None, not the sum.
    assert run.original["grad_after_loop"] and not run.fixed["grad_after_loop"]


def test_tl604_totals_keep_their_values_and_lose_the_graph(runs: Runs) -> None:
    run = runs["tl604"]
    assert "total += loss.item()" in run.fixed_source and "total += loss.detach()" in run.fixed_source
    assert "history.append(loss.detach())" in run.fixed_source
    # (a) Training is the same; the totals are the same numbers (`.item()` sums in double
    # precision: equal up to float rounding).
    assert run.fixed["params"] == run.original["params"]
    assert close(run.fixed["printed"]["value"], run.original["printed"]["value"], rel=1e-6)
    assert run.fixed["returned"]["value"] == run.original["returned"]["value"]
    assert run.fixed["history"]["values"] == run.original["history"]["values"]
    # (b) They no longer hold the graphs of every iteration.
    assert "grad_fn" in run.original["printed"]["text"] and "grad_fn" not in run.fixed["printed"]["text"]
    assert run.original["returned"]["graph"] and not run.fixed["returned"]["graph"]
    assert run.original["history"]["graph"] and not run.fixed["history"]["graph"]


def test_tl605_the_renamed_flag_freezes_the_layer_and_nothing_else_changes(runs: Runs) -> None:
    run = runs["tl605"]
    # (a) The first step computes the same loss from the same weights.
    assert run.original["first_loss"] == run.fixed["first_loss"]
    # (b) The layer meant to be frozen trained before the fix and stays put after it.
    assert run.original["first_layer_moved"] == [True, True]
    assert run.fixed["first_layer_moved"] == [False, False]
