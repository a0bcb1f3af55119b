"""`trace --lr-find`: the learning-rate range test, its suggested range and TL914.

Most scripts run in this process under `tracing(lr_find=...)` (the same child-side code as the
traced process); one test goes through the command line and its JSON.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, List, Optional

import pytest

torch = pytest.importorskip("torch")

from tests.runtime.tracer_helpers import marker_line, only, run_cli, script, settings, write  # noqa: E402
from trainlint.diagnostics import Diagnostic, Span, Status  # noqa: E402
from trainlint.registry import RULES  # noqa: E402
from trainlint.runtime.judging import lr_find  # noqa: E402
from trainlint.runtime.judging.evidence import Evidence  # noqa: E402
from trainlint.runtime.judging.merge import merge  # noqa: E402
from trainlint.runtime.records import (  # noqa: E402
    LrFindOptimizer,
    LrFindPoint,
    LrFindSettings,
    LrFindStart,
    LrFindSteps,
)

# A regression MLP on fixed synthetic data, `{loop}` batches per run; `{opt}` is its optimizer.
REGRESSION = """\
x = torch.randn(512, 8)
y = x @ torch.randn(8, 1) + 0.1 * torch.randn(512, 1)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = {opt}  # <- optimizer
{extra}
for step in range({loop}):
    i = (step * 32) % 512
    optimizer.zero_grad()
    loss = F.mse_loss(model(x[i : i + 32]), y[i : i + 32])
    loss.backward()
    optimizer.step()
{after}
"""


def regression(
    opt: str = "torch.optim.SGD(model.parameters(), lr=0.01)", loop: int = 500, extra: str = "", after: str = ""
) -> str:
    return script(REGRESSION.format(opt=opt, loop=loop, extra=extra, after=after))


def range_test_inline(
    tmp_path: Path, source: str, test: LrFindSettings, static: bool = False, select: Optional[List[str]] = None
) -> Any:
    """Run `source` in this process under a range test; `static`: check it statically too."""
    from trainlint.runtime.api import tracing

    path = write(tmp_path, source)
    code = compile(source, str(path), "exec")
    argv = sys.argv
    sys.argv = [str(path)]
    namespace = {"__name__": "__main__", "__file__": str(path)}
    try:
        with tracing(paths=[str(path)] if static else [], settings=settings(select), lr_find=test) as report:
            exec(code, namespace)
    finally:
        sys.argv = argv
    report.namespace = namespace
    return report


def points(report: Any) -> List[LrFindPoint]:
    return list(report.evidence.lr_points)


# ---------------------------------------------------------------------- the schedule
def test_rates_rise_geometrically_from_min_to_max(tmp_path: Path) -> None:
    # Rates low enough that nothing diverges: the test runs its 20 steps.
    report = range_test_inline(tmp_path, regression(), LrFindSettings(min_lr=1e-6, max_lr=1e-3, steps=20))
    pts = points(report)
    assert [p.step for p in pts] == list(range(1, 21))
    lrs = [p.lr for p in pts]
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == pytest.approx(1e-3)
    ratios = [b / a for a, b in zip(lrs, lrs[1:])]
    assert max(ratios) == pytest.approx(min(ratios)) == pytest.approx(1000 ** (1 / 19))
    rt = report.range_test
    assert rt.stopped == "steps" and report.outcome == "stopped"
    assert all(isinstance(p.loss, float) and p.smoothed is not None for p in pts)


def test_the_smoothed_loss_is_a_bias_corrected_ema(tmp_path: Path) -> None:
    report = range_test_inline(tmp_path, regression(), LrFindSettings(min_lr=1e-6, max_lr=1e-4, steps=12))
    beta = report.range_test.start.beta
    assert beta == lr_find_beta(12)
    avg, expected = 0.0, []
    for k, p in enumerate(points(report), start=1):
        avg = beta * avg + (1 - beta) * float(p.loss)
        expected.append(avg / (1 - beta**k))
    assert [p.smoothed for p in points(report)] == pytest.approx(expected)


def lr_find_beta(steps: int) -> float:
    from trainlint.runtime.child.lr_find import smoothing_beta

    return smoothing_beta(steps)


def test_beta_suits_the_length_of_the_run() -> None:
    assert lr_find_beta(100) == pytest.approx(0.8)
    assert lr_find_beta(10) == 0.5 and lr_find_beta(5000) == 0.98


def test_the_test_stops_once_the_loss_diverges(tmp_path: Path) -> None:
    report = range_test_inline(tmp_path, regression(), LrFindSettings(min_lr=1e-4, max_lr=100.0, steps=60))
    pts = points(report)
    rt = report.range_test
    assert rt.stopped == "diverged" and len(pts) < 60
    assert rt.divergence_lr == pts[-1].lr
    last = pts[-1].smoothed
    best = min(float(p.smoothed) for p in pts[:-1])
    assert isinstance(last, str) or last > 4 * best  # non-finite, or above 4x the minimum
    assert report.evidence.stop.reason == "diverged"
    s = rt.suggestion
    assert s is not None and s.divergence_tenth == pytest.approx(rt.divergence_lr / 10)
    assert s.low <= s.high and s.low in (s.steepest, s.divergence_tenth)
    text = report.render("text")
    assert "the range test stopped when the loss diverged" in text and "suggested lr:" in text


def test_a_non_finite_loss_stops_the_test_at_once(tmp_path: Path) -> None:
    source = regression(after="")
    source = source.replace(
        "loss.backward()", "loss = loss * (float('nan') if step == 12 else 1.0)\n    loss.backward()"
    )
    report = range_test_inline(tmp_path, source, LrFindSettings(min_lr=1e-6, max_lr=1e-4, steps=40))
    pts = points(report)
    assert len(pts) == 13 and pts[-1].loss == "nan"
    assert report.range_test.stopped == "diverged"


# ---------------------------------------------------------------------- what it must handle
def test_the_tests_rate_replaces_the_schedulers(tmp_path: Path) -> None:
    # A scheduler that divides the rate by 10 at every step: the test's rate wins at each step.
    source = script(
        """\
        seen = []

        class Recording(torch.optim.SGD):
            def step(self, closure=None):
                seen.append(self.param_groups[0]["lr"])
                return super().step(closure)

        x, y = torch.randn(256, 8), torch.randn(256, 1)
        model = nn.Linear(8, 1)
        optimizer = Recording(model.parameters(), lr=0.5)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)
        for step in range(100):
            optimizer.zero_grad()
            F.mse_loss(model(x), y).backward()
            optimizer.step()
            scheduler.step()
        """
    )
    report = range_test_inline(tmp_path, source, LrFindSettings(min_lr=1e-5, max_lr=1e-2, steps=15))
    pts = points(report)
    assert len(pts) == 15
    assert report.namespace["seen"] == pytest.approx([p.lr for p in pts])
    opt = report.range_test.reference
    assert opt.configured == [0.5] and opt.initial == [0.5]  # read before the first replacement
    assert any("scheduler was overridden" in n for n in report.all_notes())


def test_several_optimizers_are_scaled_together(tmp_path: Path) -> None:
    source = script(
        """\
        seen = {"a": [], "b": []}

        def recording(name):
            class Recording(torch.optim.SGD):
                def step(self, closure=None):
                    seen[name].append([g["lr"] for g in self.param_groups])
                    return super().step(closure)
            return Recording

        x, y = torch.randn(256, 8), torch.randn(256, 1)
        encoder, head = nn.Linear(8, 16), nn.Linear(16, 1)
        opt_a = recording("a")(encoder.parameters(), lr=0.01)
        opt_b = recording("b")([{"params": [head.weight]}, {"params": [head.bias], "lr": 0.5}], lr=0.1)
        for step in range(100):
            opt_a.zero_grad()
            opt_b.zero_grad()
            F.mse_loss(head(torch.relu(encoder(x))), y).backward()
            opt_a.step()
            opt_b.step()
        """
    )
    report = range_test_inline(tmp_path, source, LrFindSettings(min_lr=1e-5, max_lr=1e-3, steps=12))
    pts = points(report)
    assert len(pts) == 12
    seen = report.namespace["seen"]
    for p, a, b in zip(pts, seen["a"], seen["b"]):
        assert a == pytest.approx([p.lr])
        assert b == pytest.approx([10 * p.lr, 50 * p.lr])  # the ratios the script set, kept
    rt = report.range_test
    assert [o.name for o in rt.optimizers] == ["Recording", "Recording"]
    assert [o.reference for o in rt.optimizers] == [True, False]
    assert rt.optimizers[1].scale == pytest.approx([10.0, 50.0])
    assert any("scaled together" in n for n in report.all_notes())


def test_a_closure_optimizer_and_a_step_that_raised_once(tmp_path: Path) -> None:
    # LBFGS runs its backward passes inside step(); one step raises and the script goes on.
    source = script(
        """\
        x, y = torch.randn(128, 8), torch.randn(128, 1)
        model = nn.Linear(8, 1)
        optimizer = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=3)

        def closure():
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            return loss

        for step in range(60):
            if step == 3:
                try:
                    optimizer.step(lambda: 1 / 0)
                except ZeroDivisionError:
                    pass
            optimizer.step(closure)
        """
    )
    report = range_test_inline(tmp_path, source, LrFindSettings(min_lr=1e-4, max_lr=1e-2, steps=15))
    pts = points(report)
    assert len(pts) == 15  # the failed step is not one; the steps after it still are
    assert all(isinstance(p.loss, float) for p in pts)
    lrs = [p.lr for p in pts]
    assert lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(1e-2)


def test_a_grad_scaler_loss_is_recorded_unscaled(tmp_path: Path) -> None:
    source = regression(
        extra="scaler = torch.amp.GradScaler('cpu', init_scale=1024.0)",
    ).replace(
        "    loss.backward()\n    optimizer.step()",
        "    scaler.scale(loss).backward()\n    scaler.step(optimizer)\n    scaler.update()",
    )
    report = range_test_inline(tmp_path, source, LrFindSettings(min_lr=1e-6, max_lr=1e-4, steps=12))
    pts = points(report)
    assert len(pts) == 12
    first = float(pts[0].loss)
    assert 0.1 < first < 50  # an MSE of this data, not 1024 times it
    assert any("GradScaler" in n for n in report.all_notes())


def test_a_script_that_ends_early_is_reported_with_what_it_gave(tmp_path: Path) -> None:
    report = range_test_inline(tmp_path, regression(loop=25), LrFindSettings(min_lr=3e-3, max_lr=3.0, steps=50))
    rt = report.range_test
    assert len(points(report)) == 25 and rt.stopped == "script ended"
    assert report.outcome == "finished"
    assert any("ended after 25 of 50" in n for n in report.all_notes())
    assert rt.suggestion is not None  # 25 points are enough


def test_too_few_steps_give_no_suggestion_and_say_why(tmp_path: Path) -> None:
    report = range_test_inline(tmp_path, regression(loop=5), LrFindSettings(min_lr=1e-4, max_lr=1.0, steps=50))
    rt = report.range_test
    assert rt.suggestion is None and "only 5 step(s)" in rt.why_none
    data = report.to_dict()["trace"]["lr_find"]
    assert data["suggested"] is None and "only 5 step(s)" in data["message"]
    assert "no suggested range: only 5 step(s)" in report.render("text")
    assert report.find("TL914") == []


def test_a_loss_that_never_falls_gives_no_suggestion(tmp_path: Path) -> None:
    # Rates far too small to move anything: the curve is flat.
    report = range_test_inline(tmp_path, regression(), LrFindSettings(min_lr=1e-12, max_lr=1e-10, steps=20))
    rt = report.range_test
    assert rt.suggestion is None and "never fell" in rt.why_none


# ---------------------------------------------------------------------- TL914 and TL501
def test_tl914_fires_far_above_the_range_and_confirms_tl501(tmp_path: Path) -> None:
    source = regression(opt="torch.optim.Adam(model.parameters(), lr=5.0)")
    report = range_test_inline(
        tmp_path, source, LrFindSettings(min_lr=1e-6, max_lr=10.0, steps=80), static=True, select=["TL501", "TL914"]
    )
    finding = only(report, "TL914")
    assert finding.status == Status.CONFIRMED
    assert "above the range" in finding.message and "This confirms TL501" in finding.message
    assert finding.evidence["configured_lr"] == 5.0
    assert finding.evidence["times_outside"] > 10
    assert finding.evidence["confirms"].startswith("TL501 at ")
    assert finding.line == marker_line(source)
    tl501 = only(report, "TL501")
    assert tl501.status == Status.CONFIRMED
    assert tl501.evidence["runtime_finding"] == "TL914"
    assert tl501.evidence["observed"].startswith("range test: lr 5 is")


def test_a_good_rate_gives_no_tl914_and_refutes_a_tl501_suspicion(tmp_path: Path) -> None:
    source = regression(opt="torch.optim.Adam(model.parameters(), lr=0.03)")
    report = range_test_inline(tmp_path, source, LrFindSettings(min_lr=1e-6, max_lr=10.0, steps=80))
    assert report.find("TL914") == []
    rt = report.range_test
    assert rt.suggestion is not None
    cmp = lr_find.compare(rt, rt.reference)
    assert cmp is not None and not cmp.outside
    # A TL501 suspicion on the optimizer's line, made by hand, is refuted by the range test.
    path = Path(report.target)
    line = marker_line(source)
    suspicion = Diagnostic(
        "TL501", RULES["TL501"].name, RULES["TL501"].severity, "under test", str(path), Span(line, 1, line, 1)
    )
    judged = [d for d in merge([suspicion], report.evidence, str(path), settings()) if d.code == "TL501"]
    assert judged[0].status == Status.REFUTED
    assert "range test: lr 0.03 is" in judged[0].evidence["observed"]


def test_other_static_findings_stay_unverified_under_the_range_test(tmp_path: Path) -> None:
    report = range_test_inline(tmp_path, regression(), LrFindSettings(min_lr=1e-6, max_lr=1e-3, steps=12))
    suspicion = Diagnostic(
        "TL101", RULES["TL101"].name, RULES["TL101"].severity, "under test", report.target, Span(5, 1, 5, 1)
    )
    judged = merge([suspicion], report.evidence, report.target, settings())
    assert judged[0].status == Status.UNVERIFIED
    assert "--lr-find" in judged[0].evidence["reason"]
    assert report.checked == ["TL914"]


# ---------------------------------------------------------------------- the suggestion, on a known curve
def _evidence(curve: List[float], diverged: bool, decades: float = 6.0, steps: Optional[int] = None) -> Evidence:
    """A range test's records for a known curve (its smoothed loss is the curve itself), over
    rates from 1e-6 up `decades` decades in `steps` steps (default: as many as the curve)."""
    from trainlint.runtime.records import TracerStopped

    ev = Evidence()
    n = steps or len(curve)
    ev.add(LrFindStart(min_lr=1e-6, max_lr=1e-6 * 10**decades, steps=n, beta=0.5, divergence_factor=4.0))
    ev.add(
        LrFindOptimizer(optimizer=1, name="SGD", site=None, configured=[0.5], initial=[], scale=[1.0], reference=True)
    )
    lrs = [1e-6 * 10 ** (decades * k / (n - 1)) for k in range(len(curve))]
    pts = [
        LrFindPoint(step=k + 1, lr=lr, loss=v, smoothed=v, seconds=0.01) for k, (lr, v) in enumerate(zip(lrs, curve))
    ]
    ev.add(LrFindSteps(points=pts[:10]))  # sent in batches
    ev.add(LrFindSteps(points=pts[10:]))
    ev.add(TracerStopped(reason="diverged" if diverged else "steps", steps=len(curve), backwards=len(curve)))
    return ev


def test_steepest_descent_and_a_tenth_of_the_divergence_point() -> None:
    # A loss that is flat, falls fastest at lr 1e-3 (log10 = -3), bottoms out, then diverges.
    n = 61
    logs = [-6 + 6 * k / (n - 1) for k in range(n)]
    curve = [2.0 - 1.5 / (1 + math.exp(-3 * (x + 3))) for x in logs]
    curve = curve[:52] + [9.0]  # diverges at the 53rd point
    rt = lr_find.range_test(_evidence(curve, diverged=True, steps=n))
    s = rt.suggestion
    assert s is not None
    assert math.log10(s.steepest) == pytest.approx(-3.0, abs=0.15)
    assert rt.divergence_lr == pytest.approx(10 ** logs[52])
    assert s.divergence_tenth == pytest.approx(10 ** logs[52] / 10)
    assert (s.low, s.high) == (min(s.steepest, s.divergence_tenth), max(s.steepest, s.divergence_tenth))
    cmp = lr_find.compare(rt, rt.reference)
    assert cmp is not None and cmp.side in ("above", "near", "inside")


def test_without_divergence_a_tenth_of_the_minimums_rate_bounds_the_range() -> None:
    n = 41
    curve = [2.0 - k / n for k in range(n)]  # still falling at the last rate
    rt = lr_find.range_test(_evidence(curve, diverged=False))
    s = rt.suggestion
    assert s is not None and s.divergence_tenth is None
    assert s.minimum == pytest.approx(1.0) and s.high == pytest.approx(max(s.steepest, 0.1))


# ---------------------------------------------------------------------- the command line and its JSON
def test_cli_lr_find_json(tmp_path: Path) -> None:
    write(tmp_path, regression(opt="torch.optim.SGD(model.parameters(), lr=40.0)", loop=400))
    proc = run_cli(
        tmp_path,
        ["--lr-find", "--lr-min", "1e-5", "--lr-max", "100", "--steps", "60", "-q", "--format", "json", "train.py"],
    )
    assert proc.returncode == 1, proc.stderr.decode()
    data = json.loads(proc.stdout)
    lf = data["trace"]["lr_find"]
    assert {"min_lr", "max_lr", "steps", "suggested", "configured", "curve", "stopped"} <= set(lf)
    assert set(lf["suggested"]) >= {"steepest", "divergence_tenth", "low", "high"}
    assert lf["min_lr"] == 1e-5 and lf["max_lr"] == 100 and lf["steps"] == 60
    assert lf["configured"] == 40.0 and lf["stopped"] == "diverged"
    assert all(len(row) == 3 for row in lf["curve"]) and len(lf["curve"]) == lf["steps_done"]
    assert lf["optimizers"][0]["where"] == "train.py:8"
    assert [d["code"] for d in data["diagnostics"] if d["status"] == "confirmed"] == ["TL914"]


def test_cli_refuses_what_a_range_test_cannot_do(tmp_path: Path) -> None:
    write(tmp_path, regression())
    for args in (["--lr-min", "1", "--lr-max", "0.1"], ["--overfit-batch", "5"], ["--nproc-per-node", "2"]):
        proc = run_cli(tmp_path, ["--lr-find", *args, "train.py"])
        assert proc.returncode == 2 and b"--lr" in proc.stderr, proc.stderr


def test_a_tensor_rate_is_set_in_place(tmp_path: Path) -> None:
    source = regression(opt="torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01), foreach=False)")
    report = range_test_inline(tmp_path, source, LrFindSettings(min_lr=1e-5, max_lr=1e-3, steps=12))
    pts = points(report)
    assert len(pts) == 12
    group = report.namespace["optimizer"].param_groups[0]
    assert isinstance(group["lr"], torch.Tensor) and float(group["lr"]) == pytest.approx(pts[-1].lr)
    assert report.range_test.reference.configured == [pytest.approx(0.01)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_with_autocast_and_a_grad_scaler(tmp_path: Path) -> None:
    source = script(
        """\
        device = "cuda"
        x = torch.randn(512, 8, device=device)
        y = x @ torch.randn(8, 1, device=device)
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1)).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=5.0)
        scaler = torch.amp.GradScaler("cuda")
        for step in range(500):
            i = (step * 32) % 512
            optimizer.zero_grad()
            with torch.autocast("cuda", dtype=torch.float16):
                loss = F.mse_loss(model(x[i : i + 32]).float(), y[i : i + 32])
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        """
    )
    report = range_test_inline(tmp_path, source, LrFindSettings(min_lr=1e-6, max_lr=10.0, steps=80))
    pts = points(report)
    assert len(pts) >= 20 and 0.01 < float(pts[0].loss) < 100  # unscaled
    assert report.range_test.suggestion is not None
    assert only(report, "TL914").status == Status.CONFIRMED
