"""Run the user's script in a child process, collect its evidence, and never be taken down by it.

The child is the leader of a new session, so a timeout (or our own exit) can kill it with every
process it started (DataLoader workers, subprocesses) and leave no orphans. Its stdin, stdout and
stderr are the user's; evidence comes back on a separate pipe, line by line, as it is gathered.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, List, Optional

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


class Abort:
    """Shared by the ranks of one distributed trace: once one rank has ended, the others get
    `grace` seconds to end too (they may be blocked in a collective waiting for it), then are
    killed, as torchrun does."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self._at: Optional[float] = None
        self._lock = threading.Lock()

    def one_ended(self) -> None:
        with self._lock:
            if self._at is None:
                self._at = time.monotonic()

    def due(self, now: float) -> bool:
        return self._at is not None and now - self._at > self.grace


# After a Ctrl-C passed on to a watched script: the seconds it gets to end and report.
_INTERRUPT_GRACE = 30.0


def run_child(
    target: Target,
    config: ChildConfig,
    timeout: float,
    on_record: Optional[Callable[[Record], None]] = None,
    stdout: Optional[IO[Any]] = None,
    stderr: Optional[IO[Any]] = None,
    env_extra: Optional[Dict[str, str]] = None,
    abort: Optional[Abort] = None,
) -> Evidence:
    """Run `target` under the tracer; returns whatever evidence arrived, however it ended.
    `env_extra` is added to the child's environment (a rank's `RANK`, `WORLD_SIZE`...), and
    `abort` ends it some seconds after another rank of the same run ended."""
    evidence = Evidence()
    cfg = dataclasses.replace(config, script=target.script, module=target.module, argv=list(target.argv))
    read_fd, write_fd = os.pipe()
    env = dict(os.environ)
    env.update(env_extra or {})
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
            except KeyboardInterrupt:
                if config.watch is None or evidence.interrupted:
                    raise
                # `trace --watch` runs until the user stops it: pass the Ctrl-C on to the
                # script (in its own session, it did not get it) and wait for its report.
                evidence.interrupted = True
                _kill_group(proc.pid, signal.SIGINT)
                deadline = min(deadline, time.monotonic() + _INTERRUPT_GRACE)
                continue
            now = time.monotonic()
            if last_end and now - last_end[0] > _EXIT_GRACE:
                break  # finished its work but does not exit (a stuck thread or atexit handler)
            if abort is not None and abort.due(now):
                evidence.aborted = True  # another rank ended long ago: this one waits for it
            elif now > deadline:
                evidence.timed_out = True
            else:
                continue
            _kill_group(proc.pid, signal.SIGTERM)  # a chance to flush, before the SIGKILL below
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
    if abort is not None:
        abort.one_ended()
    return evidence


# The environment torchrun gives each worker of a single-node run.
def rank_environment(rank: int, world: int, port: int) -> Dict[str, str]:
    env = {
        "RANK": str(rank),
        "LOCAL_RANK": str(rank),
        "WORLD_SIZE": str(world),
        "LOCAL_WORLD_SIZE": str(world),
        "GROUP_RANK": "0",
        "GROUP_WORLD_SIZE": "1",
        "ROLE_RANK": str(rank),
        "ROLE_WORLD_SIZE": str(world),
        "ROLE_NAME": "default",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "TORCHELASTIC_RUN_ID": "trainlint",
    }
    if "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = "1"  # as torchrun sets it: N ranks on one machine
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# After one rank ended, how long the others may take to end by themselves.
RANK_GRACE = 15.0


def run_ranks(
    target: Target,
    config: ChildConfig,
    timeout: float,
    nproc: int,
    on_record: Optional[Callable[[Record], None]] = None,
    stdout: Optional[IO[Any]] = None,
    stderr: Optional[IO[Any]] = None,
) -> List[Evidence]:
    """Run `nproc` ranks of `target` at once, each a traced child with the environment
    torchrun would give it (no launcher in between, so each rank's evidence comes back on its
    own pipe and each rank's processes die with it). Progress is shown for rank 0."""
    port = free_port()
    abort = Abort(RANK_GRACE)
    results: List[Optional[Evidence]] = [None] * nproc

    def one(rank: int) -> None:
        results[rank] = run_child(
            target,
            config,
            timeout,
            on_record=on_record if rank == 0 else None,
            stdout=stdout,
            stderr=stderr,
            env_extra=rank_environment(rank, nproc, port),
            abort=abort,
        )

    threads = [threading.Thread(target=one, args=(r,), daemon=True) for r in range(nproc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r if r is not None else Evidence() for r in results]
