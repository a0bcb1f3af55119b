"""The traced script runs in a child process: whatever it does, trainlint reports and exits cleanly.

Every case runs the real command (`python -m trainlint trace ...`) in a subprocess; the cases
run side by side to keep the suite fast. Processes the scripts start record their ids in files
so the tests can check that none outlives the trace.
"""

from __future__ import annotations

import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

pytest.importorskip("torch")

from tests.runtime.tracer_helpers import run_cli  # noqa: E402

TRAIN = """\
import os, sys
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
X = torch.randn(32, 4)
y = torch.randint(0, 2, (32,))


def step():
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()
    opt.step()


def record_pid(name):
    with open(os.path.join(os.environ["PID_DIR"], name), "a") as fh:
        fh.write(f"{os.getpid()}\\n")


record_pid("main")
"""

CASES: Dict[str, Dict[str, Any]] = {
    "raises": {
        "body": """
step()
raise ValueError("broken batch")  # line-marker
"""
    },
    "exit3": {
        "body": """
step()
sys.exit(3)
"""
    },
    "hang": {
        "args": ["--timeout", "20"],
        "body": """
step()
import time
time.sleep(600)
""",
    },
    "os_exit": {
        "body": """
step()
os._exit(0)
"""
    },
    "catch_base": {
        "body": """
try:
    for i in range(100):
        step()
except BaseException as exc:
    print("caught", type(exc).__name__)
print("after the loop")
"""
    },
    "catch_base_and_continue": {
        "body": """
for i in range(100):
    try:
        step()
    except BaseException:
        pass
print("unreachable under the tracer")
"""
    },
    "segfault": {
        "body": """
step()
import ctypes
ctypes.string_at(0)
"""
    },
    "workers": {
        "body": """
from torch.utils.data import DataLoader, TensorDataset

def init(worker_id):
    record_pid("workers")

loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, num_workers=2, worker_init_fn=init)
for epoch in range(5):
    for xb, yb in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
"""
    },
    "chdir": {
        "body": """
os.makedirs("elsewhere", exist_ok=True)
os.chdir("elsewhere")
for i in range(10):
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()  # no zero_grad: TL101
    opt.step()
"""
    },
    "flood": {
        "body": """
for i in range(20000):
    print("x" * 200)
for i in range(10):
    step()
    print("line after step", i)
print("done flooding")
"""
    },
    "stdin": {
        "stdin": b"hello from stdin\n",
        "body": """
line = sys.stdin.readline()
print("got:", line.strip())
for i in range(10):
    step()
""",
    },
    "json": {
        "args": ["--output-format", "json"],
        "body": """
print("noise on stdout")
for i in range(10):
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()  # no zero_grad: TL101
    opt.step()
""",
    },
    "healthy": {
        "body": """
from torch.utils.data import DataLoader, TensorDataset
loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
for epoch in range(5):
    for xb, yb in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
"""
    },
    "argv": {
        "args": ["--steps", "3", "--", "--epochs", "7"],
        "body": """
print("argv:", sys.argv[1:], "name:", __name__, "file:", os.path.basename(__file__))
for i in range(10):
    step()
""",
    },
    "syntax_error": {"body": "\nthis is not python(\n"},
    "module": {
        "module": True,
        "args": ["--", "--lr", "0.1"],
        "body": """
print("module argv:", sys.argv[1:], "name:", __name__)
for i in range(10):
    loss = nn.functional.cross_entropy(model(X), y)
    loss.backward()  # no zero_grad: TL101
    opt.step()
""",
    },
}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _pids(pid_dir: Path) -> List[int]:
    out = []
    for f in pid_dir.iterdir():
        out += [int(x) for x in f.read_text().split()]
    return out


def _run(root: Path, name: str, case: Dict[str, Any]) -> Dict[str, Any]:
    work = root / name
    pid_dir = work / "pids"
    pid_dir.mkdir(parents=True)
    body = textwrap.dedent(case["body"])
    source = body if name == "syntax_error" else TRAIN + body
    if case.get("module"):
        (work / "pkg").mkdir()
        (work / "pkg" / "__init__.py").write_text("")
        (work / "pkg" / "train.py").write_text(source)
        args = ["-m", "pkg.train", *case.get("args", [])]
    else:
        (work / "train.py").write_text(source)
        args = ["train.py", *case.get("args", [])]
    proc = run_cli(work, args, stdin=case.get("stdin", b""), timeout=180, env={"PID_DIR": str(pid_dir)})
    return {
        "proc": proc,
        "pids": _pids(pid_dir),
        "source": source,
        "work": work,
        "stdout": proc.stdout.decode(errors="replace"),
        "stderr": proc.stderr.decode(errors="replace"),
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Dict[str, Any]]:
    root = tmp_path_factory.mktemp("containment")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, root, name, case) for name, case in CASES.items()}
        return {name: f.result() for name, f in futures.items()}


def _line(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def _tl003(result: Dict[str, Any]) -> Optional[str]:
    for line in result["stdout"].splitlines():
        if " TL003 " in line:
            return line
    return None


def test_script_that_raises_is_reported_where_it_raised(results):
    r = results["raises"]
    assert r["proc"].returncode == 1
    line = _tl003(r)
    assert line and "ValueError: broken batch" in line
    assert line.startswith(f"  train.py:{_line(r['source'], 'line-marker')}:")
    assert "after 1 of 2 step(s)" in line, "the evidence of the first step is kept"


def test_sys_exit_before_the_steps(results):
    r = results["exit3"]
    assert r["proc"].returncode == 1
    assert "exited with status 3" in (_tl003(r) or "")


def test_hang_is_killed_at_the_timeout_with_everything_it_started(results):
    r = results["hang"]
    assert r["proc"].returncode == 1
    assert "did not reach 2 step(s) within 20 s" in (_tl003(r) or "")
    assert r["pids"] and not any(_alive(p) for p in r["pids"])


def test_os_exit_mid_training_keeps_the_evidence(results):
    r = results["os_exit"]
    assert r["proc"].returncode == 1
    line = _tl003(r) or ""
    assert "ended abruptly" in line and "after 1 of 2 step(s)" in line


def test_script_catching_base_exception_is_still_stopped(results):
    r = results["catch_base"]
    assert "caught TraceStop" in r["stdout"], "the stop is a BaseException the script can see"
    assert "after the loop" in r["stdout"]
    assert "stopped after 2 of 2 step(s)" in r["stdout"]
    assert _tl003(r) is None
    r = results["catch_base_and_continue"]
    assert "unreachable under the tracer" not in r["stdout"]
    assert "stopped after 2 of 2 step(s)" in r["stdout"]
    assert r["proc"].returncode == 0


def test_segfault_is_reported_not_fatal(results):
    r = results["segfault"]
    assert r["proc"].returncode == 1
    assert "killed by SIGSEGV" in (_tl003(r) or "")


def test_dataloader_workers_neither_count_steps_nor_outlive_the_trace(results):
    r = results["workers"]
    assert r["proc"].returncode == 0, r["stdout"] + r["stderr"]
    assert "stopped after 2 of 2 step(s)" in r["stdout"]
    assert "step 3/2" not in r["stderr"]
    workers = [p for p in r["pids"]]
    assert len(workers) >= 3, "two workers and the main process recorded themselves"
    assert not any(_alive(p) for p in r["pids"])


def test_chdir_keeps_locations_relative_to_the_start(results):
    r = results["chdir"]
    line = next(ln for ln in r["stdout"].splitlines() if " TL101 " in ln)
    assert line.startswith(f"  train.py:{_line(r['source'], 'no zero_grad')}:")
    assert "confirmed by the run" in r["stdout"]
    assert r["proc"].returncode == 1


def test_no_process_outlives_any_trace(results):
    for name, r in results.items():
        assert not [p for p in r["pids"] if _alive(p)], name


def test_flooding_stdout_does_not_block_the_trace(results):
    r = results["flood"]
    assert r["proc"].returncode == 0, r["stdout"][-2000:]
    assert r["stdout"].count("x" * 200) == 20000
    assert "line after step 0" in r["stdout"]
    assert "stopped after 2 of 2 step(s)" in r["stdout"]


def test_script_reads_its_own_stdin(results):
    r = results["stdin"]
    assert "got: hello from stdin" in r["stdout"]
    assert r["proc"].returncode == 0, r["stdout"]


def test_json_output_stays_parseable_when_the_script_prints(results):
    r = results["json"]
    data = json.loads(r["stdout"])
    assert set(data) >= {"version", "diagnostics", "summary"}
    assert "noise on stdout" in r["stderr"]
    tl101 = [d for d in data["diagnostics"] if d["code"] == "TL101"]
    assert tl101 and tl101[0]["status"] == "confirmed" and tl101[0]["evidence"]["observed"]
    assert data["trace"]["outcome"] == "stopped" and data["trace"]["steps_completed"] == 2
    assert r["proc"].returncode == 1


def test_healthy_script_exits_zero(results):
    r = results["healthy"]
    assert r["proc"].returncode == 0, r["stdout"]
    assert "0 confirmed, 0 unverified" in r["stdout"]


def test_arguments_name_and_progress(results):
    r = results["argv"]
    assert "argv: ['--epochs', '7'] name: __main__ file: train.py" in r["stdout"]
    assert "stopped after 3 of 3 step(s)" in r["stdout"]
    for text in ("script started", "step 1/3", "step 3/3", "stopping the script after 3 step(s)"):
        assert text in r["stderr"]


def test_script_that_cannot_start_exits_2(results, tmp_path):
    assert results["syntax_error"]["proc"].returncode == 2
    missing = run_cli(tmp_path, ["no_such_script.py"])
    assert missing.returncode == 2 and b"no such script" in missing.stderr
    no_module = run_cli(tmp_path, ["-m", "no_such_module_xyz"])
    assert no_module.returncode == 2


def test_module_entry_point(results):
    r = results["module"]
    assert "module argv: ['--lr', '0.1'] name: __main__" in r["stdout"]
    line = next(ln for ln in r["stdout"].splitlines() if " TL101 " in ln)
    assert line.startswith(f"  pkg/train.py:{_line(r['source'], 'no zero_grad')}:")
    assert "confirmed by the run" in r["stdout"]
    assert r["proc"].returncode == 1
