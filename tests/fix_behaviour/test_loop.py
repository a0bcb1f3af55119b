"""The loop rules' fixes (TL101, TL102, TL105, TL106, TL107), run: what every optimizer step
applies (its gradients, its learning rate) is recorded by optimizer hooks, and the fixed
program must compute what the original did everywhere but on the buggy path."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from tests.fix_behaviour.common import Program, Runs, assert_no_fix, close, fix_and_run

pytest.importorskip("torch")

# What the programs share: recording what each optimizer step applies, and whether it is
# exactly the gradient of the step's own batch.
PRELUDE = '''\
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


def params_of(model):
    return [p.detach().flatten().tolist() for p in model.parameters()]


def watch_steps(model, opt):
    """Every parameter's value and gradient when each optimizer step runs."""
    seen = []

    def hook(optimizer, args, kwargs):
        seen.append([(p.detach().clone(), None if p.grad is None else p.grad.clone()) for p in model.parameters()])

    opt.register_step_pre_hook(hook)
    return seen


def own_gradients(model, seen, batches, loss_fn):
    """Per step: whether it applied the gradient of its own batch, taken at the parameters it
    updated (nothing left over from earlier steps, nothing cleared away)."""
    names = [n for n, _ in model.named_parameters()]
    out = []
    for step, batch in zip(seen, batches):
        values = [v.clone().requires_grad_() for v, _ in step]

        def forward(x):
            return torch.func.functional_call(model, dict(zip(names, values)), (x,))

        fresh = torch.autograd.grad(loss_fn(forward, *batch), values)
        out.append(all(g is not None and torch.allclose(g, f, rtol=1e-5, atol=1e-6) for (_, g), f in zip(step, fresh)))
    return out


def grad_norms(seen):
    return [sum(float((g**2).sum()) for _, g in step if g is not None) ** 0.5 for step in seen]


def cross_entropy(forward, x, y):
    return F.cross_entropy(forward(x), y)


'''

# One iteration, two arms: the mixed-precision arm clears, the plain one does not (TL101).
TL101_ARMS = (
    PRELUDE
    + """\
def train(use_amp):
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu") if use_amp else None
    data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]
    seen = watch_steps(model, opt)
    for x, y in data:
        loss = F.cross_entropy(model(x), y)
        if scaler is not None:
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
    return {"own": own_gradients(model, seen, data, cross_entropy), "params": params_of(model)}


print(json.dumps({"amp": train(True), "plain": train(False)}))
"""
)

# Each step sums the gradients of its two micro-batches, and nothing clears them (TL101).
TL101_MICRO_BATCHES = (
    PRELUDE
    + """\
def two_halves(forward, x, y):
    return sum(F.cross_entropy(forward(xm), ym) for xm, ym in zip(x.chunk(2), y.chunk(2)))


torch.manual_seed(0)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]
seen = watch_steps(model, opt)
for x, y in data:
    for xm, ym in zip(x.chunk(2), y.chunk(2)):
        F.cross_entropy(model(xm), ym).backward()
    opt.step()
print(json.dumps({"own": own_gradients(model, seen, data, two_halves), "first_step": grad_norms(seen)[0]}))
"""
)

# `zero_grad()` between `backward()` and `step()` (TL102).
TL102_PROGRAM = (
    PRELUDE
    + """\
torch.manual_seed(0)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]
seen = watch_steps(model, opt)
# Whether gradients were left over when each forward pass started.
leftover = []
hook = model.register_forward_pre_hook(
    lambda m, a: leftover.append(any(p.grad is not None and bool(p.grad.any()) for p in m.parameters()))
)
losses = []
init = params_of(model)
for x, y in data:
    loss = F.cross_entropy(model(x), y)
    losses.append(loss.item())
    loss.backward()
    opt.zero_grad()
    opt.step()
hook.remove()
print(
    json.dumps(
        {
            "leftover": leftover,
            "first_loss": losses[0],
            "own": own_gradients(model, seen, data, cross_entropy),
            "moved": params_of(model) != init,
        }
    )
)
"""
)

# A batch skipped after its backward: the clear before the `continue` must stay on that path.
TL102_SKIP = (
    PRELUDE
    + """\
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]:
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.zero_grad()
    if not torch.isfinite(loss):
        continue
    opt.step()
"""
)

# A per-batch scheduler stepped before the optimizer (TL105).
TL105_PER_BATCH = (
    PRELUDE
    + """\
torch.manual_seed(0)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]
lrs = []
opt.register_step_pre_hook(lambda o, a, k: lrs.append(o.param_groups[0]["lr"]))
seen = watch_steps(model, opt)
for x, y in data:
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    sched.step()
    opt.step()
print(
    json.dumps(
        {
            "lrs": lrs,
            "scheduler_steps": sched.last_epoch,
            "lr_after": sched.get_last_lr(),
            "own": own_gradients(model, seen, data, cross_entropy),
            "first_grad": grad_norms(seen)[0],
        }
    )
)
"""
)

# A per-epoch scheduler stepped at the top of the epoch, before the batches (TL105).
TL105_PER_EPOCH = (
    PRELUDE
    + """\
torch.manual_seed(0)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(2)]
lrs = []
opt.register_step_pre_hook(lambda o, a, k: lrs.append(o.param_groups[0]["lr"]))
for epoch in range(3):
    sched.step()
    for x, y in data:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
print(json.dumps({"lrs": lrs, "scheduler_steps": sched.last_epoch, "lr_after": sched.get_last_lr()}))
"""
)

# A skipped batch still advances the schedule: moving the scheduler past the `continue` would not.
TL105_SKIP = (
    PRELUDE
    + """\
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
for step, (x, y) in enumerate([(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]):
    sched.step()
    if step % 2:
        continue
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
"""
)

# Clipping after the step (TL106): the update already used the raw gradients.
TL106_AFTER_STEP = (
    PRELUDE
    + """\
torch.manual_seed(0)
model = nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
data = [(torch.randn(8, 4) * 10, torch.randn(8, 1) * 100) for _ in range(3)]
seen = watch_steps(model, opt)
measured, losses = [], []
for x, y in data:
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    losses.append(loss.item())
    loss.backward()
    opt.step()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    measured.append(total.item())
print(json.dumps({"applied": grad_norms(seen), "measured": measured, "losses": losses}))
"""
)

# Clipping before `backward()` (TL106): it clips gradients that are not there yet.
TL106_BEFORE_BACKWARD = (
    PRELUDE
    + """\
torch.manual_seed(0)
model = nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
data = [(torch.randn(8, 4) * 10, torch.randn(8, 1) * 100) for _ in range(3)]
seen = watch_steps(model, opt)
losses = []
for x, y in data:
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    losses.append(loss.item())
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    loss.backward()
    opt.step()
print(json.dumps({"applied": grad_norms(seen), "first_loss": losses[0], "steps": len(seen)}))
"""
)

# A step helper that clips and then calls `backward()`, run from out of the analysis' sight
# (through a table of hooks): the clip sees the previous gradients (TL106).
TL106_HELPER = (
    PRELUDE
    + """\
torch.manual_seed(0)
model = nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.01)


class Step:
    def backward(self, loss):
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        loss.backward()


hooks = {"backward": Step().backward}
data = [(torch.randn(8, 4) * 10, torch.randn(8, 1) * 100) for _ in range(3)]
seen = watch_steps(model, opt)
losses = []
for x, y in data:
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    losses.append(loss.item())
    hooks["backward"](loss)
    opt.step()
print(json.dumps({"applied": grad_norms(seen), "first_loss": losses[0]}))
"""
)

# Clipping scaled gradients (TL107): with the scaler on, the clip sees gradients 65536 times
# too large and shrinks the update to almost nothing; with it off, nothing is scaled.
TL107_UNSCALE = (
    PRELUDE
    + """\
def train(amp):
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    scaler = torch.amp.GradScaler("cpu", enabled=amp)
    data = [(torch.randn(8, 4) * 10, torch.randn(8, 1) * 100) for _ in range(3)]
    seen = watch_steps(model, opt)
    for x, y in data:
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        scaler.scale(loss).backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        scaler.step(opt)
        scaler.update()
    return {"applied": grad_norms(seen), "params": params_of(model)}


print(json.dumps({"plain": train(False), "amp": train(True)}))
"""
)

# A clip on every micro-batch of an accumulation: `unscale_` there would run twice per step.
TL107_UNSCALE_MICRO_BATCHES = (
    PRELUDE
    + """\
model = nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
scaler = torch.amp.GradScaler("cpu")
for i, (x, y) in enumerate([(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(4)]):
    scaler.scale(F.mse_loss(model(x), y)).backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    if (i + 1) % 2 == 0:
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
"""
)

# Two optimizers share a scaler that is never updated (TL107). The scale grows at every update
# (`growth_interval=1`): an `update()` between the two steps would unscale the second
# optimizer's gradients by a scale they were not multiplied by.
TL107_UPDATE = (
    PRELUDE
    + """\
def train(amp):
    torch.manual_seed(0)
    encoder, decoder = nn.Linear(4, 8), nn.Linear(8, 4)
    opt_enc = torch.optim.SGD(encoder.parameters(), lr=0.1)
    opt_dec = torch.optim.SGD(decoder.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", growth_interval=1, enabled=amp)
    data = [torch.randn(8, 4) for _ in range(4)]
    try:
        for x in data:
            opt_enc.zero_grad()
            opt_dec.zero_grad()
            loss = F.mse_loss(decoder(encoder(x)), x)
            scaler.scale(loss).backward()
            scaler.step(opt_enc)
            scaler.step(opt_dec)
    except RuntimeError as e:
        return {"error": str(e)}
    return {"encoder": params_of(encoder), "decoder": params_of(decoder), "scale": scaler.get_scale()}


print(json.dumps({"plain": train(False), "amp": train(True)}))
"""
)

# `backward()` on the unscaled loss while `scaler.step()` unscales (TL107).
TL107_SCALE = (
    PRELUDE
    + """\
def train(amp):
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", enabled=amp)
    data = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]
    try:
        for x, y in data:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            scaler.step(opt)
            scaler.update()
    except AssertionError as e:  # what torch raises for a step with nothing scaled
        return {"error": str(e)}
    return {"params": params_of(model)}


print(json.dumps({"plain": train(False), "amp": train(True)}))
"""
)

# A plain optimizer step uses the same backward's gradients as the scaler step: scaling that
# backward would hand the plain step scaled gradients.
TL107_SCALE_SHARED = (
    PRELUDE
    + """\
encoder, head = nn.Linear(4, 8), nn.Linear(8, 2)
opt_enc = torch.optim.SGD(encoder.parameters(), lr=0.1)
opt_head = torch.optim.SGD(head.parameters(), lr=0.1)
scaler = torch.amp.GradScaler("cpu")
for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(4)]:
    opt_enc.zero_grad()
    opt_head.zero_grad()
    loss = F.cross_entropy(head(encoder(x)), y)
    loss.backward()
    scaler.step(opt_enc)
    opt_head.step()
    scaler.update()
"""
)

PROGRAMS: Dict[str, Program] = {
    "tl101-arms": Program("TL101", TL101_ARMS),
    "tl101-micro-batches": Program("TL101", TL101_MICRO_BATCHES),
    "tl102": Program("TL102", TL102_PROGRAM),
    "tl105-per-batch": Program("TL105", TL105_PER_BATCH),
    "tl105-per-epoch": Program("TL105", TL105_PER_EPOCH),
    "tl106-after-step": Program("TL106", TL106_AFTER_STEP),
    "tl106-before-backward": Program("TL106", TL106_BEFORE_BACKWARD),
    "tl106-helper": Program("TL106", TL106_HELPER),
    "tl107-unscale": Program("TL107", TL107_UNSCALE),
    "tl107-update": Program("TL107", TL107_UPDATE),
    "tl107-scale": Program("TL107", TL107_SCALE),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return fix_and_run(tmp_path_factory.mktemp("loop"), PROGRAMS)


# ---------------------------------------------------------------------------- TL101


def test_tl101_clears_on_the_uncleared_arm_and_leaves_the_clearing_arm_as_it_was(runs: Runs) -> None:
    run = runs["tl101-arms"]
    # (a) The mixed-precision arm already cleared: every step and parameter identical.
    assert run.fixed["amp"] == run.original["amp"]
    assert run.original["amp"]["own"] == [True] * 4
    # (b) The plain arm summed every step so far; fixed, each step applies its own gradient.
    assert run.original["plain"]["own"] == [True, False, False, False]
    assert run.fixed["plain"]["own"] == [True] * 4


def test_tl101_keeps_the_micro_batches_of_one_step_summed(runs: Runs) -> None:
    run = runs["tl101-micro-batches"]
    # (a) The first step (nothing left over yet) sums both micro-batches, fixed or not.
    assert run.fixed["first_step"] == run.original["first_step"]
    # (b) Later steps no longer carry earlier steps' gradients, and still sum their own two
    # micro-batches: a clear inside the micro-batch loop would keep only the last one.
    assert run.original["own"] == [True, False, False, False]
    assert run.fixed["own"] == [True] * 4


# ---------------------------------------------------------------------------- TL102


def test_tl102_lets_the_step_see_its_gradients_and_still_clears_every_iteration(runs: Runs) -> None:
    run = runs["tl102"]
    # (a) Every forward still starts from cleared gradients, and the first loss is the same.
    assert run.fixed["leftover"] == run.original["leftover"] == [False] * 4
    assert run.fixed["first_loss"] == run.original["first_loss"]
    # (b) The original steps on cleared gradients and never moves; the fixed one applies each
    # batch's gradient.
    assert run.original["own"] == [False] * 4 and not run.original["moved"]
    assert run.fixed["own"] == [True] * 4 and run.fixed["moved"]


def test_no_tl102_fix_across_a_continue(tmp_path: Path) -> None:
    # Moved after the step, the clear would no longer run on the skipped batch's path.
    assert_no_fix(tmp_path / "train.py", "TL102", TL102_SKIP)


# ---------------------------------------------------------------------------- TL105


def test_tl105_per_batch_scheduler_gives_each_step_its_own_rate(runs: Runs) -> None:
    run = runs["tl105-per-batch"]
    # (a) The schedule advances as often, ends where it ended, and the gradients are the same.
    for key in ("scheduler_steps", "lr_after", "own", "first_grad"):
        assert run.fixed[key] == run.original[key], key
    assert run.fixed["own"] == [True] * 4
    # (b) The first step uses the initial rate; each later one the rate the original used a step earlier.
    assert run.original["lrs"] == [0.1 * 0.5 ** (k + 1) for k in range(4)]
    assert run.fixed["lrs"] == [0.1 * 0.5**k for k in range(4)]


def test_tl105_per_epoch_scheduler_moves_after_the_epoch(runs: Runs) -> None:
    run = runs["tl105-per-epoch"]
    assert run.fixed["scheduler_steps"] == run.original["scheduler_steps"] == 3
    assert run.fixed["lr_after"] == run.original["lr_after"]
    assert run.original["lrs"] == [0.1 * 0.5 ** (e + 1) for e in range(3) for _ in range(2)]
    assert run.fixed["lrs"] == [0.1 * 0.5**e for e in range(3) for _ in range(2)]


def test_no_tl105_fix_across_a_continue(tmp_path: Path) -> None:
    # Moved after the step, the scheduler would no longer advance on skipped batches.
    assert_no_fix(tmp_path / "train.py", "TL105", TL105_SKIP)


# ---------------------------------------------------------------------------- TL106


def test_tl106_clip_moved_before_the_step_bounds_what_the_step_applies(runs: Runs) -> None:
    run = runs["tl106-after-step"]
    # (a) The first batch's loss and the norm the clip measures on it are the same.
    assert run.fixed["losses"][0] == run.original["losses"][0]
    assert run.fixed["measured"][0] == run.original["measured"][0]
    # (b) The original steps with raw gradients; the fixed one with gradients clipped to 1.
    assert run.original["applied"][0] == pytest.approx(run.original["measured"][0]) and run.original["applied"][0] > 1
    assert all(n <= 1.0 + 1e-4 for n in run.fixed["applied"])
    assert run.fixed["applied"][0] == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize("name", ["tl106-before-backward", "tl106-helper"])
def test_tl106_clip_moved_after_backward_bounds_what_the_step_applies(runs: Runs, name: str) -> None:
    run = runs[name]
    assert run.fixed["first_loss"] == run.original["first_loss"]
    assert len(run.fixed["applied"]) == len(run.original["applied"])
    assert any(n > 1 for n in run.original["applied"])
    assert all(n <= 1.0 + 1e-4 for n in run.fixed["applied"])


# ---------------------------------------------------------------------------- TL107


def test_tl107_unscale_before_clipping_changes_nothing_without_scaling(runs: Runs) -> None:
    run = runs["tl107-unscale"]
    # (a) With the scaler off, `unscale_` does nothing: identical training.
    assert run.fixed["plain"] == run.original["plain"]
    # (b) With it on, the clip bounds the true gradients: the same training as without scaling.
    assert all(n < 1e-3 for n in run.original["amp"]["applied"])
    assert close(run.fixed["amp"], run.fixed["plain"])


def test_no_tl107_unscale_fix_on_every_micro_batch(tmp_path: Path) -> None:
    # `unscale_` before a clip that runs on each micro-batch would run twice before one step.
    assert_no_fix(tmp_path / "train.py", "TL107", TL107_UNSCALE_MICRO_BATCHES)


def test_tl107_update_after_the_last_scaler_step_of_the_iteration(runs: Runs) -> None:
    run = runs["tl107-update"]
    # (a) With the scaler off, `update()` does nothing: identical training.
    assert run.fixed["plain"] == run.original["plain"]
    # (b) Without `update()` the second iteration's `scaler.step()` raises; with one after both
    # steps, the scale grows between iterations and both networks train as without scaling.
    assert "update()" in run.original["amp"]["error"]
    assert run.fixed["amp"]["scale"] == 2.0 ** (16 + 4)
    assert {k: run.fixed["amp"][k] for k in ("encoder", "decoder")} == {
        k: run.fixed["plain"][k] for k in ("encoder", "decoder")
    }


def test_tl107_scaled_backward_trains_as_without_scaling(runs: Runs) -> None:
    run = runs["tl107-scale"]
    # (a) With the scaler off, `scaler.scale(loss)` is the loss itself: identical training.
    assert run.fixed["plain"] == run.original["plain"]
    # (b) With it on, the original's `scaler.step()` finds nothing scaled and raises; the fixed
    # one trains as without scaling (the scale is a power of two: nothing is rounded).
    assert "_scale is None" in run.original["amp"]["error"]
    assert run.fixed["amp"] == run.fixed["plain"]


def test_no_tl107_scale_fix_where_a_plain_step_shares_the_backward(tmp_path: Path) -> None:
    assert_no_fix(tmp_path / "train.py", "TL107", TL107_SCALE_SHARED)
