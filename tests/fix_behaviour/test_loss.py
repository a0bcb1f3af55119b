"""The loss rules' fixes (TL201, TL202, TL203, TL204, TL207), run. All of them are unsafe: they
change what the model returns or how a loss reads its input. Each test says what changes
beyond the bug (the model's outputs become logits, a 4-D softmax normalises another axis)
and checks that everything else is what it was: the parameters, the layers before the one
removed, the model's predictions (the order of its scores)."""

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


def train(model, loss_fn, data, lr=0.5):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for x, y in data:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses


"""

# The model ends with a softmax and is trained with cross-entropy (TL201).
TL201_SOFTMAX = (
    HEADER
    + """\
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return F.softmax(self.body(x), dim=1)


torch.manual_seed(0)
model = Classifier()
data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(5)]
probe = torch.randn(16, 4)
with torch.no_grad():
    record = {
        "outputs": model(probe).tolist(),
        "logits": model.body(probe).tolist(),
        "predictions": model(probe).argmax(1).tolist(),
        "logit_loss": F.cross_entropy(model.body(data[0][0]), data[0][1]).item(),
    }
record["losses"] = train(model, nn.CrossEntropyLoss(), data)
print(json.dumps(record))
"""
)

# The model ends with a log_softmax and is trained with cross-entropy (TL201): the loss is the
# same, since log_softmax of a log_softmax changes nothing.
TL201_LOG_SOFTMAX = (
    HEADER
    + """\
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return F.log_softmax(self.body(x), dim=1)


torch.manual_seed(0)
model = Classifier()
data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(5)]
probe = torch.randn(16, 4)
with torch.no_grad():
    record = {"log_probabilities": F.log_softmax(model(probe), dim=1).tolist(), "outputs": model(probe).tolist()}
record["losses"] = train(model, F.cross_entropy, data)
record["params"] = [p.detach().flatten().tolist() for p in model.parameters()]
print(json.dumps(record))
"""
)

# A sigmoid layer before a BCE-with-logits loss (TL202).
TL202_PROGRAM = (
    HEADER
    + """\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
data = [(torch.randn(8, 4), torch.randint(0, 2, (8, 1)).float()) for _ in range(5)]
probe = torch.randn(16, 4)
with torch.no_grad():
    record = {
        "outputs": model(probe).flatten().tolist(),
        "logits": model[:3](probe).flatten().tolist(),
        "ranking": model(probe).flatten().argsort().tolist(),
        "logit_loss": F.binary_cross_entropy_with_logits(model[:3](data[0][0]), data[0][1]).item(),
    }
record["losses"] = train(model, nn.BCEWithLogitsLoss(), data)
print(json.dumps(record))
"""
)

# Raw scores fed to BCELoss (TL203): torch raises on values outside [0, 1].
TL203_PROGRAM = (
    HEADER
    + """\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
data = [(torch.randn(8, 4) * 3, torch.randint(0, 2, (8, 1)).float()) for _ in range(5)]
probe = torch.randn(16, 4)
with torch.no_grad():
    record = {
        "outputs": model(probe).flatten().tolist(),
        "sigmoid_loss": F.binary_cross_entropy(torch.sigmoid(model(data[0][0])), data[0][1]).item(),
    }
try:
    record["losses"] = train(model, nn.BCELoss(), data)
except RuntimeError as e:
    record["error"] = str(e)
print(json.dumps(record))
"""
)

# Softmax probabilities fed to NLLLoss (TL204).
TL204_SOFTMAX = (
    HEADER
    + """\
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return F.softmax(self.body(x), dim=1)


torch.manual_seed(0)
model = Classifier()
data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(5)]
probe = torch.randn(16, 4)
with torch.no_grad():
    record = {
        "outputs": model(probe).tolist(),
        "predictions": model(probe).argmax(1).tolist(),
        "log_softmax_loss": F.nll_loss(F.log_softmax(model.body(data[0][0]), dim=1), data[0][1]).item(),
    }
record["losses"] = train(model, nn.NLLLoss(), data)
print(json.dumps(record))
"""
)

# Raw scores fed to NLLLoss (TL204): the loss is -score[target], unbounded below.
TL204_RAW = (
    HEADER
    + """\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(5)]
probe = torch.randn(16, 4)
with torch.no_grad():
    record = {
        "outputs": model(probe).tolist(),
        "cross_entropy": F.cross_entropy(model(data[0][0]), data[0][1]).item(),
    }
record["losses"] = train(model, nn.NLLLoss(), data)
print(json.dumps(record))
"""
)

# Softmax without `dim` (TL207), on every rank of input it meets.
TL207_PROGRAM = """\
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


def probabilities(scores):
    return F.softmax(scores)


torch.manual_seed(0)
inputs = {"1d": torch.randn(5), "2d": torch.randn(4, 3), "3d": torch.randn(2, 3, 4), "4d": torch.randn(2, 3, 2, 2)}
layer = nn.Softmax()
record = {rank: probabilities(x).tolist() for rank, x in inputs.items()}
record["layer_2d"] = layer(inputs["2d"]).tolist()
print(json.dumps(record))
"""

PROGRAMS: Dict[str, Program] = {
    "tl201-softmax": Program("TL201", TL201_SOFTMAX, unsafe=True),
    "tl201-log-softmax": Program("TL201", TL201_LOG_SOFTMAX, unsafe=True),
    "tl202": Program("TL202", TL202_PROGRAM, unsafe=True),
    "tl203": Program("TL203", TL203_PROGRAM, unsafe=True),
    "tl204-softmax": Program("TL204", TL204_SOFTMAX, unsafe=True),
    "tl204-raw": Program("TL204", TL204_RAW, unsafe=True),
    "tl207": Program("TL207", TL207_PROGRAM, unsafe=True),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return fix_and_run(tmp_path_factory.mktemp("loss"), PROGRAMS)


def _softmax(rows: list) -> list:
    import torch

    return torch.tensor(rows).softmax(-1).tolist()


def test_tl201_feeds_logits_to_the_loss_and_keeps_the_predictions(runs: Runs) -> None:
    run = runs["tl201-softmax"]
    # (a) The layers before the softmax, and the predictions (softmax keeps the order), are the same.
    assert run.fixed["logits"] == run.original["logits"]
    assert run.fixed["predictions"] == run.original["predictions"]
    # Beyond the bug: the model's outputs are now the logits, not probabilities.
    assert run.fixed["outputs"] == run.original["logits"]
    assert close(_softmax(run.fixed["outputs"]), run.original["outputs"])
    # (b) The loss is the cross-entropy of the logits.
    assert run.original["losses"][0] != pytest.approx(run.original["logit_loss"])
    assert run.fixed["losses"][0] == run.fixed["logit_loss"]


def test_tl201_log_softmax_removed_trains_the_same(runs: Runs) -> None:
    run = runs["tl201-log-softmax"]
    # (a) The loss and the training are the same up to float rounding (log_softmax twice is log_softmax).
    assert close(run.fixed["losses"], run.original["losses"])
    assert close(run.fixed["params"], run.original["params"], rel=1e-4, abs_=1e-6)
    assert close(run.fixed["log_probabilities"], run.original["log_probabilities"], rel=1e-4, abs_=1e-6)
    # Beyond the bug: the outputs are logits, not log-probabilities.
    assert not close(run.fixed["outputs"], run.original["outputs"])


def test_tl202_feeds_logits_to_the_loss_and_keeps_the_ranking(runs: Runs) -> None:
    run = runs["tl202"]
    # (a) The layers before the sigmoid, and the order of the scores, are the same.
    assert run.fixed["logits"] == run.original["logits"]
    assert run.fixed["ranking"] == run.original["ranking"]
    # Beyond the bug: the outputs are logits (a threshold at 0.5 on them now belongs at 0).
    assert run.fixed["outputs"] == run.original["logits"]
    # (b) The loss is BCE-with-logits of the logits, not of sigmoid outputs.
    assert run.original["losses"][0] != pytest.approx(run.original["logit_loss"])
    assert run.fixed["losses"][0] == run.fixed["logit_loss"]


def test_tl203_reads_the_scores_as_logits(runs: Runs) -> None:
    run = runs["tl203"]
    # (a) The model is untouched: same outputs.
    assert run.fixed["outputs"] == run.original["outputs"]
    # (b) BCELoss raised on scores outside [0, 1]; the fixed loss is BCE of their sigmoid.
    assert "between 0 and 1" in run.original["error"]
    assert run.fixed["losses"][0] == pytest.approx(run.fixed["sigmoid_loss"], rel=1e-5)


def test_tl204_log_softmax_feeds_log_probabilities_and_keeps_the_predictions(runs: Runs) -> None:
    run = runs["tl204-softmax"]
    # (a) The predictions are the same.
    assert run.fixed["predictions"] == run.original["predictions"]
    # Beyond the bug: the outputs are log-probabilities (their softmax gives the old outputs).
    assert close(_softmax(run.fixed["outputs"]), run.original["outputs"])
    # (b) The loss is the negative log-likelihood of the log-probabilities.
    assert run.original["losses"][0] != pytest.approx(run.original["log_softmax_loss"])
    assert run.fixed["losses"][0] == pytest.approx(run.fixed["log_softmax_loss"], rel=1e-6)


def test_tl204_raw_scores_switch_to_cross_entropy(runs: Runs) -> None:
    run = runs["tl204-raw"]
    # (a) The model is untouched: same outputs.
    assert run.fixed["outputs"] == run.original["outputs"]
    # (b) The loss is the cross-entropy of the scores, no longer -score[target] (which falls forever).
    assert run.original["losses"][0] != pytest.approx(run.original["cross_entropy"])
    assert run.fixed["losses"][0] == run.fixed["cross_entropy"]
    assert min(run.fixed["losses"]) > 0 > min(run.original["losses"])


def test_tl207_changes_only_inputs_whose_implicit_axis_was_not_the_last(runs: Runs) -> None:
    import torch

    run = runs["tl207"]
    # (a) For 1-D and 2-D inputs the implicit axis was the last one: the same values.
    for key in ("1d", "2d", "layer_2d"):
        assert run.fixed[key] == run.original[key], key
    # (b) A 3-D input (batch, steps, classes) was normalised across the batch; now across classes.
    assert torch.tensor(run.original["3d"]).sum(0) == pytest.approx(torch.ones(3, 4))
    assert torch.tensor(run.fixed["3d"]).sum(-1) == pytest.approx(torch.ones(2, 3))
    # Beyond the bug (why the fix is unsafe): a 4-D (N, C, H, W) input was normalised over its
    # class axis (1), and is now normalised over its last axis.
    assert torch.tensor(run.original["4d"]).sum(1) == pytest.approx(torch.ones(2, 2, 2))
    assert run.fixed["4d"] != run.original["4d"]
