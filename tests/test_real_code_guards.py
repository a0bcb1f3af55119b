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
