"""Run the user's script in a child process, collect its evidence, and never be taken down by it.

The child is the leader of a new session, so a timeout (or our own exit) can kill it with every
process it started (DataLoader workers, subprocesses) and leave no orphans. Its stdin, stdout and
stderr are the user's; evidence comes back on a separate pipe, line by line, as it is gathered.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, List, Optional

from trainlint.runtime.judging.evidence import Evidence
from trainlint.runtime.records import (
    CONFIG_ENV,
    FD_ENV,
    PATH_ENV,
    ChildConfig,
    Record,
    RunEnd,
    StartFailed,
    StopSwallowed,
    decode,
)

# The child imports nothing of the parent side: only its entry point is named here.
_BOOTSTRAP = (
    "import os, sys; sys.path.insert(0, os.environ['" + PATH_ENV + "']); "
    "from trainlint.runtime.child.main import main; main()"
)
# After the child says it is done, how long it may take to shut down (atexit, worker joins).
_EXIT_GRACE = 5.0


@dataclass
class Target:
    """What to run: a script path, or a module name (`-m`), with its arguments."""

    script: Optional[str] = None
    module: Optional[str] = None
    argv: List[str] = field(default_factory=list)


def _package_root() -> str:
    import trainlint

    return os.path.dirname(os.path.dirname(os.path.abspath(trainlint.__file__)))


def _fileno(stream: Optional[IO[Any]]) -> Optional[int]:
    if stream is None:
        return None
    try:
        stream.flush()
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _pump(source: IO[bytes], dest: IO[Any]) -> None:
    """Copy a child's output to a stream that has no file descriptor (notebooks, test runners)."""
    while True:
        chunk = source.read1(65536) if hasattr(source, "read1") else source.read(65536)
        if not chunk:
            break
        try:
            if hasattr(dest, "buffer"):
                dest.buffer.write(chunk)
            else:
                dest.write(chunk.decode("utf-8", "replace"))
        except Exception:
            pass
    source.close()


def _kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reader(
    fd: int,
    evidence: Evidence,
    on_record: Optional[Callable[[Record], None]],
    done: threading.Event,
    last_end: List[float],
) -> None:
    buf = b""
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            try:
                chunk = pipe.read(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                rec = decode(line)
                if rec is None:
                    continue
                evidence.add(rec)
                if isinstance(rec, (RunEnd, StopSwallowed)):
                    last_end.append(time.monotonic())
                if on_record is not None:
                    try:
                        on_record(rec)
                    except Exception:
                        pass
    done.set()


def run_child(
    target: Target,
    config: ChildConfig,
    timeout: float,
    on_record: Optional[Callable[[Record], None]] = None,
    stdout: Optional[IO[Any]] = None,
    stderr: Optional[IO[Any]] = None,
) -> Evidence:
    """Run `target` under the tracer; returns whatever evidence arrived, however it ended."""
    evidence = Evidence()
    cfg = dataclasses.replace(config, script=target.script, module=target.module, argv=list(target.argv))
    read_fd, write_fd = os.pipe()
    env = dict(os.environ)
    env[FD_ENV] = str(write_fd)
    env[CONFIG_ENV] = cfg.to_json()
    env[PATH_ENV] = _package_root()
    out_stream = stdout if stdout is not None else sys.stdout
    err_stream = stderr if stderr is not None else sys.stderr
    out_fd, err_fd = _fileno(out_stream), _fileno(err_stream)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP],
            pass_fds=(write_fd,),
            start_new_session=True,
            env=env,
            stdout=out_fd if out_fd is not None else subprocess.PIPE,
            stderr=err_fd if err_fd is not None else subprocess.PIPE,
        )
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        evidence.fatal = StartFailed(message=f"cannot start {sys.executable}: {exc}")
        return evidence
    os.close(write_fd)
    pumps = []
    for pipe, dest in ((proc.stdout, out_stream), (proc.stderr, err_stream)):
        if pipe is not None:
            t = threading.Thread(target=_pump, args=(pipe, dest), daemon=True)
            t.start()
            pumps.append(t)
    done = threading.Event()
    last_end: List[float] = []
    reader = threading.Thread(target=_reader, args=(read_fd, evidence, on_record, done, last_end), daemon=True)
    reader.start()
    deadline = started + timeout
    try:
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if last_end and now - last_end[0] > _EXIT_GRACE:
                break  # finished its work but does not exit (a stuck thread or atexit handler)
            if now > deadline:
                evidence.timed_out = True
                _kill_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    pass
                break
    finally:
        # Whatever happened, nothing the script started outlives the trace.
        _kill_group(proc.pid)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    reader.join(timeout=10)
    for t in pumps:
        t.join(timeout=5)
    evidence.returncode = proc.returncode
    evidence.duration = time.monotonic() - started
    return evidence
