"""Must-not-fire shapes found by reading every finding on well-known public training code
(`benchmarks/realcode/`). Each program is written here, in the shape the public code had, and
most carry a twin that still fires, so the guard cannot silence the rule as a whole."""

from __future__ import annotations

import textwrap
from typing import List

from trainlint.testing import lint_source

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nloader = []\n"


def codes(src: str, select: str) -> List[str]:
    return [d.code for d in lint_source(HEADER + textwrap.dedent(src), select=[select])]


# -- TL103: a backward that is not a training step ------------------------------------------


def test_tl103_profiler_timing_forward_and_backward_of_ops() -> None:
    src = """
    import time

    def profile(ops, x):
        for op in ops:
            start = time.time()
            y = op(x)
            y.sum().backward()
            print(time.time() - start)

    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    """
    assert codes(src, "TL103") == []


def test_tl103_out_of_memory_retry_loop_then_one_step() -> None:
    src = """
    def train_step(model, opt, batch, chunks):
        opt.zero_grad()
        while True:
            try:
                for part in batch.chunk(chunks):
                    model(part).mean().backward()
                break
            except RuntimeError:
                chunks *= 2
        opt.step()

    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for batch in loader:
        train_step(model, opt, batch, 1)
    """
    assert codes(src, "TL103") == []


def test_tl103_still_fires_when_nothing_steps() -> None:
    src = """
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
    """
    assert codes(src, "TL103") == ["TL103"]


# -- TL104: an optimizer that differentiates the loss itself ---------------------------------


def test_tl104_differentiable_optimizer_takes_the_loss() -> None:
    src = """
    import higher

    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with higher.innerloop_ctx(model, opt) as (fmodel, diffopt):
        for x, y in loader:
            loss = F.mse_loss(fmodel(x), y)
            diffopt.step(loss)
    """
    assert codes(src, "TL104") == []


# -- TL107: AMP helpers with an optional scaler ----------------------------------------------

AMP_HELPERS = """
def backward(loss, scaler):
    if scaler is not None:
        scaler.scale(loss).backward()
    else:
        loss.backward()


def finish_step(model, optimizer, scaler, clip):
    if scaler is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()
    else:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()


def train(model, optimizer, scaler):
    for x, y in loader:
        optimizer.zero_grad()
        backward(F.cross_entropy(model(x), y), scaler)
        finish_step(model, optimizer, scaler, 1.0)
"""


def test_tl107_backward_helper_that_scales_only_when_a_scaler_is_given() -> None:
    assert codes(AMP_HELPERS, "TL107") == []


def test_tl107_still_fires_when_the_helper_never_unscales() -> None:
    broken = AMP_HELPERS.replace("        scaler.unscale_(optimizer)\n", "")
    assert codes(broken, "TL107") == ["TL107"]


# -- TL403: a helper given its model --------------------------------------------------------


def test_tl403_generation_helper_leaves_the_mode_to_its_caller() -> None:
    src = """
    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1))

        def forward(self, x):
            return self.body(x)

    def generate(model, idx, steps):
        for _ in range(steps):
            with torch.no_grad():
                logits = model(idx)
            idx = torch.cat([idx, logits.argmax(-1, keepdim=True)], dim=1)
        return idx

    model = GPT()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for x, y in loader:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    """
    # A library helper: whoever calls it switches the mode (no caller in the checked files).
    assert codes(src, "TL403") == []
    # A caller that generates straight after training, still in training mode: dropout is on.
    src = src.rstrip(" ")
    assert codes(src + "    print(generate(model, torch.zeros(1, 8), 5))\n", "TL403") == ["TL403"]
    assert codes(src + "    model.eval()\n    print(generate(model, torch.zeros(1, 8), 5))\n", "TL403") == []


# -- code that is not training --------------------------------------------------------------

ONE_STEP = """
model = nn.Linear(4, 3)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(3):
    loss = F.cross_entropy(model(torch.randn(2, 4)), torch.tensor([0, 1]))
    loss.backward()
    opt.step()
"""


def test_a_training_loop_without_zero_grad_still_fires_in_a_script() -> None:
    assert lint_source(HEADER + ONE_STEP, path="train.py", select=["TL101"])


def test_unit_tests_and_fixtures_are_not_training_runs() -> None:
    body = textwrap.indent(ONE_STEP, "    ")
    assert lint_source(HEADER + ONE_STEP, path="tests/test_train.py", select=["TL101"]) == []
    assert lint_source(HEADER + "def test_one_step():\n" + body, path="smoke.py", select=["TL101"]) == []
    fixture = "import pytest\n\n@pytest.fixture\ndef trained():\n" + body
    assert lint_source(HEADER + fixture, path="helpers.py", select=["TL101"]) == []


def test_a_training_script_named_like_a_test_module_is_still_training() -> None:
    # Some projects name their experiment scripts `copymem_test.py`: without a test in it
    # (no `test*` function, no `Test*` class, no pytest/unittest import) it is a script.
    assert lint_source(HEADER + ONE_STEP, path="copy_memory/copymem_test.py", select=["TL101"])
    assert lint_source(HEADER + ONE_STEP, path="test_mnist.py", select=["TL101"])
    body = textwrap.indent(ONE_STEP, "    ")
    assert lint_source(HEADER + "def test_one_step():\n" + body, path="model_test.py", select=["TL101"]) == []
    assert lint_source("import unittest\n" + HEADER + ONE_STEP, path="smoke_test.py", select=["TL101"]) == []


def test_throughput_probes_are_not_training_runs() -> None:
    body = textwrap.indent(ONE_STEP, "    ")
    assert lint_source(HEADER + "def benchmark_step():\n" + body, path="perf.py", select=["TL101"]) == []
    assert lint_source(HEADER + ONE_STEP, path="bench_throughput.py", select=["TL101"]) == []


def test_a_saliency_backward_is_not_a_training_step() -> None:
    src = """
    model = nn.Linear(4, 3)
    model.load_state_dict(torch.load("model.pt"))
    model.eval()
    for x in loader:
        x.requires_grad_(True)
        model(x).max().backward()
        saliency = x.grad.abs()
    """
    assert codes(src, "TL103") == []


# -- TL108: a frozen encoder under no_grad while another model trains -------------------------

FROZEN = """
text_encoder, unet = nn.Linear(8, 8), nn.Linear(8, 8)
opt = torch.optim.AdamW(unet.parameters(), lr=1e-4)
for x, y in loader:
    with torch.no_grad():
        cond = text_encoder(x)
    pred = unet(cond)
    F.mse_loss(pred, y).backward()
    opt.step()
    opt.zero_grad()
"""


def test_tl108_model_known_only_by_its_use_trained_through_a_loss_method() -> None:
    # A library model trained through `model.loss(...)` and called (its forward) only in a
    # periodic `@torch.no_grad()` test: the forward under no_grad is not the trained one.
    src = """
    from torch_geometric.nn import MetaPath2Vec

    model = MetaPath2Vec(edges, embedding_dim=128)
    optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=0.01)

    @torch.no_grad()
    def test():
        model.eval()
        return model("author").mean()

    for i, (pos_rw, neg_rw) in enumerate(loader):
        optimizer.zero_grad()
        loss = model.loss(pos_rw, neg_rw)
        loss.backward()
        optimizer.step()
        if i % 100 == 0:
            test()
    """
    assert codes(src, "TL108") == []


def test_tl108_frozen_encoder_under_no_grad_is_fine() -> None:
    assert codes(FROZEN, "TL108") == []


def test_tl108_names_the_trained_model_whose_forward_is_under_no_grad() -> None:
    broken = FROZEN.replace(
        "        cond = text_encoder(x)\n    pred = unet(cond)",
        "        cond = text_encoder(x)\n        pred = unet(cond)",
    )
    found = [d for d in lint_source(HEADER + broken, select=["TL108"])]
    assert len(found) == 1 and "`unet`" in found[0].message


# -- TL403: Lightning switches modes itself -------------------------------------------------


def test_tl403_step_helper_shared_by_lightning_training_and_validation() -> None:
    src = """
    import lightning as L

    class Lit(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 3))

        def forward(self, x):
            return self.net(x)

        def _shared_step(self, batch):
            x, y = batch
            return F.cross_entropy(self(x), y)

        def training_step(self, batch, batch_idx):
            return self._shared_step(batch)

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self._shared_step(batch))

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)
    """
    assert codes(src, "TL403") == [] and codes(src, "TL404") == []


# -- TL107: the whole AMP step in an optimizer wrapper's method ------------------------------

WRAPPER = """
class AmpOptimizer:
    def __init__(self, model, optimizers, clip):
        self.params = list(model.parameters())
        self.optimizers = optimizers
        self.clip = clip
        self.scaler = torch.cuda.amp.GradScaler()

    def step(self, loss):
        self.scaler.scale(loss).backward()
        if self.clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        for opt in self.optimizers:
            self.scaler.step(opt)
        self.scaler.update()
        for opt in self.optimizers:
            opt.zero_grad()
"""


def test_tl107_clip_before_unscale_in_a_step_method_called_from_elsewhere() -> None:
    assert codes(WRAPPER, "TL107") == ["TL107"]
    fixed = WRAPPER.replace(
        "        if self.clip is not None:\n",
        "        for opt in self.optimizers:\n            self.scaler.unscale_(opt)\n        if self.clip is not None:\n",
    )
    assert codes(fixed, "TL107") == []


# -- TL604: a step's outputs kept after their loss entry was detached -------------------------


def test_tl604_outputs_kept_after_the_loss_entry_is_detached() -> None:
    src = """
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    outputs = []
    for x, y in loader:
        opt.zero_grad()
        output = {"loss": F.mse_loss(model(x), y)}
        output["loss"].backward()
        opt.step()
        output["loss"] = output["loss"].detach()
        outputs.append(output)
    """
    assert codes(src, "TL604") == []
    assert codes(src.replace('        output["loss"] = output["loss"].detach()\n', ""), "TL604") == ["TL604"]


def test_tl108_backward_guarded_by_requires_grad_in_a_shared_helper() -> None:
    src = """
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def forward_backward(batch):
        x, y = batch
        loss = F.cross_entropy(model(x), y)
        if loss.requires_grad:
            opt.zero_grad()
            loss.backward()
        return loss

    for batch in loader:
        forward_backward(batch)
        opt.step()
        with torch.no_grad():
            model.eval()
            forward_backward(batch)
            model.train()
    """
    assert codes(src, "TL108") == []
    assert codes(
        src.replace(
            "        if loss.requires_grad:\n            opt.zero_grad()\n            loss.backward()",
            "        opt.zero_grad()\n        loss.backward()",
        ),
        "TL108",
    ) == ["TL108"]


# -- TL404: a model known by what the function does with it ----------------------------------

VALIDATE = """
from models import build  # not part of the checked files: the model's class is unknown

def validate(loader, net, criterion):
    net.eval()
    total = 0.0
    for images, masks in loader:
        outputs = net(images)
        total += criterion(outputs, masks).item()
    return total

net = build()
print(validate(loader, net, nn.CrossEntropyLoss()))
"""


def test_tl404_validation_loop_of_a_model_known_only_by_its_use() -> None:
    found = lint_source(HEADER + textwrap.dedent(VALIDATE), select=["TL404"])
    assert [d.code for d in found] == ["TL404"]
    wrapped = VALIDATE.replace(
        "    for images, masks in loader:\n        outputs",
        "    with torch.no_grad():\n      for images, masks in loader:\n        outputs",
    )
    assert codes(wrapped, "TL404") == []
    # Named for a model and called on data is a guess too; neither named nor treated as a
    # model, it is no finding (and never TL403, which needs the model's layers).
    assert codes(VALIDATE.replace("    net.eval()\n", ""), "TL404") == ["TL404"]
    assert codes(VALIDATE.replace("    net.eval()\n", "").replace("net", "scorer"), "TL404") == []
    assert codes(VALIDATE, "TL403") == []


# -- TL601: a loss class that computes its value under no_grad -------------------------------

GAN_PRIOR = """
class PriorLoss:
    def __init__(self, critic):
        self.critic = critic
        self.bce = nn.BCELoss()

    def __call__(self, pred):
        scores = self.critic(pred)
        with torch.no_grad():
            return self.bce(scores, torch.ones_like(scores))
"""


def test_tl601_loss_class_returning_a_value_computed_under_no_grad() -> None:
    assert codes(GAN_PRIOR, "TL601") == ["TL601"]
    # Fixed: the loss is computed with gradients on (the critic may stay frozen).
    fixed = GAN_PRIOR.replace("        with torch.no_grad():\n            return", "        return")
    assert codes(fixed, "TL601") == []


def test_tl601_a_metric_class_may_compute_under_no_grad() -> None:
    metric = GAN_PRIOR.replace("class PriorLoss", "class PriorScore")
    assert codes(metric, "TL601") == []
    # A loss class returning a constant under no_grad (an early exit) sends no graph either way.
    early = GAN_PRIOR.replace("return self.bce(scores, torch.ones_like(scores))", "return 0.0")
    assert codes(early, "TL601") == []


# -- TL108: decoding under no_grad is not the training forward ------------------------------


def test_tl108_generate_under_no_grad_in_an_evaluation_helper() -> None:
    src = """
    from transformers import AutoModelForSeq2SeqLM

    def evaluate(model, loader):
        model.eval()
        for batch in loader:
            with torch.no_grad():
                tokens = model.generate(input_ids=batch["input_ids"])

    model = AutoModelForSeq2SeqLM.from_pretrained("t5-small")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for epoch in range(3):
        model.train()
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
        evaluate(model, loader)
    """
    assert codes(src, "TL108") == []


# -- `def test(...)` in a training script evaluates; a runner's own `train()` is followed -------

RUNNER = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))

    def forward(self, x):
        return self.body(x)


class Solver:
    def __init__(self, test_loader):
        self.test_loader = test_loader

    def train(self, loader, task_model):
        opt = torch.optim.Adam(task_model.parameters(), lr=1e-3)
        task_model.train()
        for x, y in loader:
            opt.zero_grad()
            F.cross_entropy(task_model(x), y).backward()
            opt.step()
        return self.test(task_model)

    def test(self, task_model):
        correct = 0
        for x, y in self.test_loader:
            with torch.no_grad():
                correct += (task_model(x).argmax(1) == y).sum()
        return correct


solver = Solver(loader)
solver.train(loader, Net())
"""


def test_tl403_an_evaluation_method_named_test_of_a_runner() -> None:
    # `solver.train(...)` is the runner's method (not nn.Module.train), so its model is known,
    # and `Solver.test` is an evaluation, not a unit test: dropout stays on while it evaluates.
    assert codes(RUNNER, "TL403") == ["TL403"]
    fixed = RUNNER.replace("        correct = 0\n", "        task_model.eval()\n        correct = 0\n")
    assert codes(fixed, "TL403") == []


def test_methods_of_a_test_case_class_are_test_code() -> None:
    as_unit_test = RUNNER.replace("class Solver:", "class TestSolver(unittest.TestCase):").replace(
        "Solver(loader)", "TestSolver(loader)"
    )
    assert codes(as_unit_test, "TL403") == []


def test_a_runner_class_named_like_a_test_is_not_test_code() -> None:
    # `class Tester:` / `class Test:` with an `__init__` holding the loaders is a project's
    # evaluation runner: pytest does not collect classes that define `__init__`.
    as_runner = RUNNER.replace("class Solver:", "class Tester:").replace("Solver(loader)", "Tester(loader)")
    assert codes(as_runner, "TL403") == ["TL403"]


# -- every rule: a module written for another framework ---------------------------------------

_EVALUATION = """
def evaluate(model, batches):
    model.eval()
    total = 0.0
    for x, y in batches:
        out = model(x)
        total += float((out - y).abs().mean())
    return total

net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 1))
print(evaluate(net, []))
"""


def test_module_written_for_another_framework_is_left_alone() -> None:
    # (a MegEngine port of a PyTorch demo: its forward records no autograd graph)
    megengine = "import megengine as mge\nimport megengine.module as nn\n" + _EVALUATION
    pytorch = "import torch\nimport torch.nn as nn\n" + _EVALUATION
    assert [d.code for d in lint_source(megengine, select=["TL404"])] == []
    assert [d.code for d in lint_source(pytorch, select=["TL404"])] == ["TL404"]
