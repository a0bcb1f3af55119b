"""`trace --save run.json` and `trace --baseline run.json`: a good run kept, and a changed
script compared with it layer by layer.

The fault pairs run in this process under `tracing()` (each script seeds itself); the
command-line tests check the files, the seeding the tracer does, and the errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from tests.runtime.tracer_helpers import run_cli, script, trace_inline, write  # noqa: E402
from trainlint.runtime.judging import run_compare  # noqa: E402

# A 4-layer classifier; `{act}` is the hidden activation, `{detach}` is applied to the
# second layer's output, `{init}` runs after construction.
NET = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(16, 64)
        self.b = nn.Linear(64, 64)
        self.c = nn.Linear(64, 64)
        self.d = nn.Linear(64, 2)
        self.act1 = {act}
        self.act2 = {act}
        self.act3 = {act}

    def forward(self, x):
        h = self.act1(self.a(x))
        h = self.act2(self.b(h)){detach}
        h = self.act3(self.c(h))
        return self.d(h)


x = torch.randn(256, 16)
y = (x[:, :4].sum(1) > 0).long()
model = Net()
{init}
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(2):
    for i in range(0, 256, 32):
        opt.zero_grad()
        loss = F.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
        loss.backward()
        opt.step()
"""


def net(act: str = "nn.ReLU()", detach: str = "", init: str = "") -> str:
    return script(NET.format(act=act, detach=detach, init=init))


GOOD = net()
FAULTS = {
    # (the faulty script, the layer a comparison must name first)
    "sigmoid": (net(act="nn.Sigmoid()"), "Net.act1"),
    "detached": (net(detach=".detach()"), "Net.b"),
    "init x100": (net(init="with torch.no_grad():\n    model.c.weight.mul_(100)"), "Net.c"),
}


def saved(tmp_path: Path, source: str, name: str) -> run_compare.SavedRun:
    report = trace_inline(tmp_path, source, steps=4, name=name)
    return report.saved_run()


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> run_compare.SavedRun:
    return saved(tmp_path_factory.mktemp("good"), GOOD, "good.py")


def test_a_good_script_against_itself_shows_no_divergence(tmp_path: Path, good_run: run_compare.SavedRun) -> None:
    again = saved(tmp_path, GOOD, "good.py")
    c = run_compare.compare(again, good_run, "good.json")
    assert c.same and c.first is None
    assert any("no divergence beyond noise" in line for line in c.lines())
    assert any("(same)" in line for line in c.lines())


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_first_divergence_names_the_injected_layer(
    tmp_path: Path, good_run: run_compare.SavedRun, fault: str
) -> None:
    source, layer = FAULTS[fault]
    c = run_compare.compare(saved(tmp_path, source, "bad.py"), good_run, "good.json")
    first = c.first
    assert first is not None, fault
    assert first.layer is not None and first.layer.startswith(layer), (fault, first.text)
    assert f"first divergence: {first.text}" in "\n".join(c.lines())


def test_a_detached_layer_is_reported_as_getting_no_gradient(tmp_path: Path, good_run: run_compare.SavedRun) -> None:
    c = run_compare.compare(saved(tmp_path, FAULTS["detached"][0], "bad.py"), good_run, "good.json")
    first = c.first
    assert first is not None and first.step == 1 and first.value is None
    assert "gets no gradient" in first.text
    no_grad = {d.layer for d in c.backward if d.what == "gradient norm" and d.value is None}
    assert no_grad == {"Net.a.weight", "Net.a.bias", "Net.b.weight", "Net.b.bias"}


def test_a_saved_run_round_trips_through_its_file(tmp_path: Path, good_run: run_compare.SavedRun) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(good_run.to_json()))
    back = run_compare.read(str(path))
    assert back.layers.keys() == good_run.layers.keys()
    assert back.losses == good_run.losses
    assert run_compare.compare(back, good_run, str(path)).same


@pytest.mark.parametrize(
    "content,words",
    [
        ("{not json", "is not JSON"),
        ('{"format": "something-else"}', "is not a run saved by `trainlint trace --save`"),
        ('{"format": "trainlint-run", "version": 99}', "run format 99"),
        ('{"format": "trainlint-run", "version": 1}', "is missing part of a saved run"),
    ],
)
def test_a_bad_baseline_file_is_a_clear_error(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "run.json"
    path.write_text(content)
    with pytest.raises(run_compare.RunFileError, match="run.json") as err:
        run_compare.read(str(path))
    assert words in str(err.value)


# ---------------------------------------------------------------------- command line
SEED_PROBE = """\
import json
import random
import numpy
import torch
import torch.nn as nn

print("DRAWS", json.dumps([random.random(), float(numpy.random.rand()), torch.rand(1).item()]))
model = nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(3):
    opt.zero_grad()
    model(torch.randn(8, 4)).pow(2).mean().backward()
    opt.step()
"""


def _draws(out: str) -> Any:
    line = next(x for x in out.splitlines() if x.startswith("DRAWS "))
    return json.loads(line[len("DRAWS ") :])


def test_the_tracer_seeds_random_numpy_and_torch_unless_told_not_to(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    write(tmp_path, SEED_PROBE)
    runs = [run_cli(tmp_path, ["--no-static", "-q", "train.py"]) for _ in range(2)]
    assert _draws(runs[0].stdout.decode()) == _draws(runs[1].stdout.decode())
    other = run_cli(tmp_path, ["--no-static", "-q", "--seed", "7", "train.py"])
    unseeded = run_cli(tmp_path, ["--no-static", "-q", "--no-seed", "train.py"])
    assert _draws(other.stdout.decode()) != _draws(runs[0].stdout.decode())
    assert _draws(unseeded.stdout.decode()) != _draws(runs[0].stdout.decode())
    js = run_cli(tmp_path, ["--no-static", "-q", "--format", "json", "train.py"])
    assert json.loads(js.stdout)["trace"]["seed"] == 0


def test_save_then_baseline_through_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, net().replace("torch.manual_seed(0)\n", ""), "good.py")  # seeded by the tracer
    write(tmp_path, net(act="nn.Sigmoid()").replace("torch.manual_seed(0)\n", ""), "bad.py")
    save = run_cli(tmp_path, ["--no-static", "-q", "--steps", "3", "--save", "good.json", "good.py"])
    assert "run saved to good.json" in save.stdout.decode()
    assert json.loads((tmp_path / "good.json").read_text())["format"] == "trainlint-run"
    same = run_cli(tmp_path, ["--no-static", "-q", "--steps", "3", "--baseline", "good.json", "good.py"])
    assert "no divergence beyond noise" in same.stdout.decode(), same.stdout.decode()
    bad = run_cli(
        tmp_path,
        [
            "--no-static",
            "-q",
            "--steps",
            "3",
            "--baseline",
            "good.json",
            "--format",
            "json",
            "--report",
            "r.html",
            "bad.py",
        ],
    )
    body = json.loads(bad.stdout)["trace"]["baseline"]
    assert body["same"] is False
    assert body["first_divergence"]["layer"] == "Net.act1"
    assert "sigmoid vs relu" in body["first_divergence"]["text"]
    page = (tmp_path / "r.html").read_text()
    assert '<section id="baseline">' in page and "Net.act1" in page


def test_a_bad_baseline_stops_before_the_run(tmp_path: Path) -> None:
    write(tmp_path, "print('RAN')\n")
    (tmp_path / "run.json").write_text("[]")
    res = run_cli(tmp_path, ["--baseline", "run.json", "train.py"])
    assert res.returncode == 2
    assert "is not a run saved by `trainlint trace --save`" in res.stderr.decode()
    assert b"RAN" not in res.stdout
