"""Components, prefilter, cache and worker processes: faster, never different."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import BUGGY, CLEAN
from trainlint import engine, pipeline, pool, split
from trainlint.analysis.depgraph import import_statements
from trainlint.config import Settings
from trainlint.pipeline import RunOptions, check_paths
from trainlint.plan import group_files

QUALITY = Path(__file__).resolve().parent.parent / "benchmarks" / "quality" / "cases"

MODELS = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return {ret}
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


def keys(result):
    return sorted((d.path, d.cell, d.line, d.column, d.code, d.message) for d in result.diagnostics)


def test_imports_are_found_without_parsing():
    text = "import a.b as c\nfrom .models import Net, build\nfrom .. import utils\n    from x import (y,\n z)\n"
    assert list(import_statements(text)) == [
        (0, "a.b", []),
        (1, "models", ["Net", "build"]),
        (2, "", ["utils"]),
        (0, "x", ["y", "z"]),
    ]


def test_components_follow_imports_in_both_directions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the project root of these (unwritten) files
    paths = ["p/train.py", "p/models.py", "p/utils.py", "q/other.py", "q/lonely.py"]
    texts = ["from models import Net\nimport utils", "", "", "from p import models", ""]
    assert group_files(paths, [t.encode() for t in texts]) == [[0, 1, 2, 3], [4]]


def _count_loads(monkeypatch):
    calls = []
    real = engine.load_file

    def counting(path, data=None):
        calls.append(path)
        return real(path, data)

    monkeypatch.setattr(pool, "load_file", counting)
    return calls


def test_cache_hit_parses_nothing_and_a_dependency_change_invalidates(tmp_path, monkeypatch):
    (tmp_path / "models.py").write_text(MODELS.format(ret="self.fc(x)"))
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "unrelated.py").write_text(CLEAN)
    opts = RunOptions(jobs=1, cache_dir=str(tmp_path / "cache"))
    files = [str(tmp_path / n) for n in ("models.py", "train.py", "unrelated.py")]
    first = check_paths(files, Settings(), options=opts)
    calls = _count_loads(monkeypatch)
    second = check_paths(files, Settings(), options=opts)
    assert calls == [] and keys(second) == keys(first)
    assert (tmp_path / "cache" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (tmp_path / "cache" / ".gitignore").read_text() == "*\n"
    # models.py changes: train.py (which imports it) is analysed again, unrelated.py is not
    (tmp_path / "models.py").write_text(MODELS.format(ret="F.softmax(self.fc(x), dim=1)"))
    third = check_paths(files, Settings(), options=opts)
    assert sorted(Path(p).name for p in calls) == ["models.py", "train.py"]
    assert keys(third) != keys(first)


def test_corrupt_cache_entries_are_ignored(tmp_path):
    (tmp_path / "train.py").write_text(BUGGY)
    opts = RunOptions(jobs=1, cache_dir=str(tmp_path / "cache"))
    first = check_paths([str(tmp_path / "train.py")], Settings(), options=opts)
    for entry in (tmp_path / "cache").rglob("*.json"):
        entry.write_text("{not json")
    again = check_paths([str(tmp_path / "train.py")], Settings(), options=opts)
    assert keys(again) == keys(first) and [d.code for d in again.diagnostics] == ["TL101"]
    for entry in (tmp_path / "cache").rglob("*.json"):
        json.loads(entry.read_text())  # rewritten whole


def test_no_cache_writes_nothing_and_env_var_sets_the_folder(tmp_path, monkeypatch):
    (tmp_path / "train.py").write_text(BUGGY)
    check_paths(
        [str(tmp_path / "train.py")],
        Settings(),
        options=RunOptions(jobs=1, use_cache=False, cache_dir=str(tmp_path / "c1")),
    )
    assert not (tmp_path / "c1").exists()
    monkeypatch.setenv("TRAINLINT_CACHE_DIR", str(tmp_path / "c2"))
    check_paths([str(tmp_path / "train.py")], Settings(), options=RunOptions(jobs=1))
    assert (tmp_path / "c2" / "CACHEDIR.TAG").exists()


def test_prefilter_skips_parsing_but_keeps_syntax_errors(tmp_path, monkeypatch):
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "broken.py").write_text("def add(a, b:\n    return a + b\n")
    (tmp_path / "train.py").write_text(BUGGY)
    calls = _count_loads(monkeypatch)
    res = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=1, use_cache=False))
    assert sorted(Path(p).name for p in calls) == ["broken.py", "train.py"]
    assert sorted((Path(d.path).name, d.code) for d in res.diagnostics) == [
        ("broken.py", "TL001"),
        ("train.py", "TL101"),
    ]


def _corpus():
    if not QUALITY.is_dir() or not any(QUALITY.iterdir()):
        pytest.skip("quality corpus not present")
    return [str(QUALITY)]


def test_same_findings_with_cache_jobs_and_prefilter_on_or_off(tmp_path):
    paths = _corpus()
    base = check_paths(paths, Settings(), options=RunOptions(jobs=1, use_cache=False, prefilter=False))
    variants = [
        RunOptions(jobs=1, use_cache=False, prefilter=True),
        RunOptions(jobs=2, use_cache=False, prefilter=True),
        RunOptions(jobs=2, use_cache=True, cache_dir=str(tmp_path / "c")),
        RunOptions(jobs=1, use_cache=True, cache_dir=str(tmp_path / "c")),  # warm
    ]
    for opts in variants:
        assert keys(check_paths(paths, Settings(), options=opts)) == keys(base), opts


def test_worker_processes_on_many_components(tmp_path):
    for i in range(40):
        (tmp_path / f"s{i:02d}.py").write_text(BUGGY if i % 4 == 0 else CLEAN)
    one = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=1, use_cache=False))
    two = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=2, use_cache=False))
    assert keys(one) == keys(two) and len(one.diagnostics) == 10


# A component too big for one process is parsed by the workers and this process together.


def test_a_split_component_gives_the_same_findings_as_one_process(tmp_path, monkeypatch):
    """Cross-file findings, syntax errors, undecodable bytes and notebooks in a component
    whose files are parsed partly by workers (their trees sent back pickled)."""
    split_sizes = []
    real = split.analyse_split

    def spy(paths, *args, **kwargs):
        split_sizes.append(len(paths))
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(split, "analyse_split", spy)
    (tmp_path / "models.py").write_text(MODELS.format(ret="F.softmax(self.fc(x), dim=1)"))
    (tmp_path / "train.py").write_text(TRAIN)
    for i in range(12):
        (tmp_path / f"helper{i}.py").write_text(
            f"import models\nimport train\n\ndef f{i}(x):\n    return models.Net()(x)\n"
        )
    (tmp_path / "broken.py").write_text("import models\ndef f(:\n")
    (tmp_path / "latin.py").write_bytes(b"import models\nname = '\xe9'\n")
    nb = {"cells": [{"cell_type": "code", "source": [TRAIN]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "explore.ipynb").write_text(json.dumps(nb))
    one = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=1, use_cache=False))
    codes = {d.code for d in one.diagnostics}
    assert {"TL201", "TL001"} <= codes, codes
    for jobs in (2, 3):
        two = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=jobs, use_cache=False, split=True))
        assert keys(two) == keys(one), jobs
        assert two.internal_errors == 0
    assert split_sizes == [17, 17]  # the whole component, both times


def test_the_quality_corpus_gives_the_same_findings_with_its_largest_component_split():
    paths = _corpus()
    base = check_paths(paths, Settings(), options=RunOptions(jobs=1, use_cache=False))
    split = check_paths(paths, Settings(), options=RunOptions(jobs=2, use_cache=False, split=True))
    assert keys(split) == keys(base)


def test_torch_sources_give_the_same_findings_when_split():
    """A real repository that is one import component: the installed torch package's
    `nn/`, `optim/` and `utils/data/` sources (found without importing torch)."""
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("torch is not installed")
    root = Path(list(spec.submodule_search_locations)[0])
    # Named one by one: folders inside a virtual environment are excluded by default.
    paths = sorted(str(p) for sub in ("nn", "optim", "utils/data") for p in (root / sub).rglob("*.py"))
    base = check_paths(paths, Settings(), options=RunOptions(jobs=1, use_cache=False))
    split = check_paths(paths, Settings(), options=RunOptions(jobs=2, use_cache=False, split=True))
    assert base.files > 100
    assert keys(split) == keys(base)
    assert sorted(d.to_json()["path"] for d in split.suppressed) == sorted(d.to_json()["path"] for d in base.suppressed)


def test_a_component_over_the_threshold_is_split_and_gives_the_same_findings(tmp_path, monkeypatch):
    """Not forced: with the thresholds lowered, a project whose files all import each other
    (plus a few scripts of their own) has its component split across the processes, and the
    diagnostics are those of one process, whatever the number of jobs."""
    (tmp_path / "models.py").write_text(MODELS.format(ret="F.softmax(self.fc(x), dim=1)"))
    (tmp_path / "train.py").write_text(TRAIN)
    for i in range(24):
        (tmp_path / f"layer{i}.py").write_text(
            f"import models\nimport layer{(i + 1) % 24}\n\ndef f{i}(x):\n    return models.Net()(x)\n"
        )
    for i in range(4):
        (tmp_path / f"script{i}.py").write_text(BUGGY if i % 2 else CLEAN)
    (tmp_path / "train.py").write_text(TRAIN + "import layer0\n")
    base = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=1, use_cache=False))
    assert {d.code for d in base.diagnostics} >= {"TL201", "TL101"}
    split_sizes = []
    real = split.analyse_split

    def spy(paths, *args, **kwargs):
        split_sizes.append(len(paths))
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(split, "analyse_split", spy)
    monkeypatch.setattr(pipeline, "SPLIT_MIN_BYTES", 1)
    for jobs in (2, 3):
        sharded = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=jobs, use_cache=False))
        assert [d.to_json() for d in sharded.diagnostics] == [d.to_json() for d in base.diagnostics], jobs
        assert [d.to_json() for d in sharded.suppressed] == [d.to_json() for d in base.suppressed], jobs
    assert split_sizes == [26, 26]


def test_components_are_dealt_to_the_workers_by_size():
    size = {"big.py": 900, "mid.py": 500, "a.py": 300, "b.py": 100, "c.py": 100}
    todo = [(["big.py"], None, None), (["mid.py"], None, None), (["a.py"], None, None)]
    todo += [(["b.py"], None, None), (["c.py"], None, None)]
    tasks = pool.deal(todo, size, 2)
    assert [[t[0][0] for t in task] for task in tasks] == [["big.py", "c.py"], ["mid.py", "a.py", "b.py"]]
    assert pool.deal(todo, size, 10) == [[t] for t in todo]  # no more tasks than components


def test_big_components_are_split_only_with_several_jobs_and_a_fair_share_exceeded():
    mib = 1 << 20
    size = {f"a{i}.py": mib // 10 for i in range(20)} | {f"b{i}.py": 1000 for i in range(20)}
    big = ([f"a{i}.py" for i in range(20)], None)
    small = [([f"b{i}.py"], None) for i in range(20)]
    assert pipeline._to_split([big, *small], size, 2, None) == big
    assert pipeline._to_split([big, *small], size, 1, None) is None
    assert pipeline._to_split([big, *small], size, 2, False) is None
    # Too little to parse for starting processes to pay: a small project stays in one process.
    few = ([f"a{i}.py" for i in range(5)], None)
    assert pipeline._to_split([few, *small], size, 2, None) is None
    assert pipeline._to_split([few, *small], size, 2, True) == few  # tests can force it
    # 20 components of the same size: none holds more than half of the work.
    even = [([f"a{i}.py"], None) for i in range(20)]
    assert pipeline._to_split(even, size, 2, None) is None


def test_every_tree_can_come_from_a_worker(tmp_path, monkeypatch):
    (tmp_path / "models.py").write_text(MODELS.format(ret="F.softmax(self.fc(x), dim=1)"))
    (tmp_path / "train.py").write_text(TRAIN)
    for i in range(6):
        (tmp_path / f"helper{i}.py").write_text(f"import models\n\ndef f{i}(x):\n    return models.Net()(x)\n")
    nb = {
        "cells": [{"cell_type": "code", "source": ["import models\n", TRAIN.replace("from models import Net\n", "")]}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "explore.ipynb").write_text(json.dumps(nb))
    one = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=1, use_cache=False))
    monkeypatch.setattr(split, "MAIN_TAKES_SLICES", False)
    loaded_trees = []
    real = split._unpickle

    def spy(where, sizes, timings):
        trees = real(where, sizes, timings)
        loaded_trees.extend(t for t in trees if t is not None)
        return trees

    monkeypatch.setattr(split, "_unpickle", spy)
    two = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=2, use_cache=False, split=True))
    assert len(loaded_trees) == 9  # every file parsed by a worker, the notebook too
    assert keys(two) == keys(one) and any(d.code == "TL201" for d in one.diagnostics)


def test_a_worker_slice_sends_trees_and_leaves_problem_files_to_the_main_process(tmp_path):
    good = b"import torch\nx = torch.zeros(3)  # a comment\n"
    got = split.parse_slice(0, ["good.py", "bad.py", "nb.ipynb"], [good, b"def f(:\n", b"{}"], str(tmp_path))
    assert got is not None
    sizes, seconds = got
    assert sizes[0] > 0 and sizes[1:] == [-1, -1] and seconds >= 0
    # The slice is claimed: nobody parses it twice.
    assert split.parse_slice(0, ["good.py"], [good], str(tmp_path)) is None
    trees = split._unpickle(split._trees_file(str(tmp_path), 0), sizes, None)
    assert trees[0].code == good.decode() and trees[1:] == [None, None]
    assert not (tmp_path / "0.trees").exists()  # removed once read


def test_a_split_run_leaves_no_spool_folder(tmp_path, monkeypatch):
    spool_parent = tmp_path / "tmp"
    spool_parent.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool_parent))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "models.py").write_text(MODELS.format(ret="self.fc(x)"))
    (tmp_path / "src" / "train.py").write_text(TRAIN)
    check_paths([str(tmp_path / "src")], Settings(), options=RunOptions(jobs=2, use_cache=False, split=True))
    assert list(spool_parent.iterdir()) == []


def test_without_a_temporary_folder_the_component_is_checked_whole(tmp_path, monkeypatch):
    (tmp_path / "models.py").write_text(MODELS.format(ret="F.softmax(self.fc(x), dim=1)"))
    (tmp_path / "train.py").write_text(TRAIN)
    one = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=1, use_cache=False))

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(split.tempfile, "mkdtemp", no_room)
    two = check_paths([str(tmp_path)], Settings(), options=RunOptions(jobs=2, use_cache=False, split=True))
    assert keys(two) == keys(one) and any(d.code == "TL201" for d in one.diagnostics)


def test_a_slice_whose_worker_failed_is_parsed_by_the_main_process(tmp_path):
    import concurrent.futures

    paths = [str(tmp_path / "models.py"), str(tmp_path / "train.py")]
    Path(paths[0]).write_text(MODELS.format(ret="F.softmax(self.fc(x), dim=1)"))
    Path(paths[1]).write_text(TRAIN)
    data = [Path(p).read_bytes() for p in paths]
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "0.claim").touch()  # the worker had claimed it
    failed: concurrent.futures.Future = concurrent.futures.Future()
    failed.set_running_or_notify_cancel()
    failed.set_exception(RuntimeError("worker killed"))
    diags, _, internal, _ = split.analyse_split(paths, data, [([0, 1], failed)], str(spool), Settings())
    assert internal == 0 and any(d["code"] == "TL201" for d in diags)


DEATH = """\
import os, sys, time
from trainlint import pool, split
from trainlint.config import Settings
from trainlint.pipeline import check_paths
from trainlint.pipeline import RunOptions

main = os.getpid()


def or_die(real):
    def wrapper(*args, **kwargs):
        if os.getpid() != main:
            open(sys.argv[4], "w").close()
            os._exit(1)  # a worker killed (out of memory...) while it parses
        return real(*args, **kwargs)
    return wrapper


split.parse_tree = or_die(split.parse_tree)
pool.load_file = or_die(pool.load_file)
split.MAIN_TAKES_SLICES = False
if sys.argv[5] == "late":
    # The workers die while tasks are still being handed out: submit itself then fails.
    real_deal = pool.deal

    def slow_deal(*args):
        time.sleep(1)
        return real_deal(*args)

    pool.deal = slow_deal
opts = RunOptions(jobs=int(sys.argv[2]), use_cache=False, split=sys.argv[3] == "split")
res = check_paths([sys.argv[1]], Settings(), options=opts)
print(sorted((d.path, d.line, d.code) for d in res.diagnostics))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the worker's death is staged through fork")
@pytest.mark.parametrize("how, when", [("split", "early"), ("batches", "early"), ("split", "late")])
def test_a_worker_that_dies_neither_hangs_nor_changes_the_findings(tmp_path, how, when):
    import subprocess
    import sys

    src = tmp_path / "src"
    src.mkdir()
    (src / "models.py").write_text(MODELS.format(ret="F.softmax(self.fc(x), dim=1)"))
    (src / "train.py").write_text(TRAIN)
    for i in range(20):  # other components, for the workers' batches
        (src / f"script{i}.py").write_text(BUGGY if i % 5 == 0 else CLEAN)
    (tmp_path / "run.py").write_text(DEATH)
    outs = []
    died = tmp_path / "DIED"
    for jobs in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, str(tmp_path / "run.py"), str(src), jobs, how, str(died), when],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
    assert died.exists()  # a worker did die
    assert outs[0] == outs[1] and "TL201" in outs[0] and "TL101" in outs[0]


def test_dropping_scope_indexes_after_each_module_changes_no_finding(monkeypatch):
    # Big components drop each module's scope indexes once its rules have run (memory);
    # another module that asks about those scopes later gets them rebuilt, with equal answers.
    paths = _corpus()
    opts = RunOptions(jobs=1, use_cache=False)
    monkeypatch.setattr(engine, "RELEASE_INDEXES_FROM", 10**9)
    kept = check_paths(paths, Settings(), options=opts)
    monkeypatch.setattr(engine, "RELEASE_INDEXES_FROM", 1)
    dropped = check_paths(paths, Settings(), options=opts)
    assert keys(kept) and keys(dropped) == keys(kept)
