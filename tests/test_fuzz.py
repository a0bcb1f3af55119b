"""Bounded fuzzing of the static pipeline: nothing may raise, and no rule may fail (TL002).

Every generated input goes through the whole of `check`: reading and decoding, the complexity
guard, parsing, facts, every rule (`--select ALL`), and every output format. Three sources of
input: programs generated from Python's grammar (hypothesmith), real training scripts (the
rule pages' examples, the quality corpus and a few scripts below) mutated line by line, and
random or corrupted bytes. `benchmarks/fuzz_long.py` runs the same generators for longer.
"""

from __future__ import annotations

import ast
import json
import os
import re
import tempfile
import textwrap
import warnings
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainlint.config import Settings
from trainlint.diagnostics import CheckResult
from trainlint.engine import check_files, load_file
from trainlint.report import formatters

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")  # from compiling generated programs
hypothesmith = pytest.importorskip("hypothesmith")
# Built once: making the strategy compiles Python's grammar, which takes seconds.
GRAMMAR = hypothesmith.from_grammar()

ROOT = Path(__file__).resolve().parent.parent
Files = Dict[str, bytes]

# Examples per test; the file as a whole stays well under a minute on two cores.
# TRAINLINT_FUZZ_SCALE multiplies them for a longer local run.
SCALE = float(os.environ.get("TRAINLINT_FUZZ_SCALE", "1"))


def _examples(n: int) -> int:
    return max(1, int(n * SCALE))


def fuzz(n: int) -> settings:
    return settings(
        max_examples=_examples(n),
        deadline=None,
        database=None,
        derandomize=True,  # the same inputs on every CI run; the long run explores
        suppress_health_check=list(HealthCheck),
    )


# ---------------------------------------------------------------------------- seeds

# Syntax from recent Python versions around a training loop: `type`, generics, except*, walrus...
OWN_SEEDS: List[Dict[str, str]] = [
    {
        "train.py": textwrap.dedent(
            """\
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from torch.utils.data import DataLoader, TensorDataset

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc1 = nn.Linear(20, 64)
                    self.drop = nn.Dropout(0.5)
                    self.fc2 = nn.Linear(64, 3)

                def forward(self, x):
                    return F.softmax(self.fc2(self.drop(F.relu(self.fc1(x)))), dim=1)

            data = TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,)))
            loader = DataLoader(data, batch_size=32, shuffle=True)
            model = Net()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10)
            crit = nn.CrossEntropyLoss()
            scaler = torch.cuda.amp.GradScaler()
            total = 0
            for epoch in range(5):
                model.train()
                for i, (x, y) in enumerate(loader):
                    with torch.autocast("cpu"):
                        loss = crit(model(x), y)
                    scaler.scale(loss).backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    scaler.step(opt)
                    scaler.update()
                    opt.zero_grad(set_to_none=True)
                    total += loss
                sched.step()
                model.eval()
                with torch.no_grad():
                    acc = (model(x).argmax(1) == y).float().mean().item()
            """
        )
    },
    {
        "models.py": textwrap.dedent(
            """\
            import torch.nn as nn

            class Generator(nn.Module):
                def __init__(self, z=16):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(z, 32), nn.Tanh(), nn.Linear(32, 2))

                def forward(self, z):
                    return self.net(z)

            class Critic(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.net = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1), nn.Sigmoid())

                def forward(self, x):
                    return self.net(x)
            """
        ),
        "train.py": textwrap.dedent(
            """\
            import torch
            from models import Critic, Generator

            G, D = Generator(), Critic()
            opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
            opt_d = torch.optim.Adam(D.parameters(), lr=2e-4)
            bce = torch.nn.BCEWithLogitsLoss()
            for step in range(1000):
                real = torch.randn(64, 2)
                fake = G(torch.randn(64, 16))
                opt_d.zero_grad()
                d_loss = bce(D(real), torch.ones(64, 1)) + bce(D(fake.detach()), torch.zeros(64, 1))
                d_loss.backward()
                opt_d.step()
                g_loss = bce(D(fake), torch.ones(64, 1))
                g_loss.backward()
                opt_g.step()
            """
        ),
    },
    {
        "trainer.py": textwrap.dedent(
            """\
            import numpy as np
            import pandas as pd
            import torch

            class Trainer:
                def __init__(self, model, lr=10.0, accum=4):
                    self.model = model
                    self.opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
                    self.accum = accum

                def step(self, batch, i):
                    x, y = batch
                    loss = torch.nn.functional.mse_loss(self.model(x), y) / self.accum
                    loss.backward()
                    if (i + 1) % self.accum == 0:
                        self.opt.step()

                def fit(self, loader, epochs=3):
                    for _ in range(epochs):
                        for i, batch in enumerate(loader):
                            self.step(batch, i)

            df = pd.read_csv("houses.csv")
            X = torch.tensor(df.drop(columns=["price"]).values, dtype=torch.float32)
            y = torch.tensor(np.log(df["price"].values))
            Trainer(torch.nn.Linear(X.shape[1], 1)).fit(zip(X.split(32), y.split(32)))
            """
        )
    },
    {
        "manual.py": textwrap.dedent(
            """\
            import torch
            w = torch.zeros(3, requires_grad=True)
            b = torch.zeros(1, requires_grad=True)
            x, y = torch.randn(100, 3), torch.randn(100)
            lr = 0.1
            while True:
                pred = x @ w + b
                loss = ((pred - y) ** 2).mean()
                loss.backward()
                w = w - lr * w.grad
                with torch.no_grad():
                    b -= lr * b.grad
                if loss.item() < 1e-3:
                    break
            """
        )
    },
    {
        "modern.py": textwrap.dedent(
            """\
            from __future__ import annotations

            import contextlib
            from dataclasses import dataclass, field
            from typing import TYPE_CHECKING

            try:
                import torch
                from torch import nn
            except ImportError:  # pragma: no cover
                torch = None

            if TYPE_CHECKING:
                from collections.abc import Iterator


            @dataclass
            class Config:
                lr: float = 3e-4
                epochs: int = 2
                tags: list[str] = field(default_factory=list)


            type Batch = tuple[torch.Tensor, torch.Tensor]


            def batches[T](n: int, *, size: int = 8) -> Iterator[Batch]:
                for _ in range(n):
                    yield torch.randn(size, 4), torch.randn(size, 1)


            class Model(nn.Module):
                __slots__ = ()

                def __init__(self, width: int = 16, /, *args, **kwargs) -> None:
                    super().__init__()
                    self.body = nn.Sequential(nn.Linear(4, width), nn.GELU(), nn.Linear(width, 1))

                @property
                def depth(self) -> int:
                    return len(self.body)

                def forward(self, x):
                    return self.body(x)


            async def evaluate(model, data):
                async with contextlib.AsyncExitStack() as stack:
                    return [await stack.enter_async_context(model(x)) async for x in data]


            def main(cfg: Config = Config()) -> None:
                model = Model(32)
                opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
                losses = []
                for epoch in range(cfg.epochs):
                    for step, (x, y) in enumerate(batches(10)):
                        with (torch.autocast("cpu"), contextlib.suppress(RuntimeError) as _):
                            pred = model(x)
                            loss = nn.functional.mse_loss(pred, y)
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
                        if (n := len(losses)) > 100:
                            losses = losses[n // 2 :]
                        losses.append(loss.item())
                    try:
                        print(f"{epoch=} {sum(losses) / max(len(losses), 1):.3f} {'ok' if losses else 'empty'!r}")
                    except* ValueError as group:
                        raise SystemExit(1) from group
                yield from ()


            if __name__ == "__main__":
                main()
            """
        )
    },
]

_BLOCK = re.compile(r"```python[^\n]*\n(.*?)```", re.DOTALL)


def page_seeds() -> List[Dict[str, str]]:
    out = []
    for page in sorted((ROOT / "rules").glob("*.md")):
        for block in _BLOCK.findall(page.read_text(encoding="utf-8")):
            out.append({"train.py": block})
    return out


def corpus_seeds() -> List[Dict[str, str]]:
    out = []
    cases = ROOT / "benchmarks" / "quality" / "cases"
    for case in sorted(p for p in cases.glob("*") if p.is_dir()):
        files = {
            str(f.relative_to(case)): f.read_text(encoding="utf-8")
            for f in sorted(case.rglob("*"))
            if f.suffix in (".py", ".ipynb") and f.is_file()
        }
        if files:
            out.append(files)
    return out


SEEDS: List[Dict[str, str]] = OWN_SEEDS + page_seeds() + corpus_seeds()
SPLICE_SEEDS: List[Dict[str, str]] = OWN_SEEDS + page_seeds()[:20]
SEED_LINES: List[str] = sorted({ln for s in SEEDS for t in s.values() for ln in t.splitlines() if ln.strip()})


# ---------------------------------------------------------------------------- the pipeline


def run_pipeline(files: Files) -> CheckResult:
    """Lint `files` with every rule and render every format; fail on any rule failure."""
    loaded = [load_file(path, data) for path, data in files.items()]
    result = check_files(loaded, Settings(select=["ALL"]))
    failures = [d.message for d in result.diagnostics if d.code == "TL002"]
    assert not failures and result.internal_errors == 0, failures
    for name, render in formatters().items():
        out = render(result)
        assert isinstance(out, str), name
        if name in ("json", "sarif"):
            json.loads(out)
    return result


def as_bytes(files: Dict[str, str]) -> Files:
    return {path: text.encode("utf-8") for path, text in files.items()}


# ---------------------------------------------------------------------------- generators

OPS = ("delete", "duplicate", "swap", "indent", "dedent", "splice", "truncate")


def mutate(text: str, ops: List[Tuple[str, int, int]]) -> str:
    """Apply line mutations; indices wrap around, so any integers are valid."""
    lines = text.splitlines(keepends=True) or [""]
    for op, i, j in ops:
        n = len(lines)
        i, j = i % max(n, 1), j % max(n, 1)
        if op == "delete" and n > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = "    " + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][min(4, len(lines[i]) - len(lines[i].lstrip(" "))) :]
        elif op == "splice":
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines.insert(i, indent + SEED_LINES[j % len(SEED_LINES)].lstrip() + "\n")
        elif op == "truncate":
            lines = lines[: max(i, 1)]
    return "".join(lines)


@st.composite
def mutated_project(draw: st.DrawFn) -> Files:
    seed = draw(st.sampled_from(SEEDS))
    targets = sorted(p for p in seed if p.endswith(".py"))
    if not targets:
        return as_bytes(seed)
    target = draw(st.sampled_from(targets))
    ops = draw(
        st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=8)
    )
    # Mostly keep the script valid Python, so that the rules (not just the parser) see
    # the mutated code: a mutation that breaks the syntax is then skipped.
    keep_valid = draw(st.integers(0, 4)) > 0
    text = seed[target]
    for op in ops:
        candidate = mutate(text, [op])
        if keep_valid and not _parses(candidate):
            continue
        text = candidate
    return as_bytes({**seed, target: text})


def _parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences in mutated strings
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@st.composite
def spliced_program(draw: st.DrawFn) -> Files:
    """A grammar-generated program dropped into a training script at some line."""
    seed = draw(st.sampled_from(SPLICE_SEEDS))
    path = sorted(p for p in seed if p.endswith(".py"))[-1]
    lines = seed[path].splitlines(keepends=True)
    at = draw(st.integers(0, len(lines)))
    indent = ""
    if at < len(lines):
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    program = draw(GRAMMAR)
    block = "".join(indent + ln for ln in program.splitlines(keepends=True))
    if block and not block.endswith(("\n", "\r")):
        block += "\n"
    return as_bytes({**seed, path: "".join(lines[:at]) + block + "".join(lines[at:])})


@st.composite
def notebook_of(draw: st.DrawFn) -> Files:
    """A seed script split into notebook cells (some markdown, some with magics), as JSON."""
    seed = draw(mutated_project())
    text = next(iter(v for k, v in seed.items() if k.endswith(".py")), b"").decode("utf-8", "replace")
    lines = text.splitlines(keepends=True)
    cuts = sorted(draw(st.sets(st.integers(0, max(len(lines), 1)), max_size=5)))
    cells = []
    prev = 0
    for c in [*cuts, len(lines)]:
        src = lines[prev:c]
        prev = c
        kind = draw(st.sampled_from(["code", "code", "code", "markdown", "raw"]))
        if kind == "code" and draw(st.booleans()):
            src = [
                draw(st.sampled_from(["%matplotlib inline\n", "!pip install torch\n", "%%time\n", "x = !ls\n"]))
            ] + src
        cells.append(
            {
                "cell_type": kind,
                "metadata": {},
                "source": src,
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
        )
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    raw = json.dumps(nb).encode("utf-8")
    if draw(st.booleans()):  # and sometimes break it
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + draw(st.binary(max_size=8)) + raw[i + draw(st.integers(0, 8)) :]
    return {"analysis.ipynb": raw}


@st.composite
def corrupted_bytes(draw: st.DrawFn) -> Files:
    """A seed's bytes with a few bytes replaced, inserted or removed."""
    seed = draw(st.sampled_from(SEEDS))
    path = sorted(seed)[0]
    data = bytearray(seed[path].encode("utf-8"))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(data)))
        piece = draw(st.binary(max_size=4) | st.text("()[]{}:.,=+-*/\\'\" \t\n\r#@fxn0129", max_size=4).map(str.encode))
        data[i : i + draw(st.integers(0, 4))] = piece
    if draw(st.booleans()):
        data = (
            bytearray(
                draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"# coding: latin-1\n", b"# -*- coding: utf-16 -*-\n"]))
            )
            + data
        )
    if draw(st.booleans()):
        data = bytearray(bytes(data).replace(b"\n", draw(st.sampled_from([b"\r\n", b"\r", b"\x0c\n"]))))
    return {path: bytes(data)}


# Nesting forms for the complexity guard: each wraps an expression once more.
WRAPS = [
    "({})",
    "[{}]",
    "{{{}}}",
    "{{1: {}}}",
    "f({})",
    "not {}",
    "-{}",
    "~{}",
    "{}.a",
    "{}[0]",
    "{}()",
    "x + {}",
    "{} * y",
    "{} ** 2",
    "lambda: {}",
    "a if {} else b",
    "{} and c",
    "'s' {}",
    "await {}",
    "f'{{{}}}'",
    "[{} for _ in z]",
    "{} < w",
    "(yield {})",
    "*{},",
    "{}, 1",
]


@st.composite
def nested_program(draw: st.DrawFn) -> Files:
    """A training script with one expression built from a random mix of nesting forms."""
    wraps = draw(st.lists(st.sampled_from(WRAPS), min_size=1, max_size=6))
    depth = draw(st.integers(1, 400))
    expr = "x"
    for k in range(depth):
        expr = wraps[k % len(wraps)].format(expr)
    body = f"async def f():\n    value = {expr}\n" if "await" in expr else f"value = {expr}\n"
    return as_bytes({"train.py": OWN_SEEDS[0]["train.py"] + body})


# ---------------------------------------------------------------------------- tests


@fuzz(150)
@given(GRAMMAR)
def test_grammar_programs(src: str) -> None:
    run_pipeline({"train.py": src.encode("utf-8")})


@fuzz(25)
@given(hypothesmith.from_node())
def test_libcst_generated_programs(src: str) -> None:
    run_pipeline({"train.py": src.encode("utf-8")})


@fuzz(120)
@given(spliced_program())
def test_grammar_code_inside_training_scripts(files: Files) -> None:
    run_pipeline(files)


@fuzz(400)
@given(mutated_project())
def test_mutated_training_scripts(files: Files) -> None:
    run_pipeline(files)


@fuzz(100)
@given(notebook_of())
def test_notebooks_built_from_mutated_scripts(files: Files) -> None:
    run_pipeline(files)


@fuzz(200)
@given(corrupted_bytes())
def test_corrupted_bytes(files: Files) -> None:
    run_pipeline(files)


@fuzz(200)
@given(st.binary(max_size=3000), st.sampled_from(["train.py", "nb.ipynb", "stub.pyi"]))
def test_random_bytes(data: bytes, name: str) -> None:
    result = run_pipeline({name: data})
    if b"\x00" in data and name.endswith(".py"):
        assert [d.code for d in result.diagnostics] == ["TL001"]


@fuzz(80)
@given(nested_program())
def test_mixed_deep_nesting_is_analysed_or_refused(files: Files) -> None:
    result = run_pipeline(files)
    refused = [d for d in result.diagnostics if d.code == "TL001"]
    # Either refused with the guard's message or a syntax error, or analysed like any script.
    for d in refused:
        assert "nested too deeply" in d.message or "syntax error" in d.message, d.message


@fuzz(60)
@given(mutated_project())
def test_autofix_on_mutated_scripts(files: Files) -> None:
    """`--fix --unsafe-fixes` never raises, and never breaks a file that parsed."""
    run_autofix(files)


def run_autofix(files: Files) -> None:
    from trainlint.fixes.apply import fix_sources

    texts = {p: d.decode("utf-8") for p, d in files.items()}
    run = fix_sources(texts, Settings(select=["ALL"]), unsafe=True)
    assert run.result.internal_errors == 0
    assert "TL002" not in {d.code for d in run.result.diagnostics}
    for state in run.changed_files():
        if not state.is_notebook and _parses(state.original.decode("utf-8")):
            assert _parses(state.data.decode("utf-8")), state.path


def test_seeds_are_found() -> None:
    # The mutation fuzzing is only as good as its seeds: the rule pages and the corpus.
    assert len(page_seeds()) >= 20
    assert len(corpus_seeds()) >= 20
    assert len(SEED_LINES) > 200


@fuzz(40)
@given(st.one_of(mutated_project(), corrupted_bytes()))
def test_editor_server_on_mutated_scripts(files: Files) -> None:
    """The language server's linting, diagnostics, quick fixes and `# noqa` actions never raise."""
    run_editor(files)


def run_editor(files: Files) -> None:
    lsp_module = pytest.importorskip("trainlint.lsp")
    from lsprotocol import types as lsp
    from pygls.uris import from_fs_path
    from pygls.workspace import TextDocument

    path, data = (
        next((p, d) for p, d in files.items() if p.endswith(".py"))
        if any(p.endswith(".py") for p in files)
        else next(iter(files.items()))
    )
    text = data.decode("utf-8", "replace")
    with tempfile.TemporaryDirectory() as folder:
        full = os.path.join(folder, path)
        others = {os.path.join(folder, p): d.decode("utf-8", "replace") for p, d in files.items() if p != path}
        diags, _ = lsp_module.lint_text(full, text, others)
        assert "TL002" not in {d.code for d in diags}
        uri = from_fs_path(full) or "file:///train.py"
        doc = TextDocument(uri, source=text)
        findings = [(d, lsp_module.to_lsp(d, doc, uri)) for d in diags]
        everything = lsp.Range(
            start=lsp.Position(line=0, character=0), end=lsp.Position(line=max(len(doc.lines), 1), character=0)
        )
        lsp_module.code_actions(doc, lsp_module.Published(None, findings), uri, everything)
        for d in diags:
            lsp_module.hover_markdown(d)


def test_match_statement_next_to_a_training_loop() -> None:
    src = "import torch\nmatch cmd:\n    case _:\n        pass\nfor x in loader:\n    model(x).backward()\n"
    run_pipeline({"train.py": src.encode("utf-8")})
