"""The data and model rules' fixes (TL302, TL404, TL405), run (TL403's are in
tests/test_fix_behaviour.py). These fixes are safe: training computes what it did, and only
the loader's order, the evaluation's graph or the evaluation's dropout changes.

One thing every such fix changes besides its own path is which random numbers are drawn
later: a shuffling loader draws its seed from torch's global generator, and an evaluation
with dropout off draws no masks. The programs therefore compare each path from its own seed."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from tests.fix_behaviour.common import Program, Runs, assert_no_fix, fix_and_run

pytest.importorskip("torch")

# Samples stored in label order; every batch says which samples it holds.
POINTS = """\
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, DistributedSampler


class Points(Dataset):
    def __init__(self, n, offset):
        self.x = torch.linspace(-1, 1, n).unsqueeze(1).repeat(1, 4) + offset
        self.y = (self.x[:, 0] > offset).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i], i


"""

# A training loader that never shuffles (TL302), beside an evaluation loader that must not.
TL302_PROGRAM = (
    POINTS
    + """\
torch.manual_seed(0)
model = nn.Linear(4, 2)
init = [p.detach().flatten().tolist() for p in model.parameters()]
opt = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(Points(32, 0.0), batch_size=4)
val_loader = DataLoader(Points(16, 0.5), batch_size=4)
record = {"init": init, "train_order": [], "val_order": []}
for epoch in range(3):
    order = []
    for x, y, i in train_loader:
        order += i.tolist()
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    record["train_order"].append(order)
    with torch.no_grad():
        record["val_order"].append([i.tolist() for _, _, i in val_loader])
print(json.dumps(record))
"""
)

# A sampler on distributed runs only (TL302): `shuffle=True` beside it would raise there.
TL302_OPTIONAL_SAMPLER = (
    POINTS
    + """\
def train(distributed):
    torch.manual_seed(0)
    dataset = Points(32, 0.0)
    sampler = DistributedSampler(dataset, num_replicas=1, rank=0, seed=0) if distributed else None
    loader = DataLoader(dataset, batch_size=4, sampler=sampler)
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    orders = []
    try:
        for epoch in range(2):
            order = []
            for x, y, i in loader:
                order += i.tolist()
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
            orders.append(order)
    except ValueError as e:
        return {"error": str(e)}
    return {"orders": orders, "params": [p.detach().flatten().tolist() for p in model.parameters()]}


print(json.dumps({"distributed": train(True), "single": train(False)}))
"""
)

# One DataLoader line for both splits, as some trainers write it (TL302).
TL302_CHOSEN_DATASET = (
    POINTS
    + """\
def run_epoch(model, opt, train_set, test_set, is_train):
    data = train_set if is_train else test_set
    loader = DataLoader(data, batch_size=4)
    for x, y, i in loader:
        loss = F.cross_entropy(model(x), y)
        if is_train:
            opt.zero_grad()
            loss.backward()
            opt.step()


model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(2):
    run_epoch(model, opt, Points(32, 0.0), Points(16, 0.5), True)
    run_epoch(model, opt, Points(32, 0.0), Points(16, 0.5), False)
"""
)

# One loader factory for training and evaluation (TL302): `shuffle=True` in it would reorder
# the evaluation loader too.
TL302_SHARED_FACTORY = (
    POINTS
    + """\
def make_loader(dataset):
    return DataLoader(dataset, batch_size=4)


torch.manual_seed(0)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
train_set, val_set = Points(32, 0.0), Points(16, 0.5)
record = {"train_order": [], "val_order": []}
for epoch in range(2):
    order = []
    for x, y, i in make_loader(train_set):
        order += i.tolist()
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    record["train_order"].append(order)
    with torch.no_grad():
        record["val_order"].append([j for _, _, i in make_loader(val_set) for j in i.tolist()])
print(json.dumps(record))
"""
)

# Four evaluation passes built with gradients on (TL404), one of each fix's shapes: a loop shared
# with training through a flag, a function named for evaluation, a forward on its own line, and
# a forward sharing its line (the whole loop is wrapped).
TL404_PROGRAM = """\
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
train_data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(3)]
val_data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(2)]


def describe(outs):
    return {"values": [o.tolist() for o in outs], "graph": [o.requires_grad for o in outs]}


def run_epoch(batches, train):
    model.train(train)
    outs = []
    for x, y in batches:
        out = model(x)
        loss = F.cross_entropy(out, y)
        if train:
            opt.zero_grad()
            loss.backward()
            opt.step()
        outs.append(out)
    return outs


def evaluate(batches):
    model.eval()
    outs = []
    for x, y in batches:
        outs.append(model(x))
    model.train()
    return outs


record = {"train": [], "shared": [], "evaluate": [], "own_line": [], "joined": [], "params": []}
for epoch in range(2):
    record["train"].append(describe(run_epoch(train_data, True)))
    record["shared"].append(describe(run_epoch(val_data, False)))
    record["evaluate"].append(describe(evaluate(val_data)))
    model.eval()
    outs = []
    for x, y in val_data:
        out = model(x)
        outs.append(out)
    record["own_line"].append(describe(outs))
    outs = []
    for x, y in val_data:
        out = model(x); outs.append(out)  # noqa: E702
    model.train()
    record["joined"].append(describe(outs))
    record["params"].append([p.detach().flatten().tolist() for p in model.parameters()])
print(json.dumps(record))
"""

# `F.dropout` in `forward` without `training=` (TL405).
TL405_PROGRAM = """\
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = F.dropout(h, p=0.5)
        return self.fc2(h)


def train():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return {"losses": losses, "params": [p.detach().flatten().tolist() for p in model.parameters()]}


def evaluate():
    torch.manual_seed(0)
    model = Net().eval()
    probe = torch.randn(8, 4)
    with torch.no_grad():
        without_dropout = model.fc2(F.relu(model.fc1(probe))).tolist()
        return {"outputs": [model(probe).tolist() for _ in range(2)], "without_dropout": without_dropout}


print(json.dumps({"train": train(), "eval": evaluate()}))
"""

# An "evaluation" function whose result training also backpropagates: no-grad would break it.
TL404_TRAINED_ON = """\
import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]


def evaluate(batches):
    losses = []
    for x, y in batches:
        out = model(x)
        losses.append(F.cross_entropy(out, y))
    return torch.stack(losses).mean()


for epoch in range(3):
    opt.zero_grad()
    loss = evaluate(data)
    loss.backward()
    opt.step()
    model.eval()
    print(evaluate(data).item())
    model.train()
"""

# `F.alpha_dropout`, whose `training` defaults to False: off in every mode (TL405).
TL405_ALPHA = TL405_PROGRAM.replace("F.dropout(h, p=0.5)", "F.alpha_dropout(h, p=0.5)")

# The whole module is saved, but the script restores weights with `load_state_dict` (TL406).
TL406_PROGRAM = """\
import json
import os
import tempfile

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Linear(4, 2)
path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save(model, path)
restored = nn.Linear(4, 2)
try:
    restored.load_state_dict(torch.load(path))
    outcome = bool(torch.equal(restored.weight, model.weight))
except Exception as exc:
    outcome = type(exc).__name__
print(json.dumps({"restored": outcome, "weights": model.weight.flatten().tolist()}))
"""


PROGRAMS: Dict[str, Program] = {
    "tl302": Program("TL302", TL302_PROGRAM),
    "tl302-optional-sampler": Program("TL302", TL302_OPTIONAL_SAMPLER),
    "tl404": Program("TL404", TL404_PROGRAM),
    "tl405": Program("TL405", TL405_PROGRAM),
    "tl405-alpha": Program("TL405", TL405_ALPHA, unsafe=True),
    "tl406": Program("TL406", TL406_PROGRAM, unsafe=True),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return fix_and_run(tmp_path_factory.mktemp("data_model"), PROGRAMS)


def test_tl302_shuffles_the_training_loader_only(runs: Runs) -> None:
    run = runs["tl302"]
    # (a) The model starts from the same parameters, and the evaluation loader keeps its order.
    assert run.fixed["init"] == run.original["init"]
    assert run.fixed["val_order"] == run.original["val_order"]
    # Every epoch still visits every sample once.
    assert all(sorted(order) == list(range(32)) for order in run.fixed["train_order"])
    # (b) The original repeats the stored (label) order; the fixed one draws a new order each epoch.
    assert run.original["train_order"] == [list(range(32))] * 3
    assert all(order != list(range(32)) for order in run.fixed["train_order"])
    assert len({tuple(order) for order in run.fixed["train_order"]}) == 3


def test_tl302_with_a_sampler_on_some_runs_shuffles_only_the_runs_without(runs: Runs) -> None:
    run = runs["tl302-optional-sampler"]
    assert "shuffle=sampler is None" in run.fixed_source
    # (a) The distributed run keeps its sampler's order: `shuffle=True` there would raise.
    assert run.fixed["distributed"] == run.original["distributed"]
    # (b) The single-process run no longer repeats the stored order.
    assert run.original["single"]["orders"] == [list(range(32))] * 2
    assert all(order != list(range(32)) for order in run.fixed["single"]["orders"])


def test_no_tl302_fix_in_a_loader_factory_that_evaluation_uses_too(tmp_path: Path) -> None:
    # `shuffle=True` in the factory would reorder the evaluation loader as well.
    assert_no_fix(tmp_path / "train.py", "TL302", TL302_SHARED_FACTORY)


def test_no_tl302_fix_for_one_loader_line_over_a_dataset_chosen_at_run_time(tmp_path: Path) -> None:
    assert_no_fix(tmp_path / "train.py", "TL302", TL302_CHOSEN_DATASET)


def test_tl404_evaluation_outputs_lose_their_graph_and_nothing_else_changes(runs: Runs) -> None:
    run = runs["tl404"]
    assert run.fixed_source.count("no_grad") == 3 and "set_grad_enabled(train)" in run.fixed_source
    # (a) Training (its outputs keep their graph) and every output value are the same.
    assert run.fixed["train"] == run.original["train"]
    assert run.fixed["params"] == run.original["params"]
    for shape in ("shared", "evaluate", "own_line", "joined"):
        assert [e["values"] for e in run.fixed[shape]] == [e["values"] for e in run.original[shape]], shape
        # (b) The evaluation outputs carried a graph; they no longer do.
        assert all(all(e["graph"]) for e in run.original[shape]), shape
        assert not any(any(e["graph"]) for e in run.fixed[shape]), shape


def test_no_tl404_fix_where_training_backpropagates_the_result(tmp_path: Path) -> None:
    assert_no_fix(tmp_path / "train.py", "TL404", TL404_TRAINED_ON)


def test_tl405_dropout_follows_the_mode(runs: Runs) -> None:
    run = runs["tl405"]
    # (a) Training draws the same masks: the same losses and parameters.
    assert run.fixed["train"] == run.original["train"]
    # (b) In eval mode the original kept dropping units (two calls differ); the fixed model is
    # deterministic and computes the network without dropout.
    first, second = run.original["eval"]["outputs"]
    assert first != second
    assert run.fixed["eval"]["outputs"] == [run.fixed["eval"]["without_dropout"]] * 2


def test_tl405_alpha_dropout_is_an_unsafe_fix_that_turns_it_on_in_training(runs: Runs) -> None:
    run = runs["tl405-alpha"]
    # (a) Evaluation is unchanged: the alpha dropout was off there already.
    assert run.fixed["eval"] == run.original["eval"]
    assert run.original["eval"]["outputs"] == [run.original["eval"]["without_dropout"]] * 2
    # Beyond the rule's bug (why the fix is unsafe): it was off in training too, and is now on,
    # so training computes something else.
    assert run.fixed["train"]["losses"][0] != run.original["train"]["losses"][0]


def test_tl406_the_saved_weights_load_back_and_the_model_is_unchanged(runs: Runs) -> None:
    run = runs["tl406"]
    assert run.original["weights"] == run.fixed["weights"]
    # (b) The script's own loader fails on a pickled module and restores the state dict.
    assert run.original["restored"] is not True
    assert run.fixed["restored"] is True
