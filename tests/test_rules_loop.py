"""Behaviour of the optimisation-loop rules TL101-TL108 on the shapes training code takes.

Every bad case checks the code, the reported line and that the message names the fix; every
"must not fire on" case of the catalog is checked in the code shapes where it makes sense.
Lines are located by `#@tag` markers at the end of source lines, so the expected positions
follow the code instead of being counted by hand.
"""

from __future__ import annotations

import textwrap
from string import Template
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import pytest

from trainlint.diagnostics import Diagnostic
from trainlint.testing import lint_files, lint_source

LOOP_CODES = ["TL101", "TL102", "TL103", "TL104", "TL105", "TL106", "TL107", "TL108"]

# Each finding's message must tell the user how to fix it: for every group, at least one of
# its words must appear (case-insensitive).
FIX_WORDS: Dict[str, Tuple[Tuple[str, ...], ...]] = {
    "TL101": (("zero_grad",),),
    "TL102": (("zero_grad",), ("before", "after")),
    "TL103": (("step",),),
    "TL104": (("backward",),),
    "TL105": (("after",),),
    "TL106": (("backward",), ("step",)),
    "TL107": (("scale",),),
    "TL108": (("outside", "out of", "enable", "remove", "move"),),
}


# --------------------------------------------------------------------------- helpers


def _numbered(src: str) -> str:
    return "\n".join(f"{n:3d} | {text}" for n, text in enumerate(src.splitlines(), start=1))


def _describe(diags: Sequence[Diagnostic]) -> str:
    if not diags:
        return "nothing"
    return "; ".join(f"{d.code} at {d.path}:{d.line}:{d.column} ({d.message})" for d in diags)


def tag_line(src: str, tag: str) -> int:
    """The 1-based line that ends with the marker `#@tag`."""
    marker = f"#@{tag}"
    hits = [n for n, text in enumerate(src.splitlines(), start=1) if text.rstrip().endswith(marker)]
    assert len(hits) == 1, f"the test source must mark exactly one line with {marker}"
    return hits[0]


def _check_valid_python(src: str, path: str) -> None:
    # A fixture with a syntax error would only yield TL001 and make a silence check vacuous.
    compile(src, path, "exec")


def _check_finding(
    hits: List[Diagnostic],
    code: str,
    src: str,
    at: Iterable[str],
    words: Optional[Tuple[Tuple[str, ...], ...]],
) -> Diagnostic:
    assert len(hits) == 1, f"expected exactly one {code}, got {_describe(hits)}\n{_numbered(src)}"
    found = hits[0]
    lines = {tag_line(src, tag) for tag in at}
    assert found.line in lines, (
        f"{code} reported on line {found.line}, expected one of {sorted(lines)}\n{_numbered(src)}"
    )
    message = found.message.lower()
    for group in words or FIX_WORDS[code]:
        assert any(w.lower() in message for w in group), (
            f"{code} message should name the fix (one of {group}): {found.message!r}"
        )
    return found


def assert_fires(
    src: str,
    code: str,
    at: Iterable[str],
    words: Optional[Tuple[Tuple[str, ...], ...]] = None,
) -> Diagnostic:
    _check_valid_python(src, "train.py")
    hits = [d for d in lint_source(src, select=[code]) if d.code == code]
    return _check_finding(hits, code, src, at, words)


def assert_silent(src: str, codes: Iterable[str]) -> None:
    _check_valid_python(src, "train.py")
    wanted = list(codes)
    hits = [d for d in lint_source(src, select=wanted) if d.code in wanted]
    assert not hits, f"expected no {', '.join(wanted)}, got {_describe(hits)}\n{_numbered(src)}"


def _source(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def _indented(block: str, indent: str) -> List[str]:
    return [indent + line if line.strip() else "" for line in block.splitlines()]


def _replace_tagged(src: str, tag: str, new_lines: Optional[str], where: str) -> str:
    lines = src.split("\n")
    idx = tag_line(src, tag) - 1
    indent = lines[idx][: len(lines[idx]) - len(lines[idx].lstrip())]
    extra = _indented(_source(new_lines).rstrip("\n"), indent) if new_lines else []
    if where == "drop":
        lines[idx : idx + 1] = []
    elif where == "before":
        lines[idx:idx] = extra
    elif where == "after":
        lines[idx + 1 : idx + 1] = extra
    elif where == "replace":
        lines[idx : idx + 1] = extra
    return "\n".join(lines)


def drop(src: str, tag: str) -> str:
    return _replace_tagged(src, tag, None, "drop")


def insert_before(src: str, tag: str, code: str) -> str:
    return _replace_tagged(src, tag, code, "before")


def insert_after(src: str, tag: str, code: str) -> str:
    return _replace_tagged(src, tag, code, "after")


def replace_line(src: str, tag: str, code: str) -> str:
    return _replace_tagged(src, tag, code, "replace")


def move_after(src: str, tag: str, anchor: str) -> str:
    line = src.split("\n")[tag_line(src, tag) - 1].strip()
    return insert_after(drop(src, tag), anchor, line)


# --------------------------------------------------------------------------- code shapes
#
# A shape is a complete training script with marker lines (@SETUP@, @BODY@, ...) that are
# replaced by the case's code, indented like the marker. Case code names the objects through
# placeholders ($model, $opt, ...) so the same case reads `optimizer` at module level and
# `self.optimizer` inside the Trainer class. `$i` is the iteration counter, only available in
# shapes that have one.

PRELUDE = """\
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
@IMPORTS@

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)
@DEFS@
"""

DEFAULT_OPT = "torch.optim.SGD($model.parameters(), lr=0.05, momentum=0.9)"

BASE_SETUP = """\
$model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
$opt = @OPT@
$crit = nn.CrossEntropyLoss()
$accum = 4
"""

SHAPES: Dict[str, str] = {
    "script": """\
@PRELUDE@
@SETUP@

for epoch in range(3):
    @EPOCH_START@
    for i, (x, y) in enumerate(loader):
        @BODY@
    @EPOCH_END@
""",
    "main": """\
@PRELUDE@


def main():
    @SETUP@
    for epoch in range(3):
        @EPOCH_START@
        for x, y in loader:
            @BODY@
        @EPOCH_END@


if __name__ == "__main__":
    main()
""",
    "helper": """\
@PRELUDE@


def train_one_epoch(model, loader, optimizer, criterion@PARAMS@):
    model.train()
    for i, (x, y) in enumerate(loader):
        @BODY@


def main():
    @SETUP@
    for epoch in range(3):
        @EPOCH_START@
        train_one_epoch(model, loader, optimizer, criterion@PARAMS@)
        @EPOCH_END@


main()
""",
    "trainer": """\
@PRELUDE@


class Trainer:
    def __init__(self, loader):
        self.loader = loader
        self.global_step = 0
        @SETUP@

    def _step(self, batch):
        x, y = batch
        @BODY@

    def fit(self, epochs):
        for epoch in range(epochs):
            @EPOCH_START@
            self.model.train()
            for batch in self.loader:
                self._step(batch)
                self.global_step += 1
            @EPOCH_END@


Trainer(loader).fit(3)
""",
    "while": """\
@PRELUDE@
@SETUP@

step = 0
max_steps = 100
batches = iter(loader)
while step < max_steps:
    try:
        x, y = next(batches)
    except StopIteration:
        batches = iter(loader)
        x, y = next(batches)
    @BODY@
    step += 1
    @EPOCH_END@
""",
    "tqdm": """\
@PRELUDE@
@SETUP@

for epoch in range(3):
    @EPOCH_START@
    for batch in tqdm(loader, desc=f"epoch {epoch}"):
        x, y = batch
        @BODY@
    @EPOCH_END@
""",
}

ALL_SHAPES = list(SHAPES)
# Shapes with an iteration counter ($i), for gradient accumulation.
INDEXED_SHAPES = ["script", "helper", "trainer", "while"]
# Shapes with an epoch loop around the batch loop (@EPOCH_START@).
EPOCH_SHAPES = ["script", "main", "helper", "trainer", "tqdm"]

_PLAIN_NAMES = {
    "model": "model",
    "opt": "optimizer",
    "crit": "criterion",
    "sched": "scheduler",
    "scaler": "scaler",
    "ema": "ema",
    "accum": "accum_steps",
}
_SELF_NAMES = {key: f"self.{name}" for key, name in _PLAIN_NAMES.items()}
_COUNTERS = {"script": "i", "helper": "i", "trainer": "self.global_step", "while": "step"}


def _expand(template: str, blocks: Dict[str, str]) -> str:
    out: List[str] = []
    for line in template.splitlines():
        key = line.strip()
        if key in blocks:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(_indented(blocks[key], indent))
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def build(
    shape: str,
    body: str,
    *,
    setup: str = "",
    epoch_start: str = "",
    epoch_end: str = "",
    imports: str = "",
    defs: str = "",
    opt: str = DEFAULT_OPT,
) -> str:
    """A complete training script of the given shape around the case's code."""
    body, setup = _source(body), _source(setup) if setup else ""
    epoch_start = _source(epoch_start) if epoch_start else ""
    epoch_end = _source(epoch_end) if epoch_end else ""
    if shape == "tqdm":
        imports = "from tqdm import tqdm\n" + imports
    if "$i" in body and shape not in _COUNTERS:
        raise ValueError(f"shape {shape} has no iteration counter")
    if epoch_start and shape not in EPOCH_SHAPES:
        raise ValueError(f"shape {shape} has no epoch loop")
    if shape == "while" and epoch_end:
        # No epoch loop: the per-epoch code runs every len(loader) steps.
        epoch_end = "if step % len(loader) == 0:\n" + "\n".join(_indented(epoch_end, "    "))
    params = ""
    if shape == "helper":
        # The helper receives every object its body uses beyond the four standard arguments.
        params = "".join(f", {_PLAIN_NAMES[k]}" for k in ("sched", "scaler", "ema", "accum") if f"${k}" in body)
    prelude = _expand(
        PRELUDE, {"@IMPORTS@": _source(imports) if imports else "", "@DEFS@": _source(defs) if defs else ""}
    )
    setup_block = BASE_SETUP.replace("@OPT@", opt) + setup
    text = _expand(
        SHAPES[shape],
        {
            "@PRELUDE@": prelude.rstrip("\n"),
            "@SETUP@": setup_block,
            "@BODY@": body,
            "@EPOCH_START@": epoch_start,
            "@EPOCH_END@": epoch_end,
        },
    ).replace("@PARAMS@", params)
    names = dict(_SELF_NAMES if shape == "trainer" else _PLAIN_NAMES)
    names["i"] = _COUNTERS.get(shape, "i")
    return Template(text).substitute(names)


# --------------------------------------------------------------------------- loop bodies

TRAIN_STEP = """
$opt.zero_grad()
out = $model(x)
loss = $crit(out, y)
loss.backward()  #@bwd
$opt.step()  #@step
"""

NO_ZERO_GRAD = """
out = $model(x)
loss = $crit(out, y)
loss.backward()  #@bwd
$opt.step()  #@step
"""

GRAD_ACCUMULATION = """
loss = $crit($model(x), y) / $accum
loss.backward()
if ($i + 1) % $accum == 0:
    $opt.step()
    $opt.zero_grad()
"""

LBFGS = "torch.optim.LBFGS($model.parameters(), lr=0.5, max_iter=5)"

CLOSURE_STEP = """
def closure():
    $opt.zero_grad()
    loss = $crit($model(x), y)
    loss.backward()
    return loss

$opt.step(closure)
"""

AMP_SETUP = '$scaler = torch.amp.GradScaler("cuda")'

AMP_RECIPE = """
$opt.zero_grad()
with torch.autocast(device_type="cuda", dtype=torch.float16):
    out = $model(x)
    loss = $crit(out, y)
$scaler.scale(loss).backward()  #@bwd
$scaler.unscale_($opt)  #@unscale
torch.nn.utils.clip_grad_norm_($model.parameters(), max_norm=1.0)  #@clip
$scaler.step($opt)  #@sstep
$scaler.update()  #@update
"""

EVAL_EPOCH_END = """
$model.eval()
correct = 0
with torch.no_grad():
    for vx, vy in val_loader:
        correct += ($model(vx).argmax(dim=1) == vy).sum().item()
$model.train()
"""


def body_without(body: str, *tags: str) -> str:
    for tag in tags:
        body = drop(body, tag)
    return body


# --------------------------------------------------------------------------- GAN (two optimizers)

GAN = _source(
    """
    import torch
    import torch.nn as nn
    from torch.utils.data import DataLoader, TensorDataset

    latent_dim = 8
    real_points = torch.randn(512, 2) * 0.5 + 1.0
    loader = DataLoader(TensorDataset(real_points), batch_size=64, shuffle=True)

    generator = nn.Sequential(nn.Linear(latent_dim, 32), nn.ReLU(), nn.Linear(32, 2))
    discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()  #@setup_end

    for epoch in range(5):
        for (real,) in loader:
            n = real.size(0)
            fake = generator(torch.randn(n, latent_dim))  #@g_fwd

            opt_d.zero_grad()  #@d_zg
            d_real = bce(discriminator(real), torch.ones(n, 1))
            d_fake = bce(discriminator(fake.detach()), torch.zeros(n, 1))
            d_loss = d_real + d_fake
            d_loss.backward()  #@d_bwd
            opt_d.step()  #@d_step

            opt_g.zero_grad()  #@g_zg
            g_loss = bce(discriminator(fake), torch.ones(n, 1))
            g_loss.backward()  #@g_bwd
            opt_g.step()  #@g_step
    """
)

GAN_AMP = _source(
    """
    import torch
    import torch.nn as nn
    from torch.utils.data import DataLoader, TensorDataset

    latent_dim = 8
    real_points = torch.randn(512, 2) * 0.5 + 1.0
    loader = DataLoader(TensorDataset(real_points), batch_size=64, shuffle=True)

    generator = nn.Sequential(nn.Linear(latent_dim, 32), nn.ReLU(), nn.Linear(32, 2)).cuda()
    discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1)).cuda()
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    scaler = torch.amp.GradScaler("cuda")

    for epoch in range(5):
        for (real,) in loader:
            real = real.cuda()
            n = real.size(0)
            with torch.autocast(device_type="cuda", dtype=torch.float16):
                fake = generator(torch.randn(n, latent_dim, device="cuda"))
                d_loss = bce(discriminator(real), torch.ones(n, 1, device="cuda")) + bce(
                    discriminator(fake.detach()), torch.zeros(n, 1, device="cuda")
                )
            opt_d.zero_grad()
            scaler.scale(d_loss).backward()  #@d_bwd
            scaler.step(opt_d)  #@d_sstep

            with torch.autocast(device_type="cuda", dtype=torch.float16):
                g_loss = bce(discriminator(fake), torch.ones(n, 1, device="cuda"))
            opt_g.zero_grad()
            scaler.scale(g_loss).backward()  #@g_bwd
            scaler.step(opt_g)  #@g_sstep
            scaler.update()  #@update
    """
)


# =========================================================================== TL101


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl101_fires_when_gradients_are_never_cleared(shape: str) -> None:
    assert_fires(build(shape, NO_ZERO_GRAD), "TL101", at=("bwd", "step"))


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl101_fires_when_zero_grad_runs_once_before_the_loop(shape: str) -> None:
    src = build(shape, NO_ZERO_GRAD, setup="$opt.zero_grad()")
    assert_fires(src, "TL101", at=("bwd", "step"))


@pytest.mark.parametrize("shape", EPOCH_SHAPES)
def test_tl101_fires_when_gradients_are_cleared_once_per_epoch_only(shape: str) -> None:
    # Every batch's step then sees the sum of all earlier batches of the epoch.
    src = build(shape, NO_ZERO_GRAD, epoch_start="$opt.zero_grad()")
    assert_fires(src, "TL101", at=("bwd", "step"))


TL101_CLEARING = {
    "zero_grad-first": TRAIN_STEP,
    "zero_grad-after-step": """
        out = $model(x)
        loss = $crit(out, y)
        loss.backward()
        $opt.step()
        $opt.zero_grad()
    """,
    "set_to_none": """
        $opt.zero_grad(set_to_none=True)
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
    """,
    "model.zero_grad": """
        $model.zero_grad()
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
    """,
    "grad-None": """
        for p in $model.parameters():
            p.grad = None
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
    """,
    "grad.zero_": """
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
        for p in $model.parameters():
            if p.grad is not None:
                p.grad.zero_()
    """,
    "helper-clears-params": """
        clear_gradients($model)
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
    """,
    "helper-calls-zero_grad": """
        reset($opt)
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
    """,
}

CLEARING_HELPERS = """
def clear_gradients(module):
    for p in module.parameters():
        p.grad = None


def reset(optimizer):
    optimizer.zero_grad(set_to_none=True)
"""


@pytest.mark.parametrize("shape", ALL_SHAPES)
@pytest.mark.parametrize("case", list(TL101_CLEARING))
def test_tl101_silent_when_gradients_are_cleared(shape: str, case: str) -> None:
    assert_silent(build(shape, TL101_CLEARING[case], defs=CLEARING_HELPERS), ["TL101"])


@pytest.mark.parametrize("shape", INDEXED_SHAPES)
def test_tl101_silent_on_gradient_accumulation(shape: str) -> None:
    assert_silent(build(shape, GRAD_ACCUMULATION), ["TL101"])


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl101_to_tl104_silent_on_lbfgs_closure(shape: str) -> None:
    src = build(shape, CLOSURE_STEP, opt=LBFGS)
    assert_silent(src, ["TL101", "TL102", "TL103", "TL104"])


def test_tl101_to_tl104_silent_on_full_batch_closure_defined_outside_the_loop() -> None:
    src = _source(
        """
        import torch
        import torch.nn as nn

        X = torch.randn(256, 3)
        Y = X @ torch.tensor([[2.0], [-1.0], [0.5]])
        model = nn.Linear(3, 1)
        optimizer = torch.optim.LBFGS(model.parameters(), lr=1.0, history_size=10, max_iter=20)
        criterion = nn.MSELoss()


        def closure():
            optimizer.zero_grad()
            loss = criterion(model(X), Y)
            loss.backward()
            return loss


        for it in range(10):
            loss = optimizer.step(closure)
            print(it, loss.item())
        """
    )
    assert_silent(src, ["TL101", "TL102", "TL103", "TL104"])


MICRO_BATCHES = """
$opt.zero_grad()
for mx, my in zip(x.chunk(4), y.chunk(4)):
    loss = $crit($model(mx), my) / 4
    loss.backward()
$opt.step()
"""


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_loop_rules_silent_on_micro_batches_accumulated_in_an_inner_loop(shape: str) -> None:
    # The inner loop only runs backward(); clearing and stepping belong to the outer one.
    assert_silent(build(shape, MICRO_BATCHES), ["TL101", "TL102", "TL103", "TL104"])


def test_tl101_fires_on_the_discriminator_of_a_gan() -> None:
    # Clearing the generator's optimizer does not clear the discriminator's gradients.
    assert_fires(drop(GAN, "d_zg"), "TL101", at=("d_bwd", "d_step"))


def test_tl101_fires_on_the_generator_of_a_gan() -> None:
    assert_fires(drop(GAN, "g_zg"), "TL101", at=("g_bwd", "g_step"))


def test_tl101_silent_on_a_correct_gan() -> None:
    assert_silent(GAN, ["TL101"])


def test_tl101_silent_on_a_gan_clearing_through_the_models() -> None:
    src = replace_line(GAN, "d_zg", "discriminator.zero_grad()")
    src = replace_line(src, "g_zg", "generator.zero_grad()")
    assert_silent(src, ["TL101"])


ALIAS_CASES = {
    "from torch import optim": ("from torch import optim", "optim.SGD(net.parameters(), lr=0.05)"),
    "import torch.optim as O": ("import torch.optim as O", "O.Adam(net.parameters(), lr=1e-3)"),
    "from torch.optim import AdamW": ("from torch.optim import AdamW", "AdamW(net.parameters(), lr=1e-3)"),
}


def alias_script(import_line: str, ctor: str, body: str) -> str:
    """A loop whose optimizer is named `updater` and built through an import alias."""
    head = _source(
        f"""
        import torch
        import torch.nn as nn
        @ALIAS_IMPORT@
        from torch.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
        net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        updater = {ctor}
        loss_fn = nn.CrossEntropyLoss()

        for epoch in range(3):
            for xb, yb in loader:
        """
    )
    head = head.replace("@ALIAS_IMPORT@", import_line)
    return head + "\n".join(_indented(_source(body), " " * 8)) + "\n"


@pytest.mark.parametrize("alias", list(ALIAS_CASES))
def test_tl101_resolves_optimizer_through_import_aliases(alias: str) -> None:
    import_line, ctor = ALIAS_CASES[alias]
    body = """
        loss = loss_fn(net(xb), yb)
        loss.backward()  #@bwd
        updater.step()  #@step
    """
    assert_fires(alias_script(import_line, ctor, body), "TL101", at=("bwd", "step"))
    fixed = """
        updater.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        updater.step()
    """
    assert_silent(alias_script(import_line, ctor, fixed), ["TL101"])


def test_tl101_reports_inside_the_helper_module_of_a_project() -> None:
    engine = _source(
        """
        def train_one_epoch(model, loader, optimizer, criterion):
            model.train()
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()  #@bwd
                optimizer.step()  #@step
        """
    )
    train = _source(
        """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        from engine import train_one_epoch

        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        criterion = nn.CrossEntropyLoss()

        for epoch in range(3):
            train_one_epoch(model, loader, optimizer, criterion)
        """
    )
    diags = [d for d in lint_files({"engine.py": engine, "train.py": train}, select=["TL101"]) if d.code == "TL101"]
    found = _check_finding(diags, "TL101", engine, at=("bwd", "step"), words=None)
    assert found.path.endswith("engine.py")


def test_tl101_silent_when_a_helper_in_another_module_clears() -> None:
    utils = _source(
        """
        def reset_grads(optimizer):
            optimizer.zero_grad(set_to_none=True)
        """
    )
    train = _source(
        """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        from utils import reset_grads

        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        criterion = nn.CrossEntropyLoss()

        for epoch in range(3):
            for x, y in loader:
                reset_grads(optimizer)
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
        """
    )
    diags = [d for d in lint_files({"utils.py": utils, "train.py": train}, select=["TL101"]) if d.code == "TL101"]
    assert not diags, _describe(diags)


# =========================================================================== TL102


ZERO_GRAD_BETWEEN = """
out = $model(x)
loss = $crit(out, y)
loss.backward()
$opt.zero_grad()  #@zg
$opt.step()
"""


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl102_fires_when_zero_grad_sits_between_backward_and_step(shape: str) -> None:
    assert_fires(build(shape, ZERO_GRAD_BETWEEN), "TL102", at=("zg",))


@pytest.mark.parametrize(
    "call", ["$model.zero_grad()", "$opt.zero_grad(set_to_none=True)", "$opt.zero_grad(set_to_none=False)"]
)
def test_tl102_fires_for_every_way_of_zeroing(call: str) -> None:
    body = f"""
        loss = $crit($model(x), y)
        loss.backward()
        {call}  #@zg
        $opt.step()
    """
    assert_fires(build("script", body), "TL102", at=("zg",))


TL102_GOOD = {
    "zero_grad-first": TRAIN_STEP,
    "zero_grad-after-step": """
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
        $opt.zero_grad()
    """,
}


@pytest.mark.parametrize("shape", ALL_SHAPES)
@pytest.mark.parametrize("case", list(TL102_GOOD))
def test_tl102_silent_when_zero_grad_is_at_the_top_or_after_step(shape: str, case: str) -> None:
    assert_silent(build(shape, TL102_GOOD[case]), ["TL102"])


@pytest.mark.parametrize("shape", INDEXED_SHAPES)
def test_tl102_silent_on_gradient_accumulation(shape: str) -> None:
    assert_silent(build(shape, GRAD_ACCUMULATION), ["TL102"])


@pytest.mark.parametrize("shape", ["script", "main", "helper", "tqdm"])
def test_tl102_silent_when_a_non_finite_batch_is_dropped_before_the_step(shape: str) -> None:
    # The clear runs only on the branch that skips this iteration's step.
    body = """
        $opt.zero_grad()
        loss = $crit($model(x), y)
        loss.backward()
        if not torch.isfinite(loss):
            $opt.zero_grad()
            continue
        $opt.step()
    """
    assert_silent(build(shape, body), ["TL102"])


def test_tl102_fires_on_the_discriminator_of_a_gan() -> None:
    src = move_after(GAN, "d_zg", "d_bwd")
    assert_fires(src, "TL102", at=("d_zg",))


def test_tl102_silent_on_a_gan_where_one_optimizer_clears_after_the_other_backward() -> None:
    # opt_g.zero_grad() runs after d_loss.backward() and before opt_g.step(): a different
    # optimizer's gradients, so nothing the next step needs is lost.
    assert_silent(GAN, ["TL102"])


def test_tl102_silent_on_a_gan_clearing_the_discriminator_at_the_end() -> None:
    src = move_after(GAN, "d_zg", "g_step")
    assert_silent(src, ["TL102"])


# =========================================================================== TL103


NO_STEP = """
$opt.zero_grad()
out = $model(x)
loss = $crit(out, y)
loss.backward()  #@bwd
"""


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl103_fires_when_the_loop_never_steps(shape: str) -> None:
    assert_fires(build(shape, NO_STEP), "TL103", at=("bwd",))


@pytest.mark.parametrize("alias", list(ALIAS_CASES))
def test_tl103_resolves_optimizer_through_import_aliases(alias: str) -> None:
    import_line, ctor = ALIAS_CASES[alias]
    body = """
        updater.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()  #@bwd
    """
    assert_fires(alias_script(import_line, ctor, body), "TL103", at=("bwd",))


UPDATE_HELPERS = """
def apply_update(optimizer):
    optimizer.step()
    optimizer.zero_grad()
"""

TL103_GOOD = {
    "step": TRAIN_STEP,
    "step-in-helper": """
        loss = $crit($model(x), y)
        loss.backward()
        apply_update($opt)
    """,
    "manual-update": """
        loss = $crit($model(x), y)
        loss.backward()
        with torch.no_grad():
            for p in $model.parameters():
                p -= 0.05 * p.grad
                p.grad = None
    """,
}


@pytest.mark.parametrize("shape", ALL_SHAPES)
@pytest.mark.parametrize("case", list(TL103_GOOD))
def test_tl103_silent_when_parameters_are_updated(shape: str, case: str) -> None:
    assert_silent(build(shape, TL103_GOOD[case], defs=UPDATE_HELPERS), ["TL103"])


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl103_and_tl104_silent_on_scaler_step(shape: str) -> None:
    assert_silent(build(shape, AMP_RECIPE, setup=AMP_SETUP), ["TL103", "TL104"])


@pytest.mark.parametrize("shape", INDEXED_SHAPES)
def test_tl103_silent_on_gradient_accumulation(shape: str) -> None:
    assert_silent(build(shape, GRAD_ACCUMULATION), ["TL103"])


def test_tl103_fires_on_the_generator_of_a_gan() -> None:
    assert_fires(drop(GAN, "g_step"), "TL103", at=("g_bwd",))


def test_tl103_silent_on_a_correct_gan() -> None:
    assert_silent(GAN, ["TL103"])


def test_tl103_silent_when_the_step_is_in_another_module() -> None:
    engine = _source(
        """
        import torch


        def update(optimizer, model, max_norm=1.0):
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            optimizer.zero_grad()
        """
    )
    train = _source(
        """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        from engine import update

        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        criterion = nn.CrossEntropyLoss()

        for epoch in range(3):
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
                update(optimizer, model)
        """
    )
    diags = [d for d in lint_files({"engine.py": engine, "train.py": train}, select=["TL103"]) if d.code == "TL103"]
    assert not diags, _describe(diags)


def test_tl103_silent_on_backward_used_for_input_saliency() -> None:
    # backward() here computes input gradients for a saliency map; no optimizer exists, so
    # this is not a training loop.
    src = _source(
        """
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        model.load_state_dict(torch.load("classifier.pt"))
        model.eval()
        images = torch.randn(16, 20)
        saliency = []
        for image in images:
            image = image.unsqueeze(0).requires_grad_(True)
            score = model(image).max()
            score.backward()
            saliency.append(image.grad.abs().squeeze(0))
        """
    )
    assert_silent(src, ["TL103"])


# =========================================================================== TL104


NO_BACKWARD = """
$opt.zero_grad()
out = $model(x)
loss = $crit(out, y)
$opt.step()  #@step
"""


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl104_fires_when_nothing_computes_gradients(shape: str) -> None:
    assert_fires(build(shape, NO_BACKWARD), "TL104", at=("step",))


@pytest.mark.parametrize("alias", list(ALIAS_CASES))
def test_tl104_resolves_optimizer_through_import_aliases(alias: str) -> None:
    import_line, ctor = ALIAS_CASES[alias]
    body = """
        updater.zero_grad()
        loss = loss_fn(net(xb), yb)
        updater.step()  #@step
    """
    assert_fires(alias_script(import_line, ctor, body), "TL104", at=("step",))


BACKWARD_HELPERS = """
def forward_backward(model, criterion, x, y):
    loss = criterion(model(x), y)
    loss.backward()
    return loss.item()
"""

TL104_GOOD = {
    "backward": TRAIN_STEP,
    "scaled-backward": AMP_RECIPE,
    "autograd.grad": """
        $opt.zero_grad()
        loss = $crit($model(x), y)
        params = [p for p in $model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params)
        for p, g in zip(params, grads):
            p.grad = g
        $opt.step()
    """,
    "backward-in-helper": """
        $opt.zero_grad()
        loss_value = forward_backward($model, $crit, x, y)
        $opt.step()
    """,
}


@pytest.mark.parametrize("shape", ALL_SHAPES)
@pytest.mark.parametrize("case", list(TL104_GOOD))
def test_tl104_silent_when_gradients_are_computed(shape: str, case: str) -> None:
    setup = AMP_SETUP if "$scaler" in TL104_GOOD[case] else ""
    src = build(shape, TL104_GOOD[case], setup=setup, defs=BACKWARD_HELPERS)
    assert_silent(src, ["TL104"])


def test_tl104_fires_on_the_discriminator_of_a_gan() -> None:
    # The generator's backward later in the iteration does not feed this step.
    assert_fires(drop(GAN, "d_bwd"), "TL104", at=("d_step",))


def test_tl104_silent_on_a_correct_gan() -> None:
    assert_silent(GAN, ["TL104"])


def test_tl104_silent_on_environment_step_in_a_rollout_loop() -> None:
    # env.step() is not an optimizer step; the update loop below has its backward.
    src = _source(
        """
        import gymnasium as gym
        import torch
        import torch.nn as nn

        env = gym.make("CartPole-v1")
        policy = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 2))
        optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)

        for episode in range(100):
            obs, _ = env.reset()
            log_probs, rewards = [], []
            done = False
            while not done:
                logits = policy(torch.as_tensor(obs, dtype=torch.float32))
                dist = torch.distributions.Categorical(logits=logits)
                action = dist.sample()
                obs, reward, terminated, truncated, _ = env.step(action.item())
                log_probs.append(dist.log_prob(action))
                rewards.append(reward)
                done = terminated or truncated
            returns = torch.tensor([sum(rewards[t:]) for t in range(len(rewards))])
            returns = (returns - returns.mean()) / (returns.std() + 1e-8)
            loss = -(torch.stack(log_probs) * returns).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        """
    )
    assert_silent(src, ["TL101", "TL102", "TL103", "TL104", "TL105"])


# =========================================================================== TL105

PER_BATCH_SCHED = "$sched = torch.optim.lr_scheduler.OneCycleLR($opt, max_lr=0.1, total_steps=300)"
PER_EPOCH_SCHED = "$sched = torch.optim.lr_scheduler.StepLR($opt, step_size=10, gamma=0.5)"

SCHED_BEFORE = """
$opt.zero_grad()
loss = $crit($model(x), y)
loss.backward()
$sched.step()  #@sched
$opt.step()  #@step
"""

SCHED_AFTER = """
$opt.zero_grad()
loss = $crit($model(x), y)
loss.backward()
$opt.step()
$sched.step()
"""


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl105_fires_when_the_scheduler_steps_before_the_optimizer(shape: str) -> None:
    assert_fires(build(shape, SCHED_BEFORE, setup=PER_BATCH_SCHED), "TL105", at=("sched",))


@pytest.mark.parametrize("shape", EPOCH_SHAPES)
def test_tl105_fires_on_a_per_epoch_scheduler_stepped_before_the_epoch_trains(shape: str) -> None:
    # The pre-1.1.0 habit: the first epoch already runs at the second value of the schedule.
    src = build(shape, TRAIN_STEP, setup=PER_EPOCH_SCHED, epoch_start="$sched.step()  #@sched")
    assert_fires(src, "TL105", at=("sched",))


def test_tl105_points_at_the_optimizer_step() -> None:
    src = build("script", SCHED_BEFORE, setup=PER_BATCH_SCHED)
    found = assert_fires(src, "TL105", at=("sched",))
    assert tag_line(src, "step") in {r.line for r in found.related}, found.related


LR_SCHED_ALIASES = {
    "from-import": (
        "from torch.optim.lr_scheduler import CosineAnnealingLR",
        "CosineAnnealingLR(updater, T_max=100)",
    ),
    "module-alias": (
        "import torch.optim.lr_scheduler as lrs",
        "lrs.LambdaLR(updater, lambda s: min(1.0, (s + 1) / 50))",
    ),
}


@pytest.mark.parametrize("alias", list(LR_SCHED_ALIASES))
def test_tl105_resolves_schedulers_through_import_aliases(alias: str) -> None:
    import_line, ctor = LR_SCHED_ALIASES[alias]
    src = alias_script(
        f"{import_line}\nfrom torch.optim import SGD",
        "SGD(net.parameters(), lr=0.1)",
        """
        updater.zero_grad()
        loss_fn(net(xb), yb).backward()
        warm.step()  #@sched
        updater.step()
        """,
    )
    src = src.replace("loss_fn = nn.CrossEntropyLoss()", f"loss_fn = nn.CrossEntropyLoss()\nwarm = {ctor}")
    assert_fires(src, "TL105", at=("sched",))


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl105_silent_when_the_scheduler_steps_after_the_optimizer(shape: str) -> None:
    assert_silent(build(shape, SCHED_AFTER, setup=PER_BATCH_SCHED), ["TL105"])


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl105_silent_on_a_per_epoch_scheduler_after_the_inner_loop(shape: str) -> None:
    src = build(shape, TRAIN_STEP, setup=PER_EPOCH_SCHED, epoch_end="$sched.step()")
    assert_silent(src, ["TL105"])


PLATEAU_SETUP = '$sched = torch.optim.lr_scheduler.ReduceLROnPlateau($opt, mode="min", patience=2)'

PLATEAU_EPOCH_END = """
$model.eval()
val_loss = 0.0
with torch.no_grad():
    for vx, vy in val_loader:
        val_loss += $crit($model(vx), vy).item()
$model.train()
$sched.step(val_loss / len(val_loader))
"""


@pytest.mark.parametrize("shape", EPOCH_SHAPES)
def test_tl105_silent_on_reduce_lr_on_plateau_stepped_on_validation_loss(shape: str) -> None:
    src = build(shape, TRAIN_STEP, setup=PLATEAU_SETUP, epoch_end=PLATEAU_EPOCH_END)
    assert_silent(src, ["TL105"])


@pytest.mark.parametrize("shape", INDEXED_SHAPES)
def test_tl105_silent_on_scheduler_after_an_accumulated_step(shape: str) -> None:
    body = """
        loss = $crit($model(x), y) / $accum
        loss.backward()
        if ($i + 1) % $accum == 0:
            $opt.step()
            $sched.step()
            $opt.zero_grad()
    """
    assert_silent(build(shape, body, setup=PER_BATCH_SCHED), ["TL105"])


GAN_SCHEDULERS = """
sched_d = torch.optim.lr_scheduler.ExponentialLR(opt_d, gamma=0.999)
sched_g = torch.optim.lr_scheduler.ExponentialLR(opt_g, gamma=0.999)
"""


def test_tl105_fires_on_a_gan_scheduler_stepped_before_its_optimizer() -> None:
    src = insert_after(GAN, "setup_end", GAN_SCHEDULERS)
    src = insert_before(src, "d_step", "sched_d.step()  #@sched")
    src = insert_after(src, "g_step", "sched_g.step()")
    assert_fires(src, "TL105", at=("sched",))


def test_tl105_silent_on_a_gan_with_each_scheduler_after_its_optimizer() -> None:
    # sched_d.step() comes before opt_g.step(), but opt_g is not the optimizer it schedules.
    src = insert_after(GAN, "setup_end", GAN_SCHEDULERS)
    src = insert_after(src, "d_step", "sched_d.step()")
    src = insert_after(src, "g_step", "sched_g.step()")
    assert_silent(src, ["TL105"])


# =========================================================================== TL106

CLIP_BETWEEN = """
$opt.zero_grad()
loss = $crit($model(x), y)
loss.backward()
torch.nn.utils.clip_grad_norm_($model.parameters(), max_norm=1.0)  #@clip
$opt.step()
"""

CLIP_BEFORE_BACKWARD = """
$opt.zero_grad()
loss = $crit($model(x), y)
torch.nn.utils.clip_grad_norm_($model.parameters(), max_norm=1.0)  #@clip
loss.backward()
$opt.step()
"""

CLIP_AFTER_STEP = """
$opt.zero_grad()
loss = $crit($model(x), y)
loss.backward()
$opt.step()
torch.nn.utils.clip_grad_norm_($model.parameters(), max_norm=1.0)  #@clip
"""


@pytest.mark.parametrize("shape", ALL_SHAPES)
@pytest.mark.parametrize("case", ["before-backward", "after-step"])
def test_tl106_fires_on_clipping_outside_backward_and_step(shape: str, case: str) -> None:
    body = CLIP_BEFORE_BACKWARD if case == "before-backward" else CLIP_AFTER_STEP
    assert_fires(build(shape, body), "TL106", at=("clip",))


CLIP_SPELLINGS = {
    "nn.utils.clip_grad_value_": ("", "nn.utils.clip_grad_value_($model.parameters(), clip_value=0.5)"),
    "from torch.nn.utils import clip_grad_norm_": (
        "from torch.nn.utils import clip_grad_norm_",
        "clip_grad_norm_($model.parameters(), 1.0)",
    ),
    "import torch.nn.utils as U": ("import torch.nn.utils as U", "U.clip_grad_value_($model.parameters(), 0.5)"),
}


@pytest.mark.parametrize("spelling", list(CLIP_SPELLINGS))
def test_tl106_recognises_every_spelling_of_clipping(spelling: str) -> None:
    imports, call = CLIP_SPELLINGS[spelling]
    after_step = f"""
        $opt.zero_grad()
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
        {call}  #@clip
    """
    assert_fires(build("script", after_step, imports=imports), "TL106", at=("clip",))
    between = f"""
        $opt.zero_grad()
        loss = $crit($model(x), y)
        loss.backward()
        {call}
        $opt.step()
    """
    assert_silent(build("script", between, imports=imports), ["TL106"])


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl106_silent_when_clipping_between_backward_and_step(shape: str) -> None:
    assert_silent(build(shape, CLIP_BETWEEN), ["TL106"])


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl106_silent_on_the_amp_recipe(shape: str) -> None:
    assert_silent(build(shape, AMP_RECIPE, setup=AMP_SETUP), ["TL106"])


@pytest.mark.parametrize("shape", INDEXED_SHAPES)
def test_tl106_silent_when_clipping_the_accumulated_gradients(shape: str) -> None:
    body = """
        loss = $crit($model(x), y) / $accum
        loss.backward()
        if ($i + 1) % $accum == 0:
            torch.nn.utils.clip_grad_norm_($model.parameters(), 1.0)
            $opt.step()
            $opt.zero_grad()
    """
    assert_silent(build(shape, body), ["TL106"])


@pytest.mark.parametrize("shape", ["script", "trainer"])
def test_tl106_silent_on_an_infinite_max_norm_used_to_measure_the_gradient(shape: str) -> None:
    # With max_norm=inf nothing is clipped; the call only returns the norm for logging.
    body = """
        $opt.zero_grad()
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
        grad_norm = torch.nn.utils.clip_grad_norm_($model.parameters(), max_norm=float("inf"))
        print(f"loss {loss.item():.4f} grad norm {grad_norm.item():.4f}")
    """
    assert_silent(build(shape, body), ["TL106"])


def test_tl106_fires_on_a_gan_clipping_before_the_discriminator_backward() -> None:
    src = insert_before(GAN, "d_bwd", "torch.nn.utils.clip_grad_norm_(discriminator.parameters(), 1.0)  #@clip")
    assert_fires(src, "TL106", at=("clip",))


def test_tl106_silent_on_a_gan_clipping_each_model_between_its_backward_and_step() -> None:
    src = insert_after(GAN, "d_bwd", "torch.nn.utils.clip_grad_norm_(discriminator.parameters(), 1.0)")
    src = insert_after(src, "g_bwd", "torch.nn.utils.clip_grad_norm_(generator.parameters(), 1.0)")
    assert_silent(src, ["TL106"])


# =========================================================================== TL107


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl107_fires_on_clipping_scaled_gradients(shape: str) -> None:
    src = build(shape, body_without(AMP_RECIPE, "unscale"), setup=AMP_SETUP)
    assert_fires(src, "TL107", at=("clip",), words=(("unscale_",),))


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl107_fires_on_scaler_step_without_update(shape: str) -> None:
    src = build(shape, body_without(AMP_RECIPE, "unscale", "clip", "update"), setup=AMP_SETUP)
    assert_fires(src, "TL107", at=("sstep",), words=(("update",),))


@pytest.mark.parametrize("shape", ["script", "main", "trainer"])
def test_tl107_fires_when_the_scale_is_updated_only_once_per_epoch(shape: str) -> None:
    # The second scaler.step() of the epoch raises: step() called again before update().
    src = build(
        shape,
        body_without(AMP_RECIPE, "unscale", "clip", "update"),
        setup=AMP_SETUP,
        epoch_end="$scaler.update()",
    )
    assert_fires(src, "TL107", at=("sstep",), words=(("update",),))


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl107_fires_on_an_unscaled_backward_with_scaler_step(shape: str) -> None:
    body = replace_line(body_without(AMP_RECIPE, "unscale", "clip"), "bwd", "loss.backward()  #@bwd")
    src = build(shape, body, setup=AMP_SETUP)
    assert_fires(src, "TL107", at=("bwd",), words=(("scale(",),))


TL107_GOOD = {
    "recipe-with-clipping": AMP_RECIPE,
    "recipe-without-clipping": body_without(AMP_RECIPE, "unscale", "clip"),
}


@pytest.mark.parametrize("shape", ALL_SHAPES)
@pytest.mark.parametrize("case", list(TL107_GOOD))
def test_tl107_silent_on_the_amp_recipe(shape: str, case: str) -> None:
    assert_silent(build(shape, TL107_GOOD[case], setup=AMP_SETUP), ["TL107"])


@pytest.mark.parametrize("shape", INDEXED_SHAPES)
def test_tl107_silent_on_the_amp_recipe_with_gradient_accumulation(shape: str) -> None:
    body = """
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            loss = $crit($model(x), y) / $accum
        $scaler.scale(loss).backward()
        if ($i + 1) % $accum == 0:
            $scaler.unscale_($opt)
            torch.nn.utils.clip_grad_norm_($model.parameters(), 1.0)
            $scaler.step($opt)
            $scaler.update()
            $opt.zero_grad(set_to_none=True)
    """
    assert_silent(build(shape, body, setup=AMP_SETUP), ["TL107"])


def test_tl107_recognises_the_legacy_cuda_amp_scaler() -> None:
    imports = "from torch.cuda.amp import GradScaler, autocast"
    body = """
        $opt.zero_grad()
        with autocast():
            loss = $crit($model(x), y)
        $scaler.scale(loss).backward()
        nn.utils.clip_grad_norm_($model.parameters(), 1.0)  #@clip
        $scaler.step($opt)
        $scaler.update()
    """
    src = build("script", body, setup="$scaler = GradScaler()", imports=imports)
    assert_fires(src, "TL107", at=("clip",), words=(("unscale_",),))


def test_tl107_silent_without_a_grad_scaler() -> None:
    # Clipping with no unscale_ is only wrong when the gradients are scaled.
    assert_silent(build("script", CLIP_BETWEEN), ["TL107"])


def test_tl107_silent_on_one_scaler_shared_by_two_optimizers() -> None:
    assert_silent(GAN_AMP, ["TL107"])


def test_tl107_fires_on_an_unscaled_generator_backward() -> None:
    src = replace_line(GAN_AMP, "g_bwd", "g_loss.backward()  #@g_bwd")
    assert_fires(src, "TL107", at=("g_bwd",), words=(("scale(",),))


# =========================================================================== TL108

NO_GRAD_FORWARD = """
$opt.zero_grad()
with torch.no_grad():
    out = $model(x)  #@fwd
loss = $crit(out, y)
loss.backward()  #@bwd
$opt.step()
"""


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_tl108_fires_on_a_training_forward_under_no_grad(shape: str) -> None:
    assert_fires(build(shape, NO_GRAD_FORWARD), "TL108", at=("fwd", "bwd"))


@pytest.mark.parametrize("context", ["torch.no_grad()", "torch.inference_mode()", "torch.set_grad_enabled(False)"])
@pytest.mark.parametrize("shape", ["script", "main", "trainer"])
def test_tl108_fires_on_backward_inside_a_grad_disabled_block(shape: str, context: str) -> None:
    body = f"""
        $opt.zero_grad()
        with {context}:
            out = $model(x)  #@fwd
            loss = $crit(out, y)
            loss.backward()  #@bwd
        $opt.step()
    """
    assert_fires(build(shape, body), "TL108", at=("fwd", "bwd"))


@pytest.mark.parametrize("decorator", ["@torch.no_grad()", "@torch.inference_mode()"])
def test_tl108_fires_on_a_decorated_training_helper(decorator: str) -> None:
    src = build("helper", TRAIN_STEP.replace("out = $model(x)", "out = $model(x)  #@fwd"))
    src = src.replace("def train_one_epoch", f"{decorator}\ndef train_one_epoch")
    assert_fires(src, "TL108", at=("fwd", "bwd"))


def test_tl108_fires_on_a_decorated_trainer_step() -> None:
    src = build("trainer", TRAIN_STEP.replace("out = $model(x)", "out = $model(x)  #@fwd"))
    src = src.replace("    def _step", "    @torch.no_grad()\n    def _step")
    assert_fires(src, "TL108", at=("fwd", "bwd"))


def test_tl108_fires_when_an_optimised_backbone_runs_under_no_grad() -> None:
    src = _source(
        """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
        backbone = nn.Sequential(nn.Linear(20, 64), nn.ReLU())
        head = nn.Linear(64, 3)
        optimizer = torch.optim.SGD(list(backbone.parameters()) + list(head.parameters()), lr=0.05)
        criterion = nn.CrossEntropyLoss()

        for epoch in range(3):
            for x, y in loader:
                optimizer.zero_grad()
                with torch.no_grad():
                    feats = backbone(x)  #@fwd
                loss = criterion(head(feats), y)
                loss.backward()  #@bwd
                optimizer.step()
        """
    )
    assert_fires(src, "TL108", at=("fwd", "bwd"))


def test_tl108_fires_on_a_gan_whose_generator_output_is_made_under_no_grad() -> None:
    # The generator's loss flows through `fake`, which carries no graph back to the generator.
    src = replace_line(
        GAN,
        "g_fwd",
        """
        with torch.no_grad():
            fake = generator(torch.randn(n, latent_dim))  #@g_fwd
        """,
    )
    assert_fires(src, "TL108", at=("g_fwd", "g_bwd"))


def test_tl108_silent_on_a_gan_regenerating_with_grad_for_the_generator_step() -> None:
    src = replace_line(
        GAN,
        "g_fwd",
        """
        with torch.no_grad():
            fake = generator(torch.randn(n, latent_dim))
        """,
    )
    src = insert_after(src, "g_zg", "fake = generator(torch.randn(n, latent_dim))")
    assert_silent(src, ["TL108"])


EVAL_HELPERS = """
@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct = sum((model(x).argmax(dim=1) == y).sum().item() for x, y in loader)
    model.train()
    return correct


@torch.inference_mode()
def predict(model, x):
    return model(x).softmax(dim=1)
"""

TL108_GOOD_EPOCH_END = {
    "no_grad-eval-loop": EVAL_EPOCH_END,
    "decorated-eval-helper": "accuracy = evaluate($model, val_loader)",
    "inference-helper": "probs = predict($model, torch.randn(8, 20))",
    "inference_mode-block": """
        $model.eval()
        with torch.inference_mode():
            probs = [$model(vx).softmax(dim=1) for vx, _ in val_loader]
        $model.train()
    """,
}


@pytest.mark.parametrize("shape", ALL_SHAPES)
@pytest.mark.parametrize("case", list(TL108_GOOD_EPOCH_END))
def test_tl108_silent_on_evaluation(shape: str, case: str) -> None:
    src = build(shape, TRAIN_STEP, epoch_end=TL108_GOOD_EPOCH_END[case], defs=EVAL_HELPERS)
    assert_silent(src, ["TL108"])


TL108_GOOD_BODIES = {
    "metrics-under-no_grad": """
        $opt.zero_grad()
        out = $model(x)
        loss = $crit(out, y)
        loss.backward()
        $opt.step()
        with torch.no_grad():
            accuracy = (out.argmax(dim=1) == y).float().mean()
    """,
    "ema-update": """
        $opt.zero_grad()
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
        with torch.no_grad():
            for ema_p, p in zip($ema.parameters(), $model.parameters()):
                ema_p.mul_(0.999).add_(p, alpha=0.001)
    """,
    "input-normalisation": """
        with torch.no_grad():
            x = (x - x.mean(dim=0)) / (x.std(dim=0) + 1e-6)
        $opt.zero_grad()
        loss = $crit($model(x), y)
        loss.backward()
        $opt.step()
    """,
    "manual-update": """
        loss = $crit($model(x), y)
        loss.backward()
        with torch.no_grad():
            for p in $model.parameters():
                p -= 0.05 * p.grad
                p.grad = None
    """,
}


@pytest.mark.parametrize("shape", ALL_SHAPES)
@pytest.mark.parametrize("case", list(TL108_GOOD_BODIES))
def test_tl108_silent_on_no_grad_work_beside_the_training_forward(shape: str, case: str) -> None:
    src = build(shape, TL108_GOOD_BODIES[case], setup="$ema = copy.deepcopy($model)", imports="import copy")
    assert_silent(src, ["TL108"])


def test_tl108_silent_on_a_frozen_teacher_under_no_grad() -> None:
    src = _source(
        """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
        teacher = nn.Sequential(nn.Linear(20, 128), nn.ReLU(), nn.Linear(128, 3)).eval()
        student = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))
        optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)

        for epoch in range(3):
            for x, y in loader:
                with torch.no_grad():
                    soft = F.softmax(teacher(x) / 2.0, dim=1)
                logits = student(x)
                loss = F.cross_entropy(logits, y) + F.kl_div(
                    F.log_softmax(logits / 2.0, dim=1), soft, reduction="batchmean"
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """
    )
    assert_silent(src, ["TL108"])


def test_tl108_silent_on_a_frozen_backbone_left_out_of_the_optimizer() -> None:
    src = _source(
        """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
        backbone = nn.Sequential(nn.Linear(20, 64), nn.ReLU())
        backbone.requires_grad_(False)
        probe = nn.Linear(64, 3)
        optimizer = torch.optim.SGD(probe.parameters(), lr=0.1)
        criterion = nn.CrossEntropyLoss()

        for epoch in range(3):
            for x, y in loader:
                with torch.no_grad():
                    feats = backbone(x)
                loss = criterion(probe(feats), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        """
    )
    assert_silent(src, ["TL108"])


def test_tl108_silent_on_a_dqn_target_network() -> None:
    src = _source(
        """
        import copy

        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        policy_net = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2))
        target_net = copy.deepcopy(policy_net)
        optimizer = torch.optim.AdamW(policy_net.parameters(), lr=1e-4, amsgrad=True)
        gamma = 0.99

        for step in range(1000):
            states = torch.randn(32, 4)
            actions = torch.randint(0, 2, (32, 1))
            rewards = torch.randn(32)
            next_states = torch.randn(32, 4)
            q = policy_net(states).gather(1, actions).squeeze(1)
            with torch.no_grad():
                target = rewards + gamma * target_net(next_states).max(dim=1).values
            loss = F.smooth_l1_loss(q, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                target_net.load_state_dict(policy_net.state_dict())
        """
    )
    assert_silent(src, ["TL108"])


def test_tl108_silent_when_enable_grad_reopens_grad_inside_no_grad() -> None:
    # Test-time adaptation: evaluation runs under no_grad, the adaptation step re-enables it.
    src = _source(
        """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        test_loader = DataLoader(TensorDataset(torch.randn(128, 20), torch.randint(0, 3, (128,))), batch_size=32)
        model = nn.Sequential(nn.Linear(20, 64), nn.LayerNorm(64), nn.ReLU(), nn.Linear(64, 3))
        norm_params = [p for m in model.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()]
        optimizer = torch.optim.SGD(norm_params, lr=1e-3)


        @torch.no_grad()
        def adapt_and_predict(x):
            with torch.enable_grad():
                probs = model(x).softmax(dim=1)
                entropy = -(probs * probs.clamp_min(1e-8).log()).sum(dim=1).mean()
                optimizer.zero_grad()
                entropy.backward()
                optimizer.step()
            return model(x).argmax(dim=1)


        correct = 0
        for x, y in test_loader:
            correct += (adapt_and_predict(x) == y).sum().item()
        print(correct / 128)
        """
    )
    assert_silent(src, ["TL108"])


def test_tl108_silent_on_set_grad_enabled_by_phase() -> None:
    # One loop for both phases, as in the PyTorch transfer-learning tutorial.
    src = _source(
        """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        loaders = {
            "train": DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32, shuffle=True),
            "val": DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64),
        }
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        criterion = nn.CrossEntropyLoss()

        for epoch in range(3):
            for phase in ["train", "val"]:
                model.train() if phase == "train" else model.eval()
                for inputs, labels in loaders[phase]:
                    optimizer.zero_grad()
                    with torch.set_grad_enabled(phase == "train"):
                        outputs = model(inputs)
                        loss = criterion(outputs, labels)
                        if phase == "train":
                            loss.backward()
                            optimizer.step()
        """
    )
    assert_silent(src, LOOP_CODES)


# =========================================================================== frameworks and whole scripts


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_a_complete_correct_training_script_is_silent(shape: str) -> None:
    body = """
        $opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            out = $model(x)
            loss = $crit(out, y)
        $scaler.scale(loss).backward()
        $scaler.unscale_($opt)
        torch.nn.utils.clip_grad_norm_($model.parameters(), max_norm=1.0)
        $scaler.step($opt)
        $scaler.update()
        $sched.step()
    """
    src = build(shape, body, setup=AMP_SETUP + "\n" + PER_BATCH_SCHED, epoch_end=EVAL_EPOCH_END)
    assert_silent(src, LOOP_CODES)


def test_evaluation_only_script_is_silent() -> None:
    src = _source(
        """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset

        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        model.load_state_dict(torch.load("model.pt"))
        model.eval()
        criterion = nn.CrossEntropyLoss()
        test_loader = DataLoader(TensorDataset(torch.randn(128, 20), torch.randint(0, 3, (128,))), batch_size=64)

        total, correct, loss_sum = 0, 0, 0.0
        with torch.no_grad():
            for x, y in test_loader:
                out = model(x)
                loss_sum += criterion(out, y).item()
                correct += (out.argmax(dim=1) == y).sum().item()
                total += y.numel()
        print(loss_sum / len(test_loader), correct / total)
        """
    )
    assert_silent(src, LOOP_CODES)


def test_accelerate_accumulate_loop_is_silent() -> None:
    src = _source(
        """
        import torch
        import torch.nn as nn
        from accelerate import Accelerator
        from torch.utils.data import DataLoader, TensorDataset

        accelerator = Accelerator(gradient_accumulation_steps=4, mixed_precision="fp16")
        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=16, shuffle=True)
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=50)
        criterion = nn.CrossEntropyLoss()
        model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)

        for epoch in range(3):
            model.train()
            for x, y in loader:
                with accelerator.accumulate(model):
                    loss = criterion(model(x), y)
                    accelerator.backward(loss)
                    if accelerator.sync_gradients:
                        accelerator.clip_grad_norm_(model.parameters(), 1.0)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad()
        """
    )
    assert_silent(src, LOOP_CODES)


def test_accelerate_backward_counts_as_backward() -> None:
    src = _source(
        """
        import torch
        import torch.nn as nn
        from accelerate import Accelerator
        from torch.utils.data import DataLoader, TensorDataset


        def main():
            accelerator = Accelerator()
            loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
            model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
            for epoch in range(3):
                for x, y in loader:
                    optimizer.zero_grad()
                    loss = nn.functional.cross_entropy(model(x), y)
                    accelerator.backward(loss)
                    optimizer.step()


        if __name__ == "__main__":
            main()
        """
    )
    assert_silent(src, LOOP_CODES)


def test_lightning_training_step_is_silent() -> None:
    src = _source(
        """
        import lightning as L
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.utils.data import DataLoader, TensorDataset


        class LitClassifier(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))

            def training_step(self, batch, batch_idx):
                x, y = batch
                loss = F.cross_entropy(self.net(x), y)
                self.log("train_loss", loss)
                return loss

            def validation_step(self, batch, batch_idx):
                x, y = batch
                self.log("val_loss", F.cross_entropy(self.net(x), y))

            def configure_optimizers(self):
                optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
                scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
                return [optimizer], [scheduler]


        loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32, shuffle=True)
        trainer = L.Trainer(max_epochs=3, gradient_clip_val=1.0, precision="16-mixed")
        trainer.fit(LitClassifier(), loader)
        """
    )
    assert_silent(src, LOOP_CODES)


def test_lightning_manual_optimization_is_silent() -> None:
    src = _source(
        """
        import pytorch_lightning as pl
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class LitGAN(pl.LightningModule):
            def __init__(self, latent_dim=8):
                super().__init__()
                self.automatic_optimization = False
                self.latent_dim = latent_dim
                self.generator = nn.Sequential(nn.Linear(latent_dim, 32), nn.ReLU(), nn.Linear(32, 2))
                self.discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

            def training_step(self, batch, batch_idx):
                (real,) = batch
                opt_g, opt_d = self.optimizers()
                n = real.size(0)
                fake = self.generator(torch.randn(n, self.latent_dim, device=self.device))

                opt_d.zero_grad()
                d_loss = F.binary_cross_entropy_with_logits(
                    self.discriminator(real), torch.ones(n, 1, device=self.device)
                ) + F.binary_cross_entropy_with_logits(
                    self.discriminator(fake.detach()), torch.zeros(n, 1, device=self.device)
                )
                self.manual_backward(d_loss)
                opt_d.step()

                opt_g.zero_grad()
                g_loss = F.binary_cross_entropy_with_logits(
                    self.discriminator(fake), torch.ones(n, 1, device=self.device)
                )
                self.manual_backward(g_loss)
                opt_g.step()

            def configure_optimizers(self):
                return (
                    torch.optim.Adam(self.generator.parameters(), lr=2e-4),
                    torch.optim.Adam(self.discriminator.parameters(), lr=2e-4),
                )
        """
    )
    assert_silent(src, LOOP_CODES)


def test_hugging_face_trainer_is_silent() -> None:
    src = _source(
        """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from transformers import Trainer, TrainingArguments


        class TinyClassifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))

            def forward(self, features, labels=None):
                logits = self.net(features)
                loss = F.cross_entropy(logits, labels) if labels is not None else None
                return {"loss": loss, "logits": logits}


        class WeightedTrainer(Trainer):
            def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
                labels = inputs.pop("labels")
                outputs = model(**inputs)
                loss = F.cross_entropy(outputs["logits"], labels, weight=torch.tensor([1.0, 2.0, 1.0]))
                return (loss, outputs) if return_outputs else loss


        train_ds = [{"features": torch.randn(20), "labels": int(i % 3)} for i in range(256)]
        eval_ds = [{"features": torch.randn(20), "labels": int(i % 3)} for i in range(64)]
        args = TrainingArguments(
            output_dir="out",
            num_train_epochs=1,
            per_device_train_batch_size=16,
            learning_rate=2e-5,
            max_grad_norm=1.0,
            lr_scheduler_type="linear",
            warmup_ratio=0.1,
        )
        trainer = WeightedTrainer(model=TinyClassifier(), args=args, train_dataset=train_ds, eval_dataset=eval_ds)
        trainer.train()
        trainer.evaluate()
        """
    )
    assert_silent(src, LOOP_CODES)


@pytest.mark.parametrize(
    "name, src",
    [("gan", GAN), ("gan-amp", GAN_AMP)],
)
def test_correct_gans_are_silent_for_every_loop_rule(name: str, src: str) -> None:
    assert_silent(src, LOOP_CODES)
