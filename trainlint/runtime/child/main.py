"""The traced process: install the tracer, run the user's script as `__main__`, report how it ended.

Started by the parent's runner as `python -c <bootstrap>`; the records go back as JSON lines on a
file descriptor that is neither stdin, stdout nor stderr, so the script's own output is untouched.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional, Union

from trainlint.runtime.child.sinks import FdSink
from trainlint.runtime.records import (
    CONFIG_ENV,
    FD_ENV,
    PATH_ENV,
    ChildConfig,
    CodeSite,
    ExitStatus,
    RunEnd,
    RunExit,
    RunStart,
    StartFailed,
    StopReason,
    TracerError,
    TracerStopped,
)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def main() -> None:
    config = ChildConfig.from_json(os.environ.pop(CONFIG_ENV, "{}"))
    fd = int(os.environ.pop(FD_ENV))
    root = os.environ.pop(PATH_ENV, None)
    os.set_inheritable(fd, False)  # subprocesses the script starts must not hold the channel
    sink = FdSink(fd)
    if root and sys.path and sys.path[0] == root:
        sys.path.pop(0)
    code = run(config, sink)
    _flush()
    # Normal interpreter shutdown: atexit handlers run and DataLoader workers are joined. The
    # parent kills the process group if this hangs.
    sys.exit(code)


def _exec_script(script: str, source: bytes) -> None:
    """Run the file the way `python script.py` does: a fresh `__main__`, absolute `__file__`."""
    import builtins
    import types

    path = os.path.abspath(script)
    main = types.ModuleType("__main__")
    main.__dict__.update(
        __file__=path, __builtins__=builtins, __cached__=None, __package__=None, __spec__=None, __loader__=None
    )
    sys.modules["__main__"] = main
    exec(compile(source, path, "exec"), main.__dict__)


def _seed_everything(seed: int) -> None:
    """Seed the generators a script draws from, so that two traces of it can be compared; a
    script that seeds itself overrides this."""
    import random

    import torch

    random.seed(seed)
    torch.manual_seed(seed)  # (every CUDA device too)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass


def run(config: ChildConfig, sink: FdSink) -> int:
    from trainlint.runtime.child import sites

    sites.set_start_cwd(os.getcwd())
    script: Optional[str] = config.script
    module: Optional[str] = config.module
    argv: List[str] = list(config.argv)
    try:
        import torch  # noqa: F401  (the tracer needs it; report a clean failure if it is missing)
    except Exception as exc:
        sink.emit(StartFailed(message=f"cannot import torch: {exc}"))
        return 2
    source = b""
    if script is not None:
        try:
            with open(script, "rb") as handle:
                source = handle.read()
            compile(source, script, "exec")
        except SyntaxError as exc:
            sink.emit(
                StartFailed(
                    message=f"{script}:{exc.lineno}: SyntaxError: {exc.msg}",
                    site=CodeSite(sites.absolute(script), exc.lineno or 1),
                )
            )
            return 2
        except OSError as exc:
            sink.emit(StartFailed(message=f"cannot read {script}: {exc}"))
            return 2
        sys.argv = [script] + argv
        sys.path[0:1] = [os.path.dirname(os.path.abspath(script))]
    else:
        import importlib.util

        sys.path[0:1] = [os.getcwd()]
        try:
            spec = importlib.util.find_spec(module or "")
        except (ImportError, ValueError) as exc:
            spec = None
            err = str(exc)
        else:
            err = f"No module named {module!r}"
        if spec is None:
            sink.emit(StartFailed(message=err))
            return 2
        sys.argv = [spec.origin or module or ""] + argv

    from trainlint.runtime.child.lr_find import LrFinder
    from trainlint.runtime.child.tracer import TraceMode, Tracer, TraceStop
    from trainlint.runtime.child.watch import Watcher

    tracer: Union[Tracer, LrFinder, Watcher]
    if config.watch is not None:
        tracer = Watcher(sink, config.watch, mode=TraceMode.CHILD)
    elif config.lr_find is not None:
        tracer = LrFinder(sink, config.lr_find, options=config.options, mode=TraceMode.CHILD)
    else:
        tracer = Tracer(
            sink,
            steps=config.steps,
            overfit=config.overfit,
            options=config.options,
            mode=TraceMode.CHILD,
            eval_wait=config.eval_wait,
            eval_wait_seconds=config.eval_wait_seconds,
        )
    tracer.install()
    import torch as _torch

    if config.seed is not None:
        _seed_everything(config.seed)

    sink.emit(
        RunStart(
            pid=os.getpid(),
            python=sys.version.split()[0],
            torch=_torch.__version__,
            script=script,
            module=module,
            argv=argv,
            steps=tracer.steps,
            overfit=tracer.overfit,
            cwd=os.getcwd(),
            seed=config.seed,
        )
    )
    import runpy

    outcome = RunExit(status=ExitStatus.FINISHED, code=0)
    try:
        if script is not None:
            _exec_script(script, source)
        else:
            runpy.run_module(module or "", run_name="__main__", alter_sys=True)
    except TraceStop:
        outcome = RunExit(status=ExitStatus.STOPPED, code=0)
    except SystemExit as exc:
        code = exc.code
        outcome = RunExit(
            status=ExitStatus.FINISHED if code in (None, 0) else ExitStatus.EXIT,
            code=code if isinstance(code, int) or code is None else str(code),
        )
    except BaseException as exc:  # the script's own failure: report it, keep the evidence
        if isinstance(exc, KeyboardInterrupt) and config.watch is not None:
            # `trace --watch` passed on the user's Ctrl-C: the run ends here, as asked.
            sink.emit(
                TracerStopped(reason=StopReason.INTERRUPTED, steps=tracer.total_steps, backwards=tracer.backward_count)
            )
            tracer.stopped = True
        outcome = RunExit(
            status=ExitStatus.ERROR,
            error_type=type(exc).__name__,
            message=str(exc)[:2000],
            frames=sites.frames_of(exc.__traceback__),
        )
        del exc
    if tracer.stopped and outcome.status in (ExitStatus.FINISHED, ExitStatus.EXIT, ExitStatus.ERROR):
        # The script caught the stop and then ended on its own; the requested steps were done.
        outcome.after_stop = outcome.status
        outcome.status = ExitStatus.STOPPED
    try:
        tracer.finish()
    except BaseException as exc:
        sink.emit(TracerError(where="finish", error=f"{type(exc).__name__}: {exc}"))
    tracer.uninstall()
    outcome.steps = tracer.total_steps
    outcome.backwards = tracer.backward_count
    sink.emit(outcome)
    sink.emit(RunEnd())
    return 0


if __name__ == "__main__":
    main()
