"""Python API of the tracer.

    from trainlint.runtime.api import tracing, trace_script

    report = trace_script("train.py", argv=["--epochs", "1"], steps=2)   # runs in a child process
    with tracing(steps=2) as report:                                     # traces this process
        train(model, loader)
    print(report.render("text"))

    report = trace_script("train.py", lr_find=LrFindSettings(1e-7, 10, 100))  # a range test

Importing this module does not import torch; `tracing()` does: it runs the traced side
(`runtime/child`) in this process, where `trace_script` starts it in a child process.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from contextlib import contextmanager
from typing import IO, Any, Callable, Iterable, Iterator, List, Optional, Sequence, Union

from trainlint.runtime.judging import lr_find as range_tests
from trainlint.runtime.judging import thresholds
from trainlint.runtime.judging.evidence import Evidence
from trainlint.runtime.judging.merge import merge
from trainlint.runtime.judging.ranks import merge_ranks
from trainlint.runtime.judging.registry import EVAL_WAIT_STEPS, needs_eval_pass, runtime_checks
from trainlint.runtime.judging.report import TraceReport
from trainlint.runtime.parent import static
from trainlint.runtime.parent.runner import Target, run_child, run_ranks
from trainlint.runtime.records import (
    ChildConfig,
    ExitStatus,
    LrFindSettings,
    Record,
    RunEnd,
    RunExit,
    RunStart,
    WatchSettings,
)


def _settings(settings: Any, select: Optional[Iterable[str]], ignore: Optional[Iterable[str]]) -> Any:
    if settings is not None:
        return settings
    try:
        from trainlint.config import apply_cli, load_settings
    except ImportError:
        return None
    return apply_cli(load_settings(), list(select) if select else None, list(ignore) if ignore else None)


def _enabled(settings: Any) -> Optional[set]:
    fn = getattr(settings, "enabled_codes", None)
    return set(fn()) if fn is not None else None


# What the run watcher looks for (`trace --watch`).
WATCH_CHECKS = ("TL901", "TL903", "TL912", "TL918")


def _checked(settings: Any, lr_find: bool = False, watch: bool = False) -> List[str]:
    enabled = _enabled(settings)
    return [
        code
        for code, _ in runtime_checks()
        if (enabled is None or code in enabled)
        and (not lr_find or code in range_tests.CHECKS)
        and (not watch or code in WATCH_CHECKS)
    ]


def _watch_options(watch: WatchSettings, settings: Any) -> WatchSettings:
    """The watcher's settings with the configured threshold of TL918 (`spike_factor`)."""
    o = thresholds.rule_options("TL918", settings)
    return dataclasses.replace(watch, spike_factor=float(o.get("spike_factor", watch.spike_factor)))


def _read_update_band(report: TraceReport, settings: Any) -> None:
    o = thresholds.rule_options("TL909", settings)
    low, high = report.update_band
    report.update_band = (float(o.get("min_ratio", low)), float(o.get("max_ratio", high)))


def _read_range_test(report: TraceReport, settings: Any) -> None:
    """A `--lr-find` run: the range test read back for the report's text and JSON."""
    o = thresholds.rule_options("TL914", settings)
    report.range_factor = float(o.get("outside_factor", range_tests.OUTSIDE_FACTOR))
    report.range_test = range_tests.range_test(report.evidence, o)


def eval_wait_for(diags: Iterable[Any], eval_wait: int) -> int:
    """Steps to wait for an evaluation pass: only when a static suspicion is judged on one."""
    return eval_wait if any(needs_eval_pass(d.code) for d in diags) else 0


def run_trace(
    target: Target,
    steps: int = 2,
    timeout: float = 300.0,
    overfit: int = 0,
    settings: Any = None,
    run_static: bool = True,
    on_record: Optional[Callable[[Record], None]] = None,
    stdout: Optional[IO[Any]] = None,
    stderr: Optional[IO[Any]] = None,
    on_static_done: Optional[Callable[[List[str]], None]] = None,
    eval_wait: int = EVAL_WAIT_STEPS,
    nproc: int = 1,
    lr_find: Optional[LrFindSettings] = None,
    seed: Optional[int] = 0,
    watch: Optional[WatchSettings] = None,
) -> TraceReport:
    """Static check, then the instrumented run in a child process, then the merge. With
    `nproc` > 1, that many ranks run at once, each with the environment torchrun gives a
    worker, and their verdicts are merged into one report.

    With `watch`, the script runs to its end (or until Ctrl-C, or the first alert of
    `watch.stop_codes`) under the run watcher's sampled audits, and only what it saw is
    reported.

    `seed` seeds `random`, numpy and torch in the child before the script starts (None: not
    at all), so that two traces of a script can be compared (`--baseline`).

    With `lr_find`, the child runs a learning-rate range test instead of the instrumented
    steps (one process only): `lr_find.steps` steps, the report's `range_test` reads it back,
    and TL914 compares the script's rate with it.

    When a static suspicion can only be judged on an evaluation pass (TL403-TL405) and none ran
    within `steps`, the run goes on for up to `eval_wait` more optimizer steps (and half the
    timeout) watching forward passes only; 0 turns this off.
    """
    entry = target.script or (static.module_entry(target.module) if target.module else None)
    files: List[str] = []
    diags = []
    if run_static and entry and os.path.isfile(entry):
        files = static.project_files(entry, settings)
        diags = static.check(files, settings) if settings is not None else []
    if on_static_done is not None:
        on_static_done(files)
    steps = overfit or steps
    if watch is not None:
        if nproc > 1 or overfit or lr_find is not None:
            raise ValueError("the watcher runs one process on the script's own batches, to its end")
        steps, eval_wait = 0, 0
        watch = _watch_options(watch, settings)
    if lr_find is not None:
        if nproc > 1 or overfit:
            raise ValueError("the range test runs one process on the script's own batches")
        steps, eval_wait = lr_find.steps, 0
    config = ChildConfig(
        steps=steps,
        overfit=overfit,
        options=thresholds.all_options(settings),
        eval_wait=eval_wait_for(diags, eval_wait),
        eval_wait_seconds=timeout / 2,
        lr_find=lr_find,
        seed=seed,
        watch=watch,
    )
    shown = target.script or f"-m {target.module}"
    script = target.script or entry
    if nproc > 1:
        evidences = run_ranks(target, config, timeout, nproc, on_record=on_record, stdout=stdout, stderr=stderr)
        report = TraceReport(
            evidence=evidences[0], target=shown, steps_requested=steps, timeout=timeout, files=len(files)
        )
        for rank, ev in enumerate(evidences):
            ev.peers = [other for j, other in enumerate(evidences) if j != rank]
        per_rank = [merge(diags, ev, script, settings, steps, timeout, _enabled(settings)) for ev in evidences]
        report.diagnostics = merge_ranks(per_rank)
        report.checked = _checked(settings)
        _read_update_band(report, settings)
        report.ranks = [ev.stop_reason() for ev in evidences]
        report.notes.append(
            f"{nproc} ranks traced on this machine, each with the environment torchrun gives a worker "
            "(RANK, WORLD_SIZE, MASTER_ADDR...); the figures above are rank 0's, the findings are "
            "merged across ranks"
        )
        return report
    evidence = run_child(target, config, timeout, on_record=on_record, stdout=stdout, stderr=stderr)
    report = TraceReport(evidence=evidence, target=shown, steps_requested=steps, timeout=timeout, files=len(files))
    report.diagnostics = merge(diags, evidence, script, settings, steps, timeout, _enabled(settings))
    report.checked = _checked(settings, lr_find is not None, watch is not None)
    _read_update_band(report, settings)
    if lr_find is not None:
        _read_range_test(report, settings)
    if run_static and settings is None:
        report.notes.append("static checks skipped (no settings)")
    return report


def trace_script(
    path: str,
    argv: Sequence[str] = (),
    steps: int = 2,
    timeout: float = 300.0,
    overfit: int = 0,
    select: Optional[Iterable[str]] = None,
    ignore: Optional[Iterable[str]] = None,
    settings: Any = None,
    module: bool = False,
    run_static: bool = True,
    eval_wait: int = EVAL_WAIT_STEPS,
    lr_find: Optional[LrFindSettings] = None,
    seed: Optional[int] = 0,
) -> TraceReport:
    """Run a script (or, with `module=True`, a module) for `steps` optimizer steps under the
    tracer, or, with `lr_find`, for a learning-rate range test; `seed` as in `run_trace`."""
    target = Target(module=path, argv=list(argv)) if module else Target(script=path, argv=list(argv))
    return run_trace(
        target,
        steps=steps,
        timeout=timeout,
        overfit=overfit,
        settings=_settings(settings, select, ignore),
        run_static=run_static,
        eval_wait=eval_wait,
        lr_find=lr_find,
        seed=seed,
    )


@contextmanager
def tracing(
    steps: int = 2,
    stop: bool = True,
    overfit: int = 0,
    paths: Optional[Sequence[str]] = None,
    select: Optional[Iterable[str]] = None,
    ignore: Optional[Iterable[str]] = None,
    settings: Any = None,
    eval_wait: int = EVAL_WAIT_STEPS,
    lr_find: Optional[LrFindSettings] = None,
    watch: Optional[WatchSettings] = None,
) -> Iterator[TraceReport]:
    """Trace the code inside the `with` block, in this process.

    After `steps` optimizer steps the block is left (`stop=True`, the default) or tracing simply
    ends (`stop=False`). Every hook and wrapper is removed on exit. `paths` are checked
    statically and their findings judged against the run (default: the calling file).
    `eval_wait` is as for `run_trace`. With `lr_find`, the block runs a learning-rate range
    test instead (its steps are `lr_find.steps`); the model is left as the test left it,
    trained at rising rates, so build a fresh one to train for real. With `watch`, the block
    runs to its end under the run watcher (as `trace --watch` does).
    """
    from trainlint.runtime.child.lr_find import LrFinder
    from trainlint.runtime.child.sinks import ListSink
    from trainlint.runtime.child.tracer import TraceMode, Tracer, TraceStop
    from trainlint.runtime.child.watch import Watcher

    settings = _settings(settings, select, ignore)
    if paths is None:
        caller = sys._getframe(2).f_code.co_filename
        paths = [caller] if os.path.isfile(caller) else []
    diags = static.check(list(paths), settings) if paths and settings is not None else []
    sink = ListSink()
    mode = TraceMode.API if stop else TraceMode.API_PASSIVE
    tracer: Union[Tracer, LrFinder, Watcher]
    if watch is not None:
        tracer = Watcher(sink, _watch_options(watch, settings), mode=mode)
    elif lr_find is not None:
        tracer = LrFinder(sink, lr_find, options=thresholds.all_options(settings), mode=mode)
    else:
        tracer = Tracer(
            sink,
            steps=steps,
            overfit=overfit,
            options=thresholds.all_options(settings),
            mode=mode,
            eval_wait=eval_wait_for(diags, eval_wait),
        )
    report = TraceReport(
        target=", ".join(paths) if paths else "<in-process>", steps_requested=tracer.steps, files=len(paths)
    )
    import time

    started = time.monotonic()
    tracer.install()
    sink.emit(RunStart(pid=os.getpid(), steps=tracer.steps, overfit=overfit, in_process=True))
    status = ExitStatus.FINISHED
    try:
        yield report
    except TraceStop:
        status = ExitStatus.STOPPED
    except SystemExit as exc:
        status = ExitStatus.ERROR
        code = exc.code
        sink.emit(
            RunExit(
                status=ExitStatus.FINISHED if code in (None, 0) else ExitStatus.EXIT,
                code=code if isinstance(code, int) or code is None else str(code),
            )
        )
        raise
    except BaseException as exc:
        status = ExitStatus.ERROR
        from trainlint.runtime.child.sites import frames_of

        sink.emit(
            RunExit(
                status=ExitStatus.ERROR,
                error_type=type(exc).__name__,
                message=str(exc)[:2000],
                frames=frames_of(exc.__traceback__),
            )
        )
        raise
    finally:
        try:
            tracer.finish()
        finally:
            tracer.uninstall()
        if status != ExitStatus.ERROR:
            sink.emit(RunExit(status=ExitStatus.STOPPED if tracer.stopped else status, code=0))
        sink.emit(RunEnd())
        evidence = Evidence()
        evidence.extend(sink.records)
        evidence.duration = time.monotonic() - started
        report.evidence = evidence
        report.diagnostics = merge(
            diags, evidence, paths[0] if paths else None, settings, tracer.steps, 0.0, _enabled(settings)
        )
        _read_update_band(report, settings)
        if lr_find is not None:
            report.checked = _checked(settings, lr_find=True)
            _read_range_test(report, settings)
        if watch is not None:
            report.checked = _checked(settings, watch=True)
