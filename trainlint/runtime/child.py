"""The traced process: install the tracer, run the user's script as `__main__`, report how it ended.

Started by `runner.py` as `python -c <bootstrap>`; the evidence goes back as JSON lines on a file
descriptor that is neither stdin, stdout nor stderr, so the script's own output is untouched.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from typing import Any, Dict, List, Optional

FD_ENV = "TRAINLINT_TRACE_FD"
CONFIG_ENV = "TRAINLINT_TRACE_CONFIG"
PATH_ENV = "TRAINLINT_TRACE_PATH"


class FdSink:
    """Writes one JSON object per line; only from this process (not from forked workers)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.broken = False

    def emit(self, record: Dict[str, Any]) -> None:
        if self.broken or os.getpid() != self.pid:
            return
        data = (json.dumps(record, default=str) + "\n").encode("utf-8", "replace")
        with self.lock:
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self.fd, view)
                    view = view[n:]
            except OSError:
                self.broken = True


def frames_of(tb: Any) -> List[Dict[str, Any]]:
    from trainlint.runtime import sites

    out = []
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith("<") or sites.is_library_path(frame.filename):
            continue
        out.append(
            {
                "path": sites.absolute(frame.filename),
                "line": frame.lineno,
                "function": frame.name,
                "code": (frame.line or "").strip()[:200],
            }
        )
    return out[-8:]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def main() -> None:
    config: Dict[str, Any] = json.loads(os.environ.pop(CONFIG_ENV, "{}"))
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


def run(config: Dict[str, Any], sink: FdSink) -> int:
    from trainlint.runtime import sites

    sites.set_start_cwd(os.getcwd())
    script: Optional[str] = config.get("script")
    module: Optional[str] = config.get("module")
    argv: List[str] = list(config.get("argv", []))
    try:
        import torch  # noqa: F401  (the tracer needs it; report a clean failure if it is missing)
    except Exception as exc:
        sink.emit({"kind": "fatal", "message": f"cannot import torch: {exc}"})
        return 2
    source = b""
    if script is not None:
        try:
            with open(script, "rb") as handle:
                source = handle.read()
            compile(source, script, "exec")
        except SyntaxError as exc:
            sink.emit(
                {
                    "kind": "fatal",
                    "message": f"{script}:{exc.lineno}: SyntaxError: {exc.msg}",
                    "site": {"path": sites.absolute(script), "line": exc.lineno or 1},
                }
            )
            return 2
        except OSError as exc:
            sink.emit({"kind": "fatal", "message": f"cannot read {script}: {exc}"})
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
            sink.emit({"kind": "fatal", "message": err})
            return 2
        sys.argv = [spec.origin or module or ""] + argv

    from trainlint.runtime.hooks import Tracer, TraceStop

    wait_seconds = config.get("eval_wait_seconds")
    tracer = Tracer(
        sink,
        steps=int(config.get("steps", 2)),
        overfit=int(config.get("overfit", 0)),
        options=config.get("options", {}),
        mode="child",
        eval_wait=int(config.get("eval_wait", 0)),
        eval_wait_seconds=float(wait_seconds) if wait_seconds is not None else None,
    )
    tracer.install()
    import torch as _torch

    sink.emit(
        {
            "kind": "start",
            "pid": os.getpid(),
            "python": sys.version.split()[0],
            "torch": _torch.__version__,
            "script": script,
            "module": module,
            "argv": argv,
            "steps": tracer.steps,
            "overfit": tracer.overfit,
            "cwd": os.getcwd(),
        }
    )
    import runpy

    outcome: Dict[str, Any] = {"kind": "exit", "status": "finished", "code": 0}
    try:
        if script is not None:
            _exec_script(script, source)
        else:
            runpy.run_module(module or "", run_name="__main__", alter_sys=True)
    except TraceStop:
        outcome = {"kind": "exit", "status": "stopped", "code": 0}
    except SystemExit as exc:
        code = exc.code
        status = "finished" if code in (None, 0) else "exit"
        outcome = {
            "kind": "exit",
            "status": status,
            "code": code if isinstance(code, int) or code is None else str(code),
        }
    except BaseException as exc:  # the script's own failure: report it, keep the evidence
        outcome = {
            "kind": "exit",
            "status": "error",
            "type": type(exc).__name__,
            "message": str(exc)[:2000],
            "frames": frames_of(exc.__traceback__),
        }
        del exc
    if tracer.stopped and outcome.get("status") in ("finished", "exit", "error"):
        # The script caught the stop and then ended on its own; the requested steps were done.
        outcome["after_stop"] = outcome.get("status")
        outcome["status"] = "stopped"
    try:
        tracer.finish()
    except BaseException as exc:
        sink.emit({"kind": "internal", "where": "finish", "error": f"{type(exc).__name__}: {exc}"})
    tracer.uninstall()
    outcome["steps"] = tracer.total_steps
    outcome["backwards"] = tracer.backward_count
    sink.emit(outcome)
    sink.emit({"kind": "end"})
    return 0


if __name__ == "__main__":
    main()
