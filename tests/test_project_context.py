"""Context files: a checked file is analysed with the project files linked to it by imports
(reported on: only the files asked for), so its findings do not depend on the selection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Sequence, Tuple

import pytest

from trainlint import context, pool
from trainlint.config import Settings
from trainlint.fixes.apply import fix_paths
from trainlint.pipeline import RunOptions, check_paths

REPO = Path(__file__).resolve().parent.parent

MODELS = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)
"""
TRAIN = """\
import torch
import torch.nn as nn
from models import Net

model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
crit = nn.CrossEntropyLoss()
for step in range(3):
    opt.zero_grad()
    loss = crit(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
    loss.backward()
    opt.step()
"""
# A training loop of its own in the imported file: a finding (TL101) located in models.py.
MODELS_WITH_LOOP = (
    MODELS
    + """

def pretrain(model, data):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in data:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
""".replace("import torch.nn as nn\n", "import torch\nimport torch.nn as nn\n", 1)
)

Key = Tuple[str, str, int]


def project(tmp_path: Path, files: dict) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text) if isinstance(text, str) else p.write_bytes(text)
    return tmp_path


def cli(cwd: Path, *args: str) -> Tuple[int, List[dict]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("TRAINLINT_CACHE_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", *args, "--output-format", "json", "--isolated"],
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["diagnostics"]


def keys(diags: Sequence[dict]) -> List[Key]:
    return sorted((d["code"], d["path"], d["line"]) for d in diags)


def api(paths: Sequence[str], **opts) -> List[Key]:
    result = check_paths(list(paths), Settings(), options=RunOptions(jobs=1, use_cache=False, **opts))
    return sorted((d.code, d.path, d.line) for d in result.diagnostics)


def test_the_same_findings_whichever_files_are_passed(tmp_path):
    root = project(tmp_path, {"models.py": MODELS, "train.py": TRAIN})
    runs = {
        args: cli(root, *args, "--no-cache")
        for args in (("train.py",), (".",), ("models.py", "train.py"), ("models.py",))
    }
    expected = [("TL201", "train.py", 10)]
    for args, (rc, diags) in runs.items():
        assert keys(diags) == expected, args
        assert rc == 1
    # The related location in models.py is named as a whole-folder run names it.
    related = {(r["path"], r["line"]) for r in runs[("train.py",)][1][0]["related"]}
    assert ("models.py", 11) in related
    # models.py alone (a pre-commit run after editing the model) gets the finding too: its
    # softmax is the defect, named as a related location.


LOSS_COMPUTE = """
class LossCompute:
    def __init__(self, generator, criterion, opt=None):
        self.generator = generator
        self.criterion = criterion
        self.opt = opt

    def __call__(self, x, y):
        loss = self.criterion(self.generator(x), y)
        if self.opt is not None:
            loss.backward()
            self.opt.step()
            self.opt.zero_grad()
        return loss.item()
"""

NETS = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.1))
        self.generator = nn.Linear(16, 4)

    def forward(self, x):
        return self.body(x)


def make_model():
    return Net()
"""

SHARED_EPOCH = """
import torch
import torch.nn as nn
from nets import *
from losses import *


def run_epoch(batches, model, loss_compute):
    total = 0.0
    for x, y in batches:
        out = model.forward(x)
        total += loss_compute(out, y)
    return total


model = make_model()
criterion = nn.CrossEntropyLoss()
opt = torch.optim.Adam(model.parameters())
batches = [(torch.randn(4, 8), torch.randint(0, 4, (4,)))]
for epoch in range(3):
    model.train()
    run_epoch(batches, model, LossCompute(model.generator, criterion, opt=opt))
    model.eval()
    run_epoch(batches, model, LossCompute(model.generator, criterion, opt=None))
"""


def test_a_call_resolved_under_nested_typing_does_not_depend_on_the_file_order(tmp_path):
    # `loss_compute(out, y)` is first asked about while another receiver is being typed (when
    # train.py is analysed after the files it imports): that cut-short "unknown" must not be
    # kept, or a whole-folder run and `check train.py` see different training loops.
    root = project(tmp_path, {"losses.py": LOSS_COMPUTE, "nets.py": NETS, "train.py": SHARED_EPOCH})
    alone = keys(cli(root, "train.py", "--no-cache")[1])
    assert keys(cli(root, ".", "--no-cache")[1]) == alone
    assert keys(cli(root, "losses.py", "nets.py", "train.py", "--no-cache")[1]) == alone


def test_without_the_context_the_cross_file_finding_is_missed(tmp_path):
    """What the context files are for (the behaviour before them)."""
    root = project(tmp_path, {"models.py": MODELS, "train.py": TRAIN})
    assert api([str(root / "train.py")], context=False) == []
    assert api([str(root / "train.py")]) == [("TL201", str(root / "train.py"), 10)]


def test_a_finding_in_a_context_file_is_reported_only_when_it_points_into_a_checked_one(tmp_path):
    root = project(tmp_path, {"models.py": MODELS_WITH_LOOP, "train.py": TRAIN})
    _, whole = cli(root, ".", "--no-cache")
    assert keys(whole) == [("TL101", "models.py", 18), ("TL201", "train.py", 10)]
    # train.py alone: not models.py's own TL101, which has nothing in train.py.
    _, alone = cli(root, "train.py", "--no-cache")
    assert keys(alone) == [("TL201", "train.py", 10)]
    # models.py alone: its TL101, and train.py's TL201 whose softmax is in models.py.
    _, other = cli(root, "models.py", "--no-cache")
    assert keys(other) == keys(whole)


def test_editing_a_context_file_invalidates_the_cached_result(tmp_path, monkeypatch):
    root = project(tmp_path, {"models.py": MODELS, "train.py": TRAIN})
    opts = RunOptions(jobs=1, cache_dir=str(tmp_path / "cache"))
    train = str(root / "train.py")
    first = check_paths([train], Settings(), options=opts)
    assert [d.code for d in first.diagnostics] == ["TL201"]
    loads: List[str] = []
    real = pool.load_file

    def counting(path, data=None, **kwargs):
        loads.append(os.path.basename(path))
        return real(path, data, **kwargs)

    monkeypatch.setattr(pool, "load_file", counting)
    again = check_paths([train], Settings(), options=opts)
    assert loads == [] and [d.code for d in again.diagnostics] == ["TL201"]  # from the cache
    (root / "models.py").write_text(MODELS.replace("F.softmax(self.fc(x), dim=1)", "self.fc(x)"))
    fixed = check_paths([train], Settings(), options=opts)
    assert sorted(loads) == ["models.py", "train.py"] and fixed.diagnostics == []
    # The same command line, through the CLI and its default cache folder.
    (root / "models.py").write_text(MODELS)
    assert keys(cli(root, "train.py")[1]) == [("TL201", "train.py", 10)]
    (root / "models.py").write_text(MODELS.replace("F.softmax(self.fc(x), dim=1)", "self.fc(x)"))
    assert cli(root, "train.py") == (0, [])


@pytest.mark.parametrize(
    "bad",
    [
        b"import torch.nn as nn\n\nclass Net(nn.Module:\n    pass\n",  # a syntax error
        b"import torch.nn as nn\nname = '\xe9'\n",  # not UTF-8, no coding cookie
        None,  # missing
    ],
)
def test_a_broken_or_missing_context_file_is_no_problem_of_the_checked_file(tmp_path, bad):
    files = {"train.py": TRAIN, "other.py": "import models\nimport torch\n"}
    if bad is not None:
        files["models.py"] = bad
    root = project(tmp_path, files)
    rc, diags = cli(root, "train.py", "--no-cache")
    assert (rc, diags) == (0, [])
    if bad is not None:
        _, whole = cli(root, ".", "--no-cache")
        assert keys(whole) == [("TL001", "models.py", keys(whole)[0][2])]  # only when asked for
        _, asked = cli(root, "models.py", "--no-cache")
        assert [d["code"] for d in asked] == ["TL001"]


ENGINE = """\
def train_step(model, crit, opt, x, y):
    opt.zero_grad()
    loss = crit(model(x), y)
    loss.backward()
    opt.step()
    return loss
"""
CALLER = """\
import torch
import torch.nn as nn

from engine import train_step
from models import Net

model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(3):
    train_step(model, nn.CrossEntropyLoss(), opt, torch.randn(8, 4), torch.randint(0, 3, (8,)))
"""


def test_a_helper_checked_alone_sees_its_callers(tmp_path):
    """engine.py's loss gets a softmax model and a CrossEntropyLoss from train.py (which
    imports it), whose model comes from models.py (which train.py imports): two hops."""
    root = project(tmp_path, {"models.py": MODELS, "engine.py": ENGINE, "train.py": CALLER})
    _, whole = cli(root, ".", "--no-cache")
    assert keys(whole) == [("TL201", "engine.py", 3)]
    _, alone = cli(root, "engine.py", "--no-cache")
    assert keys(alone) == keys(whole)
    assert {r["path"] for r in alone[0]["related"]} == {"models.py", "train.py"}
    # The softmax of models.py and the loss of train.py are part of the finding: checked
    # alone, each file reports it too.
    for name in ("models.py", "train.py"):
        assert keys(cli(root, name, "--no-cache")[1]) == keys(whole)
    assert api([str(root / "engine.py")], context=False) == []


def test_a_package_with_relative_imports_and_a_src_layout(tmp_path):
    pkg_models = MODELS
    pkg_train = TRAIN.replace("from models import Net", "from .models import Net")
    script = TRAIN.replace("from models import Net", "from demo.models import Net")
    root = project(
        tmp_path,
        {
            "src/demo/__init__.py": "",
            "src/demo/models.py": pkg_models,
            "src/demo/train.py": pkg_train,
            "scripts/run.py": script,
        },
    )
    whole = api([str(root)])
    assert [k[1:] for k in whole] == [
        (str(root / "scripts" / "run.py"), 10),
        (str(root / "src" / "demo" / "train.py"), 10),
    ]
    assert api([str(root / "src" / "demo" / "train.py")]) == [k for k in whole if k[1].endswith("train.py")]
    assert api([str(root / "scripts" / "run.py")]) == [k for k in whole if k[1].endswith("run.py")]


def test_a_notebook_importing_a_project_module(tmp_path):
    cells = [TRAIN.split("model = Net()")[0], "model = Net()" + TRAIN.split("model = Net()")[1]]
    nb = {
        "cells": [
            {"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None} for c in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    root = project(tmp_path, {"models.py": MODELS, "explore.ipynb": json.dumps(nb)})
    _, whole = cli(root, ".", "--no-cache")
    _, alone = cli(root, "explore.ipynb", "--no-cache")
    assert keys(alone) == keys(whole) == [("TL201", "explore.ipynb", 6)]
    assert alone[0]["cell"] == 2
    # models.py alone, with the notebook (which imports it) as context: the notebook's
    # finding names the softmax in models.py, so it is reported, placed in its cell.
    _, other = cli(root, "models.py", "--no-cache")
    assert keys(other) == keys(whole) and other[0]["cell"] == 2


def test_context_files_are_found_nearest_first_and_bounded(tmp_path, monkeypatch):
    files = {"train.py": TRAIN.replace("from models import Net", "from models import Net\nimport helpers0")}
    files["models.py"] = MODELS
    for i in range(6):
        files[f"helpers{i}.py"] = f"import helpers{i + 1}\n" if i < 5 else "x = 1\n"
    files["unrelated.py"] = "import torch\n"
    root = project(tmp_path, files)
    train = str(root / "train.py")
    found = context.find_context([train], [(root / "train.py").read_bytes()], Settings())
    names = [os.path.basename(p) for p in found.paths]
    assert names[:2] == ["helpers0.py", "models.py"] and "unrelated.py" not in names
    assert sorted(names) == sorted(["models.py"] + [f"helpers{i}.py" for i in range(6)]) and not found.truncated
    monkeypatch.setattr(context, "MAX_CONTEXT_FILES", 3)
    found = context.find_context([train], [(root / "train.py").read_bytes()], Settings())
    assert [os.path.basename(p) for p in found.paths] == ["helpers0.py", "models.py", "helpers1.py"] and found.truncated
    monkeypatch.setattr(context, "MAX_CONTEXT_FILES", 256)
    monkeypatch.setattr(context, "MAX_CONTEXT_BYTES", len(MODELS) - 1)
    found = context.find_context([train], [(root / "train.py").read_bytes()], Settings())
    assert "models.py" not in [os.path.basename(p) for p in found.paths] and found.truncated


def test_excluded_folders_and_other_projects_are_not_context(tmp_path):
    root = project(tmp_path, {"app/train.py": TRAIN, ".venv/lib/models.py": MODELS, "build/models.py": MODELS})
    (root / "app" / "pyproject.toml").write_text("")  # app/ is a project of its own
    (root / "models.py").write_text(MODELS)  # outside app/'s project
    found = context.find_context([str(root / "app" / "train.py")], [TRAIN.encode()], Settings())
    assert found.paths == []


def test_fix_edits_only_the_files_asked_for(tmp_path):
    root = project(tmp_path, {"models.py": MODELS_WITH_LOOP, "train.py": TRAIN})
    before = (root / "models.py").read_bytes()
    run = fix_paths([str(root / "train.py")], Settings())
    assert list(run.files) == [str(root / "train.py")] and run.changed_files() == []
    assert run.applied == [] and [d.code for d in run.result.diagnostics] == ["TL201"]
    rc, _ = cli(root, "train.py", "--fix", "--unsafe-fixes")
    assert (root / "models.py").read_bytes() == before
    # Asked for, models.py is fixed (its TL101: a zero_grad() added).
    run = fix_paths([str(root / "models.py")], Settings())
    assert [(Path(r.path).name, r.code) for r in run.applied] == [("models.py", "TL101")]


def test_project_root(tmp_path):
    (tmp_path / "proj" / "pkg" / "sub").mkdir(parents=True)
    for d in ("pkg", "pkg/sub"):
        (tmp_path / "proj" / d / "__init__.py").write_text("")
    f = str(tmp_path / "proj" / "pkg" / "sub" / "m.py")
    assert context.project_root(f) == str(tmp_path / "proj")  # above the package chain
    (tmp_path / "proj" / "pkg" / "setup.py").write_text("")
    assert context.project_root(f) == str(tmp_path / "proj" / "pkg")  # a marker wins


def test_without_a_marker_the_current_folder_is_the_root(tmp_path, monkeypatch):
    (tmp_path / "top" / "ns").mkdir(parents=True)
    f = str(tmp_path / "top" / "ns" / "m.py")
    assert context.project_root(f) == str(tmp_path / "top" / "ns")
    monkeypatch.chdir(tmp_path / "top")
    assert context.project_root(f) == str(tmp_path / "top")


def test_a_current_folder_that_is_a_package_is_one_project(tmp_path, monkeypatch):
    """Run in a folder that has an `__init__.py` and no project marker: files in its package
    folders and in a folder without `__init__.py` get one root, so the model defined in the
    latter is linked to the script that imports it by the full dotted name."""
    root = tmp_path / "repo"
    for rel, text in {
        "__init__.py": "",
        "src/__init__.py": "",
        "src/main/__init__.py": "",
        "src/nets/models.py": MODELS,  # `nets` has no __init__.py
        "src/main/train.py": TRAIN.replace("from models import Net", "import src.nets.models as M").replace(
            "model = Net()", "model = M.Net()"
        ),
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    monkeypatch.chdir(root)
    assert context.project_root("src/main/train.py") == context.project_root("src/nets/models.py")
    assert [k for k in api(["."]) if k[0] == "TL201"] == [("TL201", "src/main/train.py", 10)]


def test_a_namespace_package_and_a_sys_path_insertion(tmp_path, monkeypatch):
    """Imports Python would only resolve through a namespace package or a `sys.path` edit are
    linked to the one project module of that name."""
    root = project(
        tmp_path,
        {
            "lib/ns/models.py": MODELS,  # `ns` has no __init__.py
            "scripts/train.py": "import sys\nsys.path.insert(0, '../lib')\n"
            + TRAIN.replace("from models import Net", "from ns.models import Net"),
        },
    )
    monkeypatch.chdir(root)
    assert api(["scripts/train.py"]) == api(["."]) == [("TL201", "scripts/train.py", 12)]


def test_an_installed_package_is_its_own_project(tmp_path):
    # A virtual environment inside a repository: torch's files are not the repository's modules.
    (tmp_path / ".git").mkdir()
    pkg = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages" / "torch" / "nn"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    f = str(pkg / "functional.py")
    (pkg / "functional.py").write_text("import torch\n")
    assert context.project_root(f) == str(pkg.parent.parent)


# ---------------------------------------------------------------------------- one project plan


def test_check_fix_editor_and_tracer_share_one_project_plan(tmp_path, monkeypatch):
    """train.py builds its model through factory.py, which imports models.py (two hops away):
    `check train.py`, `--fix`, the editor server and the tracer's static pass all analyse the
    same files (`plan.py`) and so report the same cross-file finding on train.py."""
    factory = "from models import Net\n\n\ndef build():\n    return Net()\n"
    train = TRAIN.replace("from models import Net\n", "from factory import build\n").replace(
        "model = Net()", "model = build()"
    )
    root = project(tmp_path, {"models.py": MODELS, "factory.py": factory, "train.py": train})
    monkeypatch.chdir(root)
    expected = [("TL201", "train.py", 10)]

    checked = check_paths(["train.py"], Settings(), options=RunOptions(jobs=1, use_cache=False))
    assert sorted((d.code, d.path, d.line) for d in checked.diagnostics) == expected

    fixed = fix_paths(["train.py"], Settings(), unsafe=True)
    assert fixed.result is not None
    assert sorted((d.code, d.path, d.line) for d in fixed.result.diagnostics) == expected

    pytest.importorskip("pygls")
    from trainlint.lsp import lint_text

    path = str(root / "train.py")
    found, config_error = lint_text(path, train, {})
    assert config_error is None
    assert sorted((d.code, os.path.relpath(d.path), d.line) for d in found) == expected
    # An unsaved edit of the open models.py is what the editor analyses.
    raw = MODELS.replace("return F.softmax(self.fc(x), dim=1)", "return self.fc(x)")
    assert lint_text(path, train, {str(root / "models.py"): raw})[0] == []

    from trainlint.runtime.parent import static

    files = static.project_files("train.py", Settings())
    assert sorted(files) == ["factory.py", "models.py", "train.py"]
    traced = static.check(files, Settings())
    assert sorted((d.code, d.path, d.line) for d in traced) == expected


# ---------------------------------------------------------------------------- import components


def test_checkouts_side_by_side_are_separate_components(tmp_path, monkeypatch):
    """A folder holding several projects without markers (copies of repositories): each one's
    `nets.models` is its own, so each is analysed alone (not as one project with the others,
    where the name would be ambiguous), and a run over the folder reports what a run in each
    project reports."""
    from trainlint.plan import group_files

    fixed = MODELS.replace("return F.softmax(self.fc(x), dim=1)", "return self.fc(x)")
    train = TRAIN.replace("from models import Net", "from nets.models import Net")
    for name, models in (("a", MODELS), ("b", fixed), ("c", MODELS)):
        (tmp_path / name / "nets").mkdir(parents=True)
        (tmp_path / name / "nets" / "models.py").write_text(models)
        (tmp_path / name / "train.py").write_text(train)
    monkeypatch.chdir(tmp_path)
    paths = [f"{n}/{f}" for n in "abc" for f in ("nets/models.py", "train.py")]
    assert group_files(paths, [Path(p).read_bytes() for p in paths]) == [[0, 1], [2, 3], [4, 5]]
    whole = api(["."])
    assert whole == [("TL201", "a/train.py", 10), ("TL201", "c/train.py", 10)]
    for name in "abc":
        monkeypatch.chdir(tmp_path / name)
        alone = [(c, f"{name}/{p}", line) for c, p, line in api(["."])]
        assert alone == [k for k in whole if k[1].startswith(name + "/")]


def test_a_standard_library_name_is_not_a_project_module(tmp_path, monkeypatch):
    """`import random` is Python's own module, even where one project file ends with that name
    (as `utils/random.py` does): the two files are not linked."""
    from trainlint.plan import group_files

    root = project(tmp_path, {"utils/random.py": "def seed(n):\n    pass\n", "train.py": "import random\n"})
    monkeypatch.chdir(root)
    paths = ["utils/random.py", "train.py"]
    assert group_files(paths, [Path(p).read_bytes() for p in paths]) == [[0], [1]]


STEPS = """\
def apply(opt):
    opt.step()
    opt.zero_grad()
"""
TRAIN_WITH_HELPER = """\
import torch
import torch.nn as nn
from steps import apply

model = nn.Linear(4, 3)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
sched = torch.optim.lr_scheduler.StepLR(opt, 10)
for step in range(3):
    sched.step()
    loss = nn.functional.cross_entropy(model(torch.randn(8, 4)), torch.randint(0, 3, (8,)))
    loss.backward()
    apply(opt)
"""


def test_a_finding_pointing_into_a_checked_file_is_reported_without_its_fix(tmp_path):
    """steps.py's step is part of train.py's TL105 (the scheduler stepped before it):
    checking steps.py alone reports it, and `--fix` leaves train.py (not asked for) as it was."""
    root = project(tmp_path, {"steps.py": STEPS, "train.py": TRAIN_WITH_HELPER})
    _, whole = cli(root, ".", "--no-cache")
    assert keys(whole) == [("TL105", "train.py", 9)] and whole[0]["fix"] is not None
    _, alone = cli(root, "steps.py", "--no-cache")
    assert keys(alone) == keys(whole) and alone[0]["fix"] is None
    before = (root / "train.py").read_bytes()
    run = fix_paths([str(root / "steps.py")], Settings())
    assert run.applied == [] and (root / "train.py").read_bytes() == before


DATASET = """\
import torchvision.transforms as transforms
from torch.utils.data import Dataset


class Images(Dataset):
    def __init__(self, images, transform=None):
        self.images = images
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i])
"""
TRAIN_IMAGES = """\
import torch
import torch.nn as nn
import torchvision.transforms as transforms
from torch.utils.data import DataLoader

from data import Images

pipeline = transforms.Compose([transforms.Resize(32), transforms.ToTensor()])
loader = DataLoader(Images(list(range(8)), transform=pipeline), batch_size=4, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for x in loader:
    opt.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
"""


def test_a_pipeline_passed_to_a_dataset_in_another_file_is_reported_where_it_is_written(tmp_path):
    """The dataset keeps `self.transform = transform`; the `Compose` without `Normalize` is
    written in train.py, which is where the finding goes (not a rule failure in data.py)."""
    root = project(tmp_path, {"data.py": DATASET, "train.py": TRAIN_IMAGES})
    rc, diags = cli(root, ".", "--no-cache")
    assert keys(diags) == [("TL301", "train.py", 8)]


TRANSFORMS = """\
from torchvision import transforms

train_transform = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()])
"""
TRAIN_CIFAR = """\
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets

import utils

train_data = datasets.CIFAR10("data", train=True, transform=utils.train_transform)
model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for x, y in DataLoader(train_data, batch_size=32, shuffle=True):
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
"""


@pytest.mark.parametrize("imported", ["import utils", "from utils import train_transform"])
def test_a_pipeline_imported_from_a_project_module_is_read_there(tmp_path, imported):
    """`transform=utils.train_transform` (or the name imported): the `Compose` assigned in
    utils.py is the pipeline, reported there with the model in train.py related."""
    train = TRAIN_CIFAR.replace("import utils", imported)
    if imported != "import utils":
        train = train.replace("utils.train_transform", "train_transform")
    root = project(tmp_path, {"utils.py": TRANSFORMS, "train.py": train})
    for args in ((".",), ("train.py",)):
        rc, diags = cli(root, *args, "--no-cache")
        assert keys(diags) == [("TL301", "utils.py", 3)], args
