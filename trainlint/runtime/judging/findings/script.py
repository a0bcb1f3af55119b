"""TL003: the traced script raised, exited, timed out or died before the requested steps."""

from __future__ import annotations

import dataclasses
import signal
from typing import Any, Dict, List, Optional

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, fmt
from trainlint.runtime.records import CodeSite, ExitStatus


def signal_name(returncode: Optional[int]) -> Optional[str]:
    """The signal that killed a process, from its return code (None: it was not killed)."""
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def script_error(c: Ctx, steps: int, timeout: float) -> List[Diagnostic]:
    ev = c.ev
    reason = ev.stop_reason()
    done = ev.total_steps
    out = ev.outcome
    site: Optional[CodeSite] = None
    data: Dict[str, Any] = {"steps_completed": done, "steps_requested": steps}
    if reason == ExitStatus.ERROR:
        frames = out.frames if out is not None else []
        error_type = out.error_type if out is not None else None
        text = (out.message if out is not None else None) or ""
        site = frames[-1] if frames else None
        message = (
            f"the script raised {error_type}: {str(text).splitlines()[0][:300] if text else ''} "
            f"after {done} of {steps} step(s); the evidence gathered until then is kept."
        )
        data.update(
            observed=f"{error_type}: {str(text)[:300]}",
            traceback=[dataclasses.asdict(f) for f in frames],
        )
    elif reason == ExitStatus.EXIT:
        code = out.code if out is not None else None
        message = f"the script exited with status {code} after {done} of {steps} step(s)."
        data.update(observed=f"sys.exit({code!r})")
    elif reason == "timeout":
        message = (
            f"the script did not reach {steps} step(s) within {fmt(timeout)} s ({done} done) and was stopped, "
            "with every process it started; raise --timeout if it is just slow to start."
        )
        data.update(observed=f"timeout after {fmt(ev.duration)} s")
    elif reason == "crashed":
        sig = signal_name(ev.returncode)
        how = f"was killed by {sig}" if sig else f"ended abruptly (exit status {ev.returncode}, e.g. os._exit)"
        message = f"the script {how} after {done} of {steps} step(s); the evidence gathered until then is kept."
        data.update(observed=how, returncode=ev.returncode)
    else:
        return []
    return [runtime_finding(c, "TL003", message, site, data)]
