"""Parent-side logic that needs no torch: how a run ended, exit codes, the merge, local imports."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any, List

from trainlint.diagnostics import Diagnostic, Severity, Span, Status
from trainlint.runtime.judging.evidence import Evidence
from trainlint.runtime.judging.merge import merge
from trainlint.runtime.judging.report import TraceReport
from trainlint.runtime.parent.static import project_files
from trainlint.runtime.records import (
    ExitStatus,
    ParamStep,
    Record,
    RunEnd,
    RunExit,
    RunStart,
    StartFailed,
    StepRecord,
    TracebackFrame,
)


def _evidence(records: List[Record], **fields: Any) -> Evidence:
    ev = Evidence()
    ev.extend(records)
    for key, value in fields.items():
        setattr(ev, key, value)
    return ev


START = RunStart(pid=1, steps=2, overfit=0)
STEP = StepRecord(
    step=1,
    optimizer=1,
    opt_step=1,
    backwards=1,
    grad_total=0.5,
    lr=[0.1],
    params=[ParamStep(i=0, grad=0.5, received=True, delta=0.01, w=1.0)],
    stale=[],
    checked_clear=0,
    losses=[1.1],
)


def _suspicion(code: str, path: str = "train.py", line: int = 3) -> Diagnostic:
    return Diagnostic(code, "x", Severity.ERROR, "suspicion", path, Span(line, 1, line, 10))


def _tl003(ev: Evidence) -> Diagnostic:
    found = [d for d in merge([], ev, "train.py") if d.code == "TL003"]
    assert len(found) == 1
    assert found[0].status == Status.CONFIRMED
    return found[0]


def test_how_the_run_ended_becomes_tl003():
    crashed = _evidence([START, STEP], returncode=-signal.SIGSEGV)
    assert crashed.stop_reason() == "crashed"
    assert "SIGSEGV" in _tl003(crashed).message and "after 1 of 2" in _tl003(crashed).message
    abrupt = _evidence([START, STEP], returncode=0)
    assert "ended abruptly" in _tl003(abrupt).message
    timeout = _evidence([START], returncode=-signal.SIGKILL, timed_out=True)
    assert "did not reach 2 step(s) within 300 s" in _tl003(timeout).message
    exited = _evidence([START, RunExit(status=ExitStatus.EXIT, code=3), RunEnd()])
    assert "status 3" in _tl003(exited).message
    frames = [TracebackFrame(path="/abs/train.py", line=12, function="<module>", code="raise")]
    raised = _evidence(
        [START, RunExit(status=ExitStatus.ERROR, error_type="KeyError", message="'x'", frames=frames), RunEnd()]
    )
    d = _tl003(raised)
    assert "KeyError" in d.message and d.line == 12


def test_normal_end_and_requested_stop_are_not_errors():
    for status in ("stopped", "finished"):
        ev = _evidence([START, STEP, RunExit(status=status, code=0), RunEnd()])
        assert not [d for d in merge([], ev, "train.py") if d.code == "TL003"]


def test_exit_codes():
    not_started = TraceReport(evidence=_evidence([StartFailed(message="SyntaxError")]))
    assert not_started.exit_code == 2
    ok = _evidence([START, STEP, RunExit(status=ExitStatus.STOPPED, code=0), RunEnd()])
    refuted = _suspicion("TL102")
    report = TraceReport(evidence=ok, diagnostics=merge([refuted], ok, "train.py"))
    assert [d.status for d in report.diagnostics] == [Status.REFUTED]
    assert report.exit_code == 0, "every suspicion refuted and nothing observed"
    unreached = _suspicion("TL105")
    report = TraceReport(evidence=ok, diagnostics=merge([unreached], ok, "train.py"))
    assert [d.status for d in report.diagnostics] == [Status.UNVERIFIED]
    assert report.exit_code == 1, "an unverified suspicion is still a suspicion"


def test_unreached_findings_stay_with_a_reason_and_json_keeps_the_contract():
    ev = _evidence([START, RunExit(status=ExitStatus.FINISHED, code=0), RunEnd()])
    diags = merge([_suspicion("TL101"), _suspicion("TL207")], ev, "train.py")
    assert [d.status for d in diags] == [Status.UNVERIFIED, Status.UNVERIFIED]
    reasons = {d.code: d.evidence["reason"] for d in diags}
    assert "never reached a training step" in reasons["TL101"]
    assert "no runtime check" in reasons["TL207"]
    data = json.loads(TraceReport(evidence=ev, diagnostics=diags, target="train.py").to_json())
    assert set(data) >= {"version", "diagnostics", "summary", "trace"}
    assert data["summary"]["by_status"]["unverified"] == 2
    assert {d["status"] for d in data["diagnostics"]} == {"unverified"}


def test_local_imports_are_found_without_importing(tmp_path: Path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "layers.py").write_text("from . import blocks\nraise SystemExit('never imported')\n")
    (tmp_path / "pkg" / "blocks.py").write_text("X = 1\n")
    (tmp_path / "models.py").write_text("import pkg.layers\n")
    (tmp_path / "train.py").write_text("import os\nimport torch\nimport models\nfrom pkg import layers\n")
    monkeypatch.chdir(tmp_path)
    files = project_files("train.py")
    assert files[0] == "train.py"
    assert set(files) == {"train.py", "models.py", "pkg/__init__.py", "pkg/layers.py", "pkg/blocks.py"}


def test_parameters_held_by_no_optimizer_are_not_claimed_after_a_wait_for_evaluation():
    # A pretraining loop's optimizer was seen; the model trained afterwards, while the run was
    # only watching forward passes for an evaluation, has an optimizer the run never saw.
    from trainlint.rules.runtime.tl908_parameter_not_updated import findings_tl908
    from trainlint.runtime.judging.context import Ctx
    from trainlint.runtime.records import (
        EvalWait,
        ForwardPasses,
        ModelParam,
        ModelParams,
        OptimizerParams,
        ParamInfo,
        PassCount,
    )

    def evidence(waited: bool) -> Evidence:
        records: List[Record] = [
            START,
            OptimizerParams(optimizer=1, name="Adam", site=None, lr=[1e-3], params=[ParamInfo(i=0, name="Teacher.w")]),
            STEP,
            ModelParams(model="Student", params=[ModelParam("Student.w", True)], site=None, has_drop_or_norm=False),
            ForwardPasses(
                model="Student", has_drop_or_norm=False, counts=[PassCount(kind="train", training=True, count=3)]
            ),
        ]
        if waited:
            records.insert(3, EvalWait(steps=2, max_steps=200))
        return _evidence(records)

    unseen = [d for d in findings_tl908(Ctx(evidence(waited=False), "train.py")) if "held by no optimizer" in d.message]
    assert len(unseen) == 1 and "Student.w" in unseen[0].message
    assert not [
        d for d in findings_tl908(Ctx(evidence(waited=True), "train.py")) if "held by no optimizer" in d.message
    ]
