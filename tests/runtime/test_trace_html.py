"""`trainlint trace --report FILE`: the HTML page of a trace, its sections, escaping and links,
the CLI's writing of it, and the page rendered by a real browser (headless Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import Any, List, Optional

import pytest

from tests.runtime.tracer_helpers import REPO, run_cli, script, trace_inline
from trainlint.runtime.judging.report import TraceReport
from trainlint.runtime.records import LrFindPoint, LrFindStart, ParamStep, RunStart, StepRecord

pytest.importorskip("torch")

SECTION_IDS = ("loss", "grad-norms", "activations", "update-ratios", "lr-find", "findings")

# A model whose first layer is named `<b>` (a module name is the user's text) and whose last
# layer is a sigmoid squashed into saturation: the report must escape the one and plot the other.
SOURCE = script(
    """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("<b>", nn.Linear(8, 16))
            self.act = nn.ReLU()
            self.out = nn.Linear(16, 1)
            self.squash = nn.Sigmoid()

        def forward(self, x):
            h = self.act(getattr(self, "<b>")(x))
            return self.squash(self.out(h) * 1000.0)

    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(6):
        x, y = torch.randn(32, 8), torch.rand(32, 1)
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    """
)


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return trace_inline(tmp_path_factory.mktemp("html"), SOURCE, steps=4)


@pytest.fixture(scope="module")
def page(traced: Any) -> str:
    return str(traced.render("html"))


def _section(page: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert m, sid
    return m.group(1)


def test_every_section_is_present_with_its_plot(page: str) -> None:
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in page
    for sid in ("loss", "grad-norms", "update-ratios"):
        assert "<svg" in _section(page, sid), sid
    assert "log10 gradient norm" in _section(page, "grad-norms")  # the heat map's colour legend
    activations = _section(page, "activations")
    for column in ("output mean", "output std", "fraction zero", "fraction saturated"):
        assert column in activations
    # No range test ran: the section says so rather than being left out.
    assert "not collected" in _section(page, "lr-find")


def test_user_text_is_escaped(page: str) -> None:
    assert "&lt;b&gt;" in page
    assert "<b>.weight" not in page and "<b>" not in page.replace("<b>trainlint", "")


def test_the_page_fetches_nothing(page: str) -> None:
    assert "http" not in page.lower()
    assert "<script" not in page and "src=" not in page and "@import" not in page


def test_each_finding_links_to_the_plot_of_its_evidence(traced: Any, page: str) -> None:
    assert "TL905" in traced.codes(), traced.codes()  # the saturated sigmoid
    finding = re.search(r'id="(finding-\d+)"><div><span class="badge">TL905</span>.*?</p></div>', page, re.S)
    assert finding, "no TL905 finding on the page"
    assert '<a href="#activations">' in finding.group(0)
    # ... and the plot links back to it.
    assert f'<a href="#{finding.group(1)}">TL905' in _section(page, "activations")


def test_a_range_test_page_plots_the_curve_and_says_what_was_not_collected() -> None:
    from trainlint.runtime.judging.evidence import Evidence
    from trainlint.runtime.judging.lr_find import range_test
    from trainlint.runtime.records import LrFindOptimizer, LrFindSteps, RunEnd, RunExit, TracerStopped

    ev = Evidence()
    lrs = [1e-6 * 1.25**k for k in range(60)]
    losses = [2.0 - 1.5 * k / 60 if k < 50 else 2.0 + (k - 50) for k in range(60)]
    points = [
        LrFindPoint(step=k + 1, lr=lr, loss=v, smoothed=v, seconds=0.01) for k, (lr, v) in enumerate(zip(lrs, losses))
    ]
    ev.extend(
        [
            RunStart(pid=1, steps=60, overfit=0),
            LrFindStart(min_lr=1e-6, max_lr=1e-1, steps=60, beta=0.8, divergence_factor=4.0),
            LrFindOptimizer(
                optimizer=1, name="SGD", site=None, configured=[0.5], initial=[], scale=[1.0], reference=True
            ),
            LrFindSteps(points=points),
            TracerStopped(reason="diverged", steps=60, backwards=60),
            RunExit(status="stopped"),
            RunEnd(),
        ]
    )
    report = TraceReport(evidence=ev, target="train.py", steps_requested=60)
    report.range_test = range_test(ev)
    page = report.render("html")
    lr = _section(page, "lr-find")
    assert "<svg" in lr and "learning rate (log scale)" in lr
    assert "the script&#x27;s lr 0.5" in lr
    if report.range_test is not None and report.range_test.suggestion is not None:
        assert "suggested range" in lr
    for sid in ("grad-norms", "activations", "update-ratios"):
        assert "not collected" in _section(page, sid)


def test_many_layers_and_steps_are_thinned_with_a_note() -> None:
    from trainlint.runtime.judging.evidence import Evidence
    from trainlint.runtime.records import OptimizerParams, ParamInfo

    n_params, n_steps = 450, 150
    ev = Evidence()
    params = [
        ParamInfo(i=i, name=f"layers.{i}.weight", module=f"layers.{i}", weighted=i % 2 == 0, order=i)
        for i in range(n_params)
    ]
    ev.extend(
        [
            RunStart(pid=1, steps=n_steps, overfit=0),
            OptimizerParams(optimizer=1, name="SGD", site=None, lr=[0.1], params=params),
        ]
    )
    for s in range(1, n_steps + 1):
        ev.add(
            StepRecord(
                step=s, optimizer=1, opt_step=s, backwards=1, grad_total=1.0, lr=[0.1],
                params=[ParamStep(i=i, grad=10.0 ** (-i / 50), received=True, delta=1e-3, w=1.0) for i in range(n_params)],
                stale=[], checked_clear=0, losses=[1.0 / s],
            )
        )  # fmt: skip
    page = TraceReport(evidence=ev, target="big.py", steps_requested=n_steps).render("html")
    grads = _section(page, "grad-norms")
    assert "450 parameters" in grads and "each column is 2 consecutive steps" in grads
    assert grads.count("<rect") < 200 * 100 + 100


def test_the_cli_writes_the_report_and_says_where(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SOURCE)
    res = run_cli(tmp_path, ["train.py", "--steps", "2", "-q", "--report", "out/report.html"])
    assert res.returncode == 2 and b"no such folder" in res.stderr  # checked before the run
    (tmp_path / "out").mkdir()
    res = run_cli(tmp_path, ["train.py", "--steps", "2", "-q", "--report", "out/report.html"])
    assert res.returncode == 1, res.stderr.decode()
    assert res.stdout.decode().rstrip().endswith("html report written to out/report.html")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert all(f'id="{sid}"' in html for sid in SECTION_IDS)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.html"]  # no temporary file left


def test_the_help_documents_the_flag() -> None:
    from click.testing import CliRunner

    from trainlint.runtime.parent.command import trace

    out = CliRunner().invoke(trace, ["--help"]).output
    assert "--report FILE" in out
    assert "[--report FILE]" in (REPO / "README.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------- a real browser
def _chromium() -> Optional[str]:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _png_pixels(data: bytes) -> List[bytes]:
    """The rows of an 8-bit RGB(A) PNG, unfiltered (filters other than None kept as is: the
    count of distinct raw rows and bytes is what the test needs, not exact pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = len(raw) // max(height, 1)
    assert width > 0 and height > 0
    return [raw[r * stride + 1 : (r + 1) * stride] for r in range(height)]


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH (CI installs Debian's chromium)")
def test_the_page_renders_in_headless_chromium(page: str, tmp_path: Path) -> None:
    browser = _chromium()
    assert browser is not None
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    common = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    res = subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1200,2000", "--enable-logging=stderr", "--v=0", path.as_uri()],
        capture_output=True,
        timeout=120,
    )
    log = res.stderr.decode(errors="replace")
    assert shot.is_file() and shot.stat().st_size > 10_000, log[-2000:]
    rows = _png_pixels(shot.read_bytes())
    assert len({bytes(r) for r in rows}) > 50  # not a blank page: many different rows
    assert len(set(b"".join(rows[:400]))) > 20  # ... with many different byte values
    # The page's console: Chromium logs its messages as `CONSOLE(...)` lines.
    console = [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not [line for line in console if "rror" in line or "Uncaught" in line], console
    dom = subprocess.run([*common, "--dump-dom", path.as_uri()], capture_output=True, timeout=120)
    text = dom.stdout.decode(errors="replace")
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in text, sid
