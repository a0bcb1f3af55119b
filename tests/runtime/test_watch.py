"""`trace --watch`: the whole run under sampled audits, each symptom printed as it appears."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict

import pytest

torch = pytest.importorskip("torch")

from tests.runtime.tracer_helpers import REPO, run_cli, script, write  # noqa: E402

# An MLP on a learnable task, `{n}` steps; `{fault}` runs at the top of each step (`step`,
# `xb`, `lr_scale` can be changed there).
LOOP = """\
x = torch.randn(512, 16)
y = (x[:, 0] > 0).long()
model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr={lr})
for step in range(1, {n} + 1):
    i = (step * 32) % 512
    xb, scale = x[i : i + 32].clone(), 1.0
{fault}
    opt.zero_grad()
    loss = scale * F.cross_entropy(model(xb), y[i : i + 32])
    loss.backward()
    opt.step()
print("END OF SCRIPT")
"""


def loop(n: int = 300, fault: str = "", lr: float = 0.05) -> str:
    body = "\n".join("    " + line for line in fault.splitlines()) if fault else "    pass"
    return script(LOOP.format(n=n, fault=body, lr=lr))


def watch(tmp_path: Path, source: str, *args: str) -> "tuple[Dict[str, Any], str]":
    write(tmp_path, source)
    res = run_cli(tmp_path, ["--watch", "--format", "json", *args, "train.py"])
    return json.loads(res.stdout), res.stderr.decode()


def test_a_correct_run_is_watched_to_its_end_and_shows_nothing(tmp_path: Path) -> None:
    report, stderr = watch(tmp_path, loop())
    trace = report["trace"]
    assert trace["outcome"] == "finished" and trace["steps_completed"] == 300
    assert report["diagnostics"] == []
    assert trace["watch"]["audits"] >= 3 and trace["watch"]["alerts"] == []
    assert "watch: step" in stderr  # progress lines


def test_a_nan_is_reported_as_it_happens_and_stops_the_run(tmp_path: Path) -> None:
    source = loop(fault="if step == 150:\n    xb[0, 0] = float('nan')")
    report, stderr = watch(tmp_path, source, "--stop-on", "error", "--audit-every", "20")
    trace = report["trace"]
    assert "watch: step 150: TL901 the loss given to backward at step 150 is NaN" in stderr
    assert [d["code"] for d in report["diagnostics"]] == ["TL901"]
    assert report["diagnostics"][0]["evidence"]["step"] == 150
    # Stopped at the audit that saw it: within one interval, long before the script's end.
    assert trace["outcome"] == "stopped" and 150 <= trace["steps_completed"] < 170


def test_without_stop_on_the_run_goes_on_to_its_end(tmp_path: Path) -> None:
    source = loop(fault="if step == 150:\n    xb[0, 0] = float('nan')")
    report, _ = watch(tmp_path, source)
    assert report["trace"]["steps_completed"] == 300
    assert [d["code"] for d in report["diagnostics"]] == ["TL901"]


def test_a_loss_spike_is_reported(tmp_path: Path) -> None:
    report, stderr = watch(tmp_path, loop(fault="if step == 200:\n    scale = 40.0"))
    assert [d["code"] for d in report["diagnostics"]] == ["TL918"]
    assert "step 200: TL918 the loss jumped to" in stderr


def test_a_gradient_explosion_is_reported(tmp_path: Path) -> None:
    report, _ = watch(tmp_path, loop(fault="if step == 200:\n    scale = 1e4"), "--audit-every", "1")
    codes = {d["code"] for d in report["diagnostics"]}
    assert "TL903" in codes
    tl903 = next(d for d in report["diagnostics"] if d["code"] == "TL903")
    assert tl903["evidence"]["step"] == 200


def test_a_stalled_loss_is_reported(tmp_path: Path) -> None:
    report, _ = watch(tmp_path, loop(n=260, lr=0.0, fault="i = 0\nxb = x[:32].clone()"))
    assert [d["code"] for d in report["diagnostics"]] == ["TL912"]
    assert "has not fallen in" in report["diagnostics"][0]["message"]


@pytest.mark.parametrize(
    "args,words",
    [
        (["--audit-every", "5"], "--audit-every and --stop-on go with --watch"),
        (["--watch", "--lr-find"], "--watch runs one process to its end"),
        (["--watch", "--overfit-batch", "3"], "--watch runs one process to its end"),
    ],
)
def test_options_that_do_not_go_with_watch_are_refused(tmp_path: Path, args: "list[str]", words: str) -> None:
    write(tmp_path, loop(n=5))
    res = run_cli(tmp_path, [*args, "train.py"])
    assert res.returncode == 2 and words in res.stderr.decode()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_the_run_and_still_reports(tmp_path: Path) -> None:
    write(tmp_path, loop(n=10**9))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainlint", "trace", "--watch", "train.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # As from a terminal: an ignored SIGINT is inherited, and a library imported by an
        # earlier test of this process may have set it so (Python then never raises Ctrl-C).
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    seen = b""
    while b"watch: step" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    text = out.decode()
    assert "until interrupted (Ctrl-C)" in text, text + err.decode()
    assert "nothing found" in text
    assert proc.returncode == 0


def test_the_steps_after_the_last_audit_are_audited_when_the_script_ends(tmp_path: Path) -> None:
    source = loop(n=45, fault="if step == 44:\n    xb[0, 0] = float('nan')")
    report, _ = watch(tmp_path, source, "--audit-every", "20")
    assert [d["code"] for d in report["diagnostics"]] == ["TL901"]
    assert report["diagnostics"][0]["evidence"]["step"] == 44


def test_the_in_process_watcher_reads_the_configured_spike_factor(tmp_path: Path) -> None:
    from trainlint.config import Settings
    from trainlint.runtime.api import tracing
    from trainlint.runtime.records import WatchSettings

    source = loop(fault="if step == 200:\n    scale = 40.0")
    code = compile(source, str(tmp_path / "train.py"), "exec")
    reports = []
    for factor in (5.0, 100.0):
        with tracing(
            paths=[], settings=Settings(options={"TL918": {"spike_factor": factor}}), watch=WatchSettings()
        ) as r:
            exec(code, {"__name__": "__main__"})
        reports.append(r)
    assert [d.code for d in reports[0].diagnostics] == ["TL918"]
    assert reports[1].diagnostics == []  # a 40x jump is below a factor of 100
